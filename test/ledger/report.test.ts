// What the admin could not see: breakage and what it cost, pack moves that would have helped,
// and chargeback by profile or department.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { apportion, breakage, chargeback, dailyUsage, fullReport, packAdvice } from '../../src/ledger/report.ts';
import { describeEachDatabase, emptyDatabase, openTestDatabase, TestClock, testLedger } from '../helpers/db.ts';

describeEachDatabase('the cycle report on %s', (kind) => {
  let db: Database;
  const clock = new TestClock(new Date('2026-05-02T12:00:00Z'));
  const ledger = () => testLedger(db, clock);

  beforeAll(async () => {
    db = await openTestDatabase(kind);
    const l = ledger();
    await l.putPlan('pro', { name: 'Pro', credits: 4000 });
    await l.putPackProduct('addon', { name: 'Add-on 2,000', credits: 2000, kind: 'recurring' });
    await l.putProfile('design', { name: 'Design' });
    await l.recordPurchase({ product: 'addon', quantity: 2, unitCost: '120.00' });
    await l.putSeat('U0LENA001', { plan: 'pro' });
    await l.putSeat('U0MAYA001', { plan: 'pro', profile: 'design' });
    await l.assignPack({ product: 'addon', user: 'U0LENA001' });
    await db.query(`update members set attributes = jsonb_build_object('department', case when slack_id = 'U0LENA001' then 'Marketing' else 'Design' end)`);
    await l.recordUsage({ id: 'lena', user: 'U0LENA001', credits: 180 });
    clock.set('2026-05-10T15:00:00Z');
    await l.recordUsage({ id: 'maya', user: 'U0MAYA001', credits: 4500 });
  });
  afterAll(async () => db.close());

  it('counts usage per day of the cycle, with days still to come left empty', async () => {
    const days = await dailyUsage(ledger().ctx, '2026-05');
    expect(days).toHaveLength(31);
    expect(days[1]).toEqual({ day: '2026-05-02', used: 180 });
    expect(days[9]).toEqual({ day: '2026-05-10', used: 4500 });
    expect(days[10]).toEqual({ day: '2026-05-11', used: null });
  });

  it('advises moving an idle pack from a light user to the member who ran dry, naming the day', async () => {
    expect(await packAdvice(ledger().ctx, '2026-05')).toEqual([
      { product: 'Add-on 2,000', credits: 2000, from: 'U0LENA001', fromPctUsed: 3, to: 'U0MAYA001', ranOutOnDay: 10 },
    ]);
  });

  it('never advises moving a pack to the member who holds it', async () => {
    const own = await openTestDatabase(kind);
    const l = testLedger(own, new TestClock(new Date('2026-05-11T12:00:00Z')));
    await l.putPlan('pro', { name: 'Pro', credits: 4000 });
    await l.putPackProduct('addon', { name: 'Add-on 2,000', credits: 2000, kind: 'recurring' });
    await l.recordPurchase({ product: 'addon', quantity: 1 });
    await l.putSeat('U0MAYA001', { plan: 'pro' });
    // Maya runs dry on the 10th (500 over), then is given the pack and 100,000 more: 4 % used,
    // so she is both the idlest pack holder and the member who ran dry.
    await l.recordUsage({ id: 'maya', user: 'U0MAYA001', credits: 4500, at: new Date('2026-05-10T09:00:00Z') });
    await l.assignPack({ product: 'addon', user: 'U0MAYA001' });
    await l.adjust({ user: 'U0MAYA001', credits: 100_000, reason: 'a launch' });
    expect(await packAdvice(l.ctx, '2026-05')).toEqual([]);
    await own.close();
  });

  it('counts the day a member ran dry as the org does, in its time zone', async () => {
    const zoned = await openTestDatabase(kind);
    const la = testLedger(zoned, new TestClock(new Date('2026-05-11T12:00:00Z')), { zone: 'America/Los_Angeles' });
    await la.putPlan('pro', { name: 'Pro', credits: 4000 });
    await la.putPackProduct('addon', { name: 'Add-on 2,000', credits: 2000, kind: 'recurring' });
    await la.recordPurchase({ product: 'addon', quantity: 1 });
    await la.putSeat('U0LENA001', { plan: 'pro' });
    await la.putSeat('U0MAYA001', { plan: 'pro' });
    await la.assignPack({ product: 'addon', user: 'U0LENA001' });
    // 03:00 UTC on 10 May is still the evening of 9 May in Los Angeles: day 9 of the cycle.
    await la.recordUsage({ id: 'maya', user: 'U0MAYA001', credits: 4500, at: new Date('2026-05-10T03:00:00Z') });
    expect((await packAdvice(la.ctx, '2026-05')).map((m) => m.ranOutOnDay)).toEqual([9]);
    await zoned.close();
  });

  it('charges back by department and by profile, with what the packs cost', async () => {
    expect(await chargeback(ledger().ctx, '2026-05', { attribute: 'department' })).toEqual([
      { group: 'Design', seats: 1, quota: 4000, used: 4500, remaining: 0, overage: 500, packCost: null },
      { group: 'Marketing', seats: 1, quota: 6000, used: 180, remaining: 5820, overage: 0, packCost: 120 },
    ]);
    expect((await chargeback(ledger().ctx, '2026-05', { profile: true })).map((r) => r.group)).toEqual(['design', null]);
  });

  it('gives the command line and the API the report grouped as asked, by attribute or by profile', async () => {
    const byDepartment = await fullReport(ledger().ctx, '2026-05', 'attribute:department');
    expect(byDepartment.chargeback?.map((r) => [r.group, r.packCost])).toEqual([['Design', null], ['Marketing', 120]]);
    expect((await fullReport(ledger().ctx, '2026-05', 'profile')).chargeback?.map((r) => r.group)).toEqual(['design', null]);
    expect(await fullReport(ledger().ctx, '2026-05')).not.toHaveProperty('chargeback');
  });

  it('names the credits that expired unused and what the pack part of them cost', async () => {
    clock.set('2026-06-05T00:00:00Z'); // past the boundary and its 72 h grace window
    await ledger().runCycleJobs();
    // Lena used 180 of her plan: 3,820 of it and the whole 2,000 pack expired; the pack cost 120 for 2,000.
    expect(await breakage(ledger().ctx, '2026-05')).toEqual({ cycle: '2026-05', expired: 5820, packCredits: 2000, packCost: 120 });
  });
});

