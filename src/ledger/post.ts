// The one writer of the ledger: journal entries, their transfers, and the balance rows they move,
// all in the caller's transaction, in a fixed number of statements however many entries there are.
//
// A transfer moves credits from one account to another, so every entry sums to zero by
// construction. An account is a grant or a system account. How a transfer moves a seat's
// balance row is decided here, in seatCycleEffects, and nowhere else (verify.ts mirrors it).
import { RetryTransaction, type Queryable } from '../db/client.ts';
import type { Grant } from '../db/schema.ts';
import { credits_max } from './limits.ts';
import { invariant } from './errors.ts';

export const system_accounts = ['issuance', 'consumption', 'overage', 'expiry', 'forfeit', 'adjustment'] as const;
export type SystemAccount = (typeof system_accounts)[number];

export type GrantRef = Pick<Grant, 'id' | 'seatId' | 'cycleStart' | 'source'>;
export type Account = { grant: GrantRef } | { system: SystemAccount };

export interface Transfer {
  from: Account;
  to: Account;
  amount: number;
}

export type JournalKind =
  | 'usage'
  | 'seat_grant'
  | 'pack_grant'
  | 'pool_grant'
  | 'budget_grant'
  | 'reset'
  | 'expiry'
  | 'revoke'
  | 'plan_removed'
  | 'restore'
  | 'unassign'
  | 'adjustment'
  | 'correction';

export interface Entry {
  kind: JournalKind;
  occurredAt: Date;
  /** The seat and cycle the entry is reported under (usage, adjustments, revocations). */
  seatId?: number | null;
  cycleStart?: Date | null;
  actor?: string | null;
  reason?: string | null;
  eventKey?: string | null;
  credits?: number | null;
  ownDrawn?: number | null;
  poolDrawn?: number | null;
  overage?: number | null;
  feature?: string | null;
  source?: string | null;
  /** A usage event's day in its tool's zone (YYYY-MM-DD). */
  day?: string | null;
  /** Record mode: credits of the event beyond the seat's daily limit. */
  overDailyLimit?: number | null;
  /** The seat has a daily limit: its seat_days row for `day` moves with this entry. */
  dailyLimited?: boolean;
  transfers: Transfer[];
}

export interface SeatCycleDelta {
  seatId: number;
  cycleStart: Date;
  quota: number;
  remaining: number;
  used: number;
  poolUsed: number;
  overage: number;
  expired: number;
  forfeited: number;
}

const grantOf = (account: Account) => ('grant' in account ? account.grant : null);
const systemOf = (account: Account) => ('system' in account ? account.system : null);

function emptyDelta(seatId: number, cycleStart: Date): SeatCycleDelta {
  return { seatId, cycleStart, quota: 0, remaining: 0, used: 0, poolUsed: 0, overage: 0, expired: 0, forfeited: 0 };
}

/**
 * How entries move seats' balance rows. quota is what came into the seat's grants this cycle
 * less what left them other than by use or expiry; so remaining = quota - used - expired.
 */
export function seatCycleEffects(entries: readonly Entry[]): SeatCycleDelta[] {
  const deltas = new Map<string, SeatCycleDelta>();
  const deltaFor = (seatId: number, cycleStart: Date) => {
    const key = `${seatId}:${cycleStart.getTime()}`;
    let delta = deltas.get(key);
    if (!delta) deltas.set(key, (delta = emptyDelta(seatId, cycleStart)));
    return delta;
  };
  for (const entry of entries) {
    for (const { from, to, amount } of entry.transfers) {
      const fromGrant = grantOf(from);
      const toGrant = grantOf(to);
      const toSystem = systemOf(to);
      if (fromGrant?.seatId != null) {
        const d = deltaFor(fromGrant.seatId, fromGrant.cycleStart);
        d.remaining -= amount;
        if (toSystem === 'consumption') d.used += amount;
        else if (toSystem === 'expiry') d.expired += amount;
        else {
          d.quota -= amount;
          if (toSystem === 'forfeit') d.forfeited += amount;
        }
      }
      if (toGrant?.seatId != null) {
        const d = deltaFor(toGrant.seatId, toGrant.cycleStart);
        d.remaining += amount;
        d.quota += amount;
        if (systemOf(from) === 'forfeit') d.forfeited -= amount;
      }
      if (toSystem === 'consumption' && fromGrant?.seatId == null) {
        invariant(entry.seatId != null && entry.cycleStart != null, 'consumption outside a seat needs the entry seat');
        const d = deltaFor(entry.seatId, entry.cycleStart);
        if (fromGrant?.source === 'pool') d.poolUsed += amount;
        // Overage is what goes beyond own credits and pool, within the tool's budget or not.
        else if (fromGrant?.source === 'budget' || systemOf(from) === 'overage') d.overage += amount;
        else invariant(false, `consumption from ${JSON.stringify(from)} has no seat row`);
      }
    }
  }
  return [...deltas.values()];
}

