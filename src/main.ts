// Composition root: config -> db -> migrate -> ledger -> slack + api + jobs -> start.
import { ConfigError, loadConfig, slackMode, type Config } from './config.ts';
import { openDatabase } from './db/client.ts';
import { migrate } from './db/migrate.ts';
import { buildApi } from './api/app.ts';
import { createLedger } from './ledger/index.ts';
import { createLogger } from './log.ts';
import { createMetrics } from './metrics.ts';
import { createHttpServer, listen } from './server.ts';
import { ledgerSettings } from './settings.ts';
import { startJobs } from './jobs/index.ts';
import { configuredConnectors } from './connectors/index.ts';
import { startSlack, type RunningSlack } from './slack/index.ts';

/** The one line to say when the HTTP port cannot be had, or null for an error that is not about the port. */
function portProblem(error: unknown, port: number): string | null {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE') return `port ${port} is already in use by another process: stop that process, or set PORT to a free port`;
  if (code === 'EACCES') return `port ${port} needs privileges this process does not have: set PORT to 1024 or above`;
  return null;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const log = createLogger(config.LOG_LEVEL);
  const db = await openDatabase({ url: config.DATABASE_URL, dataDir: config.DATA_DIR });
  await migrate(db);
  log.info(config.DATABASE_URL ? 'database: PostgreSQL, migrations applied' : `database: embedded PGlite in ${config.DATA_DIR}, migrations applied`);

  const ledger = createLedger({ db, now: () => new Date(), settings: ledgerSettings(config) });
  const metrics = createMetrics({ defaults: true });
  const api = buildApi({ ledger, metrics, apiToken: config.API_TOKEN, checkDatabase: async () => void (await db.query('select 1')) });
  if (!config.API_TOKEN) log.info('HTTP API is off: set API_TOKEN to turn it on');

  const mode = slackMode(config);
  let slack: RunningSlack | undefined;
  if (mode.mode === 'off') {
    log.info('Slack is off: set SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode) to turn it on');
  } else {
    slack = await startSlack({
      ledger, log, mode, apiUrl: config.SLACK_API_URL, adminUserIds: config.ADMIN_USER_IDS,
      adminChannelId: config.ADMIN_CHANNEL_ID, alertChannelId: config.ALERT_CHANNEL_ID, selfReporting: config.SELF_REPORTING === 'on',
    });
    log.info(`Slack is on in ${mode.mode === 'http' ? 'HTTP mode at /slack/events' : 'Socket Mode'}`);
  }
  const jobs = await startJobs({
    ledger, log, metrics, digestCron: config.DIGEST_CRON,
    vendors: { connectors: configuredConnectors(config), nudgeCron: config.SYNC_NUDGE_CRON },
    slack: mode.mode === 'off' ? undefined : {
      botToken: mode.botToken, apiUrl: config.SLACK_API_URL, adminChannelId: config.ADMIN_CHANNEL_ID, alertChannelId: config.ALERT_CHANNEL_ID,
    },
  });

  const server = createHttpServer(api, metrics, slack?.listener);
  let port: number;
  try {
    port = await listen(server, config.PORT);
  } catch (error) {
    const problem = portProblem(error, config.PORT);
    if (!problem) throw error;
    // What a person can act on, in one line; then everything started so far stops cleanly.
    console.error(problem);
    await jobs.stop();
    await slack?.stop();
    await db.close();
    process.exit(1);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: closing`);
    // New requests stop first; then the jobs, and Slack's listeners still at work after their ack
    // (slack.stop waits for them, bounded), all before the database they write to closes.
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await jobs.stop();
    await slack?.stop();
    await db.close();
    process.exit(0);
  };
  // Before saying so: whoever reads "listening" may signal at once, and on a busy machine this
  // process may not run another statement before the signal lands (seen with npm start).
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  log.info(`creditdesk listening on port ${port}`);
}

await main();
