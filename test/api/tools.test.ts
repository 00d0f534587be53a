// Several plans and several tools through the HTTP API: stacked plans, tools that never mix, calls
// that must name their tool once there are two, balances per seat, revocation and reports per tool,
// daily limits and overage budgets.
import { describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../helpers/db.ts';
import { useApi } from './helpers.ts';

describeEachDatabase('HTTP API with several tools on %s', (kind) => {
  const h = useApi(kind);
  const ok = async (method: string, path: string, body?: unknown) => {
    const answer = await h.call(method, path, body);
    expect(answer.status, `${method} ${path}: ${answer.text}`).toBeLessThan(300);
    return answer.json;
  };

  /** The forum thread's org with Figma beside Adobe (the database's first tool, `default`). */
  const setupTools = async () => {
    await ok('PUT', '/api/v1/tools/default', { name: 'Adobe generative credits' });
    await ok('PUT', '/api/v1/tools/figma', { name: 'Figma AI credits' });
    await ok('PUT', '/api/v1/plans/cc-pro', { name: 'Creative Cloud Pro', credits: 4000, tool: 'default' });
    await ok('PUT', '/api/v1/plans/firefly', { name: 'Firefly Standard', credits: 2000, tool: 'default' });
    await ok('PUT', '/api/v1/pack-products/addon', { name: 'Add-on 2,000', credits: 2000, kind: 'recurring', tool: 'default' });
    await ok('PUT', '/api/v1/plans/figma-full', { name: 'Full seat', credits: 4250, tool: 'figma' });
    await ok('PUT', '/api/v1/plans/figma-view', { name: 'View seat', credits: 500, tool: 'figma', daily_limit: 150 });
  };
  const tool_required = (what: string) => `${what} must name its tool: one of default, figma`;

  it("stacks two plans and two packs of one tool into 10,000 for the forum thread's member", async () => {
    await setupTools();
    const seat = await h.call('PUT', '/api/v1/seats/U0JACOB01', { plans: ['cc-pro', 'firefly'], email: 'jacob@example.com' });
    expect(seat.status).toBe(201);
    expect(seat.json).toMatchObject({ change: 'created', tool: 'default', plan: 'cc-pro', plans: ['cc-pro', 'firefly'], credits: 6000 });
    await ok('POST', '/api/v1/purchases', { product: 'addon', quantity: 2 });
    for (const _ of [1, 2]) {
      expect(await ok('POST', '/api/v1/packs/assign', { product: 'addon', user: 'jacob@example.com' })).toMatchObject({ tool: 'default', credits: 2000 });
    }
    const balance = (await h.call('GET', '/api/v1/balances/U0JACOB01?tool=default')).json;
    expect(balance).toMatchObject({ tool: 'default', tool_name: 'Adobe generative credits', plans: ['cc-pro', 'firefly'], quota: 10_000, remaining: 10_000 });
    expect(balance.sources.map((s: { kind: string; name: string; credits: number }) => [s.kind, s.name, s.credits])).toEqual([
      ['plan', 'Creative Cloud Pro', 4000], ['plan', 'Firefly Standard', 2000], ['pack', 'Add-on 2,000', 2000], ['pack', 'Add-on 2,000', 2000],
    ]);
    expect(balance.tools).toBeUndefined();
  });

  it('refuses an event that names no tool in a two-tool org, listing the tool keys, and applies it with its tool', async () => {
    await setupTools();
    await ok('PUT', '/api/v1/seats/U0JACOB01', { plan: 'cc-pro' });
    await ok('PUT', '/api/v1/seats/U0JACOB01', { plan: 'figma-full' });
    const authorize = await h.call('POST', '/api/v1/authorize', { id: 'a1', user: 'U0JACOB01', credits: 10 });
    expect([authorize.status, authorize.json]).toEqual([422, { id: 'a1', status: 'rejected', reason: 'an event must name its tool: one of default, figma' }]);
    // In a batch each event is answered on its own: the one naming its tool is applied.
    const batch = await h.call('POST', '/api/v1/usage', {
      events: [{ id: 'u1', user: 'U0JACOB01', tool: 'figma', credits: 300 }, { id: 'u2', user: 'U0JACOB01', credits: 5 }],
    });
    expect(batch.status).toBe(200);
    expect(batch.json.results[0]).toMatchObject({ id: 'u1', status: 'applied', tool: 'figma', own: 300 });
    expect(batch.json.results[1]).toEqual({ id: 'u2', status: 'rejected', reason: 'an event must name its tool: one of default, figma' });
    const single = await h.call('POST', '/api/v1/usage', { events: [{ id: 'u3', user: 'U0JACOB01', credits: 5 }] });
    expect(single.json.results).toEqual([{ id: 'u3', status: 'rejected', reason: 'an event must name its tool: one of default, figma' }]);
    expect(await ok('POST', '/api/v1/authorize', { id: 'a2', user: 'U0JACOB01', tool: 'figma', credits: 50 })).toMatchObject({
      status: 'applied', tool: 'figma', own: 50,
    });
    expect((await h.call('GET', '/api/v1/balances/U0JACOB01?tool=figma')).json).toMatchObject({ used: 350, remaining: 3900 });
    expect((await h.call('GET', '/api/v1/balances/U0JACOB01?tool=default')).json).toMatchObject({ used: 0, remaining: 4000 });
    expect(await h.db.query(`select event_key from journal where kind = 'usage' order by id`)).toEqual([{ event_key: 'u1' }, { event_key: 'a2' }]);
  });

  it('refuses every call that cannot tell which tool it means with a 422 listing the tool keys, writing nothing', async () => {
    await setupTools();
    await ok('PUT', '/api/v1/seats/U0JACOB01', { plan: 'cc-pro' });
    const entries = async () => (await h.db.query(`select count(*)::int as n from journal`))[0];
    const before = await entries();
    const cases: [string, string, unknown, string][] = [
      ['PUT', '/api/v1/plans/lite', { name: 'Lite', credits: 100 }, tool_required('a plan')],
      ['PUT', '/api/v1/pack-products/extra', { name: 'Extra', credits: 100, kind: 'recurring' }, tool_required('a pack product')],
      ['PUT', '/api/v1/profiles/design', { name: 'Design', pool_credits: 1000 }, tool_required('a profile')],
      ['POST', '/api/v1/adjustments', { user: 'U0JACOB01', credits: 5, reason: 'launch' }, tool_required('an adjustment')],
      ['GET', '/api/v1/seats/U0JACOB01/revoke-preview', undefined, tool_required('revoking a seat')],
      ['DELETE', '/api/v1/seats/U0JACOB01', undefined, tool_required('revoking a seat')],
      ['GET', '/api/v1/report?cycle=2026-05', undefined, tool_required('a report')],
      ['GET', '/api/v1/report?cycle=2026-05&format=csv', undefined, tool_required('a report')],
    ];
    for (const [method, path, body, error] of cases) {
      const answer = await h.call(method, path, body);
      expect([answer.status, answer.json], `${method} ${path}`).toEqual([422, { error }]);
    }
    expect(await h.db.query(`select key from plans where key = 'lite' union all select key from pack_products where key = 'extra' union all select key from profiles`)).toEqual([]);
    expect(await entries()).toEqual(before);
    expect((await h.call('GET', '/api/v1/seats/U0JACOB01/revoke-preview?tool=default')).json).toMatchObject({ tool: 'default', forfeited: 4000 });
    expect(await ok('POST', '/api/v1/adjustments', { user: 'U0JACOB01', tool: 'default', credits: 5, reason: 'launch' })).toMatchObject({ tool: 'default', credits: 5 });
  });

  it('answers a balance per seat without ?tool= and one seat with it', async () => {
    await setupTools();
    await ok('PUT', '/api/v1/seats/U0JACOB01', { plan: 'cc-pro' });
    await ok('PUT', '/api/v1/seats/U0JACOB01', { plan: 'figma-full' });
    await ok('PUT', '/api/v1/seats/U0MAYA001', { plan: 'cc-pro' });
    await ok('POST', '/api/v1/usage', { events: [{ id: 'e1', user: 'U0JACOB01', tool: 'default', credits: 1000 }, { id: 'e2', user: 'U0JACOB01', tool: 'figma', credits: 250 }] });
    const all = (await h.call('GET', '/api/v1/balances/U0JACOB01')).json;
    expect(all).toMatchObject({ tool: 'default', quota: 4000, used: 1000, remaining: 3000 });
    expect(all.tools.map((b: Record<string, unknown>) => [b.tool, b.tool_name, b.quota, b.used, b.remaining])).toEqual([
      ['default', 'Adobe generative credits', 4000, 1000, 3000],
      ['figma', 'Figma AI credits', 4250, 250, 4000],
    ]);
    const figma = await h.call('GET', '/api/v1/balances/U0JACOB01?tool=figma');
    expect(figma.json).toMatchObject({ tool: 'figma', plan: 'figma-full', quota: 4250, used: 250, remaining: 4000 });
    expect(figma.json.tools).toBeUndefined();
    expect(await h.call('GET', '/api/v1/balances/U0MAYA001?tool=figma')).toMatchObject({
      status: 404, json: { error: 'U0MAYA001 has no seat in figma: add one with PUT /api/v1/seats/U0MAYA001' },
    });
    expect(await h.call('GET', '/api/v1/balances/U0JACOB01?tool=copilot')).toMatchObject({
      status: 404, json: { error: 'there is no tool copilot; the tools are default, figma' },
    });
    expect((await h.call('GET', '/api/v1/balances/U0JACOB01?tool=Figma')).status).toBe(400);
  });

  it("adds a seat's plans by `plans`, changes them, and refuses a plan of another tool", async () => {
    await setupTools();
    const mixed = await h.call('PUT', '/api/v1/seats/U0LENA001', { plans: ['cc-pro', 'figma-full'] });
    expect([mixed.status, mixed.json.error]).toEqual([
      422, "a seat's plans must all be of one tool; cc-pro, figma-full are of default and figma: send one seat per tool",
    ]);
    for (const [body, error] of [
      [{ plan: 'cc-pro', plans: ['cc-pro'] }, 'plans: send the seat\'s plans as {"plans": ["pro", ...]} or one as {"plan": "pro"}, not both'],
      [{}, 'plans: send the seat\'s plans as {"plans": ["pro", ...]} or one as {"plan": "pro"}, not both'],
      [{ plans: [] }, 'plans: must name at least one plan'],
      [{ plans: ['cc-pro', 'Firefly'] }, 'plans.1: keys are 1-64 lowercase letters, digits, - or _, such as pro or addon-2000'],
    ] as const) {
      expect(await h.call('PUT', '/api/v1/seats/U0LENA001', body), JSON.stringify(body)).toMatchObject({ status: 400, json: { error } });
    }
    expect(await h.db.query('select * from seats')).toEqual([]);

    expect(await ok('PUT', '/api/v1/seats/U0LENA001', { plans: ['cc-pro'] })).toMatchObject({ change: 'created', plans: ['cc-pro'], credits: 4000 });
    expect(await ok('PUT', '/api/v1/seats/U0LENA001', { plans: ['cc-pro', 'firefly'] })).toMatchObject({ change: 'updated', plans: ['cc-pro', 'firefly'], credits: 2000 });
    // Taking Creative Cloud Pro off forfeits the 4,000 it had left.
    expect(await ok('PUT', '/api/v1/seats/U0LENA001', { plan: 'firefly' })).toMatchObject({ change: 'updated', plan: 'firefly', plans: ['firefly'], credits: 0, forfeited: 4000 });
    expect((await h.call('GET', '/api/v1/balances/U0LENA001')).json).toMatchObject({ plans: ['firefly'], quota: 2000, remaining: 2000 });
  });

  it("keeps a seat's vendor login unique per tool, whatever its case", async () => {
    await setupTools();
    expect(await ok('PUT', '/api/v1/seats/U0LENA001', { plan: 'figma-full', vendor_user: 'lena-gh' })).toMatchObject({ tool: 'figma' });
    const taken = await h.call('PUT', '/api/v1/seats/U0MAYA001', { plan: 'figma-full', vendor_user: 'LENA-GH' });
    expect([taken.status, taken.json.error]).toEqual([409, "LENA-GH is already the vendor login of another member's figma seat"]);
    // Another tool's seat may carry the same login.
    expect((await h.call('PUT', '/api/v1/seats/U0MAYA001', { plan: 'cc-pro', vendor_user: 'lena-gh' })).status).toBe(201);
    // Left out keeps it; null clears it.
    await ok('PUT', '/api/v1/seats/U0LENA001', { plan: 'figma-full' });
    expect(await h.db.query(`select vendor_user from seats where tool_key = 'figma'`)).toEqual([{ vendor_user: 'lena-gh' }]);
    await ok('PUT', '/api/v1/seats/U0LENA001', { plan: 'figma-full', vendor_user: null });
    expect(await h.db.query(`select vendor_user from seats where tool_key = 'figma'`)).toEqual([{ vendor_user: null }]);
  });

  it('previews and revokes the seat that ?tool= names, leaving the other tool\'s seat and packs alone', async () => {
    await setupTools();
    await ok('PUT', '/api/v1/seats/U0JACOB01', { plan: 'cc-pro' });
    await ok('PUT', '/api/v1/seats/U0JACOB01', { plan: 'figma-full' });
    await ok('POST', '/api/v1/purchases', { product: 'addon', quantity: 1 });
    await ok('POST', '/api/v1/packs/assign', { product: 'addon', user: 'U0JACOB01' });
    h.clock.advance(1000);
    const preview = await ok('GET', '/api/v1/seats/U0JACOB01/revoke-preview?tool=figma');
    expect(preview).toMatchObject({ user: 'U0JACOB01', tool: 'figma', forfeited: 4250, packs: [] });
    expect(await ok('DELETE', '/api/v1/seats/U0JACOB01?tool=figma')).toEqual(preview);
    expect((await h.call('GET', '/api/v1/balances/U0JACOB01?tool=figma')).json).toMatchObject({ status: 'revoked', remaining: 0 });
    expect((await h.call('GET', '/api/v1/balances/U0JACOB01?tool=default')).json).toMatchObject({ status: 'active', quota: 6000, remaining: 6000 });
    const after = await h.call('POST', '/api/v1/usage', { events: [{ id: 'late', user: 'U0JACOB01', tool: 'figma', credits: 1 }] });
    expect(after.json.results[0].reason).toBe('the seat in Figma AI credits of U0JACOB01 was revoked on 2026-05-10T12:00:01.000Z');
    expect((await h.ledger.verify()).ok).toBe(true);
  });

  it('reports each tool on its own, as JSON and as CSV', async () => {
    await setupTools();
    await ok('PUT', '/api/v1/seats/U0JACOB01', { plan: 'cc-pro', email: 'jacob@example.com' });
    await ok('PUT', '/api/v1/seats/U0MAYA001', { plan: 'figma-full', email: 'maya@example.com' });
    await ok('POST', '/api/v1/usage', {
      events: [{ id: 'r1', user: 'U0JACOB01', tool: 'default', credits: 1000 }, { id: 'r2', user: 'maya@example.com', tool: 'figma', credits: 500 }],
    });
    const figma = await ok('GET', '/api/v1/report?cycle=2026-05&tool=figma');
    expect(figma).toMatchObject({ cycle: '2026-05', tool: 'figma', tool_name: 'Figma AI credits', unit: 'credits' });
    expect(figma.rows).toEqual([
      expect.objectContaining({ user: 'U0MAYA001', plan: 'figma-full', plans: ['figma-full'], quota: 4250, used: 500, remaining: 3750, pct_used: 11.8 }),
    ]);
    expect(figma.totals).toMatchObject({ quota: 4250, used: 500, overage: 0, overage_budget: null, overage_cost: null });
    const csv = await h.call('GET', '/api/v1/report?cycle=2026-05&tool=default&format=csv');
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="creditdesk-default-2026-05.csv"');
    expect(csv.text.split('\n')).toEqual([
      'user,email,plan,profile,cycle_start,quota,used,remaining,pool_used,overage,expired,forfeited,pct_used',
      'U0JACOB01,jacob@example.com,cc-pro,,2026-05-01T00:00:00.000Z,4000,1000,3000,0,0,0,0,25',
      '',
    ]);
    expect(await h.call('GET', '/api/v1/report?cycle=2026-05&tool=copilot')).toMatchObject({
      status: 404, json: { error: 'there is no tool copilot; the tools are default, figma' },
    });
  });

  it('creates, changes and lists tools, keeping what a PUT leaves out', async () => {
    expect((await h.call('GET', '/api/v1/tools')).json).toEqual({
      items: [{
        key: 'default', name: 'AI credits', unit: 'credits', time_zone: 'UTC', anchor_day: 1, overage_budget: null, overage_unit_cost: null,
        sync_nudge: false, follows_environment: { time_zone: true, anchor_day: true },
      }],
    });
    const copilot = {
      key: 'copilot', name: 'Copilot premium requests', unit: 'premium requests', time_zone: 'America/New_York', anchor_day: 15,
      overage_budget: 1000, overage_unit_cost: '0.040000', sync_nudge: true, follows_environment: { time_zone: false, anchor_day: false },
    };
    expect(
      await ok('PUT', '/api/v1/tools/copilot', {
        name: 'Copilot premium requests', unit: 'premium requests', time_zone: 'America/New_York', anchor_day: 15, overage_budget: 1000,
        overage_unit_cost: 0.04, sync_nudge: true,
      }),
    ).toEqual(copilot);
    expect(await ok('PUT', '/api/v1/tools/copilot', { name: 'Copilot' })).toEqual({ ...copilot, name: 'Copilot' });
    expect(await ok('PUT', '/api/v1/tools/copilot', { name: 'Copilot', time_zone: null, overage_budget: null, overage_unit_cost: '0.05' })).toEqual({
      ...copilot, name: 'Copilot', time_zone: 'UTC', overage_budget: null, overage_unit_cost: '0.050000', follows_environment: { time_zone: true, anchor_day: false },
    });
    expect((await h.call('GET', '/api/v1/tools')).json.items.map((t: { key: string }) => t.key)).toEqual(['default', 'copilot']);
    const cases: [string, unknown, string][] = [
      ['/api/v1/tools/copilot', { name: 'Copilot', time_zone: 'Mars/Olympus' }, 'time_zone: must be an IANA time zone such as Europe/Berlin'],
      ['/api/v1/tools/copilot', { name: 'Copilot', anchor_day: 0 }, 'anchor_day: must be at least 1'],
      ['/api/v1/tools/copilot', { name: 'Copilot', overage_budget: -1 }, 'overage_budget: must be 0 or more'],
      ['/api/v1/tools/copilot', { name: 'Copilot', overage_unit_cost: '0.1234567' }, 'overage_unit_cost: must be an amount such as 0.04'],
      ['/api/v1/tools/copilot', { name: 'Copilot', sync_nudge: 'yes' }, 'sync_nudge: must be true or false'],
      ['/api/v1/tools/copilot', { name: ' ' }, 'name: must not be empty'],
      ['/api/v1/tools/Copilot', { name: 'Copilot' }, 'key: keys are 1-64 lowercase letters, digits, - or _, such as pro or addon-2000'],
    ];
    for (const [path, body, error] of cases) {
      expect(await h.call('PUT', path, body), JSON.stringify(body)).toMatchObject({ status: 400, json: { error } });
    }
    expect((await h.call('GET', '/api/v1/tools')).json.items[1]).toMatchObject({ name: 'Copilot', time_zone: 'UTC', anchor_day: 15 });
  });

  it("refuses the 151st credit of a day on a plan's daily limit of 150 in enforce mode and flags it in record mode", async () => {
    await setupTools();
    expect(await ok('PUT', '/api/v1/plans/figma-view', { name: 'View seat', credits: 500, daily_limit: 150 })).toMatchObject({ tool: 'figma', daily_limit: 150 });
    await ok('PUT', '/api/v1/seats/U0VIEW001', { plan: 'figma-view' });
    expect((await h.call('POST', '/api/v1/authorize', { id: 'v1', user: 'U0VIEW001', tool: 'figma', credits: 150 })).status).toBe(200);
    const refused = await h.call('POST', '/api/v1/authorize', { id: 'v2', user: 'U0VIEW001', tool: 'figma', credits: 1 });
    expect(refused.status).toBe(402);
    expect(refused.json).toEqual({
      id: 'v2', status: 'rejected',
      reason: '1 credit passes the daily limit of 150: 150 used on 2026-05-10, 0 left until it resets at 2026-05-11T00:00:00.000Z',
      refused: { limit: 'daily limit', remaining: 0, resetsAt: '2026-05-11T00:00:00.000Z' },
    });
    const recorded = await ok('POST', '/api/v1/usage', { events: [{ id: 'v3', user: 'U0VIEW001', tool: 'figma', credits: 10 }] });
    expect(recorded.results[0]).toMatchObject({ status: 'applied', own: 10, over_daily_limit: 10 });
    expect((await h.call('GET', '/api/v1/balances/U0VIEW001')).json).toMatchObject({
      used: 160, remaining: 340, daily_limit: { credits: 150, used: 160, remaining: 0, resets_at: '2026-05-11T00:00:00.000Z' },
    });
    expect((await h.call('PUT', '/api/v1/plans/figma-view', { name: 'View seat', credits: 500, daily_limit: 0 })).json).toEqual({ error: 'daily_limit: must be more than 0' });
    expect((await h.call('PUT', '/api/v1/pack-products/addon', { name: 'A', credits: 1, kind: 'recurring', daily_limit: 5 })).status).toBe(400);
  });

  it("lets enforce-mode events draw a tool's overage budget of 1,000 until it is spent, and prices the overage in the report", async () => {
    await setupTools();
    await ok('PUT', '/api/v1/tools/figma', { name: 'Figma AI credits', overage_budget: 1000, overage_unit_cost: '0.01' });
    await ok('PUT', '/api/v1/seats/U0JACOB01', { plan: 'figma-full' });
    await ok('PUT', '/api/v1/seats/U0MAYA001', { plan: 'figma-full' });
    expect(await ok('POST', '/api/v1/authorize', { id: 'b1', user: 'U0JACOB01', tool: 'figma', credits: 4850 })).toMatchObject({ own: 4250, overage: 600 });
    expect(await ok('POST', '/api/v1/authorize', { id: 'b2', user: 'U0MAYA001', tool: 'figma', credits: 4650 })).toMatchObject({ own: 4250, overage: 400 });
    const refused = await h.call('POST', '/api/v1/authorize', { id: 'b3', user: 'U0MAYA001', tool: 'figma', credits: 1 });
    expect([refused.status, refused.json.refused]).toEqual([402, { limit: 'own credits and overage budget', remaining: 0, resetsAt: '2026-06-01T00:00:00.000Z' }]);
    // Record mode records beyond the budget; the report prices all of it at 0.01.
    expect((await ok('POST', '/api/v1/usage', [{ id: 'b4', user: 'U0MAYA001', tool: 'figma', credits: 200 }])).results[0]).toMatchObject({ overage: 200 });
    expect((await ok('GET', '/api/v1/report?tool=figma')).totals).toMatchObject({
      overage: 1200, overage_cost: 12, overage_budget: { amount: 1000, remaining: 0 },
    });
  });

  it("draws credits the vendor reports as plan-level from the tool's pool, leaving the member's own", async () => {
    await setupTools();
    await ok('PUT', '/api/v1/profiles/figma-plan', { name: 'Figma plan credits', tool: 'figma', pool_credits: 10_000 });
    await ok('PUT', '/api/v1/seats/U0JACOB01', { plan: 'figma-full', profile: 'figma-plan' });
    const { results } = await ok('POST', '/api/v1/usage', {
      events: [
        { id: 'p1', user: 'U0JACOB01', tool: 'figma', credits: 300, draw: 'pool' },
        { id: 'p2', user: 'U0JACOB01', tool: 'figma', credits: 200 },
        { id: 'p3', user: 'U0JACOB01', tool: 'figma', credits: 1, draw: 'seat' },
      ],
    });
    expect(results.map((r: Record<string, unknown>) => [r.status, r.own, r.pool])).toEqual([['applied', 0, 300], ['applied', 200, 0], ['rejected', undefined, undefined]]);
    expect(results[2].reason).toBe('draw: must be pool, or left out');
    expect((await h.call('GET', '/api/v1/balances/U0JACOB01')).json).toMatchObject({ remaining: 4050, pool_used: 300, used: 500 });
  });
});
