// The cycle reset and the expiry of what a cycle left. Each is a function of (ledger, now) that
// may run any number of times, on any number of replicas, and applies each period exactly once:
// a seat's reset is a compare-and-set on its cycle_start under the seat's row lock, a pool's on
// its profile's cycle_start, an overage budget's on its tool's cycle_start, an expiry on the
// grant's remaining.
import type { Queryable } from '../db/client.ts';
import type { NewGrant, Transfer } from './post.ts';
import { grantIds, post } from './post.ts';
import { cycleAt, daysLeft, type Cycle } from './cycles.ts';
import { grant_columns, seat_columns, type GrantRow, type LedgerContext, type SeatRow } from './context.ts';
import { invariant } from './errors.ts';
import { reset_seats_per_transaction_max, reset_workers } from './limits.ts';
import { loadTools, toolCycleAt, type Tool, type Tools } from './tools.ts';

const issue = (grant: NewGrant, amount: number): Transfer => ({ from: { system: 'issuance' }, to: { grant }, amount });

/** A full plan grant, or a pro-rated one for a seat that starts mid-cycle when the org says so. */
export function planCredits(credits: number, cycle: Cycle, startsAt: Date, ctx: LedgerContext, zone: string): number {
  if (ctx.settings.proration !== 'daily' || startsAt.getTime() <= cycle.start.getTime()) return credits;
  const { left, total } = daysLeft(cycle, startsAt, zone);
  return Math.round((credits * left) / total);
}

/** What a reset needs besides the seats: the tools, read once per transaction. */
export interface ResetLookups {
  tools: Tools;
}

/** The cycle of a seat that contains `at`: its own anchor day, its tool's zone. */
export const seatCycleAt = (seat: Pick<SeatRow, 'anchorDay' | 'toolKey'>, tools: Tools, at: Date): Cycle =>
  cycleAt(at, seat.anchorDay, tools.get(seat.toolKey).zone);

/**
 * Moves locked, active seats into the cycle that contains `now`: a seat_cycles row, one grant per
 * plan the seat holds (SPEC "Stacking"), one per recurring pack, one-time packs' remaining carried
 * over, rollover within each plan's or pack's cap. Seats already in that cycle are left alone.
 * The calendar is worked out here; the grants, transfers and rows are written set-based by
 * creditdesk_reset_seats (migrations/*_reset_function.sql), whose foreign keys are checked once
 * per statement. Returns how many seats moved.
 */
export async function resetLockedSeats(tx: Queryable, ctx: LedgerContext, seats: readonly SeatRow[], now: Date, lookups?: ResetLookups): Promise<number> {
  if (!seats.some((seat) => seat.status === 'active' && seat.cycleEnd.getTime() <= now.getTime())) return 0;
  const tools = lookups?.tools ?? (await loadTools(tx, ctx.settings));
  // Seats share a handful of (tool, anchor day) pairs: one cycle computation each.
  const cycles = new Map<string, Cycle>();
  const cycleFor = (seat: SeatRow) => {
    const key = `${seat.toolKey}:${seat.anchorDay}`;
    let cycle = cycles.get(key);
    if (!cycle) cycles.set(key, (cycle = seatCycleAt(seat, tools, now)));
    return cycle;
  };
  const due = seats
    .filter((seat) => seat.status === 'active')
    .map((seat) => ({ seat, cycle: cycleFor(seat) }))
    .filter(({ seat, cycle }) => seat.cycleStart.getTime() < cycle.start.getTime());
  if (due.length === 0) return 0;
  const [{ moved }] = (await tx.query<{ moved: number }>(
    `select creditdesk_reset_seats($1, $2) as moved`,
    [now, JSON.stringify(due.map(({ seat, cycle }) => ({ s: seat.id, p: seat.cycleStart, c: cycle.start, e: cycle.end })))],
    { name: 'reset_seats' },
  )) as [{ moved: number }];
  invariant(moved === due.length, 'a locked seat changed cycle under its lock');
  return moved;
}

/**
 * The one home of "lock the seat, reset it if its cycle ended, read it again": locks the seats
 * with these ids (in id order, like every writer) and returns them in the cycle containing `now`.
 */
export async function lockCurrentSeats(tx: Queryable, ctx: LedgerContext, seatIds: readonly number[], now: Date): Promise<SeatRow[]> {
  if (seatIds.length === 0) return [];
  const lock = () =>
    tx.query<SeatRow>(`select ${seat_columns} from seats s where s.id = any($1::int4[]) order by s.id for update`, [seatIds]);
  const seats = await lock();
  if (!seats.some((s) => s.status === 'active' && s.cycleEnd.getTime() <= now.getTime())) return seats;
  await resetLockedSeats(tx, ctx, seats, now);
  return lock();
}

