// creditdesk bench: the SPEC's performance figures, measured on a fresh database of its own (a
// throw-away database on the DATABASE_URL server, or in-memory PGlite), through the real HTTP API.
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { buildApi } from '../api/app.ts';
import { openPglite, openScratchPostgres } from '../db/client.ts';
import { migrate } from '../db/migrate.ts';
import { defaultSettings } from '../ledger/context.ts';
import { cycleAt } from '../ledger/cycles.ts';
import { createLedger } from '../ledger/index.ts';
import { resetDueSeats } from '../ledger/reset.ts';
import { createMetrics } from '../metrics.ts';
import { benchAlerts } from '../jobs/bench-alerts.ts';
import { benchSlashAck } from '../slack/bench-ack.ts';
import { createHttpServer, listen } from '../server.ts';

export interface Figure {
  figure: string;
  value: number;
  unit: string;
  [detail: string]: unknown;
}

export interface BenchOptions {
  seats: number;
  events: number;
  /** Members to alert and dispatch to, for the outbox figures; 0 skips them. */
  alerts: number;
  databaseUrl?: string;
  print: (figure: Figure) => void;
}

const single_clients = 32;
const batch_clients = 4;
const batch_size = 1_000;
const hot_clients = 32;
const balance_lookups = 2_000;
const slash_commands = 1_000;

const userOf = (i: number) => `UB${String(i).padStart(8, '0')}`;

