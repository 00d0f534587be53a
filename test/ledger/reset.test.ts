// The cycle reset and the expiry sweep: fresh grants at each seat's boundary, once; rollover
// within its cap; one-time packs living by their own expiry; expiry booked after the grace window.
import { expect, it } from 'vitest';
import { describeEachDatabase } from '../helpers/db.ts';
import { day_ms, expectVerified, hour_ms, reportRow, sourcesOf, strandedGrants, use, useLedger } from '../helpers/ledger-harness.ts';

describeEachDatabase('cycle reset on %s', (kind) => {
  const h = useLedger(kind);
  const setup = async (plan: { rolloverCap?: number } = {}, pack: { rolloverCap?: number } = {}) => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000, rolloverCap: plan.rolloverCap ?? null });
    await h.ledger.putPackProduct('addon', { name: 'Add-on', credits: 2000, kind: 'recurring', rolloverCap: pack.rolloverCap ?? null });
    await h.ledger.putSeat('U0JACOB01', { plan: 'pro' });
  };
  const grantsAt = async (cycleStart: string) =>
    (await h.db.query<{ n: number }>(`select count(*)::int8 as n from grants where cycle_start = $1`, [cycleStart]))[0]!.n;

  it('gives fresh plan and recurring pack grants across a month boundary', async () => {
    await setup();
    await h.ledger.recordPurchase({ product: 'addon', quantity: 2 });
    await h.ledger.assignPack({ product: 'addon', user: 'U0JACOB01' });
    await h.ledger.assignPack({ product: 'addon', user: 'U0JACOB01' });
    await use(h.ledger, 'U0JACOB01', 5000);
    h.clock.set('2026-06-01T00:00:00Z');
    expect(await h.ledger.runCycleJobs()).toEqual({ seats: 1, pools: 0, expired: 0 });
    expect(await h.ledger.balance('U0JACOB01')).toMatchObject({
      quota: 8000, used: 0, remaining: 8000, cycle: { start: '2026-06-01T00:00:00.000Z', end: '2026-07-01T00:00:00.000Z', name: '2026-06' },
    });
    expect(await sourcesOf(h.ledger, 'U0JACOB01')).toEqual([['plan', 4000], ['pack', 2000], ['pack', 2000]]);
    expect(await use(h.ledger, 'U0JACOB01', 100)).toMatchObject({ own: 100, cycle: { start: '2026-06-01T00:00:00.000Z' } });
    await expectVerified(h.ledger);
  });

  it('applies a reset once however often the cycle jobs run', async () => {
    await setup();
    await h.ledger.putProfile('design', { name: 'Design', poolCredits: 1000 });
    h.clock.set('2026-06-01T00:00:00Z');
    expect(await h.ledger.runCycleJobs()).toMatchObject({ seats: 1, pools: 1 });
    expect(await h.ledger.runCycleJobs()).toEqual({ seats: 0, pools: 0, expired: 0 });
    h.clock.set('2026-06-20T00:00:00Z');
    expect(await h.ledger.runCycleJobs()).toMatchObject({ seats: 0, pools: 0 });
    expect(await grantsAt('2026-06-01T00:00:00Z')).toBe(2);
    expect(await h.db.query(`select kind from journal where kind = 'reset'`)).toHaveLength(1);
    await expectVerified(h.ledger);
  });

  it("resets each seat at its own anchor day and each pool at the org's", async () => {
    await setup();
    await h.ledger.putProfile('design', { name: 'Design', poolCredits: 1000 });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro', anchorDay: 15, profile: 'design' });
    h.clock.set('2026-05-15T00:00:00Z');
    expect(await h.ledger.runCycleJobs()).toMatchObject({ seats: 1, pools: 0 });
    expect((await h.ledger.balance('U0MAYA001')).cycle).toMatchObject({ start: '2026-05-15T00:00:00.000Z', end: '2026-06-15T00:00:00.000Z' });
    expect((await h.ledger.balance('U0JACOB01')).cycle.start).toBe('2026-05-01T00:00:00.000Z');
    h.clock.set('2026-06-01T00:00:00Z');
    expect(await h.ledger.runCycleJobs()).toMatchObject({ seats: 1, pools: 1 });
    await expectVerified(h.ledger);
  });

  it('rolls the plan over up to its cap, and lets the rest expire after the grace window', async () => {
    await setup({ rolloverCap: 500 });
    await use(h.ledger, 'U0JACOB01', 3001);
    h.clock.set('2026-06-01T00:00:00Z');
    await h.ledger.runCycleJobs();
    expect(await sourcesOf(h.ledger, 'U0JACOB01')).toEqual([['plan', 4000], ['rollover', 500]]);
    expect(await h.ledger.balance('U0JACOB01')).toMatchObject({ quota: 4500, remaining: 4500 });
    // Rollover is not carried twice: June's leftovers roll once more, up to the cap again.
    await use(h.ledger, 'U0JACOB01', 4300);
    h.clock.set('2026-07-01T00:00:00Z');
    await h.ledger.runCycleJobs();
    expect(await sourcesOf(h.ledger, 'U0JACOB01')).toEqual([['plan', 4000], ['rollover', 200]]);
    h.clock.set('2026-07-05T00:00:00Z');
    await h.ledger.runCycleJobs();
    expect(await reportRow(h.ledger, '2026-05', 'U0JACOB01')).toMatchObject({ used: 3001, remaining: 0, expired: 499 });
    expect(await reportRow(h.ledger, '2026-06', 'U0JACOB01')).toMatchObject({ quota: 4300, used: 4300, remaining: 0, expired: 0 });
    await expectVerified(h.ledger);
  });

  it("rolls a pack over within the pack's cap and the plan within the plan's, never the same credits twice", async () => {
    await setup({ rolloverCap: 1500 }, { rolloverCap: 3000 });
    await h.ledger.recordPurchase({ product: 'addon', quantity: 1 });
    await h.ledger.assignPack({ product: 'addon', user: 'U0JACOB01' });
    h.clock.set('2026-06-01T00:00:00Z');
    await h.ledger.runCycleJobs();
    // May went unused: the plan rolls 1,500 of its 4,000, the pack all of its 2,000.
    expect(await sourcesOf(h.ledger, 'U0JACOB01')).toEqual([['plan', 4000], ['rollover', 1500], ['pack', 2000], ['rollover', 2000]]);
    await use(h.ledger, 'U0JACOB01', 5500); // the plan and its rollover; the pack and its rollover stay whole
    h.clock.set('2026-07-01T00:00:00Z');
    await h.ledger.runCycleJobs();
    // The plan has nothing left to roll; the pack rolls 3,000 of its 4,000.
    expect(await sourcesOf(h.ledger, 'U0JACOB01')).toEqual([['plan', 4000], ['pack', 2000], ['rollover', 3000]]);
    h.clock.set('2026-07-05T00:00:00Z');
    await h.ledger.runCycleJobs();
    expect(await reportRow(h.ledger, '2026-06', 'U0JACOB01')).toMatchObject({ used: 5500, expired: 1000, remaining: 0 });
    await expectVerified(h.ledger);
  });

  it('carries a one-time pack across the boundary and lets it lapse at its own expiry', async () => {
    await setup();
    await h.ledger.putPackProduct('burst', { name: 'Burst', credits: 1000, kind: 'one_time', expiresDays: 30 });
    await h.ledger.recordPurchase({ product: 'burst', quantity: 1 });
    await h.ledger.assignPack({ product: 'burst', user: 'U0JACOB01' }); // lasts until June 9, 12:00
    await use(h.ledger, 'U0JACOB01', 4300); // the plan (same expiry, drawn first), then 300 of the pack
    h.clock.set('2026-06-01T00:00:00Z');
    await h.ledger.runCycleJobs();
    const june = await h.ledger.balance('U0JACOB01');
    expect(june.sources.map((s) => [s.kind, s.remaining, s.expires_at])).toEqual([
      ['plan', 4000, '2026-07-01T00:00:00.000Z'],
      ['pack', 700, '2026-06-09T12:00:00.000Z'],
    ]);
    expect(june).toMatchObject({ quota: 4700, remaining: 4700 });
    // Drawn first, since it expires first.
    expect(await use(h.ledger, 'U0JACOB01', 200)).toMatchObject({ own: 200 });
    expect(await sourcesOf(h.ledger, 'U0JACOB01')).toEqual([['plan', 4000], ['pack', 500]]);
    h.clock.set('2026-06-10T00:00:00Z'); // past the pack's expiry: it no longer counts for usage
    expect(await use(h.ledger, 'U0JACOB01', 4100)).toMatchObject({ own: 4000, overage: 100 });
    h.clock.set('2026-06-12T12:00:00Z'); // and past its grace window: booked as expired
    await h.ledger.runCycleJobs();
    expect(await sourcesOf(h.ledger, 'U0JACOB01')).toEqual([['plan', 0]]);
    expect(await reportRow(h.ledger, '2026-06', 'U0JACOB01')).toMatchObject({ expired: 500, remaining: 0 });
    // Not carried into July: the pack has lapsed.
    h.clock.set('2026-07-01T00:00:00Z');
    await h.ledger.runCycleJobs();
    expect(await sourcesOf(h.ledger, 'U0JACOB01')).toEqual([['plan', 4000]]);
    await expectVerified(h.ledger);
  });

  it('books what a closed cycle left as expired only once the grace window has passed', async () => {
    await setup();
    await h.ledger.putProfile('design', { name: 'Design', poolCredits: 1000 });
    await use(h.ledger, 'U0JACOB01', 1000);
    h.clock.set('2026-06-01T00:00:00Z');
    await h.ledger.runCycleJobs();
    h.clock.set(new Date(Date.parse('2026-06-01T00:00:00Z') + 72 * hour_ms - 1).toISOString());
    expect(await h.ledger.runCycleJobs()).toMatchObject({ expired: 0 });
    expect(await reportRow(h.ledger, '2026-05', 'U0JACOB01')).toMatchObject({ remaining: 3000, expired: 0 });
    h.clock.set('2026-06-04T00:00:00Z');
    expect(await h.ledger.runCycleJobs()).toMatchObject({ expired: 2 }); // the plan grant and the pool
    expect(await reportRow(h.ledger, '2026-05', 'U0JACOB01')).toMatchObject({ used: 1000, remaining: 0, expired: 3000 });
    const [pool] = await h.db.query<{ remaining: number; closed: boolean }>(
      `select remaining, closed_at is not null as closed from grants where source = 'pool' and cycle_start = '2026-05-01T00:00:00Z'`,
    );
    expect(pool).toEqual({ remaining: 0, closed: true });
    expect(await h.ledger.runCycleJobs()).toMatchObject({ expired: 0 });
    await expectVerified(h.ledger);
  });

  it('resets a seat on the spot when it is used after its boundary before the reset job ran, with no overage', async () => {
    await setup();
    await use(h.ledger, 'U0JACOB01', 4000);
    h.clock.set('2026-06-01T00:05:00Z');
    expect(await use(h.ledger, 'U0JACOB01', 100)).toMatchObject({ own: 100, overage: 0, cycle: { start: '2026-06-01T00:00:00.000Z' } });
    expect(await h.ledger.runCycleJobs()).toMatchObject({ seats: 0 });
    expect(await h.ledger.balance('U0JACOB01')).toMatchObject({ quota: 4000, used: 100, overage: 0 });
    await expectVerified(h.ledger);
  });

  it('catches up a reset that was missed while the service was down', async () => {
    await setup();
    await use(h.ledger, 'U0JACOB01', 1000);
    h.clock.set('2026-06-17T08:00:00Z');
    expect(await h.ledger.runCycleJobs()).toEqual({ seats: 1, pools: 0, expired: 1 });
    expect(await h.ledger.balance('U0JACOB01')).toMatchObject({ quota: 4000, used: 0, cycle: { start: '2026-06-01T00:00:00.000Z' } });
    expect(await reportRow(h.ledger, '2026-05', 'U0JACOB01')).toMatchObject({ expired: 3000 });
    await expectVerified(h.ledger);
  });

  it("lets last cycle's pack credits expire when the pack is unassigned during the grace window", async () => {
    await setup();
    await h.ledger.recordPurchase({ product: 'addon', quantity: 1 });
    const { packId } = await h.ledger.assignPack({ product: 'addon', user: 'U0JACOB01' });
    await use(h.ledger, 'U0JACOB01', 4500);
    h.clock.set('2026-06-01T00:00:00Z');
    await h.ledger.runCycleJobs();
    h.clock.set('2026-06-02T00:00:00Z');
    expect((await h.ledger.unassignPack({ packId })).release).toMatchObject({ unused: 2000 });
    // A late May event still draws on May's pack grant, which the pack earned while it was held.
    expect(await use(h.ledger, 'U0JACOB01', 100, { at: new Date('2026-05-31T12:00:00Z') })).toMatchObject({ own: 100, late: true });
    h.clock.set('2026-06-04T00:00:00Z');
    await h.ledger.runCycleJobs();
    expect(await reportRow(h.ledger, '2026-05', 'U0JACOB01')).toMatchObject({ used: 4600, remaining: 0, expired: 1400 });
    expect(await strandedGrants(h.db)).toEqual([]);
    await expectVerified(h.ledger);
  });

  it("unassigns a pack from a seat the reset job has not reached by releasing this cycle's grant", async () => {
    await setup();
    await h.ledger.recordPurchase({ product: 'addon', quantity: 1 });
    const { packId } = await h.ledger.assignPack({ product: 'addon', user: 'U0JACOB01' });
    await use(h.ledger, 'U0JACOB01', 4500);
    h.clock.set('2026-06-01T06:00:00Z'); // the reset job has not run yet
    expect((await h.ledger.unassignPack({ packId })).release).toMatchObject({ unused: 2000 });
    expect(await h.ledger.balance('U0JACOB01')).toMatchObject({ quota: 4000, cycle: { start: '2026-06-01T00:00:00.000Z' } });
    h.clock.set('2026-06-04T00:00:00Z');
    await h.ledger.runCycleJobs();
    expect(await reportRow(h.ledger, '2026-05', 'U0JACOB01')).toMatchObject({ quota: 6000, used: 4500, expired: 1500 });
    expect(await strandedGrants(h.db)).toEqual([]);
    await expectVerified(h.ledger);
  });
});
