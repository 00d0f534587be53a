// The list routes: filtered by tool (and product and free for packs), in pages of `limit` with an
// opaque cursor that keeps its place while rows are added.
import { describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../helpers/db.ts';
import { useApi, type ApiHarness } from './helpers.ts';

/** The item labels of each page from `path` on, following next_cursor, and the last page's cursor. */
async function walk(h: ApiHarness, path: string, label: (item: any) => unknown, between?: (page: number) => Promise<void>) {
  const pages: unknown[][] = [];
  let cursor: string | null = null;
  do {
    const answer = await h.call('GET', cursor ? `${path}&cursor=${cursor}` : path);
    expect(answer.status, `${path}: ${answer.text}`).toBe(200);
    pages.push(answer.json.items.map(label));
    cursor = answer.json.next_cursor;
    await between?.(pages.length);
  } while (cursor && pages.length < 10);
  return pages;
}

const key = (item: { key: string }) => item.key;
const id = (item: { id: number }) => item.id;

describeEachDatabase('HTTP API list routes on %s', (kind) => {
  const h = useApi(kind);

  const setupTools = async () => {
    await h.ledger.putTool('figma', { name: 'Figma AI credits' });
    for (const plan of ['delta', 'bravo', 'charlie', 'alpha']) await h.ledger.putPlan(plan, { name: plan, credits: 100, tool: 'default' });
    await h.ledger.putPlan('figma', { name: 'Full seat', credits: 4250, tool: 'figma' });
  };

  it("pages plans of one tool by key, and a cursor keeps its place when plans are added before and after it", async () => {
    await setupTools();
    const pages = await walk(h, '/api/v1/plans?tool=default&limit=2', key, async (page) => {
      if (page !== 1) return;
      await h.call('PUT', '/api/v1/plans/aardvark', { name: 'Aardvark', credits: 1, tool: 'default' });
      await h.call('PUT', '/api/v1/plans/echo', { name: 'Echo', credits: 1, tool: 'default' });
      await h.call('PUT', '/api/v1/plans/foxtrot', { name: 'Foxtrot', credits: 1, tool: 'figma' });
    });
    expect(pages).toEqual([['alpha', 'bravo'], ['charlie', 'delta'], ['echo']]);
    expect(await walk(h, '/api/v1/plans?tool=figma', key)).toEqual([['figma', 'foxtrot']]);
    const item = (await h.call('GET', '/api/v1/plans?tool=figma&limit=1')).json.items[0];
    expect(item).toEqual({ key: 'figma', tool: 'figma', name: 'Full seat', credits: 4250, daily_limit: null, rollover_cap: null, updated_at: '2026-05-10T12:00:00.000Z' });
  });

  it('pages pack products and profiles of one tool by key', async () => {
    await setupTools();
    for (const product of ['p3', 'p1', 'p2']) await h.ledger.putPackProduct(product, { name: product, credits: 10, kind: 'recurring', tool: 'default' });
    await h.ledger.putPackProduct('f1', { name: 'Figma pack', credits: 10, kind: 'one_time', expiresDays: 30, tool: 'figma' });
    for (const profile of ['design', 'all', 'marketing']) await h.ledger.putProfile(profile, { name: profile, tool: 'default', poolCredits: 100 });
    await h.ledger.putProfile('figma-plan', { name: 'Figma plan', tool: 'figma' });
    expect(await walk(h, '/api/v1/pack-products?tool=default&limit=2', key)).toEqual([['p1', 'p2'], ['p3']]);
    expect((await h.call('GET', '/api/v1/pack-products?tool=figma')).json).toEqual({
      items: [{ key: 'f1', tool: 'figma', name: 'Figma pack', credits: 10, kind: 'one_time', expires_days: 30, reassign: 'remaining', rollover_cap: null, updated_at: '2026-05-10T12:00:00.000Z' }],
      next_cursor: null,
    });
    expect(await walk(h, '/api/v1/profiles?tool=default&limit=2', key)).toEqual([['all', 'design'], ['marketing']]);
    expect((await h.call('GET', '/api/v1/profiles?tool=figma')).json.items).toEqual([
      { key: 'figma-plan', tool: 'figma', name: 'Figma plan', pool_credits: 0, member_pool_cap: null, updated_at: '2026-05-10T12:00:00.000Z' },
    ]);
  });

  it('pages seats of one tool in the order they were added, a seat added meanwhile on the last page', async () => {
    await setupTools();
    for (const user of ['U0ANNA001', 'U0BOB0001', 'U0CARL001']) await h.ledger.putSeat(user, { plan: 'alpha' });
    await h.ledger.putSeat('U0ANNA001', { plan: 'figma', vendorUser: 'anna-figma' });
    await h.ledger.revokeSeat('U0BOB0001', null, 'default');
    const pages = await walk(h, '/api/v1/seats?tool=default&limit=2', (s: { user: string; status: string }) => `${s.user} ${s.status}`, async (page) => {
      if (page === 1) await h.call('PUT', '/api/v1/seats/dana@example.com', { plan: 'bravo' });
    });
    expect(pages).toEqual([['U0ANNA001 active', 'U0BOB0001 revoked'], ['U0CARL001 active', 'dana@example.com active']]);
    expect((await h.call('GET', '/api/v1/seats?tool=figma')).json).toEqual({
      items: [{
        id: 4, user: 'U0ANNA001', slack_id: 'U0ANNA001', email: null, name: null, tool: 'figma', plan: 'figma', plans: ['figma'], profile: null,
        status: 'active', anchor_day: 1, cycle: { start: '2026-05-01T00:00:00.000Z', end: '2026-06-01T00:00:00.000Z' },
        started_at: '2026-05-10T12:00:00.000Z', revoked_at: null, vendor_user: 'anna-figma',
      }],
      next_cursor: null,
    });
    expect((await walk(h, '/api/v1/seats?limit=3', id)).flat()).toEqual([1, 2, 3, 4, 5]);
  });

  it('pages packs by tool, product and whether they are free, a pack bought meanwhile on the last page', async () => {
    await setupTools();
    await h.ledger.putPackProduct('addon', { name: 'Add-on', credits: 2000, kind: 'recurring', tool: 'default' });
    await h.ledger.putPackProduct('figma-pack', { name: 'Figma pack', credits: 500, kind: 'recurring', tool: 'figma' });
    await h.ledger.recordPurchase({ product: 'addon', quantity: 3 }); // packs 1-3
    await h.ledger.recordPurchase({ product: 'figma-pack', quantity: 2 }); // packs 4-5
    await h.ledger.putSeat('U0JACOB01', { plan: 'alpha', email: 'jacob@example.com' });
    await h.ledger.assignPack({ product: 'addon', user: 'U0JACOB01' }); // pack 1
    const free = await walk(h, '/api/v1/packs?tool=default&free=true&limit=1', id, async (page) => {
      if (page === 1) await h.call('POST', '/api/v1/purchases', { product: 'addon', quantity: 1 }); // pack 6
    });
    expect(free).toEqual([[2], [3], [6]]);
    expect((await h.call('GET', '/api/v1/packs?free=false')).json).toEqual({
      items: [{
        id: 1, product: 'addon', tool: 'default', purchase_id: 1, status: 'assigned', user: 'U0JACOB01', slack_id: 'U0JACOB01',
        email: 'jacob@example.com', assigned_at: '2026-05-10T12:00:00.000Z', expires_at: null,
      }],
      next_cursor: null,
    });
    expect(await walk(h, '/api/v1/packs?product=figma-pack&limit=1', (k: { id: number; status: string }) => `${k.id} ${k.status}`)).toEqual([['4 free'], ['5 free']]);
    expect(await walk(h, '/api/v1/packs?tool=figma&product=addon', id)).toEqual([[]]);
    expect(await h.call('GET', '/api/v1/packs?product=nope')).toMatchObject({ status: 404, json: { error: 'pack product nope is not in the catalog' } });
  });

  it('pages purchases of one tool in the order they were recorded', async () => {
    await setupTools();
    await h.ledger.putPackProduct('addon', { name: 'Add-on', credits: 2000, kind: 'recurring', tool: 'default' });
    await h.ledger.putPackProduct('figma-pack', { name: 'Figma pack', credits: 500, kind: 'recurring', tool: 'figma' });
    await h.ledger.recordPurchase({ product: 'addon', quantity: 2, reference: 'PO-1', unitCost: '120.00' });
    await h.ledger.recordPurchase({ product: 'figma-pack', quantity: 1 });
    await h.ledger.recordPurchase({ product: 'addon', quantity: 1, reference: 'PO-3' });
    const pages = await walk(h, '/api/v1/purchases?tool=default&limit=1', (p: { id: number; reference: string | null }) => [p.id, p.reference], async (page) => {
      if (page === 1) await h.call('POST', '/api/v1/purchases', { product: 'addon', quantity: 1, reference: 'PO-4' });
    });
    expect(pages).toEqual([[[1, 'PO-1']], [[3, 'PO-3']], [[4, 'PO-4']]]);
    expect((await h.call('GET', '/api/v1/purchases?tool=default&limit=1')).json.items).toEqual([
      { id: 1, product: 'addon', tool: 'default', quantity: 2, reference: 'PO-1', unit_cost: '120.0000', purchased_at: '2026-05-10T12:00:00.000Z' },
    ]);
    expect(await walk(h, '/api/v1/purchases?tool=figma', id)).toEqual([[2]]);
  });

  it('answers a catalog PUT in the field names of its list, and takes an entry back as the list shows it', async () => {
    await setupTools();
    const stamped = '2026-05-10T12:00:00.000Z';
    // Each PUT answers what the list then shows, field for field.
    const plan = await h.call('PUT', '/api/v1/plans/view', { name: 'View seat', credits: 500, tool: 'figma', daily_limit: 150, rollover_cap: 100 });
    expect(plan.json).toEqual({ key: 'view', tool: 'figma', name: 'View seat', credits: 500, daily_limit: 150, rollover_cap: 100, updated_at: stamped });
    const product = await h.call('PUT', '/api/v1/pack-products/once', { name: 'Once', credits: 300, tool: 'default', kind: 'one_time', expires_days: 30, reassign: 'full' });
    expect(product.json).toEqual({
      key: 'once', tool: 'default', name: 'Once', credits: 300, kind: 'one_time', expires_days: 30, reassign: 'full', rollover_cap: null, updated_at: stamped,
    });
    const profile = await h.call('PUT', '/api/v1/profiles/design', { name: 'Design', tool: 'default', pool_credits: 1000, member_pool_cap: 250 });
    expect(profile.json).toEqual({ key: 'design', tool: 'default', name: 'Design', pool_credits: 1000, member_pool_cap: 250, updated_at: stamped });
    const listed = async () => ({
      plan: (await h.call('GET', '/api/v1/plans?tool=figma')).json.items.find((p: { key: string }) => p.key === 'view'),
      product: (await h.call('GET', '/api/v1/pack-products')).json.items[0],
      profile: (await h.call('GET', '/api/v1/profiles')).json.items[0],
      tool: (await h.call('GET', '/api/v1/tools')).json.items[1],
    });
    const before = await listed();
    expect([before.plan, before.product, before.profile]).toEqual([plan.json, product.json, profile.json]);
    expect(before.tool).toMatchObject({ key: 'figma', time_zone: 'UTC', anchor_day: 1, follows_environment: { time_zone: true, anchor_day: true } });

    // An hour later each listed entry goes back as it came: every setting stays, only the time moves.
    h.clock.advance(3_600_000);
    for (const [path, item] of [
      ['/api/v1/plans/view', before.plan], ['/api/v1/pack-products/once', before.product], ['/api/v1/profiles/design', before.profile], ['/api/v1/tools/figma', before.tool],
    ] as const) {
      const again = await h.call('PUT', path, item);
      expect(again.status, `${path}: ${again.text}`).toBe(200);
    }
    const after = await listed();
    const later = '2026-05-10T13:00:00.000Z';
    expect(after).toEqual({
      plan: { ...before.plan, updated_at: later }, product: { ...before.product, updated_at: later }, profile: { ...before.profile, updated_at: later },
      tool: before.tool,
    });

    // A key that is not the path's, or a zone beside follows_environment that is not the environment's, is refused.
    expect(await h.call('PUT', '/api/v1/plans/lite', before.plan)).toMatchObject({
      status: 400, json: { error: 'key: is view but the path names lite: leave key out, or PUT the entry to /view' },
    });
    expect(await h.call('PUT', '/api/v1/tools/figma', { ...before.tool, time_zone: 'Europe/Berlin' })).toMatchObject({
      status: 400,
      json: {
        error: 'time_zone: is Europe/Berlin, but follows_environment.time_zone is true and ORG_TIMEZONE is UTC: ' +
          'leave time_zone out to follow ORG_TIMEZONE, or set follows_environment.time_zone to false to give the tool its own',
      },
    });
    const own = await h.call('PUT', '/api/v1/tools/figma', { ...before.tool, time_zone: 'Europe/Berlin', follows_environment: { time_zone: false, anchor_day: true } });
    expect(own.json).toMatchObject({ time_zone: 'Europe/Berlin', anchor_day: 1, follows_environment: { time_zone: false, anchor_day: true } });
  });

  it('gives 50 items a page when no limit is sent, and 500 at most', async () => {
    for (let i = 0; i < 51; i++) await h.ledger.putPlan(`plan${String(i).padStart(2, '0')}`, { name: 'Plan', credits: 1 });
    const first = await h.call('GET', '/api/v1/plans');
    expect([first.json.items.length, first.json.items.at(-1).key]).toEqual([50, 'plan49']);
    expect((await h.call('GET', `/api/v1/plans?cursor=${first.json.next_cursor}`)).json).toMatchObject({ items: [{ key: 'plan50' }], next_cursor: null });
    expect((await h.call('GET', '/api/v1/plans?limit=500')).json.items).toHaveLength(51);
  });

  it('refuses a limit, cursor or filter it cannot read with a 400 naming it, and an unknown tool with a 404', async () => {
    await setupTools();
    const refused = "is not a cursor this API gave out: send a page's next_cursor as it came, or leave it out to start at the first page";
    const other_kind = Buffer.from(JSON.stringify(7)).toString('base64url');
    const cases: [string, number, string][] = [
      ['/api/v1/plans?limit=0', 400, 'limit: must be a whole number of items from 1 to 500'],
      ['/api/v1/plans?limit=501', 400, 'limit: must be a whole number of items from 1 to 500'],
      ['/api/v1/seats?limit=ten', 400, 'limit: must be a whole number of items from 1 to 500'],
      ['/api/v1/plans?cursor=not*a*cursor', 400, `cursor: ${refused}`],
      ['/api/v1/plans?cursor=bm90IGpzb24', 400, `cursor: ${refused}`],
      [`/api/v1/plans?cursor=${other_kind}`, 400, `cursor: ${refused}`],
      ['/api/v1/packs?free=yes', 400, 'free: must be true or false'],
      ['/api/v1/profiles?tool=Figma', 400, 'tool: keys are 1-64 lowercase letters, digits, - or _, such as pro or addon-2000'],
      ['/api/v1/purchases?tool=copilot', 404, 'there is no tool copilot; the tools are default, figma'],
      ['/api/v1/seats?tool=copilot', 404, 'there is no tool copilot; the tools are default, figma'],
    ];
    for (const [path, status, error] of cases) expect(await h.call('GET', path), path).toMatchObject({ status, json: { error } });
  });
});
