// Property: whatever sequence of operations people and systems throw at the ledger, every balance
// row equals what its entries add up to, no grant goes below zero, no credit is stranded on a
// closed grant, enforce mode never books overage, and a replayed event id returns its first outcome.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { LedgerError } from '../../src/ledger/errors.ts';
import type { Ledger } from '../../src/ledger/index.ts';
import { applyUsage, type UsageOutcome } from '../../src/ledger/usage.ts';
import { emptyDatabase, has_postgres, openTestDatabase, TestClock, testLedger, type DatabaseKind } from '../helpers/db.ts';
import { hour_ms, strandedGrants } from '../helpers/ledger-harness.ts';

// U0USER003 bills on the 15th; the others on the org's 1st.
const users = ['U0USER001', 'U0USER002', 'U0USER003'] as const;
const user = fc.constantFrom(...users);
const eventIds = fc.integer({ min: 1, max: 30 }).map((n) => `e${n}`);
const usageEvent = fc.record({
  id: eventIds,
  user,
  credits: fc.integer({ min: 1, max: 3000 }),
  // Now, or up to 100 h back: across a boundary that makes a late event, or one that is too late.
  hoursAgo: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 100 }) }),
});

const operation = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('usage' as const), event: usageEvent, enforce: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('batch' as const), events: fc.array(usageEvent, { minLength: 1, maxLength: 6 }), enforce: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('assign' as const), user, product: fc.constantFrom('addon', 'burst') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unassign' as const), packId: fc.integer({ min: 1, max: 4 }) }) },
  // Adjustments, revocations and restores move credits out of and back into grants: twice the
  // weight, so a run often revokes a member holding a manual grant or restores one in the same cycle.
  { weight: 2, arbitrary: fc.record({ op: fc.constant('adjust' as const), user, credits: fc.integer({ min: -2000, max: 2000 }).filter((n) => n !== 0) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('revoke' as const), user }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('restore' as const), user }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('balance' as const), user }) },
  // Time passes; the cycle jobs run, or are late and the writers reset seats on the spot.
  { weight: 2, arbitrary: fc.record({ op: fc.constant('time' as const), hours: fc.integer({ min: 1, max: 24 * 20 }), jobs: fc.boolean() }) },
);

/**
 * Runs on PostgreSQL when there is one (CI), else on PGlite: the rules it checks are the ledger's,
 * the same SQL on both, and each kind's own behaviour is covered by the other tests on both.
 *
 * Sized by count: 20 sequences of 20 to 40 operations, 5-8 s on a quiet 2-core machine and
 * 10-20 s on a very busy one. Each of these broken rules failed this test on each kind in every
 * trial (the median run that caught it, over 8 trials of up to 150 runs, in brackets): a restore
 * not giving back what the revocation forfeited in the balance row (3), enforce mode booking
 * overage (1), the member pool cap ignored (2), an id repeated in one batch applied twice (4, at
 * most 11), a revocation leaving a manual grant's credits stranded (4, at most 21). Long sequences
 * from the first run make so few runs enough: with 5 to 30 operations the first of these needed
 * up to 132 runs, the last up to 91. They also found a real one: a restore giving back the
 * rollover of a pack that had gone back to inventory.
 */
const runs = 20;
const kind: DatabaseKind = has_postgres ? 'postgres' : 'pglite';
const operations = { minLength: 20, maxLength: 40 };

