// Usage events: a batch of up to batch_events_max applied in one transaction with a fixed number
// of statements. Each event gets its own outcome; an event id is applied once, ever. An event
// draws on the member's seat in its tool only: tools never mix (SPEC "Stacking").
import { isRetryable, type Queryable } from '../db/client.ts';
import { seat_columns, type LedgerContext, type SeatRow } from './context.ts';
import { cycleAt } from './cycles.ts';
import { invariant, LedgerError } from './errors.ts';
import { credits_max, event_future_skew_ms_max, event_id_length_max, text_length_max, user_ref_length_max } from './limits.ts';
import { unstorableTextIn } from './text.ts';
import { unitAfter } from '../words.ts';
import { parseUserRef } from './members.ts';
import { resetBudgetsIn, resetLockedSeats, resetPoolsIn } from './reset.ts';
import { budget_thresholds_pct, channel_thresholds_pct, crossed, pool_thresholds_pct, raiseThresholdAlerts } from './alerts.ts';
import { loadTools } from './tools.ts';

export type UsageMode = 'record' | 'enforce';

/** A usage event as the API and the CLI receive it, already validated for shape. */
export interface UsageEvent {
  id: string;
  user: string;
  /** The tool's key; may be left out while the org has only one tool. */
  tool?: string | null;
  credits: number;
  /**
   * 'pool': the vendor says these credits came from the plan-level pool (Figma's
   * plan_credits_sum), so they skip the member's own grants; beyond the pool they are overage.
   */
  draw?: 'pool' | null;
  at?: Date;
  feature?: string | null;
  source?: string | null;
}

export interface AppliedUsage {
  id: string;
  status: 'applied' | 'duplicate';
  user: string;
  tool: string;
  credits: number;
  at: string;
  cycle: { start: string; end: string };
  /** Drawn from the member's own plan, packs and manual grants. */
  own: number;
  pool: number;
  /** Beyond own credits and pool, drawn against the tool's overage budget or not. */
  overage: number;
  /** Charged to a cycle that had already closed (within the grace window). */
  late: boolean;
  /** Record mode: credits of this event beyond the seat's daily limit (only when there are any). */
  over_daily_limit?: number;
}

export interface RejectedUsage {
  id: string;
  status: 'rejected';
  reason: string;
  /** Enforce mode: the event did not fit; names the limit, what remains and when it resets. */
  refused?: { limit: string; remaining: number; resetsAt: string };
}

export type UsageOutcome = AppliedUsage | RejectedUsage;

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
  // An id of spaces only names nothing a person could find again: refused like other blank text.
  if (event.id.trim().length === 0) return 'id must not be blank';
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
  if (event.tool != null && (typeof event.tool !== 'string' || event.tool.length > text_length_max)) return `tool must be a tool's key`;
  return unstorableTextIn({ id: event.id, user: event.user, tool: event.tool, feature: event.feature, source: event.source });
}

/**
 * Applies events in order; `mode` per event lets one batch carry record and enforce calls
 * together. Resolves one outcome per event, in order. Throws what the database throws (the
 * group commit in ingest.ts isolates an event at fault).
 *
 * Most batches are one statement, its own transaction: one round trip instead of BEGIN, call,
 * COMMIT. A batch that needs more than the function does alone (seats to reset, a pool or budget
 * to issue, a threshold alert to raise) or lost a race on an event id writes nothing that way
 * and runs again in a transaction, where all of it happens together.
 */
export async function applyUsage(
  ctx: LedgerContext,
  events: readonly (UsageEvent & { mode?: UsageMode })[],
): Promise<UsageOutcome[]> {
  if (events.length === 0) return [];
  const now = ctx.now();
  const batch = prepareUsage(ctx, events, now);
  if (batch.rows.length === 0) return batch.outcomes as UsageOutcome[];
  try {
    const [{ r }] = (await ctx.db.query<{ r: Result }>(apply_usage_sql, [...batch.params, member_thresholds(ctx), shared_threshold_pct], { name: 'apply_usage' })) as [{ r: Result }];
    if (r.status) return await outcomesOf(ctx.db, ctx, events, batch, r, now);
  } catch (error) {
    if (!isRetryable(error)) throw error;
  }
  return ctx.db.transaction((tx) => applyUsageIn(tx, ctx, events, batch, now));
}

