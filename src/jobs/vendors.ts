// The vendor schedules: every configured connector pulled once an hour, and the weekly sync nudge.
// A five-minute tick runs whatever is due (the hour's pull, a nudge node-cron did not fire), once
// per period across replicas (runs.ts); the nudge also has its own cron task, on time like the
// digest. Pulls run outside the other jobs' tick, so a vendor that makes them wait (Retry-After)
// never holds up a reset.
import cron from 'node-cron';
import { runPull, type Connector, type PullSummary } from '../connectors/runner.ts';
import { realSleep, type VendorHttp } from '../connectors/http.ts';
import type { Ledger } from '../ledger/index.ts';
import type { Logger } from '../log.ts';
import { isoWeek } from './digest.ts';
import { enqueueSyncNudges } from './nudge.ts';
import { runCronJob, runOncePerPeriod, type JobName, type RunResult } from './runs.ts';
import { counted } from '../words.ts';

/** How often the vendor tick looks for a due pull or nudge. */
export const vendor_tick_cron = '*/5 * * * *';
/** Each connector is pulled once per this period. */
export const pull_period_ms = 3_600_000;
/** Mondays 10:00 in the org's zone, unless SYNC_NUDGE_CRON says otherwise. */
export const default_sync_nudge_cron = '0 10 * * 1';

export interface VendorJobDeps {
  ledger: Ledger;
  log: Logger;
  connectors: readonly Connector[];
  /** When the weekly nudge goes out, a cron expression in the org's zone. */
  nudgeCron?: string;
  /** Tests: the vendors' HTTP client and waiting. */
  http?: Partial<VendorHttp>;
}

const pullJob = (connector: Connector): JobName => {
  const job = `pull_${connector.name}`;
  if (job !== 'pull_figma' && job !== 'pull_github') throw new Error(`no job lock for the connector ${connector.name}`);
  return job;
};

/** The hour a pull belongs to, as its period key. */
const hourOf = (now: Date) => new Date(Math.floor(now.getTime() / pull_period_ms) * pull_period_ms).toISOString();

/**
 * The connector's pull for the hour containing `now`, once across replicas: `done` when a replica
 * already made it, `busy` while one is making it. A pull that failed still counts as made: its
 * error waits in the App Home and the next hour tries again.
 */
export async function runPullJob(ledger: Ledger, connector: Connector, now: Date, http: VendorHttp): Promise<RunResult<PullSummary>> {
  return runOncePerPeriod(ledger.ctx.db, pullJob(connector), hourOf(now), now, () => runPull(ledger, connector, { http }));
}

/**
 * The weekly nudge of the latest time `nudgeCron` names at or before `now`, once per ISO week
 * across replicas (as the digest: caught up when missed, let go once its week has passed).
 */
export async function runNudgeJob(ledger: Ledger, now: Date, nudgeCron: string = default_sync_nudge_cron) {
  const zone = ledger.ctx.settings.zone;
  return runCronJob(ledger.ctx.db, { job: 'sync_nudge', cron: nudgeCron, zone, periodOf: (at) => isoWeek(at, zone) }, now, (occurrence) =>
    enqueueSyncNudges(ledger.ctx, occurrence.at, now),
  );
}

/** Runs a job, logging a failure instead of throwing: the next tick runs it again. */
async function guarded<T>(log: Logger, name: string, job: () => Promise<T>): Promise<T | undefined> {
  try {
    return await job();
  } catch (error) {
    log.error(`job ${name} failed; it runs again next time`, { error });
    return undefined;
  }
}

/** The vendor tick: every connector's pull of this hour, then the weekly nudge if one is due. */
export async function runVendorTick(deps: VendorJobDeps & { http: VendorHttp }, now: Date) {
  const pulls: Record<string, RunResult<PullSummary> | undefined> = {};
  for (const connector of deps.connectors) {
    const pulled = await guarded(deps.log, `pull ${connector.name}`, () => runPullJob(deps.ledger, connector, now, deps.http));
    pulls[connector.name] = pulled;
    if (pulled?.status === 'ran') {
      const s = pulled.value;
      if (s.status === 'failed') deps.log.warn(`pull ${connector.name} failed: ${s.error}`);
      else deps.log.info(`pull ${connector.name}: ${counted(s.applied, 'usage event')}, ${counted(s.units, 'unit')}, ${counted(s.unknown.count, 'person', 'people')} unknown`);
    }
  }
  const nudge = await guarded(deps.log, 'sync nudge', () => runNudgeJob(deps.ledger, now, deps.nudgeCron));
  return { pulls, nudge };
}

export interface RunningVendorJobs {
  /** Resolves once no tick or nudge is running (tests; the service just stops). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts the vendor schedules: a tick at once (a pull or nudge due while the service was down runs
 * at start-up) and every five minutes, and the nudge's own cron task. stop() cuts any vendor wait
 * short and resolves once the running pull has recorded its run.
 */
export function startVendorJobs(deps: VendorJobDeps): RunningVendorJobs {
  const { ledger, log } = deps;
  const stopping = new AbortController();
  const http: VendorHttp = {
    fetch: deps.http?.fetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args)),
    sleep: deps.http?.sleep ?? realSleep(stopping.signal),
    signal: stopping.signal,
  };
  const running = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>) => {
    running.add(work);
    void work.finally(() => running.delete(work));
    return work;
  };
  const tick = () => track(guarded(log, 'vendor tick', () => runVendorTick({ ...deps, http }, ledger.ctx.now())));
  void tick();
  const options = { timezone: ledger.ctx.settings.zone, noOverlap: true };
  const tasks = [
    cron.schedule(vendor_tick_cron, tick, { ...options, name: 'vendors' }),
    cron.schedule(deps.nudgeCron ?? default_sync_nudge_cron, () => track(guarded(log, 'sync nudge', () => runNudgeJob(ledger, ledger.ctx.now(), deps.nudgeCron))), {
      ...options, name: 'sync-nudge',
    }),
  ];
  return {
    idle: async () => {
      while (running.size > 0) await Promise.all([...running]);
    },
    stop: async () => {
      stopping.abort();
      for (const task of tasks) await task.stop();
      await Promise.all([...running]);
    },
  };
}
