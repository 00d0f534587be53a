// The schedules: cycle resets and expiry, the weekly digest, and the outbox dispatcher. Each job
// is a function of (ledger, clock) in its own file; startJobs wires them to node-cron in the
// org's time zone. Replicas coordinate through the database only (see runs.ts).
import cron from 'node-cron';
import { sweepThresholdAlerts } from '../ledger/alerts.ts';
import type { Ledger } from '../ledger/index.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { enqueueDigest, isoWeek } from './digest.ts';
import { Dispatcher, slackSender, type SlackSender } from './dispatcher.ts';
import { runOncePerPeriod } from './runs.ts';

export interface JobDeps {
  ledger: Ledger;
  log: Logger;
  metrics: Metrics;
  /** Sends outbox messages to Slack; undefined when Slack is off (messages wait in the outbox). */
  slack?: { botToken: string; apiUrl?: string; adminChannelId?: string; alertChannelId?: string; sender?: SlackSender };
  /** When the weekly digest goes out, as a cron expression in the org's zone. */
  digestCron?: string;
}

export interface RunningJobs {
  stop(): Promise<void>;
}

/** Every boundary falls on a whole minute; checking every five catches each within minutes. */
export const cycle_cron = '*/5 * * * *';
const cycle_period_ms = 5 * 60_000;
export const default_digest_cron = '0 9 * * 1';
/** The dispatcher looks for due messages this often when it has nothing to do. */
const dispatch_idle_ms = 1_000;

/**
 * The cycle jobs for the five-minute period containing `now`: resets, pool grants, expiry (of
 * closed cycles and one-time packs), then the threshold check for quotas lowered without usage.
 */
export async function runCycleJob(ledger: Ledger, now: Date) {
  const period = new Date(Math.floor(now.getTime() / cycle_period_ms) * cycle_period_ms).toISOString();
  return runOncePerPeriod(ledger.ctx.db, 'cycle', period, now, async () => ({
    ...(await ledger.runCycleJobs(now)),
    alerted: await sweepThresholdAlerts(ledger.ctx, now),
  }));
}

/** The digest for the ISO week containing `now`, queued once. */
export async function runDigestJob(ledger: Ledger, now: Date) {
  return runOncePerPeriod(ledger.ctx.db, 'digest', isoWeek(now, ledger.ctx.settings.zone), now, () => enqueueDigest(ledger.ctx, now));
}

export async function startJobs(deps: JobDeps): Promise<RunningJobs> {
  const { ledger, log } = deps;
  const zone = ledger.ctx.settings.zone;
  // A reset missed while the service was down is applied at start-up.
  const caughtUp = await ledger.runCycleJobs();
  if (caughtUp.seats || caughtUp.pools || caughtUp.expired) log.info('cycle jobs caught up at start-up', caughtUp);

  const guard = (name: string, job: () => Promise<unknown>) => async () => {
    try {
      await job();
    } catch (error) {
      log.error(`job ${name} failed; it runs again next time`, { error });
    }
  };
  const tasks = [
    cron.schedule(cycle_cron, guard('cycle', () => runCycleJob(ledger, ledger.ctx.now())), { timezone: zone, name: 'cycle', noOverlap: true }),
    cron.schedule(deps.digestCron ?? default_digest_cron, guard('digest', () => runDigestJob(ledger, ledger.ctx.now())), { timezone: zone, name: 'digest', noOverlap: true }),
  ];

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  if (deps.slack) {
    const dispatcher = new Dispatcher({
      ctx: ledger.ctx,
      sender: deps.slack.sender ?? slackSender({ botToken: deps.slack.botToken, apiUrl: deps.slack.apiUrl }),
      adminChannelId: deps.slack.adminChannelId,
      alertChannelId: deps.slack.alertChannelId,
      log,
      metrics: deps.metrics,
    });
    const loop = async () => {
      let delay = dispatch_idle_ms;
      try {
        const round = await dispatcher.round();
        if (round.pausedUntil) delay = Math.max(delay, round.pausedUntil.getTime() - ledger.ctx.now().getTime());
        else if (round.claimed > 0) delay = 0;
      } catch (error) {
        log.error('outbox dispatch failed; retrying', { error });
      }
      if (!stopped) timer = setTimeout(() => (current = loop()), delay);
    };
    current = loop();
  } else {
    log.info('outbox dispatcher is off with Slack: alerts and digests wait in the outbox until Slack is configured');
  }

  return {
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      for (const task of tasks) await task.stop();
      await current;
    },
  };
}
