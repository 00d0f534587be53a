// The creditdesk command: migrate, verify, report, bench. Reads the same configuration as the server.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { openDatabase, type Database } from '../db/client.ts';
import { migrate } from '../db/migrate.ts';
import { createLedger } from '../ledger/index.ts';
import { ledgerSettings } from '../settings.ts';
import { CsvFileError, import_exit, type CsvFile } from './csv.ts';
import { connectorFor } from '../connectors/index.ts';
import { isDay } from '../connectors/days.ts';
import { realSleep } from '../connectors/http.ts';
import { pullSummaryText, runPull } from '../connectors/runner.ts';
import { LedgerError } from '../ledger/errors.ts';
import { counted } from '../words.ts';

const usage = `usage: creditdesk <command> [options]

commands:
  migrate                      apply the database migrations
  verify                       recompute every balance from the ledger entries; exits 1 on any difference
  report [YYYY-MM] [--tool KEY] [--csv] [--group-by profile|attribute:NAME]
                               the admin report of a tool (which must be named once there are several) for
                               a cycle (default: the current one) as JSON or CSV, with breakage, pack advice
                               and, grouped, chargeback
  import-seats <csv> [--map mapping.json] [--plan KEY] [--profile KEY] [--dry-run]
                               seats from the vendor console's user export; members matched to Slack by email
  import-usage [--tool KEY] <csv>
                               usage rows (email or Slack id, credits, date, optional feature, event id and
                               tool); a row's tool is its tool column, else --tool, else the only tool (a row
                               naming another tool than --tool fails); a date alone is that day at 12:00 in
                               the tool's zone, or the time of the import while 12:00 is still to come today
  import-usage --format github [--tool KEY] <csv>
                               GitHub's premium request usage report; members matched by their seat's
                               vendor_user (the GitHub login), in --tool, GITHUB_TOOL or the only tool
                               imports read UTF-8 or UTF-16 files separated by , ; or tab, and exit 0 when
                               every row is as the file says, 1 when some rows failed (the rest applied),
                               2 when the file was refused and nothing was written
  pull figma|github [--since YYYY-MM-DD]
                               usage from the vendor's API since the last pull (or the UTC day given);
                               exits 0 when the pull finished, 1 when it failed (the reason on stderr)
  bench [--seats N] [--events N] [--alerts N] [--compare-pgbench] [--entries N]
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

/**
 * An import's file, read as bytes (its encoding is detected, not assumed) and checked by `read`;
 * null after saying on stderr why it was refused.
 */
async function readImportFile(command: string, path: string, read: (bytes: Uint8Array) => CsvFile): Promise<CsvFile | null> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    console.error(`${command}: cannot read ${path}: ${(error as Error).message}`);
    return null;
  }
  try {
    return read(bytes);
  } catch (error) {
    if (!(error instanceof CsvFileError)) throw error;
    console.error(`${command}: ${path}: ${error.message}`);
    return null;
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
        if (!result.ok) console.error(`verify: ${counted(result.differences.length, 'difference')} between balances and entries`);
        return result.ok ? 0 : 1;
      });
    case 'report': {
      const { parseReportArgs, runReport } = await import('./report.ts');
      const args = parseReportArgs(rest);
      if (typeof args === 'string') {
        console.error(`report: ${args}`);
        return 2;
      }
      return withLedger(config, async (ledger) => {
        const report = await runReport(ledger, args);
        if (report.code !== 0) {
          console.error(report.error);
          return report.code;
        }
        process.stdout.write(report.out);
        return 0;
      });
    }
    case 'import-usage': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { format: { type: 'string' }, tool: { type: 'string' } } });
      if (positionals.length !== 1) {
        console.error('import-usage: name one CSV file');
        return import_exit.refused;
      }
      const format = values.format ?? 'csv';
      if (format !== 'csv' && format !== 'github') {
        console.error(`import-usage: --format takes csv (the default) or github, got ${format}`);
        return import_exit.refused;
      }
      const usage = await import('./import-usage.ts');
      if (format === 'github') {
        const file = await readImportFile('import-usage', positionals[0]!, usage.readGithubUsageFile);
        if (!file) return import_exit.refused;
        return withLedger(config, async (ledger) => {
          let summary;
          try {
            summary = await usage.importGithubUsage(ledger, file, values.tool ?? config.GITHUB_TOOL ?? null);
          } catch (error) {
            if (!(error instanceof LedgerError)) throw error;
            console.error(`import-usage: ${error.message}`);
            return import_exit.refused;
          }
          console.error(usage.githubImportSummary(summary));
          console.log(JSON.stringify(summary, null, 2));
          return usage.githubImportExitCode(summary);
        });
      }
      const { importUsage, readUsageFile, usageImportExitCode, usageImportSummary } = usage;
      // The file is read and checked before the database is opened: a refused file writes nothing.
      const file = await readImportFile('import-usage', positionals[0]!, readUsageFile);
      if (!file) return import_exit.refused;
      return withLedger(config, async (ledger) => {
        let summary;
        try {
          summary = await importUsage(ledger, file, { tool: values.tool ?? null });
        } catch (error) {
          // --tool names no tool: nothing was written.
          if (!(error instanceof LedgerError)) throw error;
          console.error(`import-usage: ${error.message}`);
          return import_exit.refused;
        }
        console.error(usageImportSummary(summary));
        console.log(JSON.stringify(summary, null, 2));
        return usageImportExitCode(summary);
      });
    }
    case 'pull': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { since: { type: 'string' } } });
      const name = positionals[0];
      if (positionals.length !== 1 || (name !== 'figma' && name !== 'github')) {
        console.error('pull: name one vendor, figma or github (creditdesk pull figma)');
        return 2;
      }
      if (values.since !== undefined && !isDay(values.since)) {
        console.error(`pull: --since takes a UTC day such as 2026-05-01, got ${values.since}`);
        return 2;
      }
      const connector = connectorFor(config, name);
      if ('missing' in connector) {
        console.error(`pull: ${connector.missing}`);
        return 2;
      }
      return withLedger(config, async (ledger) => {
        const http = { fetch: (...args: Parameters<typeof fetch>) => globalThis.fetch(...args), sleep: realSleep() };
        const summary = await runPull(ledger, connector, { http, since: values.since });
        console.error(pullSummaryText(summary));
        console.log(JSON.stringify(summary, null, 2));
        return summary.status === 'ok' ? 0 : 1;
      });
    }
    case 'import-seats': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { map: { type: 'string' }, plan: { type: 'string' }, profile: { type: 'string' }, 'dry-run': { type: 'boolean' } },
      });
      if (positionals.length !== 1) {
        console.error('import-seats: name one CSV file');
        return import_exit.refused;
      }
      const { importSeats, mapping_schema, readSeatExport, SeatMappingError, seatImportExitCode, seatImportSummary, slackLookup } = await import('./import-seats.ts');
      let mapFile: unknown = {};
      if (values.map) {
        try {
          mapFile = JSON.parse(await readFile(values.map, 'utf8'));
        } catch (error) {
          console.error(`import-seats: the mapping file ${values.map} is not JSON: ${(error as Error).message}`);
          return import_exit.refused;
        }
      }
      const mapping = mapping_schema.safeParse(mapFile);
      if (!mapping.success) {
        const issues = mapping.error.issues.map((i) => `${i.path.join('.') || 'the file'}: ${i.message}`).join('; ');
        console.error(`import-seats: the mapping file is not right: ${issues}`);
        return import_exit.refused;
      }
      // Flags win over the file's defaults.
      if (values.plan) mapping.data.default_plan = values.plan;
      if (values.profile) mapping.data.default_profile = values.profile;
      const file = await readImportFile('import-seats', positionals[0]!, (bytes) => readSeatExport(bytes, mapping.data));
      if (!file) return import_exit.refused;
      const lookup = config.SLACK_BOT_TOKEN ? slackLookup(config.SLACK_BOT_TOKEN, config.SLACK_API_URL) : undefined;
      if (!lookup) console.error('import-seats: Slack is not configured; members are kept by email until they can be matched');
      return withLedger(config, async (ledger) => {
        let result;
        try {
          result = await importSeats(ledger, file, { mapping: mapping.data, lookup, dryRun: values['dry-run'] ?? false });
        } catch (error) {
          // Raised before any row is read: nothing was written.
          if (!(error instanceof SeatMappingError)) throw error;
          console.error(`import-seats: the mapping file is not right: ${error.message}`);
          return import_exit.refused;
        }
        // The summary for the person at the terminal, the JSON for scripts.
        console.error(seatImportSummary(result));
        console.log(JSON.stringify(result, null, 2));
        return seatImportExitCode(result);
      });
    }
    case 'bench': {
      const { values } = parseArgs({
        args: rest,
        options: {
          seats: { type: 'string', default: '100000' },
          events: { type: 'string', default: '200000' },
          alerts: { type: 'string', default: '10000' },
          'compare-pgbench': { type: 'boolean', default: false },
          entries: { type: 'string', default: '0' },
        },
      });
      const seats = Number(values.seats);
      const events = Number(values.events);
      const alerts = Number(values.alerts);
      const entries = Number(values.entries);
      const wrong = [
        [/^\d+$/.test(values.seats) && seats >= 10, '--seats must be a whole number of at least 10'],
        [/^\d+$/.test(values.events) && events >= 1000, '--events must be a whole number of at least 1000'],
        [/^\d+$/.test(values.alerts), '--alerts must be a whole number, 0 or more'],
        [/^\d+$/.test(values.entries), '--entries must be a whole number, 0 or more'],
      ].filter(([ok]) => !ok).map(([, why]) => why);
      if (wrong.length > 0) {
        console.error(`bench: ${wrong.join('; ')}`);
        return 2;
      }
      if (values['compare-pgbench'] && !config.DATABASE_URL) {
        console.error('bench: --compare-pgbench needs DATABASE_URL (pgbench runs against PostgreSQL, not the embedded database)');
        return 2;
      }
      const { runBench } = await import('./bench.ts');
      await runBench({ seats, events, alerts, entries, comparePgbench: values['compare-pgbench'], databaseUrl: config.DATABASE_URL, print: (line) => console.log(JSON.stringify(line)) });
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
  } else if (typeof (error as { code?: unknown }).code === 'string' && (error as { code: string }).code.startsWith('ERR_PARSE_ARGS')) {
    // An unknown option or one without its value: a wrong argument, so nothing was done (exit 2),
    // never to be read as an import that applied some rows (exit 1).
    console.error(`${process.argv[2]}: ${(error as Error).message}; see creditdesk help`);
    process.exitCode = 2;
  } else {
    console.error(error instanceof Error ? `error: ${error.message}` : error);
    process.exitCode = 1;
  }
}
