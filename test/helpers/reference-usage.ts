// The Node write path for usage events that creditdesk_apply_usage replaced, kept as the
// reference test/ledger/write-path.test.ts replays random operations against.
//
// Usage events: a batch of up to batch_events_max applied in one transaction with a fixed number
// of statements. Each event gets its own outcome; an event id is applied once, ever. An event
// draws on the member's seat in its tool only: tools never mix (SPEC "Stacking").
import type { Queryable } from '../../src/db/client.ts';
import { DateTime } from 'luxon';
import { allocate, isLiveAt, ownGrantsInOrder, type Allocation, type DrawableGrant } from '../../src/ledger/allocate.ts';
import { grant_columns, seat_columns, type GrantRow, type LedgerContext, type SeatRow } from '../../src/ledger/context.ts';
import { cycleAt, type Cycle } from '../../src/ledger/cycles.ts';
import { invariant, LedgerError } from '../../src/ledger/errors.ts';
import { credits_max, event_future_skew_ms_max, event_id_length_max } from '../../src/ledger/limits.ts';
import { parseUserRef, type UserRef } from '../../src/ledger/members.ts';
import { post, type Entry } from '../../src/ledger/post.ts';
import { resetBudgetsIn, resetLockedSeats, resetPoolsIn } from '../../src/ledger/reset.ts';
import { budget_thresholds_pct, channel_thresholds_pct, crossed, pool_thresholds_pct, raiseThresholdAlerts } from '../../src/ledger/alerts.ts';
import { loadTools, type Tool, type Tools } from '../../src/ledger/tools.ts';
import { unitAfter } from '../../src/words.ts';
// The event and outcome shapes are the write path's own: both paths answer in them.
import type { AppliedUsage, RejectedUsage, UsageEvent, UsageMode, UsageOutcome } from '../../src/ledger/usage.ts';

/** A timestamp as whole epoch milliseconds in SQL (null stays null). */
const epoch_ms = (column: string) => `(extract(epoch from ${column}) * 1000)::int8`;

/**
 * The seat ids of the members whose `column` is in the array parameter `param`, found by one
 * index probe per value. A batch names up to 1,000 members: as `column = any(...)` the planner
 * judges 1,000 probes dearer than reading every row, and with statistics that lag the tables it
 * reads whole tables on every batch. A lateral subquery with OFFSET 0 cannot be flattened into a
 * join, so it is always probed through its index, whatever the statistics say.
 */
const seatIdsOf = (refs: string, toolKeys: string, column: string) =>
  `select x.id from unnest(${refs}::text[], ${toolKeys}::text[]) as k(ref, tool_key)
   cross join lateral (select s.id from members m join seats s on s.member_id = m.id and s.tool_key = k.tool_key
                       where ${column} = k.ref offset 0) as x`;


type SeatWithMember = SeatRow & {
  slackId: string | null;
  email: string | null;
  poolCredits: number | null;
  memberPoolCap: number | null;
  /** Credits a day the seat's plans allow together (SPEC "Daily limits"); null for none. */
  dailyLimit: number | null;
};

interface PoolState {
  grant: GrantRow;
  cap: number | null;
  drawnBySeat: Map<number, number>;
}

/** An event's day in its tool's zone, and when that day ends (a daily limit resets then). */
function dayOf(at: Date, zone: string): { day: string; endsAt: Date } {
  const local = DateTime.fromJSDate(at, { zone }).startOf('day');
  return { day: local.toISODate()!, endsAt: local.plus({ days: 1 }).toJSDate() };
}

const reject = (id: string, reason: string, refused?: RejectedUsage['refused']): RejectedUsage => ({
  id,
  status: 'rejected',
  reason,
  ...(refused ? { refused } : {}),
});

/**
 * What is wrong with an event's own fields, if anything. Checked per event: one caller's bad
 * amount must not fail the batch it shares with others (the ingest groups concurrent callers).
 */
