// verify: recompute every balance from the transfers and report each difference. The rules for
// seat balance rows mirror seatCycleEffects in post.ts; the property test holds the two together.
// Checked: each grant's remaining; each seat cycle's quota, remaining, used, pool_used, overage,
// expired and forfeited; each member's pool draws; each usage entry's credits, own_drawn,
// pool_drawn and overage (within the tool's budget or beyond it) against its consumption transfers. An entry needs no sum-to-zero check:
// a transfer row is one debit and one credit of one positive amount, so it balances by the schema.
import type { Queryable } from '../db/client.ts';
import type { LedgerContext } from './context.ts';

export interface Difference {
  what: string;
  key: string;
  stored: number | null;
  recomputed: number | null;
}

export interface VerifyReport {
  ok: boolean;
  checked: { grants: number; seatCycles: number; usageEntries: number; transfers: number };
  differences: Difference[];
}

/** Differences listed in a report; there is a bug if there is one, so a handful says enough. */
const differences_listed_max = 100;

export async function verify(ctx: LedgerContext): Promise<VerifyReport> {
  return ctx.db.transaction((tx) => verifyIn(tx));
}

async function verifyIn(db: Queryable): Promise<VerifyReport> {
  // One snapshot for every check, so writes landing meanwhile cannot show as differences. And
  // whole-table recomputation wants hash joins whatever stale statistics make the planner think:
  // nested loops off. No query below needs one (a cross join would, and a lookup by key is a
  // scalar subquery, not a join), and JIT off: a plan costed that way would otherwise be compiled
  // with LLVM, a second or more even on an empty ledger. A little more memory per hash table
  // keeps the aggregates off the disk at 10 M entries.
  await db.query('set transaction isolation level repeatable read');
  await db.query('set local enable_nestloop = off');
  await db.query('set local jit = off');
  await db.query(`set local work_mem = '64MB'`);
  // Grants and seat balance rows from one pass over the transfers: they are first summed per
  // (from, to) pair, a few rows per grant however many entries there are, and only those sums
  // meet the grants. Consumption from the pool or as overage counts under its entry's seat and
  // cycle, looked up by key for those transfers only.
  const grantAndSeatDiffs = await db.query<{ what: string; key: string; quantity: string; stored: number | null; recomputed: number | null }>(
    `with moved as materialized (
       select debit_account, debit_grant_id, credit_account, credit_grant_id, sum(amount)::int8 as amount
       from transfers group by 1, 2, 3, 4),
     grant_sums as (
       select id, sum(amount)::int8 as total
       from (select credit_grant_id as id, amount from moved where credit_grant_id is not null
             union all select debit_grant_id, -amount from moved where debit_grant_id is not null) m
       group by id),
     grant_diffs as (
       select 'grant remaining' as what, coalesce(g.id, s.id)::text as key, '' as quantity, g.remaining as stored, coalesce(s.total, 0) as recomputed
       from grants g full join grant_sums s on s.id = g.id
       where g.remaining is distinct from coalesce(s.total, 0) limit $1),
     effects as (
       -- debits from a seat's grant
       select g.seat_id, g.cycle_start,
              case when m.credit_account in ('consumption', 'expiry') then 0 else -m.amount end as quota,
              -m.amount as remaining,
              case when m.credit_account = 'consumption' then m.amount else 0 end as used,
              0::int8 as pool_used, 0::int8 as overage,
              case when m.credit_account = 'expiry' then m.amount else 0 end as expired,
              case when m.credit_account = 'forfeit' then m.amount else 0 end as forfeited
       from moved m join grants g on g.id = m.debit_grant_id where g.seat_id is not null
       union all
       -- credits to a seat's grant
       select g.seat_id, g.cycle_start, m.amount, m.amount, 0, 0, 0, 0,
              case when m.debit_account = 'forfeit' then -m.amount else 0 end
       from moved m join grants g on g.id = m.credit_grant_id where g.seat_id is not null
       union all
       -- consumption from the pool or as overage (within the tool's budget or beyond it),
       -- reported under the entry's seat and cycle
       select (select j.seat_id from journal j where j.id = x.journal_id), (select j.cycle_start from journal j where j.id = x.journal_id),
              0, 0, 0, x.pool, x.overage, 0, 0
       from (select t.journal_id, case when g.source = 'pool' then t.amount else 0 end as pool,
                    case when t.debit_account = 'overage' or g.source = 'budget' then t.amount else 0 end as overage
             from transfers t left join grants g on g.id = t.debit_grant_id
             where t.credit_account = 'consumption' and (t.debit_account = 'overage' or g.source in ('pool', 'budget'))) x),
     sums as (
       select seat_id, cycle_start, sum(quota)::int8 as quota, sum(remaining)::int8 as remaining, sum(used)::int8 as used,
              sum(pool_used)::int8 as pool_used, sum(overage)::int8 as overage, sum(expired)::int8 as expired,
              sum(forfeited)::int8 as forfeited
       from effects group by seat_id, cycle_start),
     pairs as (
       select coalesce(sc.seat_id, s.seat_id) || ' ' || to_char(coalesce(sc.cycle_start, s.cycle_start) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI"Z"') as key,
              array[sc.quota, sc.remaining, sc.used, sc.pool_used, sc.overage, sc.expired, sc.forfeited] as stored,
              array[coalesce(s.quota, 0), coalesce(s.remaining, 0), coalesce(s.used, 0), coalesce(s.pool_used, 0),
                    coalesce(s.overage, 0), coalesce(s.expired, 0), coalesce(s.forfeited, 0)] as recomputed,
              sc.seat_id is null as missing
       from seat_cycles sc full join sums s on s.seat_id = sc.seat_id and s.cycle_start = sc.cycle_start),
     unpivoted as (
       select key, missing, unnest(array['quota', 'remaining', 'used', 'pool_used', 'overage', 'expired', 'forfeited']) as quantity,
              unnest(stored) as stored, unnest(recomputed) as recomputed
       from pairs),
     seat_diffs as (
       select 'seat cycle' as what, key, quantity, case when missing then null else stored end as stored, recomputed
       from unpivoted where missing or stored is distinct from recomputed
       limit $1)
     select * from grant_diffs union all select * from seat_diffs`,
    [differences_listed_max],
  );
  const grantDiffs = grantAndSeatDiffs.filter((d) => d.what === 'grant remaining');
  const seatDiffs = grantAndSeatDiffs.filter((d) => d.what === 'seat cycle');

  // A usage entry's figures against its consumption transfers: the total, and each part by the
  // account it came from (own grants, the pool, the overage account). Checking the parts and the
  // total, not only credits = own + pool + overage, catches a split shifted between the parts.
  //
  // First in one streaming pass, without grouping 10 M entries: each side summed with a weight
  // per entry, w(id) = an odd 20-bit hash of the entry id. A difference d in one entry changes a
  // sum by d·w(id), never 0 (w is odd), so one wrong entry always shows; several cancelling out
  // would need their differences to sum to 0 under these weights (about 1 in a million for
  // arbitrary ones), and the unweighted total is compared too. Only when a sum differs are the
  // entries compared one by one, to list which. Products stay within int8 (10^12 credits × 2^20).
  const [sums] = await db.query<{ journal: string | null; transfers: string | null }>(
    `select (select array[sum(w * credits), sum(w * own_drawn), sum(w * pool_drawn), sum(w * overage), sum(credits),
                          count(*) filter (where credits is distinct from own_drawn + pool_drawn + overage)]::text
             from (select ((hashint8(id) & 1048575) | 1)::int8 as w, credits, own_drawn, pool_drawn, overage
                   from journal where kind = 'usage') j) as journal,
            (select array[sum(w * amount), sum(w * amount) filter (where own), sum(w * amount) filter (where pool),
                          sum(w * amount) filter (where overage), sum(amount), 0]::text
             from (select ((hashint8(t.journal_id) & 1048575) | 1)::int8 as w, t.amount,
                          t.debit_account = 'grant' and g.source not in ('pool', 'budget') as own,
                          g.source is not distinct from 'pool' as pool,
                          -- overage within the tool's budget is drawn from its budget grant (SPEC "Overage budget")
                          t.debit_account = 'overage' or g.source is not distinct from 'budget' as overage
                   from transfers t left join grants g on g.id = t.debit_grant_id
                   where t.credit_account = 'consumption') t) as transfers`,
  );
  // Sums over no rows are null; an empty ledger and an empty side match as zeros.
  const zeroed = (text: string | null) => (text ?? '').replace(/NULL/g, '0');
  const usageDiffs = zeroed(sums!.journal) === zeroed(sums!.transfers) ? [] : await usageEntryDiffs(db);

  const poolDiffs = await db.query<{ key: string; stored: number | null; recomputed: number | null }>(
    `with sums as (
       select t.debit_grant_id as grant_id, j.seat_id, sum(t.amount)::int8 as used
       from transfers t join journal j on j.id = t.journal_id join grants g on g.id = t.debit_grant_id
       where g.source = 'pool' and t.credit_account = 'consumption' group by 1, 2)
     select coalesce(d.pool_grant_id, s.grant_id) || ' ' || coalesce(d.seat_id, s.seat_id) as key, d.used as stored, s.used as recomputed
     from pool_draws d full join sums s on s.grant_id = d.pool_grant_id and s.seat_id = d.seat_id
     where d.used is distinct from s.used limit $1`,
    [differences_listed_max],
  );

  // Daily-limit rows: what each seat used (and used beyond its limit) on a day of its tool's zone.
  const dayDiffs = await db.query<{ key: string; column: string; stored: number | null; recomputed: number | null }>(
    `with sums as (
       select j.seat_id, j.day, sum(j.credits)::int8 as used, coalesce(sum(j.over_daily_limit), 0)::int8 as over_limit
       from journal j where j.kind = 'usage' and j.day is not null
         and exists (select 1 from seat_days d where d.seat_id = j.seat_id and d.day = j.day)
       group by j.seat_id, j.day)
     select d.seat_id || ' ' || d.day as key, c.name as column,
            case c.name when 'used' then d.used else d.over_limit end as stored,
            case c.name when 'used' then coalesce(s.used, 0) else coalesce(s.over_limit, 0) end as recomputed
     from seat_days d left join sums s on s.seat_id = d.seat_id and s.day = d.day
     cross join (values ('used'), ('over_limit')) as c(name)
     where case c.name when 'used' then d.used is distinct from coalesce(s.used, 0)
                       else d.over_limit is distinct from coalesce(s.over_limit, 0) end
     limit $1`,
    [differences_listed_max],
  );

  const [counts] = await db.query<{ grants: number; seatCycles: number; usageEntries: number; transfers: number }>(
    `select (select count(*) from grants)::int8 as grants, (select count(*) from seat_cycles)::int8 as "seatCycles",
            (select count(*) from journal where kind = 'usage')::int8 as "usageEntries", (select count(*) from transfers)::int8 as transfers`,
  );
  const differences: Difference[] = [
    ...grantDiffs.map((d) => ({ what: d.what, key: d.key, stored: d.stored, recomputed: d.recomputed })),
    ...seatDiffs.map((d) => ({ what: `seat cycle ${d.quantity}`, key: d.key, stored: d.stored, recomputed: d.recomputed })),
    ...usageDiffs.map((d) => ({ what: `usage event ${d.quantity}`, key: d.key, stored: d.stored, recomputed: d.recomputed })),
    ...poolDiffs.map((d) => ({ what: 'pool draws', ...d })),
    ...dayDiffs.map((d) => ({ what: `seat day ${d.column}`, key: d.key, stored: d.stored, recomputed: d.recomputed })),
  ];
  return { ok: differences.length === 0, checked: counts!, differences };
}

