// creditdesk bench: the SPEC's performance figures, measured on a fresh database of its own (a
// throw-away database on the DATABASE_URL server, or in-memory PGlite), through the real HTTP API.
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { buildApi } from '../api/app.ts';
import { openPglite, openScratchPostgres, type Database } from '../db/client.ts';
import { migrate } from '../db/migrate.ts';
import { defaultSettings } from '../ledger/context.ts';
import { cycleAt } from '../ledger/cycles.ts';
import { createLedger } from '../ledger/index.ts';
import { buildEntries } from './entries.ts';
import { pgbench_defaults, pgbenchTps } from './pgbench.ts';
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
  /** Run pgbench beside (SPEC "Performance") and print each ingest figure's ratio to its TPS; PostgreSQL only. */
  comparePgbench?: boolean;
  /** Usage entries the ledger holds before balance lookups and verify are measured (SPEC: 10 M); 0 for what the bench wrote. */
  entries?: number;
  databaseUrl?: string;
  print: (figure: Figure) => void;
}

const single_clients = 32;
const batch_clients = 4;
const batch_size = 1_000;
const hot_clients = 32;
const balance_lookups = 2_000;
const balance_warm_up = 4_000;
const slash_commands = 1_000;
/** Single-event calls before anything is measured (see the warm-up in runBench). */
const warm_up_calls = 3_000;
/** 1,000-event batches before the batch figure is measured. */
const warm_up_batches = 8;

const userOf = (i: number) => `UB${String(i).padStart(8, '0')}`;

/**
 * Seeds a throw-away database and prints SPEC's performance figures, one `Figure` at a time, in
 * this order: reset_s, pgbench_tps (with --compare-pgbench), ingest single and batch (with their
 * ratios to pgbench), enforce_hot_per_s, the two-tool batch, entries_build_s (with --entries),
 * balance latencies, slash ack, alerts, verify_s and verify_differences. Throws when a phase
 * answers what it should not (a 5xx, an unexpected status, pgbench missing).
 */
