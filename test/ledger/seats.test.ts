// Seats: the mid-cycle start, revocation (forfeit, packs back to inventory under their reassign
// policy, the preview), restore in the same or a later cycle, and the vendor-console tasks.
import { describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../helpers/db.ts';
import { day_ms, expectVerified, reportRow, sourcesOf, strandedGrants, use, useLedger } from '../helpers/ledger-harness.ts';

type Policy = 'remaining' | 'full' | 'next_cycle';

describeEachDatabase('seats on %s', (kind) => {
  const h = useLedger(kind);
  const setup = async (reassign: Policy = 'remaining', rolloverCap: number | null = null) => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putPackProduct('addon', { name: 'Add-on', credits: 2000, kind: 'recurring', reassign, rolloverCap });
  };

  it('gives a seat added mid-cycle its full plan grant', async () => {
    await setup();
    expect(await h.ledger.putSeat('U0MAYA001', { plan: 'pro' })).toMatchObject({
      change: 'created', credits: 4000, cycle: { start: '2026-05-01T00:00:00.000Z', end: '2026-06-01T00:00:00.000Z' },
    });
    expect(await h.ledger.balance('U0MAYA001')).toMatchObject({ quota: 4000, remaining: 4000, used: 0 });
  });

  it("gives a seat added mid-cycle a pro-rated plan grant under proration 'daily'", async () => {
    await setup();
    const prorated = h.with({ proration: 'daily' });
    // May 10 to June 1 is 22 of May's 31 days.
    expect(await prorated.putSeat('U0MAYA001', { plan: 'pro' })).toMatchObject({ credits: Math.round((4000 * 22) / 31) });
    expect((await prorated.balance('U0MAYA001')).quota).toBe(2839);
    // The first full cycle gets the whole plan.
    h.clock.set('2026-06-01T00:00:00Z');
    await prorated.runCycleJobs();
    expect((await prorated.balance('U0MAYA001')).quota).toBe(4000);
    // A seat added on its anchor day is not pro-rated.
    expect(await prorated.putSeat('U0LENA001', { plan: 'pro' })).toMatchObject({ credits: 4000 });
    await expectVerified(prorated);
  });

  it("starts a seat's cycle on its own anchor day", async () => {
    await setup();
    expect(await h.ledger.putSeat('U0MAYA001', { plan: 'pro', anchorDay: 31 })).toMatchObject({
      cycle: { start: '2026-04-30T00:00:00.000Z', end: '2026-05-31T00:00:00.000Z' },
    });
    await expect(h.ledger.putSeat('U0MAYA001', { plan: 'pro', anchorDay: 15 })).rejects.toThrow(/anchor day is 31 and cannot change/);
  });

  it('forfeits what is left of the plan and manual grants when a seat is revoked', async () => {
    await setup();
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
    await h.ledger.adjust({ user: 'U0MAYA001', credits: 300, reason: 'bonus' });
    await use(h.ledger, 'U0MAYA001', 2500);
    h.clock.advance(day_ms);
    const revoked = await h.ledger.revokeSeat('U0MAYA001', 'U0ADMIN01');
    expect(revoked).toMatchObject({ forfeited: 1800, packs: [] });
    expect(await h.ledger.balance('U0MAYA001')).toMatchObject({ status: 'revoked', quota: 2500, used: 2500, remaining: 0 });
    expect(await reportRow(h.ledger, '2026-05', 'U0MAYA001')).toMatchObject({ forfeited: 1800, remaining: 0, used: 2500 });
    expect(await h.db.query(`select kind, actor, reason from journal where kind = 'revoke'`)).toEqual([{ kind: 'revoke', actor: 'U0ADMIN01', reason: 'seat revoked' }]);
    await expect(h.ledger.revokeSeat('U0MAYA001')).rejects.toThrow(/has no active seat to revoke/);
    expect(await strandedGrants(h.db)).toEqual([]);
    await expectVerified(h.ledger);
  });

  describe('a half-used pack leaving a revoked seat', () => {
    const revokeJacobWithHalfUsedPack = async (policy: Policy) => {
      await setup(policy);
      await h.ledger.putSeat('U0JACOB01', { plan: 'pro', email: 'jacob@example.com' });
      await h.ledger.putSeat('U0LENA001', { plan: 'pro' });
      await h.ledger.recordPurchase({ product: 'addon', quantity: 1 });
      await h.ledger.assignPack({ product: 'addon', user: 'U0JACOB01' });
      await use(h.ledger, 'U0JACOB01', 5000); // the plan's 4,000 and 1,000 of the pack
      h.clock.advance(day_ms);
    };

    it.each([
      ['remaining', 1000, 0],
      ['full', 2000, 1000],
      ['next_cycle', 0, 1000],
    ] as const)('under %s gives the next assignee %i this cycle and forfeits %i, as the preview said', async (policy, nextGets, packForfeit) => {
      await revokeJacobWithHalfUsedPack(policy);
      const preview = await h.ledger.previewRevoke('U0JACOB01');
      expect(preview).toMatchObject({
        forfeited: 0,
        packs: [{ pack_id: 1, product: 'addon', policy, unused: 1000, next_assignee_gets: nextGets, forfeited: packForfeit }],
      });
      expect(await h.ledger.revokeSeat('U0JACOB01')).toEqual(preview);
      expect(await reportRow(h.ledger, '2026-05', 'U0JACOB01')).toMatchObject({ forfeited: packForfeit, remaining: 0 });
      const assigned = await h.ledger.assignPack({ product: 'addon', user: 'U0LENA001' });
      expect(assigned).toMatchObject({ packId: 1, credits: nextGets });
      expect(await h.ledger.balance('U0LENA001')).toMatchObject({ quota: 4000 + nextGets, remaining: 4000 + nextGets });
      // At Lena's next reset the pack gives its full credits whatever the policy.
      h.clock.set('2026-06-01T00:00:00Z');
      await h.ledger.runCycleJobs();
      expect(await h.ledger.balance('U0LENA001')).toMatchObject({ quota: 6000 });
      expect(await strandedGrants(h.db)).toEqual([]);
      await expectVerified(h.ledger);
    });

    it.each([
      ['remaining', 1000],
      ['full', 2000],
      ['next_cycle', 0],
    ] as const)('under %s gives the next assignee %i after an unassign, as the unassign said', async (policy, nextGets) => {
      await revokeJacobWithHalfUsedPack(policy);
      const { release } = await h.ledger.unassignPack({ packId: 1 });
      expect(release).toMatchObject({ policy, unused: 1000, next_assignee_gets: nextGets });
      expect((await h.ledger.assignPack({ product: 'addon', user: 'U0LENA001' })).credits).toBe(nextGets);
      expect((await h.ledger.balance('U0JACOB01')).quota).toBe(5000);
      expect(await strandedGrants(h.db)).toEqual([]);
      await expectVerified(h.ledger);
    });
  });

  it('previews the revocation of a seat whose cycle ended before the reset job reached it as the revoke then does', async () => {
    await setup();
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
    await h.ledger.recordPurchase({ product: 'addon', quantity: 1 });
    await h.ledger.assignPack({ product: 'addon', user: 'U0MAYA001' });
    await use(h.ledger, 'U0MAYA001', 5000);
    h.clock.set('2026-06-01T09:00:00Z'); // the reset job has not run yet
    const preview = await h.ledger.previewRevoke('U0MAYA001');
    expect(preview).toMatchObject({ cycle: { start: '2026-06-01T00:00:00.000Z' }, forfeited: 4000, packs: [{ unused: 2000 }] });
    expect(await h.ledger.revokeSeat('U0MAYA001')).toEqual(preview);
    await expectVerified(h.ledger);
  });

  it('releases every credit a pack holds on revoke, its rollover too', async () => {
    await setup('remaining', 1500);
    await h.ledger.putSeat('U0JACOB01', { plan: 'pro' });
    await h.ledger.putSeat('U0LENA001', { plan: 'pro' });
    await h.ledger.recordPurchase({ product: 'addon', quantity: 1 });
    await h.ledger.assignPack({ product: 'addon', user: 'U0JACOB01' });
    await use(h.ledger, 'U0JACOB01', 4500); // 500 of the pack: 1,500 roll over
    h.clock.set('2026-06-01T00:00:00Z');
    await h.ledger.runCycleJobs();
    expect(await sourcesOf(h.ledger, 'U0JACOB01')).toEqual([['plan', 4000], ['pack', 2000], ['rollover', 1500]]);
    await use(h.ledger, 'U0JACOB01', 4200); // plan, then 200 of the pack's rollover
    h.clock.set('2026-06-10T00:00:00Z');
    const preview = await h.ledger.previewRevoke('U0JACOB01');
    expect(preview.packs).toEqual([expect.objectContaining({ unused: 3300, next_assignee_gets: 3300, forfeited: 0 })]);
    expect(await h.ledger.revokeSeat('U0JACOB01')).toEqual(preview);
    expect(await reportRow(h.ledger, '2026-06', 'U0JACOB01')).toMatchObject({ remaining: 0, used: 4200 });
    expect(await h.ledger.assignPack({ product: 'addon', user: 'U0LENA001' })).toMatchObject({ credits: 3300 });
    expect(await strandedGrants(h.db)).toEqual([]);
    await expectVerified(h.ledger);
  });

  it('gives back on a restore in the same cycle what the seat had left, not a fresh grant', async () => {
    await setup();
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
    await h.ledger.adjust({ user: 'U0MAYA001', credits: 500, reason: 'bonus' });
    await use(h.ledger, 'U0MAYA001', 2500);
    await h.ledger.revokeSeat('U0MAYA001');
    h.clock.advance(day_ms);
    expect(await h.ledger.putSeat('U0MAYA001', { plan: 'pro' })).toMatchObject({ change: 'restored', credits: 2000 });
    expect(await h.ledger.balance('U0MAYA001')).toMatchObject({ status: 'active', quota: 4500, used: 2500, remaining: 2000 });
    expect(await sourcesOf(h.ledger, 'U0MAYA001')).toEqual([['plan', 1500], ['manual', 500]]);
    expect(await reportRow(h.ledger, '2026-05', 'U0MAYA001')).toMatchObject({ forfeited: 0 });
    // The restored grants work as before, and expire with the cycle.
    expect(await use(h.ledger, 'U0MAYA001', 2000)).toMatchObject({ own: 2000, overage: 0 });
    // Revoked and restored again, the seat still has only what was left.
    await h.ledger.revokeSeat('U0MAYA001');
    expect(await h.ledger.putSeat('U0MAYA001', { plan: 'pro' })).toMatchObject({ credits: 0 });
    expect((await h.ledger.balance('U0MAYA001')).remaining).toBe(0);
    await expectVerified(h.ledger);
  });

  it.each(['full', 'next_cycle'] as const)(
    "does not give back on a restore the rollover of a pack that went back to inventory (%s)",
    async (reassign) => {
      await setup(reassign, 2500);
      await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
      await h.ledger.recordPurchase({ product: 'addon', quantity: 1 });
      await h.ledger.assignPack({ product: 'addon', user: 'U0MAYA001' });
      // June: the plan's 4,000, the pack's 2,000, and the pack's unused May 2,000 rolled over.
      h.clock.set('2026-06-02T09:00:00Z');
      expect(await sourcesOf(h.ledger, 'U0MAYA001')).toEqual([['plan', 4000], ['pack', 2000], ['rollover', 2000]]);
      expect(await h.ledger.revokeSeat('U0MAYA001')).toMatchObject({ forfeited: 4000, packs: [{ unused: 4000, forfeited: 4000 }] });
      // The restore gives back the plan's forfeited 4,000; the pack's credits left with the pack.
      expect(await h.ledger.putSeat('U0MAYA001', { plan: 'pro' })).toMatchObject({ change: 'restored', credits: 4000 });
      expect(await sourcesOf(h.ledger, 'U0MAYA001')).toEqual([['plan', 4000]]);
      expect(await h.ledger.balance('U0MAYA001')).toMatchObject({ quota: 4000, remaining: 4000 });
      // Revoked again, nothing is left behind on a closed grant.
      expect(await h.ledger.revokeSeat('U0MAYA001')).toMatchObject({ forfeited: 4000, packs: [] });
      expect(await strandedGrants(h.db)).toEqual([]);
      await expectVerified(h.ledger);
    },
  );

  it('assigns a free pack that gives credits before one that would give nothing, and a used one with credits left before a fresh one', async () => {
    await setup();
    await h.ledger.putPackProduct('once', { name: 'Once', credits: 300, kind: 'one_time', expiresDays: 20 });
    await h.ledger.recordPurchase({ product: 'once', quantity: 2 });
    for (const user of ['U0MAYA001', 'U0LENA001', 'U0OMAR001']) await h.ledger.putSeat(user, { plan: 'pro' });
    // Pack 1 is used up by Maya and goes back to stock with nothing left to carry.
    expect(await h.ledger.assignPack({ product: 'once', user: 'U0MAYA001' })).toMatchObject({ packId: 1, credits: 300 });
    await use(h.ledger, 'U0MAYA001', 4300);
    await h.ledger.unassignPack({ packId: 1 });
    // Lena gets pack 2's 300, not pack 1's nothing.
    expect(await h.ledger.assignPack({ product: 'once', user: 'U0LENA001' })).toMatchObject({ packId: 2, credits: 300 });
    // Only pack 1 is left: it is assigned, and says it brings nothing.
    expect(await h.ledger.assignPack({ product: 'once', user: 'U0OMAR001' })).toMatchObject({ packId: 1, credits: 0 });
    // Recurring: a pack with credits left to carry goes before a fresh one, so they do not expire in stock.
    await h.ledger.recordPurchase({ product: 'addon', quantity: 2 });
    expect(await h.ledger.assignPack({ product: 'addon', user: 'U0MAYA001' })).toMatchObject({ packId: 3, credits: 2000 });
    await h.ledger.unassignPack({ packId: 3 });
    expect(await h.ledger.assignPack({ product: 'addon', user: 'U0LENA001' })).toMatchObject({ packId: 3, credits: 2000 });
    await expectVerified(h.ledger);
  });

  it('gives a plan removed and added again in the same cycle what it had left, not a fresh grant, however it left', async () => {
    await setup();
    await h.ledger.putPlan('small', { name: 'Small', credits: 1000 });
    await h.ledger.putPlan('view', { name: 'View', credits: 500 });
    await h.ledger.putSeat('U0MAYA001', { plan: 'small' });
    await use(h.ledger, 'U0MAYA001', 900);
    // Swapped to Pro and back: Small gets back its 100, Pro forfeits its 4,000.
    expect(await h.ledger.putSeat('U0MAYA001', { plan: 'pro' })).toMatchObject({ credits: 4000, forfeited: 100 });
    expect(await h.ledger.putSeat('U0MAYA001', { plan: 'small' })).toMatchObject({ credits: 100, forfeited: 4000 });
    expect(await h.ledger.balance('U0MAYA001')).toMatchObject({ quota: 1000, used: 900, remaining: 100 });
    // Pro comes back with the 4,000 it had, once: a second round trip gives nothing new.
    expect(await h.ledger.putSeat('U0MAYA001', { plans: ['small', 'pro'] })).toMatchObject({ credits: 4000 });
    await use(h.ledger, 'U0MAYA001', 4050);
    expect(await h.ledger.putSeat('U0MAYA001', { plan: 'view' })).toMatchObject({ credits: 500, forfeited: 50 });
    expect(await h.ledger.putSeat('U0MAYA001', { plans: ['small', 'pro', 'view'] })).toMatchObject({ credits: 50 });
    expect(await h.ledger.balance('U0MAYA001')).toMatchObject({ quota: 5500, used: 4950, remaining: 550 });
    // Revoked, restored with another plan, then switched back: what the revoke took, no more.
    await h.ledger.putSeat('U0LENA001', { plan: 'small' });
    await use(h.ledger, 'U0LENA001', 800);
    expect(await h.ledger.revokeSeat('U0LENA001')).toMatchObject({ forfeited: 200 });
    expect(await h.ledger.putSeat('U0LENA001', { plan: 'view' })).toMatchObject({ change: 'restored', credits: 500 });
    expect(await h.ledger.putSeat('U0LENA001', { plan: 'small' })).toMatchObject({ credits: 200, forfeited: 500 });
    expect(await h.ledger.balance('U0LENA001')).toMatchObject({ quota: 1000, used: 800, remaining: 200 });
    // In the next cycle a plan added is a plan added: a fresh grant.
    h.clock.set('2026-06-02T09:00:00Z');
    expect(await h.ledger.putSeat('U0LENA001', { plans: ['small', 'view'] })).toMatchObject({ credits: 500 });
    expect(await h.ledger.balance('U0LENA001')).toMatchObject({ quota: 1500, used: 0 });
    expect(await strandedGrants(h.db)).toEqual([]);
    await expectVerified(h.ledger);
  });

  it('gives a fresh plan grant on a restore in a later cycle', async () => {
    await setup();
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
    await use(h.ledger, 'U0MAYA001', 2500);
    await h.ledger.revokeSeat('U0MAYA001');
    h.clock.set('2026-06-15T09:00:00Z');
    await h.ledger.runCycleJobs(); // a revoked seat is not reset
    expect(await h.ledger.putSeat('U0MAYA001', { plan: 'pro' })).toMatchObject({
      change: 'restored', credits: 4000, cycle: { start: '2026-06-01T00:00:00.000Z' },
    });
    expect(await h.ledger.balance('U0MAYA001')).toMatchObject({ quota: 4000, used: 0, remaining: 4000 });
    expect(await reportRow(h.ledger, '2026-05', 'U0MAYA001')).toMatchObject({ used: 2500, forfeited: 1500 });
    await expectVerified(h.ledger);
  });

  it('leaves the admin a vendor-console task for every seat and pack change, done once', async () => {
    await setup();
    await h.ledger.putSeat('U0JACOB01', { plan: 'pro', email: 'jacob@example.com' });
    await h.ledger.recordPurchase({ product: 'addon', quantity: 2 });
    await h.ledger.assignPack({ product: 'addon', user: 'U0JACOB01' });
    const { packId } = await h.ledger.assignPack({ product: 'addon', user: 'U0JACOB01' });
    await h.ledger.unassignPack({ packId });
    await h.ledger.putPlan('max', { name: 'Max', credits: 9000 });
    await h.ledger.putSeat('U0JACOB01', { plan: 'max' });
    await h.ledger.revokeSeat('U0JACOB01');
    await h.ledger.putSeat('U0JACOB01', { plan: 'pro' });
    const tasks = await h.ledger.openVendorTasks();
    expect(tasks.map((t) => t.text)).toEqual([
      'Assign a Pro license to jacob@example.com in the vendor console',
      'Assign an add-on pack (Add-on) to jacob@example.com in the vendor console',
      'Assign an add-on pack (Add-on) to jacob@example.com in the vendor console',
      'Remove the add-on pack (Add-on) from jacob@example.com in the vendor console',
      'Change the license of jacob@example.com to Max in the vendor console',
      'Remove the Max license from jacob@example.com in the vendor console',
      'Remove the add-on pack (Add-on) from jacob@example.com in the vendor console',
      'Assign a Pro license to jacob@example.com in the vendor console (seat restored)',
    ]);
    await h.ledger.completeVendorTask(tasks[0]!.id, 'U0ADMIN01');
    await expect(h.ledger.completeVendorTask(tasks[0]!.id, 'U0ADMIN02')).rejects.toThrow(/already marked done by U0ADMIN01/);
    await expect(h.ledger.completeVendorTask(999, 'U0ADMIN01')).rejects.toThrow(/no vendor task 999/);
    expect(await h.ledger.openVendorTasks()).toHaveLength(tasks.length - 1);
  });
});
