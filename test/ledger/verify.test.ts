// verify as an auditor relies on it: every stored quantity that no longer matches the entries is
// named with what is stored and what the entries say. Each test changes one stored value behind
// the ledger's back, as a bug or a hand-edit would, and expects exactly that value named. And
// `creditdesk verify` as a process: exit 0 on a ledger that adds up, 1 naming the difference.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openPglite, type Database } from '../../src/db/client.ts';
import type { Ledger } from '../../src/ledger/index.ts';
import { describeEachDatabase, has_postgres, migratedPgliteFolder, openTestDatabase, TestClock, testLedger, urlOf } from '../helpers/db.ts';
import { expectVerified } from '../helpers/ledger-harness.ts';

const may = '2026-05-01T00:00Z';
const june = '2026-06-01T00:00Z';

/** Every table a test below changes: each test starts from the rows the ledger was built with. */
const ledger_tables = ['grants', 'journal', 'transfers', 'seat_cycles', 'pool_draws'];

describeEachDatabase('verify on %s', (kind) => {
  const h = { clock: new TestClock(new Date('2026-05-10T12:00:00Z')) } as { db: Database; clock: TestClock; ledger: Ledger };

  /**
   * Every seat-cycle column holds something, worked out by hand:
   * - Jacob (seat 1, Design profile with a 1,000 pool) used 5,200 on a 4,000 plan in May: own
   *   4,000, pool 1,000, overage 200.
   * - Lena (seat 2) used 1,000 and was revoked on 12 May: 3,000 forfeited, quota down to 1,000.
   * - Maya (seat 3) used 1,500 in May; once May's grace window ended, 2,500 expired.
   * It is 4 June: Jacob and Maya hold June's 4,000.
   * Built once; its rows are copied aside and put back before each test, which is much cheaper.
   */
  beforeAll(async () => {
    h.db = await openTestDatabase(kind);
    h.ledger = testLedger(h.db, h.clock);
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putProfile('design', { name: 'Design', poolCredits: 1000 });
    await h.ledger.putSeat('U0JACOB01', { plan: 'pro', profile: 'design' });
    await h.ledger.putSeat('U0LENA001', { plan: 'pro' });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
    await h.ledger.recordUsage({ id: 'jacob-deck', user: 'U0JACOB01', credits: 5200 });
    await h.ledger.recordUsage({ id: 'lena-deck', user: 'U0LENA001', credits: 1000 });
    await h.ledger.recordUsage({ id: 'maya-deck', user: 'U0MAYA001', credits: 1500 });
    h.clock.set('2026-05-12T09:00:00Z');
    await h.ledger.revokeSeat('U0LENA001');
    h.clock.set('2026-06-04T00:00:01Z');
    await h.ledger.runCycleJobs();
    await expectVerified(h.ledger);
    for (const table of ledger_tables) await h.db.query(`create table "built_${table}" as select * from "${table}"`);
  });
  afterAll(async () => {
    for (const table of ledger_tables) await h.db?.query(`drop table if exists "built_${table}"`);
    await h.db?.close();
  });
  beforeEach(async () => {
    await h.db.transaction(async (tx) => {
      for (const table of ledger_tables) await tx.query(`delete from "${table}"`);
      for (const table of ledger_tables) await tx.query(`insert into "${table}" select * from "built_${table}"`);
    });
  });
  const tamper = (sql: string) => h.db.query(sql);
  const differences = async () => {
    const report = await h.ledger.verify();
    expect(report.ok).toBe(report.differences.length === 0);
    return report.differences;
  };
  const seatCycle = (seatId: number, cycle: string) => `seat_id = ${seatId} and cycle_start = '${cycle}'`;

  describe("a seat's balance row", () => {
    it('names a quota changed without an entry', async () => {
      await tamper(`update seat_cycles set quota = 4500 where ${seatCycle(3, may)}`);
      expect(await differences()).toEqual([{ what: 'seat cycle quota', key: `3 ${may}`, stored: 4500, recomputed: 4000 }]);
    });

    it('names a remaining changed without an entry', async () => {
      await tamper(`update seat_cycles set remaining = 3700 where ${seatCycle(1, june)}`);
      expect(await differences()).toEqual([{ what: 'seat cycle remaining', key: `1 ${june}`, stored: 3700, recomputed: 4000 }]);
    });

    it('names a used changed without an entry', async () => {
      await tamper(`update seat_cycles set used = 1000 where ${seatCycle(3, may)}`);
      expect(await differences()).toEqual([{ what: 'seat cycle used', key: `3 ${may}`, stored: 1000, recomputed: 1500 }]);
    });

    it('names a pool_used changed without an entry', async () => {
      await tamper(`update seat_cycles set pool_used = 600 where ${seatCycle(1, may)}`);
      expect(await differences()).toEqual([{ what: 'seat cycle pool_used', key: `1 ${may}`, stored: 600, recomputed: 1000 }]);
    });

    it('names an overage changed without an entry', async () => {
      await tamper(`update seat_cycles set overage = 0 where ${seatCycle(1, may)}`);
      expect(await differences()).toEqual([{ what: 'seat cycle overage', key: `1 ${may}`, stored: 0, recomputed: 200 }]);
    });

    it('names an expired changed without an entry', async () => {
      await tamper(`update seat_cycles set expired = 2000 where ${seatCycle(3, may)}`);
      expect(await differences()).toEqual([{ what: 'seat cycle expired', key: `3 ${may}`, stored: 2000, recomputed: 2500 }]);
    });

    it('names a forfeited changed without an entry', async () => {
      await tamper(`update seat_cycles set forfeited = 2000 where ${seatCycle(2, may)}`);
      expect(await differences()).toEqual([{ what: 'seat cycle forfeited', key: `2 ${may}`, stored: 2000, recomputed: 3000 }]);
    });

    it('names a balance row that has no entries at all, and one whose entries have no row', async () => {
      await tamper(`delete from seat_cycles where ${seatCycle(3, june)}`);
      expect(await differences()).toEqual(
        ['quota', 'remaining', 'used', 'pool_used', 'overage', 'expired', 'forfeited'].map((column) => ({
          what: `seat cycle ${column}`, key: `3 ${june}`, stored: null, recomputed: column === 'quota' || column === 'remaining' ? 4000 : 0,
        })),
      );
    });
  });

  it("names a grant whose remaining was changed without an entry", async () => {
    await tamper(`update grants set remaining = 3000 where seat_id = 3 and cycle_start = '${june}'`);
    expect(await differences()).toEqual([{ what: 'grant remaining', key: '6', stored: 3000, recomputed: 4000 }]);
  });

  it("names a member's pool draw that differs from the pool transfers", async () => {
    await tamper(`update pool_draws set used = 400`);
    expect(await differences()).toEqual([{ what: 'pool draws', key: '1 1', stored: 400, recomputed: 1000 }]);
  });

  describe('a usage entry', () => {
    it('names credits that differ from what its transfers consumed', async () => {
      // Lowered together with own_drawn, so credits = own + pool + overage still holds.
      await tamper(`update journal set credits = 5000, own_drawn = 3800 where event_key = 'jacob-deck'`);
      expect(await differences()).toEqual([
        { what: 'usage event credits', key: 'jacob-deck', stored: 5000, recomputed: 5200 },
        { what: 'usage event own_drawn', key: 'jacob-deck', stored: 3800, recomputed: 4000 },
      ]);
    });

    it('names own credits drawn that differ from its transfers out of own grants', async () => {
      // Shifted from own to pool: the total still adds up, the split does not.
      await tamper(`update journal set own_drawn = 3500, pool_drawn = 1500 where event_key = 'jacob-deck'`);
      expect(await differences()).toEqual([
        { what: 'usage event own_drawn', key: 'jacob-deck', stored: 3500, recomputed: 4000 },
        { what: 'usage event pool_drawn', key: 'jacob-deck', stored: 1500, recomputed: 1000 },
      ]);
    });

    it('names pool credits drawn that differ from its transfers out of the pool', async () => {
      await tamper(`update journal set pool_drawn = 800, overage = 400 where event_key = 'jacob-deck'`);
      expect(await differences()).toEqual([
        { what: 'usage event pool_drawn', key: 'jacob-deck', stored: 800, recomputed: 1000 },
        { what: 'usage event overage', key: 'jacob-deck', stored: 400, recomputed: 200 },
      ]);
    });

    it('names overage that differs from its transfers out of the overage account', async () => {
      await tamper(`update journal set overage = 0, own_drawn = 4200 where event_key = 'jacob-deck'`);
      expect(await differences()).toEqual([
        { what: 'usage event own_drawn', key: 'jacob-deck', stored: 4200, recomputed: 4000 },
        { what: 'usage event overage', key: 'jacob-deck', stored: 0, recomputed: 200 },
      ]);
    });

    it('names credits that are not own + pool + overage', async () => {
      await tamper(`update journal set own_drawn = 4100 where event_key = 'jacob-deck'`);
      expect(await differences()).toEqual([
        { what: 'usage event own_drawn', key: 'jacob-deck', stored: 4100, recomputed: 4000 },
        { what: 'usage event credits = own + pool + overage', key: 'jacob-deck', stored: 5200, recomputed: 5300 },
      ]);
    });

    it('names two entries whose credits were moved from one to the other, the totals unchanged', async () => {
      // Every sum over all entries still matches: only a check per entry (or weighted per entry) sees it.
      await tamper(`update journal set credits = credits - 300, own_drawn = own_drawn - 300 where event_key = 'lena-deck'`);
      await tamper(`update journal set credits = credits + 300, own_drawn = own_drawn + 300 where event_key = 'maya-deck'`);
      expect(await differences()).toEqual([
        { what: 'usage event credits', key: 'lena-deck', stored: 700, recomputed: 1000 },
        { what: 'usage event own_drawn', key: 'lena-deck', stored: 700, recomputed: 1000 },
        { what: 'usage event credits', key: 'maya-deck', stored: 1800, recomputed: 1500 },
        { what: 'usage event own_drawn', key: 'maya-deck', stored: 1800, recomputed: 1500 },
      ]);
    });
  });

  it('notices a transfer that was deleted from history', async () => {
    await tamper(`delete from transfers where credit_account = 'consumption' and debit_grant_id = 1`);
    expect(await differences()).toEqual([
      { what: 'grant remaining', key: '1', stored: 0, recomputed: 1000 },
      { what: 'seat cycle pool_used', key: `1 ${may}`, stored: 1000, recomputed: 0 },
      { what: 'usage event credits', key: 'jacob-deck', stored: 5200, recomputed: 4200 },
      { what: 'usage event pool_drawn', key: 'jacob-deck', stored: 1000, recomputed: 0 },
      { what: 'pool draws', key: '1 1', stored: 1000, recomputed: null },
    ]);
  });
});

