// Schedules and notifications: threshold alerts through the outbox, the dispatcher against a
// Slack that answers 429 or fails, crashes between write and send, racing replicas, resets at
// month ends and DST changes, and the weekly digest. Clocks are injected; nothing sleeps.
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openPostgres, type Database } from '../../src/db/client.ts';
import type { Ledger } from '../../src/ledger/index.ts';
import { Dispatcher, claim_batch_max, claim_lease_ms, request_timeout_ms, slackSender, type SlackSender } from '../../src/jobs/dispatcher.ts';
import { runCycleJob, runDigestJob, runTick, startJobs } from '../../src/jobs/index.ts';
import { createLogger } from '../../src/log.ts';
import { createMetrics } from '../../src/metrics.ts';
import { runOncePerPeriod } from '../../src/jobs/runs.ts';
import { benchAlerts } from '../../src/jobs/bench-alerts.ts';
import { request_more_action_id, requestOutcomeMessage } from '../../src/jobs/messages.ts';
import { describeEachDatabase, emptyDatabase, openTestDatabase, TestClock, testLedger, urlOf } from '../helpers/db.ts';

const api = 'http://slack.test/api/';
const posted: { channel: string; text: string; blocks: any[] }[] = [];
let answer: () => Response = () => HttpResponse.json({ ok: true, ts: '1.0' });
const slack = setupServer(
  http.post(`${api}chat.postMessage`, async ({ request }) => {
    const form = new URLSearchParams(await request.text());
    const response = answer();
    if (response.status === 200) {
      const body = (await response.clone().json()) as { ok: boolean };
      if (body.ok) posted.push({ channel: form.get('channel')!, text: form.get('text')!, blocks: JSON.parse(form.get('blocks') ?? '[]') });
    }
    return response;
  }),
);

beforeAll(() => slack.listen({ onUnhandledRequest: 'error' }));
afterAll(() => slack.close());
afterEach(() => {
  posted.length = 0;
  answer = () => HttpResponse.json({ ok: true, ts: '1.0' });
});

describe('the request outcome DM', () => {
  const outcome = { kind: 'request_outcome', requestId: 1, slackId: 'U0MAYA001', credits: 2000, status: 'approved', decidedBy: 'U0ADMIN01' } as const;
  it('says what was granted, and when a pack brings its credits only at the next reset', () => {
    expect(requestOutcomeMessage({ ...outcome, granted: { pack: 'Add-on', credits: 2000 } }).text).toBe(
      'Your request for 2,000 credits was approved by <@U0ADMIN01>: 2,000 credits with a pack (Add-on)',
    );
    expect(requestOutcomeMessage({ ...outcome, granted: { pack: 'Add-on', credits: 0 } }).text).toBe(
      'Your request for 2,000 credits was approved by <@U0ADMIN01>: a pack (Add-on), whose credits arrive at your next reset',
    );
    expect(requestOutcomeMessage({ ...outcome, status: 'denied', granted: null })).toEqual({
      text: 'Your request for 2,000 credits was declined by <@U0ADMIN01>.',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'Your request for 2,000 credits was declined by <@U0ADMIN01>.' } }],
    });
  });
});