describe(`ledger invariants on ${kind}`, () => {
  let db: Database;
  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(async () => db?.close());

  async function seed(ledger: Ledger, reassign: 'remaining' | 'full' | 'next_cycle') {
    await ledger.putPlan('pro', { name: 'Pro', credits: 4000, rolloverCap: 300 });
    await ledger.putPackProduct('addon', { name: 'Add-on', credits: 2000, kind: 'recurring', reassign, rolloverCap: 2500 });
    await ledger.putPackProduct('burst', { name: 'Burst', credits: 500, kind: 'one_time', expiresDays: 20, reassign });
    await ledger.putProfile('design', { name: 'Design', poolCredits: 3000, memberPoolCap: 1000 });
    for (const u of users) await ledger.putSeat(u, { plan: 'pro', profile: 'design', anchorDay: u === 'U0USER003' ? 15 : null });
    await ledger.recordPurchase({ product: 'addon', quantity: 2 });
    await ledger.recordPurchase({ product: 'burst', quantity: 2 });
  }

  it('keeps every balance equal to its entries and every credit accounted for under any sequence of operations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, operations), fc.constantFrom('remaining', 'full', 'next_cycle'), async (ops, reassign) => {
        await emptyDatabase(db);
        const clock = new TestClock(new Date('2026-05-10T12:00:00Z'));
        const ledger = testLedger(db, clock);
        await seed(ledger, reassign);
        const firstOutcomes = new Map<string, UsageOutcome>();
        let applied = 0;
        const observe = (outcome: UsageOutcome, enforce: boolean) => {
          const first = firstOutcomes.get(outcome.id);
          if (outcome.status === 'applied') {
            expect(first?.status, `event ${outcome.id} applied twice`).not.toBe('applied');
            firstOutcomes.set(outcome.id, outcome);
            applied += outcome.credits;
            if (enforce) expect(outcome.overage).toBe(0);
          } else if (outcome.status === 'duplicate') {
            expect({ ...outcome, status: 'applied' }).toEqual(first);
          }
        };
        const toEvent = (e: { id: string; user: string; credits: number; hoursAgo: number }) => ({
          id: e.id, user: e.user, credits: e.credits, ...(e.hoursAgo > 0 ? { at: new Date(clock.now().getTime() - e.hoursAgo * hour_ms) } : {}),
        });
        for (const op of ops) {
          try {
            switch (op.op) {
              case 'usage': {
                const event = toEvent(op.event);
                observe(op.enforce ? await ledger.authorize(event) : await ledger.recordUsage(event), op.enforce);
                break;
              }
              case 'batch': {
                const events = op.events.map(toEvent);
                const outcomes = op.enforce
                  ? await applyUsage(ledger.ctx, events.map((e) => ({ ...e, mode: 'enforce' as const })))
                  : await ledger.recordUsageBatch(events);
                outcomes.forEach((o) => observe(o, op.enforce));
                break;
              }
              case 'assign': await ledger.assignPack({ product: op.product, user: op.user }); break;
              case 'unassign': await ledger.unassignPack({ packId: op.packId }); break;
              case 'adjust': await ledger.adjust({ user: op.user, credits: op.credits, reason: 'property' }); break;
              case 'revoke': {
                const preview = await ledger.previewRevoke(op.user);
                expect(await ledger.revokeSeat(op.user)).toEqual(preview);
                break;
              }
              case 'restore': await ledger.putSeat(op.user, { plan: 'pro' }); break;
              case 'balance': {
                const b = await ledger.balance(op.user);
                expect(b.remaining).toBeGreaterThanOrEqual(0);
                expect(b.pool_available).toBeGreaterThanOrEqual(0);
                break;
              }
              case 'time':
                clock.advance(op.hours * hour_ms);
                if (op.jobs) await ledger.runCycleJobs();
                break;
            }
          } catch (error) {
            if (!(error instanceof LedgerError)) throw error; // a refusal a person could cause is fine; anything else is a bug
          }
        }
        await expectInvariants(applied);
        // Run the clock past every expiry and grace window: every credit ends used, expired,
        // forfeited or live in the current cycle, and nothing is left behind on a dead grant.
        clock.advance(70 * 24 * hour_ms);
        await ledger.runCycleJobs();
        await expectInvariants(applied);
        const [dead] = await db.query<{ n: number }>(
          `select count(*)::int8 as n from grants where expires_at <= $1 and (remaining > 0 or closed_at is null)`,
          [new Date(clock.now().getTime() - 72 * hour_ms)],
        );
        expect(dead!.n).toBe(0);

        async function expectInvariants(appliedCredits: number) {
          const report = await ledger.verify();
          expect(report.differences).toEqual([]);
          expect(await strandedGrants(db)).toEqual([]);
          const [totals] = await db.query<{ consumed: number; negative: number; overCap: number; negativeRows: number }>(
            `select (select coalesce(sum(credits), 0) from journal where kind = 'usage')::int8 as consumed,
                    (select count(*) from grants where remaining < 0)::int8 as negative,
                    (select count(*) from pool_draws d join grants g on g.id = d.pool_grant_id join profiles p on p.key = g.profile_key
                      where d.used > p.member_pool_cap)::int8 as "overCap",
                    (select count(*) from seat_cycles where remaining < 0 or quota < 0 or remaining <> quota - used - expired)::int8 as "negativeRows"`,
          );
          expect(totals).toEqual({ consumed: appliedCredits, negative: 0, overCap: 0, negativeRows: 0 });
        }
      }),
      // No shrinking: sequences are at least 20 operations anyway, and shrinking one on PostgreSQL
      // outlasts the test's timeout. Pass the printed seed and path to fc.assert to replay it.
      { numRuns: runs, endOnFailure: true },
    );
  });
});