/** Each usage entry whose figures differ from its consumption transfers, up to the listed maximum. */
async function usageEntryDiffs(db: Queryable): Promise<{ key: string; quantity: string; stored: number | null; recomputed: number | null }[]> {
  return db.query<{ key: string; quantity: string; stored: number | null; recomputed: number | null }>(
    `with consumed as materialized (
       select t.journal_id, sum(t.amount)::int8 as total,
              coalesce(sum(t.amount) filter (where t.debit_account = 'grant' and g.source not in ('pool', 'budget')), 0)::int8 as own,
              coalesce(sum(t.amount) filter (where g.source = 'pool'), 0)::int8 as pool,
              -- overage within the tool's budget is drawn from its budget grant (SPEC "Overage budget")
              coalesce(sum(t.amount) filter (where t.debit_account = 'overage' or g.source = 'budget'), 0)::int8 as overage
       from transfers t left join grants g on g.id = t.debit_grant_id
       where t.credit_account = 'consumption' group by t.journal_id),
     differing as (
       select j.event_key as key, j.credits, j.own_drawn, j.pool_drawn, j.overage,
              coalesce(c.total, 0) as total, coalesce(c.own, 0) as own, coalesce(c.pool, 0) as pool, coalesce(c.overage, 0) as overage_drawn
       from journal j left join consumed c on c.journal_id = j.id
       where j.kind = 'usage'
         and (j.credits is distinct from coalesce(c.total, 0) or j.own_drawn is distinct from coalesce(c.own, 0)
              or j.pool_drawn is distinct from coalesce(c.pool, 0) or j.overage is distinct from coalesce(c.overage, 0)
              or j.credits is distinct from j.own_drawn + j.pool_drawn + j.overage)
       limit $1),
     unpivoted as (
       select key, unnest(array['credits', 'own_drawn', 'pool_drawn', 'overage', 'credits = own + pool + overage']) as quantity,
              unnest(array[credits, own_drawn, pool_drawn, overage, credits]) as stored,
              unnest(array[total, own, pool, overage_drawn, own_drawn + pool_drawn + overage]) as recomputed
       from differing)
     select key, quantity, stored, recomputed from unpivoted where stored is distinct from recomputed
     limit $1`,
    [differences_listed_max],
  );
}
