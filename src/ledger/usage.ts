// Usage events: a batch of up to batch_events_max applied in one transaction with a fixed number
// of statements. Each event gets its own outcome; an event id is applied once, ever.
import type { Queryable } from '../db/client.ts';
import type { Seat } from '../db/schema.ts';
import { allocate, isLiveAt, ownGrantsInOrder, type Allocation, type DrawableGrant } from './allocate.ts';
import { grant_columns, seat_columns, type GrantRow, type LedgerContext } from './context.ts';
import { cycleAt, type Cycle } from './cycles.ts';
import { invariant } from './errors.ts';
import { credits_max, event_future_skew_ms_max, event_id_length_max, text_length_max, user_ref_length_max } from './limits.ts';
import { unstorableTextIn } from './text.ts';
import { parseUserRef, type UserRef } from './members.ts';
import { post, type Entry } from './post.ts';
import { resetLockedSeats, resetPoolsIn } from './reset.ts';
import { channel_thresholds_pct, crossed, pool_thresholds_pct, raiseThresholdAlerts } from './alerts.ts';

/** A timestamp as whole epoch milliseconds in SQL (null stays null). */
const epoch_ms = (column: string) => `(extract(epoch from ${column}) * 1000)::int8`;

/**
 * The seat ids of the members whose `column` is in the array parameter `param`, found by one
 * index probe per value. A batch names up to 1,000 members: as `column = any(...)` the planner
 * judges 1,000 probes dearer than reading every row, and with statistics that lag the tables it
 * reads whole tables on every batch. A lateral subquery with OFFSET 0 cannot be flattened into a
 * join, so it is always probed through its index, whatever the statistics say.
 */
const seatIdsOf = (param: string, column: string) =>
  `select x.id from unnest(${param}::text[]) as k(ref)
   cross join lateral (select s.id from members m join seats s on s.member_id = m.id where ${column} = k.ref offset 0) as x`;

export type UsageMode = 'record' | 'enforce';

/** A usage event as the API and the CLI receive it, already validated for shape. */
export interface UsageEvent {
  id: string;
  user: string;
  credits: number;
  at?: Date;
  feature?: string | null;
  source?: string | null;
}

export interface AppliedUsage {
  id: string;
  status: 'applied' | 'duplicate';
  user: string;
  credits: number;
  at: string;
  cycle: { start: string; end: string };
  /** Drawn from the member's own plan, packs and manual grants. */
  own: number;
  pool: number;
  overage: number;
  /** Charged to a cycle that had already closed (within the grace window). */
  late: boolean;
}

export interface RejectedUsage {
  id: string;
  status: 'rejected';
  reason: string;
  /** Enforce mode: the event did not fit; names the limit, what remains and when it resets. */
  refused?: { limit: string; remaining: number; resetsAt: string };
}

export type UsageOutcome = AppliedUsage | RejectedUsage;

type SeatWithMember = Seat & { slackId: string | null; email: string | null; poolCredits: number | null; memberPoolCap: number | null };

interface PoolState {
  grant: GrantRow;
  cap: number | null;
  drawnBySeat: Map<number, number>;
}

const reject = (id: string, reason: string, refused?: RejectedUsage['refused']): RejectedUsage => ({
  id,
  status: 'rejected',
  reason,
  ...(refused ? { refused } : {}),
});

/**
 * What is wrong with an event's own fields, if anything. Checked per event: one caller's bad
 * amount or text must not fail the batch it shares with others (the ingest groups concurrent
 * callers). Whatever boundary the event came through, text the database cannot store is refused
 * here, as the event's own outcome, before any statement sees it.
 */
