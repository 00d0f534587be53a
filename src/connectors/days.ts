// Vendor rows are per UTC day (Figma's `day`, GitHub's `date`: "All usage is logged in UTC"). Days
// travel as `YYYY-MM-DD` strings, as PostgreSQL's date columns give them back; these helpers are
// the only place they are turned into instants.

const day_ms = 86_400_000;
const day_pattern = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The UTC day of an instant, `YYYY-MM-DD`. */
export const utcDay = (at: Date): string => at.toISOString().slice(0, 10);

/** Whether `text` is a real calendar day written `YYYY-MM-DD` (2026-02-30 is not). */
export function isDay(text: string): boolean {
  const match = day_pattern.exec(text);
  if (!match) return false;
  const at = new Date(`${text}T00:00:00Z`);
  return Number.isFinite(at.getTime()) && utcDay(at) === text;
}

/** The instant a UTC day starts. */
export const dayStart = (day: string): Date => new Date(`${day}T00:00:00Z`);

export const addDays = (day: string, days: number): string => utcDay(new Date(dayStart(day).getTime() + days * day_ms));

/** Every day from `since` to `until`, both included, in order; none when `since` is later. */
export function daysFrom(since: string, until: string): string[] {
  const days: string[] = [];
  for (let day = since; day <= until; day = addDays(day, 1)) days.push(day);
  return days;
}

export const laterDay = (a: string, b: string) => (a > b ? a : b);
export const earlierDay = (a: string, b: string) => (a < b ? a : b);

/**
 * When a vendor row of `day` is charged: the latest moment of that UTC day that is not after
 * `now`. A day that has ended is charged at its last millisecond, a row of today at `now`; either
 * way the instant lies inside the vendor's day, so the usage lands in the cycle (and in the daily
 * limit's day) that holds the end of the day, and a late day is as close to now as it can be, so
 * the ledger's grace window for late events reaches as far back as it can. A UTC day that
 * straddles a cycle boundary of the org's zone is charged whole to the cycle its last moment
 * falls in: the vendor does not split a day.
 */
export function chargeInstant(day: string, now: Date): Date {
  const start = dayStart(day).getTime();
  const last = start + day_ms - 1;
  return new Date(Math.max(start, Math.min(last, now.getTime())));
}
