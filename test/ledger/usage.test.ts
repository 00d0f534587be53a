// Usage events through the ledger: stacking, the consumption order, the pool and its member cap,
// record and enforce modes, idempotency, per-event refusals, late and future events.
import { expect, it } from 'vitest';
import type { RejectedUsage } from '../../src/ledger/usage.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { day_ms, eventId, expectVerified, hour_ms, journalCount, reportRow, sourcesOf, use, useLedger } from '../helpers/ledger-harness.ts';

describeEachDatabase('usage on %s', (kind) => {
  const h = useLedger(kind);
  const setup = async (options: { pool?: number; cap?: number } = {}) => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putPackProduct('addon', { name: 'Add-on 2000', credits: 2000, kind: 'recurring' });
    if (options.pool != null) await h.ledger.putProfile('design', { name: 'Design', poolCredits: options.pool, memberPoolCap: options.cap ?? null });
    await h.ledger.putSeat('U0JACOB01', { plan: 'pro', email: 'jacob@example.com', profile: options.pool != null ? 'design' : null });
  };

  it('stacks a 4,000 plan and two 2,000 packs into 8,000, and 8,000 of usage leaves 0 with no overage', async () => {
    await setup();
    await h.ledger.recordPurchase({ product: 'addon', quantity: 2, reference: 'PO-1' });
    await h.ledger.assignPack({ product: 'addon', user: 'U0JACOB01' });
    await h.ledger.assignPack({ product: 'addon', user: 'jacob@example.com' });
    expect(await h.ledger.balance('U0JACOB01')).toMatchObject({ quota: 8000, used: 0, remaining: 8000 });
    expect(await use(h.ledger, 'U0JACOB01', 8000)).toMatchObject({ status: 'applied', own: 8000, pool: 0, overage: 0 });
    expect(await h.ledger.balance('U0JACOB01')).toMatchObject({ quota: 8000, used: 8000, remaining: 0, overage: 0 });
    await expectVerified(h.ledger);
  });

  it('draws plan credits before pack credits before manual credits, and the soonest expiry first', async () => {
    await setup();
    await h.ledger.putPackProduct('burst', { name: 'Burst', credits: 300, kind: 'one_time', expiresDays: 5 });
    await h.ledger.recordPurchase({ product: 'addon', quantity: 1 });
    await h.ledger.recordPurchase({ product: 'burst', quantity: 1 });
    await h.ledger.adjust({ user: 'U0JACOB01', credits: 500, reason: 'launch' }); // manual, older than the packs
    await h.ledger.assignPack({ product: 'addon', user: 'U0JACOB01' });
    await h.ledger.assignPack({ product: 'burst', user: 'U0JACOB01' }); // expires May 15, before the cycle ends
    const order = async () => sourcesOf(h.ledger, 'U0JACOB01');
    expect(await order()).toEqual([['plan', 4000], ['manual', 500], ['pack', 2000], ['pack', 300]]);
    await use(h.ledger, 'U0JACOB01', 200);
    expect(await order()).toEqual([['plan', 4000], ['manual', 500], ['pack', 2000], ['pack', 100]]);
    await use(h.ledger, 'U0JACOB01', 100 + 3000);
    expect(await order()).toEqual([['plan', 1000], ['manual', 500], ['pack', 2000], ['pack', 0]]);
    await use(h.ledger, 'U0JACOB01', 1000 + 1500);
    expect(await order()).toEqual([['plan', 0], ['manual', 500], ['pack', 500], ['pack', 0]]);
    await use(h.ledger, 'U0JACOB01', 700);
    expect(await order()).toEqual([['plan', 0], ['manual', 300], ['pack', 0], ['pack', 0]]);
    await expectVerified(h.ledger);
  });

  it('draws on the pool only after own credits are gone, and within the member pool cap', async () => {
    await setup({ pool: 10_000, cap: 1500 });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro', profile: 'design' });
    expect(await use(h.ledger, 'U0JACOB01', 3000)).toMatchObject({ own: 3000, pool: 0, overage: 0 });
    expect((await h.ledger.balance('U0JACOB01')).pool_available).toBe(1500);
    expect(await use(h.ledger, 'U0JACOB01', 2000)).toMatchObject({ own: 1000, pool: 1000, overage: 0 });
    expect(await use(h.ledger, 'U0JACOB01', 1000)).toMatchObject({ own: 0, pool: 500, overage: 500 });
    expect(await h.ledger.balance('U0JACOB01')).toMatchObject({ used: 6000, remaining: 0, pool_used: 1500, pool_available: 0, overage: 500 });
    // The cap is per member: another member of the profile still draws up to their own cap.
    expect(await use(h.ledger, 'U0MAYA001', 5600)).toMatchObject({ own: 4000, pool: 1500, overage: 100 });
    const [pool] = await h.db.query<{ remaining: number }>(`select remaining from grants where source = 'pool'`);
    expect(pool!.remaining).toBe(10_000 - 3000);
    await expectVerified(h.ledger);
  });

  it('draws on the pool without a cap until the pool is empty', async () => {
    await setup({ pool: 1200 });
    expect(await use(h.ledger, 'U0JACOB01', 5000)).toMatchObject({ own: 4000, pool: 1000, overage: 0 });
    expect(await use(h.ledger, 'U0JACOB01', 500)).toMatchObject({ own: 0, pool: 200, overage: 300 });
    await expectVerified(h.ledger);
  });

  it('records an event that does not fit in record mode, the excess as overage', async () => {
    await setup();
    expect(await use(h.ledger, 'U0JACOB01', 4250)).toMatchObject({ status: 'applied', own: 4000, pool: 0, overage: 250 });
    expect(await h.ledger.balance('U0JACOB01')).toMatchObject({ quota: 4000, used: 4250, remaining: 0, overage: 250 });
    expect(await reportRow(h.ledger, '2026-05', 'U0JACOB01')).toMatchObject({ used: 4250, overage: 250, pct_used: 106.3 });
    await expectVerified(h.ledger);
  });

  it('refuses in enforce mode an event that does not fit whole, and writes nothing', async () => {
    await setup({ pool: 1000, cap: 300 });
    await use(h.ledger, 'U0JACOB01', 3500);
    const before = { balance: await h.ledger.balance('U0JACOB01'), journal: await journalCount(h.db) };
    const refused = (await h.ledger.authorize({ id: 'big', user: 'U0JACOB01', credits: 801 })) as RejectedUsage;
    expect(refused.status).toBe('rejected');
    expect(refused.refused).toEqual({ limit: 'own credits and pool', remaining: 800, resetsAt: '2026-06-01T00:00:00.000Z' });
    expect(refused.reason).toMatch(/801 credits do not fit: 500 of the member's own credits and 300 from the design pool remain until the reset on 2026-06-01/);
    expect(await h.ledger.balance('U0JACOB01')).toEqual(before.balance);
    expect(await journalCount(h.db)).toBe(before.journal);
    expect(await h.db.query(`select 1 from journal where event_key = 'big'`)).toHaveLength(0);
    // What fits exactly is taken, own credits first.
    expect(await h.ledger.authorize({ id: 'fits', user: 'U0JACOB01', credits: 800 })).toMatchObject({ status: 'applied', own: 500, pool: 300, overage: 0 });
    expect(await h.ledger.authorize({ id: 'one-more', user: 'U0JACOB01', credits: 1 })).toMatchObject({ status: 'rejected', refused: { remaining: 0 } });
    expect((await h.ledger.balance('U0JACOB01')).overage).toBe(0);
    await expectVerified(h.ledger);
  });

  it('applies an event id once: a repeat in the same batch returns the first outcome as a duplicate', async () => {
    await setup();
    const [first, again, other] = await h.ledger.recordUsageBatch([
      { id: 'same', user: 'U0JACOB01', credits: 700 },
      { id: 'same', user: 'U0JACOB01', credits: 9 },
      { id: 'other', user: 'U0JACOB01', credits: 1 },
    ]);
    expect(first).toMatchObject({ status: 'applied', credits: 700, own: 700 });
    expect(again).toEqual({ ...first, status: 'duplicate' });
    expect(other).toMatchObject({ status: 'applied', credits: 1 });
    expect((await h.ledger.balance('U0JACOB01')).used).toBe(701);
    await expectVerified(h.ledger);
  });

  it('applies an event id once: a repeat in a later call, in either mode, returns the first outcome', async () => {
    await setup();
    const first = await h.ledger.recordUsage({ id: 'once', user: 'U0JACOB01', credits: 4500, feature: 'chat' });
    expect(first).toMatchObject({ status: 'applied', own: 4000, overage: 500 });
    const expected = { status: 'duplicate', id: 'once', credits: 4500, own: 4000, pool: 0, overage: 500, late: false, at: '2026-05-10T12:00:00.000Z' };
    h.clock.advance(hour_ms);
    expect(await h.ledger.recordUsage({ id: 'once', user: 'U0JACOB01', credits: 1 })).toMatchObject(expected);
    expect(await h.ledger.authorize({ id: 'once', user: 'jacob@example.com', credits: 99_999 })).toMatchObject(expected);
    expect((await h.ledger.recordUsageBatch([{ id: 'once', user: 'U0JACOB01', credits: 2 }]))[0]).toMatchObject(expected);
    expect(await h.ledger.balance('U0JACOB01')).toMatchObject({ used: 4500, overage: 500 });
    expect(await h.db.query(`select 1 from journal where event_key = 'once'`)).toHaveLength(1);
  });

  it('rejects an unknown member and a malformed user per event, without sinking the batch', async () => {
    await setup();
    const outcomes = await h.ledger.recordUsageBatch([
      { id: 'ok-1', user: 'U0JACOB01', credits: 10 },
      { id: 'nobody', user: 'nobody@example.com', credits: 10 },
      { id: 'bad-email', user: 'jacob@@example', credits: 10 },
      { id: 'unknown-id', user: 'U0NOBODY1', credits: 10 },
      { id: 'ok-2', user: ' JACOB@example.com ', credits: 20 },
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['applied', 'rejected', 'rejected', 'rejected', 'applied']);
    expect((outcomes[1] as RejectedUsage).reason).toMatch(/no seat for nobody@example.com/);
    expect((outcomes[2] as RejectedUsage).reason).toMatch(/user must be a Slack user id .* or an email address/);
    expect((outcomes[3] as RejectedUsage).reason).toMatch(/no seat for U0NOBODY1/);
    expect((await h.ledger.balance('U0JACOB01')).used).toBe(30);
    await expectVerified(h.ledger);
  });

  it('refuses an amount that is not a positive whole number per event, without sinking the batch', async () => {
    await setup();
    const outcomes = await h.ledger.recordUsageBatch([
      { id: 'ok', user: 'U0JACOB01', credits: 10 },
      { id: 'negative', user: 'U0JACOB01', credits: -5 },
      { id: 'zero', user: 'U0JACOB01', credits: 0 },
      { id: 'fraction', user: 'U0JACOB01', credits: 1.5 },
      { id: 'nan', user: 'U0JACOB01', credits: Number.NaN },
      { id: 'huge', user: 'U0JACOB01', credits: 1e15 },
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['applied', 'rejected', 'rejected', 'rejected', 'rejected', 'rejected']);
    for (const o of outcomes.slice(1)) expect((o as RejectedUsage).reason).toMatch(/credits must be a whole number from 1 to/);
    // Group commit puts concurrent callers in one batch: a bad amount from one must not fail the others.
    const [good, bad] = await Promise.all([
      h.ledger.authorize({ id: 'good', user: 'U0JACOB01', credits: 5 }),
      h.ledger.authorize({ id: 'bad', user: 'U0JACOB01', credits: 0.25 }),
    ]);
    expect([good.status, bad.status]).toEqual(['applied', 'rejected']);
    expect(await h.ledger.balance('U0JACOB01')).toMatchObject({ used: 15, remaining: 3985 });
    await expectVerified(h.ledger);
  });

  it("charges a late event within the grace window to the closed cycle's grants, leaving the current cycle's balance alone", async () => {
    await setup({ pool: 3000 });
    await use(h.ledger, 'U0JACOB01', 1000);
    h.clock.set('2026-06-03T23:00:00Z'); // 71 h after the boundary
    await h.ledger.runCycleJobs();
    const june = await h.ledger.balance('U0JACOB01');
    expect(june).toMatchObject({ used: 0, remaining: 4000, cycle: { start: '2026-06-01T00:00:00.000Z' } });
    const late = await use(h.ledger, 'U0JACOB01', 3400, { at: new Date('2026-05-31T20:00:00Z') });
    expect(late).toMatchObject({ status: 'applied', late: true, own: 3000, pool: 400, cycle: { start: '2026-05-01T00:00:00.000Z', end: '2026-06-01T00:00:00.000Z' } });
    expect(await h.ledger.balance('U0JACOB01')).toEqual(june);
    expect(await reportRow(h.ledger, '2026-05', 'U0JACOB01')).toMatchObject({ used: 4400, remaining: 0, pool_used: 400 });
    // A replay after the window still answers with the first outcome.
    h.clock.set('2026-06-05T00:00:00Z');
    expect(await h.ledger.recordUsage({ id: (late as { id: string }).id, user: 'U0JACOB01', credits: 1, at: new Date('2026-05-31T20:00:00Z') }))
      .toMatchObject({ status: 'duplicate', late: true, own: 3000 });
    await expectVerified(h.ledger);
  });

  it('refuses a late event older than the grace window with the reason', async () => {
    await setup();
    await use(h.ledger, 'U0JACOB01', 1000);
    h.clock.set('2026-06-04T00:00:00Z'); // exactly 72 h after the boundary
    await h.ledger.runCycleJobs();
    const tooLate = await use(h.ledger, 'U0JACOB01', 10, { at: new Date('2026-05-31T23:00:00Z') });
    expect(tooLate).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/too late: the cycle 2026-05 closed on 2026-06-01T00:00:00.000Z and late events are accepted for 72 h after a cycle closes/),
    });
    expect(await reportRow(h.ledger, '2026-05', 'U0JACOB01')).toMatchObject({ used: 1000, remaining: 0, expired: 3000 });
    expect((await h.ledger.balance('U0JACOB01')).used).toBe(0);
    await expectVerified(h.ledger);
  });

  it('refuses an event in a cycle in which the member held no seat', async () => {
    h.clock.set('2026-06-02T00:00:00Z');
    await setup();
    const outcome = await use(h.ledger, 'U0JACOB01', 10, { at: new Date('2026-05-30T00:00:00Z') });
    expect(outcome).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/held no seat in the cycle starting 2026-05-01/) });
    expect(await journalCount(h.db)).toBe(1); // the seat grant only
  });

  it('refuses an event stamped in the future beyond the clock-skew allowance', async () => {
    await setup();
    const now = h.clock.now().getTime();
    expect(await use(h.ledger, 'U0JACOB01', 10, { at: new Date(now + hour_ms) })).toMatchObject({
      status: 'rejected',
      reason: expect.stringMatching(/is in the future/),
    });
    expect(await use(h.ledger, 'U0JACOB01', 10, { at: new Date(now + 60_000) })).toMatchObject({ status: 'applied' });
    expect((await h.ledger.balance('U0JACOB01')).used).toBe(10);
  });

  it("refuses usage on a revoked seat with the revocation's date", async () => {
    await setup();
    h.clock.advance(day_ms);
    await h.ledger.revokeSeat('U0JACOB01');
    expect(await use(h.ledger, 'U0JACOB01', 10)).toMatchObject({
      status: 'rejected',
      reason: 'the seat of U0JACOB01 was revoked on 2026-05-11T12:00:00.000Z',
    });
  });

  it('counts usage by email and by Slack id against the same member', async () => {
    await setup();
    await use(h.ledger, 'U0JACOB01', 100);
    await use(h.ledger, 'Jacob@Example.com', 50);
    expect(await h.ledger.balance('jacob@example.com')).toMatchObject({ used: 150, slack_id: 'U0JACOB01' });
    expect((await h.ledger.history('U0JACOB01')).filter((e) => e.kind === 'usage').map((e) => e.credits)).toEqual([50, 100]);
  });
});
