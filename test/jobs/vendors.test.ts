// The vendor schedules: each connector pulled once an hour however many replicas tick, and the
// weekly sync nudge: one DM per member a week (naming every nudged tool they hold), through the
// outbox, never twice, across replicas and repeated runs. Clocks are injected; nothing sleeps.
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/db/client.ts';
import { figmaConnector } from '../../src/connectors/figma.ts';
import type { VendorHttp } from '../../src/connectors/http.ts';
import { Dispatcher, type SlackSender } from '../../src/jobs/dispatcher.ts';
import type { SlackMessage } from '../../src/jobs/messages.ts';
import { enqueueSyncNudges } from '../../src/jobs/nudge.ts';
import { runNudgeJob, runPullJob, startVendorJobs } from '../../src/jobs/vendors.ts';
import type { Ledger } from '../../src/ledger/index.ts';
import { silentLogger } from '../../src/log.ts';
import { nudge_ids } from '../../src/slack/blocks/nudge.ts';
import { describeEachDatabase, testLedger, urlOf } from '../helpers/db.ts';
import { useLedger } from '../helpers/ledger-harness.ts';

const figma_api = 'http://figma.test';
let figmaRequests = 0;
const server = setupServer(
  http.get(`${figma_api}/v1/ai_usage/daily`, () => {
    figmaRequests++;
    return HttpResponse.json({
      rows: [{ user_email: 'maya@example.com', day: '2026-05-11', editor_type: 'design', seat_credits_sum: 25, plan_credits_sum: 0 }],
      next_cursor: null,
      has_next_page: false,
    });
  }),
);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());
afterEach(() => {
  figmaRequests = 0;
  server.resetHandlers();
});

const vendorHttp: VendorHttp = { fetch: (...args) => globalThis.fetch(...args), sleep: async () => {} };
const figma = figmaConnector({ token: 'figd-token-for-tests', apiUrl: figma_api, tool: 'figma' });

/** A Slack that takes every message and remembers it. */
function recordingSlack() {
  const posted: { channel: string; message: SlackMessage }[] = [];
  const sender: SlackSender = { postMessage: async (channel, message) => (posted.push({ channel, message }), { ok: true }) };
  return { posted, sender };
}