/** The member thresholds a batch may cross (percent of the cycle quota): the org's and the admin channel's. */
const member_thresholds = (ctx: LedgerContext) => [...ctx.settings.thresholds, ...channel_thresholds_pct];
/** From this share of a pool or budget drawn (percent), a batch drawing on it may owe an alert. */
const shared_threshold_pct = Math.min(...pool_thresholds_pct, ...budget_thresholds_pct);

/**
 * One event's outcome, as outcomesOf reads it (rowsOf builds it from the function's arrays).
 * Applied: [0, own, pool, overage, overDaily, cycleStartMs, cycleEndMs, late, slot]. A stored
 * repeat: [1, credits, own, pool, overage, overDaily, cycleStartMs, cycleEndMs, late, tool, atMs,
 * user]. A repeat of an earlier event in the batch: [2, ordinal of that event in the call]. A
 * refusal: [3, code, x1, x2, x3, tool, cycleEndMs, slot]. A late event outside the seat's recent
 * cycles: [4, slot]. Slots index `seats`, from 1; 0 is no seat.
 */
type Row =
  | [0, number, number, number, number, number, number, boolean, number]
  | [1, number, number, number, number, number, number, number, boolean, string, number, string]
  | [2, number]
  | [3, number, number, number, number, string | null, number | null, number]
  | [4, number];

/** A seat of the batch: [id, tool, toolName, unit, profile, revokedAtMs, anchorDay, zone, cycleStartMs, cycleEndMs]. */
type SeatInfo = [number, string, string, string, string | null, number | null, number, string, number, number];

/** A stored repeat as the function returns it: [ordinal from 1, then Row 1's fields after its tag]. */
type StoredRow = [number, number, number, number, number, number, number, number, boolean, string, number, string];

/**
 * What creditdesk_apply_usage returns (migrations/0011_usage_function_generic_plans.sql). A
 * batch it wrote (or decided) comes back as one array per field, indexed by event: `status` (0
 * applied, 1 stored repeat, 2 repeat within the batch, 3 refused, 4 outside the seat's recent
 * cycles), credits drawn (`own`, `pool`, `over`, `overday`), `cycle` (index into cycle_starts and
 * cycle_ends, from 1), `slot` (into `seats`), `ref` (for status 2, the earlier event's ordinal),
 * and a refusal's `code`, `x1`-`x3` and `tool`. Else one of `stale`, `due` or `alerts` says
 * what the caller must do first.
 */
interface Result {
  status?: number[];
  own?: number[];
  pool?: number[];
  over?: number[];
  overday?: number[];
  cycle?: number[];
  slot?: number[];
  ref?: number[];
  code?: number[];
  x1?: number[];
  x2?: number[];
  x3?: number[];
  tool?: (string | null)[];
  cycle_starts?: number[] | null;
  cycle_ends?: number[] | null;
  stored?: StoredRow[] | null;
  /** Each seat's tool and current cycle's start (ms), by slot. */
  seat_tool?: string[] | null;
  seat_start?: number[] | null;
  /** The seats a refusal names, by slot (a JSON object's keys are text). */
  seats?: Record<string, SeatInfo> | null;
  /** Seats whose cycle ended before the reset reached them: reset them and call again. */
  stale?: number[];
  /** Pools (by profile) and overage budgets (by tool) of the current cycle the batch needs and that are not issued yet: issue them and call again. */
  due?: { profiles: string[]; tools: string[] };
  /** Threshold alerts are owed: run the batch again in a transaction that raises them. */
  alerts?: boolean;
  /** Balance rows the batch moved: [seatId, cycleStartMs, quota, consumedBefore, consumedAfter, alertsSent]. */
  cycles?: [number, number, number, number, number, number][] | null;
  /** Pools and budgets the batch drew on: [grantId, isPool, amount, remaining]. */
  shared?: [number, boolean, number, number][] | null;
}

