// Figma's AI credits pulled from a fake Figma that follows the documented GET /v1/ai_usage/daily:
// plan access token in X-Figma-Token, start_date/end_date, cursor pages (next_cursor,
// has_next_page), rows of user_email, day, editor_type, seat_credits_sum and plan_credits_sum.
// What a pull records, and what it does on two pages, a 429, a total that grows, a repeat, two pulls
// at once, a stranger's email, a 401 and a pull that dies half way. No test sleeps: waits are recorded.
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, type Database } from '../../src/db/client.ts';
import { figmaConnector } from '../../src/connectors/figma.ts';
import { vendor_tries_max, type VendorHttp } from '../../src/connectors/http.ts';
import { pullSummaryText, runPull, type PullSummary } from '../../src/connectors/runner.ts';
import type { Ledger } from '../../src/ledger/index.ts';
import { describeEachDatabase, describeOnPostgres, testLedger, urlOf } from '../helpers/db.ts';
import { expectVerified, useLedger } from '../helpers/ledger-harness.ts';

const figma_api = 'http://figma.test';
const token = 'figd-plan-token-for-tests';

interface FigmaRow {
  user_email: string;
  day: string;
  editor_type: string;
  seat_credits_sum: number;
  plan_credits_sum: number;
}

/** The fake Figma's state: its rows, how many it serves a page, answers to give first, and what it was asked. */
const fake = {
  rows: [] as FigmaRow[],
  pageSize: 1000,
  /** Answers given before the rows, one per request (a 429, a 500). */
  first: [] as (() => Response)[],
  /** Rows served to the n-th request (0-based) instead of `rows`: data that changes between two pulls at once. */
  rowsFor: null as ((n: number) => FigmaRow[]) | null,
  /** Requests held until this many have arrived: two pulls that read at the same moment. */
  holdUntil: 0,
  held: [] as (() => void)[],
  requests: [] as URL[],
  tokens: [] as (string | null)[],
};

/** A full row as Figma documents it, with the fields creditdesk does not read. */
const row = (user_email: string, day: string, editor_type: string, seat: number, plan = 0) => ({
  plan_id: 'plan-1', user_id: `u-${user_email}`, user_email, day, editor_type, seat_credits_sum: seat, plan_credits_sum: plan,
  workspace_id: null, workspace_name: null, team_id: 't1', team_name: 'Design', license_group_id: null, license_group_name: null,
  metering_period_start: '2026-05-01', metering_period_end: '2026-05-31',
});

const server = setupServer(
  http.get(`${figma_api}/v1/ai_usage/daily`, async ({ request }) => {
    const url = new URL(request.url);
    const n = fake.requests.length;
    fake.requests.push(url);
    fake.tokens.push(request.headers.get('x-figma-token'));
    if (fake.holdUntil > 0) {
      await new Promise<void>((release) => {
        fake.held.push(release);
        if (fake.held.length >= fake.holdUntil) fake.held.splice(0).forEach((go) => go());
      });
    }
    const answer = fake.first.shift();
    if (answer) return answer();
    if (request.headers.get('x-figma-token') !== token) return HttpResponse.json({ status: 401, error: true, message: 'Invalid token' }, { status: 401 });
    const start = url.searchParams.get('start_date');
    const end = url.searchParams.get('end_date');
    if (!start || !end || end < start) return HttpResponse.json({ status: 400, error: true, message: 'start_date and end_date are required' }, { status: 400 });
    const rows = (fake.rowsFor ? fake.rowsFor(n) : fake.rows).filter((r) => r.day >= start && r.day <= end);
    const limit = Math.min(Number(url.searchParams.get('limit') ?? 1000), fake.pageSize);
    const offset = url.searchParams.has('cursor') ? Number(atob(url.searchParams.get('cursor')!)) : 0;
    const page = rows.slice(offset, offset + limit);
    const more = offset + limit < rows.length;
    return HttpResponse.json({
      rows: page.map((r) => row(r.user_email, r.day, r.editor_type, r.seat_credits_sum, r.plan_credits_sum)),
      next_cursor: more ? btoa(String(offset + limit)) : null,
      has_next_page: more,
    });
  }),
);

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());
afterEach(() => {
  server.resetHandlers();
  Object.assign(fake, { rows: [], pageSize: 1000, first: [], rowsFor: null, holdUntil: 0, held: [], requests: [], tokens: [] });
});

