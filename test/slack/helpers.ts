// Drives the Slack app as Slack does: signed HTTP requests into the real app and database, with
// every outgoing Web API call and response_url post intercepted by msw and recorded.
import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { buildApi } from '../../src/api/app.ts';
import type { Database } from '../../src/db/client.ts';
import type { Ledger } from '../../src/ledger/index.ts';
import { silentLogger } from '../../src/log.ts';
import { createMetrics } from '../../src/metrics.ts';
import { createHttpServer, listen } from '../../src/server.ts';
import { buildApp } from '../../src/slack/app.ts';
import { BackgroundWork, type SlackTimers } from '../../src/slack/background.ts';
import { emptyDatabase, openTestDatabase, TestClock, testLedger, type DatabaseKind } from '../helpers/db.ts';

export const signing_secret = 'test-signing-secret-123';
export const slack_api = 'http://slack.test/api/';
export const admin_channel = 'C0ADMINS1';
/** The headers Slack adds when it sends a request again because the first answer was late. */
export const slack_retry = { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' };

export interface Call {
  method: string;
  args: Record<string, any>;
}

/** What the intercepted Slack answers, per method; a test may replace an answer. */
export const answers = new Map<string, () => Response>();
export const calls: Call[] = [];
export const responses: Record<string, any>[] = [];
/** Files uploaded to the URLs files.getUploadURLExternal handed out. */
export const uploads: { id: string; bytes: Buffer }[] = [];

function parseForm(text: string): Record<string, any> {
  const form = Object.fromEntries(new URLSearchParams(text));
  for (const key of ['view', 'blocks']) if (typeof form[key] === 'string') form[key] = JSON.parse(form[key]);
  return form;
}

export const mockSlack = setupServer(
  http.post(`${slack_api}:method`, async ({ request, params }) => {
    const method = String(params.method);
    const text = await request.text();
    const args = request.headers.get('content-type')?.includes('json') ? JSON.parse(text) : parseForm(text);
    calls.push({ method, args });
    const answer = answers.get(method);
    if (answer) return answer();
    if (method === 'chat.postMessage') return HttpResponse.json({ ok: true, channel: args.channel, ts: `17000000.${calls.length}` });
    if (method === 'conversations.open') return HttpResponse.json({ ok: true, channel: { id: `D${args.users}` } });
    if (method === 'files.getUploadURLExternal') {
      const id = `F${calls.length}`;
      return HttpResponse.json({ ok: true, upload_url: `http://slack.test/upload/${id}`, file_id: id });
    }
    if (method === 'files.completeUploadExternal') return HttpResponse.json({ ok: true, files: [] });
    return HttpResponse.json({ ok: true, view: { id: 'V0TEST' } });
  }),
  http.post('http://slack.test/upload/:id', async ({ request, params }) => {
    uploads.push({ id: String(params.id), bytes: Buffer.from(await request.arrayBuffer()) });
    return new HttpResponse('OK', { status: 200 });
  }),
  http.post('http://slack.test/respond/:n', async ({ request }) => {
    responses.push((await request.json()) as Record<string, any>);
    return HttpResponse.json({ ok: true });
  }),
);

export function reset(): void {
  calls.length = 0;
  responses.length = 0;
  uploads.length = 0;
  answers.clear();
}

export const callsTo = (method: string) => calls.filter((c) => c.method === method).map((c) => c.args);

/**
 * Time as the app's listeners see it, moved by the test: a wait ends only when the test ends it,
 * so Slack's 3 s never run out by accident on a busy machine, and never need real sleeping.
 */
export class TestTimers implements SlackTimers {
  #waiting: { ms: number; end: () => void }[] = [];
  #noticed: (() => void)[] = [];

  sleep = (ms: number): Promise<void> =>
    new Promise((end) => {
      this.#waiting.push({ ms, end });
      this.#noticed.splice(0).forEach((notice) => notice());
    });

  /** Ends the first wait, once some listener waits; resolves with how long that wait was, in ms. */
  async expireNext(): Promise<number> {
    while (this.#waiting.length === 0) await new Promise<void>((notice) => this.#noticed.push(notice));
    const next = this.#waiting.shift()!;
    next.end();
    return next.ms;
  }

  reset(): void {
    this.#waiting = [];
  }
}

export async function startSlackApp(ledger: Ledger, options: { admins?: string[]; selfReporting?: boolean } = {}) {
  const timers = new TestTimers();
  const background = new BackgroundWork(silentLogger);
  const ctx = {
    ledger,
    log: silentLogger,
    adminUserIds: options.admins ?? ['U0ADMIN01'],
    adminChannelId: admin_channel,
    selfReporting: options.selfReporting ?? true,
    timers,
    background,
  };
  const { receiver } = buildApp(ctx, {
    botToken: 'xoxb-test',
    signingSecret: signing_secret,
    apiUrl: slack_api,
    processBeforeResponse: true,
    botId: 'B0BOT0001',
    botUserId: 'U0BOT0001',
    // Slack's errors are retried as in production, without waiting between attempts.
    retry: { retries: 2, delayMs: 0 },
  });
  const metrics = createMetrics();
  const server: Server = createHttpServer(buildApi({ ledger, metrics, apiToken: undefined, checkDatabase: async () => {} }), metrics, receiver!.requestListener);
  const url = `http://127.0.0.1:${await listen(server, 0)}/slack/events`;
  let trigger = 0;
  let view = 0;

  /** How a request is sent: extra headers (Slack's retries), the secret it is signed with, when it was signed. */
  interface Sent {
    headers?: Record<string, string>;
    secret?: string;
    signedAt?: Date;
  }
  const post = async (body: string, contentType: string, { headers = {}, secret = signing_secret, signedAt = new Date() }: Sent = {}) => {
    const timestamp = String(Math.floor(signedAt.getTime() / 1000));
    const signature = 'v0=' + createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': contentType, 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature, ...headers },
      body,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };

  return {
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    timers,
    /** Resolves once the work listeners left running after answering Slack is done. */
    settled: () => background.idle(),
    /** A slash command from `user`; the trigger id is fresh unless given (Slack's retries repeat it). */
    command: (user: string, text: string, extra: { triggerId?: string } & Sent = {}) =>
      post(
        new URLSearchParams({
          command: '/credits', text, user_id: user, user_name: user.toLowerCase(), team_id: 'T0TEAM001', channel_id: 'C0GENERAL',
          trigger_id: extra.triggerId ?? `trigger-${++trigger}`, response_url: `http://slack.test/respond/${trigger}`, token: 'legacy',
        }).toString(),
        'application/x-www-form-urlencoded',
        extra,
      ),
    /**
     * A button click, under a message; `{ in: 'home' }` clicks it in the App Home, which (as in
     * Slack) sends the view it came from and no response_url.
     */
    click: (user: string, actionId: string, value = '', sent: Sent & { in?: 'message' | 'home' } = {}) =>
      post(
        new URLSearchParams({
          payload: JSON.stringify({
            type: 'block_actions', user: { id: user }, team: { id: 'T0TEAM001' }, trigger_id: `trigger-${++trigger}`,
            ...(sent.in === 'home'
              ? { container: { type: 'view', view_id: 'V0HOME001' }, view: { id: 'V0HOME001', type: 'home', blocks: [] } }
              : { response_url: `http://slack.test/respond/${trigger}`, container: { type: 'message' }, channel: { id: 'C0GENERAL' } }),
            actions: [{ type: 'button', action_id: actionId, block_id: 'b', value, action_ts: '1' }],
          }),
        }).toString(),
        'application/x-www-form-urlencoded',
        sent,
      ),
    /**
     * A modal submission with view state values, from a modal of its own unless `viewId` names one
     * (Slack's retry of a submission repeats its view id and values).
     */
    submit: (user: string, callbackId: string, values: Record<string, Record<string, unknown>>, privateMetadata = '', sent: Sent & { viewId?: string } = {}) =>
      post(
        new URLSearchParams({
          payload: JSON.stringify({
            type: 'view_submission', user: { id: user }, team: { id: 'T0TEAM001' }, trigger_id: `trigger-${++trigger}`,
            view: {
              id: sent.viewId ?? `V0VIEW${String(++view).padStart(3, '0')}`, callback_id: callbackId, private_metadata: privateMetadata,
              state: { values }, title: { type: 'plain_text', text: 'creditdesk' },
            },
          }),
        }).toString(),
        'application/x-www-form-urlencoded',
        sent,
      ),
    /** An Events API callback. */
    event: (event: Record<string, unknown>) =>
      post(JSON.stringify({ type: 'event_callback', team_id: 'T0TEAM001', api_app_id: 'A0APP0001', event, event_id: `Ev${++trigger}`, event_time: 1 }), 'application/json'),
  };
}

export interface SlackHarness {
  clock: TestClock;
  db: Database;
  ledger: Ledger;
  slack: Awaited<ReturnType<typeof startSlackApp>>;
}

/**
 * Registers one describe block's hooks: msw listens, the database and the app open once, and
 * every test starts with an empty database at `start` and nothing recorded of Slack.
 */
export function useSlackApp(kind: DatabaseKind, start: string): SlackHarness {
  const h = { clock: new TestClock(new Date(start)) } as SlackHarness;
  beforeAll(async () => {
    // Requests to the app itself go through; anything else leaving for the network is a bug.
    mockSlack.listen({ onUnhandledRequest: (request, print) => (new URL(request.url).hostname === '127.0.0.1' ? undefined : print.error()) });
    h.db = await openTestDatabase(kind);
    h.ledger = testLedger(h.db, h.clock);
    h.slack = await startSlackApp(h.ledger);
  });
  afterAll(async () => {
    await h.slack?.close();
    await h.db?.close();
    mockSlack.close();
  });
  beforeEach(async () => {
    await emptyDatabase(h.db);
    reset();
    h.slack.timers.reset();
    h.clock.set(start);
  });
  return h;
}

/**
 * Makes one ledger function wait until the test calls release(), as a slow database would; restore()
 * puts the function back. The app's listeners hold the same ledger object, so they wait too.
 */
export function slowDown<K extends keyof Ledger>(ledger: Ledger, method: K): { release: () => void; restore: () => void } {
  const original = ledger[method] as (...args: unknown[]) => Promise<unknown>;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  (ledger as unknown as Record<K, unknown>)[method] = async (...args: unknown[]) => {
    await released;
    return original(...args);
  };
  return { release, restore: () => void ((ledger as unknown as Record<K, unknown>)[method] = original) };
}
