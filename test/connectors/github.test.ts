// GitHub Copilot premium requests: pulled from a fake GitHub that follows the documented
// GET /organizations/{org}/settings/billing/premium_request/usage (year, month, day and user
// filters; usageItems per product, SKU and model with fractional grossQuantity), and imported from
// the premium request usage report CSV. Members are matched by their seat's vendor_user (a GitHub
// login); both ways share their totals, so nothing is counted twice.
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { githubConnector } from '../../src/connectors/github.ts';
import type { VendorHttp } from '../../src/connectors/http.ts';
import { runPull } from '../../src/connectors/runner.ts';
import { githubImportExitCode, githubImportSummary, importGithubUsage, readGithubUsageFile } from '../../src/cli/import-usage.ts';
import { import_exit } from '../../src/cli/csv.ts';
import type { Ledger } from '../../src/ledger/index.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { expectVerified, useLedger } from '../helpers/ledger-harness.ts';

const github_api = 'http://github.test';
const token = 'github_pat_for_tests_only';

/** One usage item as GitHub documents it. */
const item = (model: string, grossQuantity: number, sku = 'Copilot Premium Request', unitType = 'requests') => ({
  product: 'Copilot', sku, model, unitType, pricePerUnit: 0.04, grossQuantity, grossAmount: grossQuantity * 0.04,
  discountQuantity: grossQuantity, discountAmount: grossQuantity * 0.04, netQuantity: 0, netAmount: 0,
});

const fake = {
  /** Items per login and UTC day: `login|2026-05-09`. */
  usage: new Map<string, ReturnType<typeof item>[]>(),
  first: [] as (() => Response)[],
  requests: [] as URL[],
};

const server = setupServer(
  http.get(`${github_api}/organizations/:org/settings/billing/premium_request/usage`, ({ request, params }) => {
    const url = new URL(request.url);
    fake.requests.push(url);
    const answer = fake.first.shift();
    if (answer) return answer();
    if (request.headers.get('authorization') !== `Bearer ${token}`) return HttpResponse.json({ message: 'Bad credentials' }, { status: 401 });
    if (request.headers.get('x-github-api-version') !== '2022-11-28') return HttpResponse.json({ message: 'Unsupported API version' }, { status: 400 });
    const [year, month, day] = ['year', 'month', 'day'].map((k) => url.searchParams.get(k));
    const date = `${year}-${month!.padStart(2, '0')}-${day!.padStart(2, '0')}`;
    const user = url.searchParams.get('user');
    const items = [...fake.usage.entries()]
      .filter(([key]) => key.endsWith(`|${date}`) && (!user || key.split('|')[0]!.toLowerCase() === user.toLowerCase()))
      .flatMap(([, list]) => list);
    // GitHub's report has no per-person rows: the same items, summed per product, SKU and model.
    const summed = new Map<string, ReturnType<typeof item>>();
    for (const it of items) {
      const key = `${it.product}|${it.sku}|${it.model}`;
      const seen = summed.get(key);
      summed.set(key, seen ? { ...seen, grossQuantity: seen.grossQuantity + it.grossQuantity } : { ...it });
    }
    return HttpResponse.json({
      timePeriod: { year: Number(year), month: Number(month), day: Number(day) },
      organization: String(params.org),
      ...(user ? { user } : {}),
      usageItems: [...summed.values()],
    });
  }),
);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());
afterEach(() => {
  fake.usage.clear();
  fake.first = [];
  fake.requests = [];
});

const waits: number[] = [];
const vendorHttp: VendorHttp = { fetch: (...args) => globalThis.fetch(...args), sleep: async (ms) => void waits.push(ms) };
const github = () => githubConnector({ token, org: 'acme-corp', apiUrl: github_api, tool: 'copilot' });

