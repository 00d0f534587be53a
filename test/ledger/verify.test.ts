// verify as an auditor relies on it: a balance row, grant, usage entry or pool draw that no longer
// matches the entries is named with what is stored and what the entries say, and the command fails.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPglite } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { database_kinds, TestClock, testLedger } from '../helpers/db.ts';
import { expectVerified, use, useLedger } from '../helpers/ledger-harness.ts';

describe.each(database_kinds)('verify on %s', (kind) => {
  const h = useLedger(kind);

  /** Jacob holds a 4,000 plan in the Design profile, whose 1,000 pool he has drawn 500 from. */
  const setup = async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putProfile('design', { name: 'Design', poolCredits: 1000 });
    await h.ledger.putSeat('U0JACOB01', { plan: 'pro', profile: 'design' });
    await use(h.ledger, 'U0JACOB01', 4500);
    await expectVerified(h.ledger);
  };

  it("names a seat's balance row that no longer matches its entries", async () => {
    await setup();
    await h.db.query(`update seat_cycles set remaining = remaining + 700, used = used - 700`);
    const report = await h.ledger.verify();
    expect(report.ok).toBe(false);
    expect(report.differences).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ what: 'seat cycle remaining', stored: 700, recomputed: 0 }),
        expect.objectContaining({ what: 'seat cycle used', stored: 3300, recomputed: 4000 }),
      ]),
    );
  });

  it("names a grant whose remaining was changed without an entry", async () => {
    await setup();
    await h.db.query(`update grants set remaining = 250 where source = 'pool'`);
    const report = await h.ledger.verify();
    expect(report.differences).toEqual([expect.objectContaining({ what: 'grant remaining', stored: 250, recomputed: 500 })]);
  });

  it('names a usage event whose credits differ from what its transfers consumed', async () => {
    await setup();
    await h.db.query(`update journal set credits = 4400, own_drawn = 3900 where kind = 'usage'`);
    const report = await h.ledger.verify();
    expect(report.differences).toEqual([expect.objectContaining({ what: 'usage event credits', stored: 4400, recomputed: 4500 })]);
  });

  it("names a member's pool draw that differs from the pool transfers", async () => {
    await setup();
    await h.db.query(`update pool_draws set used = 100`);
    const report = await h.ledger.verify();
    expect(report.differences).toEqual([expect.objectContaining({ what: 'pool draws', stored: 100, recomputed: 500 })]);
  });

  it('notices a transfer that was deleted from history', async () => {
    await setup();
    await h.db.query(`delete from transfers where credit_account = 'consumption' and debit_account = 'grant'
                      and debit_grant_id = (select id from grants where source = 'pool')`);
    const report = await h.ledger.verify();
    expect(report.differences.map((d) => d.what)).toEqual(
      expect.arrayContaining(['grant remaining', 'seat cycle pool_used', 'usage event credits', 'pool draws']),
    );
  });
});

describe('creditdesk verify', () => {
  it('exits 0 on a ledger that adds up and 1, naming the difference, on one that does not', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'creditdesk-verify-'));
    try {
      const db = await openPglite(dataDir);
      await migrate(db);
      const ledger = testLedger(db, new TestClock(new Date()));
      await ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
      await ledger.putSeat('U0JACOB01', { plan: 'pro' });
      await ledger.recordUsage({ id: 'cli-1', user: 'U0JACOB01', credits: 1200 });
      await db.close();

      const run = () =>
        spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'verify'], {
          env: { PATH: process.env.PATH, DATA_DIR: dataDir },
          encoding: 'utf8',
        });
      const clean = run();
      expect(clean.status).toBe(0);
      expect(JSON.parse(clean.stdout)).toMatchObject({ ok: true, differences: [] });

      const tampered = await openPglite(dataDir);
      await tampered.query(`update seat_cycles set remaining = 4000`);
      await tampered.close();
      const broken = run();
      expect(broken.status).toBe(1);
      expect(broken.stderr).toContain('verify: 1 difference(s) between balances and entries');
      expect(JSON.parse(broken.stdout).differences).toEqual([
        expect.objectContaining({ what: 'seat cycle remaining', stored: 4000, recomputed: 2800 }),
      ]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