function eventProblem(event: UsageEvent): string | null {
  if (typeof event.id !== 'string' || event.id.length === 0 || event.id.length > event_id_length_max) {
    return `id must be 1 to ${event_id_length_max} characters`;
  }
  if (!Number.isSafeInteger(event.credits) || event.credits < 1 || event.credits > credits_max) {
    return `credits must be a whole number from 1 to ${credits_max.toLocaleString('en-US')}, got ${String(event.credits).slice(0, 40)}`;
  }
  if (event.at !== undefined && !(event.at instanceof Date && Number.isFinite(event.at.getTime()))) {
    return 'at must be a valid time';
  }
  return null;
}

/** Applies events in order; `mode` per event lets one batch carry record and enforce calls together. */
export async function applyUsage(
  ctx: LedgerContext,
  events: readonly (UsageEvent & { mode?: UsageMode })[],
): Promise<UsageOutcome[]> {
  if (events.length === 0) return [];
  return ctx.db.transaction((tx) => applyUsageIn(tx, ctx, events, ctx.now()));
}

async function applyUsageIn(
  tx: Queryable,
  ctx: LedgerContext,
  events: readonly (UsageEvent & { mode?: UsageMode })[],
  now: Date,
): Promise<UsageOutcome[]> {
  const outcomes: (UsageOutcome | undefined)[] = new Array(events.length);
  const tools = await loadTools(tx, ctx.settings);
  const targets = events.map((event, i): { ref: UserRef; tool: Tool } | null => {
    const problem = eventProblem(event);
    if (problem) {
      outcomes[i] = reject(event.id, problem);
      return null;
    }
    try {
      return { ref: parseUserRef(event.user), tool: tools.pick(event.tool, 'an event') };
    } catch (error) {
      if (!(error instanceof LedgerError)) throw error;
      outcomes[i] = reject(event.id, error.message);
      return null;
    }
  });

  // Lock the members' seats in id order (every writer does), then read everything under the lock.
  const bySlack = targets.flatMap((t) => (t && 'slackId' in t.ref ? [[t.ref.slackId, t.tool.key] as const] : []));
  const byEmail = targets.flatMap((t) => (t && 'email' in t.ref ? [[t.ref.email, t.tool.key] as const] : []));
  let seats = await tx.query<SeatWithMember>(
    `select ${seat_columns}, m.slack_id as "slackId", lower(m.email) as email,
            p.pool_credits as "poolCredits", p.member_pool_cap as "memberPoolCap",
            (select case when bool_and(pl.daily_limit is not null) then sum(pl.daily_limit)::int8 end
             from seat_plans sp join plans pl on pl.key = sp.plan_key where sp.seat_id = s.id) as "dailyLimit"
     from seats s join members m on m.id = s.member_id left join profiles p on p.key = s.profile_key
     where s.id = any(array(${seatIdsOf('$1', '$2', 'm.slack_id')} union all ${seatIdsOf('$3', '$4', 'lower(m.email)')}))
     order by s.id for update of s`,
    [bySlack.map(([ref]) => ref), bySlack.map(([, tool]) => tool), byEmail.map(([ref]) => ref), byEmail.map(([, tool]) => tool)],
  );
  const stale = seats.filter((s) => s.status === 'active' && s.cycleEnd.getTime() <= now.getTime());
  if (stale.length > 0) {
    // The reset job has not reached these seats yet; do it now so no event lands in a dead cycle.
    await resetLockedSeats(tx, ctx, stale, now);
    seats = seats.map((s) => {
      if (!stale.includes(s)) return s;
      const cycle = cycleAt(now, s.anchorDay, tools.get(s.toolKey).zone);
      return { ...s, cycleStart: cycle.start, cycleEnd: cycle.end };
    });
  }
  const seatByRef = new Map<string, SeatWithMember>();
  for (const seat of seats) {
    if (seat.slackId) seatByRef.set(`s:${seat.slackId}|${seat.toolKey}`, seat);
    if (seat.email) seatByRef.set(`e:${seat.email}|${seat.toolKey}`, seat);
  }
  const targetKey = ({ ref, tool }: { ref: UserRef; tool: Tool }) => `${'slackId' in ref ? `s:${ref.slackId}` : `e:${ref.email}`}|${tool.key}`;
  const eventSeats = targets.map((t) => (t ? seatByRef.get(targetKey(t)) : undefined));

  // The days a daily-limited seat's events fall on, in its tool's zone.
  const eventDays = events.map((event, i) => {
    const seat = eventSeats[i];
    return seat?.dailyLimit != null ? dayOf(event.at ?? now, tools.get(seat.toolKey).zone) : null;
  });
  const dayKeys = new Map<string, { seatId: number; day: string }>();
  eventDays.forEach((d, i) => {
    if (d) dayKeys.set(`${eventSeats[i]!.id}:${d.day}`, { seatId: eventSeats[i]!.id, day: d.day });
  });

  // Everything else the batch needs, read under the seat locks in one round trip. Rows come as
  // JSON arrays with times in epoch milliseconds: far cheaper to decode than typed result rows.
  const seatIds = [...new Set(seats.map((s) => s.id))];
  const [state] = await tx.query<{
    existing: [string, number, number, number, number, number, number, number, string | null, string | null, number | null, number, string, number | null][];
    grants: [number, number, GrantRow['source'], number, number, number, number][];
    cycles: [number, number, number, number, number][];
    days: [number, string, number, number, boolean][];
  }>(
    `select
       (select coalesce(json_agg(json_build_array(j.event_key, j.credits, j.own_drawn, j.pool_drawn, j.overage,
                 ${epoch_ms('j.occurred_at')}, ${epoch_ms('j.cycle_start')}, j.seat_id, m.slack_id, m.email,
                 ${epoch_ms('sc.cycle_end')}, ${epoch_ms('j.created_at')}, s.tool_key, j.over_daily_limit)), '[]')
        from unnest($1::text[]) as k(event_key)
        cross join lateral (select * from journal j where j.event_key = k.event_key offset 0) as j
        join seats s on s.id = j.seat_id join members m on m.id = s.member_id
        left join seat_cycles sc on sc.seat_id = j.seat_id and sc.cycle_start = j.cycle_start) as existing,
       (select coalesce(json_agg(json_build_array(g.id, g.seat_id, g.source, ${epoch_ms('g.cycle_start')},
                 ${epoch_ms('g.starts_at')}, ${epoch_ms('g.expires_at')}, g.remaining)), '[]')
        from unnest($2::int4[]) as k(seat_id)
        cross join lateral (select * from grants g where g.seat_id = k.seat_id and g.remaining > 0 and g.closed_at is null offset 0) as g) as grants,
       (select coalesce(json_agg(json_build_array(c.seat_id, ${epoch_ms('c.cycle_start')}, c.quota,
                 c.used + c.pool_used + c.overage, c.alerts_sent)), '[]')
        from unnest($2::int4[]) as k(seat_id)
        cross join lateral (select * from seat_cycles c where c.seat_id = k.seat_id offset 0) as c) as cycles,
       -- What each daily-limited seat used on the days in play: its seat_days row, or, for a day
       -- it has none yet (a limit set since), what its usage entries add up to that day.
       (select coalesce(json_agg(json_build_array(k.seat_id, k.day, coalesce(d.used, j.used), coalesce(d.over_limit, j.over), d.seat_id is null)), '[]')
        from unnest($3::int4[], $4::date[]) as k(seat_id, day)
        left join seat_days d on d.seat_id = k.seat_id and d.day = k.day
        left join lateral (select coalesce(sum(j.credits), 0)::int8 as used, coalesce(sum(j.over_daily_limit), 0)::int8 as over
                           from journal j where d.seat_id is null and j.seat_id = k.seat_id and j.kind = 'usage' and j.day = k.day) j on true) as days`,
    [events.map((e) => e.id), seatIds, [...dayKeys.values()].map((d) => d.seatId), [...dayKeys.values()].map((d) => d.day)],
  );
  const firstOutcome = new Map<string, UsageOutcome>();
  for (const [eventKey, credits, own, pool, overage, occurredAt, cycleStart, , slackId, email, cycleEnd, createdAt, toolKey, overDaily] of state!.existing) {
    firstOutcome.set(eventKey, {
      id: eventKey,
      status: 'duplicate',
      user: slackId ?? email ?? '',
      tool: toolKey,
      credits,
      at: new Date(occurredAt).toISOString(),
      cycle: { start: new Date(cycleStart).toISOString(), end: new Date(cycleEnd ?? cycleStart).toISOString() },
      own,
      pool,
      overage,
      late: cycleEnd != null && createdAt >= cycleEnd,
      ...(overDaily ? { over_daily_limit: overDaily } : {}),
    });
  }

  // Own grants of every seat in play, with remaining, including a closed cycle's for late events.
  const grantsBySeat = new Map<number, DrawableGrant[]>();
  for (const [id, seatId, source, cycleStart, startsAt, expiresAt, remaining] of state!.grants) {
    const grant: DrawableGrant = {
      id, seatId, source, remaining, cycleStart: new Date(cycleStart), startsAt: new Date(startsAt), expiresAt: new Date(expiresAt),
    };
    const list = grantsBySeat.get(seatId);
    if (list) list.push(grant);
    else grantsBySeat.set(seatId, [grant]);
  }
  const cycleRows = new Map(
    state!.cycles.map(([seatId, cycleStart, quota, consumed, alertsSent]) => [
      `${seatId}:${cycleStart}`,
      { seatId, cycleStart, quota, consumed, alertsSent },
    ]),
  );
  const usedOnDay = new Map(state!.days.map(([seatId, day, used]) => [`${seatId}:${day}`, used]));
  const missingDays = state!.days.filter(([, , , , missing]) => missing);
  if (missingDays.length > 0) {
    // A seat's first day under a limit starts from what it already used that day; post() then
    // moves the row with every entry (the seat lock keeps anyone else from inserting it meanwhile).
    await tx.query(
      `insert into seat_days (seat_id, day, used, over_limit) select * from unnest($1::int4[], $2::date[], $3::int8[], $4::int8[])`,
      [missingDays.map((d) => d[0]), missingDays.map((d) => d[1]), missingDays.map((d) => d[2]), missingDays.map((d) => d[3])],
    );
  }

  const { pools, budgets } = await loadSharedGrants(tx, ctx, tools, seats, events, eventSeats, grantsBySeat, now);

  const entries: Entry[] = [];
  const touched = new Map<string, { seatId: number; cycleStart: Date }>();
  const sharedDrawn = new Set<number>();
  events.forEach((event, i) => {
    if (outcomes[i]) return;
    const first = firstOutcome.get(event.id);
    if (first) {
      outcomes[i] = first.status === 'rejected' ? first : { ...first, status: 'duplicate' };
      return;
    }
    const tool = targets[i]!.tool;
    const outcome = decide(event, tool, eventSeats[i], now);
    if ('status' in outcome) {
      outcomes[i] = outcome;
      return;
    }
    const { seat: s, cycle, at, late } = outcome;
    const mode = event.mode ?? 'record';
    const today = eventDays[i];
    let overDailyLimit = 0;
    if (today && s.dailyLimit != null) {
      const used = usedOnDay.get(`${s.id}:${today.day}`) ?? 0;
      const left = Math.max(0, s.dailyLimit - used);
      if (event.credits > left && mode === 'enforce') {
        outcomes[i] = reject(
          event.id,
          `${n(event.credits)} ${unitAfter(event.credits, tool.unit)} ${event.credits === 1 ? 'passes' : 'pass'} the daily limit of ${n(s.dailyLimit)}: ${n(used)} used on ${today.day}, ${n(left)} left until it resets at ${today.endsAt.toISOString()}`,
          { limit: 'daily limit', remaining: left, resetsAt: today.endsAt.toISOString() },
        );
        return;
      }
      overDailyLimit = Math.max(0, event.credits - left);
    }
    const ordered = ownGrantsInOrder(grantsBySeat.get(s.id) ?? [], at);
    const poolLive = s.profileKey
      ? pools.find((p) => p.grant.profileKey === s.profileKey && p.grant.startsAt <= at && at < p.grant.expiresAt)
      : undefined;
    const poolAvailable = poolLive
      ? Math.max(0, Math.min(poolLive.grant.remaining, poolLive.cap == null ? Infinity : poolLive.cap - (poolLive.drawnBySeat.get(s.id) ?? 0)))
      : 0;
    const budgetLive = budgets.find((b) => b.toolKey === tool.key && b.startsAt <= at && at < b.expiresAt);
    const allocation = allocate(
      ordered,
      poolLive ? { grant: poolLive.grant, available: poolAvailable } : null,
      event.credits,
      mode,
      budgetLive ? { grant: budgetLive, available: budgetLive.remaining } : null,
    );
    if (!allocation) {
      const own = ordered.reduce((sum, g) => sum + g.remaining, 0);
      const budgetLeft = budgetLive?.remaining ?? 0;
      const limits = ['own credits', ...(poolLive ? ['pool'] : []), ...(budgetLive ? ['overage budget'] : [])];
      const named = limits.length === 1 ? limits[0]! : `${limits.slice(0, -1).join(', ')} and ${limits.at(-1)}`;
      outcomes[i] = reject(
        event.id,
        // The parts as a list in words ("a, b and c"), as src/ledger/usage.ts writes them.
        `${n(event.credits)} ${unitAfter(event.credits, tool.unit)} ${event.credits === 1 ? 'does' : 'do'} not fit: ` +
          andList([
            `${n(own)} of the member's own ${tool.unit}`,
            ...(poolLive ? [`${n(poolAvailable)} from the ${s.profileKey} pool`] : []),
            ...(budgetLive ? [`${n(budgetLeft)} of the ${tool.name} overage budget`] : []),
          ]) +
          ` remain until the reset on ${cycle.end.toISOString()}`,
        { limit: named, remaining: own + poolAvailable + budgetLeft, resetsAt: cycle.end.toISOString() },
      );
      return;
    }
    if (!cycleRows.has(`${s.id}:${cycle.start.getTime()}`)) {
      outcomes[i] = reject(event.id, `the member held no seat in the cycle starting ${cycle.start.toISOString()}`);
      return;
    }
    applyInMemory(allocation, s.id, poolLive);
    if (poolLive && allocation.poolDrawn > 0) sharedDrawn.add(poolLive.grant.id);
    if (budgetLive && allocation.budgetDrawn > 0) sharedDrawn.add(budgetLive.id);
    if (today) usedOnDay.set(`${s.id}:${today.day}`, (usedOnDay.get(`${s.id}:${today.day}`) ?? 0) + event.credits);
    const user = event.user.trim();
    entries.push(usageEntry(event, s, cycle, at, allocation, today?.day ?? dayOf(at, tool.zone).day, overDailyLimit));
    const row = cycleRows.get(`${s.id}:${cycle.start.getTime()}`)!;
    row.consumed += event.credits;
    touched.set(`${s.id}:${cycle.start.getTime()}`, { seatId: s.id, cycleStart: cycle.start });
    const applied: AppliedUsage = {
      id: event.id,
      status: 'applied',
      user,
      tool: tool.key,
      credits: event.credits,
      at: at.toISOString(),
      cycle: { start: cycle.start.toISOString(), end: cycle.end.toISOString() },
      own: allocation.ownDrawn,
      pool: allocation.poolDrawn,
      overage: allocation.overage,
      late,
      ...(overDailyLimit > 0 ? { over_daily_limit: overDailyLimit } : {}),
    };
    outcomes[i] = applied;
    // A repeat of this id later in the same batch is a duplicate of this outcome.
    firstOutcome.set(event.id, applied);
  });

  await post(tx, entries, now);
  // Only seat cycles and shared grants that crossed a threshold in this batch need the alert query.
  const thresholds = [...ctx.settings.thresholds, ...channel_thresholds_pct];
  const crossing = [...touched.values()].filter(({ seatId, cycleStart }) => {
    const row = cycleRows.get(`${seatId}:${cycleStart.getTime()}`)!;
    return row.quota > 0 && crossed(thresholds, row.alertsSent, (row.consumed * 100) / row.quota).length > 0;
  });
  const sharedCrossing = [...pools.map((p) => p.grant), ...budgets]
    .filter((g) => sharedDrawn.has(g.id) && g.amount > 0)
    .filter((g) => ((g.amount - g.remaining) * 100) / g.amount >= Math.min(...(g.source === 'pool' ? pool_thresholds_pct : budget_thresholds_pct)))
    .map((g) => g.id);
  if (crossing.length > 0 || sharedCrossing.length > 0) await raiseThresholdAlerts(tx, ctx, crossing, sharedCrossing, now);
  invariant(outcomes.every(Boolean), 'an event was left without an outcome');
  return outcomes as UsageOutcome[];

  function decide(event: UsageEvent, tool: Tool, seat: SeatWithMember | undefined, nowAt: Date):
    | RejectedUsage
    | { seat: SeatWithMember; cycle: Cycle; at: Date; late: boolean } {
    const where = tools.size > 1 ? ` in ${tool.name}` : '';
    if (!seat) {
      const hint = tools.size > 1 ? `{"plans": [a ${tool.key} plan]}` : '';
      return reject(event.id, `no seat${where} for ${event.user}: add one with PUT /api/v1/seats/${event.user}${hint ? ` and ${hint}` : ''}`);
    }
    if (seat.status !== 'active') return reject(event.id, `the seat${where} of ${event.user} was revoked on ${seat.revokedAt?.toISOString()}`);
    const at = event.at ?? nowAt;
    if (at.getTime() > nowAt.getTime() + event_future_skew_ms_max) {
      return reject(event.id, `at ${at.toISOString()} is in the future; send the time the credits were used`);
    }
    // Nearly every event falls in the seat's current cycle: skip the calendar arithmetic then.
    const current = seat.cycleStart.getTime() <= at.getTime() && at.getTime() < seat.cycleEnd.getTime();
    const cycle = current ? { start: seat.cycleStart, end: seat.cycleEnd, name: '' } : cycleAt(at, seat.anchorDay, tool.zone);
    if (cycle.start.getTime() > seat.cycleStart.getTime()) {
      return reject(event.id, `at ${at.toISOString()} falls in a cycle that has not started yet`);
    }
    const late = cycle.start.getTime() < seat.cycleStart.getTime();
    if (late && nowAt.getTime() >= cycle.end.getTime() + ctx.settings.graceMs) {
      const hours = Math.round(ctx.settings.graceMs / 3_600_000);
      return reject(
        event.id,
        `too late: the cycle ${cycle.name} closed on ${cycle.end.toISOString()} and late events are accepted for ${hours} h after a cycle closes`,
      );
    }
    return { seat, cycle, at, late };
  }
}

