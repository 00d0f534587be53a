// GET /api/v1/openapi.json: every route the app serves is in it, its request schemas take and
// refuse what the API takes and refuses, and the API answers what it documents. Checked with a
// JSON Schema validator of its own (Ajv, JSON Schema 2020-12: what OpenAPI 3.1 schemas are).
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.ts';
import { openApiDocument } from '../../src/api/openapi.ts';
import { api_routes } from '../../src/api/routes.ts';
import { createMetrics } from '../../src/metrics.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { useApi, type Answer } from './helpers.ts';

// ajv-formats is CommonJS: its function is the default export's default under ESM.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

interface Operation {
  parameters?: { in: string; name: string; required?: boolean; schema: object }[];
  requestBody?: { content: Record<string, { schema: object }> };
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
  security?: unknown[];
}

/** The document as the app serves it, and a validator for any schema in it, by JSON pointer. */
function validatorOf(document: any) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(document, 'openapi');
  const compiled = new Map<string, ValidateFunction>();
  const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
  return {
    operation: (method: string, path: string): Operation => document.paths[path][method],
    /** Whether `value` fits the schema at `parts` (under the document), with Ajv's errors when not. */
    check(value: unknown, ...parts: string[]): { valid: boolean; errors: unknown } {
      const ref = `openapi#/${pointer(...parts)}`;
      let validate = compiled.get(ref);
      if (!validate) compiled.set(ref, (validate = ajv.compile({ $ref: ref })));
      const valid = validate(value);
      return { valid, errors: validate.errors };
    },
  };
}

/** The OpenAPI path a request path belongs to: `/api/v1/seats/U0X/revoke-preview` is `/api/v1/seats/{user}/revoke-preview`. */
function templateOf(document: any, path: string): string {
  const bare = path.split('?')[0]!;
  if (document.paths[bare]) return bare;
  const found = Object.keys(document.paths).find((t) => new RegExp(`^${t.replace(/\{\w+\}/g, '[^/]+')}$`).test(bare));
  if (!found) throw new Error(`no documented path for ${path}`);
  return found;
}

describe('the OpenAPI document', () => {
  it('lists every route the app serves, each path parameter among its parameters', async () => {
    const app = buildApi({ ledger: {} as never, metrics: createMetrics(), apiToken: 'x'.repeat(16), checkDatabase: async () => {} });
    const served = app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
    const document = openApiDocument(api_routes) as any;
    const documented = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item as object).map((method) => `${method} ${path}`));
    expect(served.length).toBe(25);
    expect([...documented].sort()).toEqual([...served].sort());
    for (const entry of documented) {
      const [method, path] = entry.split(' ') as [string, string];
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const parameters = (document.paths[path][method] as Operation).parameters ?? [];
      expect(parameters.filter((p) => p.in === 'path' && p.required).map((p) => p.name), entry).toEqual(inPath);
    }
  });
});

