// The Slack part of `creditdesk bench`: how fast /credits is acknowledged. Signed slash commands
// go one at a time into the real app in HTTP mode; Slack's side (response_url, the Web API) is a
// local stand-in. The time measured is Slack's: from sending the request to the ack.
import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { buildApi } from '../api/app.ts';
import type { Ledger } from '../ledger/index.ts';
import { silentLogger } from '../log.ts';
import { createMetrics } from '../metrics.ts';
import { createHttpServer, listen } from '../server.ts';
import { buildApp } from './app.ts';

export async function benchSlashAck(ledger: Ledger, users: readonly string[], commands: number): Promise<{ p50: number; p99: number }> {
  const standIn = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  const standInUrl = `http://127.0.0.1:${await listen(standIn, 0)}`;
  const secret = randomBytes(16).toString('hex');
  const { receiver } = buildApp(
    { ledger, log: silentLogger, adminUserIds: [], selfReporting: false },
    { botToken: 'xoxb-bench', signingSecret: secret, apiUrl: `${standInUrl}/api/`, botId: 'B0BENCH01', botUserId: 'U0BENCH01', retry: { retries: 0, delayMs: 0 } },
  );
  const metrics = createMetrics();
  const server = createHttpServer(buildApi({ ledger, metrics, apiToken: undefined, checkDatabase: async () => {} }), metrics, receiver!.requestListener);
  const url = `http://127.0.0.1:${await listen(server, 0)}/slack/events`;
  const latencies: number[] = [];
  try {
    for (let i = 0; i < commands; i++) {
      const body = new URLSearchParams({
        command: '/credits', text: '', user_id: users[i % users.length]!, team_id: 'T0BENCH01', channel_id: 'C0BENCH01',
        trigger_id: `bench-${i}`, response_url: `${standInUrl}/respond/${i}`,
      }).toString();
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signature = 'v0=' + createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex');
      const started = performance.now();
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature },
        body,
      });
      await res.arrayBuffer();
      latencies.push(performance.now() - started);
      if (res.status !== 200) throw new Error(`slash command answered ${res.status}`);
    }
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await new Promise((resolve) => standIn.close(resolve));
  }
  latencies.sort((a, b) => a - b);
  const at = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]! * 100) / 100;
  return { p50: at(0.5), p99: at(0.99) };
}