describeEachDatabase('GitHub premium requests on %s', (kind) => {
  const h = useLedger(kind, { start: '2026-05-01T00:00:00Z' });
  const pull = (since?: string) => runPull(h.ledger, github(), { http: vendorHttp, since });
  const usedBy = async (ledger: Ledger, user: string) => (await ledger.balance(user, 'copilot')).used;

  /** Copilot beside Adobe: Maya's seat knows her login MayaCodes, Lena's lena-o; Nora has a seat without one. */
  const setup = async () => {
    waits.length = 0;
    await h.ledger.putTool('copilot', { name: 'Copilot premium requests', unit: 'premium requests', timeZone: 'UTC' });
    await h.ledger.putPlan('copilot-business', { name: 'Copilot Business', credits: 300, tool: 'copilot' });
    await h.ledger.putSeat('U0MAYA001', { plan: 'copilot-business', vendorUser: 'MayaCodes' });
    await h.ledger.putSeat('U0LENA001', { plan: 'copilot-business', vendorUser: 'lena-o' });
    await h.ledger.putSeat('U0NORA001', { plan: 'copilot-business' });
    h.clock.set('2026-05-10T12:00:00Z');
  };

  it("asks for each day and each seat's login, sums a model's SKUs, rounds each total once and reports usage no login accounts for", async () => {
    await setup();
    fake.usage.set('MayaCodes|2026-05-09', [item('Claude Sonnet 4', 10.5), item('Claude Sonnet 4', 2, 'Coding Agent Premium Request'), item('GPT-5', 0.33)]);
    fake.usage.set('lena-o|2026-05-10', [item('o3-mini', 0.33), item('o3-mini', 0.33), item('o3-mini', 0.34)]);
    fake.usage.set('ghost-dev|2026-05-09', [item('GPT-5', 7)]);
    const summary = await pull('2026-05-08');
    expect(summary).toMatchObject({ status: 'ok', tool: 'copilot', since: '2026-05-08', until: '2026-05-10', applied: 2, units: 14, error: null });
    // 12.5 of Claude Sonnet 4 is 13; a third of a GPT-5 request is none yet; Lena's three thirds make one.
    expect(await usedBy(h.ledger, 'U0MAYA001')).toBe(13);
    expect(await usedBy(h.ledger, 'U0LENA001')).toBe(1);
    expect(summary.unattributed).toEqual([{ day: '2026-05-09', units: 7 }]);
    // 8 May used nothing: one question; the 9th and 10th: the organisation, then each login.
    expect(fake.requests.map((u) => `${u.pathname.split('/')[2]} ${u.searchParams.get('day')} ${u.searchParams.get('user') ?? 'org'}`)).toEqual([
      'acme-corp 8 org',
      'acme-corp 9 org', 'acme-corp 9 lena-o', 'acme-corp 9 mayacodes',
      'acme-corp 10 org', 'acme-corp 10 lena-o', 'acme-corp 10 mayacodes',
    ]);
    const [event] = await h.db.query<{ feature: string; at: Date; source: string }>(`select feature, occurred_at as at, source from journal where kind = 'usage' and credits = 13`);
    expect(event).toEqual({ feature: 'Claude Sonnet 4', at: new Date('2026-05-09T23:59:59.999Z'), source: 'github pull' });
    await expectVerified(h.ledger);
  });

  it('records a fractional total only when it reaches the next whole request', async () => {
    await setup();
    fake.usage.set('MayaCodes|2026-05-10', [item('Claude Sonnet 4', 12.5)]);
    await pull('2026-05-10');
    fake.usage.set('MayaCodes|2026-05-10', [item('Claude Sonnet 4', 13.4)]);
    expect(await pull('2026-05-10')).toMatchObject({ applied: 0, unchanged: 1 });
    fake.usage.set('MayaCodes|2026-05-10', [item('Claude Sonnet 4', 13.6)]);
    expect(await pull('2026-05-10')).toMatchObject({ applied: 1, units: 1 });
    expect(await usedBy(h.ledger, 'U0MAYA001')).toBe(14);
    expect(await h.db.query(`select total::text as total, recorded from vendor_totals`)).toEqual([{ total: '13.6', recorded: 14 }]);
  });

  it("waits for GitHub's rate limit to reset on a 403 with no requests left, then reads on", async () => {
    await setup();
    fake.usage.set('MayaCodes|2026-05-10', [item('GPT-5', 4)]);
    const reset = Math.floor(h.clock.now().getTime() / 1000) + 42;
    fake.first = [
      () => HttpResponse.json({ message: 'API rate limit exceeded' }, { status: 403, headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) } }),
      () => HttpResponse.json({ message: 'You have exceeded a secondary rate limit' }, { status: 429, headers: { 'retry-after': '3' } }),
    ];
    expect(await pull('2026-05-10')).toMatchObject({ status: 'ok', applied: 1, units: 4 });
    expect(waits).toEqual([42_000, 3_000]);
  });

  it('says which token to fix on a 403 that is no rate limit', async () => {
    await setup();
    fake.first = [() => HttpResponse.json({ message: 'Resource not accessible by personal access token' }, { status: 403 })];
    const summary = await pull('2026-05-10');
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(
      /^GitHub refused the token \(HTTP 403: Resource not accessible by personal access token\): set GITHUB_TOKEN to a token of an owner of GITHUB_ORG: a fine-grained personal access token with the organisation permission "Administration" \(read\)/,
    );
    expect(waits).toEqual([]);
  });

  /** The report as GitHub's billing pages export it. */
  const report_header = 'date,product,sku,model,quantity,unit_type,applied_cost_per_quantity,gross_amount,discount_amount,net_amount,username,organization,cost_center_name';
  const report = [
    report_header,
    '2026-05-09,Copilot,Copilot Premium Request,Claude Sonnet 4,10.5,requests,0.04,0.42,0.42,0,MayaCodes,acme-corp,',
    '2026-05-09,Copilot,Coding Agent Premium Request,Claude Sonnet 4,2,requests,0.04,0.08,0.08,0,mayacodes,acme-corp,Platform',
    '2026-05-09,Copilot,Copilot Premium Request,o3-mini,0.33,requests,0.04,0.0132,0.0132,0,lena-o,acme-corp,',
    '2026-05-09,Copilot,Copilot Premium Request,o3-mini,0.33,requests,0.04,0.0132,0.0132,0,lena-o,acme-corp,',
    '2026-05-09,Copilot,Copilot Premium Request,GPT-5,7,requests,0.04,0.28,0.28,0,ghost-dev,acme-corp,',
    '2026-05-09,Copilot,Copilot Premium Request,GPT-5,1.25,requests,0.04,0.05,0.05,0,ghost-dev,acme-corp,',
    '2026-05-09,Copilot,Copilot Premium Request,GPT-5,3,requests,0.04,0.12,0.12,0,old-intern,acme-corp,',
    '2026-05-09,Actions,Actions Linux,,120,minutes,0.008,0.96,0.96,0,MayaCodes,acme-corp,',
    '2026-05-09,Copilot,Copilot Premium Request,GPT-5,lots,requests,0.04,0,0,0,lena-o,acme-corp,',
    '',
  ].join('\r\n');

  it('imports the usage report: fractional quantities summed per login, day and model, unknown usernames listed with their rows', async () => {
    await setup();
    const summary = await importGithubUsage(h.ledger, readGithubUsageFile(report), 'copilot');
    expect(summary).toEqual({
      rows: 9, tool: 'copilot', applied: 2, units: 14, unchanged: 0, otherUnits: 1,
      unknown: [{ username: 'ghost-dev', rows: 2, quantity: 8.25 }, { username: 'old-intern', rows: 1, quantity: 3 }],
      rejected: [{ line: 10, reason: 'quantity "lots" is not a number of 0 or more, such as 1 or 0.33' }],
    });
    expect(await usedBy(h.ledger, 'U0MAYA001')).toBe(13);
    // 0.33 + 0.33 is 0.66: one request, rounded from the sum, never two roundings of a third.
    expect(await usedBy(h.ledger, 'U0LENA001')).toBe(1);
    expect(githubImportExitCode(summary)).toBe(import_exit.rows_failed);
    expect(githubImportSummary(summary)).toBe(
      [
        'import-usage --format github into copilot: 2 usage events recorded, 14 premium requests; 0 sums of login, day and model recorded before; 1 row of another unit than premium requests skipped',
        '2 usernames no seat in copilot carries as vendor_user, 3 rows not recorded (give each a seat in the tool whose vendor_user is that GitHub login, then import the file again):',
        '  ghost-dev: 2 rows, 8.25 premium requests',
        '  old-intern: 1 row, 3 premium requests',
        '1 row not imported:',
        '  line 10: quantity "lots" is not a number of 0 or more, such as 1 or 0.33',
      ].join('\n'),
    );
  });

  it('shares its totals with the pull: the report imported after a pull of the same day records nothing twice', async () => {
    await setup();
    fake.usage.set('MayaCodes|2026-05-09', [item('Claude Sonnet 4', 10.5), item('Claude Sonnet 4', 2, 'Coding Agent Premium Request')]);
    fake.usage.set('lena-o|2026-05-09', [item('o3-mini', 0.66)]);
    await pull('2026-05-09');
    const summary = await importGithubUsage(h.ledger, readGithubUsageFile(report), 'copilot');
    expect(summary).toMatchObject({ applied: 0, units: 0, unchanged: 2 });
    expect(await usedBy(h.ledger, 'U0MAYA001')).toBe(13);
    // The same report again: nothing new either.
    expect(await importGithubUsage(h.ledger, readGithubUsageFile(report), 'copilot')).toMatchObject({ applied: 0, unchanged: 2 });
    expect(await usedBy(h.ledger, 'U0LENA001')).toBe(1);
  });

  it('refuses to guess the tool when the org has several and none is named', async () => {
    await setup();
    await expect(importGithubUsage(h.ledger, readGithubUsageFile(report), null)).rejects.toThrow(
      'import-usage --format github (set --tool or GITHUB_TOOL) must name its tool: one of default, copilot',
    );
    expect(await h.db.query(`select * from vendor_totals`)).toEqual([]);
  });
});

describe('the days GitHub serves', () => {
  it('reach back 23 whole months: "only data from the past 24 months is accessible"', () => {
    expect(github().earliestDay('2026-05-10')).toBe('2024-06-01');
  });
});

describe('the premium request usage report', () => {
  it('is refused whole, before anything is written, without a username column, naming the columns it has', () => {
    expect(() => readGithubUsageFile('date,product,sku,model,quantity,unit_type\r\n2026-05-09,Copilot,x,GPT-5,1,requests\r\n')).toThrow(
      /^the file has no username \(or user, login\) column; its comma-separated header has 6 columns "date", "product", "sku", "model", "quantity", "unit_type"/,
    );
  });
});