/** Each event's Row from the function's arrays, in the order the events were sent to it. */
function rowsOf(r: Result): Row[] {
  const starts = r.cycle_starts ?? [];
  const ends = r.cycle_ends ?? [];
  const seats = r.seats ?? {};
  const seatStarts = r.seat_start ?? [];
  const stored = new Map((r.stored ?? []).map((row) => [row[0], row]));
  return r.status!.map((status, k): Row => {
    const slot = r.slot![k]!;
    const cycle = r.cycle![k]!;
    switch (status) {
      case 0:
        return [0, r.own![k]!, r.pool![k]!, r.over![k]!, r.overday![k]!, starts[cycle - 1]!, ends[cycle - 1]!, starts[cycle - 1]! < seatStarts[slot - 1]!, slot];
      case 1: {
        const [, ...fields] = stored.get(k + 1)!;
        return [1, ...fields];
      }
      case 2:
        return [2, r.ref![k]!];
      case 3: {
        const cycleEnd = cycle > 0 ? ends[cycle - 1]! : slot > 0 ? seats[slot]![9] : null;
        return [3, r.code![k]!, r.x1![k]!, r.x2![k]!, r.x3![k]!, r.tool![k] ?? null, cycleEnd, slot];
      }
      default:
        return [4, slot];
    }
  });
}

/** Refusal codes of creditdesk_apply_usage (migrations/0011_usage_function_generic_plans.sql). */
const code = {
  toolRequired: 1, noTool: 2, noSeat: 3, revoked: 4, notStarted: 5, daily: 6,
  noFit: 7, noFitPool: 8, noFitBudget: 9, noFitPoolBudget: 10,
} as const;

const apply_usage_sql = `select creditdesk_apply_usage($1, $2, $3, $4, $5, $6, $7) as r`;

/** A batch checked on its own fields: outcomes of the events refused here, and the rest for the function. */
interface PreparedBatch {
  outcomes: (UsageOutcome | undefined)[];
  /** Indexes into the events of those sent to the function, in order. */
  sent: number[];
  rows: unknown[];
  /** The function's first five parameters. */
  params: unknown[];
}

/** Checks each event on its own fields (eventProblem, the future, the user reference) and builds the function's parameters. */
function prepareUsage(ctx: LedgerContext, events: readonly (UsageEvent & { mode?: UsageMode })[], now: Date): PreparedBatch {
  const outcomes: (UsageOutcome | undefined)[] = new Array(events.length);
  const sent: number[] = [];
  const rows: {
    i: string; s: string | null; e: string | null; t: string | null; c: number; a: Date | null; m: boolean; f: string | null; x: string | null; p: boolean;
  }[] = [];
  const futureMs = now.getTime() + event_future_skew_ms_max;
  events.forEach((event, i) => {
    const problem = eventProblem(event);
    if (problem) return void (outcomes[i] = reject(event.id, problem));
    if (event.at && event.at.getTime() > futureMs) {
      return void (outcomes[i] = reject(event.id, `at ${event.at.toISOString()} is in the future; send the time the credits were used`));
    }
    let ref;
    try {
      ref = parseUserRef(event.user);
    } catch (error) {
      if (!(error instanceof LedgerError)) throw error;
      return void (outcomes[i] = reject(event.id, error.message));
    }
    sent.push(i);
    rows.push({
      i: event.id, s: 'slackId' in ref ? ref.slackId : null, e: 'email' in ref ? ref.email : null, t: event.tool ?? null,
      c: event.credits, a: event.at ?? null, m: event.mode === 'enforce', f: event.feature ?? null, x: event.source ?? null,
      p: event.draw === 'pool',
    });
  });
  // The events travel as one JSON parameter: JSON.stringify is native and PostgreSQL parses it in C.
  return { outcomes, sent, rows, params: [now, ctx.settings.graceMs, ctx.settings.zone, JSON.stringify(rows), true] };
}

/**
 * The usage write path in a transaction: the whole batch is resolved, allocated and written by
 * one server-side function (creditdesk_apply_usage, in the migrations), planned once per
 * connection; seats the reset has not reached and pools or budgets not yet issued are handled
 * here and the function called again; threshold alerts are raised in the same transaction.
 */