/**
 * The database the command reads: the test file's PostgreSQL database when there is a server
 * (cheaper), else a PGlite data folder. `write` changes it while the command is not running
 * (a PGlite folder takes one process at a time).
 */
async function commandDatabase(): Promise<{ env: Record<string, string>; write: (fn: (db: Database) => Promise<unknown>) => Promise<void>; close: () => Promise<void> }> {
  if (has_postgres) {
    const db = await openTestDatabase('postgres');
    return { env: { DATABASE_URL: await urlOf(db) }, write: async (fn) => void (await fn(db)), close: () => db.close() };
  }
  const dataDir = await migratedPgliteFolder();
  return {
    env: { DATA_DIR: dataDir },
    write: async (fn) => {
      const db = await openPglite(dataDir);
      try {
        await fn(db);
      } finally {
        await db.close();
      }
    },
    close: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

describe('creditdesk verify', () => {
  it('exits 0 on a ledger that adds up and 1, naming the difference, on one that does not', async () => {
    const database = await commandDatabase();
    try {
      await database.write(async (db) => {
        const ledger = testLedger(db, new TestClock(new Date()));
        await ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
        await ledger.putSeat('U0JACOB01', { plan: 'pro' });
        await ledger.recordUsage({ id: 'cli-1', user: 'U0JACOB01', credits: 1200 });
      });
      const run = () =>
        spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'verify'], {
          env: { PATH: process.env.PATH, ...database.env },
          encoding: 'utf8',
        });
      const clean = run();
      expect(clean.status).toBe(0);
      expect(JSON.parse(clean.stdout)).toMatchObject({ ok: true, differences: [] });

      await database.write((db) => db.query(`update seat_cycles set remaining = 4000`));
      const broken = run();
      expect(broken.status).toBe(1);
      expect(broken.stderr).toContain('verify: 1 difference between balances and entries');
      expect(JSON.parse(broken.stdout).differences).toEqual([
        expect.objectContaining({ what: 'seat cycle remaining', stored: 4000, recomputed: 2800 }),
      ]);
    } finally {
      await database.close();
    }
  });
});
