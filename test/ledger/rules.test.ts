// The ledger rules of SPEC, one test each, on PGlite and (when CI gives one) PostgreSQL.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import type { Ledger } from '../../src/ledger/index.ts';
import type { AppliedUsage, RejectedUsage } from '../../src/ledger/usage.ts';
import { database_kinds, emptyDatabase, openTestDatabase, TestClock, testLedger } from '../helpers/db.ts';

const day_ms = 86_400_000;

describe.each(database_kinds)('ledger rules on %s', (kind) => {
  let db: Database;
  let ledger: Ledger;
  const clock = new TestClock(new Date('2026-05-10T12:00:00Z'));

  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(async () => db.close());
  beforeEach(async () => {
    await emptyDatabase(db);
    clock.set('2026-05-10T12:00:00Z');
    ledger = testLedger(db, clock);
    await ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await ledger.putPackProduct('addon', { name: 'Add-on', credits: 2000, kind: 'recurring', reassign: 'remaining' });
  });

  const use = async (user: string, credits: number, id = `e-${Math.random()}`, at?: Date) =>
    (await ledger.recordUsage({ id, user, credits, at })) as AppliedUsage | RejectedUsage;
  const sourcesOf = async (user: string) => (await ledger.balance(user)).sources.map((s) => [s.kind, s.remaining]);
  const expectVerified = async () => expect((await ledger.verify()).differences).toEqual([]);

  it('stacks a 4,000 plan and two 2,000 packs into 8,000, and 8,000 of usage leaves 0 with no overage', async () => {
    await ledger.putSeat('U0JACOB01', { plan: 'pro' });
    await ledger.recordPurchase({ product: 'addon', quantity: 2 });
    await ledger.assignPack({ product: 'addon', user: 'U0JACOB01' });
    await ledger.assignPack({ product: 'addon', user: 'U0JACOB01' });
    expect((await ledger.balance('U0JACOB01')).quota).toBe(8000);
    const outcome = await use('U0JACOB01', 8000);
    expect(outcome).toMatchObject({ status: 'applied', own: 8000, pool: 0, overage: 0 });
    expect(await ledger.balance('U0JACOB01')).toMatchObject({ quota: 8000, used: 8000, remaining: 0, overage: 0 });
    await expectVerified();
  });

  it('draws the plan before packs before manual grants at equal expiry, and the soonest expiry first', async () => {
    await ledger.putPackProduct('burst', { name: 'Burst', credits: 300, kind: 'one_time', expiresDays: 5 });
    await ledger.putSeat('U0MAYA001', { plan: 'pro' });
    await ledger.recordPurchase({ product: 'addon', quantity: 1 });
    await ledger.recordPurchase({ product: 'burst', quantity: 1 });
    await ledger.assignPack({ product: 'addon', user: 'U0MAYA001' });
    await ledger.adjust({ user: 'U0MAYA001', credits: 500, reason: 'launch' });
    await ledger.assignPack({ product: 'burst', user: 'U0MAYA001' });
    // The burst pack expires in 5 days, before the cycle ends: it goes first, then plan, pack, manual.
    await use('U0MAYA001', 300 + 4000 + 100);
    expect(await sourcesOf('U0MAYA001')).toEqual([['plan', 0], ['pack', 1900], ['manual', 500], ['pack', 0]]);
    await use('U0MAYA001', 2000);
    expect(await sourcesOf('U0MAYA001')).toEqual([['plan', 0], ['pack', 0], ['manual', 400], ['pack', 0]]);
    await expectVerified();
  });

  it('draws on the pool only after own credits, within the member cap, then books overage', async () => {
    await ledger.putProfile('design', { name: 'Design', poolCredits: 10_000, memberPoolCap: 1500 });
    await ledger.putSeat('U0MAYA001', { plan: 'pro', profile: 'design' });
    expect(await use('U0MAYA001', 3000)).toMatchObject({ own: 3000, pool: 0, overage: 0 });
    expect(await use('U0MAYA001', 2000)).toMatchObject({ own: 1000, pool: 1000, overage: 0 });
    expect(await use('U0MAYA001', 1000)).toMatchObject({ own: 0, pool: 500, overage: 500 });
    expect(await ledger.balance('U0MAYA001')).toMatchObject({ used: 6000, remaining: 0, pool_used: 1500, pool_available: 0, overage: 500 });
    await expectVerified();
  });

  it('refuses in enforce mode an event that does not fit whole, writing nothing', async () => {
    await ledger.putSeat('U0MAYA001', { plan: 'pro' });
    await use('U0MAYA001', 3500);
    const refused = (await ledger.authorize({ id: 'big', user: 'U0MAYA001', credits: 501 })) as RejectedUsage;
    expect(refused.status).toBe('rejected');
    expect(refused.refused).toEqual({ limit: 'own credits', remaining: 500, resetsAt: '2026-06-01T00:00:00.000Z' });
    expect(refused.reason).toMatch(/501 credits do not fit: 500 of the member's own credits remain until the reset on 2026-06-01/);
    expect(await db.query(`select 1 from journal where event_key = 'big'`)).toHaveLength(0);
    expect((await ledger.balance('U0MAYA001')).remaining).toBe(500);
    expect(await ledger.authorize({ id: 'fits', user: 'U0MAYA001', credits: 500 })).toMatchObject({ status: 'applied', own: 500 });
  });

  it('applies an event id once: a repeat in the same batch or later returns the first outcome', async () => {
    await ledger.putSeat('U0MAYA001', { plan: 'pro' });
    const [first, again] = await ledger.recordUsageBatch([
      { id: 'same', user: 'U0MAYA001', credits: 700 },
      { id: 'same', user: 'U0MAYA001', credits: 9 },
    ]);
    expect(first).toMatchObject({ status: 'applied', own: 700 });
    expect(again).toMatchObject({ status: 'duplicate', credits: 700, own: 700 });
    expect(await use('U0MAYA001', 1, 'same')).toMatchObject({ status: 'duplicate', credits: 700 });
    expect((await ledger.balance('U0MAYA001')).used).toBe(700);
  });

  it('charges a late event to its closed cycle within the grace window, and refuses an older one', async () => {
    await ledger.putSeat('U0MAYA001', { plan: 'pro' });
    await use('U0MAYA001', 1000);
    clock.set('2026-06-02T10:00:00Z'); // 34 h after the boundary
    await ledger.runCycleJobs();
    const late = await use('U0MAYA001', 400, 'late', new Date('2026-05-31T20:00:00Z'));
    expect(late).toMatchObject({ status: 'applied', late: true, own: 400, cycle: { start: '2026-05-01T00:00:00.000Z' } });
    expect(await ledger.balance('U0MAYA001')).toMatchObject({ used: 0, remaining: 4000 });
    const may = (await ledger.report('2026-05')).rows[0]!;
    expect(may).toMatchObject({ used: 1400, remaining: 2600 });

    clock.set('2026-06-04T01:00:00Z'); // 73 h after the boundary
    const tooLate = await use('U0MAYA001', 10, 'too-late', new Date('2026-05-31T23:00:00Z'));
    expect(tooLate).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/too late: the cycle 2026-05 closed on 2026-06-01T00:00:00.000Z and late events are accepted for 72 h/),
    });
    await ledger.runCycleJobs();
    expect((await ledger.report('2026-05')).rows[0]).toMatchObject({ remaining: 0, expired: 2600 });
    await expectVerified();
  });

  it('refuses an event stamped in the future', async () => {
    await ledger.putSeat('U0MAYA001', { plan: 'pro' });
    const future = await use('U0MAYA001', 10, 'f', new Date(clock.now().getTime() + 3_600_000));
    expect(future).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/is in the future/) });
  });

  it('gives a mid-cycle seat its full plan grant, or a pro-rated one with daily proration', async () => {
    await ledger.putSeat('U0FULL001', { plan: 'pro' });
    expect((await ledger.balance('U0FULL001')).quota).toBe(4000);
    const prorated = testLedger(db, clock, { proration: 'daily' });
    await prorated.putSeat('U0HALF001', { plan: 'pro' });
    // May 10 to June 1 is 22 of May's 31 days.
    expect((await prorated.balance('U0HALF001')).quota).toBe(Math.round((4000 * 22) / 31));
  });

  describe('revoking a seat mid-cycle with a half-used pack', () => {
    const setup = async (reassign: 'remaining' | 'full' | 'next_cycle') => {
      await ledger.putPackProduct('addon', { name: 'Add-on', credits: 2000, kind: 'recurring', reassign });
      await ledger.putSeat('U0JACOB01', { plan: 'pro' });
      await ledger.putSeat('U0LENA001', { plan: 'pro' });
      await ledger.recordPurchase({ product: 'addon', quantity: 1 });
      await ledger.assignPack({ product: 'addon', user: 'U0JACOB01' });
      await use('U0JACOB01', 5000); // plan 4,000 and 1,000 of the pack
    };

    it.each([
      ['remaining', 1000, 0],
      ['full', 2000, 1000],
      ['next_cycle', 0, 1000],
    ] as const)('under %s the next assignee gets %i, and %i is forfeited', async (policy, nextGets, packForfeit) => {
      await setup(policy);
      const preview = await ledger.previewRevoke('U0JACOB01');
      expect(preview.packs).toEqual([expect.objectContaining({ policy, unused: 1000, next_assignee_gets: nextGets, forfeited: packForfeit })]);
      expect(await ledger.revokeSeat('U0JACOB01')).toEqual(preview);
      const assigned = await ledger.assignPack({ product: 'addon', user: 'U0LENA001' });
      expect(assigned.credits).toBe(nextGets);
      expect((await ledger.balance('U0LENA001')).quota).toBe(4000 + nextGets);
      await expectVerified();
    });

    it('forfeits what is left of the plan, and a restore in the same cycle gives back that, not a fresh grant', async () => {
      await ledger.putSeat('U0MAYA001', { plan: 'pro' });
      await use('U0MAYA001', 2500);
      const revoked = await ledger.revokeSeat('U0MAYA001');
      expect(revoked.forfeited).toBe(1500);
      expect((await ledger.report('2026-05')).rows.find((r) => r.user === 'U0MAYA001')).toMatchObject({ forfeited: 1500, remaining: 0 });
      clock.advance(day_ms);
      const restored = await ledger.putSeat('U0MAYA001', { plan: 'pro' });
      expect(restored).toMatchObject({ change: 'restored', credits: 1500 });
      expect(await ledger.balance('U0MAYA001')).toMatchObject({ quota: 4000, used: 2500, remaining: 1500 });
      await expectVerified();
    });

    it('restores with a fresh grant in a later cycle', async () => {
      await ledger.putSeat('U0MAYA001', { plan: 'pro' });
      await use('U0MAYA001', 2500);
      await ledger.revokeSeat('U0MAYA001');
      clock.set('2026-06-15T09:00:00Z');
      expect(await ledger.putSeat('U0MAYA001', { plan: 'pro' })).toMatchObject({ change: 'restored', credits: 4000 });
      expect(await ledger.balance('U0MAYA001')).toMatchObject({ quota: 4000, used: 0, cycle: { start: '2026-06-01T00:00:00.000Z' } });
    });
  });

  it('leaves the admin a vendor-console task for every seat and pack change', async () => {
    await ledger.putSeat('U0JACOB01', { plan: 'pro', email: 'jacob@example.com' });
    await ledger.recordPurchase({ product: 'addon', quantity: 1 });
    await ledger.assignPack({ product: 'addon', user: 'U0JACOB01' });
    const tasks = await ledger.openVendorTasks();
    expect(tasks.map((t) => t.text)).toEqual([
      'Assign a Pro license to jacob@example.com in the vendor console',
      'Assign an add-on pack (Add-on) to jacob@example.com in the vendor console',
    ]);
    await ledger.completeVendorTask(tasks[0]!.id, 'U0ADMIN01');
    await expect(ledger.completeVendorTask(tasks[0]!.id, 'U0ADMIN02')).rejects.toThrow(/already marked done by U0ADMIN01/);
    expect(await ledger.openVendorTasks()).toHaveLength(1);
  });

  describe('the cycle reset', () => {
    it('gives fresh plan and pack grants at the boundary, once however often it runs', async () => {
      await ledger.putSeat('U0JACOB01', { plan: 'pro' });
      await ledger.recordPurchase({ product: 'addon', quantity: 1 });
      await ledger.assignPack({ product: 'addon', user: 'U0JACOB01' });
      await use('U0JACOB01', 5000);
      clock.set('2026-06-01T00:00:00Z');
      expect(await ledger.runCycleJobs()).toMatchObject({ seats: 1 });
      expect(await ledger.runCycleJobs()).toMatchObject({ seats: 0 });
      expect(await ledger.balance('U0JACOB01')).toMatchObject({ quota: 6000, used: 0, remaining: 6000, cycle: { start: '2026-06-01T00:00:00.000Z' } });
      await expectVerified();
    });

    it('resets a seat on the spot when it is used after its boundary before the job ran', async () => {
      await ledger.putSeat('U0MAYA001', { plan: 'pro' });
      await use('U0MAYA001', 4000);
      clock.set('2026-06-01T00:05:00Z');
      expect(await use('U0MAYA001', 100)).toMatchObject({ own: 100, overage: 0, cycle: { start: '2026-06-01T00:00:00.000Z' } });
      expect(await ledger.runCycleJobs()).toMatchObject({ seats: 0 });
    });

    it('rolls a plan over up to its cap, and lets the rest expire', async () => {
      await ledger.putPlan('pro', { name: 'Pro', credits: 4000, rolloverCap: 500 });
      await ledger.putSeat('U0MAYA001', { plan: 'pro' });
      await use('U0MAYA001', 3001);
      clock.set('2026-06-01T00:00:00Z');
      await ledger.runCycleJobs();
      expect(await sourcesOf('U0MAYA001')).toEqual([['plan', 4000], ['rollover', 500]]);
      clock.set('2026-06-05T00:00:00Z');
      await ledger.runCycleJobs();
      expect((await ledger.report('2026-05')).rows[0]).toMatchObject({ used: 3001, remaining: 0, expired: 499 });
      await expectVerified();
    });

    it('carries a one-time pack across the boundary and lets it lapse at its own expiry', async () => {
      await ledger.putPackProduct('burst', { name: 'Burst', credits: 1000, kind: 'one_time', expiresDays: 30 });
      await ledger.putSeat('U0MAYA001', { plan: 'pro' });
      await ledger.recordPurchase({ product: 'burst', quantity: 1 });
      await ledger.assignPack({ product: 'burst', user: 'U0MAYA001' });
      await use('U0MAYA001', 400); // from the plan: both expire with the cycle, and the plan goes first
      clock.set('2026-06-01T00:00:00Z');
      await ledger.runCycleJobs();
      const june = await ledger.balance('U0MAYA001');
      expect(june.sources.map((s) => [s.kind, s.remaining, s.expires_at])).toEqual([
        ['plan', 4000, '2026-07-01T00:00:00.000Z'],
        ['pack', 1000, '2026-06-09T12:00:00.000Z'],
      ]);
      clock.set('2026-06-13T00:00:00Z'); // past the pack's expiry and the grace window
      await ledger.runCycleJobs();
      expect(await sourcesOf('U0MAYA001')).toEqual([['plan', 4000]]);
      expect((await ledger.report('2026-06')).rows[0]).toMatchObject({ expired: 1000 });
      await expectVerified();
    });
  });
});
