// Once per period across replicas: a job holds an advisory lock while it runs and records its
// period in job_runs when it finishes. A run that died half way left no finish mark, so the next
// run does it again; the work itself is idempotent (compare-and-set, dedupe keys), so nothing is
// applied twice. A cron job's period comes from its schedule and the clock, so a run whose time
// fell in a DST gap or while the service was down is caught up.
import { DateTime } from 'luxon';
import cron from 'node-cron';
import type { Database } from '../db/client.ts';

export type RunResult<T> = { status: 'ran'; value: T } | { status: 'done' } | { status: 'busy' };

/** Advisory lock keys: one per job, fixed. */
export const job_lock_keys = {
  cycle: 7_410_101, digest: 7_410_102, pull_figma: 7_410_103, pull_github: 7_410_104, sync_nudge: 7_410_105, prune_keys: 7_410_106,
} as const;
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

/** How far back a schedule's latest occurrence is looked for: a year covers a yearly schedule. */
const occurrence_lookback_days_max = 366;
/** A run missed (service down, DST gap) is still made this long after it was due, even when its period has ended. */
export const missed_run_catch_up_ms_min = 86_400_000;

/** One time a cron schedule names: the instant, and the wall-clock time in the zone it was named in. */
export interface Occurrence {
  at: Date;
  /** `2026-03-29T02:30:00`: the same for both instants of a time an autumn night repeats. */
  local: string;
}

/**
 * The latest time at or before `now` that the cron expression names in the IANA `zone`, or null
 * when there is none in the last year. Cron names wall-clock times, and this reads it so across
 * DST changes: a time in a spring-forward gap (02:30 where clocks jump from 02:00 to 03:00) falls
 * where luxon places it, shifted forward by the gap (03:30); a time an autumn night repeats
 * falls on its first instant. Days, months and weekdays match as node-cron matches them (its
 * own matcher is asked, on the wall clock), so the two never disagree about a day.
 * Throws on an expression node-cron does not accept.
 */
export function latestOccurrence(expression: string, zone: string, now: Date): Occurrence | null {
  const fields = cron.parse(expression);
  // node-cron's matcher in UTC, which has no DST, reads a wall-clock time exactly as written.
  const wallClock = cron.createTask(expression, () => {}, { timezone: 'UTC' });
  try {
    const today = DateTime.fromJSDate(now, { zone }).startOf('day');
    const times = fields.hour.flatMap((hour) => fields.minute.flatMap((minute) => fields.second.map((second) => ({ hour, minute, second }))));
    for (let back = 0; back <= occurrence_lookback_days_max; back++) {
      const day = today.minus({ days: back });
      const first = times[0]!;
      if (!wallClock.match(new Date(Date.UTC(day.year, day.month - 1, day.day, first.hour, first.minute, first.second)))) continue;
      let latest: Occurrence | null = null;
      for (const time of times) {
        const at = wallClockInstant({ year: day.year, month: day.month, day: day.day, ...time }, zone);
        // A gap's times move forward, past later times of the day: compare instants, not the order of the times.
        if (at.getTime() <= now.getTime() && (!latest || at.getTime() > latest.at.getTime())) {
          latest = { at, local: DateTime.fromObject({ year: day.year, month: day.month, day: day.day, ...time }, { zone: 'utc' }).toISO({ includeOffset: false, suppressMilliseconds: true })! };
        }
      }
      if (latest) return latest;
    }
    return null;
  } finally {
    void wallClock.destroy();
  }
}

/** The instant a wall-clock time names in `zone`: its first, if the time occurs twice; shifted by the gap, if it never occurs. */
function wallClockInstant(time: { year: number; month: number; day: number; hour: number; minute: number; second: number }, zone: string): Date {
  const resolved = DateTime.fromObject(time, { zone });
  const asUtc = DateTime.fromObject(time, { zone: 'utc' }).toMillis();
  // The offsets either side of a change: the time occurs under each offset that reads it back.
  const offsets = new Set([resolved.minus({ days: 1 }).offset, resolved.plus({ days: 1 }).offset, resolved.offset]);
  const instants = [...offsets]
    .map((offset) => asUtc - offset * 60_000)
    .filter((ms) => {
      const local = DateTime.fromMillis(ms, { zone });
      return local.day === time.day && local.hour === time.hour && local.minute === time.minute && local.second === time.second;
    });
  return new Date(instants.length > 0 ? Math.min(...instants) : resolved.toMillis());
}

/**
 * A job on a cron schedule, run once per period across replicas: `periodOf` names the period of
 * an instant (the digest's is its ISO week in the org's zone). The latest occurrence at or before
 * `now` is due until its period has a finish mark, so one that fell in a DST gap, or came while
 * the service was down, runs at the next call (at start-up, or on the next five-minute tick). A
 * missed occurrence is caught up while its period lasts, and at least missed_run_catch_up_ms_min
 * after it was due; older ones are let go, so a week-old digest never arrives an hour before the
 * new one. `work` gets the occurrence. Returns `not_due` when nothing is due.
 */
export async function runCronJob<T>(
  db: Database,
  schedule: { job: JobName; cron: string; zone: string; periodOf: (at: Date) => string },
  now: Date,
  work: (occurrence: Occurrence) => Promise<T>,
): Promise<RunResult<T> | { status: 'not_due' }> {
  const occurrence = latestOccurrence(schedule.cron, schedule.zone, now);
  if (!occurrence) return { status: 'not_due' };
  const period = schedule.periodOf(occurrence.at);
  const late = now.getTime() - occurrence.at.getTime() > missed_run_catch_up_ms_min;
  if (late && period !== schedule.periodOf(now)) return { status: 'not_due' };
  return runOncePerPeriod(db, schedule.job, period, now, () => work(occurrence));
}