describeEachDatabase('vendor schedules on %s', (kind) => {
  // Monday 11 May 2026, before the 10:00 nudge.
  const h = useLedger(kind, { start: '2026-05-01T00:00:00Z', poolMax: 8 });
  /** Another replica: on PostgreSQL its own connection pool, so its locks really race ours; PGlite is one process. */
  const openReplica = async (): Promise<{ ledger: Ledger; close: () => Promise<void> }> => {
    if (h.db.kind === 'pglite') return { ledger: testLedger(h.db, h.clock), close: async () => {} };
    const replica = openPostgres(await urlOf(h.db), { poolMax: 4 });
    return { ledger: testLedger(replica, h.clock), close: () => replica.close() };
  };

  /** Adobe asks its members weekly; so does Firefly, held by Maya too; Figma has its own usage data. */
  const setup = async () => {
    await h.ledger.putTool('default', { name: 'Adobe generative credits', syncNudge: true });
    h.clock.advance(1000);
    await h.ledger.putTool('firefly', { name: 'Firefly credits', syncNudge: true });
    h.clock.advance(1000);
    await h.ledger.putTool('figma', { name: 'Figma AI credits' });
    await h.ledger.putPlan('cc-pro', { name: 'Creative Cloud Pro', credits: 4000, tool: 'default' });
    await h.ledger.putPlan('firefly-std', { name: 'Firefly Standard', credits: 2000, tool: 'firefly' });
    await h.ledger.putPlan('figma-full', { name: 'Full seat', credits: 3000, tool: 'figma' });
    await h.ledger.putSeat('U0MAYA001', { plan: 'cc-pro', email: 'maya@example.com' });
    await h.ledger.putSeat('U0MAYA001', { plan: 'firefly-std' });
    await h.ledger.putSeat('U0MAYA001', { plan: 'figma-full' });
    await h.ledger.putSeat('U0LENA001', { plan: 'cc-pro' });
    await h.ledger.putSeat('U0OMAR001', { plan: 'figma-full' }); // Figma only: nothing to ask
    await h.ledger.putSeat('nora@example.com', { plan: 'cc-pro' }); // no Slack id yet: nobody to DM
    await h.ledger.putSeat('U0GONE001', { plan: 'cc-pro' });
    await h.ledger.revokeSeat('U0GONE001', null, 'default');
  };
  const nudgeKeys = async () => (await h.db.query<{ key: string }>(`select dedupe_key as key from outbox where kind = 'sync_nudge' order by dedupe_key`)).map((r) => r.key);

  it('pulls each connector once an hour however many replicas tick, and again the next hour', async () => {
    await setup();
    h.clock.set('2026-05-11T08:05:00Z');
    const replica = await openReplica();
    try {
      const ran = await Promise.all([h.ledger, replica.ledger, h.ledger].map((on) => runPullJob(on, figma, h.clock.now(), vendorHttp)));
      expect(ran.filter((r) => r.status === 'ran')).toHaveLength(1);
      h.clock.set('2026-05-11T08:35:00Z');
      expect(await runPullJob(replica.ledger, figma, h.clock.now(), vendorHttp)).toEqual({ status: 'done' });
      expect(figmaRequests).toBe(1);
      h.clock.set('2026-05-11T09:00:00Z');
      expect(await runPullJob(replica.ledger, figma, h.clock.now(), vendorHttp)).toMatchObject({ status: 'ran', value: { status: 'ok', applied: 0, unchanged: 2 } });
      expect(figmaRequests).toBe(2);
    } finally {
      await replica.close();
    }
    expect((await h.ledger.balance('U0MAYA001', 'figma')).used).toBe(25);
  });

  it('sends each member with a seat in a nudged tool one DM a week across two replicas, naming every such tool', async () => {
    await setup();
    h.clock.set('2026-05-11T10:00:00Z');
    const replica = await openReplica();
    const slack = recordingSlack();
    try {
      const [a, b] = await Promise.all([runNudgeJob(h.ledger, h.clock.now()), runNudgeJob(replica.ledger, h.clock.now())]);
      expect([a, b].filter((run) => run.status === 'ran')).toHaveLength(1);
      // A run that died after queuing and before its finish mark runs again: it queues nothing new.
      expect(await enqueueSyncNudges(replica.ledger.ctx, h.clock.now())).toEqual({ queued: 0, withoutSlackId: 1 });
      expect(await nudgeKeys()).toEqual(['sync_nudge:1:2026-W20', 'sync_nudge:2:2026-W20']);
      // Two dispatchers on two replicas drain the outbox; the nudges leave a quarter second apart.
      const dispatchers = [h.ledger, replica.ledger].map((on) => new Dispatcher({ ctx: on.ctx, sender: slack.sender }));
      for (let round = 0; round < 4; round++) {
        await Promise.all(dispatchers.map((d) => d.round()));
        h.clock.advance(1_200);
      }
    } finally {
      await replica.close();
    }
    expect(slack.posted.map((p) => p.channel).sort()).toEqual(['U0LENA001', 'U0MAYA001']);
    const maya = slack.posted.find((p) => p.channel === 'U0MAYA001')!.message;
    expect(maya.text).toBe('Weekly check: what do Adobe generative credits and Firefly credits show as your remaining balances? One click records it in creditdesk.');
    const buttons = (maya.blocks[1] as { elements: { action_id: string; value: string; text: { text: string } }[] }).elements;
    expect(buttons.map((b) => [b.action_id, b.text.text, JSON.parse(b.value)])).toEqual([
      [nudge_ids.open, 'Record my Adobe generative credits balance', { key: 'default', name: 'Adobe generative credits', unit: 'credits' }],
      [nudge_ids.open, 'Record my Firefly credits balance', { key: 'firefly', name: 'Firefly credits', unit: 'credits' }],
    ]);

    // Later that week, on any replica: nothing more. The next week: one each again.
    h.clock.set('2026-05-14T10:00:00Z');
    expect(await runNudgeJob(h.ledger, h.clock.now())).toEqual({ status: 'done' });
    h.clock.set('2026-05-18T10:00:00Z');
    expect(await runNudgeJob(h.ledger, h.clock.now())).toMatchObject({ status: 'ran', value: { queued: 2, withoutSlackId: 1 } });
    expect(await nudgeKeys()).toEqual(['sync_nudge:1:2026-W20', 'sync_nudge:1:2026-W21', 'sync_nudge:2:2026-W20', 'sync_nudge:2:2026-W21']);
  });

  it('asks nobody when no tool sets sync_nudge', async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
    h.clock.set('2026-05-11T10:00:00Z');
    expect(await runNudgeJob(h.ledger, h.clock.now())).toMatchObject({ status: 'ran', value: { queued: 0, withoutSlackId: 0 } });
    expect(await nudgeKeys()).toEqual([]);
  });

  it('at start-up pulls a connector whose hour has not been pulled, and catches up the week\'s nudge', async () => {
    await setup();
    h.clock.set('2026-05-11T12:00:00Z');
    const jobs = startVendorJobs({ ledger: h.ledger, log: silentLogger, connectors: [figma], http: vendorHttp });
    await jobs.idle();
    await jobs.stop();
    expect(await h.db.query(`select connector, status, applied from connector_runs`)).toEqual([{ connector: 'figma', status: 'ok', applied: 1 }]);
    // Monday 10:00 has passed: the week's nudge goes out now.
    expect(await nudgeKeys()).toEqual(['sync_nudge:1:2026-W20', 'sync_nudge:2:2026-W20']);
  });

  it("cuts a vendor's wait short when the service stops, and records the pull as stopped", async () => {
    await setup();
    h.clock.set('2026-05-11T12:00:00Z');
    server.use(http.get(`${figma_api}/v1/ai_usage/daily`, () => new HttpResponse('{}', { status: 429, headers: { 'retry-after': '120' } })));
    // Real waiting, as in the service: only stop() can end it before two minutes.
    const jobs = startVendorJobs({ ledger: h.ledger, log: silentLogger, connectors: [figma], http: { fetch: vendorHttp.fetch } });
    await jobs.stop();
    expect(await h.db.query(`select status, error from connector_runs`)).toEqual([{ status: 'failed', error: 'Figma: stopped with the service' }]);
  });
});