const figma = (settings: { token?: string } = {}) => figmaConnector({ token: settings.token ?? token, apiUrl: figma_api, tool: 'figma' });

/** How the vendor's waits went: recorded, never slept. */
const waits: number[] = [];
const vendorHttp: VendorHttp = { fetch: (...args) => globalThis.fetch(...args), sleep: async (ms) => void waits.push(ms) };

const used = async (ledger: Ledger, user: string) => {
  const b = await ledger.balance(user, 'figma');
  return { used: b.used, own: b.quota - b.remaining, pool: b.pool_used, overage: b.overage };
};

describeEachDatabase('pulling Figma on %s', (kind) => {
  const h = useLedger(kind, { start: '2026-05-01T00:00:00Z' });
  const pull = (options: { since?: string; on?: Ledger; token?: string } = {}) =>
    runPull(options.on ?? h.ledger, figma({ token: options.token }), { http: vendorHttp, since: options.since });
  const journalOf = () =>
    h.db.query<{ key: string; credits: number; at: Date; feature: string }>(
      `select event_key as key, credits, occurred_at as at, feature from journal where kind = 'usage' order by id`,
    );

  /** An org with Adobe (the first tool) and Figma: Maya and Lena hold Full seats and share the Design pool. */
  const setup = async () => {
    waits.length = 0;
    await h.ledger.putTool('figma', { name: 'Figma AI credits' });
    await h.ledger.putPlan('figma-full', { name: 'Full seat', credits: 3000, tool: 'figma' });
    await h.ledger.putProfile('design', { name: 'Design', tool: 'figma', poolCredits: 5000 });
    await h.ledger.putSeat('U0MAYA001', { plan: 'figma-full', email: 'maya@example.com', profile: 'design' });
    // Lena's Figma account is her old address: her seat says so.
    await h.ledger.putSeat('U0LENA001', { plan: 'figma-full', email: 'lena@example.com', profile: 'design', vendorUser: 'Lena.Ortiz@agency.example' });
    h.clock.set('2026-05-10T12:00:00Z');
  };

  it('reads two pages and records seat credits as own usage and plan credits from the pool, each at its day', async () => {
    await setup();
    fake.pageSize = 2;
    fake.rows = [
      { user_email: 'maya@example.com', day: '2026-05-08', editor_type: 'design', seat_credits_sum: 120, plan_credits_sum: 0 },
      { user_email: 'MAYA@example.com', day: '2026-05-09', editor_type: 'make', seat_credits_sum: 300, plan_credits_sum: 45 },
      { user_email: 'lena.ortiz@agency.example', day: '2026-05-10', editor_type: 'figjam', seat_credits_sum: 80, plan_credits_sum: 0 },
    ];
    const summary = await pull();
    expect(summary).toMatchObject({ status: 'ok', tool: 'figma', since: '2026-05-01', until: '2026-05-10', rows: 6, applied: 4, units: 545, error: null });
    expect(summary.unknown).toEqual({ count: 0, people: [] });
    // Two pages: the second asked for with the first's cursor, both with the plan token.
    expect(fake.requests.map((u) => [u.searchParams.get('start_date'), u.searchParams.get('end_date'), u.searchParams.get('limit'), u.searchParams.get('cursor')])).toEqual([
      ['2026-05-01', '2026-05-10', '1000', null],
      ['2026-05-01', '2026-05-10', '1000', btoa('2')],
    ]);
    expect(fake.tokens).toEqual([token, token]);
    expect(await used(h.ledger, 'U0MAYA001')).toEqual({ used: 465, own: 420, pool: 45, overage: 0 });
    expect(await used(h.ledger, 'U0LENA001')).toEqual({ used: 80, own: 80, pool: 0, overage: 0 });
    // A day that has ended is charged at its last moment; today's row at the time of the pull.
    expect((await journalOf()).map((e) => [e.credits, e.at.toISOString(), e.feature])).toEqual([
      [120, '2026-05-08T23:59:59.999Z', 'design'],
      [45, '2026-05-09T23:59:59.999Z', 'make'],
      [300, '2026-05-09T23:59:59.999Z', 'make'],
      [80, '2026-05-10T12:00:00.000Z', 'figjam'],
    ]);
    await expectVerified(h.ledger);
  });

  it('records nothing when the same rows are pulled again', async () => {
    await setup();
    fake.rows = [{ user_email: 'maya@example.com', day: '2026-05-09', editor_type: 'design', seat_credits_sum: 200, plan_credits_sum: 10 }];
    expect(await pull()).toMatchObject({ applied: 2, units: 210 });
    const again = await pull();
    expect(again).toMatchObject({ status: 'ok', rows: 2, applied: 0, units: 0, unchanged: 2 });
    expect(await journalOf()).toHaveLength(2);
    expect(await used(h.ledger, 'U0MAYA001')).toEqual({ used: 210, own: 200, pool: 10, overage: 0 });
  });

  it('records only the growth of a total that grew between pulls, as a new event', async () => {
    await setup();
    fake.rows = [{ user_email: 'maya@example.com', day: '2026-05-10', editor_type: 'design', seat_credits_sum: 100, plan_credits_sum: 0 }];
    await pull();
    // Figma's data lags: an hour later the same day's row says more.
    h.clock.set('2026-05-10T13:00:00Z');
    fake.rows = [{ user_email: 'maya@example.com', day: '2026-05-10', editor_type: 'design', seat_credits_sum: 150, plan_credits_sum: 0 }];
    expect(await pull()).toMatchObject({ applied: 1, units: 50 });
    const events = await journalOf();
    expect(events.map((e) => e.credits)).toEqual([100, 50]);
    expect(events[0]!.key).toMatch(/^figma:[0-9a-f]{32}:100$/);
    expect(events[1]!.key).toBe(events[0]!.key.replace(/:100$/, ':150'));
    expect((await used(h.ledger, 'U0MAYA001')).used).toBe(150);
    // A total the vendor later gives as smaller takes nothing back.
    fake.rows = [{ user_email: 'maya@example.com', day: '2026-05-10', editor_type: 'design', seat_credits_sum: 140, plan_credits_sum: 0 }];
    expect(await pull()).toMatchObject({ applied: 0, unchanged: 2 });
    expect((await used(h.ledger, 'U0MAYA001')).used).toBe(150);
  });

  it('lists a row for an email creditdesk does not know, with the count, and records nothing of it', async () => {
    await setup();
    fake.rows = [
      { user_email: 'maya@example.com', day: '2026-05-09', editor_type: 'design', seat_credits_sum: 30, plan_credits_sum: 0 },
      { user_email: 'contractor@elsewhere.example', day: '2026-05-09', editor_type: 'make', seat_credits_sum: 700, plan_credits_sum: 20 },
      { user_email: 'contractor@elsewhere.example', day: '2026-05-10', editor_type: 'make', seat_credits_sum: 50, plan_credits_sum: 0 },
    ];
    const summary = await pull();
    expect(summary.unknown).toEqual({ count: 1, people: [{ vendorUser: 'contractor@elsewhere.example', rows: 4, units: 770 }] });
    expect(summary).toMatchObject({ applied: 1, units: 30 });
    expect(pullSummaryText(summary)).toContain(
      '1 person creditdesk does not know (no seat in the tool with that email or vendor login), not recorded:\n  contractor@elsewhere.example: 4 rows, 770 units',
    );
    const [run] = await h.db.query<{ unknown: number; details: { unknown: unknown[] } }>(`select unknown_count as unknown, details from connector_runs`);
    expect(run).toEqual({ unknown: 1, details: expect.objectContaining({ unknown: [{ vendorUser: 'contractor@elsewhere.example', rows: 4, units: 770 }] }) });
    // Once they have a seat (held since the cycle began) the next pull records their rows: nothing of them was stored before.
    h.clock.set('2026-05-01T00:00:00Z');
    await h.ledger.putSeat('U0CONTR01', { plan: 'figma-full', email: 'contractor@elsewhere.example' });
    h.clock.set('2026-05-10T12:00:00Z');
    expect(await pull()).toMatchObject({ applied: 3, units: 770, unknown: { count: 0 } });
  });

  it("waits as long as a 429's Retry-After says, then reads on", async () => {
    await setup();
    fake.rows = [{ user_email: 'maya@example.com', day: '2026-05-09', editor_type: 'design', seat_credits_sum: 40, plan_credits_sum: 0 }];
    fake.first = [() => new HttpResponse(JSON.stringify({ status: 429, error: true, message: 'Rate limit exceeded' }), { status: 429, headers: { 'retry-after': '17' } })];
    expect(await pull()).toMatchObject({ status: 'ok', applied: 1, units: 40 });
    expect(waits).toEqual([17_000]);
    expect(fake.requests).toHaveLength(2);
  });

  it('backs off on 5xx answers, gives up after a bounded number of tries, and keeps the error', async () => {
    await setup();
    fake.first = Array.from({ length: 10 }, () => () => HttpResponse.json({ status: 503, error: true, message: 'Service unavailable' }, { status: 503 }));
    const summary = await pull();
    expect(summary).toMatchObject({ status: 'failed', applied: 0 });
    expect(summary.error).toBe(`Figma failed (HTTP 503: Service unavailable); gave up after ${vendor_tries_max} tries, the next pull tries again`);
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(fake.requests).toHaveLength(vendor_tries_max);
    const [run] = await h.db.query<{ status: string; error: string }>(`select status, error from connector_runs`);
    expect(run).toEqual({ status: 'failed', error: summary.error });
  });

  it('stops at a Retry-After longer than a pull waits, without waiting it', async () => {
    await setup();
    fake.first = [() => new HttpResponse('{}', { status: 429, headers: { 'retry-after': '3600' } })];
    const summary = await pull();
    expect(summary.status).toBe('failed');
    expect(summary.error).toBe('Figma is rate limiting creditdesk (HTTP 429): it asks to wait 3600 s, longer than a pull waits; the next pull tries again');
    expect(waits).toEqual([]);
  });

  it('says which token to fix on a 401, keeps the error for the App Home, and never writes the token', async () => {
    await setup();
    fake.rows = [{ user_email: 'maya@example.com', day: '2026-05-09', editor_type: 'design', seat_credits_sum: 40, plan_credits_sum: 0 }];
    const summary = await pull({ token: 'figd-revoked-token' });
    expect(summary.status).toBe('failed');
    expect(summary.error).toBe(
      'Figma refused the token (HTTP 401: Invalid token): set FIGMA_TOKEN to a plan access token of the Enterprise plan with the scope ' +
        'org:ai_metering_usage_read (an organisation admin creates it at figma.com/developers/tokens)',
    );
    expect(waits).toEqual([]);
    const runs = await h.db.query<{ status: string; error: string; details: unknown }>(`select status, error, details from connector_runs`);
    expect(runs).toHaveLength(1);
    expect(JSON.stringify(runs)).not.toContain('figd-revoked-token');
    expect(runs[0]!.status).toBe('failed');
    expect(await journalOf()).toEqual([]);
  });

  it('reads from the watermark next time, and a pull that died half way is read again without doubling anything', async () => {
    await setup();
    fake.pageSize = 1;
    fake.rows = [
      { user_email: 'maya@example.com', day: '2026-05-08', editor_type: 'design', seat_credits_sum: 10, plan_credits_sum: 0 },
      { user_email: 'maya@example.com', day: '2026-05-09', editor_type: 'design', seat_credits_sum: 20, plan_credits_sum: 0 },
    ];
    // The second page fails: the first is recorded, the watermark stays.
    let calls = 0;
    server.use(
      http.get(`${figma_api}/v1/ai_usage/daily`, ({ request }) => {
        if (new URL(request.url).searchParams.has('cursor') && calls++ === 0) return HttpResponse.json({ message: 'Bad request' }, { status: 400 });
        return undefined;
      }),
    );
    const died = await pull();
    expect(died).toMatchObject({ status: 'failed', applied: 1, units: 10 });
    expect(await h.db.query(`select * from connector_watermarks`)).toEqual([]);
    server.resetHandlers();
    const next = await pull();
    // Page one again: its seat credits were recorded before; every plan credits row is 0.
    expect(next).toMatchObject({ status: 'ok', since: '2026-05-01', applied: 1, units: 20, unchanged: 3 });
    expect((await used(h.ledger, 'U0MAYA001')).used).toBe(30);
    // Read through: the watermark moves to the first day Figma may still add to (30 hours back: 9 May).
    expect(await h.db.query(`select connector, tool_key as tool, day::text as day from connector_watermarks`)).toEqual([{ connector: 'figma', tool: 'figma', day: '2026-05-09' }]);
    h.clock.set('2026-05-12T09:00:00Z');
    fake.requests = [];
    await pull();
    expect(fake.requests[0]!.searchParams.get('start_date')).toBe('2026-05-09');
    expect(fake.requests[0]!.searchParams.get('end_date')).toBe('2026-05-12');
    // A backfill from a later day does not move it; one from an earlier day may.
    await pull({ since: '2026-05-12' });
    expect((await h.db.query<{ day: string }>(`select day::text as day from connector_watermarks`))[0]!.day).toBe('2026-05-11');
  });

  it("refuses a row older than the late-event grace window, listing why, and charges a closed cycle's day within it", async () => {
    await setup();
    h.clock.set('2026-06-02T10:00:00Z'); // May closed 34 hours ago: inside the 72-hour grace window
    await h.ledger.runCycleJobs();
    fake.rows = [
      { user_email: 'maya@example.com', day: '2026-05-31', editor_type: 'design', seat_credits_sum: 60, plan_credits_sum: 0 },
      { user_email: 'maya@example.com', day: '2026-06-01', editor_type: 'design', seat_credits_sum: 5, plan_credits_sum: 0 },
    ];
    const summary = await pull({ since: '2026-05-31' });
    expect(summary).toMatchObject({ applied: 2, units: 65 });
    expect((await h.db.query<{ at: Date }>(`select occurred_at as at from journal where credits = 60`))[0]!.at.toISOString()).toBe('2026-05-31T23:59:59.999Z');
    expect((await h.ledger.report('2026-05', 'figma')).rows.find((r) => r.slack_id === 'U0MAYA001')!.used).toBe(60);
    h.clock.set('2026-06-05T10:00:00Z'); // now past the window: May's rows can no longer be charged
    fake.rows = [{ user_email: 'maya@example.com', day: '2026-05-30', editor_type: 'make', seat_credits_sum: 9, plan_credits_sum: 0 }];
    const late = await pull({ since: '2026-05-30' });
    expect(late.refused.count).toBe(1);
    expect(late.refused.rows[0]).toMatchObject({ vendorUser: 'maya@example.com', day: '2026-05-30', kind: 'make:seat' });
    expect(late.refused.rows[0]!.reason).toMatch(/^too late: the cycle 2026-05 closed on 2026-06-01T00:00:00.000Z and late events are accepted for 72 h/);
    expect(await h.db.query(`select * from vendor_totals where day = '2026-05-30'`)).toEqual([]);
    await expectVerified(h.ledger);
  });

  it("asks for yesterday still in the first minutes of a UTC day, which Figma's clock may not have reached, and from no day before Figma's first", async () => {
    await setup();
    h.clock.set('2026-05-11T00:01:00Z');
    await pull();
    expect(fake.requests[0]!.searchParams.get('end_date')).toBe('2026-05-10');
    h.clock.set('2026-05-11T00:05:00Z');
    await pull();
    expect(fake.requests[1]!.searchParams.get('end_date')).toBe('2026-05-11');
    expect(await pull({ since: '2026-05-12' })).toMatchObject({ status: 'failed', error: 'nothing to pull: 2026-05-12 is after today (2026-05-11, UTC)' });
    // A backfill from before Figma kept AI usage asks from the first day it has.
    await pull({ since: '2025-01-01' });
    expect(fake.requests.at(-1)!.searchParams.get('start_date')).toBe('2025-12-01');
  });

  it('names FIGMA_TOOL when it names a tool creditdesk does not have', async () => {
    await setup();
    const summary = await runPull(h.ledger, figmaConnector({ token, apiUrl: figma_api, tool: 'figjam' }), { http: vendorHttp });
    expect(summary).toMatchObject({ status: 'failed', error: 'FIGMA_TOOL names the tool figjam, which creditdesk does not have; the tools are default, figma' });
    expect(fake.requests).toEqual([]);
  });
});

