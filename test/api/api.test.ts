// The HTTP API over real HTTP: every route, the token, and bad inputs that must write nothing.
import type { Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.ts';
import type { Database } from '../../src/db/client.ts';
import type { Ledger } from '../../src/ledger/index.ts';
import { createMetrics } from '../../src/metrics.ts';
import { createHttpServer, listen } from '../../src/server.ts';
import { describeEachDatabase, emptyDatabase, openTestDatabase, TestClock, testLedger } from '../helpers/db.ts';

const token = 'test-token-0123456789abcdef';

describeEachDatabase('HTTP API on %s', (kind) => {
  let db: Database;
  let ledger: Ledger;
  let server: Server;
  let base: string;
  const clock = new TestClock(new Date('2026-05-10T12:00:00Z'));

  const call = async (method: string, path: string, body?: unknown, auth: string | null = token) => {
    const res = await fetch(base + path, {
      method,
      headers: {
        ...(auth ? { authorization: `Bearer ${auth}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  };

  const setupCatalog = async () => {
    expect((await call('PUT', '/api/v1/plans/pro', { name: 'Pro', credits: 4000 })).status).toBe(200);
    expect((await call('PUT', '/api/v1/pack-products/addon', { name: 'Add-on', credits: 2000, kind: 'recurring' })).status).toBe(200);
  };

  beforeAll(async () => {
    db = await openTestDatabase(kind);
    ledger = testLedger(db, clock);
    const metrics = createMetrics();
    server = createHttpServer(buildApi({ ledger, metrics, apiToken: token, checkDatabase: async () => void (await db.query('select 1')) }), metrics);
    base = `http://127.0.0.1:${await listen(server, 0)}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await db.close();
  });
  beforeEach(async () => {
    await emptyDatabase(db);
    clock.set('2026-05-10T12:00:00Z');
  });

  it('refuses a missing or wrong token with 401 and writes nothing', async () => {
    expect((await call('PUT', '/api/v1/plans/pro', { name: 'Pro', credits: 4000 }, null)).status).toBe(401);
    const wrong = await call('PUT', '/api/v1/plans/pro', { name: 'Pro', credits: 4000 }, 'not-the-token');
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('www-authenticate')).toBe('Bearer');
    expect(await db.query('select * from plans')).toHaveLength(0);
  });

  it('answers /healthz with the database state and serves Prometheus metrics', async () => {
    expect((await call('GET', '/healthz', undefined, null)).json).toEqual({ ok: true, database: 'up' });
    const metrics = await call('GET', '/metrics', undefined, null);
    expect(metrics.text).toContain('creditdesk_usage_events_total');
  });

  it('stacks a 4,000 plan and two 2,000 packs into 8,000 for the member', async () => {
    await setupCatalog();
    const seat = await call('PUT', '/api/v1/seats/U0JACOB01', { plan: 'pro', email: 'jacob@example.com' });
    expect(seat.status).toBe(201);
    expect((await call('POST', '/api/v1/purchases', { product: 'addon', quantity: 2, reference: 'PO-1', unit_cost: '120.00' })).json.pack_ids).toHaveLength(2);
    for (let i = 0; i < 2; i++) {
      const assigned = await call('POST', '/api/v1/packs/assign', { product: 'addon', user: 'jacob@example.com' });
      expect(assigned.status).toBe(200);
      expect(assigned.json.credits).toBe(2000);
    }
    const balance = await call('GET', '/api/v1/balances/U0JACOB01');
    expect(balance.status).toBe(200);
    expect(balance.json).toMatchObject({
      user: 'U0JACOB01',
      cycle: { start: '2026-05-01T00:00:00.000Z', end: '2026-06-01T00:00:00.000Z' },
      quota: 8000,
      used: 0,
      remaining: 8000,
      overage: 0,
    });
    expect(balance.json.sources.map((s: { kind: string; credits: number }) => [s.kind, s.credits])).toEqual([
      ['plan', 4000],
      ['pack', 2000],
      ['pack', 2000],
    ]);
    const third = await call('POST', '/api/v1/packs/assign', { product: 'addon', user: 'U0JACOB01' });
    expect(third.status).toBe(409);
    expect(third.json.error).toMatch(/no free Add-on pack/);
  });

  it('gives each event of a batch its own outcome and applies a re-sent batch once', async () => {
    await setupCatalog();
    await call('PUT', '/api/v1/seats/U0MAYA001', { plan: 'pro' });
    const batch = {
      events: [
        { id: 'ev-1', user: 'U0MAYA001', credits: 1500, feature: 'generative fill' },
        { id: 'ev-2', user: 'U0MAYA001', credits: 2.5 },
        { id: 'ev-3', user: 'nobody@example.com', credits: 10 },
        { id: 'ev-4', user: 'U0MAYA001', credits: 3000 },
      ],
    };
    const first = await call('POST', '/api/v1/usage', batch);
    expect(first.status).toBe(200);
    expect(first.json.results.map((r: { status: string }) => r.status)).toEqual(['applied', 'rejected', 'rejected', 'applied']);
    expect(first.json.results[1].reason).toMatch(/credits: must be a whole number/);
    expect(first.json.results[2].reason).toMatch(/no seat for nobody@example.com/);
    expect(first.json.results[3]).toMatchObject({ own: 2500, overage: 500 });

    const again = await call('POST', '/api/v1/usage', batch);
    expect(again.json.results.map((r: { status: string }) => r.status)).toEqual(['duplicate', 'rejected', 'rejected', 'duplicate']);
    expect(again.json.results[3]).toMatchObject({ own: 2500, overage: 500 });
    const balance = await call('GET', '/api/v1/balances/U0MAYA001');
    expect(balance.json).toMatchObject({ used: 4500, remaining: 0, overage: 500 });
  });

  it('refuses a batch over 1,000 events and a body that is not JSON, writing nothing', async () => {
    await setupCatalog();
    await call('PUT', '/api/v1/seats/U0MAYA001', { plan: 'pro' });
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ id: `e${i}`, user: 'U0MAYA001', credits: 1 }));
    const big = await call('POST', '/api/v1/usage', { events: tooMany });
    expect(big.status).toBe(400);
    expect(big.json.error).toMatch(/at most 1000 events/);
    const notJson = await call('POST', '/api/v1/usage', '{"events": [');
    expect(notJson.status).toBe(400);
    expect(notJson.json.error).toMatch(/^the body is not valid JSON \(/);
    expect(await db.query(`select * from journal where kind = 'usage'`)).toHaveLength(0);
  });

  it('authorizes in enforce mode with 200, and refuses with 402 writing nothing', async () => {
    await setupCatalog();
    await call('PUT', '/api/v1/seats/U0MAYA001', { plan: 'pro' });
    const ok = await call('POST', '/api/v1/authorize', { id: 'a-1', user: 'U0MAYA001', credits: 3000 });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ status: 'applied', own: 3000 });
    const refused = await call('POST', '/api/v1/authorize', { id: 'a-2', user: 'U0MAYA001', credits: 1001 });
    expect(refused.status).toBe(402);
    expect(refused.json.reason).toMatch(/1,001 credits do not fit: 1,000 of the member's own credits remain until the reset/);
    expect(refused.json.refused).toMatchObject({ remaining: 1000, resetsAt: '2026-06-01T00:00:00.000Z' });
    expect((await call('GET', '/api/v1/balances/U0MAYA001')).json).toMatchObject({ used: 3000, remaining: 1000 });
    expect(await db.query(`select * from journal where event_key = 'a-2'`)).toHaveLength(0);
  });

  it('names the field at fault in a 400 and writes nothing', async () => {
    const cases: [string, string, unknown, RegExp][] = [
      ['PUT', '/api/v1/plans/pro', { name: 'Pro', credits: -5 }, /credits: must be more than 0/],
      ['PUT', '/api/v1/plans/pro', { name: 'Pro', credits: '4000' }, /credits/],
      ['PUT', '/api/v1/plans/Bad Key', { name: 'Pro', credits: 4000 }, /keys are 1-64 lowercase/],
      ['PUT', '/api/v1/plans/pro', { name: 'Pro', credits: 4000, colour: 'red' }, /colour/],
      ['PUT', '/api/v1/pack-products/addon', { name: 'A', credits: 2000, kind: 'weekly' }, /kind/],
      ['PUT', '/api/v1/profiles/design', { name: 'Design', pool_credits: 1.5 }, /pool_credits: must be a whole number/],
      ['PUT', '/api/v1/seats/U0MAYA001', { plan: 'pro', anchor_day: 32 }, /anchor_day/],
      ['POST', '/api/v1/purchases', { product: 'addon', quantity: 0 }, /quantity/],
      ['POST', '/api/v1/adjustments', { user: 'U0MAYA001', credits: 0, reason: 'x' }, /credits: must not be 0/],
      ['POST', '/api/v1/adjustments', { user: 'U0MAYA001', credits: 10 }, /reason/],
      ['GET', '/api/v1/report?cycle=2026-13', undefined, /cycle: must name a cycle as YYYY-MM/],
    ];
    for (const [method, path, body, message] of cases) {
      const res = await call(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.json.error, `${method} ${path}`).toMatch(message);
    }
    expect(await db.query('select key from plans union all select key from pack_products union all select key from profiles')).toHaveLength(0);
  });

  it('answers 404 with what to do for an unknown plan, member or pack', async () => {
    const noPlan = await call('PUT', '/api/v1/seats/U0MAYA001', { plan: 'pro' });
    expect(noPlan.status).toBe(404);
    expect(noPlan.json.error).toMatch(/plan pro is not in the catalog: create it with PUT \/api\/v1\/plans\/pro/);
    expect((await call('GET', '/api/v1/balances/U0NOBODY1')).status).toBe(404);
    expect((await call('GET', '/api/v1/balances/not-a-user')).status).toBe(422);
    expect((await call('POST', '/api/v1/packs/unassign', { pack_id: 99 })).status).toBe(404);
    expect(await db.query('select * from members')).toHaveLength(0);
  });

  it('previews a revocation, revokes the same way, and returns the pack with its unused credits', async () => {
    await setupCatalog();
    await call('PUT', '/api/v1/seats/U0JACOB01', { plan: 'pro' });
    await call('PUT', '/api/v1/seats/U0LENA001', { plan: 'pro' });
    await call('POST', '/api/v1/purchases', { product: 'addon', quantity: 1 });
    await call('POST', '/api/v1/packs/assign', { product: 'addon', user: 'U0JACOB01' });
    await call('POST', '/api/v1/usage', { events: [{ id: 'u1', user: 'U0JACOB01', credits: 5000 }] });

    const preview = await call('GET', '/api/v1/seats/U0JACOB01/revoke-preview');
    expect(preview.json).toMatchObject({ forfeited: 0, packs: [{ pack_id: 1, policy: 'remaining', unused: 1000, next_assignee_gets: 1000, forfeited: 0 }] });
    const revoked = await call('DELETE', '/api/v1/seats/U0JACOB01');
    expect(revoked.json).toEqual(preview.json);
    expect((await call('POST', '/api/v1/usage', { events: [{ id: 'u2', user: 'U0JACOB01', credits: 1 }] })).json.results[0].reason).toMatch(/revoked/);

    const next = await call('POST', '/api/v1/packs/assign', { product: 'addon', user: 'U0LENA001' });
    expect(next.json.credits).toBe(1000);
    expect((await call('GET', '/api/v1/balances/U0LENA001')).json.quota).toBe(5000);
    const back = await call('POST', '/api/v1/packs/unassign', { pack_id: 1 });
    expect(back.json).toMatchObject({ pack_id: 1, unused: 1000, next_assignee_gets: 1000 });
    expect((await ledger.verify()).ok).toBe(true);
  });

  it('grants and debits by adjustment, refusing a debit beyond what remains', async () => {
    await setupCatalog();
    await call('PUT', '/api/v1/seats/U0MAYA001', { plan: 'pro' });
    expect((await call('POST', '/api/v1/adjustments', { user: 'U0MAYA001', credits: 500, reason: 'launch week' })).status).toBe(201);
    expect((await call('POST', '/api/v1/adjustments', { user: 'U0MAYA001', credits: -300, reason: 'correction' })).status).toBe(201);
    const tooMuch = await call('POST', '/api/v1/adjustments', { user: 'U0MAYA001', credits: -5000, reason: 'oops' });
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.json.error).toMatch(/only 4,200 of the member's own credits remain/);
    expect((await call('GET', '/api/v1/balances/U0MAYA001')).json).toMatchObject({ quota: 4200, remaining: 4200 });
  });

  it('reports a cycle as JSON and as CSV', async () => {
    await setupCatalog();
    await call('PUT', '/api/v1/seats/U0MAYA001', { plan: 'pro', email: 'maya@example.com' });
    await call('POST', '/api/v1/usage', { events: [{ id: 'r1', user: 'maya@example.com', credits: 1000 }] });
    const json = await call('GET', '/api/v1/report?cycle=2026-05');
    expect(json.json.rows).toEqual([expect.objectContaining({ user: 'U0MAYA001', quota: 4000, used: 1000, remaining: 3000, pct_used: 25 })]);
    const csv = await call('GET', '/api/v1/report?cycle=2026-05&format=csv');
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect(csv.text.split('\n')[0]).toBe('user,email,plan,profile,cycle_start,quota,used,remaining,pool_used,overage,expired,forfeited,pct_used');
    expect(csv.text.split('\n')[1]).toBe('U0MAYA001,maya@example.com,pro,,2026-05-01T00:00:00.000Z,4000,1000,3000,0,0,0,0,25');
  });
});

describe('HTTP API without API_TOKEN', () => {
  it('is off: every /api route answers 503 and says how to turn it on', async () => {
    const db = await openTestDatabase('pglite');
    const metrics = createMetrics();
    const app = buildApi({ ledger: testLedger(db, new TestClock(new Date())), metrics, apiToken: undefined, checkDatabase: async () => {} });
    const res = await app.request('/api/v1/balances/U0MAYA001');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: 'the API is off: set API_TOKEN to turn it on' });
    await db.close();
  });
});
