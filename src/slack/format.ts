// Numbers and dates as people read them: thousands separators, dates in the reader's time zone.
import { DateTime } from 'luxon';

export const credits = (value: number) => value.toLocaleString('en-US');

export function date(iso: string | Date, zone: string): string {
  const at = typeof iso === 'string' ? DateTime.fromISO(iso, { zone }) : DateTime.fromJSDate(iso, { zone });
  return at.toFormat('d LLL yyyy');
}

export const percent = (part: number, whole: number) => (whole > 0 ? `${Math.round((part * 100) / whole)} %` : '—');