describeOnPostgres('two Figma pulls at once on PostgreSQL', () => {
  const h = useLedger('postgres', { start: '2026-05-01T00:00:00Z', poolMax: 8 });
  let replicas: { ledger: Ledger; db: Database }[] = [];

  afterEach(async () => {
    await Promise.all(replicas.map((r) => r.db.close()));
    replicas = [];
  });

  /** Other replicas: each its own connection pool to the same database. */
  const openReplicas = async (count: number) => {
    const url = await urlOf(h.db);
    replicas = Array.from({ length: count }, () => {
      const db = openPostgres(url, { poolMax: 4 });
      return { db, ledger: testLedger(db, h.clock) };
    });
    return replicas.map((r) => r.ledger);
  };

  it('records a total that grew while four replicas read it at the same moment once, at its largest', async () => {
    await h.ledger.putTool('figma', { name: 'Figma AI credits' });
    await h.ledger.putPlan('figma-full', { name: 'Full seat', credits: 3000, tool: 'figma' });
    await h.ledger.putSeat('U0MAYA001', { plan: 'figma-full', email: 'maya@example.com' });
    await h.ledger.putSeat('U0LENA001', { plan: 'figma-full', email: 'lena@example.com' });
    h.clock.set('2026-05-10T12:00:00Z');
    const ledgers = await openReplicas(4);
    // Each replica's request gets Figma's figures as they stood a moment apart; all answers leave
    // together, so the four record at the same moment. Three rounds, each growing past the last.
    for (const [round, maya] of [[100, 150, 120, 130], [160, 240, 200, 210], [250, 250, 300, 260]].entries()) {
      fake.requests = [];
      fake.rowsFor = (n) => [
        { user_email: 'maya@example.com', day: '2026-05-10', editor_type: 'design', seat_credits_sum: maya[n]!, plan_credits_sum: 0 },
        { user_email: 'lena@example.com', day: '2026-05-10', editor_type: 'design', seat_credits_sum: 70 + round, plan_credits_sum: 0 },
      ];
      fake.holdUntil = 4;
      const summaries: PullSummary[] = await Promise.all(ledgers.map((ledger) => runPull(ledger, figma(), { http: vendorHttp })));
      expect(summaries.map((s) => s.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
      expect((await h.ledger.balance('U0MAYA001', 'figma')).used).toBe(Math.max(...maya));
      expect((await h.ledger.balance('U0LENA001', 'figma')).used).toBe(70 + round);
    }
    // What the replicas recorded adds up to the largest totals: no growth was recorded twice.
    const [journal] = await h.db.query<{ credits: number }>(`select sum(credits)::int8 as credits from journal where kind = 'usage'`);
    expect(journal!.credits).toBe(300 + 72);
    expect(await h.db.query(`select vendor_user, recorded from vendor_totals order by vendor_user`)).toEqual([
      { vendor_user: 'lena@example.com', recorded: 72 },
      { vendor_user: 'maya@example.com', recorded: 300 },
    ]);
    await expectVerified(h.ledger);
  });
});

describe("the days Figma serves", () => {
  it('starts no earlier than 2025-12-01, when Figma began collecting, nor more than 366 days back', () => {
    expect(figma().earliestDay('2026-05-10')).toBe('2025-12-01');
    expect(figma().earliestDay('2027-03-01')).toBe('2026-03-01');
  });
});
