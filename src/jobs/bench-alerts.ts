// The alerts part of `creditdesk bench`: enqueue a threshold alert for each of N members through
// real usage, then dispatch them all to a local stand-in for Slack that enforces
// chat.postMessage's per-channel limit with 429 and Retry-After, as Slack does.
import { createServer, type Server } from 'node:http';
import type { Database } from '../db/client.ts';
import { defaultSettings } from '../ledger/context.ts';
import { cycleAt } from '../ledger/cycles.ts';
import { createLedger } from '../ledger/index.ts';
import { Dispatcher, slackSender } from './dispatcher.ts';

/** Slack: about one message per second per channel (a DM is its own channel). */
const stand_in_channel_spacing_ms = 1_000;
/**
 * Slack documents no fixed workspace-wide figure for chat.postMessage, only "several hundred
 * messages per minute"; the real-world estimate assumes the low end of that.
 */
export const assumed_workspace_messages_per_minute = 300;

interface Figure {
  figure: string;
  value: number;
  unit: string;
  [detail: string]: unknown;
}

function standInSlack(): Promise<{ server: Server; url: string; stats: { accepted: number; limited: number } }> {
  const lastByChannel = new Map<string, number>();
  const stats = { accepted: 0, limited: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url !== '/api/chat.postMessage') return res.writeHead(404).end();
      const channel = new URLSearchParams(Buffer.concat(chunks).toString()).get('channel') ?? '';
      const now = Date.now();
      const last = lastByChannel.get(channel);
      if (last != null && now - last < stand_in_channel_spacing_ms) {
        stats.limited++;
        return res.writeHead(429, { 'retry-after': '1' }).end();
      }
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

export async function benchAlerts(db: Database, members: number): Promise<Figure[]> {
  const ctx = { db, now: () => new Date(), settings: defaultSettings };
  const ledger = createLedger(ctx);
  await ledger.putPlan('alerted', { name: 'Alerted', credits: 100 });
  const now = new Date();
  const cycle = cycleAt(now, defaultSettings.anchorDay, defaultSettings.zone);
  // Seats as they stand just before a boundary; the reset gives each its plan grant for this cycle.
  const previous = cycleAt(new Date(cycle.start.getTime() - 1), defaultSettings.anchorDay, defaultSettings.zone);
  await db.query(`insert into members (slack_id) select 'UA' || lpad(g::text, 8, '0') from generate_series(1, $1) g`, [members]);
  await db.query(
    `insert into seats (member_id, plan_key, anchor_day, status, cycle_start, cycle_end, started_at)
     select m.id, 'alerted', 1, 'active', $1, $2, $1 from members m where m.slack_id like 'UA%'`,
    [previous.start, previous.end],
  );
  await ledger.runCycleJobs(now);

  const user = (i: number) => `UA${String(i).padStart(8, '0')}`;
  let started = performance.now();
  for (let from = 1; from <= members; from += 1_000) {
    const events = Array.from({ length: Math.min(1_000, members - from + 1) }, (_, k) => ({ id: `alert-${from + k}`, user: user(from + k), credits: 60 }));
    await ledger.recordUsageBatch(events);
  }
  const enqueueS = (performance.now() - started) / 1000;
  const [queued] = await db.query<{ count: number }>(`select count(*)::int8 as count from outbox where sent_at is null`);

  const slack = await standInSlack();
  try {
    const dispatcher = new Dispatcher({ ctx, sender: slackSender({ botToken: 'xoxb-bench', apiUrl: slack.url }), alertChannelId: 'C0BENCH01' });
    started = performance.now();
    for (;;) {
      const round = await dispatcher.round();
      if (round.claimed === 0) {
        const [left] = await db.query<{ count: number }>(`select count(*)::int8 as count from outbox where sent_at is null and available_at < 'infinity'`);
        if (left!.count === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    const dispatchS = (performance.now() - started) / 1000;
    const rate = slack.stats.accepted / dispatchS;
    const realRate = Math.min(rate, assumed_workspace_messages_per_minute / 60);
    return [
      { figure: 'alerts_enqueue_s', value: round2(enqueueS), unit: 's', members, queued: queued!.count },
      { figure: 'alerts_dispatch_s', value: round2(dispatchS), unit: 's', sent: slack.stats.accepted, rate_limited: slack.stats.limited, per_s: Math.round(rate) },
      {
        figure: 'alerts_real_workspace_estimate_s',
        value: Math.round(slack.stats.accepted / realRate),
        unit: 's',
        assumes_messages_per_minute: assumed_workspace_messages_per_minute,
      },
    ];
  } finally {
    await new Promise((resolve) => slack.server.close(resolve));
  }
}

const round2 = (value: number) => Math.round(value * 100) / 100;
