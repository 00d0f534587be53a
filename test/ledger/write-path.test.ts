// The usage write path against the one it replaced: the same random operations, replayed on two
// ledgers, one writing usage through creditdesk_apply_usage (src/ledger/usage.ts) and one through
// the earlier per-statement Node path kept in test/helpers/reference-usage.ts. Every outcome and
// every row the two write (journal, transfers, grants, balance rows, daily rows, pool draws,
// alerts) must be the same. Two tools, a pool with a member cap, packs, a daily limit, an overage
// budget, late and too-late events, repeated ids within and across batches, enforce and record.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { LedgerError } from '../../src/ledger/errors.ts';
import type { Ledger } from '../../src/ledger/index.ts';
import { resetBudgetsIn, resetPoolsIn } from '../../src/ledger/reset.ts';
import { applyUsage, type UsageEvent, type UsageMode } from '../../src/ledger/usage.ts';
import { applyUsage as applyUsageReference } from '../helpers/reference-usage.ts';
import { describeEachDatabase, emptyDatabase, openTestDatabase, TestClock, testLedger } from '../helpers/db.ts';
import { expectVerified, hour_ms, useLedger } from '../helpers/ledger-harness.ts';

const users = ['U0USER001', 'U0USER002', 'U0USER003'] as const;
const user = fc.constantFrom(...users);
const usageEvent = fc.record({
  id: fc.integer({ min: 1, max: 40 }).map((n) => `e${n}`),
  user,
  tool: fc.constantFrom('adobe', 'figma'),
  credits: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 3000 })),
  hoursAgo: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 100 }) }),
  enforce: fc.boolean(),
});
const operation = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('usage' as const), events: fc.array(usageEvent, { minLength: 1, maxLength: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('assign' as const), user, product: fc.constantFrom('addon', 'burst') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('adjust' as const), user, credits: fc.integer({ min: -1500, max: 1500 }).filter((n) => n !== 0) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('revoke' as const), user }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('restore' as const), user }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('time' as const), hours: fc.integer({ min: 1, max: 24 * 12 }), jobs: fc.boolean() }) },
);

/** Runs per test run; WRITE_PATH_RUNS=150 for a longer search. 10 take about 10 s on a busy 2-core machine. */
const runs = Number(process.env.WRITE_PATH_RUNS ?? 10);

/** Everything the usage path writes, in a comparable form (no wall-clock columns). */
async function snapshot(db: Database) {
  const q = (sql: string) => db.query(sql);
  return {
    journal: await q(`select id, kind, seat_id, cycle_start, occurred_at, event_key, credits, own_drawn, pool_drawn, overage, feature, source, day::text, over_daily_limit from journal order by id`),
    transfers: await q(`select journal_id, debit_account, debit_grant_id, credit_account, credit_grant_id, amount from transfers order by journal_id, debit_account, debit_grant_id, credit_account, credit_grant_id, amount`),
    grants: await q(`select id, source, seat_id, pack_id, cycle_start, amount, remaining, closed_at from grants order by id`),
    seatCycles: await q(`select * from seat_cycles order by seat_id, cycle_start`),
    // The function writes a day's row before deciding the day's events, so a day whose only event
    // was refused keeps a row of zeros where the reference wrote none: the same daily use.
    seatDays: await q(`select seat_id, day::text, used, over_limit from seat_days where used <> 0 or over_limit <> 0 order by seat_id, day`),
    poolDraws: await q(`select * from pool_draws order by pool_grant_id, seat_id`),
    outbox: await q(`select kind, dedupe_key, payload from outbox order by dedupe_key`),
  };
}

