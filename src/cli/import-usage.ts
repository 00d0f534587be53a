// creditdesk import-usage <csv>: usage from a file (email or Slack id, credits, date, feature,
// optional event id). An id derived from the row's content stands in when none is given, so
// importing the same file again applies nothing twice. Bad rows are listed by line and fail the run.
import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import { z } from 'zod';
import type { Ledger } from '../ledger/index.ts';
import { identifier, storableString, text } from '../input.ts';
import { batch_events_max, credits_max, event_id_length_max, text_length_max, user_ref_length_max } from '../ledger/limits.ts';
import type { UsageEvent } from '../ledger/usage.ts';
import { column, import_exit, readCsv, type CsvFile } from './csv.ts';

/** The columns import-usage needs, with the other names it accepts for each. */
export const usage_columns = {
  user: { label: 'email', names: ['email', 'user', 'slack id', 'user id'] },
  credits: { label: 'credits', names: ['credits', 'amount'] },
  date: { label: 'date', names: ['date', 'at', 'time', 'timestamp'] },
} as const;

/** A usage file as import-usage reads it; throws CsvFileError (see readCsv) when it is refused as a whole. */
export function readUsageFile(input: Uint8Array | string): CsvFile {
  return readCsv(input, { required: [usage_columns.user, usage_columns.credits, usage_columns.date] });
}

const row_schema = z.object({
  user: z.string({ error: 'has no email or Slack id' }).pipe(text({ max: user_ref_length_max, label: 'user' })),
  credits: z.coerce.number({ error: 'credits must be a number' }).int('credits must be a whole number').positive('credits must be more than 0').max(credits_max),
  date: z.string({ error: 'has no date' }).pipe(storableString('date')),
  feature: text({ max: text_length_max, label: 'feature' }).optional(),
  id: identifier(event_id_length_max, { label: 'event_id' }).optional(),
});

export interface UsageImportSummary {
  rows: number;
  applied: number;
  duplicate: number;
  rejected: { line: number; reason: string }[];
}

/** A date alone means that day (noon, in the org's zone, safely inside it); a time is taken as given. */
function parseDate(text: string, zone: string): Date | null {
  const dateOnly = DateTime.fromFormat(text, 'yyyy-MM-dd', { zone });
  if (dateOnly.isValid) return dateOnly.set({ hour: 12 }).toJSDate();
  const iso = DateTime.fromISO(text, { zone });
  return iso.isValid ? iso.toJSDate() : null;
}

export function usageEventsFromCsv(input: Uint8Array | string | CsvFile, zone: string): { events: (UsageEvent & { line: number })[]; rejected: UsageImportSummary['rejected']; rows: number } {
  const { rows } = typeof input === 'string' || input instanceof Uint8Array ? readUsageFile(input) : input;
  const events: (UsageEvent & { line: number })[] = [];
  const rejected: UsageImportSummary['rejected'] = [];
  const seen = new Map<string, number>();
  for (const row of rows) {
    const parsed = row_schema.safeParse({
      user: column(row, ...usage_columns.user.names),
      credits: column(row, ...usage_columns.credits.names),
      date: column(row, ...usage_columns.date.names),
      feature: column(row, 'feature'),
      id: column(row, 'event id', 'id'),
    });
    if (!parsed.success) {
      rejected.push({ line: row.line, reason: parsed.error.issues.map((i) => i.message).join('; ') });
      continue;
    }
    const at = parseDate(parsed.data.date, zone);
    if (!at) {
      rejected.push({ line: row.line, reason: `date "${parsed.data.date.slice(0, 40)}" is not a date such as 2026-05-20 or 2026-05-20T14:03:00Z` });
      continue;
    }
    const { user, credits, feature } = parsed.data;
    // Two identical rows are two uses (the same member, amount, day and feature twice): the
    // second gets its occurrence in the id, so it is not taken for a repeat of the first, while
    // importing the same file again still yields the same ids.
    const content = [user.toLowerCase(), credits, at.toISOString(), feature ?? ''].join('\u001f');
    const occurrence = (seen.get(content) ?? 0) + 1;
    seen.set(content, occurrence);
    const id = parsed.data.id ?? `csv-${createHash('sha256').update(occurrence === 1 ? content : `${content}\u001f${occurrence}`).digest('hex').slice(0, 32)}`;
    events.push({ line: row.line, id, user, credits, at, feature: feature ?? null, source: 'csv import' });
  }
  return { events, rejected, rows: rows.length };
}

/**
 * Applies a usage file's rows (its bytes, its text, or the file as readUsageFile read it) in
 * batches; each row is `applied`, a `duplicate` of an event applied before, or `rejected` by line.
 * Throws CsvFileError before anything is written when the file is refused as a whole.
 */
export async function importUsage(ledger: Ledger, input: Uint8Array | string | CsvFile): Promise<UsageImportSummary> {
  const { events, rejected, rows } = usageEventsFromCsv(input, ledger.ctx.settings.zone);
  const summary: UsageImportSummary = { rows, applied: 0, duplicate: 0, rejected };
  for (let from = 0; from < events.length; from += batch_events_max) {
    const chunk = events.slice(from, from + batch_events_max);
    const outcomes = await ledger.recordUsageBatch(chunk);
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'applied') summary.applied++;
      else if (outcome.status === 'duplicate') summary.duplicate++;
      else if (outcome.status === 'rejected') summary.rejected.push({ line: chunk[i]!.line, reason: outcome.reason });
    });
  }
  summary.rejected.sort((a, b) => a.line - b.line);
  return summary;
}

/** For the person at the terminal: what was applied, and every row that failed, by line. */
export function usageImportSummary(summary: UsageImportSummary): string {
  const failed = summary.rejected.length;
  const head =
    summary.applied === 0 && failed === 0
      ? `import-usage: no changes, all ${summary.duplicate} row(s) were imported before`
      : `import-usage: applied ${summary.applied} usage event(s); ${summary.duplicate} imported before${failed > 0 ? `; ${failed} of ${summary.rows} row(s) failed` : ''}`;
  return [head, ...(failed > 0 ? [`${failed} row(s) not imported:`, ...summary.rejected.map((r) => `  line ${r.line}: ${r.reason}`)] : [])].join('\n');
}

/** The command's exit code (see import_exit): a row that could not be imported fails the run. */
export function usageImportExitCode(summary: UsageImportSummary): number {
  return summary.rejected.length > 0 ? import_exit.rows_failed : import_exit.ok;
}
