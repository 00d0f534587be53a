// The alerts part of `creditdesk bench`: enqueue a threshold alert for each of N members through
// real usage, then dispatch them all to a local stand-in for Slack that enforces the published
// per-method limits with 429 and Retry-After. The stand-in and the dispatcher share a clock that
// jumps over every wait Slack imposes, so the run takes seconds while the clock shows how long a
// real workspace would take.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Database } from '../db/client.ts';
import { defaultSettings } from '../ledger/context.ts';
import { cycleAt } from '../ledger/cycles.ts';
import { createLedger } from '../ledger/index.ts';
import { Dispatcher, slackSender } from './dispatcher.ts';

/** chat.postMessage: about one message per second per channel (a DM is its own channel). */
const stand_in_channel_spacing_ms = 1_000;
/**
 * chat.postMessage's workspace-wide limit: Slack publishes no fixed figure, only "several
 * hundred messages per minute"; the stand-in enforces the low end of that.
 */
export const assumed_workspace_messages_per_minute = 300;
/**
 * Slack's published tiers for the other methods a sender might call; conversations.open is
 * Tier 3. The dispatcher posts DMs with channel=<user id>, so it never needs these.
 */
const stand_in_tier_calls_per_minute: Record<string, number> = { 'conversations.open': 50, 'users.info': 100 };
const minute_ms = 60_000;

interface Figure {
  figure: string;
  value: number;
  unit: string;
  [detail: string]: unknown;
}

/** A sliding one-minute window of calls: how long until the next one fits, 0 if it fits now. */
function minuteWindow(limit: number) {
  const calls: number[] = [];
  return (now: number): number => {
    while (calls.length > 0 && calls[0]! <= now - minute_ms) calls.shift();
    if (calls.length >= limit) return calls[0]! + minute_ms - now;
    calls.push(now);
    return 0;
  };
}

function standInSlack(options: { now: () => number; workspaceMessagesPerMinute: number }): Promise<{
  server: Server;
  url: string;
  stats: { accepted: number; limited: number; calls: Record<string, number> };
}> {
  const lastByChannel = new Map<string, number>();
  const workspace = minuteWindow(options.workspaceMessagesPerMinute);
  const tiers = new Map(Object.entries(stand_in_tier_calls_per_minute).map(([method, limit]) => [method, minuteWindow(limit)]));
  const stats = { accepted: 0, limited: 0, calls: {} as Record<string, number> };
  const limited = (res: ServerResponse, waitMs: number) => {
    stats.limited++;
    // Slack's Retry-After is whole seconds.
    res.writeHead(429, { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) }).end();
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const method = (req.url ?? '').replace(/^\/api\//, '');
      stats.calls[method] = (stats.calls[method] ?? 0) + 1;
      const now = options.now();
      const tier = tiers.get(method);
      if (tier) {
        const wait = tier(now);
        return wait > 0 ? limited(res, wait) : res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      }
      if (method !== 'chat.postMessage') return res.writeHead(404).end();
      const channel = new URLSearchParams(Buffer.concat(chunks).toString()).get('channel') ?? '';
      const last = lastByChannel.get(channel);
      if (last != null && now - last < stand_in_channel_spacing_ms) return limited(res, last + stand_in_channel_spacing_ms - now);
      const wait = workspace(now);
      if (wait > 0) return limited(res, wait);
      lastByChannel.set(channel, now);
      stats.accepted++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"ts":"1.0"}');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/`, stats });
    }),
  );
}