export async function runBench(options: BenchOptions): Promise<void> {
  // A database of its own: the bench never writes into the one DATABASE_URL names.
  const db = options.databaseUrl ? await openScratchPostgres(options.databaseUrl, 'creditdesk_bench', { poolMax: 24 }) : await openPglite();
  const token = randomBytes(24).toString('hex');
  try {
    await migrate(db);
    const now = new Date();
    const ctx = { db, now: () => new Date(), settings: defaultSettings };
    const ledger = createLedger(ctx);
    await ledger.putPlan('pro', { name: 'Pro', credits: 4_000 });
    await ledger.putPackProduct('addon', { name: 'Add-on 2,000', credits: 2_000, kind: 'recurring', reassign: 'remaining' });

    // Seats as they stand just before a boundary: last cycle's, with two packs each.
    const current = cycleAt(now, defaultSettings.anchorDay, defaultSettings.zone);
    const previous = cycleAt(new Date(current.start.getTime() - 1), defaultSettings.anchorDay, defaultSettings.zone);
    const n = options.seats;
    await db.query(`insert into members (slack_id, email) select 'UB' || lpad(g::text, 8, '0'), 'bench' || g || '@example.com' from generate_series(1, $1) g`, [n]);
    await db.query(
      `insert into seats (member_id, tool_key, anchor_day, status, cycle_start, cycle_end, started_at)
       select g, 'default', 1, 'active', $2, $3, $2 from generate_series(1, $1) g`,
      [n, previous.start, previous.end],
    );
    await db.query(`insert into seat_plans (seat_id, plan_key) select id, 'pro' from seats`);
    await db.query(`insert into purchases (product_key, quantity, purchased_at) values ('addon', $1, $2)`, [2 * n, now]);
    await db.query(
      `insert into packs (purchase_id, product_key, seat_id, assigned_at) select 1, 'addon', (g + 1) / 2, $2 from generate_series(1, $1) g`,
      [2 * n, previous.start],
    );

    let started = performance.now();
    const moved = await resetDueSeats(ctx, now);
    options.print({ figure: 'reset_s', value: round((performance.now() - started) / 1000, 2), unit: 's', seats: moved, packs_per_seat: 2 });
    // A bulk load leaves the planner's statistics behind; autovacuum would catch up within minutes.
    await db.query('analyze');

    const metrics = createMetrics();
    const api = buildApi({ ledger, metrics, apiToken: token, checkDatabase: async () => {} });
    const server = createHttpServer(api, metrics);
    const port = await listen(server, 0);

    try {
      // Single-event calls from concurrent clients.
      const singles = Math.max(1_000, Math.floor(options.events / 4));
      const single = await load(port, token, single_clients, Array.from({ length: singles }, (_, i) => ({
        method: 'POST', path: '/api/v1/usage', body: { events: [{ id: `s-${i}`, user: userOf(1 + ((i * 7919) % n)), credits: 3 }] },
      })));
      expectOnly(single, [200], 'single event calls');
      options.print({ figure: 'ingest_single_per_s', value: Math.round(singles / single.seconds), unit: 'events/s', events: singles, clients: single_clients });

      // 1,000-event batches.
      const batches = Math.ceil(options.events / batch_size);
      const batched = await load(port, token, batch_clients, Array.from({ length: batches }, (_, b) => ({
        method: 'POST', path: '/api/v1/usage',
        body: { events: Array.from({ length: batch_size }, (_, k) => {
          const i = b * batch_size + k;
          return { id: `b-${i}`, user: userOf(1 + ((i * 104_729) % n)), credits: 2 };
        }) },
      })));
      expectOnly(batched, [200], 'batch calls');
      options.print({ figure: 'ingest_batch_per_s', value: Math.round((batches * batch_size) / batched.seconds), unit: 'events/s', events: batches * batch_size, clients: batch_clients });

      // Enforce mode: 32 clients authorizing 1 credit each on one member holding fewer credits than asked for.
      const hotQuota = 10_000;
      await ledger.putPlan('hot', { name: 'Hot', credits: hotQuota });
      await ledger.putSeat('UBHOT0001', { plan: 'hot' });
      const hotCalls = Math.round(hotQuota * 1.5);
      const hot = await load(port, token, hot_clients, Array.from({ length: hotCalls }, (_, i) => ({
        method: 'POST', path: '/api/v1/authorize', body: { id: `h-${i}`, user: 'UBHOT0001', credits: 1 },
      })));
      expectOnly(hot, [200, 402], 'authorize calls');
      const applied = hot.statuses[200] ?? 0;
      const [state] = await db.query<{ negative: number; used: number }>(
        `select (select count(*) from grants where remaining < 0)::int8 as negative,
                (select coalesce(sum(credits), 0) from journal where event_key like 'h-%')::int8 as used`,
      );
      const overdrafts = Math.max(0, state!.used - hotQuota) + state!.negative;
      options.print({ figure: 'enforce_hot_per_s', value: Math.round(hotCalls / hot.seconds), unit: 'decisions/s', applied, refused: hot.statuses[402] ?? 0, overdrafts, clients: hot_clients });

      // Balance lookups, one at a time, over HTTP.
      const [entries] = await db.query<{ count: number }>(`select count(*)::int8 as count from transfers`);
      const lookups = await load(port, token, 1, Array.from({ length: balance_lookups }, (_, i) => ({
        method: 'GET', path: `/api/v1/balances/${userOf(1 + ((i * 31_337) % n))}`,
      })), true);
      expectOnly(lookups, [200], 'balance lookups');
      const latencies = lookups.latencies!;
      options.print({ figure: 'balance_p50_ms', value: percentile(latencies, 0.5), unit: 'ms', over: 'http', seats: n + 1, entries: entries!.count });
      options.print({ figure: 'balance_p99_ms', value: percentile(latencies, 0.99), unit: 'ms', over: 'http', seats: n + 1, entries: entries!.count });
      // The same lookups straight into the ledger: what the database work costs without HTTP.
      const direct: number[] = [];
      for (let i = 0; i < balance_lookups; i++) {
        const t = performance.now();
        await ledger.balance(userOf(1 + ((i * 31_337) % n)));
        direct.push(performance.now() - t);
      }
      options.print({ figure: 'balance_ledger_p99_ms', value: percentile(direct, 0.99), unit: 'ms', over: 'in-process', seats: n + 1, entries: entries!.count });

      const ack = await benchSlashAck(ledger, Array.from({ length: 100 }, (_, i) => userOf(1 + ((i * 7) % n))), slash_commands);
      options.print({ figure: 'slash_ack_p50_ms', value: ack.p50, unit: 'ms', commands: slash_commands });
      options.print({ figure: 'slash_ack_p99_ms', value: ack.p99, unit: 'ms', commands: slash_commands });

      if (options.alerts > 0) for (const figure of await benchAlerts(db, options.alerts)) options.print(figure);

      const verified = await ledger.verify();
      options.print({ figure: 'verify_differences', value: verified.differences.length, unit: 'count' });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  } finally {
    await db.close();
  }
}

interface LoadResult {
  seconds: number;
  statuses: Record<number, number>;
  /** Milliseconds per call, when asked for. */
  latencies?: number[];
}

/** Runs calls from `clients` concurrent connections in a worker thread; resolves with timing and status counts. */
function load(port: number, token: string, clients: number, calls: { method: string; path: string; body?: unknown }[], timed = false): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./load-client.js', import.meta.url), { workerData: { port, token, clients, calls, timed } });
    worker.on('message', (message: { error?: string } & Partial<LoadResult>) => {
      if (message.error) reject(new Error(message.error));
      else resolve(message as LoadResult);
    });
    worker.on('error', reject);
  });
}

function expectOnly(result: LoadResult, allowed: number[], what: string): void {
  const unexpected = Object.keys(result.statuses).map(Number).filter((status) => !allowed.includes(status));
  if (unexpected.length > 0) throw new Error(`${what} answered ${JSON.stringify(result.statuses)}`);
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!, 2);
}
