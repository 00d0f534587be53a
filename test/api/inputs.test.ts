// Whatever a caller sends, the API answers with a 4xx naming the field at fault and writes nothing,
// or applies it: never a 500. One caller's bad event never fails another caller or its batch.
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { describeEachDatabase, describeOnPostgres } from '../helpers/db.ts';
import { api_token, useApi } from './helpers.ts';

const nul = 'bad\u0000text';
const lone_surrogate = 'bad\ud800text';
const nul_refused = 'must not contain a NUL character (U+0000): remove it';
const surrogate_refused = 'must not contain a lone surrogate (U+D800): send valid Unicode text, where surrogates come in pairs';

describeEachDatabase('HTTP API inputs on %s', (kind) => {
  const h = useApi(kind);

  /** Rows of every table a refused call could have written to, to compare before and after. */
  const written = async () =>
    h.db.query(
      `select (select count(*) from plans)::int as plans, (select count(*) from pack_products)::int as products,
              (select count(*) from profiles)::int as profiles, (select count(*) from members)::int as members,
              (select count(*) from seats)::int as seats, (select count(*) from purchases)::int as purchases,
              (select count(*) from packs where seat_id is not null)::int as assigned, (select count(*) from journal)::int as entries`,
    );

  beforeEach(async () => {
    expect((await h.call('PUT', '/api/v1/plans/pro', { name: 'Pro', credits: 4000 })).status).toBe(200);
    expect((await h.call('PUT', '/api/v1/pack-products/addon', { name: 'Add-on', credits: 2000, kind: 'recurring' })).status).toBe(200);
    expect((await h.call('PUT', '/api/v1/seats/U0MAYA001', { plan: 'pro' })).status).toBe(201);
    expect((await h.call('POST', '/api/v1/purchases', { product: 'addon', quantity: 1 })).status).toBe(201);
  });

  it('refuses a NUL or a lone surrogate in every text field of every body with a 400 naming the field, writing nothing', async () => {
    const before = await written();
    const cases: [string, string, (bad: string) => unknown, string][] = [
      ['POST', '/api/v1/usage', (bad) => ({ events: [{ id: bad, user: 'U0MAYA001', credits: 1 }] }), 'events.0: id'],
      ['POST', '/api/v1/usage', (bad) => ({ events: [{ id: 'e1', user: `U0MAYA001${bad}`, credits: 1 }] }), 'events.0: user'],
      ['POST', '/api/v1/usage', (bad) => ({ events: [{ id: 'e1', user: 'U0MAYA001', credits: 1, feature: bad }] }), 'events.0: feature'],
      ['POST', '/api/v1/usage', (bad) => ({ events: [{ id: 'e1', user: 'U0MAYA001', credits: 1, source: bad }] }), 'events.0: source'],
      ['POST', '/api/v1/authorize', (bad) => ({ id: 'a1', user: 'U0MAYA001', credits: 1, feature: bad }), 'feature'],
      ['PUT', '/api/v1/plans/pro', (bad) => ({ name: bad, credits: 4000 }), 'name'],
      ['PUT', '/api/v1/pack-products/addon', (bad) => ({ name: bad, credits: 2000, kind: 'recurring' }), 'name'],
      ['PUT', '/api/v1/profiles/design', (bad) => ({ name: bad, pool_credits: 100 }), 'name'],
      ['PUT', '/api/v1/seats/U0LENA001', (bad) => ({ plan: 'pro', name: bad }), 'name'],
      ['POST', '/api/v1/purchases', (bad) => ({ product: 'addon', quantity: 1, reference: bad }), 'reference'],
      ['POST', '/api/v1/packs/assign', (bad) => ({ product: 'addon', user: `U0MAYA001${bad}` }), 'user'],
      ['POST', '/api/v1/adjustments', (bad) => ({ user: 'U0MAYA001', credits: 5, reason: bad }), 'reason'],
      ['POST', '/api/v1/adjustments', (bad) => ({ user: `U0MAYA001${bad}`, credits: 5, reason: 'launch' }), 'user'],
    ];
    for (const [method, path, body, field] of cases) {
      for (const [bad, refusal] of [[nul, nul_refused], [lone_surrogate, surrogate_refused]] as const) {
        const res = await h.call(method, path, body(bad));
        expect(res.status, `${method} ${path} ${field}`).toBe(400);
        expect(res.json.error, `${method} ${path} ${field}`).toBe(`${field}: ${refusal}`);
      }
    }
    expect(await written()).toEqual(before);
  });

  it('refuses a NUL in a route parameter or a query string with a 400 naming it, writing nothing', async () => {
    const before = await written();
    const cases: [string, string, unknown, string][] = [
      ['GET', '/api/v1/balances/U0MAYA001%00', undefined, `user: ${nul_refused}`],
      ['PUT', '/api/v1/seats/U0LENA001%00', { plan: 'pro' }, `user: ${nul_refused}`],
      ['GET', '/api/v1/seats/U0MAYA001%00/revoke-preview', undefined, `user: ${nul_refused}`],
      ['DELETE', '/api/v1/seats/U0MAYA001%00', undefined, `user: ${nul_refused}`],
      ['PUT', '/api/v1/plans/pro%00', { name: 'Pro', credits: 4000 }, 'key: keys are 1-64 lowercase letters, digits, - or _, such as pro or addon-2000'],
      ['GET', '/api/v1/report?cycle=2026-05%00', undefined, 'cycle: must name a cycle as YYYY-MM'],
      ['GET', '/api/v1/report?group_by=profile%00', undefined, 'group_by: must be profile or attribute:<name>, such as attribute:department'],
    ];
    for (const [method, path, body, error] of cases) {
      const res = await h.call(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(res.json.error, `${method} ${path}`).toBe(error);
    }
    expect(await written()).toEqual(before);
    expect((await h.call('GET', '/api/v1/balances/U0MAYA001')).json.remaining).toBe(4000);
  });

  it('bounds every number to what its column holds, with a 400 naming the field and nothing written', async () => {
    const before = await written();
    const cases: [string, string, unknown, string][] = [
      ['POST', '/api/v1/packs/unassign', { pack_id: 1e12 }, 'pack_id: must be at most 2,147,483,647'],
      ['POST', '/api/v1/packs/unassign', { pack_id: 2 ** 31 }, 'pack_id: must be at most 2,147,483,647'],
      ['POST', '/api/v1/purchases', { product: 'addon', quantity: 1, unit_cost: 1e12 }, 'unit_cost: must be at most 9999999999.9999'],
      ['POST', '/api/v1/purchases', { product: 'addon', quantity: 1e12 }, 'quantity: must be at most 10,000'],
      ['PUT', '/api/v1/pack-products/once', { name: 'Once', credits: 100, kind: 'one_time', expires_days: 1e12 }, 'expires_days: must be at most 3,660'],
      ['PUT', '/api/v1/plans/pro', { name: 'Pro', credits: 1e13 }, 'credits: must be at most 1,000,000,000,000'],
      ['PUT', '/api/v1/plans/pro', { name: 'Pro', credits: 4000, rollover_cap: 1e13 }, 'rollover_cap: must be at most 1,000,000,000,000'],
      ['PUT', '/api/v1/profiles/design', { name: 'Design', pool_credits: 1e13 }, 'pool_credits: must be at most 1,000,000,000,000'],
      ['PUT', '/api/v1/profiles/design', { name: 'Design', member_pool_cap: 1e13 }, 'member_pool_cap: must be at most 1,000,000,000,000'],
      ['PUT', '/api/v1/seats/U0LENA001', { plan: 'pro', anchor_day: 1e12 }, 'anchor_day: must be at most 31'],
      ['POST', '/api/v1/usage', { events: [{ id: 'e1', user: 'U0MAYA001', credits: 1e13 }] }, 'events.0: credits: must be at most 1,000,000,000,000'],
      ['POST', '/api/v1/adjustments', { user: 'U0MAYA001', credits: -1e13, reason: 'x' }, 'credits: must be at most 1000000000000 either way'],
      ['GET', '/api/v1/report?cycle=9999-12', undefined, 'cycle: must be a cycle from 1970-01 to 9998-12'],
      ['GET', '/api/v1/report?cycle=0000-01&format=csv', undefined, 'cycle: must be a cycle from 1970-01 to 9998-12'],
    ];
    for (const [method, path, body, error] of cases) {
      const res = await h.call(method, path, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.json.error, `${method} ${path} ${JSON.stringify(body)}`).toBe(error);
    }
    expect(await written()).toEqual(before);
    // The edges themselves are taken.
    expect((await h.call('POST', '/api/v1/packs/unassign', { pack_id: 2 ** 31 - 1 })).status).toBe(404);
    expect((await h.call('GET', '/api/v1/report?cycle=9998-12')).json.rows).toEqual([]);
  });

  it('answers 415 to a body that is not sent as JSON on every route with a body, and applies nothing', async () => {
    const before = await written();
    const routes: [string, string, unknown][] = [
      ['POST', '/api/v1/usage', { events: [{ id: 'e1', user: 'U0MAYA001', credits: 5 }] }],
      ['POST', '/api/v1/authorize', { id: 'a1', user: 'U0MAYA001', credits: 5 }],
      ['PUT', '/api/v1/plans/lite', { name: 'Lite', credits: 100 }],
      ['PUT', '/api/v1/pack-products/extra', { name: 'Extra', credits: 100, kind: 'recurring' }],
      ['PUT', '/api/v1/profiles/design', { name: 'Design' }],
      ['PUT', '/api/v1/seats/U0LENA001', { plan: 'pro' }],
      ['POST', '/api/v1/purchases', { product: 'addon', quantity: 1 }],
      ['POST', '/api/v1/packs/assign', { product: 'addon', user: 'U0MAYA001' }],
      ['POST', '/api/v1/packs/unassign', { pack_id: 1 }],
      ['POST', '/api/v1/adjustments', { user: 'U0MAYA001', credits: 5, reason: 'launch' }],
    ];
    for (const [method, path, body] of routes) {
      for (const contentType of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', null]) {
        const res = await h.send(method, path, { body, contentType });
        expect(res.status, `${method} ${path} as ${contentType}`).toBe(415);
        expect(res.json.error).toBe('the body must be JSON, sent with Content-Type: application/json');
      }
    }
    expect(await written()).toEqual(before);
    // JSON is JSON however the type is written.
    expect((await h.send('PUT', '/api/v1/plans/lite', { body: { name: 'Lite', credits: 100 }, contentType: 'application/json; charset=utf-8' })).status).toBe(200);
    expect((await h.send('PUT', '/api/v1/plans/team', { body: { name: 'Team', credits: 100 }, contentType: 'Application/JSON;Charset="UTF-8"' })).status).toBe(200);
  });

  it('answers 400 naming the text, not the type, when a body sent as JSON is not JSON', async () => {
    const before = await written();
    const res = await h.send('POST', '/api/v1/usage', { body: '{"events":', contentType: 'application/json' });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatch(/^the body is not valid JSON \(.+\)$/);
    expect(await written()).toEqual(before);
  });

  it('refuses a body whose bytes are not UTF-8 with a 400, storing nothing in their place', async () => {
    const before = await written();
    // {"name":"x\xff","credits":100}: 0xFF is never a byte of UTF-8.
    const bytes = new Uint8Array([...new TextEncoder().encode('{"name":"x'), 0xff, ...new TextEncoder().encode('","credits":100}')]);
    const res = await h.send('PUT', '/api/v1/plans/p9', { body: bytes, contentType: 'application/json' });
    expect([res.status, res.json.error]).toEqual([400, 'the body is not valid UTF-8: send JSON encoded as UTF-8']);
    expect(await written()).toEqual(before);
  });

  it('answers 413 to a body over 4 MiB, whether its length is stated or it is streamed, and applies nothing of it', async () => {
    const before = await written();
    // 1,000 events with 4,300-character features: 4.4 MB of otherwise valid JSON.
    const big = JSON.stringify({ events: Array.from({ length: 1_000 }, (_, i) => ({ id: `big-${i}`, user: 'U0MAYA001', credits: 1, feature: 'f'.repeat(4_300) })) });
    expect(big.length).toBeGreaterThan(4 * 1024 * 1024);
    const stated = await h.send('POST', '/api/v1/usage', { body: big });
    expect([stated.status, stated.json.error]).toEqual([413, 'the body is over 4194304 bytes; send at most 1000 events per call']);
    // Without a Content-Length (chunked), the body is counted as it arrives.
    const chunks = new TextEncoder().encode(big);
    const streamed = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < chunks.length; at += 65_536) controller.enqueue(chunks.subarray(at, at + 65_536));
        controller.close();
      },
    });
    const res = await fetch(`${h.base}/api/v1/usage`, {
      method: 'POST', headers: { authorization: `Bearer ${api_token}`, 'content-type': 'application/json' }, body: streamed, duplex: 'half',
    } as RequestInit);
    expect([res.status, ((await res.json()) as { error: string }).error]).toEqual([413, 'the body is over 4194304 bytes; send at most 1000 events per call']);
    expect(await written()).toEqual(before);
    // A streamed body within the limit is read whole and applied.
    const small = new TextEncoder().encode(JSON.stringify({ events: [{ id: 'chunked-1', user: 'U0MAYA001', credits: 5 }] }));
    const ok = await fetch(`${h.base}/api/v1/usage`, {
      method: 'POST', headers: { authorization: `Bearer ${api_token}`, 'content-type': 'application/json' },
      body: new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(small), c.close()) }), duplex: 'half',
    } as RequestInit);
    expect([ok.status, ((await ok.json()) as { results: { status: string }[] }).results[0]!.status]).toEqual([200, 'applied']);
  });

  it('refuses an event id of spaces only as it refuses an empty one, applying the rest of its batch', async () => {
    const res = await h.call('POST', '/api/v1/usage', { events: [{ id: '   ', user: 'U0MAYA001', credits: 5 }, { id: 'ok-1', user: 'U0MAYA001', credits: 5 }] });
    expect(res.json.results.map((r: { status: string; reason?: string }) => [r.status, r.reason ?? null])).toEqual([['rejected', 'id: every event needs an id'], ['applied', null]]);
    const alone = await h.call('POST', '/api/v1/authorize', { id: '   ', user: 'U0MAYA001', credits: 5 });
    expect([alone.status, alone.json.error]).toEqual([400, 'id: every event needs an id']);
    expect((await h.call('GET', '/api/v1/balances/U0MAYA001')).json).toMatchObject({ used: 5 });
  });

  it('gives the other 999 events of a 1,000-event batch their outcome when one carries a NUL', async () => {
    const events = Array.from({ length: 1000 }, (_, i) => ({ id: `b-${i}`, user: 'U0MAYA001', credits: 1, feature: i === 500 ? nul : 'fill' }));
    const res = await h.call('POST', '/api/v1/usage', { events });
    expect(res.status).toBe(200);
    const statuses = res.json.results.map((r: { status: string }) => r.status);
    expect(statuses.filter((s: string) => s === 'applied')).toHaveLength(999);
    expect(res.json.results[500]).toEqual({ id: 'b-500', status: 'rejected', reason: `feature: ${nul_refused}` });
    expect((await h.call('GET', '/api/v1/balances/U0MAYA001')).json).toMatchObject({ used: 999, remaining: 3001 });
  });

  it('never answers 500, whatever the fields of a body hold', async () => {
    // Mostly values known to have reached the database once, then anything at all.
    const strange = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom('a\u0000b', '\ud800', 'x\udc00', 2 ** 31, 1e12 + 1, 2 ** 53, 1e300, -1e300) },
      { weight: 1, arbitrary: fc.constantFrom('', ' ', 0, -1, 0.5, null, true, 'U0MAYA001', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z') },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
      { weight: 1, arbitrary: fc.array(fc.integer(), { maxLength: 2 }) },
    );
    const routes: [string, string, Record<string, unknown>][] = [
      ['POST', '/api/v1/authorize', { id: 'p', user: 'U0MAYA001', credits: 1, feature: 'fill', source: 'api', at: '2026-05-10T11:00:00Z' }],
      ['PUT', '/api/v1/plans/fuzz', { name: 'Fuzz', credits: 10, rollover_cap: 5 }],
      ['PUT', '/api/v1/pack-products/fuzz', { name: 'Fuzz', credits: 10, kind: 'one_time', expires_days: 30, reassign: 'full' }],
      ['PUT', '/api/v1/profiles/fuzz', { name: 'Fuzz', pool_credits: 10, member_pool_cap: 5 }],
      ['PUT', '/api/v1/seats/U0FUZZ001', { plan: 'pro', email: 'fuzz@example.com', name: 'Fuzz', anchor_day: 3 }],
      ['POST', '/api/v1/purchases', { product: 'addon', quantity: 1, reference: 'PO', unit_cost: '1.50', purchased_at: '2026-05-01T00:00:00Z' }],
      ['POST', '/api/v1/packs/assign', { product: 'addon', user: 'U0MAYA001' }],
      ['POST', '/api/v1/packs/unassign', { pack_id: 1 }],
      ['POST', '/api/v1/adjustments', { user: 'U0MAYA001', credits: 5, reason: 'launch' }],
    ];
    await fc.assert(
      fc.asyncProperty(fc.nat(routes.length - 1), fc.nat(7), strange, async (r, f, value) => {
        const [method, path, valid] = routes[r]!;
        const fields = Object.keys(valid);
        const body = { ...valid, [fields[f % fields.length]!]: value };
        const answers = [await h.call(method, path, body)];
        // An event goes in a batch too, beside a good one.
        if (path === '/api/v1/authorize') answers.push(await h.call('POST', '/api/v1/usage', { events: [body, valid] }));
        for (const answer of answers) expect(answer.status, `${method} ${path} ${JSON.stringify(body)}: ${answer.text}`).toBeLessThan(500);
      }),
      { numRuns: 60, seed: 20260510 },
    );
  });
});

describeOnPostgres('HTTP API callers at the same moment on PostgreSQL (needs TEST_DATABASE_URL)', () => {
  const h = useApi('postgres');

  it('answers each of 16 concurrent single-event calls on its own when one carries a NUL', async () => {
    await h.call('PUT', '/api/v1/plans/pro', { name: 'Pro', credits: 4000 });
    await h.call('PUT', '/api/v1/seats/U0MAYA001', { plan: 'pro' });
    // The last call shares a group-commit batch with the calls queued behind the first two.
    const calls = Array.from({ length: 16 }, (_, i) =>
      h.call('POST', '/api/v1/usage', { events: [{ id: `c-${i}`, user: 'U0MAYA001', credits: 10, feature: i === 15 ? nul : 'fill' }] }),
    );
    const answers = await Promise.all(calls);
    expect(answers.map((a) => a.status)).toEqual([...Array<number>(15).fill(200), 400]);
    expect(answers[15]!.json.error).toBe(`events.0: feature: ${nul_refused}`);
    expect(answers.slice(0, 15).every((a) => a.json.results[0].status === 'applied')).toBe(true);
    expect((await h.call('GET', '/api/v1/balances/U0MAYA001')).json).toMatchObject({ used: 150, remaining: 3850 });
  });
});
