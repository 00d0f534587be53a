// Once per period across replicas: a job holds an advisory lock while it runs and records its
// period in job_runs when it finishes. A run that died half way left no finish mark, so the next
// run does it again; the work itself is idempotent (compare-and-set, dedupe keys), so nothing is
// applied twice.
import type { Database } from '../db/client.ts';

export type RunResult<T> = { status: 'ran'; value: T } | { status: 'done' } | { status: 'busy' };

/** Advisory lock keys: one per job, fixed. */
export const job_lock_keys = { cycle: 7_410_101, digest: 7_410_102 } as const;
export type JobName = keyof typeof job_lock_keys;

export async function runOncePerPeriod<T>(db: Database, job: JobName, period: string, now: Date, work: () => Promise<T>): Promise<RunResult<T>> {
  const finished = await db.query(`select 1 from job_runs where job = $1 and period = $2 and finished_at is not null`, [job, period]);
  if (finished.length > 0) return { status: 'done' };
  const outcome = await db.exclusively(job_lock_keys[job], async (): Promise<RunResult<T>> => {
    // Checked again under the lock: another replica may have finished it a moment ago.
    const [row] = await db.query<{ finished: boolean }>(
      `insert into job_runs (job, period, started_at) values ($1, $2, $3)
       on conflict (job, period) do update set started_at = case when job_runs.finished_at is null then excluded.started_at else job_runs.started_at end
       returning finished_at is not null as finished`,
      [job, period, now],
    );
    if (row!.finished) return { status: 'done' };
    const value = await work();
    await db.query(`update job_runs set finished_at = $3 where job = $1 and period = $2`, [job, period, now]);
    return { status: 'ran', value };
  });
  return outcome ?? { status: 'busy' };
}