/** "a", "a and b", "a, b and c". */
const andList = (items: readonly string[]) => (items.length === 1 ? items[0]! : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`);
const n = (value: number) => value.toLocaleString('en-US');

function applyInMemory(allocation: Allocation, seatId: number, pool: PoolState | undefined): void {
  for (const { grant, amount } of allocation.draws) (grant as DrawableGrant).remaining -= amount;
  if (pool && allocation.poolDrawn > 0) pool.drawnBySeat.set(seatId, (pool.drawnBySeat.get(seatId) ?? 0) + allocation.poolDrawn);
}

function usageEntry(
  event: UsageEvent, seat: SeatWithMember, cycle: Cycle, at: Date, allocation: Allocation, day: string, overDailyLimit: number,
): Entry {
  const transfers: Entry['transfers'] = allocation.draws.map(({ grant, amount }) => ({
    from: { grant },
    to: { system: 'consumption' },
    amount,
  }));
  const uncovered = allocation.overage - allocation.budgetDrawn;
  if (uncovered > 0) transfers.push({ from: { system: 'overage' }, to: { system: 'consumption' }, amount: uncovered });
  return {
    kind: 'usage',
    occurredAt: at,
    seatId: seat.id,
    cycleStart: cycle.start,
    eventKey: event.id,
    credits: event.credits,
    ownDrawn: allocation.ownDrawn,
    poolDrawn: allocation.poolDrawn,
    overage: allocation.overage,
    feature: event.feature ?? null,
    source: event.source ?? null,
    day,
    overDailyLimit: overDailyLimit > 0 ? overDailyLimit : null,
    dailyLimited: seat.dailyLimit != null,
    transfers,
  };
}

/**
 * Locks the pool and overage-budget grants this batch may draw on (after the seats, in grant id
 * order like every writer: one global lock order) and reads what each member has drawn from the
 * pools. Only grants that someone may need are locked: a pool and a budget are the hottest rows.
 */
async function loadSharedGrants(
  tx: Queryable,
  ctx: LedgerContext,
  tools: Tools,
  seats: readonly SeatWithMember[],
  events: readonly UsageEvent[],
  eventSeats: readonly (SeatWithMember | undefined)[],
  grantsBySeat: Map<number, DrawableGrant[]>,
  now: Date,
): Promise<{ pools: PoolState[]; budgets: GrantRow[] }> {
  const demand = new Map<number, number>();
  events.forEach((event, i) => {
    const seat = eventSeats[i];
    if (seat) demand.set(seat.id, (demand.get(seat.id) ?? 0) + event.credits);
  });
  // A late event may need the pool and budget of its own cycle whatever is left now: always look.
  const late = new Set<number>();
  events.forEach((event, i) => {
    const seat = eventSeats[i];
    if (seat && event.at && event.at.getTime() < seat.cycleStart.getTime()) late.add(seat.id);
  });
  const profileKeys = new Set<string>();
  const toolKeys = new Set<string>();
  for (const seat of seats) {
    const own = (grantsBySeat.get(seat.id) ?? []).filter((g) => isLiveAt(g, now)).reduce((sum, g) => sum + g.remaining, 0);
    if (!late.has(seat.id) && (demand.get(seat.id) ?? 0) <= own) continue;
    if (seat.profileKey && seat.poolCredits) profileKeys.add(seat.profileKey);
    if (tools.get(seat.toolKey).overageBudget != null) toolKeys.add(seat.toolKey);
  }
  if (profileKeys.size === 0 && toolKeys.size === 0) return { pools: [], budgets: [] };
  if (profileKeys.size > 0) await resetPoolsIn(tx, ctx, now, [...profileKeys]);
  if (toolKeys.size > 0) await resetBudgetsIn(tx, ctx, now, [...toolKeys]);
  const rows = await tx.query<GrantRow & { cap: number | null }>(
    `select ${grant_columns}, p.member_pool_cap as cap from grants g left join profiles p on p.key = g.profile_key
     -- A spent budget is read too, so a refusal can name it.
     where ((g.source = 'pool' and g.profile_key = any($1::text[]) and g.remaining > 0) or (g.source = 'budget' and g.tool_key = any($2::text[])))
       and g.expires_at > $3
     order by g.id for update of g`,
    [[...profileKeys], [...toolKeys], new Date(now.getTime() - ctx.settings.graceMs)],
  );
  const poolRows = rows.filter((r) => r.source === 'pool');
  const draws = poolRows.length === 0 ? [] : await tx.query<{ poolGrantId: number; seatId: number; used: number }>(
    `select pool_grant_id as "poolGrantId", seat_id as "seatId", used from pool_draws
     where pool_grant_id = any($1::int8[]) and seat_id = any($2::int4[])`,
    [poolRows.map((r) => r.id), seats.map((s) => s.id)],
  );
  return {
    pools: poolRows.map((grant) => ({
      grant,
      cap: grant.cap,
      drawnBySeat: new Map(draws.filter((d) => d.poolGrantId === grant.id).map((d) => [d.seatId, d.used])),
    })),
    budgets: rows.filter((r) => r.source === 'budget'),
  };
}