describeEachDatabase('jobs on %s', (kind) => {
  let db: Database;
  let ledger: Ledger;
  const clock = new TestClock(new Date('2026-05-10T12:00:00Z'));
  const slackApi = slackSender({ botToken: 'xoxb-test', apiUrl: api });
  const dispatcher = (on: Ledger = ledger, sender: SlackSender = slackApi) =>
    new Dispatcher({ ctx: on.ctx, sender, adminChannelId: 'C0ADMIN01', alertChannelId: 'C0ALERT01' });
  /**
   * Another replica: on PostgreSQL its own connection pool to the same database, so its locks
   * and claims are really concurrent with ours; PGlite is one process, so the same handle.
   */
  const openReplica = async (): Promise<{ ledger: Ledger; close: () => Promise<void> }> => {
    if (db.kind === 'pglite') return { ledger: testLedger(db, clock), close: async () => {} };
    const replica = openPostgres(await urlOf(db), { poolMax: 4 });
    return { ledger: testLedger(replica, clock), close: () => replica.close() };
  };
  const seatMembers = async (count: number) => {
    const users = Array.from({ length: count }, (_, i) => `U0RACE${String(i).padStart(3, '0')}`);
    for (const user of users) await ledger.putSeat(user, { plan: 'pro' });
    return users;
  };
  /** Runs dispatcher rounds, moving the clock past each wait, until nothing is due. */
  const drain = async (d = dispatcher(), rounds = 20) => {
    for (let i = 0; i < rounds; i++) {
      const round = await d.round();
      if (round.claimed === 0 && !round.pausedUntil) return;
      clock.advance(Math.max(1_200, round.pausedUntil ? round.pausedUntil.getTime() - clock.now().getTime() : 0));
    }
  };
  const outboxKeys = async () => (await db.query<{ key: string }>(`select dedupe_key as key from outbox order by id`)).map((r) => r.key);

  beforeAll(async () => {
    db = await openTestDatabase(kind, { poolMax: 16 });
  });
  afterAll(async () => db.close());
  beforeEach(async () => {
    await emptyDatabase(db);
    // Maya has held her seat since the cycle began: the forecasts below read her burn since 1 May.
    clock.set('2026-05-01T00:00:00Z');
    ledger = testLedger(db, clock);
    await ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await ledger.putSeat('U0MAYA001', { plan: 'pro' });
    clock.set('2026-05-10T12:00:00Z');
  });

  it('raises each threshold once, in order, when one big event crosses them all', async () => {
    await ledger.recordUsage({ id: 'big', user: 'U0MAYA001', credits: 4100 });
    expect(await outboxKeys()).toEqual([
      'member:1:2026-05-01T00:00:00.000Z:50',
      'member:1:2026-05-01T00:00:00.000Z:80',
      'channel:1:2026-05-01T00:00:00.000Z:90',
      'member:1:2026-05-01T00:00:00.000Z:100',
      'channel:1:2026-05-01T00:00:00.000Z:100',
    ]);
    const postedAt = new Map<string, number[]>();
    const timed: SlackSender = {
      postMessage: (channel, message) => {
        postedAt.set(channel, [...(postedAt.get(channel) ?? []), clock.now().getTime()]);
        return slackApi.postMessage(channel, message);
      },
    };
    await drain(dispatcher(ledger, timed));
    // Slack allows about one message a second per channel: posts to one channel are spaced.
    for (const times of postedAt.values()) times.slice(1).forEach((at, i) => expect(at - times[i]!).toBeGreaterThanOrEqual(1_000));
    expect([...postedAt.values()].map((times) => times.length)).toEqual([3, 2]);
    const thresholdsSentTo = (channel: string) =>
      posted.filter((p) => p.channel === channel).map((p) => Number(/used (\d+) %/.exec(p.text)![1]));
    expect(thresholdsSentTo('U0MAYA001')).toEqual([50, 80, 100]);
    expect(thresholdsSentTo('C0ALERT01')).toEqual([90, 100]);
    expect(posted[0]!.text).toBe(
      'You have used 50 % of your AI credits this cycle. 4,100 of 4,000 credits used; 0 of your own left. 100 credits are overage beyond quota and pool. The quota resets on 1 Jun 2026.',
    );
    expect(posted[0]!.text).toContain('The quota resets on 1 Jun 2026');
    expect(posted[0]!.blocks.at(-1).elements[0].action_id).toBe(request_more_action_id);
  });

  it('tells the alert channel who crossed 90 % and 100 %, what is left and when it resets', async () => {
    await ledger.recordUsage({ id: 'early', user: 'U0MAYA001', credits: 1000, at: new Date('2026-05-05T10:00:00Z') });
    await ledger.recordUsage({ id: 'most', user: 'U0MAYA001', credits: 2700 });
    await drain();
    const channel = posted.filter((p) => p.channel === 'C0ALERT01');
    expect(channel.map((p) => p.text)).toEqual([
      '<@U0MAYA001> has used 90 % of their AI credits this cycle. 3,700 of 4,000 credits used; 300 of their own left. The quota resets on 1 Jun 2026. At this pace it runs out on 11 May 2026.',
    ]);
    expect(channel[0]!.blocks.map((b) => b.type)).toEqual(['section', 'section']);
  });

  it('alerts at the thresholds ALERT_THRESHOLDS sets, the channel still at 90 % and 100 %', async () => {
    const custom = testLedger(db, clock, { thresholds: [25, 60] });
    await custom.recordUsage({ id: 'a', user: 'U0MAYA001', credits: 2500 });
    await custom.recordUsage({ id: 'b', user: 'U0MAYA001', credits: 1200 });
    expect(await outboxKeys()).toEqual([
      'member:1:2026-05-01T00:00:00.000Z:25',
      'member:1:2026-05-01T00:00:00.000Z:60',
      'channel:1:2026-05-01T00:00:00.000Z:90',
    ]);
  });

  it('alerts the channel when a shared pool crosses 75, 90 and 100 %', async () => {
    await ledger.putProfile('design', { name: 'Design', poolCredits: 1000 });
    await ledger.putSeat('U0DESIGN1', { plan: 'pro', profile: 'design' });
    await ledger.recordUsage({ id: 'own-and-pool', user: 'U0DESIGN1', credits: 4800 });
    await ledger.recordUsage({ id: 'pool-again', user: 'U0DESIGN1', credits: 100 });
    await ledger.recordUsage({ id: 'pool-dry', user: 'U0DESIGN1', credits: 300 });
    await drain();
    const pool = posted.filter((p) => p.channel === 'C0ALERT01' && p.text.includes('shared pool is'));
    expect(pool.map((p) => p.text)).toEqual([
      'The design shared pool is 75 % used. 200 of 1,000 credits left; the pool refills on 1 Jun 2026.',
      'The design shared pool is 90 % used. 100 of 1,000 credits left; the pool refills on 1 Jun 2026.',
      'The design shared pool is 100 % used. 0 of 1,000 credits left; the pool refills on 1 Jun 2026.',
    ]);
  });

  it('alerts at the next cycle job a member whose quota a debit lowered past a threshold', async () => {
    await ledger.recordUsage({ id: 'most', user: 'U0MAYA001', credits: 2400 });
    await ledger.adjust({ user: 'U0MAYA001', credits: -1000, reason: 'vendor correction' });
    expect(await outboxKeys()).toEqual(['member:1:2026-05-01T00:00:00.000Z:50']);
    await runCycleJob(ledger, clock.now());
    clock.advance(5 * 60_000);
    await runCycleJob(ledger, clock.now());
    expect(await outboxKeys()).toEqual(['member:1:2026-05-01T00:00:00.000Z:50', 'member:1:2026-05-01T00:00:00.000Z:80']);
    await drain();
    expect(posted.at(-1)!.text).toMatch(/^You have used 80 % of your AI credits this cycle\. 2,400 of 3,000 credits used; 600 of your own left\./);
  });

  it('raises no second alert for a replayed event or for usage under the next threshold', async () => {
    await ledger.recordUsage({ id: 'half', user: 'U0MAYA001', credits: 2000 });
    await ledger.recordUsage({ id: 'half', user: 'U0MAYA001', credits: 2000 });
    await ledger.recordUsage({ id: 'more', user: 'U0MAYA001', credits: 100 });
    expect(await outboxKeys()).toEqual(['member:1:2026-05-01T00:00:00.000Z:50']);
  });

  it('forecasts the run-out of a seat added mid-cycle from the day it started, not from the cycle start', async () => {
    clock.set('2026-05-20T00:00:00Z');
    await ledger.putSeat('U0NEWBIE1', { plan: 'pro' });
    clock.set('2026-05-20T12:00:00Z');
    await ledger.recordUsage({ id: 'first-use', user: 'U0NEWBIE1', credits: 100 });
    clock.set('2026-05-21T00:00:00Z');
    await ledger.recordUsage({ id: 'second-use', user: 'U0NEWBIE1', credits: 2000 });
    await drain();
    const dm = posted.find((p) => p.channel === 'U0NEWBIE1');
    // 2,100 in the one day since the seat started: the 1,900 left last under a day more.
    expect(dm!.text).toContain('The quota resets on 1 Jun 2026. At this pace it runs out on 21 May 2026.');
  });

  it('says it is too early to forecast in an alert raised by the first use of a new seat', async () => {
    await ledger.putSeat('U0NEWBIE1', { plan: 'pro' });
    clock.advance(60_000);
    await ledger.recordUsage({ id: 'first-use', user: 'U0NEWBIE1', credits: 2000 });
    await drain();
    expect(posted.find((p) => p.channel === 'U0NEWBIE1')!.text).toBe(
      'You have used 50 % of your AI credits this cycle. 2,000 of 4,000 credits used; 2,000 of your own left. The quota resets on 1 Jun 2026. Too early to forecast when it runs out.',
    );
  });

  it('waits as long as Slack says on a 429 and then sends each message once', async () => {
    await ledger.recordUsage({ id: 'early', user: 'U0MAYA001', credits: 1000, at: new Date('2026-05-05T10:00:00Z') });
    await ledger.recordUsage({ id: 'half', user: 'U0MAYA001', credits: 1000 });
    let calls = 0;
    answer = () => (++calls === 1 ? new HttpResponse(null, { status: 429, headers: { 'retry-after': '30' } }) : HttpResponse.json({ ok: true }));
    const d = dispatcher();
    const first = await d.round();
    expect(first).toMatchObject({ sent: 0, retried: 1 });
    expect(first.pausedUntil?.toISOString()).toBe('2026-05-10T12:00:30.000Z');
    clock.advance(10_000);
    expect(await d.round()).toMatchObject({ claimed: 0 }); // still paused, and the message is not due
    clock.advance(20_000);
    expect(await d.round()).toMatchObject({ sent: 1 });
    await drain(d);
    expect(posted).toHaveLength(1);
    expect(calls).toBe(2);
    // 2,000 used in the 9.5 days since 1 May: the other 2,000 last until 20 May at that pace.
    expect(posted[0]!.text).toContain('The quota resets on 1 Jun 2026. At this pace it runs out on 20 May 2026.');
  });

  it('backs off when Slack fails, and gives up on errors that will not pass', async () => {
    await ledger.putSeat('nomad@example.com', { plan: 'pro' });
    await ledger.recordUsage({ id: 'a', user: 'U0MAYA001', credits: 2000 });
    await ledger.recordUsage({ id: 'b', user: 'nomad@example.com', credits: 2000 });
    answer = () => new HttpResponse('upstream down', { status: 500 });
    const d = dispatcher();
    expect(await d.round()).toMatchObject({ sent: 0, retried: 1, failed: 1 }); // nomad has no Slack id: given up
    answer = () => HttpResponse.json({ ok: true });
    clock.advance(1_500);
    expect(await d.round()).toMatchObject({ sent: 1 });
    const rows = await db.query<{ sent: boolean; error: string | null }>(`select sent_at is not null as sent, last_error as error from outbox order by id`);
    expect(rows).toEqual([{ sent: true, error: null }, { sent: false, error: 'nomad@example.com has no Slack user id' }]);
  });

  it('sends what a dispatcher claimed and then died on, once its lease runs out', async () => {
    await ledger.recordUsage({ id: 'half', user: 'U0MAYA001', credits: 2000 });
    // A replica claims the message and dies before sending: its claim is a lease.
    await db.query(`update outbox set available_at = $1, attempts = attempts + 1`, [new Date(clock.now().getTime() + claim_lease_ms)]);
    expect(await dispatcher().round()).toMatchObject({ claimed: 0 });
    clock.advance(claim_lease_ms);
    expect(await dispatcher().round()).toMatchObject({ sent: 1 });
    expect(posted).toHaveLength(1);
  });

  it('sends every message once when two dispatchers on two replicas race', async () => {
    // More messages than one claim takes, so both dispatchers have work at the same time.
    const users = await seatMembers(claim_batch_max + 10);
    await ledger.recordUsageBatch(users.map((user, i) => ({ id: `r${i}`, user, credits: 2500 })));
    const replica = await openReplica();
    try {
      const [a, b] = [dispatcher(), dispatcher(replica.ledger)];
      const rounds = await Promise.all([a.round(), b.round()]);
      expect(rounds[0]!.claimed + rounds[1]!.claimed).toBe(users.length);
      expect(rounds[0]!.sent + rounds[1]!.sent).toBe(users.length);
      expect(await Promise.all([a.round(), b.round()])).toMatchObject([{ claimed: 0 }, { claimed: 0 }]);
    } finally {
      await replica.close();
    }
    expect(posted.map((p) => p.channel).sort()).toEqual([...users].sort());
  });

  it('sends what was queued before the process died, once, from a fresh dispatcher', async () => {
    const writer = await openReplica();
    // The usage commits with its alert in the outbox; the process then dies before any dispatch.
    await writer.ledger.recordUsage({ id: 'half', user: 'U0MAYA001', credits: 2000 });
    await writer.close();
    expect(posted).toHaveLength(0);
    expect(await dispatcher().round()).toMatchObject({ claimed: 1, sent: 1 });
    expect(await dispatcher().round()).toMatchObject({ claimed: 0 });
    expect(posted.map((p) => p.channel)).toEqual(['U0MAYA001']);
  });

  it('hands back what a slow Slack leaves no lease time to send, so another dispatcher never doubles it', async () => {
    const users = await seatMembers(10);
    await ledger.recordUsageBatch(users.map((user, i) => ({ id: `s${i}`, user, credits: 2500 })));
    const leaseEnd = clock.now().getTime() + claim_lease_ms;
    const other = dispatcher();
    let otherRound: Awaited<ReturnType<Dispatcher['round']>> | undefined;
    const slow: SlackSender = {
      async postMessage(channel, message) {
        clock.advance(request_timeout_ms - 2_000); // each post takes nearly as long as we wait for one
        const sent = await slackApi.postMessage(channel, message);
        // Once the claim's lease has run out another replica may claim what it holds, and send it.
        if (!otherRound && clock.now().getTime() >= leaseEnd) otherRound = await other.round();
        return sent;
      },
    };
    expect(await dispatcher(ledger, slow).round()).toMatchObject({ claimed: 10, sent: 6, retried: 4 });
    expect(otherRound).toBeUndefined(); // no send was under way when the lease ran out
    expect(await other.round()).toMatchObject({ claimed: 4, sent: 4 }); // handed back: due at once
    expect(posted.map((p) => p.channel).sort()).toEqual(users);
  });

  it('resets across a month end once, however many schedulers fire', async () => {
    await ledger.recordUsage({ id: 'may', user: 'U0MAYA001', credits: 1000 });
    clock.set('2026-06-01T00:00:00Z');
    const replica = await openReplica();
    try {
      const other = replica.ledger;
      const runs = await Promise.all([runCycleJob(ledger, clock.now()), runCycleJob(other, clock.now())]);
      const statuses = runs.map((r) => r.status);
      expect(statuses.filter((s) => s === 'ran')).toHaveLength(1);
      expect(statuses.filter((s) => s !== 'ran')).toEqual([expect.stringMatching(/^(busy|done)$/)]);
      expect(await runCycleJob(other, clock.now())).toEqual({ status: 'done' });
    } finally {
      await replica.close();
    }
    expect(await ledger.balance('U0MAYA001')).toMatchObject({ used: 0, quota: 4000, cycle: { start: '2026-06-01T00:00:00.000Z' } });
    expect((await ledger.verify()).ok).toBe(true);
  });

  it('finishes a cycle job that died half way, without resetting any seat twice', async () => {
    await ledger.putSeat('U0JACOB01', { plan: 'pro' });
    await ledger.recordUsage({ id: 'may-maya', user: 'U0MAYA001', credits: 1000 });
    await ledger.recordUsage({ id: 'may-jacob', user: 'U0JACOB01', credits: 1500 });
    clock.set('2026-06-01T00:00:00Z');
    // The run resets Maya's seat (her first June event resets it on the spot), then dies.
    const dying = runOncePerPeriod(db, 'cycle', clock.now().toISOString(), clock.now(), async () => {
      await ledger.recordUsage({ id: 'june-maya', user: 'U0MAYA001', credits: 300 });
      throw new Error('replica killed');
    });
    await expect(dying).rejects.toThrow('replica killed');
    clock.advance(60_000);
    expect((await runCycleJob(ledger, clock.now())).status).toBe('ran');
    expect(await ledger.balance('U0MAYA001')).toMatchObject({ used: 300, quota: 4000, cycle: { start: '2026-06-01T00:00:00.000Z' } });
    expect(await ledger.balance('U0JACOB01')).toMatchObject({ used: 0, quota: 4000, cycle: { start: '2026-06-01T00:00:00.000Z' } });
    expect((await ledger.verify()).ok).toBe(true);
  });

  it('at start-up applies the reset missed while down and sends what waited in the outbox', async () => {
    await ledger.recordUsage({ id: 'may', user: 'U0MAYA001', credits: 2000 }); // queues the 50 % alert
    clock.set('2026-06-03T08:00:00Z'); // the service was down over the boundary
    const jobs = await startJobs({
      ledger, log: createLogger('error'), metrics: createMetrics(),
      slack: { botToken: 'xoxb-test', alertChannelId: 'C0ALERT01', sender: slackApi },
    });
    await jobs.stop();
    expect(await ledger.balance('U0MAYA001')).toMatchObject({ used: 0, quota: 4000, cycle: { start: '2026-06-01T00:00:00.000Z' } });
    expect(posted.map((p) => p.channel)).toEqual(['U0MAYA001']);
  });

  it('resets at local midnight across a DST change', async () => {
    const berlin = testLedger(db, clock, { zone: 'Europe/Berlin' });
    clock.set('2026-03-20T12:00:00Z');
    await berlin.putSeat('U0BERLIN1', { plan: 'pro' });
    await berlin.recordUsage({ id: 'march', user: 'U0BERLIN1', credits: 10 });
    clock.set('2026-03-31T21:59:00Z'); // 23:59 in Berlin, summer time since the 29th
    expect((await runCycleJob(berlin, clock.now())).status).toBe('ran');
    expect((await berlin.balance('U0BERLIN1')).cycle.start).toBe('2026-02-28T23:00:00.000Z');
    clock.set('2026-03-31T22:00:00Z'); // 00:00 on 1 April in Berlin
    await runCycleJob(berlin, clock.now());
    expect(await berlin.balance('U0BERLIN1')).toMatchObject({ used: 0, cycle: { start: '2026-03-31T22:00:00.000Z', end: '2026-04-30T22:00:00.000Z' } });
    // Back to winter time on 25 October: that cycle is an hour longer, and ends at local midnight.
    clock.set('2026-10-31T22:55:00Z'); // 23:55 on 31 October in Berlin
    await runCycleJob(berlin, clock.now());
    await berlin.recordUsage({ id: 'october', user: 'U0BERLIN1', credits: 20 });
    expect(await berlin.balance('U0BERLIN1')).toMatchObject({ used: 20, cycle: { start: '2026-09-30T22:00:00.000Z', end: '2026-10-31T23:00:00.000Z' } });
    clock.set('2026-10-31T23:00:00Z'); // 00:00 on 1 November in Berlin
    await runCycleJob(berlin, clock.now());
    expect(await berlin.balance('U0BERLIN1')).toMatchObject({ used: 0, cycle: { start: '2026-10-31T23:00:00.000Z', end: '2026-11-30T23:00:00.000Z' } });
    expect((await berlin.verify()).ok).toBe(true);
  });

  it('queues the weekly digest once per week and sends it to the admin channel', async () => {
    await ledger.putPackProduct('addon', { name: 'Add-on', credits: 2000, kind: 'recurring' });
    await ledger.recordPurchase({ product: 'addon', quantity: 2 });
    await ledger.recordUsage({ id: 'w1', user: 'U0MAYA001', credits: 3400 });
    clock.set('2026-05-11T09:00:00Z'); // a Monday
    expect((await runDigestJob(ledger, clock.now())).status).toBe('ran');
    expect(await runDigestJob(testLedger(db, clock), clock.now())).toEqual({ status: 'done' });
    await db.query(`delete from outbox where kind <> 'digest'`);
    await drain();
    expect(posted).toHaveLength(1);
    expect(posted[0]!.channel).toBe('C0ADMIN01');
    expect(posted[0]!.text).toBe('Weekly AI credit digest: 3,400 credits used this week (no usage the week before).');
    const body = posted[0]!.blocks.map((b) => b.text.text).join('\n');
    expect(body).toContain('• no profile: 3,400 of 4,000 (85 %)');
    expect(body).toContain('1. <@U0MAYA001>: 3,400 of 4,000 (85 %)');
    expect(body).toContain('*Overage:* 0 credits');
    expect(body).toContain('*Over 80 %:* <@U0MAYA001> (85 %)');
    expect(body).toContain('*Free packs:* 2 × addon');
  });

  it('shows the change on the week before in the digest', async () => {
    await ledger.recordUsage({ id: 'last-week', user: 'U0MAYA001', credits: 1000, at: new Date('2026-05-02T10:00:00Z') });
    await ledger.recordUsage({ id: 'this-week', user: 'U0MAYA001', credits: 1500, at: new Date('2026-05-08T10:00:00Z') });
    clock.set('2026-05-11T09:00:00Z');
    await runDigestJob(ledger, clock.now());
    await db.query(`delete from outbox where kind <> 'digest'`);
    await drain();
    expect(posted.map((p) => p.text)).toEqual(['Weekly AI credit digest: 1,500 credits used this week (+50 % on the week before).']);
  });

  describe('digest schedule', () => {
    const log = createLogger('error');
    const digestKeys = async () => (await db.query<{ key: string }>(`select dedupe_key as key from outbox where kind = 'digest' order by id`)).map((r) => r.key);

    it('queues a digest whose time falls in the spring-forward gap once, on the tick after the gap', async () => {
      // Sundays 02:30 in Berlin; on 29 March the clocks jump from 02:00 to 03:00.
      const berlin = testLedger(db, clock, { zone: 'Europe/Berlin' });
      const tick = () => runTick(berlin, clock.now(), { log, digestCron: '30 2 * * 0' });
      clock.set('2026-03-22T01:30:00Z'); // the Sunday before, 02:30 winter time
      expect((await tick()).digest).toMatchObject({ status: 'ran' });
      clock.set('2026-03-29T01:25:00Z'); // 03:25 summer time: 02:30 never showed, and last week's went out
      expect((await tick()).digest).toEqual({ status: 'not_due' });
      clock.set('2026-03-29T01:30:00Z');
      expect((await tick()).digest).toMatchObject({ status: 'ran' });
      clock.set('2026-03-29T01:35:00Z');
      expect((await tick()).digest).toEqual({ status: 'done' });
      expect(await digestKeys()).toEqual(['digest:2026-W12', 'digest:2026-W13']);
    });

    it('queues the digest once when the autumn night repeats its time', async () => {
      // Berlin's clocks go back from 03:00 to 02:00 on 25 October: 02:30 comes twice.
      const berlin = testLedger(db, clock, { zone: 'Europe/Berlin' });
      clock.set('2026-10-25T00:30:00Z'); // 02:30 summer time: node-cron fires, and so does the tick
      expect(await runDigestJob(berlin, clock.now(), '30 2 * * 0')).toMatchObject({ status: 'ran' });
      expect((await runTick(berlin, clock.now(), { log, digestCron: '30 2 * * 0' })).digest).toEqual({ status: 'done' });
      clock.set('2026-10-25T01:30:00Z'); // 02:30 winter time: node-cron may fire again
      expect(await runDigestJob(berlin, clock.now(), '30 2 * * 0')).toEqual({ status: 'done' });
      clock.set('2026-10-25T01:35:00Z');
      expect((await runTick(berlin, clock.now(), { log, digestCron: '30 2 * * 0' })).digest).toEqual({ status: 'done' });
      expect(await digestKeys()).toEqual(['digest:2026-W43']);
    });

    it('catches up at start-up the digest due while the service was down, once across replicas, for its own week', async () => {
      clock.set('2026-05-04T09:00:00Z');
      expect(await runDigestJob(ledger, clock.now())).toMatchObject({ status: 'ran' });
      clock.set('2026-05-13T10:00:00Z'); // down from before Monday 09:00 until Wednesday
      await ledger.recordUsage({ id: 'before-monday', user: 'U0MAYA001', credits: 300, at: new Date('2026-05-08T10:00:00Z') });
      await ledger.recordUsage({ id: 'after-monday', user: 'U0MAYA001', credits: 50, at: new Date('2026-05-12T10:00:00Z') });
      const replica = await openReplica();
      try {
        const started = await Promise.all([ledger, replica.ledger].map((on) => startJobs({ ledger: on, log, metrics: createMetrics() })));
        await Promise.all(started.map((jobs) => jobs.stop()));
      } finally {
        await replica.close();
      }
      expect(await digestKeys()).toEqual(['digest:2026-W19', 'digest:2026-W20']);
      // The week up to Monday 09:00, as if it had gone out on time: Tuesday's 50 belong to next week's.
      const [digest] = await db.query<{ payload: { week: string; tools: { usedThisWeek: number }[] } }>(`select payload from outbox where dedupe_key = 'digest:2026-W20'`);
      expect(digest!.payload).toMatchObject({ week: '2026-W20', tools: [{ tool: { key: 'default' }, usedThisWeek: 300 }] });
      clock.set('2026-05-13T10:05:00Z');
      expect((await runTick(ledger, clock.now(), { log })).digest).toEqual({ status: 'done' });
    });

    it('catches up a digest missed just before the week turned, and lets one a week old go', async () => {
      clock.set('2026-05-11T00:10:00Z'); // down over Sunday 23:55; back ten minutes into Monday
      expect(await runDigestJob(ledger, clock.now(), '55 23 * * 0')).toMatchObject({ status: 'ran' });
      expect(await digestKeys()).toEqual(['digest:2026-W19']);
      await db.query(`delete from outbox`);
      clock.set('2026-05-18T08:00:00Z'); // Monday 09:00 was missed a week ago: too late for that one
      expect(await runDigestJob(ledger, clock.now())).toEqual({ status: 'not_due' });
      clock.set('2026-05-18T09:00:00Z');
      expect(await runDigestJob(ledger, clock.now())).toMatchObject({ status: 'ran' });
      expect(await digestKeys()).toEqual(['digest:2026-W21']);
    });
  });

  it('keeps to a workspace-wide message limit in the bench, which then shows how long Slack would take', async () => {
    slack.close(); // the bench's stand-in is a real local server
    try {
      const figures = await benchAlerts(db, 40, { workspaceMessagesPerMinute: 10 });
      const figure = (name: string) => figures.find((f) => f.figure === name)!;
      expect(figure('alerts_dispatch_s')).toMatchObject({ sent: 40, calls: { 'chat.postMessage': 40 + Number(figure('alerts_dispatch_s').rate_limited) } });
      expect(figure('alerts_dispatch_s').rate_limited).toBeGreaterThan(0);
      // 10 a minute: the last 10 of 40 go out three minutes after the first.
      expect(figure('alerts_real_workspace_estimate_s').value).toBeGreaterThanOrEqual(180);
      expect(figure('alerts_real_workspace_estimate_s').value).toBeLessThan(200);
    } finally {
      slack.listen({ onUnhandledRequest: 'error' });
    }
  });
});