/**
 * Resets every seat whose cycle has ended, in chunks. Workers, like replicas, share the work
 * through SKIP LOCKED: each chunk is a disjoint set of seats, so on PostgreSQL one worker's
 * database work overlaps another's JavaScript, and both cores are busy. PGlite runs them in turn.
 */
export async function resetDueSeats(ctx: LedgerContext, now: Date = ctx.now()): Promise<number> {
  const worker = async () => {
    let total = 0;
    for (;;) {
      const moved = await ctx.db.transaction(async (tx) => {
        const seats = await tx.query<SeatRow>(
          `select ${seat_columns} from seats s where s.status = 'active' and s.cycle_end <= $1
           order by s.id limit $2 for update skip locked`,
          [now, reset_seats_per_transaction_max],
        );
        return { picked: seats.length, moved: await resetLockedSeats(tx, ctx, seats, now) };
      });
      total += moved.moved;
      // Fewer than a full chunk: every due seat is reset or locked by a worker that will finish it.
      if (moved.picked < reset_seats_per_transaction_max) return total;
    }
  };
  const totals = await Promise.all(Array.from({ length: reset_workers }, worker));
  return totals.reduce((sum, moved) => sum + moved, 0);
}

/** Issues every pool's grant and every overage budget's grant for the tool cycle containing `now`, once. */
export async function resetPools(ctx: LedgerContext, now: Date = ctx.now()): Promise<number> {
  return ctx.db.transaction(async (tx) => (await resetPoolsIn(tx, ctx, now, null)) + (await resetBudgetsIn(tx, ctx, now, null)));
}

/** Same for pools, inside a transaction, optionally for some profiles only. Pools renew on their tool's cycle. */
export async function resetPoolsIn(tx: Queryable, ctx: LedgerContext, now: Date, profileKeys: readonly string[] | null): Promise<number> {
  const tools = await loadTools(tx, ctx.settings);
  const cycles = new Map(tools.list.map((tool) => [tool.key, toolCycleAt(tool, now)]));
  // Wait for a profile another transaction is issuing, never skip it: a usage batch that skipped
  // would not see the new pool grant and book as overage what the pool covers. Once the other
  // commits, the re-checked cycle_start leaves the profile out. Nobody holding a profile lock
  // waits for a seat, so this cannot deadlock with the seats usage locks first.
  const due = await tx.query<{ key: string; toolKey: string; poolCredits: number }>(
    `select p.key, p.tool_key as "toolKey", p.pool_credits as "poolCredits"
     from profiles p join unnest($1::text[], $2::timestamptz[]) as c(tool_key, start) on c.tool_key = p.tool_key
     where p.pool_credits > 0 and (p.cycle_start is null or p.cycle_start < c.start) and ($3::text[] is null or p.key = any($3::text[]))
     order by p.key for update of p`,
    [[...cycles.keys()], [...cycles.values()].map((c) => c.start), profileKeys],
  );
  if (due.length === 0) return 0;
  const ids = await grantIds(tx, due.length);
  const newGrants: NewGrant[] = due.map((profile, i) => {
    const cycle = cycles.get(profile.toolKey)!;
    return {
      id: ids[i]!, source: 'pool', seatId: null, packId: null, profileKey: profile.key, planKey: null, toolKey: null,
      cycleStart: cycle.start, startsAt: cycle.start, expiresAt: cycle.end, amount: profile.poolCredits,
    };
  });
  await post(tx, [{ kind: 'pool_grant', occurredAt: now, transfers: newGrants.map((g) => issue(g, g.amount)) }], now, newGrants);
  await tx.query(
    `update profiles p set cycle_start = d.start from unnest($1::text[], $2::timestamptz[]) as d(key, start) where p.key = d.key`,
    [due.map((p) => p.key), newGrants.map((g) => g.cycleStart)],
  );
  return due.length;
}

/**
 * Issues each tool's overage budget for its cycle containing `now` (SPEC "Overage budget"), once
 * per tool cycle: a compare-and-set on the tool's cycle_start, like a pool's on its profile's.
 * Returns how many budget grants were issued.
 */
