// Stopping Slack as the service does on SIGTERM: what listeners still do after answering Slack
// finishes before stop() returns (and so before the database closes), for at most a bounded wait.
import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import type { Ledger } from '../../src/ledger/index.ts';
import type { Logger } from '../../src/log.ts';
import { createMetrics } from '../../src/metrics.ts';
import { createHttpServer, listen } from '../../src/server.ts';
import { BackgroundWork, stop_wait_ms_max } from '../../src/slack/background.ts';
import { startSlack } from '../../src/slack/index.ts';
import { buildApi } from '../../src/api/app.ts';
import { openTestDatabase, TestClock, testLedger } from '../helpers/db.ts';
import { mockSlack, reset, responses, signing_secret, slack_api, slowDown, TestTimers } from './helpers.ts';

describe('stopping Slack', () => {
  let db: Database;
  let ledger: Ledger;
  const warnings: string[] = [];
  const log: Logger = { debug() {}, info() {}, warn: (message) => void warnings.push(message), error() {} };

  beforeAll(async () => {
    mockSlack.listen({ onUnhandledRequest: (request, print) => (new URL(request.url).hostname === '127.0.0.1' ? undefined : print.error()) });
    db = await openTestDatabase('pglite');
    ledger = testLedger(db, new TestClock(new Date('2026-05-10T12:00:00Z')));
    await ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await ledger.putSeat('U0MAYA001', { plan: 'pro' });
  });
  afterAll(async () => {
    await db?.close();
    mockSlack.close();
  });
  beforeEach(() => {
    reset();
    warnings.length = 0;
  });

  /**
   * Slack started as main.ts starts it (HTTP mode, answered at the ack), behind a real server, with
   * the ledger's tool read held until the test releases it: a `/credits` acknowledged and still at work.
   */
  async function slackWithCommandAtWork() {
    const timers = new TestTimers();
    const background = new BackgroundWork(log);
    const slack = await startSlack({
      ledger, log, mode: { mode: 'http', botToken: 'xoxb-test', signingSecret: signing_secret }, apiUrl: slack_api,
      adminUserIds: [], selfReporting: false, timers, background,
    });
    const metrics = createMetrics();
    const server: Server = createHttpServer(buildApi({ ledger, metrics, apiToken: undefined, checkDatabase: async () => {} }), metrics, slack.listener);
    const url = `http://127.0.0.1:${await listen(server, 0)}/slack/events`;
    const held = slowDown(ledger, 'loadTools');
    const body = new URLSearchParams({
      command: '/credits', text: '', user_id: 'U0MAYA001', team_id: 'T0TEAM001', channel_id: 'C0GENERAL', trigger_id: 'trigger-1',
      response_url: 'http://slack.test/respond/1', token: 'legacy',
    }).toString();
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = 'v0=' + createHmac('sha256', signing_secret).update(`v0:${timestamp}:${body}`).digest('hex');
    const answered = await fetch(url, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature }, body,
    });
    // Slack has its answer; the listener waits on the ledger.
    expect(answered.status).toBe(200);
    const close = () => new Promise<void>((resolve) => server.close(() => resolve()));
    return { slack, timers, background, held, close };
  }

  /** Lets every promise that can move on do so, without waiting for time to pass. */
  const flush = async () => {
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  it("waits for a listener still at work after its ack, so the member's reply is sent before the database closes", async () => {
    const { slack, held, close } = await slackWithCommandAtWork();
    await close();
    let stopped = false;
    const stopping = slack.stop().then(() => void (stopped = true));
    await flush();
    expect(stopped).toBe(false);
    expect(responses).toEqual([]);
    held.release();
    await stopping;
    held.restore();
    // The reply went out before stop() returned, while the database was still open.
    expect(responses).toHaveLength(1);
    expect(responses[0]!.text).toBe('Your AI credits: 4,000 of 4,000 left, resets on 1 Jun 2026');
    expect(warnings).toEqual([]);
  });

  it('stops after at most ten seconds of waiting, saying how much work it left', async () => {
    const { slack, timers, background, held, close } = await slackWithCommandAtWork();
    await close();
    let stopped = false;
    const stopping = slack.stop().then(() => void (stopped = true));
    // The wait is on the injected clock: it ends when the test says ten seconds have passed.
    expect(await timers.expireNext()).toBe(stop_wait_ms_max);
    await stopping;
    expect(stopped).toBe(true);
    expect(stop_wait_ms_max).toBe(10_000);
    expect(warnings).toEqual(['stopping with Slack work still running after 10 s: 1 left unfinished']);
    expect(responses).toEqual([]);
    // Let the abandoned listener end before the next test.
    held.release();
    await background.idle();
    held.restore();
  });

  it('stops at once when nothing is at work', async () => {
    const timers = new TestTimers();
    const slack = await startSlack({
      ledger, log, mode: { mode: 'http', botToken: 'xoxb-test', signingSecret: signing_secret }, apiUrl: slack_api, adminUserIds: [], selfReporting: false, timers,
    });
    await slack.stop();
    expect(warnings).toEqual([]);
  });
});