export async function benchAlerts(
  db: Database,
  members: number,
  options: { workspaceMessagesPerMinute?: number } = {},
): Promise<Figure[]> {
  const perMinute = options.workspaceMessagesPerMinute ?? assumed_workspace_messages_per_minute;
  // Wall time plus every wait skipped: what the dispatcher and the stand-in both read.
  let skippedMs = 0;
  const now = () => new Date(Date.now() + skippedMs);
  const ctx = { db, now, settings: defaultSettings };
  const ledger = createLedger(ctx);
  await ledger.putPlan('alerted', { name: 'Alerted', credits: 100 });
  const cycle = cycleAt(now(), defaultSettings.anchorDay, defaultSettings.zone);
  // Seats as they stand just before a boundary; the reset gives each its plan grant for this cycle.
  const previous = cycleAt(new Date(cycle.start.getTime() - 1), defaultSettings.anchorDay, defaultSettings.zone);
  await db.query(`insert into members (slack_id) select 'UA' || lpad(g::text, 8, '0') from generate_series(1, $1) g`, [members]);
  const seats = await db.query<{ id: number }>(
    `insert into seats (member_id, tool_key, anchor_day, status, cycle_start, cycle_end, started_at)
     select m.id, 'default', 1, 'active', $1, $2, $1 from members m where m.slack_id like 'UA%' returning id`,
    [previous.start, previous.end],
  );
  await db.query(`insert into seat_plans (seat_id, plan_key) select unnest($1::int4[]), 'alerted'`, [seats.map((s) => s.id)]);
  await ledger.runCycleJobs();

  // Alerts the other benchmarks raised are set aside: the figures are about these N members.
  await db.query(`update outbox set available_at = 'infinity', last_error = 'set aside by the alerts benchmark' where sent_at is null`);
  const user = (i: number) => `UA${String(i).padStart(8, '0')}`;
  let started = performance.now();
  for (let from = 1; from <= members; from += 1_000) {
    const events = Array.from({ length: Math.min(1_000, members - from + 1) }, (_, k) => ({ id: `alert-${from + k}`, user: user(from + k), credits: 60 }));
    await ledger.recordUsageBatch(events);
  }
  const enqueueS = (performance.now() - started) / 1000;
  const [queued] = await db.query<{ count: number }>(`select count(*)::int8 as count from outbox where sent_at is null and available_at < 'infinity'`);

  const slack = await standInSlack({ now: () => now().getTime(), workspaceMessagesPerMinute: perMinute });
  try {
    const dispatcher = new Dispatcher({ ctx, sender: slackSender({ botToken: 'xoxb-bench', apiUrl: slack.url }), alertChannelId: 'C0BENCH01' });
    started = performance.now();
    const startedAt = now().getTime();
    for (;;) {
      const round = await dispatcher.round();
      if (round.claimed > 0) continue;
      const [next] = await db.query<{ left: number; due: Date | null }>(
        `select count(*)::int8 as left, min(available_at) as due from outbox where sent_at is null and available_at < 'infinity'`,
      );
      if (next!.left === 0) break;
      // Nothing is due yet (Slack asked us to wait, or a channel is being spaced): skip the wait.
      const until = Math.max(next!.due!.getTime(), round.pausedUntil?.getTime() ?? 0);
      skippedMs += Math.max(0, until - now().getTime());
    }
    const dispatchS = (performance.now() - started) / 1000;
    const workspaceS = (now().getTime() - startedAt) / 1000;
    return [
      { figure: 'alerts_enqueue_s', value: round2(enqueueS), unit: 's', members, queued: queued!.count },
      {
        figure: 'alerts_dispatch_s',
        value: round2(dispatchS),
        unit: 's',
        sent: slack.stats.accepted,
        rate_limited: slack.stats.limited,
        calls: slack.stats.calls,
        note: "creditdesk's own time: the waits Slack imposed are skipped",
      },
      {
        figure: 'alerts_real_workspace_estimate_s',
        value: Math.round(workspaceS),
        unit: 's',
        sent: slack.stats.accepted,
        limits: { per_channel_per_s: 1000 / stand_in_channel_spacing_ms, workspace_messages_per_minute: perMinute },
      },
    ];
  } finally {
    await new Promise((resolve) => slack.server.close(resolve));
  }
}

const round2 = (value: number) => Math.round(value * 100) / 100;