export async function resetBudgetsIn(tx: Queryable, ctx: LedgerContext, now: Date, toolKeys: readonly string[] | null): Promise<number> {
  const tools = await loadTools(tx, ctx.settings);
  const cycles = new Map(tools.list.map((tool) => [tool.key, toolCycleAt(tool, now)]));
  const due = await tx.query<{ key: string; overageBudget: number | null }>(
    `select t.key, t.overage_budget as "overageBudget"
     from tools t join unnest($1::text[], $2::timestamptz[]) as c(key, start) on c.key = t.key
     where t.overage_budget is not null and (t.cycle_start is null or t.cycle_start < c.start) and ($3::text[] is null or t.key = any($3::text[]))
     order by t.key for update of t`,
    [[...cycles.keys()], [...cycles.values()].map((c) => c.start), toolKeys],
  );
  if (due.length === 0) return 0;
  const budgeted = due.filter((t) => t.overageBudget! > 0);
  const ids = await grantIds(tx, budgeted.length);
  const newGrants: NewGrant[] = budgeted.map((tool, i) => {
    const cycle = cycles.get(tool.key)!;
    return {
      id: ids[i]!, source: 'budget', seatId: null, packId: null, profileKey: null, planKey: null, toolKey: tool.key,
      cycleStart: cycle.start, startsAt: cycle.start, expiresAt: cycle.end, amount: tool.overageBudget!,
    };
  });
  if (newGrants.length > 0) {
    await post(tx, [{ kind: 'budget_grant', occurredAt: now, transfers: newGrants.map((g) => issue(g, g.amount)) }], now, newGrants);
  }
  await tx.query(`update tools t set cycle_start = d.start from unnest($1::text[], $2::timestamptz[]) as d(key, start) where t.key = d.key`, [
    due.map((t) => t.key),
    due.map((t) => cycles.get(t.key)!.start),
  ]);
  return newGrants.length;
}

/**
 * Brings the running cycle's budget grant of a tool to the budget an admin just set: a raise is
 * issued at once, a cut takes back what is left of the difference; what was used stays used.
 * A tool with no budget grant this cycle gets one.
 */
export async function applyBudgetChange(tx: Queryable, ctx: LedgerContext, toolKey: string, now: Date): Promise<void> {
  const [tool] = await tx.query<{ overageBudget: number | null }>(`select overage_budget as "overageBudget" from tools where key = $1 for update`, [toolKey]);
  invariant(tool, `tool ${toolKey} vanished under its lock`);
  const [grant] = await tx.query<GrantRow>(
    `select ${grant_columns} from grants g where g.source = 'budget' and g.tool_key = $1 and g.starts_at <= $2 and g.expires_at > $2
     order by g.id desc limit 1 for update`,
    [toolKey, now],
  );
  if (!grant) {
    // No grant this cycle: let the reset issue one, as if the cycle had just begun.
    await tx.query(`update tools set cycle_start = null where key = $1`, [toolKey]);
    await resetBudgetsIn(tx, ctx, now, [toolKey]);
    return;
  }
  // A budget grant's amount is what was issued into it, so amount - remaining is what was used:
  // a raise issues the difference, a cut takes back what is left of it, and what was used stays
  // used (a cut below it leaves nothing to draw).
  const budget = tool.overageBudget ?? 0;
  const used = grant.amount - grant.remaining;
  const remaining = Math.max(0, budget - used);
  if (remaining === grant.remaining) return;
  const transfer: Transfer =
    remaining > grant.remaining
      ? { from: { system: 'issuance' }, to: { grant }, amount: remaining - grant.remaining }
      : { from: { grant }, to: { system: 'expiry' }, amount: grant.remaining - remaining };
  await post(tx, [{ kind: 'budget_grant', occurredAt: now, transfers: [transfer] }], now);
  await tx.query(`update grants set amount = $2 where id = $1`, [grant.id, used + remaining]);
}

/**
 * Books as expired what grants still hold once their cycle's grace window for late events has
 * passed. Until then a late event may still draw on them.
 */
export async function expireGrants(ctx: LedgerContext, now: Date = ctx.now()): Promise<number> {
  const cutoff = new Date(now.getTime() - ctx.settings.graceMs);
  let total = 0;
  for (;;) {
    const expired = await ctx.db.transaction(async (tx) => {
      // Lock the seats first, in id order like every writer, then the grants themselves.
      const seatIds = await tx.query<{ id: number }>(
        `select s.id from seats s where s.id in (
           select g.seat_id from grants g where g.expires_at <= $1 and g.closed_at is null and g.seat_id is not null limit $2)
         order by s.id for update`,
        [cutoff, reset_seats_per_transaction_max],
      );
      const grants = await tx.query<GrantRow>(
        `select ${grant_columns} from grants g
         where g.expires_at <= $1 and g.closed_at is null and (g.seat_id is null or g.seat_id = any($2::int4[]))
         order by g.id limit $3 for update`,
        [cutoff, seatIds.map((s) => s.id), reset_seats_per_transaction_max * 4],
      );
      if (grants.length === 0) return { processed: 0, expired: 0 };
      const left = grants.filter((grant) => grant.remaining > 0);
      if (left.length > 0) {
        await post(
          tx,
          [{ kind: 'expiry', occurredAt: now, transfers: left.map((grant) => ({ from: { grant }, to: { system: 'expiry' as const }, amount: grant.remaining })) }],
          now,
        );
      }
      // Closed, an expired grant leaves the open-grant index: the sweep never scans it again.
      await tx.query(`update grants set closed_at = $2 where id = any($1::int8[])`, [grants.map((g) => g.id), now]);
      return { processed: grants.length, expired: left.length };
    });
    total += expired.expired;
    if (expired.processed === 0) return total;
  }
}