function assertBalanced(entry: Entry): void {
  for (const t of entry.transfers) {
    invariant(Number.isSafeInteger(t.amount) && t.amount > 0 && t.amount <= credits_max, `transfer amount ${t.amount} is not a positive whole number`);
    const fromKey = grantOf(t.from)?.id ?? systemOf(t.from);
    const toKey = grantOf(t.to)?.id ?? systemOf(t.to);
    invariant(fromKey !== toKey, `transfer from ${fromKey} to itself`);
  }
}

const accountName = (account: Account) => ('grant' in account ? 'grant' : account.system);

/** A grant created by the entries being posted; its remaining is what they transfer into it. */
export type NewGrant = Pick<Grant, 'id' | 'source' | 'seatId' | 'packId' | 'profileKey' | 'planKey' | 'toolKey' | 'cycleStart' | 'startsAt' | 'expiresAt' | 'amount'>;

/** Ids for grants about to be created, so entries can name them before they exist. */
export async function grantIds(tx: Queryable, count: number): Promise<number[]> {
  if (count === 0) return [];
  const rows = await tx.query<{ id: number }>(
    `select nextval(pg_get_serial_sequence('grants', 'id')) as id from generate_series(1, $1)`,
    [count],
  );
  return rows.map((row) => row.id);
}

/**
 * Writes entries and moves grants, seat balance rows and pool draws; returns the journal ids.
 * Grants in newGrants are inserted here, holding what the entries transfer into them.
 * One statement, one round trip: data-modifying CTEs over unnest()ed arrays.
 */
