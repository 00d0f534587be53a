// The cycle reset and the expiry of what a cycle left. Each is a function of (ledger, now) that
// may run any number of times, on any number of replicas, and applies each period exactly once:
// a seat's reset is a compare-and-set on its cycle_start under the seat's row lock, a pool's on
// its profile's cycle_start, an expiry on the grant's remaining.
import type { Queryable } from '../db/client.ts';
import type { NewGrant, Transfer } from './post.ts';
import { grantIds, post } from './post.ts';
import { cycleAt, daysLeft, type Cycle } from './cycles.ts';
import { grant_columns, loadCatalog, seat_columns, type Catalog, type GrantRow, type LedgerContext, type SeatRow } from './context.ts';
import { invariant } from './errors.ts';
import { reset_seats_per_transaction_max, reset_workers } from './limits.ts';

interface HeldPack {
  id: number;
  seatId: number;
  productKey: string;
  expiresAt: Date | null;
}

const issue = (grant: NewGrant, amount: number): Transfer => ({ from: { system: 'issuance' }, to: { grant }, amount });

/** A full plan grant, or a pro-rated one for a seat that starts mid-cycle when the org says so. */
export function planCredits(credits: number, cycle: Cycle, startsAt: Date, ctx: LedgerContext): number {
  if (ctx.settings.proration !== 'daily' || startsAt.getTime() <= cycle.start.getTime()) return credits;
  const { left, total } = daysLeft(cycle, startsAt, ctx.settings.zone);
  return Math.round((credits * left) / total);
}

/**
 * Moves locked, active seats into the cycle that contains `now`: a seat_cycles row, the plan
 * grant, one grant per recurring pack, one-time packs' remaining carried over, rollover within
 * its cap. Seats already in that cycle are left alone. Returns how many seats moved.
 */
export async function resetLockedSeats(tx: Queryable, ctx: LedgerContext, seats: readonly SeatRow[], now: Date, catalog?: Catalog): Promise<number> {
  // Seats share a handful of anchor days: one cycle computation each.
  const cycles = new Map<number, Cycle>();
  const cycleFor = (anchorDay: number) => {
    let cycle = cycles.get(anchorDay);
    if (!cycle) cycles.set(anchorDay, (cycle = cycleAt(now, anchorDay, ctx.settings.zone)));
    return cycle;
  };
  const due = seats
    .filter((seat) => seat.status === 'active')
    .map((seat) => ({ seat, cycle: cycleFor(seat.anchorDay) }))
    .filter(({ seat, cycle }) => seat.cycleStart.getTime() < cycle.start.getTime());
  if (due.length === 0) return 0;
  const { plans, products } = catalog ?? (await loadCatalog(tx));
  const seatIds = due.map(({ seat }) => seat.id);

  const held = await tx.query<HeldPack>(
    `select id, seat_id as "seatId", product_key as "productKey", expires_at as "expiresAt" from packs where seat_id = any($1::int4[])`,
    [seatIds],
  );
  const packsBySeat = groupBy(held, (p) => p.seatId);
  const carries = [...plans.values(), ...products.values()].some((item) => item.rolloverCap != null) ||
    held.some((p) => products.get(p.productKey)?.kind === 'one_time');
  const oldGrants = carries
    ? await tx.query<GrantRow>(
        `select ${grant_columns} from grants g
         where g.seat_id = any($1::int4[]) and g.remaining > 0 and g.closed_at is null order by g.id`,
        [seatIds],
      )
    : [];
  const oldBySeat = groupBy(oldGrants, (g) => g.seatId!);

  const wanted: Omit<NewGrant, 'id'>[] = [];
  const carried: { from: GrantRow; index: number; amount: number }[] = [];
  for (const { seat, cycle } of due) {
    const plan = plans.get(seat.planKey);
    invariant(plan, `seat ${seat.id} names plan ${seat.planKey}, which is not in the catalog`);
    const base = { seatId: seat.id, profileKey: null, cycleStart: cycle.start, startsAt: cycle.start, expiresAt: cycle.end };
    wanted.push({ ...base, source: 'plan', packId: null, amount: plan.credits });
    const previous = (oldBySeat.get(seat.id) ?? []).filter((g) => g.cycleStart.getTime() === seat.cycleStart.getTime());
    if (plan.rolloverCap != null) {
      // The plan's own credits only: a pack's rollover grant is also 'rollover', and carried by its pack.
      const left = previous.filter((g) => g.packId == null && (g.source === 'plan' || g.source === 'rollover'));
      carryInto(wanted, carried, left, plan.rolloverCap, { ...base, source: 'rollover', packId: null, amount: 0 });
    }
    for (const pack of packsBySeat.get(seat.id) ?? []) {
      const product = products.get(pack.productKey);
      invariant(product, `pack ${pack.id} names product ${pack.productKey}, which is not in the catalog`);
      const fromPack = previous.filter((g) => g.packId === pack.id);
      if (product.kind === 'recurring') {
        wanted.push({ ...base, source: 'pack', packId: pack.id, amount: product.credits });
        if (product.rolloverCap != null) {
          carryInto(wanted, carried, fromPack, product.rolloverCap, { ...base, source: 'rollover', packId: pack.id, amount: 0 });
        }
      } else if (pack.expiresAt && pack.expiresAt.getTime() > cycle.start.getTime()) {
        // A one-time pack lives by its own expiry: what is left crosses the boundary with it.
        const expiresAt = new Date(Math.min(pack.expiresAt.getTime(), cycle.end.getTime()));
        carryInto(wanted, carried, fromPack, Number.MAX_SAFE_INTEGER, { ...base, expiresAt, source: 'pack', packId: pack.id, amount: 0 });
      }
    }
  }

  const ids = await grantIds(tx, wanted.length);
  const newGrants: NewGrant[] = wanted.map((g, i) => ({ ...g, id: ids[i]! }));
  const carryTargets = new Set(carried.map((c) => c.index));
  const issued = newGrants.filter((g, i) => !carryTargets.has(i) && g.amount > 0);
  const transfers: Transfer[] = [
    ...issued.map((grant) => issue(grant, grant.amount)),
    ...carried.map(({ from, index, amount }): Transfer => ({ from: { grant: from }, to: { grant: newGrants[index]! }, amount })),
  ];

  await post(
    tx,
    [{ kind: 'reset', occurredAt: now, transfers }],
    now,
    [...issued, ...newGrants.filter((_, i) => carryTargets.has(i))],
    due.map(({ seat, cycle }) => ({ seatId: seat.id, cycleStart: cycle.start, cycleEnd: cycle.end })),
  );
  const moved = await tx.query(
    `update seats s set cycle_start = d.start, cycle_end = d.end_
     from unnest($1::int4[], $2::timestamptz[], $3::timestamptz[], $4::timestamptz[]) as d(id, previous, start, end_)
     where s.id = d.id and s.id = any($1::int4[]) and s.cycle_start = d.previous returning s.id`,
    [seatIds, due.map(({ seat }) => seat.cycleStart), due.map(({ cycle }) => cycle.start), due.map(({ cycle }) => cycle.end)],
  );
  invariant(moved.length === due.length, 'a locked seat changed cycle under its lock');
  return due.length;
}

