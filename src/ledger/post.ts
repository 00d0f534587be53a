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
 */
export async function post(tx: Queryable, entries: readonly Entry[], now: Date, newGrants: readonly NewGrant[] = []): Promise<number[]> {
  if (entries.length === 0) {
    invariant(newGrants.length === 0, 'new grants without entries');
    return [];
  }
  entries.forEach(assertBalanced);

  const ids = (
    await tx.query<{ id: number }>(`select nextval(pg_get_serial_sequence('journal', 'id')) as id from generate_series(1, $1)`, [entries.length])
  ).map((row) => row.id);

  const col = <T>(pick: (entry: Entry) => T | null | undefined) => entries.map((entry) => pick(entry) ?? null);
  const inserted = await tx.query<{ id: number }>(
    `insert into journal (id, kind, seat_id, cycle_start, occurred_at, created_at, actor, reason, event_key,
                          credits, own_drawn, pool_drawn, overage, feature, source)
     select * from unnest($1::int8[], $2::text[], $3::int4[], $4::timestamptz[], $5::timestamptz[], $6::timestamptz[],
                          $7::text[], $8::text[], $9::text[], $10::int8[], $11::int8[], $12::int8[], $13::int8[], $14::text[], $15::text[])
     on conflict (event_key) do nothing
     returning id`,
    [
      ids,
      col((e) => e.kind),
      col((e) => e.seatId),
      col((e) => e.cycleStart),
      col((e) => e.occurredAt),
      entries.map(() => now),
      col((e) => e.actor),
      col((e) => e.reason),
      col((e) => e.eventKey),
      col((e) => e.credits),
      col((e) => e.ownDrawn),
      col((e) => e.poolDrawn),
      col((e) => e.overage),
      col((e) => e.feature),
      col((e) => e.source),
    ],
  );
  if (inserted.length !== entries.length) {
    // Another transaction wrote one of these event ids first; run again to see it as a duplicate.
    throw new RetryTransaction('an event id was written concurrently');
  }

  const journalIds: number[] = [];
  const debitAccounts: string[] = [];
  const debitGrants: (number | null)[] = [];
  const creditAccounts: string[] = [];
  const creditGrants: (number | null)[] = [];
  const amounts: number[] = [];
  const grantDeltas = new Map<number, number>();
  const poolDraws = new Map<string, { grantId: number; seatId: number; used: number }>();
  entries.forEach((entry, i) => {
    for (const t of entry.transfers) {
      journalIds.push(ids[i]!);
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

  if (amounts.length > 0) {
    await tx.query(
      `insert into transfers (journal_id, debit_account, debit_grant_id, credit_account, credit_grant_id, amount)
       select * from unnest($1::int8[], $2::text[], $3::int8[], $4::text[], $5::int8[], $6::int8[])`,
      [journalIds, debitAccounts, debitGrants, creditAccounts, creditGrants, amounts],
    );
  }

  if (newGrants.length > 0) {
    const c = <K extends keyof NewGrant>(key: K) => newGrants.map((g) => g[key]);
    await tx.query(
      `insert into grants (id, source, seat_id, pack_id, profile_key, cycle_start, starts_at, expires_at, amount, remaining, created_at)
       select d.*, $11::timestamptz from unnest($1::int8[], $2::text[], $3::int4[], $4::int4[], $5::text[], $6::timestamptz[],
                          $7::timestamptz[], $8::timestamptz[], $9::int8[], $10::int8[])
            as d(id, source, seat_id, pack_id, profile_key, cycle_start, starts_at, expires_at, amount, remaining)`,
      [c('id'), c('source'), c('seatId'), c('packId'), c('profileKey'), c('cycleStart'), c('startsAt'), c('expiresAt'), c('amount'),
        newGrants.map((g) => grantDeltas.get(g.id) ?? 0), now],
    );
    for (const g of newGrants) grantDeltas.delete(g.id);
  }

  const changed = [...grantDeltas].filter(([, delta]) => delta !== 0);
  if (changed.length > 0) {
    // The check constraint grants_remaining_nonnegative stops any overdraft here as a bug.
    const updated = await tx.query(
      `update grants g set remaining = g.remaining + d.delta
       from unnest($1::int8[], $2::int8[]) as d(id, delta) where g.id = d.id returning g.id`,
      [changed.map(([id]) => id), changed.map(([, delta]) => delta)],
    );
    invariant(updated.length === changed.length, 'a transfer names a grant that does not exist');
  }

  const seatDeltas = seatCycleEffects(entries);
  if (seatDeltas.length > 0) {
    const c = <K extends keyof SeatCycleDelta>(key: K) => seatDeltas.map((d) => d[key]);
    const updated = await tx.query(
      `update seat_cycles s set quota = s.quota + d.quota, remaining = s.remaining + d.remaining, used = s.used + d.used,
              pool_used = s.pool_used + d.pool_used, overage = s.overage + d.overage,
              expired = s.expired + d.expired, forfeited = s.forfeited + d.forfeited
       from unnest($1::int4[], $2::timestamptz[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::int8[])
            as d(seat_id, cycle_start, quota, remaining, used, pool_used, overage, expired, forfeited)
       where s.seat_id = d.seat_id and s.cycle_start = d.cycle_start returning s.seat_id`,
      [c('seatId'), c('cycleStart'), c('quota'), c('remaining'), c('used'), c('poolUsed'), c('overage'), c('expired'), c('forfeited')],
    );
    invariant(updated.length === seatDeltas.length, 'a transfer moves a seat cycle that has no balance row');
  }

  if (poolDraws.size > 0) {
    const draws = [...poolDraws.values()];
    await tx.query(
      `insert into pool_draws (pool_grant_id, seat_id, used)
       select * from unnest($1::int8[], $2::int4[], $3::int8[])
       on conflict (pool_grant_id, seat_id) do update set used = pool_draws.used + excluded.used`,
      [draws.map((d) => d.grantId), draws.map((d) => d.seatId), draws.map((d) => d.used)],
    );
  }
  return ids;
}
