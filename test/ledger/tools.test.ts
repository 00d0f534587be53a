// Several plans and several tools: plans on one seat stack, tools never mix, daily limits and
// overage budgets in both modes, and calls that cannot tell which tool they mean.
import { describe, expect, it } from 'vitest';
import type { AppliedUsage, RejectedUsage } from '../../src/ledger/usage.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { day_ms, expectVerified, hour_ms, reportRow, sourcesOf, use, useLedger } from '../helpers/ledger-harness.ts';

describeEachDatabase('tools on %s', (kind) => {
  // 2026-05-10 14:00 in Berlin: the org's zone; Copilot counts in UTC.
  const h = useLedger(kind, { settings: { zone: 'Europe/Berlin' } });

  /** The forum thread's org: Adobe (the database's first tool), Figma and GitHub Copilot. */
  const setupTools = async () => {
    // Tools are listed in the order they were added: default, figma, copilot.
    await h.ledger.putTool('default', { name: 'Adobe generative credits' });
    await h.ledger.putTool('figma', { name: 'Figma AI credits' });
    h.clock.advance(1000);
    await h.ledger.putTool('copilot', { name: 'Copilot premium requests', unit: 'premium requests', timeZone: 'UTC', anchorDay: 1 });
    await h.ledger.putPlan('cc-pro', { name: 'Creative Cloud Pro', credits: 4000, tool: 'default' });
    await h.ledger.putPlan('firefly', { name: 'Firefly Standard', credits: 2000, tool: 'default' });
    await h.ledger.putPackProduct('addon', { name: 'Add-on 2,000', credits: 2000, kind: 'recurring', tool: 'default' });
    await h.ledger.putPlan('figma-full', { name: 'Full seat', credits: 4250, tool: 'figma' });
    await h.ledger.putPlan('figma-view', { name: 'View seat', credits: 500, dailyLimit: 150, tool: 'figma' });
    await h.ledger.putPlan('copilot-business', { name: 'Copilot Business', credits: 300, tool: 'copilot' });
  };

  it("stacks two plans and two packs of one tool into one quota: the forum thread's member has 10,000", async () => {
    await setupTools();
    const seat = await h.ledger.putSeat('U0JACOB01', { plans: ['cc-pro', 'firefly'], email: 'jacob@example.com' });
    expect(seat).toMatchObject({ change: 'created', tool: 'default', plans: ['cc-pro', 'firefly'], credits: 6000 });
    await h.ledger.recordPurchase({ product: 'addon', quantity: 2 });
    await h.ledger.assignPack({ product: 'addon', user: 'U0JACOB01' });
    await h.ledger.assignPack({ product: 'addon', user: 'U0JACOB01' });
    const balance = await h.ledger.balance('U0JACOB01', 'default');
    expect(balance).toMatchObject({ tool: 'default', plans: ['cc-pro', 'firefly'], quota: 10_000, remaining: 10_000 });
    expect(balance.sources.map((s) => [s.name, s.credits])).toEqual([
      ['Creative Cloud Pro', 4000], ['Firefly Standard', 2000], ['Add-on 2,000', 2000], ['Add-on 2,000', 2000],
    ]);
    // Both plans renew at the boundary, each with its own grant.
    h.clock.set('2026-06-01T00:00:00+02:00');
    await h.ledger.runCycleJobs();
    expect(await h.ledger.balance('U0JACOB01', 'default')).toMatchObject({ quota: 10_000, cycle: { start: '2026-05-31T22:00:00.000Z' } });
    await expectVerified(h.ledger);
  });

  it("keeps a member's Figma and Copilot seats untouched by Adobe usage, each with its own cycle", async () => {
    await setupTools();
    await h.ledger.putSeat('U0JACOB01', { plan: 'cc-pro' });
    await h.ledger.putSeat('U0JACOB01', { plan: 'figma-full' });
    await h.ledger.putSeat('U0JACOB01', { plan: 'copilot-business' });
    const adobe = await use(h.ledger, 'U0JACOB01', 5000, { tool: 'default' });
    expect(adobe).toMatchObject({ status: 'applied', tool: 'default', own: 4000, overage: 1000 });
    const all = await h.ledger.balances('U0JACOB01');
    expect(all.tools.map((b) => [b.tool, b.quota, b.used, b.remaining, b.overage])).toEqual([
      ['default', 4000, 5000, 0, 1000],
      ['figma', 4250, 0, 4250, 0],
      ['copilot', 300, 0, 300, 0],
    ]);
    // Copilot resets at 00:00 UTC on the 1st, two hours after Adobe's and Figma's Berlin midnight.
    const copilot = all.tools[2]!;
    expect(copilot).toMatchObject({ unit: 'premium requests', cycle: { start: '2026-05-01T00:00:00.000Z', end: '2026-06-01T00:00:00.000Z' } });
    expect(all.tools[1]!.cycle).toEqual({ start: '2026-04-30T22:00:00.000Z', end: '2026-05-31T22:00:00.000Z', name: '2026-05' });
    expect(await use(h.ledger, 'U0JACOB01', 30, { tool: 'copilot' })).toMatchObject({ own: 30, overage: 0 });
    h.clock.set('2026-05-31T23:00:00Z'); // June in Berlin, still May in UTC
    await h.ledger.runCycleJobs();
    expect(await h.ledger.balance('U0JACOB01', 'copilot')).toMatchObject({ remaining: 270, cycle: { start: '2026-05-01T00:00:00.000Z' } });
    expect(await h.ledger.balance('U0JACOB01', 'default')).toMatchObject({ remaining: 4000, used: 0 });
    h.clock.set('2026-06-01T00:00:00Z');
    await h.ledger.runCycleJobs();
    expect(await h.ledger.balance('U0JACOB01', 'copilot')).toMatchObject({ remaining: 300, used: 0, cycle: { start: '2026-06-01T00:00:00.000Z' } });
    await expectVerified(h.ledger);
  });

  it('refuses the 151st credit of a day on a View seat in enforce mode, naming the limit and when it resets', async () => {
    await setupTools();
    await h.ledger.putSeat('U0VIEW001', { plan: 'figma-view' });
    expect(await h.ledger.authorize({ id: 'v1', user: 'U0VIEW001', tool: 'figma', credits: 150 })).toMatchObject({ status: 'applied' });
    const refused = (await h.ledger.authorize({ id: 'v2', user: 'U0VIEW001', tool: 'figma', credits: 1 })) as RejectedUsage;
    expect(refused.refused).toEqual({ limit: 'daily limit', remaining: 0, resetsAt: '2026-05-10T22:00:00.000Z' });
    expect(refused.reason).toBe('1 credit passes the daily limit of 150: 150 used on 2026-05-10, 0 left until it resets at 2026-05-10T22:00:00.000Z');
    expect(await h.ledger.balance('U0VIEW001', 'figma')).toMatchObject({
      used: 150, remaining: 350, daily_limit: { credits: 150, used: 150, remaining: 0, resets_at: '2026-05-10T22:00:00.000Z' },
    });
    // The next day in Berlin (22:00 UTC) the limit is fresh.
    h.clock.set('2026-05-10T22:00:00Z');
    expect(await h.ledger.authorize({ id: 'v3', user: 'U0VIEW001', tool: 'figma', credits: 150 })).toMatchObject({ status: 'applied' });
    await expectVerified(h.ledger);
  });

  it('records the 151st credit of a day on a View seat in record mode and flags it as over the daily limit', async () => {
    await setupTools();
    await h.ledger.putSeat('U0VIEW001', { plan: 'figma-view' });
    await use(h.ledger, 'U0VIEW001', 100, { tool: 'figma' });
    const over = (await use(h.ledger, 'U0VIEW001', 51, { tool: 'figma' })) as AppliedUsage;
    expect(over).toMatchObject({ status: 'applied', own: 51, over_daily_limit: 1 });
    expect((await use(h.ledger, 'U0VIEW001', 10, { tool: 'figma' })) as AppliedUsage).toMatchObject({ over_daily_limit: 10 });
    expect((await h.ledger.balance('U0VIEW001', 'figma')).daily_limit).toMatchObject({ used: 161, remaining: 0 });
    expect(await reportRow(h.ledger, '2026-05', 'U0VIEW001', 'figma')).toMatchObject({ used: 161, over_daily_limit: 11 });
    await expectVerified(h.ledger);
  });

  it('counts what a seat used earlier that day when its plan gains a daily limit', async () => {
    await setupTools();
    await h.ledger.putPlan('figma-view', { name: 'View seat', credits: 500, tool: 'figma' }); // no limit yet
    await h.ledger.putSeat('U0VIEW001', { plan: 'figma-view' });
    await use(h.ledger, 'U0VIEW001', 120, { tool: 'figma' });
    await h.ledger.putPlan('figma-view', { name: 'View seat', credits: 500, dailyLimit: 150, tool: 'figma' });
    const refused = (await h.ledger.authorize({ id: 'late-limit', user: 'U0VIEW001', tool: 'figma', credits: 31 })) as RejectedUsage;
    expect(refused.refused).toMatchObject({ limit: 'daily limit', remaining: 30 });
    expect(await h.ledger.authorize({ id: 'fits', user: 'U0VIEW001', tool: 'figma', credits: 30 })).toMatchObject({ status: 'applied' });
    await expectVerified(h.ledger);
  });

  it('lets enforce-mode events draw an overage budget of 1,000 until it is spent, then refuses, naming it', async () => {
    await setupTools();
    await h.ledger.putTool('figma', { name: 'Figma AI credits', overageBudget: 1000, overageUnitCost: '0.01' });
    await h.ledger.putSeat('U0JACOB01', { plan: 'figma-full' });
    await h.ledger.putSeat('U0MAYA001', { plan: 'figma-full' });
    expect(await h.ledger.authorize({ id: 'a', user: 'U0JACOB01', tool: 'figma', credits: 4850 })).toMatchObject({ status: 'applied', own: 4250, overage: 600 });
    expect(await h.ledger.authorize({ id: 'b', user: 'U0MAYA001', tool: 'figma', credits: 4650 })).toMatchObject({ status: 'applied', own: 4250, overage: 400 });
    const refused = (await h.ledger.authorize({ id: 'c', user: 'U0MAYA001', tool: 'figma', credits: 1 })) as RejectedUsage;
    expect(refused.refused).toEqual({ limit: 'own credits and overage budget', remaining: 0, resetsAt: '2026-05-31T22:00:00.000Z' });
    expect(refused.reason).toMatch(/0 of the Figma AI credits overage budget remain/);
    // Record mode records beyond the budget; the report prices all of it.
    expect(await use(h.ledger, 'U0MAYA001', 200, { tool: 'figma' })).toMatchObject({ status: 'applied', overage: 200 });
    const report = await h.ledger.report('2026-05', 'figma');
    expect(report.totals).toMatchObject({ overage: 1200, overage_cost: 12, overage_budget: { amount: 1000, remaining: 0 } });
    await expectVerified(h.ledger);
  });

  it('alerts the channel as an overage budget passes 75, 90 and 100 %', async () => {
    await setupTools();
    await h.ledger.putTool('copilot', { name: 'Copilot premium requests', overageBudget: 1000 });
    await h.ledger.putSeat('U0JACOB01', { plan: 'copilot-business' });
    await use(h.ledger, 'U0JACOB01', 300 + 800, { tool: 'copilot' });
    await use(h.ledger, 'U0JACOB01', 300, { tool: 'copilot' });
    const alerts = await h.db.query<{ key: string; payload: { threshold: number; remaining: number; tool: { name: string } } }>(
      `select dedupe_key as key, payload from outbox where kind = 'budget_threshold' order by id`,
    );
    expect(alerts.map((a) => [a.payload.threshold, a.payload.remaining, a.payload.tool.name])).toEqual([
      [75, 200, 'Copilot premium requests'],
      [90, 0, 'Copilot premium requests'],
      [100, 0, 'Copilot premium requests'],
    ]);
  });

  it('brings the running budget to a raised or cut figure at once, and renews it each tool cycle', async () => {
    await setupTools();
    await h.ledger.putTool('figma', { name: 'Figma AI credits', overageBudget: 1000 });
    await h.ledger.putSeat('U0JACOB01', { plan: 'figma-full' });
    await use(h.ledger, 'U0JACOB01', 4250 + 700, { tool: 'figma' });
    await h.ledger.putTool('figma', { name: 'Figma AI credits', overageBudget: 500 });
    expect((await h.ledger.report('2026-05', 'figma')).totals.overage_budget).toEqual({ amount: 500, remaining: 0 });
    await h.ledger.putTool('figma', { name: 'Figma AI credits', overageBudget: 2000 });
    expect((await h.ledger.report('2026-05', 'figma')).totals.overage_budget).toEqual({ amount: 2000, remaining: 1300 });
    h.clock.set('2026-06-01T00:00:00+02:00');
    await h.ledger.runCycleJobs();
    expect((await h.ledger.report('2026-06', 'figma')).totals.overage_budget).toEqual({ amount: 2000, remaining: 2000 });
    await expectVerified(h.ledger);
  });

  it('refuses an event naming no tool in a two-tool org, listing the tool keys', async () => {
    await setupTools();
    await h.ledger.putSeat('U0JACOB01', { plan: 'cc-pro' });
    const outcome = (await use(h.ledger, 'U0JACOB01', 10)) as RejectedUsage;
    expect(outcome).toMatchObject({ status: 'rejected', reason: 'an event must name its tool: one of default, figma, copilot' });
    const unknown = (await use(h.ledger, 'U0JACOB01', 10, { tool: 'midjourney' })) as RejectedUsage;
    expect(unknown.reason).toBe('there is no tool midjourney; the tools are default, figma, copilot');
    expect((await use(h.ledger, 'U0JACOB01', 10, { tool: 'figma' })) as RejectedUsage).toMatchObject({
      status: 'rejected', reason: expect.stringMatching(/^no seat in Figma AI credits for U0JACOB01/),
    });
    await expect(h.ledger.adjust({ user: 'U0JACOB01', credits: 5, reason: 'x' })).rejects.toThrow('an adjustment must name its tool: one of default, figma, copilot');
    await expect(h.ledger.putPlan('new', { name: 'New', credits: 1 })).rejects.toThrow('a plan must name its tool');
  });

  it('adds a plan to an active seat at once and takes a removed plan off, forfeiting what it had left', async () => {
    await setupTools();
    await h.ledger.putSeat('U0JACOB01', { plan: 'cc-pro', email: 'jacob@example.com' });
    await use(h.ledger, 'U0JACOB01', 1000, { tool: 'default' });
    expect(await h.ledger.putSeat('U0JACOB01', { plans: ['cc-pro', 'firefly'] })).toMatchObject({ change: 'updated', credits: 2000 });
    expect(await sourcesOf(h.ledger, 'U0JACOB01')).toEqual([['plan', 3000], ['plan', 2000]]);
    expect(await h.ledger.putSeat('U0JACOB01', { plans: ['firefly'] })).toMatchObject({ change: 'updated', credits: 0, forfeited: 3000 });
    expect(await h.ledger.balance('U0JACOB01')).toMatchObject({ plans: ['firefly'], quota: 3000, used: 1000, remaining: 2000 });
    expect(await reportRow(h.ledger, '2026-05', 'U0JACOB01', 'default')).toMatchObject({ plan: 'firefly', forfeited: 3000 });
    expect((await h.ledger.openVendorTasks()).map((t) => t.text)).toEqual([
      'Assign a Creative Cloud Pro license to jacob@example.com in the vendor console of Adobe generative credits',
      'Assign a Firefly Standard license to jacob@example.com in the vendor console of Adobe generative credits',
      'Remove the Creative Cloud Pro license from jacob@example.com in the vendor console of Adobe generative credits',
    ]);
    await expectVerified(h.ledger);
  });

  it("refuses a seat whose plans are of two tools, a profile of another tool and a vendor login already taken", async () => {
    await setupTools();
    await expect(h.ledger.putSeat('U0JACOB01', { plans: ['cc-pro', 'figma-full'] })).rejects.toThrow(
      "a seat's plans must all be of one tool; cc-pro, figma-full are of default and figma: send one seat per tool",
    );
    await h.ledger.putProfile('design', { name: 'Design', poolCredits: 1000, tool: 'default' });
    await expect(h.ledger.putSeat('U0JACOB01', { plan: 'figma-full', profile: 'design' })).rejects.toThrow('profile design is of the tool default, not figma');
    await h.ledger.putSeat('U0JACOB01', { plan: 'copilot-business', vendorUser: 'jacob-gh' });
    await expect(h.ledger.putSeat('U0MAYA001', { plan: 'copilot-business', vendorUser: 'Jacob-GH' })).rejects.toThrow(
      "Jacob-GH is already the vendor login of another member's copilot seat",
    );
  });

  it('draws a pool only for seats of its own tool, and renews it on its tool cycle', async () => {
    await setupTools();
    await h.ledger.putProfile('design', { name: 'Design', poolCredits: 1000, tool: 'copilot' });
    await h.ledger.putSeat('U0JACOB01', { plan: 'copilot-business', profile: 'design' });
    expect(await use(h.ledger, 'U0JACOB01', 500, { tool: 'copilot' })).toMatchObject({ own: 300, pool: 200 });
    const [pool] = await h.db.query<{ cycleStart: Date }>(`select cycle_start as "cycleStart" from grants where source = 'pool'`);
    expect(pool!.cycleStart.toISOString()).toBe('2026-05-01T00:00:00.000Z');
    h.clock.advance(25 * day_ms - 14 * hour_ms); // 2026-06-04 00:00 UTC
    await h.ledger.runCycleJobs();
    expect((await h.ledger.livePools()).find((p) => p.profile === 'design')).toMatchObject({ tool: 'copilot', amount: 1000, remaining: 1000 });
  });

  it("draws what a vendor reports as plan-level credits from the pool, leaving the member's own alone", async () => {
    await setupTools();
    await h.ledger.putProfile('figma-plan', { name: 'Figma plan credits', poolCredits: 10_000, tool: 'figma' });
    await h.ledger.putSeat('U0JACOB01', { plan: 'figma-full', profile: 'figma-plan' });
    expect(await use(h.ledger, 'U0JACOB01', 300, { tool: 'figma', draw: 'pool' })).toMatchObject({ own: 0, pool: 300, overage: 0 });
    expect(await use(h.ledger, 'U0JACOB01', 200, { tool: 'figma' })).toMatchObject({ own: 200, pool: 0 });
    expect(await h.ledger.balance('U0JACOB01', 'figma')).toMatchObject({ remaining: 4050, pool_used: 300, used: 500 });
    await expectVerified(h.ledger);
  });
});