/** Plans a carry of up to `cap` credits from `sources` into one new grant, if any are left. */
function carryInto(
  wanted: Omit<NewGrant, 'id'>[],
  carried: { from: GrantRow; index: number; amount: number }[],
  sources: readonly GrantRow[],
  cap: number,
  target: Omit<NewGrant, 'id'>,
): void {
  let room = cap;
  const moves: { from: GrantRow; amount: number }[] = [];
  for (const from of sources) {
    const amount = Math.min(room, from.remaining);
    if (amount <= 0) continue;
    moves.push({ from, amount });
    room -= amount;
  }
  if (moves.length === 0) return;
  const index = wanted.push({ ...target, amount: cap - room }) - 1;
  for (const move of moves) carried.push({ ...move, index });
}

function groupBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, T[]> {
  const groups = new Map<K, T[]>();
  for (const item of items) {
    const list = groups.get(key(item));
    if (list) list.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
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

/** Issues every pool's grant for the org cycle containing `now`, once. */
export async function resetPools(ctx: LedgerContext, now: Date = ctx.now()): Promise<number> {
  return ctx.db.transaction((tx) => resetPoolsIn(tx, ctx, now, null));
}

/** Same, inside a transaction, optionally for some profiles only. */
export async function resetPoolsIn(tx: Queryable, ctx: LedgerContext, now: Date, profileKeys: readonly string[] | null): Promise<number> {
  const cycle = cycleAt(now, ctx.settings.anchorDay, ctx.settings.zone);
  // Wait for a profile another transaction is issuing, never skip it: a usage batch that skipped
  // would not see the new pool grant and book as overage what the pool covers. Once the other
  // commits, the re-checked cycle_start leaves the profile out. Nobody holding a profile lock
  // waits for a seat, so this cannot deadlock with the seats usage locks first.
  const due = await tx.query<{ key: string; poolCredits: number }>(
    `select key, pool_credits as "poolCredits" from profiles
     where pool_credits > 0 and (cycle_start is null or cycle_start < $1) and ($2::text[] is null or key = any($2::text[]))
     order by key for update`,
    [cycle.start, profileKeys],
  );
  if (due.length === 0) return 0;
  const ids = await grantIds(tx, due.length);
  const newGrants: NewGrant[] = due.map((profile, i) => ({
    id: ids[i]!,
    source: 'pool',
    seatId: null,
    packId: null,
    profileKey: profile.key,
    cycleStart: cycle.start,
    startsAt: cycle.start,
    expiresAt: cycle.end,
    amount: profile.poolCredits,
  }));
  await post(tx, [{ kind: 'pool_grant', occurredAt: now, transfers: newGrants.map((g) => issue(g, g.amount)) }], now, newGrants);
  await tx.query(`update profiles set cycle_start = $1 where key = any($2::text[])`, [cycle.start, due.map((p) => p.key)]);
  return due.length;
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
