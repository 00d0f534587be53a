// The schedules: cycle resets and expiry, the weekly digest, the daily pruning of idempotency keys,
// and the outbox dispatcher. Each job
// is a function of (ledger, clock) in its own file; startJobs wires them to node-cron in the
// org's time zone, and catches up at start-up and on every five-minute tick what node-cron
// missed (a DST gap, the service down). Replicas coordinate through the database only (see runs.ts).
import cron from 'node-cron';
import { sweepThresholdAlerts } from '../ledger/alerts.ts';
import type { Ledger } from '../ledger/index.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { enqueueDigest, isoWeek } from './digest.ts';
import { Dispatcher, slackSender, type SlackSender } from './dispatcher.ts';
import { runCronJob, runOncePerPeriod } from './runs.ts';
import { startVendorJobs, type VendorJobDeps } from './vendors.ts';

export interface JobDeps {
  ledger: Ledger;
  log: Logger;
  metrics: Metrics;
  /** Sends outbox messages to Slack; undefined when Slack is off (messages wait in the outbox). */
  slack?: { botToken: string; apiUrl?: string; adminChannelId?: string; alertChannelId?: string; sender?: SlackSender };
  /** When the weekly digest goes out, as a cron expression in the org's zone. */
  digestCron?: string;
  /** The vendor connectors' hourly pulls and the weekly sync nudge (jobs/vendors.ts). */
  vendors?: Omit<VendorJobDeps, 'ledger' | 'log'>;
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

/**
 * The digest of the latest time `digestCron` names (in the org's zone) at or before `now`, queued
 * once per ISO week of that time: on time, or caught up when that time fell in a DST gap or the
 * service was down (see runCronJob). `not_due` when no digest is due.
 */
export async function runDigestJob(ledger: Ledger, now: Date, digestCron: string = default_digest_cron) {
  const zone = ledger.ctx.settings.zone;
  return runCronJob(ledger.ctx.db, { job: 'digest', cron: digestCron, zone, periodOf: (at) => isoWeek(at, zone) }, now, (occurrence) =>
    enqueueDigest(ledger.ctx, occurrence.at, now),
  );
}

/**
 * The daily pruning of idempotency keys past their retention (ledger/once.ts says why 30 days is
 * safe): once per UTC day across replicas, on the first five-minute tick of the day (or the first
 * after the service started), so a day the service was down is made up at once.
 */
export async function runPruneJob(ledger: Ledger, now: Date) {
  return runOncePerPeriod(ledger.ctx.db, 'prune_keys', now.toISOString().slice(0, 10), now, async () => ({
    appliedKeys: await ledger.pruneAppliedKeys(now),
  }));
}

/** Runs a job, logging a failure instead of throwing: the next tick runs it again. Undefined if it failed. */
async function guarded<T>(log: Logger, name: string, job: () => Promise<T>): Promise<T | undefined> {
  try {
    return await job();
  } catch (error) {
    log.error(`job ${name} failed; it runs again next time`, { error });
    return undefined;
  }
}

/**
 * The five-minute tick: the cycle job for this period, then every cron job that is due, so one
 * node-cron did not fire (its time fell in a DST gap) or that came while the service was down
 * runs within five minutes, then the daily pruning. Each job runs once per period however many
 * replicas tick.
 */
export async function runTick(ledger: Ledger, now: Date, options: { log: Logger; digestCron?: string }) {
  const cycle = await guarded(options.log, 'cycle', () => runCycleJob(ledger, now));
  const digest = await guarded(options.log, 'digest', () => runDigestJob(ledger, now, options.digestCron));
  const prune = await guarded(options.log, 'prune_keys', () => runPruneJob(ledger, now));
  return { cycle, digest, prune };
}

export async function startJobs(deps: JobDeps): Promise<RunningJobs> {
  const { ledger, log } = deps;
  const zone = ledger.ctx.settings.zone;
  // A reset or a digest missed while the service was down is applied at start-up.
  const caughtUp = await ledger.runCycleJobs();
  if (caughtUp.seats || caughtUp.pools || caughtUp.expired) log.info('cycle jobs caught up at start-up', caughtUp);
  const digest = await guarded(log, 'digest', () => runDigestJob(ledger, ledger.ctx.now(), deps.digestCron));
  if (digest?.status === 'ran') log.info('weekly digest caught up at start-up');

  const options = { timezone: zone, noOverlap: true };
  // node-cron's stop() clears its timers but does not wait for a tick it already started: the
  // ticks running now are kept here, and stop() waits for them before the database closes.
  const running = new Set<Promise<unknown>>();
  const tracked = (run: () => Promise<unknown>) => () => {
    const tick = run().finally(() => running.delete(tick));
    running.add(tick);
    return tick;
  };
  const tasks = [
    cron.schedule(cycle_cron, tracked(() => runTick(ledger, ledger.ctx.now(), { log, digestCron: deps.digestCron })), { ...options, name: 'cycle' }),
    // On time when node-cron fires; the tick above catches up when it does not.
    cron.schedule(deps.digestCron ?? default_digest_cron, tracked(() => guarded(log, 'digest', () => runDigestJob(ledger, ledger.ctx.now(), deps.digestCron))), {
      ...options, name: 'digest',
    }),
  ];

  const vendors = startVendorJobs({ ledger, log, connectors: [], ...deps.vendors });

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
      await Promise.allSettled([...running]);
      await vendors.stop();
      await current;
    },
  };
}