async function applyUsageIn(
  tx: Queryable,
  ctx: LedgerContext,
  events: readonly (UsageEvent & { mode?: UsageMode })[],
  batch: PreparedBatch,
  now: Date,
): Promise<UsageOutcome[]> {
  const params = [...batch.params, null, null];
  let result: Result;
  for (let attempt = 0; ; attempt++) {
    invariant(attempt < 3, 'the usage function kept asking for resets');
    [{ r: result }] = (await tx.query<{ r: Result }>(apply_usage_sql, params, { name: 'apply_usage' })) as [{ r: Result }];
    if (result.stale) {
      // The reset job has not reached these seats yet; reset them under the locks the call took.
      const seats = await tx.query<SeatRow>(`select ${seat_columns} from seats s where s.id = any($1::int4[]) order by s.id`, [result.stale]);
      await resetLockedSeats(tx, ctx, seats, now);
    } else if (result.due) {
      if (result.due.profiles.length > 0) await resetPoolsIn(tx, ctx, now, result.due.profiles);
      if (result.due.tools.length > 0) await resetBudgetsIn(tx, ctx, now, result.due.tools);
      params[4] = false;
    } else break;
  }
  const outcomes = await outcomesOf(tx, ctx, events, batch, result, now);

  // Alerts for the balance rows and pools the batch carried over a threshold, in this transaction.
  const thresholds = member_thresholds(ctx);
  const crossing = (result.cycles ?? [])
    .filter(([, , quota, , after, alertsSent]) => quota > 0 && crossed(thresholds, alertsSent, (after * 100) / quota).length > 0)
    .map(([seatId, cycleStart]) => ({ seatId, cycleStart: new Date(cycleStart) }));
  const sharedCrossing = (result.shared ?? [])
    .filter(([, isPool, amount, remaining]) => amount > 0 && ((amount - remaining) * 100) / amount >= Math.min(...(isPool ? pool_thresholds_pct : budget_thresholds_pct)))
    .map(([id]) => id);
  if (crossing.length > 0 || sharedCrossing.length > 0) await raiseThresholdAlerts(tx, ctx, crossing, sharedCrossing, now);
  return outcomes;
}

/** Each event's outcome from the function's result (its rows follow `batch.sent`); `db` reads the tools a refusal names. */
async function outcomesOf(
  db: Queryable,
  ctx: LedgerContext,
  events: readonly (UsageEvent & { mode?: UsageMode })[],
  batch: PreparedBatch,
  result: Result,
  now: Date,
): Promise<UsageOutcome[]> {
  const { outcomes, sent } = batch;
  const rows = rowsOf(result);
  const seats = result.seats ?? {};
  const seatTools = result.seat_tool ?? [];
  let tools: Awaited<ReturnType<typeof loadTools>> | undefined;
  // A batch's events share a few instants (now, a cycle's start and end): each is written once.
  const nowIso = now.toISOString();
  const isoOf = new Map<number, string>();
  const iso = (ms: number) => {
    let text = isoOf.get(ms);
    if (text === undefined) isoOf.set(ms, (text = new Date(ms).toISOString()));
    return text;
  };
  for (let k = 0; k < rows.length; k++) {
    const i = sent[k]!;
    const event = events[i]!;
    const row = rows[k]!;
    if (row[0] === 0) {
      const [, own, pool, overage, overDaily, cycleStart, cycleEnd, late, slot] = row;
      outcomes[i] = {
        id: event.id, status: 'applied', user: event.user.trim(), tool: seatTools[slot - 1]!, credits: event.credits,
        at: event.at ? event.at.toISOString() : nowIso, cycle: { start: iso(cycleStart), end: iso(cycleEnd) },
        own, pool, overage, late, ...(overDaily > 0 ? { over_daily_limit: overDaily } : {}),
      };
    } else if (row[0] === 1) {
      const [, credits, own, pool, overage, overDaily, cycleStart, cycleEnd, late, tool, at, user] = row;
      outcomes[i] = {
        id: event.id, status: 'duplicate', user, tool, credits, at: new Date(at).toISOString(),
        cycle: { start: new Date(cycleStart).toISOString(), end: new Date(cycleEnd).toISOString() }, own, pool, overage, late,
        ...(overDaily > 0 ? { over_daily_limit: overDaily } : {}),
      };
    } else if (row[0] === 2) {
      // A repeat of an event applied earlier in this batch: its first outcome again.
      outcomes[i] = { ...(outcomes[sent[row[1] - 1]!] as AppliedUsage), status: 'duplicate' };
    } else if (row[0] === 3) {
      const needsTools = row[1] === code.toolRequired || row[1] === code.noTool || row[1] === code.noSeat || row[1] === code.revoked;
      if (needsTools) tools ??= await loadTools(db, ctx.settings);
      outcomes[i] = refusal(event, row, row[7] > 0 ? seats[row[7]]! : null, tools);
    } else {
      outcomes[i] = outsideRecentCycles(event, seats[row[1]]!, now, ctx.settings.graceMs);
    }
  }
  invariant(outcomes.every(Boolean), 'an event was left without an outcome');
  return outcomes as UsageOutcome[];
}

