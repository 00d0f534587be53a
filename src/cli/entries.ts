// The bench's ledger at size (SPEC "Performance": balance lookups and verify at 10 M entries).
// Replaying 10 M events through the API would take the bench most of an hour, so the history is
// written set-based, as the usage function writes it: per entry one usage journal row and one
// consumption transfer from the seat's plan grant, and the grant and the seat's balance row moved
// by the same totals. The ledger stays balanced: verify finds no difference.
import type { Database } from '../db/client.ts';

/** Entries written per transaction: a few seconds each, so progress shows and memory stays flat. */
const chunk_entries = 1_000_000;

/**
 * Adds 1-credit usage entries until the journal holds `target` usage entries, spread round-robin
 * over the open plan grants of the current cycle (each must keep enough credits: at 100,000
 * seats of 4,000 credits, 10 M entries take 100 credits from each). Entries are dated within the
 * last hour before `now` (not before their cycle's start). Resolves with the number of entries added (0 when there were already
 * `target`). Throws when no grant holds enough credits for its share.
 */
export async function buildEntries(db: Database, target: number, now: Date): Promise<number> {
  const [{ existing }] = (await db.query<{ existing: number }>(`select count(*)::int8 as existing from journal where kind = 'usage'`)) as [{ existing: number }];
  const wanted = Math.max(0, target - existing);
  if (wanted === 0) return 0;
  await db.query(`drop table if exists bench_entry_grants`);
  await db.query(
    `create unlogged table bench_entry_grants as
     select (row_number() over (order by g.seat_id) - 1)::int8 as k, g.id as grant_id, g.seat_id, g.cycle_start, g.remaining
     from grants g join seat_cycles c on c.seat_id = g.seat_id and c.cycle_start = g.cycle_start
     where g.source = 'plan' and g.closed_at is null and c.cycle_end > $1 and c.cycle_start <= $1
       -- grants spent to the last credit (the enforce figure's hot seat) take no share
       and g.remaining >= 1000`,
    [now],
  );
  try {
    await db.query(`create unique index on bench_entry_grants (k)`);
    await db.query(`create unique index on bench_entry_grants (seat_id)`);
    const [{ grants, poorest }] = (await db.query<{ grants: number; poorest: number | null }>(
      `select count(*)::int8 as grants, min(remaining)::int8 as poorest from bench_entry_grants`,
    )) as [{ grants: number; poorest: number | null }];
    const share = Math.ceil(wanted / Math.max(1, grants));
    if (grants === 0 || poorest! < share) {
      throw new Error(`--entries: ${wanted.toLocaleString('en-US')} more entries need ${share} credits from each of ${grants} plan grants; seed more seats`);
    }
    for (let from = existing; from < existing + wanted; from += chunk_entries) {
      const to = Math.min(existing + wanted, from + chunk_entries);
      await db.transaction(async (tx) => {
        await tx.query(
          `with added as (
             insert into journal (kind, seat_id, cycle_start, occurred_at, created_at, event_key, credits, own_drawn, pool_drawn, overage, feature, source, day)
             select 'usage', e.seat_id, e.cycle_start, t.at, $4, 'bench-entry-' || i, 1, 1, 0, 0, 'bench', 'bench', (t.at at time zone 'UTC')::date
             from generate_series($1::int8, $2::int8 - 1) i join bench_entry_grants e on e.k = i % $3
             cross join lateral (select greatest(e.cycle_start, $4::timestamptz - (i % 3600) * interval '1 second') as at) t
             returning id, seat_id)
           insert into transfers (journal_id, debit_account, debit_grant_id, credit_account, amount)
           select a.id, 'grant', e.grant_id, 'consumption', 1 from added a join bench_entry_grants e on e.seat_id = a.seat_id`,
          [from, to, grants, now],
        );
        const moved = `select i % $3 as k, count(*)::int8 as n from generate_series($1::int8, $2::int8 - 1) i group by 1`;
        await tx.query(
          `update grants g set remaining = g.remaining - m.n from (${moved}) m join bench_entry_grants e on e.k = m.k where g.id = e.grant_id`,
          [from, to, grants],
        );
        await tx.query(
          `update seat_cycles c set remaining = c.remaining - m.n, used = c.used + m.n
           from (${moved}) m join bench_entry_grants e on e.k = m.k where c.seat_id = e.seat_id and c.cycle_start = e.cycle_start`,
          [from, to, grants],
        );
      });
    }
    await db.query('analyze journal');
    await db.query('analyze transfers');
    return wanted;
  } finally {
    await db.query(`drop table if exists bench_entry_grants`);
  }
}