export async function runBench(options: BenchOptions): Promise<void> {
  if (options.comparePgbench && !options.databaseUrl) throw new Error('--compare-pgbench needs DATABASE_URL: pgbench runs against PostgreSQL');
  // A database of its own: the bench never writes into the one DATABASE_URL names.
  const db = options.databaseUrl ? await openScratchPostgres(options.databaseUrl, 'creditdesk_bench', { poolMax: 24 }) : await openPglite();
  const token = randomBytes(24).toString('hex');
  // Interrupted (Ctrl-C, a timeout's SIGTERM), the throw-away database is dropped all the same:
  // at 10 M entries it holds gigabytes.
  const interrupted = (signal: NodeJS.Signals) => {
    console.error(`bench: ${signal}; dropping its database`);
    void db.close().finally(() => process.exit(128 + (signal === 'SIGINT' ? 2 : 15)));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
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
    // The seeding's write-ahead log (hundreds of MB) would otherwise force a checkpoint into the
    // measured phases that follow, pgbench's or creditdesk's, whichever it fell on.
    const checkpointed = await checkpoint(db);

    const metrics = createMetrics();
    const api = buildApi({ ledger, metrics, apiToken: token, checkDatabase: async () => {} });
    const server = createHttpServer(api, metrics);
    const port = await listen(server, 0);

    try {
      // The database's own figure for one usage write per transaction, on the same server now.
      let pgbench: number | null = null;
      if (options.comparePgbench && 'url' in db) {
        pgbench = await pgbenchTps(db, db.url as string, { ...pgbench_defaults, rows: n });
        options.print({ figure: 'pgbench_tps', value: Math.round(pgbench), unit: 'transactions/s', ...pgbench_defaults, script: 'one usage row insert + one conditional balance update' });
      }
      const ratio = (perSecond: number) => (pgbench ? { ratio_to_pgbench: round(perSecond / pgbench, 2) } : {});
      const printRatio = (figure: string, perSecond: number) => {
        if (pgbench) options.print({ figure, value: round(perSecond / pgbench, 2), unit: '× pgbench_tps', pgbench_tps: Math.round(pgbench) });
      };

      // A warm-up, not measured: the server's code is compiled by V8 and its pool's connections
      // opened (each plans the usage function's statements once) as they would be in a server
      // that has been running, instead of inside the first figure.
      const warmUp = await load(port, token, single_clients, Array.from({ length: warm_up_calls }, (_, i) => ({
        method: 'POST', path: '/api/v1/usage', body: { events: [{ id: `w-${i}`, user: userOf(1 + ((i * 7919) % n)), credits: 1 }] },
      })));
      expectOnly(warmUp, [200], 'warm-up calls');

      // Single-event calls from concurrent clients.
      const singles = Math.max(1_000, Math.floor(options.events / 4));
      const single = await load(port, token, single_clients, Array.from({ length: singles }, (_, i) => ({
        method: 'POST', path: '/api/v1/usage', body: { events: [{ id: `s-${i}`, user: userOf(1 + ((i * 7919) % n)), credits: 3 }] },
      })));
      expectOnly(single, [200], 'single event calls');
      const singlePerS = (singles - single.rejected) / single.seconds;
      options.print({ figure: 'ingest_single_per_s', value: Math.round(singlePerS), unit: 'events/s', events: singles, rejected: single.rejected, clients: single_clients, ...ratio(singlePerS) });
      printRatio('ingest_single_ratio', singlePerS);

      // 1,000-event batches, after a few that are not measured (the batch path's code compiled).
      const batchWarmUp = await load(port, token, batch_clients, Array.from({ length: warm_up_batches }, (_, b) => ({
        method: 'POST', path: '/api/v1/usage',
        body: { events: Array.from({ length: batch_size }, (_, k) => ({ id: `wb-${b * batch_size + k}`, user: userOf(1 + (((b * batch_size + k) * 7_919) % n)), credits: 1 })) },
      })));
      expectOnly(batchWarmUp, [200], 'warm-up batches');
      const batches = Math.ceil(options.events / batch_size);
      const batched = await load(port, token, batch_clients, Array.from({ length: batches }, (_, b) => ({
        method: 'POST', path: '/api/v1/usage',
        body: { events: Array.from({ length: batch_size }, (_, k) => {
          const i = b * batch_size + k;
          return { id: `b-${i}`, user: userOf(1 + ((i * 104_729) % n)), credits: 2 };
        }) },
      })));
      expectOnly(batched, [200], 'batch calls');
      const batchPerS = (batches * batch_size - batched.rejected) / batched.seconds;
      options.print({ figure: 'ingest_batch_per_s', value: Math.round(batchPerS), unit: 'events/s', events: batches * batch_size, rejected: batched.rejected, clients: batch_clients, ...ratio(batchPerS) });
      printRatio('ingest_batch_ratio', batchPerS);

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

      // A second tool: every member also holds a seat there, and batches name both tools. The tool
      // dimension should cost nothing measurable against ingest_batch_per_s.
      await ledger.putTool('second', { name: 'Second tool', unit: 'credits' });
      await ledger.putPlan('second-full', { name: 'Full', credits: 3_000, tool: 'second' });
      await db.query(
        `insert into seats (member_id, tool_key, anchor_day, status, cycle_start, cycle_end, started_at)
         select g, 'second', 1, 'active', $2, $3, $2 from generate_series(1, $1) g`,
        [n, previous.start, previous.end],
      );
      await db.query(`insert into seat_plans (seat_id, plan_key) select id, 'second-full' from seats where tool_key = 'second'`);
      await resetDueSeats(ctx, now);
      await db.query('analyze');
      const twoToolBatches = Math.max(1, Math.ceil(options.events / batch_size / 2));
      const twoTools = await load(port, token, batch_clients, Array.from({ length: twoToolBatches }, (_, b) => ({
        method: 'POST', path: '/api/v1/usage',
        body: { events: Array.from({ length: batch_size }, (_, k) => {
          const i = b * batch_size + k;
          return { id: `t-${i}`, user: userOf(1 + ((i * 104_729) % n)), tool: i % 2 === 0 ? 'default' : 'second', credits: 2 };
        }) },
      })));
      expectOnly(twoTools, [200], 'two-tool batch calls');
      const twoToolsPerS = (twoToolBatches * batch_size - twoTools.rejected) / twoTools.seconds;
      options.print({ figure: 'ingest_batch_two_tools_per_s', value: Math.round(twoToolsPerS), unit: 'events/s', events: twoToolBatches * batch_size, rejected: twoTools.rejected, clients: batch_clients, ...ratio(twoToolsPerS) });

      if (options.entries) {
        started = performance.now();
        const added = await buildEntries(db, options.entries, now);
        options.print({ figure: 'entries_build_s', value: round((performance.now() - started) / 1000, 1), unit: 's', added, entries: options.entries });
      }

      // What autovacuum and the checkpointer would have done by the time a ledger this size is
      // looked up, done now (and timed apart) rather than on the same two cores during the lookups.
      started = performance.now();
      await db.query('vacuum analyze');
      await checkpoint(db);
      options.print({ figure: 'settle_s', value: round((performance.now() - started) / 1000, 1), unit: 's', what: checkpointed ? 'vacuum analyze, checkpoint' : 'vacuum analyze (CHECKPOINT not allowed to this role)' });

      // Balance lookups, one at a time, over HTTP, after a warm-up that is not measured (the
      // lookup's code compiled, the client's thread started).
      expectOnly(await load(port, token, 1, Array.from({ length: balance_warm_up }, (_, i) => ({
        method: 'GET', path: `/api/v1/balances/${userOf(1 + ((i * 7_919) % n))}`,
      }))), [200], 'balance warm-up');
      const [entries] = await db.query<{ count: number; seats: number }>(
        `select (select count(*) from journal)::int8 as count, (select count(*) from seats)::int8 as seats`,
      );
      const lookups = await load(port, token, 1, Array.from({ length: balance_lookups }, (_, i) => ({
        method: 'GET', path: `/api/v1/balances/${userOf(1 + ((i * 31_337) % n))}`,
      })), true);
      expectOnly(lookups, [200], 'balance lookups');
      const latencies = lookups.latencies!;
      options.print({ figure: 'balance_p50_ms', value: percentile(latencies, 0.5), unit: 'ms', over: 'http', seats: entries!.seats, entries: entries!.count });
      options.print({ figure: 'balance_p99_ms', value: percentile(latencies, 0.99), unit: 'ms', over: 'http', seats: entries!.seats, entries: entries!.count });
      // The same lookups straight into the ledger: what the database work costs without HTTP.
      const direct: number[] = [];
      for (let i = 0; i < balance_lookups; i++) {
        const t = performance.now();
        await ledger.balances(userOf(1 + ((i * 31_337) % n)));
        direct.push(performance.now() - t);
      }
      options.print({ figure: 'balance_ledger_p99_ms', value: percentile(direct, 0.99), unit: 'ms', over: 'in-process', seats: entries!.seats, entries: entries!.count });

      const ack = await benchSlashAck(ledger, Array.from({ length: 100 }, (_, i) => userOf(1 + ((i * 7) % n))), slash_commands);
      options.print({ figure: 'slash_ack_p50_ms', value: ack.p50, unit: 'ms', commands: slash_commands });
      options.print({ figure: 'slash_ack_p99_ms', value: ack.p99, unit: 'ms', commands: slash_commands });

      if (options.alerts > 0) for (const figure of await benchAlerts(db, options.alerts)) options.print(figure);

      started = performance.now();
      const verified = await ledger.verify();
      options.print({ figure: 'verify_s', value: round((performance.now() - started) / 1000, 1), unit: 's', ...verified.checked });
      options.print({ figure: 'verify_differences', value: verified.differences.length, unit: 'count' });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await db.close();
  }
}

/**
 * Runs CHECKPOINT where the role may (a superuser or pg_checkpoint on PostgreSQL; PGlite always):
 * true when it ran, false when the role may not, which leaves checkpoints to their schedule.
 */
async function checkpoint(db: Database): Promise<boolean> {
  try {
    await db.query('checkpoint');
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === '42501') return false;
    throw error;
  }
}

interface LoadResult {
  seconds: number;
  statuses: Record<number, number>;
  /** Events a 200 answer rejected (its `results` with status `rejected`): they are not counted as applied. */
  rejected: number;
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
