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
  // whole-table recomputation wants hash joins whatever stale statistics make the planner think.
  // So no query below may need a nested loop (a cross join does): with nested loops off its cost
  // reads as 10^10, and PostgreSQL then compiles the query with LLVM (JIT), a second or more
  // spent even on an empty ledger. Rows are unpivoted with unnest() in the select list instead.
  await db.query('set transaction isolation level repeatable read');
  await db.query('set local enable_nestloop = off');
  const grantDiffs = await db.query<{ key: string; stored: number | null; recomputed: number | null }>(
    `with moved as (
       select credit_grant_id as id, amount from transfers where credit_grant_id is not null
       union all select debit_grant_id, -amount from transfers where debit_grant_id is not null),
     sums as (select id, sum(amount)::int8 as total from moved group by id)
     select coalesce(g.id, s.id)::text as key, g.remaining as stored, coalesce(s.total, 0) as recomputed
     from grants g full join sums s on s.id = g.id
     where g.remaining is distinct from coalesce(s.total, 0) limit $1`,
    [differences_listed_max],
  );

  const seatDiffs = await db.query<{ key: string; quantity: string; stored: number | null; recomputed: number | null }>(
    `with effects as (
       -- debits from a seat's grant
       select g.seat_id, g.cycle_start,
              case when t.credit_account in ('consumption', 'expiry') then 0 else -t.amount end as quota,
              -t.amount as remaining,
              case when t.credit_account = 'consumption' then t.amount else 0 end as used,
              0::int8 as pool_used, 0::int8 as overage,
              case when t.credit_account = 'expiry' then t.amount else 0 end as expired,
              case when t.credit_account = 'forfeit' then t.amount else 0 end as forfeited
       from transfers t join grants g on g.id = t.debit_grant_id where g.seat_id is not null
       union all
       -- credits to a seat's grant
       select g.seat_id, g.cycle_start, t.amount, t.amount, 0, 0, 0, 0,
              case when t.debit_account = 'forfeit' then -t.amount else 0 end
       from transfers t join grants g on g.id = t.credit_grant_id where g.seat_id is not null
       union all
       -- consumption from the pool or as overage (within the tool's budget or beyond it),
       -- reported under the entry's seat and cycle
       select j.seat_id, j.cycle_start, 0, 0, 0,
              case when g.source = 'pool' then t.amount else 0 end,
              case when t.debit_account = 'overage' or g.source = 'budget' then t.amount else 0 end, 0, 0
       from transfers t join journal j on j.id = t.journal_id
       left join grants g on g.id = t.debit_grant_id
       where t.credit_account = 'consumption' and (t.debit_account = 'overage' or g.source in ('pool', 'budget'))),
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
       from pairs)
     select key, quantity, case when missing then null else stored end as stored, recomputed
     from unpivoted where missing or stored is distinct from recomputed
     limit $1`,
    [differences_listed_max],
  );

  // A usage entry's figures against its consumption transfers: the total, and each part by the
  // account it came from (own grants, the pool, the overage account). Checking the parts and the
  // total, not only credits = own + pool + overage, catches a split shifted between the parts.
  // Only entries that differ somewhere are unpivoted, so the common case builds no arrays.
  const usageDiffs = await db.query<{ key: string; quantity: string; stored: number | null; recomputed: number | null }>(
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
    ...grantDiffs.map((d) => ({ what: 'grant remaining', ...d })),
    ...seatDiffs.map((d) => ({ what: `seat cycle ${d.quantity}`, key: d.key, stored: d.stored, recomputed: d.recomputed })),
    ...usageDiffs.map((d) => ({ what: `usage event ${d.quantity}`, key: d.key, stored: d.stored, recomputed: d.recomputed })),
    ...poolDiffs.map((d) => ({ what: 'pool draws', ...d })),
    ...dayDiffs.map((d) => ({ what: `seat day ${d.column}`, key: d.key, stored: d.stored, recomputed: d.recomputed })),
  ];
  return { ok: differences.length === 0, checked: counts!, differences };
}