function eventProblem(event: UsageEvent): string | null {
  if (typeof event.id !== 'string' || event.id.length === 0 || event.id.length > event_id_length_max) {
    return `id must be 1 to ${event_id_length_max} characters`;
  }
  if (typeof event.user !== 'string' || event.user.length > user_ref_length_max) {
    return `user must be a Slack user id or an email address of at most ${user_ref_length_max} characters`;
  }
  if (!Number.isSafeInteger(event.credits) || event.credits < 1 || event.credits > credits_max) {
    return `credits must be a whole number from 1 to ${credits_max.toLocaleString('en-US')}, got ${String(event.credits).slice(0, 40)}`;
  }
  if (event.at !== undefined && !(event.at instanceof Date && Number.isFinite(event.at.getTime()))) {
    return 'at must be a valid time';
  }
  for (const field of ['feature', 'source'] as const) {
    const value = event[field];
    if (value == null) continue;
    if (typeof value !== 'string' || value.length > text_length_max) return `${field} must be text of at most ${text_length_max} characters`;
  }
  return unstorableTextIn({ id: event.id, user: event.user, feature: event.feature, source: event.source });
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
  const refs = events.map((event, i) => {
    const problem = eventProblem(event);
    if (problem) {
      outcomes[i] = reject(event.id, problem);
      return null;
    }
    try {
      return parseUserRef(event.user);
    } catch (error) {
      outcomes[i] = reject(event.id, (error as Error).message);
      return null;
    }
  });

  // Lock the members' seats in id order (every writer does), then read everything under the lock.
  const slackIds = [...new Set(refs.flatMap((r) => (r && 'slackId' in r ? [r.slackId] : [])))];
  const emails = [...new Set(refs.flatMap((r) => (r && 'email' in r ? [r.email] : [])))];
  let seats = await tx.query<SeatWithMember>(
    `select ${seat_columns}, m.slack_id as "slackId", lower(m.email) as email,
            p.pool_credits as "poolCredits", p.member_pool_cap as "memberPoolCap"
     from seats s join members m on m.id = s.member_id left join profiles p on p.key = s.profile_key
     where s.id = any(array(${seatIdsOf('$1', 'm.slack_id')} union all ${seatIdsOf('$2', 'lower(m.email)')}))
     order by s.id for update of s`,
    [slackIds, emails],
  );
  const stale = seats.filter((s) => s.status === 'active' && s.cycleEnd.getTime() <= now.getTime());
  if (stale.length > 0) {
    // The reset job has not reached these seats yet; do it now so no event lands in a dead cycle.
    await resetLockedSeats(tx, ctx, stale, now);
    seats = seats.map((s) => {
      if (!stale.includes(s)) return s;
      const cycle = cycleAt(now, s.anchorDay, ctx.settings.zone);
      return { ...s, cycleStart: cycle.start, cycleEnd: cycle.end };
    });
  }
  const seatByRef = new Map<string, SeatWithMember>();
  for (const seat of seats) {
    if (seat.slackId) seatByRef.set(`s:${seat.slackId}`, seat);
    if (seat.email) seatByRef.set(`e:${seat.email}`, seat);
  }
  const refKey = (ref: UserRef) => ('slackId' in ref ? `s:${ref.slackId}` : `e:${ref.email}`);

  // Everything else the batch needs, read under the seat locks in one round trip. Rows come as
  // JSON arrays with times in epoch milliseconds: far cheaper to decode than typed result rows.
  const seatIds = [...new Set(seats.map((s) => s.id))];
  const [state] = await tx.query<{
    existing: [string, number, number, number, number, number, number, number, string | null, string | null, number | null, number][];
    grants: [number, number, GrantRow['source'], number, number, number, number][];
    cycles: [number, number, number, number, number][];
  }>(
    `select
       (select coalesce(json_agg(json_build_array(j.event_key, j.credits, j.own_drawn, j.pool_drawn, j.overage,
                 ${epoch_ms('j.occurred_at')}, ${epoch_ms('j.cycle_start')}, j.seat_id, m.slack_id, m.email,
                 ${epoch_ms('sc.cycle_end')}, ${epoch_ms('j.created_at')})), '[]')
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
        cross join lateral (select * from seat_cycles c where c.seat_id = k.seat_id offset 0) as c) as cycles`,
    // Only events still in play: a refused id (one holding a NUL) must not reach a statement.
    [events.flatMap((e, i) => (outcomes[i] ? [] : [e.id])), seatIds],
  );
  const firstOutcome = new Map<string, UsageOutcome>();
  for (const [eventKey, credits, own, pool, overage, occurredAt, cycleStart, , slackId, email, cycleEnd, createdAt] of state!.existing) {
    firstOutcome.set(eventKey, {
      id: eventKey,
      status: 'duplicate',
      user: slackId ?? email ?? '',
      credits,
      at: new Date(occurredAt).toISOString(),
      cycle: { start: new Date(cycleStart).toISOString(), end: new Date(cycleEnd ?? cycleStart).toISOString() },
      own,
      pool,
      overage,
      late: cycleEnd != null && createdAt >= cycleEnd,
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

  const eventSeats = refs.map((ref) => (ref ? seatByRef.get(refKey(ref)) : undefined));
  const pools = await loadPools(tx, ctx, seats, events, eventSeats, grantsBySeat, now);

  const entries: Entry[] = [];
  const touched = new Map<string, { seatId: number; cycleStart: Date }>();
  const poolsDrawn = new Set<number>();
  events.forEach((event, i) => {
    if (outcomes[i]) return;
    const first = firstOutcome.get(event.id);
    if (first) {
      outcomes[i] = first.status === 'rejected' ? first : { ...first, status: 'duplicate' };
      return;
    }
    const outcome = decide(event, eventSeats[i], now);
    if ('status' in outcome) {
      outcomes[i] = outcome;
      return;
    }
    const { seat: s, cycle, at, late } = outcome;
    const ordered = ownGrantsInOrder(grantsBySeat.get(s.id) ?? [], at);
    const poolLive = s.profileKey
      ? pools.find((p) => p.grant.profileKey === s.profileKey && p.grant.startsAt <= at && at < p.grant.expiresAt)
      : undefined;
    const poolAvailable = poolLive
      ? Math.max(0, Math.min(poolLive.grant.remaining, poolLive.cap == null ? Infinity : poolLive.cap - (poolLive.drawnBySeat.get(s.id) ?? 0)))
      : 0;
    const mode = event.mode ?? 'record';
    const allocation = allocate(ordered, poolLive ? { grant: poolLive.grant, available: poolAvailable } : null, event.credits, mode);
    if (!allocation) {
      const own = ordered.reduce((sum, g) => sum + g.remaining, 0);
      outcomes[i] = reject(
        event.id,
        `${event.credits.toLocaleString('en-US')} credits do not fit: ${own.toLocaleString('en-US')} of the member's own credits` +
          (poolLive ? ` and ${poolAvailable.toLocaleString('en-US')} from the ${s.profileKey} pool` : '') +
          ` remain until the reset on ${cycle.end.toISOString()}`,
        { limit: poolLive ? 'own credits and pool' : 'own credits', remaining: own + poolAvailable, resetsAt: cycle.end.toISOString() },
      );
      return;
    }
    if (!cycleRows.has(`${s.id}:${cycle.start.getTime()}`)) {
      outcomes[i] = reject(event.id, `the member held no seat in the cycle starting ${cycle.start.toISOString()}`);
      return;
    }
    applyInMemory(allocation, s.id, poolLive);
    if (poolLive && allocation.poolDrawn > 0) poolsDrawn.add(poolLive.grant.id);
    const user = event.user.trim();
    entries.push(usageEntry(event, s, cycle, at, allocation));
    const row = cycleRows.get(`${s.id}:${cycle.start.getTime()}`)!;
    row.consumed += event.credits;
    touched.set(`${s.id}:${cycle.start.getTime()}`, { seatId: s.id, cycleStart: cycle.start });
    const applied: AppliedUsage = {
      id: event.id,
      status: 'applied',
      user,
      credits: event.credits,
      at: at.toISOString(),
      cycle: { start: cycle.start.toISOString(), end: cycle.end.toISOString() },
      own: allocation.ownDrawn,
      pool: allocation.poolDrawn,
      overage: allocation.overage,
      late,
    };
    outcomes[i] = applied;
    // A repeat of this id later in the same batch is a duplicate of this outcome.
    firstOutcome.set(event.id, applied);
  });

  await post(tx, entries, now);
  // Only seat cycles and pools that crossed a threshold in this batch need the alert query.
  const thresholds = [...ctx.settings.thresholds, ...channel_thresholds_pct];
  const crossing = [...touched.values()].filter(({ seatId, cycleStart }) => {
    const row = cycleRows.get(`${seatId}:${cycleStart.getTime()}`)!;
    return row.quota > 0 && crossed(thresholds, row.alertsSent, (row.consumed * 100) / row.quota).length > 0;
  });
  const poolsCrossing = pools
    .filter((p) => poolsDrawn.has(p.grant.id) && p.grant.amount > 0)
    .filter((p) => ((p.grant.amount - p.grant.remaining) * 100) / p.grant.amount >= Math.min(...pool_thresholds_pct))
    .map((p) => p.grant.id);
  if (crossing.length > 0 || poolsCrossing.length > 0) await raiseThresholdAlerts(tx, ctx, crossing, poolsCrossing, now);
  invariant(outcomes.every(Boolean), 'an event was left without an outcome');
  return outcomes as UsageOutcome[];

  function decide(event: UsageEvent, seat: SeatWithMember | undefined, nowAt: Date):
    | RejectedUsage
    | { seat: SeatWithMember; cycle: Cycle; at: Date; late: boolean } {
    if (!seat) return reject(event.id, `no seat for ${event.user}: add one with PUT /api/v1/seats/${event.user}`);
    if (seat.status !== 'active') return reject(event.id, `the seat of ${event.user} was revoked on ${seat.revokedAt?.toISOString()}`);
    const at = event.at ?? nowAt;
    if (at.getTime() > nowAt.getTime() + event_future_skew_ms_max) {
      return reject(event.id, `at ${at.toISOString()} is in the future; send the time the credits were used`);
    }
    // Nearly every event falls in the seat's current cycle: skip the calendar arithmetic then.
    const current = seat.cycleStart.getTime() <= at.getTime() && at.getTime() < seat.cycleEnd.getTime();
    const cycle = current ? { start: seat.cycleStart, end: seat.cycleEnd, name: '' } : cycleAt(at, seat.anchorDay, ctx.settings.zone);
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

function applyInMemory(allocation: Allocation, seatId: number, pool: PoolState | undefined): void {
  for (const { grant, amount } of allocation.draws) (grant as DrawableGrant).remaining -= amount;
  if (pool && allocation.poolDrawn > 0) pool.drawnBySeat.set(seatId, (pool.drawnBySeat.get(seatId) ?? 0) + allocation.poolDrawn);
}

function usageEntry(event: UsageEvent, seat: Seat, cycle: Cycle, at: Date, allocation: Allocation): Entry {
  const transfers: Entry['transfers'] = allocation.draws.map(({ grant, amount }) => ({
    from: { grant },
    to: { system: 'consumption' },
    amount,
  }));
  if (allocation.overage > 0) transfers.push({ from: { system: 'overage' }, to: { system: 'consumption' }, amount: allocation.overage });
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
    transfers,
  };
}

/**
 * Locks the pool grants this batch may draw on (after the seats: one global lock order) and
 * reads what each member has drawn from them. Only pools that someone may need are locked:
 * a pool is the hottest row of all.
 */
async function loadPools(
  tx: Queryable,
  ctx: LedgerContext,
  seats: readonly SeatWithMember[],
  events: readonly UsageEvent[],
  eventSeats: readonly (SeatWithMember | undefined)[],
  grantsBySeat: Map<number, DrawableGrant[]>,
  now: Date,
): Promise<PoolState[]> {
  const demand = new Map<number, number>();
  events.forEach((event, i) => {
    const seat = eventSeats[i];
    if (seat) demand.set(seat.id, (demand.get(seat.id) ?? 0) + event.credits);
  });
  // A late event may need the pool of its own cycle whatever is left now: always look.
  const late = new Set<number>();
  events.forEach((event, i) => {
    const seat = eventSeats[i];
    if (seat && event.at && event.at.getTime() < seat.cycleStart.getTime()) late.add(seat.id);
  });
  const profileKeys = new Set<string>();
  for (const seat of seats) {
    if (!seat.profileKey || !seat.poolCredits) continue;
    const own = (grantsBySeat.get(seat.id) ?? []).filter((g) => isLiveAt(g, now)).reduce((sum, g) => sum + g.remaining, 0);
    if (late.has(seat.id) || (demand.get(seat.id) ?? 0) > own) profileKeys.add(seat.profileKey);
  }
  if (profileKeys.size === 0) return [];
  await resetPoolsIn(tx, ctx, now, [...profileKeys]);
  const rows = await tx.query<GrantRow & { cap: number | null }>(
    `select ${grant_columns}, p.member_pool_cap as cap from grants g join profiles p on p.key = g.profile_key
     where g.source = 'pool' and g.profile_key = any($1::text[]) and g.remaining > 0 and g.expires_at > $2
     order by g.id for update of g`,
    [[...profileKeys], new Date(now.getTime() - ctx.settings.graceMs)],
  );
  const draws = await tx.query<{ poolGrantId: number; seatId: number; used: number }>(
    `select pool_grant_id as "poolGrantId", seat_id as "seatId", used from pool_draws
     where pool_grant_id = any($1::int8[]) and seat_id = any($2::int4[])`,
    [rows.map((r) => r.id), seats.map((s) => s.id)],
  );
  return rows.map((grant) => ({
    grant,
    cap: grant.cap,
    drawnBySeat: new Map(draws.filter((d) => d.poolGrantId === grant.id).map((d) => [d.seatId, d.used])),
  }));
}
