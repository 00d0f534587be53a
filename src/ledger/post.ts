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
  | 'reset'
  | 'expiry'
  | 'revoke'
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
        else if (systemOf(from) === 'overage') d.overage += amount;
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
export type NewGrant = Pick<Grant, 'id' | 'source' | 'seatId' | 'packId' | 'profileKey' | 'cycleStart' | 'startsAt' | 'expiresAt' | 'amount'>;

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

  const col = <T>(pick: (entry: Entry) => T | null | undefined) => entries.map((entry) => pick(entry) ?? null);
  const ng = <K extends keyof (typeof created)[number]>(key: K) => created.map((g) => g[key]);
  const sd = <K extends keyof SeatCycleDelta>(key: K) => seatDeltas.map((d) => d[key]);
  const op = <K extends keyof (typeof opened)[number]>(key: K) => opened.map((d) => d[key]);
  const [result] = await tx.query<{ ids: number[]; inserted: number; grantsUpdated: number; seatsUpdated: number }>(
    `with ids as (
       select nextval(pg_get_serial_sequence('journal', 'id')) as id, ord from generate_series(1, $1::int) as ord),
     j as (
       insert into journal (id, kind, seat_id, cycle_start, occurred_at, created_at, actor, reason, event_key,
                            credits, own_drawn, pool_drawn, overage, feature, source)
       select ids.id, e.kind, e.seat_id, e.cycle_start, e.occurred_at, $2, e.actor, e.reason, e.event_key,
              e.credits, e.own_drawn, e.pool_drawn, e.overage, e.feature, e.source
       from unnest($3::text[], $4::int4[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::text[], $9::text[],
                   $10::int8[], $11::int8[], $12::int8[], $13::int8[], $14::text[], $15::text[]) with ordinality
            as e(kind, seat_id, cycle_start, occurred_at, actor, reason, event_key, credits, own_drawn, pool_drawn, overage, feature, source, ord)
       join ids on ids.ord = e.ord
       on conflict (event_key) do nothing
       returning id),
     t as (
       insert into transfers (journal_id, debit_account, debit_grant_id, credit_account, credit_grant_id, amount)
       select ids.id, t.debit_account, t.debit_grant_id, t.credit_account, t.credit_grant_id, t.amount
       from unnest($16::int4[], $17::text[], $18::int8[], $19::text[], $20::int8[], $21::int8[])
            as t(ord, debit_account, debit_grant_id, credit_account, credit_grant_id, amount)
       join ids on ids.ord = t.ord),
     ng as (
       insert into grants (id, source, seat_id, pack_id, profile_key, cycle_start, starts_at, expires_at, amount, remaining, created_at)
       select d.*, $2 from unnest($22::int8[], $23::text[], $24::int4[], $25::int4[], $26::text[], $27::timestamptz[],
                                  $28::timestamptz[], $29::timestamptz[], $30::int8[], $31::int8[])
            as d(id, source, seat_id, pack_id, profile_key, cycle_start, starts_at, expires_at, amount, remaining)),
     gu as (
       -- The check constraint grants_remaining_nonnegative stops any overdraft here as a bug.
       update grants g set remaining = g.remaining + d.delta
       from unnest($32::int8[], $33::int8[]) as d(id, delta)
       where g.id = d.id and g.id = any($32::int8[]) returning 1),
     su as (
       update seat_cycles s set quota = s.quota + d.quota, remaining = s.remaining + d.remaining, used = s.used + d.used,
              pool_used = s.pool_used + d.pool_used, overage = s.overage + d.overage,
              expired = s.expired + d.expired, forfeited = s.forfeited + d.forfeited
       from unnest($34::int4[], $35::timestamptz[], $36::int8[], $37::int8[], $38::int8[], $39::int8[], $40::int8[], $41::int8[], $42::int8[])
            as d(seat_id, cycle_start, quota, remaining, used, pool_used, overage, expired, forfeited)
       where s.seat_id = d.seat_id and s.cycle_start = d.cycle_start and s.seat_id = any($34::int4[]) returning 1),
     so as (
       insert into seat_cycles (seat_id, cycle_start, cycle_end, quota, remaining, used, pool_used, overage, expired, forfeited)
       select * from unnest($46::int4[], $47::timestamptz[], $48::timestamptz[], $49::int8[], $50::int8[], $51::int8[], $52::int8[],
                            $53::int8[], $54::int8[], $55::int8[])
       on conflict (seat_id, cycle_start) do update set quota = seat_cycles.quota + excluded.quota,
         remaining = seat_cycles.remaining + excluded.remaining, used = seat_cycles.used + excluded.used,
         pool_used = seat_cycles.pool_used + excluded.pool_used, overage = seat_cycles.overage + excluded.overage,
         expired = seat_cycles.expired + excluded.expired, forfeited = seat_cycles.forfeited + excluded.forfeited),
     pd as (
       insert into pool_draws (pool_grant_id, seat_id, used)
       select * from unnest($43::int8[], $44::int4[], $45::int8[])
       on conflict (pool_grant_id, seat_id) do update set used = pool_draws.used + excluded.used)
     select (select array_agg(id order by ord) from ids) as ids, (select count(*) from j)::int8 as inserted,
            (select count(*) from gu)::int8 as "grantsUpdated", (select count(*) from su)::int8 as "seatsUpdated"`,
    [
      entries.length,
      now,
      col((e) => e.kind),
      col((e) => e.seatId),
      col((e) => e.cycleStart),
      col((e) => e.occurredAt),
      col((e) => e.actor),
      col((e) => e.reason),
      col((e) => e.eventKey),
      col((e) => e.credits),
      col((e) => e.ownDrawn),
      col((e) => e.poolDrawn),
      col((e) => e.overage),
      col((e) => e.feature),
      col((e) => e.source),
      ords, debitAccounts, debitGrants, creditAccounts, creditGrants, amounts,
      ng('id'), ng('source'), ng('seatId'), ng('packId'), ng('profileKey'), ng('cycleStart'), ng('startsAt'), ng('expiresAt'), ng('amount'), ng('remaining'),
      changed.map(([id]) => id), changed.map(([, delta]) => delta),
      sd('seatId'), sd('cycleStart'), sd('quota'), sd('remaining'), sd('used'), sd('poolUsed'), sd('overage'), sd('expired'), sd('forfeited'),
      draws.map((d) => d.grantId), draws.map((d) => d.seatId), draws.map((d) => d.used),
      op('seatId'), op('cycleStart'), op('cycleEnd'), op('quota'), op('remaining'), op('used'), op('poolUsed'), op('overage'), op('expired'), op('forfeited'),
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