describe('the usage write path against the reference path', () => {
  let next: Database;
  let reference: Database;
  beforeAll(async () => {
    // PGlite for both: the comparison is of the two paths, and each path's own SQL runs on
    // PostgreSQL in the rest of the ledger tests.
    [next, reference] = [await openTestDatabase('pglite'), await openTestDatabase('pglite')];
  });
  afterAll(async () => {
    await next?.close();
    await reference?.close();
  });

  async function seed(ledger: Ledger) {
    await ledger.putTool('adobe', { name: 'Adobe Firefly', unit: 'generative credits' });
    await ledger.putTool('figma', { name: 'Figma AI', unit: 'credits', overageBudget: 1000 });
    await ledger.putPlan('pro', { name: 'Pro', credits: 4000, rolloverCap: 300, tool: 'adobe' });
    await ledger.putPlan('extra', { name: 'Extra', credits: 2000, tool: 'adobe' });
    await ledger.putPlan('view', { name: 'View', credits: 500, dailyLimit: 150, tool: 'figma' });
    await ledger.putPackProduct('addon', { name: 'Add-on', credits: 2000, kind: 'recurring', reassign: 'remaining', tool: 'adobe' });
    await ledger.putPackProduct('burst', { name: 'Burst', credits: 500, kind: 'one_time', expiresDays: 20, reassign: 'full', tool: 'adobe' });
    await ledger.putProfile('design', { name: 'Design', poolCredits: 3000, memberPoolCap: 1000, tool: 'adobe' });
    for (const u of users) {
      await ledger.putSeat(u, { plans: u === 'U0USER002' ? ['pro', 'extra'] : ['pro'], profile: 'design', anchorDay: u === 'U0USER003' ? 15 : null });
      await ledger.putSeat(u, { plan: 'view' });
    }
    await ledger.recordPurchase({ product: 'addon', quantity: 2 });
    await ledger.recordPurchase({ product: 'burst', quantity: 2 });
  }

  it('writes the same outcomes and the same rows as the reference path for any sequence of operations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 10, maxLength: 30 }), async (ops) => {
        await emptyDatabase(next);
        await emptyDatabase(reference);
        const clock = new TestClock(new Date('2026-05-10T12:00:00Z'));
        const ledgers = [testLedger(next, clock), testLedger(reference, clock)] as const;
        for (const ledger of ledgers) await seed(ledger);
        /** The same operation on both ledgers: the same result, or the same refusal. */
        const both = async <T>(run: (ledger: Ledger, which: 0 | 1) => Promise<T>) => {
          const settled = [];
          for (const which of [0, 1] as const) {
            try {
              settled.push({ value: await run(ledgers[which], which) });
            } catch (error) {
              if (!(error instanceof LedgerError)) throw error;
              settled.push({ refused: error.message });
            }
          }
          expect(settled[0]).toEqual(settled[1]);
        };
        for (const op of ops) {
          switch (op.op) {
            case 'usage': {
              const events: (UsageEvent & { mode: UsageMode })[] = op.events.map((e) => ({
                id: e.id, user: e.user, tool: e.tool, credits: e.credits, mode: e.enforce ? 'enforce' : 'record',
                ...(e.hoursAgo > 0 ? { at: new Date(clock.now().getTime() - e.hoursAgo * hour_ms) } : {}),
              }));
              await both((ledger, which) => (which === 0 ? applyUsage(ledger.ctx, events) : applyUsageReference(ledger.ctx, events)));
              break;
            }
            case 'assign': await both((ledger) => ledger.assignPack({ product: op.product, user: op.user })); break;
            case 'adjust': await both((ledger) => ledger.adjust({ user: op.user, tool: 'adobe', credits: op.credits, reason: 'differential' })); break;
            case 'revoke': await both((ledger) => ledger.revokeSeat(op.user, null, 'adobe')); break;
            case 'restore': await both((ledger) => ledger.putSeat(op.user, { plan: 'pro' })); break;
            case 'time':
              clock.advance(op.hours * hour_ms);
              if (op.jobs) await both((ledger) => ledger.runCycleJobs());
              // The new cycle's pools and budgets, issued at once on both: the paths issue them
              // lazily at different moments (the reference for any batch of a seat that might
              // need one, duplicates included; the function only when an event needs one), and
              // grant ids would then differ for the rest of the run. Lazy issuing has its own tests.
              else await both((ledger) => ledger.ctx.db.transaction(async (tx) => [await resetPoolsIn(tx, ledger.ctx, clock.now(), null), await resetBudgetsIn(tx, ledger.ctx, clock.now(), null)]));
              break;
          }
        }
        expect(await snapshot(next)).toEqual(await snapshot(reference));
      }),
      { numRuns: runs, endOnFailure: true },
    );
    // A longer search (WRITE_PATH_RUNS) gets the time it needs; the default is far inside 45 s.
  }, Math.max(45_000, runs * 3_000));
});

// The two rules the replay above found the function breaking, each held on both databases.
describeEachDatabase('the usage write path on %s', (kind) => {
  const h = useLedger(kind);

  it('answers a repeat of an id applied earlier in the batch as its duplicate, even where it would be refused on its own', async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
    await h.ledger.putSeat('U0LENA001', { plan: 'pro' });
    await h.ledger.revokeSeat('U0LENA001');
    const [first, repeat] = await h.ledger.recordUsageBatch([
      { id: 'deck-1', user: 'U0MAYA001', credits: 300 },
      // Same id, a member whose seat is revoked: the id was applied, so this is that event again.
      { id: 'deck-1', user: 'U0LENA001', credits: 300 },
    ]);
    expect(first).toMatchObject({ status: 'applied', user: 'U0MAYA001', own: 300 });
    expect(repeat).toEqual({ ...first, status: 'duplicate' });
    expect((await h.ledger.balance('U0MAYA001')).remaining).toBe(3700);
  });

  it("issues, after a boundary, only the pools and overage budgets the batch needs", async () => {
    await h.ledger.putTool('default', { name: 'Adobe generative credits' });
    await h.ledger.putTool('figma', { name: 'Figma AI credits', overageBudget: 1000 });
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000, tool: 'default' });
    await h.ledger.putPlan('view', { name: 'View', credits: 500, tool: 'figma' });
    await h.ledger.putProfile('design', { name: 'Design', poolCredits: 3000, tool: 'default' });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro', profile: 'design' });
    await h.ledger.putSeat('U0MAYA001', { plan: 'view' });
    // Past the boundary, before the cycle job: May's pool and budget are all there is.
    h.clock.set('2026-06-02T09:00:00Z');
    const issued = () => h.db.query<{ source: string; owner: string }>(
      `select source, coalesce(profile_key, tool_key) as owner from grants where source in ('pool', 'budget') and cycle_start >= '2026-06-01' order by id`,
    );
    // 600 Figma credits: 500 of June's own and 100 beyond, from June's Figma budget. The Adobe
    // pool is not needed, so it waits for the cycle job.
    const [outcome] = await h.ledger.recordUsageBatch([{ id: 'frames-1', user: 'U0MAYA001', tool: 'figma', credits: 600 }]);
    expect(outcome).toMatchObject({ status: 'applied', own: 500, pool: 0, overage: 100 });
    expect(await issued()).toEqual([{ source: 'budget', owner: 'figma' }]);
    await expectVerified(h.ledger);
  });
});