export async function post(
  tx: Queryable,
  entries: readonly Entry[],
  now: Date,
  newGrants: readonly NewGrant[] = [],
  /** Seat cycles that start with these entries: their balance rows are inserted here, not updated. */
  newCycles: readonly { seatId: number; cycleStart: Date; cycleEnd: Date }[] = [],
): Promise<number[]> {
  if (entries.length === 0) {
    invariant(newGrants.length === 0, 'new grants without entries');
    return [];
  }
  entries.forEach(assertBalanced);

  const ords: number[] = [];
  const debitAccounts: string[] = [];
  const debitGrants: (number | null)[] = [];
  const creditAccounts: string[] = [];
  const creditGrants: (number | null)[] = [];
  const amounts: number[] = [];
  const grantDeltas = new Map<number, number>();
  const poolDraws = new Map<string, { grantId: number; seatId: number; used: number }>();
  entries.forEach((entry, i) => {
    for (const t of entry.transfers) {
      ords.push(i + 1);
      debitAccounts.push(accountName(t.from));
      creditAccounts.push(accountName(t.to));
      const fromGrant = grantOf(t.from);
      const toGrant = grantOf(t.to);
      debitGrants.push(fromGrant?.id ?? null);
      creditGrants.push(toGrant?.id ?? null);
      amounts.push(t.amount);
      if (fromGrant) grantDeltas.set(fromGrant.id, (grantDeltas.get(fromGrant.id) ?? 0) - t.amount);
      if (toGrant) grantDeltas.set(toGrant.id, (grantDeltas.get(toGrant.id) ?? 0) + t.amount);
      if (fromGrant?.source === 'pool' && systemOf(t.to) === 'consumption') {
        const key = `${fromGrant.id}:${entry.seatId}`;
        const draw = poolDraws.get(key) ?? { grantId: fromGrant.id, seatId: entry.seatId!, used: 0 };
        draw.used += t.amount;
        poolDraws.set(key, draw);
      }
    }
  });
  // A new grant is inserted holding what it receives; the rest are updated in place.
  const created = newGrants.map((g) => ({ ...g, remaining: grantDeltas.get(g.id) ?? 0 }));
  for (const g of newGrants) grantDeltas.delete(g.id);
  const changed = [...grantDeltas].filter(([, delta]) => delta !== 0);
  const cycleKey = (seatId: number, cycleStart: Date) => `${seatId}:${cycleStart.getTime()}`;
  const opening = new Map(newCycles.map((c) => [cycleKey(c.seatId, c.cycleStart), { ...emptyDelta(c.seatId, c.cycleStart), cycleEnd: c.cycleEnd }]));
  const seatDeltas: SeatCycleDelta[] = [];
  for (const delta of seatCycleEffects(entries)) {
    const open = opening.get(cycleKey(delta.seatId, delta.cycleStart));
    if (open) Object.assign(open, delta);
    else seatDeltas.push(delta);
  }
  const opened = [...opening.values()];
  const draws = [...poolDraws.values()];
  const days = new Map<string, { seat_id: number; day: string; used: number; over_limit: number }>();
  for (const e of entries) {
    if (!e.dailyLimited || e.kind !== 'usage') continue;
    invariant(e.seatId != null && e.day != null, 'a daily-limited usage entry needs its seat and day');
    const key = `${e.seatId}:${e.day}`;
    const row = days.get(key) ?? { seat_id: e.seatId, day: e.day, used: 0, over_limit: 0 };
    row.used += e.credits ?? 0;
    row.over_limit += e.overDailyLimit ?? 0;
    days.set(key, row);
  }

  // Each set of rows travels as one JSON parameter: JSON.stringify is native and PostgreSQL
  // parses it in C, where node-postgres would escape every array element in JavaScript.
  const journalRows = entries.map((e, i) => ({
    ord: i + 1, kind: e.kind, seat_id: e.seatId ?? null, cycle_start: e.cycleStart ?? null, occurred_at: e.occurredAt,
    actor: e.actor ?? null, reason: e.reason ?? null, event_key: e.eventKey ?? null, credits: e.credits ?? null,
    own_drawn: e.ownDrawn ?? null, pool_drawn: e.poolDrawn ?? null, overage: e.overage ?? null, feature: e.feature ?? null,
    source: e.source ?? null, day: e.day ?? null, over_daily_limit: e.overDailyLimit ?? null,
  }));
  const transferRows = ords.map((ord, i) => ({
    ord, debit_account: debitAccounts[i], debit_grant_id: debitGrants[i], credit_account: creditAccounts[i],
    credit_grant_id: creditGrants[i], amount: amounts[i],
  }));
  const grantRows = created.map((g) => ({
    id: g.id, source: g.source, seat_id: g.seatId, pack_id: g.packId, profile_key: g.profileKey, plan_key: g.planKey, tool_key: g.toolKey,
    cycle_start: g.cycleStart, starts_at: g.startsAt, expires_at: g.expiresAt, amount: g.amount, remaining: g.remaining,
  }));
  const seatRow = (d: SeatCycleDelta) => ({
    seat_id: d.seatId, cycle_start: d.cycleStart, quota: d.quota, remaining: d.remaining, used: d.used, pool_used: d.poolUsed,
    overage: d.overage, expired: d.expired, forfeited: d.forfeited,
  });
  const [result] = await tx.query<{ ids: number[]; inserted: number; grantsUpdated: number; seatsUpdated: number }>(
    `with ids as (
       select nextval(pg_get_serial_sequence('journal', 'id')) as id, ord from generate_series(1, $1::int) as ord),
     j as (
       insert into journal (id, kind, seat_id, cycle_start, occurred_at, created_at, actor, reason, event_key,
                            credits, own_drawn, pool_drawn, overage, feature, source, day, over_daily_limit)
       select ids.id, e.kind, e.seat_id, e.cycle_start, e.occurred_at, $2, e.actor, e.reason, e.event_key,
              e.credits, e.own_drawn, e.pool_drawn, e.overage, e.feature, e.source, e.day, e.over_daily_limit
       from json_to_recordset($3::json) as e(ord int, kind text, seat_id int4, cycle_start timestamptz, occurred_at timestamptz,
              actor text, reason text, event_key text, credits int8, own_drawn int8, pool_drawn int8, overage int8, feature text, source text,
              day date, over_daily_limit int8)
       join ids on ids.ord = e.ord
       on conflict (event_key) do nothing
       returning id),
     t as (
       insert into transfers (journal_id, debit_account, debit_grant_id, credit_account, credit_grant_id, amount)
       select ids.id, t.debit_account, t.debit_grant_id, t.credit_account, t.credit_grant_id, t.amount
       from json_to_recordset($4::json) as t(ord int, debit_account text, debit_grant_id int8, credit_account text, credit_grant_id int8, amount int8)
       join ids on ids.ord = t.ord),
     ng as (
       insert into grants (id, source, seat_id, pack_id, profile_key, plan_key, tool_key, cycle_start, starts_at, expires_at, amount, remaining, created_at)
       select d.*, $2 from json_to_recordset($5::json) as d(id int8, source text, seat_id int4, pack_id int4, profile_key text,
              plan_key text, tool_key text, cycle_start timestamptz, starts_at timestamptz, expires_at timestamptz, amount int8, remaining int8)),
     gu as (
       -- The check constraint grants_remaining_nonnegative stops any overdraft here as a bug.
       update grants g set remaining = g.remaining + d.delta
       from unnest($6::int8[], $7::int8[]) as d(id, delta)
       where g.id = d.id and g.id = any($6::int8[]) returning 1),
     su as (
       update seat_cycles s set quota = s.quota + d.quota, remaining = s.remaining + d.remaining, used = s.used + d.used,
              pool_used = s.pool_used + d.pool_used, overage = s.overage + d.overage,
              expired = s.expired + d.expired, forfeited = s.forfeited + d.forfeited
       from json_to_recordset($8::json) as d(seat_id int4, cycle_start timestamptz, quota int8, remaining int8, used int8,
              pool_used int8, overage int8, expired int8, forfeited int8)
       where s.seat_id = d.seat_id and s.cycle_start = d.cycle_start and s.seat_id = any($9::int4[]) returning 1),
     so as (
       insert into seat_cycles (seat_id, cycle_start, cycle_end, quota, remaining, used, pool_used, overage, expired, forfeited)
       select d.seat_id, d.cycle_start, d.cycle_end, d.quota, d.remaining, d.used, d.pool_used, d.overage, d.expired, d.forfeited
       from json_to_recordset($10::json) as d(seat_id int4, cycle_start timestamptz, cycle_end timestamptz, quota int8, remaining int8,
              used int8, pool_used int8, overage int8, expired int8, forfeited int8)
       on conflict (seat_id, cycle_start) do update set quota = seat_cycles.quota + excluded.quota,
         remaining = seat_cycles.remaining + excluded.remaining, used = seat_cycles.used + excluded.used,
         pool_used = seat_cycles.pool_used + excluded.pool_used, overage = seat_cycles.overage + excluded.overage,
         expired = seat_cycles.expired + excluded.expired, forfeited = seat_cycles.forfeited + excluded.forfeited),
     pd as (
       insert into pool_draws (pool_grant_id, seat_id, used)
       select * from unnest($11::int8[], $12::int4[], $13::int8[])
       on conflict (pool_grant_id, seat_id) do update set used = pool_draws.used + excluded.used),
     sd as (
       insert into seat_days (seat_id, day, used, over_limit)
       select d.seat_id, d.day, d.used, d.over_limit from json_to_recordset($14::json) as d(seat_id int4, day date, used int8, over_limit int8)
       on conflict (seat_id, day) do update set used = seat_days.used + excluded.used, over_limit = seat_days.over_limit + excluded.over_limit)
     select (select array_agg(id order by ord) from ids) as ids, (select count(*) from j)::int8 as inserted,
            (select count(*) from gu)::int8 as "grantsUpdated", (select count(*) from su)::int8 as "seatsUpdated"`,
    [
      entries.length,
      now,
      JSON.stringify(journalRows),
      JSON.stringify(transferRows),
      JSON.stringify(grantRows),
      changed.map(([id]) => id),
      changed.map(([, delta]) => delta),
      JSON.stringify(seatDeltas.map(seatRow)),
      seatDeltas.map((d) => d.seatId),
      JSON.stringify(opened.map((d) => ({ ...seatRow(d), cycle_end: d.cycleEnd }))),
      draws.map((d) => d.grantId),
      draws.map((d) => d.seatId),
      draws.map((d) => d.used),
      JSON.stringify([...days.values()]),
    ],
  );
  if (result!.inserted !== entries.length) {
    // Another transaction wrote one of these event ids first; run again to see it as a duplicate.
    throw new RetryTransaction('an event id was written concurrently');
  }
  invariant(result!.grantsUpdated === changed.length, 'a transfer names a grant that does not exist');
  invariant(result!.seatsUpdated === seatDeltas.length, 'a transfer moves a seat cycle that has no balance row');
  return result!.ids;
}