describeEachDatabase('the OpenAPI document served on %s', (kind) => {
  const h = useApi(kind);

  const served = async () => {
    const answer = await h.call('GET', '/api/v1/openapi.json');
    expect(answer.status).toBe(200);
    return answer.json;
  };

  it('is served behind the bearer token, as OpenAPI 3.1 with the bearer scheme', async () => {
    expect((await h.send('GET', '/api/v1/openapi.json', { token: null })).status).toBe(401);
    const document = await served();
    expect(document).toMatchObject({
      openapi: '3.1.0',
      info: { title: 'creditdesk API' },
      security: [{ bearer: [] }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    });
    expect(document.paths['/healthz'].get.security).toEqual([]);
    expect(document.paths['/api/v1/plans/{key}'].put.security).toBeUndefined();
    expect(Object.keys(document.paths['/api/v1/seats/{user}'].put.responses).sort()).toEqual(['200', '201', '400', '401', '404', '409', '413', '415', '422', '503']);
  });

  const event = { id: 'e1', user: 'U0MAYA001', credits: 1 };
  /** Bodies by the routes they go to, each with whether the API takes it. */
  const bodies: Record<string, [string, string, unknown, boolean][]> = {
    'usage and authorize': [
      ['post', '/api/v1/usage', { events: [event] }, true],
      ['post', '/api/v1/usage', [event], true],
      ['post', '/api/v1/usage', { events: [] }, false],
      ['post', '/api/v1/usage', {}, false],
      ['post', '/api/v1/usage', { events: [{ ...event, credits: 0 }] }, false],
      ['post', '/api/v1/authorize', { ...event, id: 'a1', tool: 'default', draw: 'pool', feature: ' ', colour: 'red' }, true],
      ['post', '/api/v1/authorize', { ...event, credits: 1.5 }, false],
      ['post', '/api/v1/authorize', { ...event, at: 'yesterday' }, false],
      ['post', '/api/v1/authorize', { ...event, at: '2026-05-10T11:00:00+02:00', id: 'a2' }, true],
      ['post', '/api/v1/authorize', { ...event, draw: 'seat' }, false],
      ['post', '/api/v1/authorize', { ...event, tool: 'Default' }, false],
      ['post', '/api/v1/authorize', { ...event, id: '' }, false],
      ['post', '/api/v1/authorize', { ...event, feature: 'a\u0000b' }, false],
      ['post', '/api/v1/authorize', { ...event, feature: 'a\ud800b' }, false],
      ['post', '/api/v1/authorize', { ...event, id: 'a3', feature: 'fill \ud83d\ude00' }, true],
    ],
    'catalog and tool': [
      ['put', '/api/v1/plans/pro', { name: 'Pro', credits: 4000, tool: 'default', daily_limit: 150, rollover_cap: null }, true],
      ['put', '/api/v1/plans/pro', { key: 'pro', tool: 'default', name: 'Pro', credits: 4000, daily_limit: null, rollover_cap: null, updated_at: '2026-05-10T12:00:00.000Z' }, true],
      ['put', '/api/v1/plans/pro', { name: 'Pro', credits: 4000, updated_at: 'yesterday' }, false],
      ['put', '/api/v1/plans/pro', { name: 'Pro', credits: 4000, toolKey: 'default' }, false],
      ['put', '/api/v1/plans/pro', { name: '   ', credits: 1 }, false],
      ['put', '/api/v1/plans/pro', { name: 'Pro', credits: -5 }, false],
      ['put', '/api/v1/plans/pro', { name: 'Pro', credits: '4000' }, false],
      ['put', '/api/v1/plans/pro', { name: 'Pro', credits: 1e13 }, false],
      ['put', '/api/v1/plans/pro', { name: 'Pro', credits: 4000, colour: 'red' }, false],
      ['put', '/api/v1/plans/pro', { name: 'Pro', credits: 4000, daily_limit: 0 }, false],
      ['put', '/api/v1/pack-products/addon', { name: 'Add-on', credits: 2000, kind: 'recurring', reassign: 'full' }, true],
      ['put', '/api/v1/pack-products/addon', { name: 'Add-on', credits: 2000, kind: 'weekly' }, false],
      ['put', '/api/v1/pack-products/once', { name: 'Once', credits: 100, kind: 'one_time', expires_days: 0 }, false],
      ['put', '/api/v1/profiles/design', { name: 'Design', pool_credits: 1000, member_pool_cap: null }, true],
      ['put', '/api/v1/profiles/design', { name: 'Design', pool_credits: 1.5 }, false],
      ['put', '/api/v1/profiles/design', { name: 'Design', member_pool_cap: -1 }, false],
      ['put', '/api/v1/tools/figma', { name: 'Figma', unit: 'credits', anchor_day: null, overage_budget: 1000, overage_unit_cost: 0.04, sync_nudge: false }, true],
      ['put', '/api/v1/tools/figma', { key: 'figma', name: 'Figma', time_zone: 'UTC', anchor_day: 1, follows_environment: { time_zone: true, anchor_day: true } }, true],
      ['put', '/api/v1/tools/figma', { name: 'Figma', follows_environment: { zone: true } }, false],
      ['put', '/api/v1/tools/figma', { name: 'Figma', anchor_day: 0 }, false],
      ['put', '/api/v1/tools/figma', { name: 'Figma', overage_unit_cost: '0.1234567' }, false],
      ['put', '/api/v1/tools/figma', { name: 'Figma', sync_nudge: 'yes' }, false],
    ],
    'seat, purchase, pack and adjustment': [
      ['put', '/api/v1/seats/U0LENA001', { plan: 'pro', email: 'lena@example.com', anchor_day: 31, vendor_user: null }, true],
      ['put', '/api/v1/seats/U0LENA001', { plans: ['pro'] }, true],
      ['put', '/api/v1/seats/U0LENA001', { plan: 'pro', plans: ['pro'] }, false],
      ['put', '/api/v1/seats/U0LENA001', { profile: 'design' }, false],
      ['put', '/api/v1/seats/U0LENA001', { plans: [] }, false],
      ['put', '/api/v1/seats/U0LENA001', { plan: 'pro', email: 'not-an-email' }, false],
      ['put', '/api/v1/seats/U0LENA001', { plan: 'pro', anchor_day: 32 }, false],
      ['put', '/api/v1/seats/U0LENA001', { plan: 'pro', vendor_user: '' }, false],
      ['post', '/api/v1/purchases', { product: 'addon', quantity: 1, unit_cost: '120.00', purchased_at: '2026-05-01T00:00:00Z' }, true],
      ['post', '/api/v1/purchases', { product: 'addon', quantity: 1, unit_cost: 12.5 }, true],
      ['post', '/api/v1/purchases', { product: 'addon', quantity: 1, unit_cost: '12.345678' }, false],
      ['post', '/api/v1/purchases', { product: 'addon', quantity: 0 }, false],
      ['post', '/api/v1/purchases', { product: 'addon', quantity: 1, purchased_at: '2026-05-01' }, false],
      ['post', '/api/v1/packs/assign', { product: 'addon', user: 'U0MAYA001' }, true],
      ['post', '/api/v1/packs/assign', { product: 'addon' }, false],
      ['post', '/api/v1/packs/unassign', { pack_id: 1 }, true],
      ['post', '/api/v1/packs/unassign', { pack_id: 2 ** 31 }, false],
      ['post', '/api/v1/packs/unassign', { pack_id: '1' }, false],
      ['post', '/api/v1/adjustments', { user: 'U0MAYA001', credits: -3, reason: 'correction' }, true],
      ['post', '/api/v1/adjustments', { user: 'U0MAYA001', credits: 0, reason: 'x' }, false],
      ['post', '/api/v1/adjustments', { user: 'U0MAYA001', credits: -1e13, reason: 'x' }, false],
      ['post', '/api/v1/adjustments', { user: 'U0MAYA001', credits: 1.5, reason: 'x' }, false],
      ['post', '/api/v1/adjustments', { user: 'U0MAYA001', credits: 5 }, false],
    ],
  };

  it.each(Object.keys(bodies))('takes in its request schemas the %s bodies the API takes, and refuses those it refuses', async (group) => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putPackProduct('addon', { name: 'Add-on', credits: 2000, kind: 'recurring' });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
    await h.ledger.recordPurchase({ product: 'addon', quantity: 1 });
    const document = await served();
    const v = validatorOf(document);
    for (const [method, path, body, expected] of bodies[group]!) {
      const answer = await h.call(method.toUpperCase(), path, body);
      const documented = v.check(body, 'paths', templateOf(document, path), method, 'requestBody', 'content', 'application/json', 'schema');
      const what = `${method} ${path} ${JSON.stringify(body)}: ${answer.text} ${JSON.stringify(documented.errors)}`;
      expect({ document: documented.valid, api: answer.status !== 400 }, what).toEqual({ document: expected, api: expected });
    }
  });

  it('takes in its query parameters the values the API takes, and refuses those it refuses', async () => {
    const document = await served();
    const v = validatorOf(document);
    const queries: [string, string, string, boolean][] = [
      ['/api/v1/plans', 'limit', '500', true],
      ['/api/v1/plans', 'limit', '0', false],
      ['/api/v1/plans', 'limit', '501', false],
      ['/api/v1/seats', 'limit', '05', false],
      ['/api/v1/packs', 'free', 'true', true],
      ['/api/v1/packs', 'free', 'yes', false],
      ['/api/v1/profiles', 'tool', 'Figma', false],
      ['/api/v1/report', 'cycle', '2026-05', true],
      ['/api/v1/report', 'cycle', '2026-13', false],
      ['/api/v1/report', 'cycle', '9999-01', false],
      ['/api/v1/report', 'cycle', '1969-12', false],
      ['/api/v1/report', 'format', 'xml', false],
    ];
    for (const [path, name, value, expected] of queries) {
      const answer = await h.call('GET', `${path}?${name}=${value}`);
      const parameters = v.operation('get', path).parameters!;
      const index = parameters.findIndex((p) => p.in === 'query' && p.name === name);
      const documented = v.check(value, 'paths', path, 'get', 'parameters', String(index), 'schema');
      expect({ document: documented.valid, api: answer.status !== 400 }, `${path}?${name}=${value}: ${answer.text}`).toEqual({ document: expected, api: expected });
    }
  });

  /** Routes whose answers the tests below checked against the document, for the last test. */
  const checked = new Set<string>();

  /** Sends a call and checks its answer against what the served document says that route answers. */
  async function checkedCall(method: string, path: string, body: unknown, expectedStatus: number): Promise<Answer> {
    const document = (documentSeen ??= await served());
    const v = (validator ??= validatorOf(document));
    const answer = await h.call(method, path, body);
    expect(answer.status, `${method} ${path}: ${answer.text}`).toBe(expectedStatus);
    const template = templateOf(document, path);
    const lower = method.toLowerCase();
    const declared = v.operation(lower, template).responses[String(answer.status)];
    expect(declared, `${method} ${path} answered ${answer.status}, which its document does not list`).toBeDefined();
    const type = answer.headers.get('content-type')!.split(';')[0]!;
    expect(Object.keys(declared!.content ?? {}), `${method} ${path}`).toContain(type);
    if (type === 'application/json') {
      const { valid, errors } = v.check(answer.json, 'paths', template, lower, 'responses', String(answer.status), 'content', 'application/json', 'schema');
      expect(valid, `${method} ${path} ${answer.status}: ${answer.text} ${JSON.stringify(errors)}`).toBe(true);
    }
    checked.add(`${lower} ${template}`);
    return answer;
  }
  let documentSeen: any;
  let validator: ReturnType<typeof validatorOf> | undefined;

  /** Two tools; a plan, a pack product and a profile of the first; a daily-limited plan of the second. */
  const setupCatalog = async () => {
    await h.ledger.putTool('figma', { name: 'Figma AI credits', overageBudget: 100, overageUnitCost: '0.5' });
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000, tool: 'default', rolloverCap: 1000 });
    await h.ledger.putPlan('view', { name: 'View seat', credits: 500, tool: 'figma', dailyLimit: 150 });
    await h.ledger.putPackProduct('addon', { name: 'Add-on', credits: 2000, kind: 'recurring', tool: 'default' });
    await h.ledger.putProfile('design', { name: 'Design', tool: 'default', poolCredits: 1000, memberPoolCap: 500 });
  };

  it('answers the service, tool and catalog routes as its document says', async () => {
    await checkedCall('GET', '/healthz', undefined, 200);
    await checkedCall('GET', '/metrics', undefined, 200);
    await checkedCall('GET', '/api/v1/openapi.json', undefined, 200);
    await checkedCall('PUT', '/api/v1/tools/default', { name: 'Adobe generative credits' }, 200);
    await checkedCall('PUT', '/api/v1/tools/figma', { name: 'Figma AI credits', overage_budget: 100, overage_unit_cost: 0.5 }, 200);
    await checkedCall('GET', '/api/v1/tools', undefined, 200);
    await checkedCall('PUT', '/api/v1/plans/pro', { name: 'Pro', credits: 4000, tool: 'default', rollover_cap: 1000 }, 200);
    await checkedCall('PUT', '/api/v1/plans/view', { name: 'View seat', credits: 500, tool: 'figma', daily_limit: 150 }, 200);
    await checkedCall('GET', '/api/v1/plans?limit=1', undefined, 200);
    await checkedCall('PUT', '/api/v1/pack-products/once', { name: 'Once', credits: 100, kind: 'one_time', expires_days: 30, tool: 'default' }, 200);
    await checkedCall('GET', '/api/v1/pack-products', undefined, 200);
    await checkedCall('PUT', '/api/v1/profiles/design', { name: 'Design', tool: 'default', pool_credits: 1000, member_pool_cap: 500 }, 200);
    await checkedCall('GET', '/api/v1/profiles', undefined, 200);
    await checkedCall('PUT', '/api/v1/plans/pro', { name: 'Pro', credits: -1 }, 400);
    await checkedCall('PUT', '/api/v1/plans/lite', { name: 'Lite', credits: 1 }, 422);
  });

  it('answers the seat, pack, usage and balance routes as its document says', async () => {
    await setupCatalog();
    await checkedCall('PUT', '/api/v1/seats/U0MAYA001', { plans: ['pro'], profile: 'design', email: 'maya@example.com' }, 201);
    await checkedCall('PUT', '/api/v1/seats/U0MAYA001', { plan: 'pro', name: 'Maya' }, 200);
    await checkedCall('PUT', '/api/v1/seats/U0MAYA001', { plan: 'view', vendor_user: 'maya-figma' }, 201);
    await checkedCall('GET', '/api/v1/seats', undefined, 200);
    await checkedCall('POST', '/api/v1/purchases', { product: 'addon', quantity: 2, reference: 'PO-1', unit_cost: '10.00' }, 201);
    await checkedCall('POST', '/api/v1/packs/assign', { product: 'addon', user: 'U0MAYA001' }, 200);
    await checkedCall('GET', '/api/v1/purchases', undefined, 200);
    await checkedCall('GET', '/api/v1/packs', undefined, 200);
    await checkedCall('POST', '/api/v1/usage', { events: [{ id: 'u1', user: 'U0MAYA001', tool: 'default', credits: 7000 }, { user: 'U0MAYA001', credits: 1 }] }, 200);
    await checkedCall('POST', '/api/v1/authorize', { id: 'a1', user: 'U0MAYA001', tool: 'figma', credits: 150 }, 200);
    await checkedCall('POST', '/api/v1/authorize', { id: 'a1', user: 'U0MAYA001', tool: 'figma', credits: 150 }, 200);
    await checkedCall('POST', '/api/v1/authorize', { id: 'a2', user: 'U0MAYA001', tool: 'figma', credits: 1 }, 402);
    await checkedCall('POST', '/api/v1/authorize', { id: 'a3', user: 'U0MAYA001', credits: 1 }, 422);
    await checkedCall('GET', '/api/v1/balances/U0MAYA001', undefined, 200);
    await checkedCall('GET', '/api/v1/balances/U0MAYA001?tool=figma', undefined, 200);
    await checkedCall('POST', '/api/v1/adjustments', { user: 'U0MAYA001', tool: 'default', credits: 10, reason: 'launch' }, 201);
    await checkedCall('POST', '/api/v1/packs/unassign', { pack_id: 1 }, 200);
    await checkedCall('GET', '/api/v1/balances/U0NOBODY1', undefined, 404);
    await checkedCall('POST', '/api/v1/packs/assign', { product: 'addon', user: 'U0NOBODY1' }, 404);
  });

  it('answers the report and revocation routes as its document says', async () => {
    await setupCatalog();
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro', profile: 'design' });
    await h.ledger.recordPurchase({ product: 'addon', quantity: 1, unitCost: '10.00' });
    await h.ledger.assignPack({ product: 'addon', user: 'U0MAYA001' });
    await h.ledger.recordUsage({ id: 'u1', user: 'U0MAYA001', tool: 'default', credits: 100 });
    await checkedCall('GET', '/api/v1/report?tool=default&group_by=profile', undefined, 200);
    await checkedCall('GET', '/api/v1/report?tool=default&format=csv', undefined, 200);
    await checkedCall('GET', '/api/v1/seats/U0MAYA001/revoke-preview?tool=default', undefined, 200);
    await checkedCall('DELETE', '/api/v1/seats/U0MAYA001?tool=default', undefined, 200);
    await checkedCall('DELETE', '/api/v1/seats/U0MAYA001?tool=default', undefined, 409);
    await checkedCall('DELETE', '/api/v1/seats/U0MAYA001', undefined, 422);
    expect((await h.send('POST', '/api/v1/usage', { body: '{}', contentType: 'text/plain' })).status).toBe(415);
  });

  it('has had an answer of every documented route checked by the tests above', async () => {
    const document = await served();
    const routes = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item as object).map((method) => `${method} ${path}`));
    expect([...checked].sort()).toEqual(routes.sort());
  });
});
