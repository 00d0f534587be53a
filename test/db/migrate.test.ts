// Upgrading a database created before tools existed: it becomes one tool, `default`, that owns
// everything, and its balances, history and verify read as they did.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openPglite, openPostgres, type Database } from '../../src/db/client.ts';
import { migrate, migrations_folder } from '../../src/db/migrate.ts';
import { barePgliteSnapshot, createPostgresDatabase, describeEachDatabase, postgresUrl, TestClock, testLedger } from '../helpers/db.ts';

/** The migrations as they stood before tools: 0000 to 0002. */
function migrationsBeforeTools(): string {
  const dir = mkdtempSync(join(tmpdir(), 'creditdesk-migrations-'));
  cpSync(migrations_folder, dir, { recursive: true });
  const journalPath = join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
  journal.entries = journal.entries.filter((e) => !e.tag.startsWith('0003') && e.tag < '0003');
  writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}

/**
 * What the single-tool ledger had written for the forum thread's member on 10 May 2026: a Pro seat
 * (4,000), two 2,000 add-on packs, and 1,000 credits used, with every entry and balance row.
 */
const single_tool_ledger = `
  insert into plans (key, name, credits) values ('pro', 'Pro', 4000);
  insert into pack_products (key, name, credits, kind) values ('addon', 'Add-on', 2000, 'recurring');
  insert into members (id, slack_id, email) values (1, 'U0JACOB01', 'jacob@example.com');
  insert into seats (id, member_id, plan_key, anchor_day, status, cycle_start, cycle_end, started_at)
    values (1, 1, 'pro', 1, 'active', '2026-05-01T00:00:00Z', '2026-06-01T00:00:00Z', '2026-05-10T09:00:00Z');
  insert into purchases (id, product_key, quantity, purchased_at) values (1, 'addon', 2, '2026-05-10T09:00:00Z');
  insert into packs (id, purchase_id, product_key, seat_id, assigned_at, granted_until) values
    (1, 1, 'addon', 1, '2026-05-10T09:05:00Z', '2026-06-01T00:00:00Z'),
    (2, 1, 'addon', 1, '2026-05-10T09:06:00Z', '2026-06-01T00:00:00Z');
  insert into grants (id, source, seat_id, pack_id, cycle_start, starts_at, expires_at, amount, remaining) values
    (1, 'plan', 1, null, '2026-05-01T00:00:00Z', '2026-05-01T00:00:00Z', '2026-06-01T00:00:00Z', 4000, 3000),
    (2, 'pack', 1, 1, '2026-05-01T00:00:00Z', '2026-05-01T00:00:00Z', '2026-06-01T00:00:00Z', 2000, 2000),
    (3, 'pack', 1, 2, '2026-05-01T00:00:00Z', '2026-05-01T00:00:00Z', '2026-06-01T00:00:00Z', 2000, 2000);
  select setval(pg_get_serial_sequence('grants', 'id'), 3);
  insert into journal (id, kind, seat_id, cycle_start, occurred_at, created_at, event_key, credits, own_drawn, pool_drawn, overage, feature) values
    (1, 'seat_grant', 1, '2026-05-01T00:00:00Z', '2026-05-10T09:00:00Z', '2026-05-10T09:00:00Z', null, 4000, null, null, null, null),
    (2, 'pack_grant', 1, '2026-05-01T00:00:00Z', '2026-05-10T09:05:00Z', '2026-05-10T09:05:00Z', null, 2000, null, null, null, null),
    (3, 'pack_grant', 1, '2026-05-01T00:00:00Z', '2026-05-10T09:06:00Z', '2026-05-10T09:06:00Z', null, 2000, null, null, null, null),
    (4, 'usage', 1, '2026-05-01T00:00:00Z', '2026-05-10T11:00:00Z', '2026-05-10T11:00:01Z', 'gen-1', 1000, 1000, 0, 0, 'generative fill');
  select setval(pg_get_serial_sequence('journal', 'id'), 4);
  insert into transfers (journal_id, debit_account, debit_grant_id, credit_account, credit_grant_id, amount) values
    (1, 'issuance', null, 'grant', 1, 4000), (2, 'issuance', null, 'grant', 2, 2000),
    (3, 'issuance', null, 'grant', 3, 2000), (4, 'grant', 1, 'consumption', null, 1000);
  insert into seat_cycles (seat_id, cycle_start, cycle_end, quota, remaining, used) values
    (1, '2026-05-01T00:00:00Z', '2026-06-01T00:00:00Z', 8000, 7000, 1000);
`;

describeEachDatabase('upgrading a single-tool database on %s', (kind) => {
  const dirs: string[] = [];
  const dbs: Database[] = [];
  afterAll(async () => {
    for (const db of dbs) await db.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('makes one tool, default, that owns everything, with balances, history and verify unchanged', async () => {
    const db = kind === 'pglite'
      ? await openPglite(undefined, { loadDataDir: await barePgliteSnapshot() })
      : openPostgres(postgresUrl(await createPostgresDatabase({ empty: true })));
    dbs.push(db);
    const before = migrationsBeforeTools();
    dirs.push(before);
    await migrate(db, before);
    for (const statement of single_tool_ledger.split(';').map((s) => s.trim()).filter(Boolean)) await db.query(statement);

    await migrate(db);
    const clock = new TestClock(new Date('2026-05-12T10:00:00Z'));
    const ledger = testLedger(db, clock);
    expect(await ledger.tools()).toMatchObject([{ key: 'default', name: 'AI credits', unit: 'credits', zone: 'UTC', anchorDay: 1 }]);
    const balance = await ledger.balance('U0JACOB01');
    expect(balance).toMatchObject({
      tool: 'default', plan: 'pro', plans: ['pro'], quota: 8000, used: 1000, remaining: 7000, overage: 0,
      cycle: { start: '2026-05-01T00:00:00.000Z', end: '2026-06-01T00:00:00.000Z', name: '2026-05' },
    });
    expect(balance.sources.map((s) => [s.kind, s.name, s.remaining])).toEqual([['plan', 'Pro', 3000], ['pack', 'Add-on', 2000], ['pack', 'Add-on', 2000]]);
    expect((await ledger.history('U0JACOB01')).map((e) => [e.kind, e.credits, e.feature])).toEqual([
      ['usage', 1000, 'generative fill'], ['pack_grant', 2000, null], ['pack_grant', 2000, null], ['seat_grant', 4000, null],
    ]);
    expect((await ledger.verify()).differences).toEqual([]);

    // The upgraded ledger goes on as before: usage with no tool named, a repeat, the next reset.
    expect(await ledger.recordUsage({ id: 'gen-1', user: 'U0JACOB01', credits: 1000 })).toMatchObject({ status: 'duplicate', tool: 'default' });
    expect(await ledger.recordUsage({ id: 'gen-2', user: 'jacob@example.com', credits: 500 })).toMatchObject({ status: 'applied', own: 500 });
    clock.set('2026-06-01T00:00:00Z');
    await ledger.runCycleJobs();
    expect(await ledger.balance('U0JACOB01')).toMatchObject({ quota: 8000, used: 0, remaining: 8000, cycle: { start: '2026-06-01T00:00:00.000Z' } });
    expect((await ledger.verify()).differences).toEqual([]);
  });
});
