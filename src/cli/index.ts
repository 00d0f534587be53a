// The creditdesk command: migrate, verify, report, bench. Reads the same configuration as the server.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { openDatabase, type Database } from '../db/client.ts';
import { migrate } from '../db/migrate.ts';
import { createLedger } from '../ledger/index.ts';
import { reportCsv } from '../ledger/report.ts';
import { ledgerSettings } from '../settings.ts';

const usage = `usage: creditdesk <command> [options]

commands:
  migrate                      apply the database migrations
  verify                       recompute every balance from the ledger entries; exits 1 on any difference
  report [YYYY-MM] [--csv]     the admin report for a cycle (default: the current one) as JSON or CSV
  bench [--seats N] [--events N] [--alerts N]
                               measure the ledger's performance figures (JSON lines) on a fresh database
  help                         this text

The database is DATABASE_URL, or the embedded PGlite database in DATA_DIR (default ./.data).`;

async function withLedger<T>(config: Config, run: (ledger: ReturnType<typeof createLedger>, db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR });
  try {
    await migrate(db);
    return await run(createLedger({ db, now: () => new Date(), settings: ledgerSettings(config) }), db);
  } finally {
    await db.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(usage);
    return command ? 0 : 2;
  }
  const config = loadConfig();
  switch (command) {
    case 'migrate':
      await withLedger(config, async () => console.log('migrations applied'));
      return 0;
    case 'verify':
      return withLedger(config, async (ledger) => {
        const result = await ledger.verify();
        console.log(JSON.stringify(result, null, 2));
        if (!result.ok) console.error(`verify: ${result.differences.length} difference(s) between balances and entries`);
        return result.ok ? 0 : 1;
      });
    case 'report': {
      const { values, positionals } = parseArgs({ args: rest, options: { csv: { type: 'boolean' } }, allowPositionals: true });
      const cycle = positionals[0];
      if (cycle && !/^\d{4}-(0[1-9]|1[0-2])$/.test(cycle)) {
        console.error(`report: the cycle must look like 2026-05, got ${cycle}`);
        return 2;
      }
      return withLedger(config, async (ledger) => {
        const report = await ledger.report(cycle);
        process.stdout.write(values.csv ? reportCsv(report) : JSON.stringify(report, null, 2) + '\n');
        return 0;
      });
    }
    case 'bench': {
      const { values } = parseArgs({
        args: rest,
        options: {
          seats: { type: 'string', default: '100000' },
          events: { type: 'string', default: '200000' },
          alerts: { type: 'string', default: '10000' },
        },
      });
      const seats = Number(values.seats);
      const events = Number(values.events);
      const alerts = Number(values.alerts);
      if (!Number.isInteger(seats) || seats < 10 || !Number.isInteger(events) || events < 1000 || !Number.isInteger(alerts) || alerts < 0) {
        console.error('bench: --seats must be a whole number of at least 10, --events at least 1000, --alerts 0 or more');
        return 2;
      }
      const { runBench } = await import('./bench.ts');
      await runBench({ seats, events, alerts, databaseUrl: config.DATABASE_URL, print: (line) => console.log(JSON.stringify(line)) });
      return 0;
    }
    default:
      console.error(`unknown command: ${command}\n\n${usage}`);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exitCode = 2;
  } else {
    console.error(error instanceof Error ? `error: ${error.message}` : error);
    process.exitCode = 1;
  }
}