describe('apportioning a cost', () => {
  it('splits a total into parts in proportion that add up to it, the units left over to the largest remainders', () => {
    expect(apportion(499_900n, [2000n, 1500n])).toEqual([285_657n, 214_243n]);
    expect(apportion(10_000n, [1n, 1n, 1n])).toEqual([3_334n, 3_333n, 3_333n]);
    expect(apportion(7n, [0n, 0n])).toEqual([4n, 3n]);
  });
});

describeEachDatabase('chargeback of pack costs on %s', (kind) => {
  let db: Database;
  const clock = new TestClock(new Date('2026-05-02T12:00:00Z'));
  const ledger = () => testLedger(db, clock);
  const department = (slackId: string, name: string) =>
    db.query(`update members set attributes = jsonb_build_object('department', $2::text) where slack_id = $1`, [slackId, name]);

  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(async () => db.close());
  beforeEach(async () => {
    await emptyDatabase(db);
    clock.set('2026-05-02T12:00:00Z');
    const l = ledger();
    await l.putPlan('pro', { name: 'Pro', credits: 4000 });
    await l.putPackProduct('addon', { name: 'Add-on 2,000', credits: 2000, kind: 'recurring' });
    await l.putProfile('design', { name: 'Design' });
  });

  it('attributes each pack\'s cost once, however the packs moved between groups: two packs at 49.99 are 99.98', async () => {
    const l = ledger();
    await l.recordPurchase({ product: 'addon', quantity: 2, unitCost: '49.99' });
    await l.putSeat('U0LENA001', { plan: 'pro' });
    await l.putSeat('U0MAYA001', { plan: 'pro', profile: 'design' });
    await department('U0LENA001', 'Marketing');
    await department('U0MAYA001', 'Design');
    const first = await l.assignPack({ product: 'addon', user: 'U0LENA001' });
    const second = await l.assignPack({ product: 'addon', user: 'U0MAYA001' });
    await l.recordUsage({ id: 'lena', user: 'U0LENA001', credits: 4500 }); // her plan, then 500 of the first pack
    clock.set('2026-05-15T12:00:00Z');
    await l.unassignPack({ packId: first.packId });
    await l.unassignPack({ packId: second.packId });
    // The packs swap holders, each carrying what it had left: the first 1,500 to Maya, the second 2,000 to Lena.
    expect(await l.assignPack({ product: 'addon', user: 'U0MAYA001' })).toMatchObject({ packId: first.packId, credits: 1500 });
    expect(await l.assignPack({ product: 'addon', user: 'U0LENA001' })).toMatchObject({ packId: second.packId, credits: 2000 });

    // The first pack granted Marketing 2,000 and Design 1,500: 4/7 and 3/7 of 49.99 (28.5657 and 21.4243);
    // the second granted 2,000 to each: 24.995 each. Marketing 53.5607, Design 46.4193, to the cent.
    const byDepartment = await chargeback(l.ctx, '2026-05', { attribute: 'department' });
    expect(byDepartment.map((r) => [r.group, r.packCost])).toEqual([['Design', 46.42], ['Marketing', 53.56]]);
    const byProfile = await chargeback(l.ctx, '2026-05', { profile: true });
    expect(byProfile.map((r) => [r.group, r.packCost])).toEqual([['design', 46.42], [null, 53.56]]);
    for (const rows of [byDepartment, byProfile]) expect(rows.reduce((sum, r) => sum + Math.round(r.packCost! * 100), 0)).toBe(9998);
  });

  it('splits a pack that passed through three groups to the cent, so the parts add up to what it cost', async () => {
    const l = ledger();
    await l.recordPurchase({ product: 'addon', quantity: 1, unitCost: '100.00' });
    for (const [user, name] of [['U0ANNA001', 'Sales'], ['U0BEN0001', 'Design'], ['U0CLEO001', 'Legal']] as const) {
      await l.putSeat(user, { plan: 'pro' });
      await department(user, name);
    }
    let pack = await l.assignPack({ product: 'addon', user: 'U0ANNA001' });
    await l.unassignPack({ packId: pack.packId });
    pack = await l.assignPack({ product: 'addon', user: 'U0BEN0001' });
    await l.unassignPack({ packId: pack.packId });
    await l.assignPack({ product: 'addon', user: 'U0CLEO001' });
    // 2,000 granted to each group: a third of 100.00 each, the odd cent to the first.
    expect((await chargeback(l.ctx, '2026-05', { attribute: 'department' })).map((r) => [r.group, r.packCost])).toEqual([
      ['Design', 33.34], ['Legal', 33.33], ['Sales', 33.33],
    ]);
  });

  it('charges no one for a pack without a unit cost, and no group for a pack that sat free all cycle', async () => {
    const l = ledger();
    await l.recordPurchase({ product: 'addon', quantity: 1 });
    await l.recordPurchase({ product: 'addon', quantity: 1, unitCost: '49.99' });
    await l.putSeat('U0LENA001', { plan: 'pro' });
    await l.putSeat('U0MAYA001', { plan: 'pro', profile: 'design' });
    await l.assignPack({ product: 'addon', user: 'U0LENA001' }); // the unpriced pack, the first bought
    expect((await chargeback(l.ctx, '2026-05', { profile: true })).map((r) => [r.group, r.packCost])).toEqual([['design', null], [null, null]]);
  });
});