const n = (value: number) => value.toLocaleString('en-US');
/** "a", "a and b", "a, b and c". */
const andList = (items: readonly string[]) => (items.length === 1 ? items[0]! : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`);

/** The message and limit of a refusal the usage function decided, in people's words. */
function refusal(
  event: UsageEvent,
  row: Extract<Row, [3, ...unknown[]]>,
  seat: SeatInfo | null,
  tools: Awaited<ReturnType<typeof loadTools>> | undefined,
): RejectedUsage {
  const [, refused, x1, x2, x3, toolKey, cycleEndMs] = row;
  const [, , toolName, unit, profile, revokedAtMs] = seat ?? [0, '', '', 'credits', null, null];
  const resetsAt = cycleEndMs == null ? '' : new Date(cycleEndMs).toISOString();
  switch (refused) {
    case code.toolRequired:
      return reject(event.id, `an event must name its tool: one of ${tools!.keys()}`);
    case code.noTool:
      return reject(event.id, `there is no tool ${event.tool}; the tools are ${tools!.keys()}`);
    case code.noSeat: {
      // With several tools the seat's body must name a plan of this tool.
      const where = tools!.size > 1 ? ` in ${tools!.get(toolKey!).name}` : '';
      const hint = tools!.size > 1 ? ` and {"plans": [a ${toolKey} plan]}` : '';
      return reject(event.id, `no seat${where} for ${event.user}: add one with PUT /api/v1/seats/${event.user}${hint}`);
    }
    case code.revoked: {
      const where = tools!.size > 1 ? ` in ${toolName}` : '';
      return reject(event.id, `the seat${where} of ${event.user} was revoked on ${new Date(revokedAtMs!).toISOString()}`);
    }
    case code.notStarted:
      return reject(event.id, `at ${event.at!.toISOString()} falls in a cycle that has not started yet`);
    case code.daily: {
      const [limit, used, ends] = [x1, x2, new Date(x3).toISOString()];
      const left = Math.max(0, limit - used);
      return reject(
        event.id,
        `${n(event.credits)} ${unitAfter(event.credits, unit)} ${event.credits === 1 ? 'passes' : 'pass'} the daily limit of ${n(limit)}: ${n(used)} used on ${dayBefore(ends)}, ${n(left)} left until it resets at ${ends}`,
        { limit: 'daily limit', remaining: left, resetsAt: ends },
      );
    }
    default: {
      const withPool = refused === code.noFitPool || refused === code.noFitPoolBudget;
      const withBudget = refused === code.noFitBudget || refused === code.noFitPoolBudget;
      const limits = ['own credits', ...(withPool ? ['pool'] : []), ...(withBudget ? ['overage budget'] : [])];
      const parts = [
        `${n(x1)} of the member's own ${unit}`,
        ...(withPool ? [`${n(x2)} from the ${profile} pool`] : []),
        ...(withBudget ? [`${n(x3)} of the ${toolName} overage budget`] : []),
      ];
      return reject(
        event.id,
        `${n(event.credits)} ${unitAfter(event.credits, unit)} ${event.credits === 1 ? 'does' : 'do'} not fit: ${andList(parts)} remain until the reset on ${resetsAt}`,
        { limit: andList(limits), remaining: x1 + x2 + x3, resetsAt },
      );
    }
  }
}

/** The day a daily limit counts, from the instant it resets (the next day's start). */
const dayBefore = (endsIso: string) => new Date(Date.parse(endsIso) - 12 * 3_600_000).toISOString().slice(0, 10);

/**
 * A late event older than the seat's recent cycles: too late when its cycle's grace window has
 * passed, else it falls in a cycle the member held no seat in. The calendar decides, in the tool's zone.
 */
function outsideRecentCycles(event: UsageEvent, seat: SeatInfo, now: Date, graceMs: number): RejectedUsage {
  const [, , , , , , anchorDay, zone] = seat;
  const cycle = cycleAt(event.at!, anchorDay, zone);
  if (now.getTime() >= cycle.end.getTime() + graceMs) {
    const hours = Math.round(graceMs / 3_600_000);
    return reject(
      event.id,
      `too late: the cycle ${cycle.name} closed on ${cycle.end.toISOString()} and late events are accepted for ${hours} h after a cycle closes`,
    );
  }
  return reject(event.id, `the member held no seat in the cycle starting ${cycle.start.toISOString()}`);
}
