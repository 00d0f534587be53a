// Property: whatever sequence of operations people and systems throw at the ledger, every
// balance row equals what its entries add up to, and no grant ever goes below zero.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { LedgerError } from '../../src/ledger/errors.ts';
import { database_kinds, emptyDatabase, openTestDatabase, TestClock, testLedger } from '../helpers/db.ts';

const users = ['U0USER001', 'U0USER002', 'U0USER003'] as const;
const user = fc.constantFrom(...users);

const operation = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('usage' as const), user, credits: fc.integer({ min: 1, max: 3000 }), enforce: fc.boolean(), id: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('assign' as const), user, product: fc.constantFrom('addon', 'burst') }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unassign' as const), packId: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('adjust' as const), user, credits: fc.integer({ min: -2000, max: 2000 }).filter((n) => n !== 0) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('revoke' as const), user }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('restore' as const), user }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('time' as const), hours: fc.integer({ min: 1, max: 24 * 20 }) }) },
);

describe.each(database_kinds)('ledger invariants on %s', (kind) => {
  let db: Database;
  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(async () => db.close());

  it('keeps every balance equal to its entries under any sequence of operations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 5, maxLength: 25 }), fc.constantFrom('remaining', 'full', 'next_cycle'), async (ops, reassign) => {
        await emptyDatabase(db);
        const clock = new TestClock(new Date('2026-05-10T12:00:00Z'));
        const ledger = testLedger(db, clock);
        await ledger.putPlan('pro', { name: 'Pro', credits: 4000, rolloverCap: 300 });
        await ledger.putPackProduct('addon', { name: 'Add-on', credits: 2000, kind: 'recurring', reassign });
        await ledger.putPackProduct('burst', { name: 'Burst', credits: 500, kind: 'one_time', expiresDays: 20, reassign });
        await ledger.putProfile('design', { name: 'Design', poolCredits: 3000, memberPoolCap: 1000 });
        for (const u of users) await ledger.putSeat(u, { plan: 'pro', profile: 'design' });
        await ledger.recordPurchase({ product: 'addon', quantity: 2 });
        await ledger.recordPurchase({ product: 'burst', quantity: 2 });
        let applied = 0;
        for (const op of ops) {
          try {
            switch (op.op) {
              case 'usage': {
                const event = { id: `e${op.id}`, user: op.user, credits: op.credits };
                const outcome = op.enforce ? await ledger.authorize(event) : await ledger.recordUsage(event);
                if (outcome.status === 'applied') applied += op.credits;
                break;
              }
              case 'assign': await ledger.assignPack({ product: op.product, user: op.user }); break;
              case 'unassign': await ledger.unassignPack({ packId: op.packId }); break;
              case 'adjust': await ledger.adjust({ user: op.user, credits: op.credits, reason: 'property' }); break;
              case 'revoke': await ledger.revokeSeat(op.user); break;
              case 'restore': await ledger.putSeat(op.user, { plan: 'pro' }); break;
              case 'time':
                clock.advance(op.hours * 3_600_000);
                await ledger.runCycleJobs();
                break;
            }
          } catch (error) {
            if (!(error instanceof LedgerError)) throw error; // a refusal a person could cause is fine; anything else is a bug
          }
        }
        const report = await ledger.verify();
        expect(report.differences).toEqual([]);
        const [totals] = await db.query<{ consumed: number; negative: number }>(
          `select (select coalesce(sum(credits), 0) from journal where kind = 'usage')::int8 as consumed,
                  (select count(*) from grants where remaining < 0)::int8 as negative`,
        );
        expect(totals).toEqual({ consumed: applied, negative: 0 });
      }),
      { numRuns: kind === 'pglite' ? 60 : 25 },
    );
  });
});
