// creditdesk import-usage <csv>: usage from a file (email or Slack id, credits, date, feature,
// optional event id and tool). An id derived from the row's content stands in when none is given,
// so importing the same file again applies nothing twice. Bad rows are listed by line and fail the run.
// With --format github, GitHub's premium request usage report instead (see below).
import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import { z } from 'zod';
import type { Ledger } from '../ledger/index.ts';
import { recordVendorRows, type VendorRow } from '../connectors/apply.ts';
import { isDay } from '../connectors/days.ts';
import { githubModelKey, premium_request_unit } from '../connectors/github.ts';
import { csvCellsProblem, identifier, storableString, text } from '../input.ts';
import { batch_events_max, credits_max, event_id_length_max, text_length_max, user_ref_length_max } from '../ledger/limits.ts';
import { default_tool_key, type Tool, type Tools } from '../ledger/tools.ts';
import type { UsageEvent } from '../ledger/usage.ts';
import { column, import_exit, readCsv, type CsvFile } from './csv.ts';
import { counted, noun } from '../words.ts';

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
  tool: text({ max: text_length_max, label: 'tool' }).optional(),
});

export interface UsageImportSummary {
  rows: number;
  applied: number;
  duplicate: number;
  rejected: { line: number; reason: string }[];
}

/** The tool of every row, as import-usage reads them: the org's tools, and --tool if given. */
export interface UsageFileTools {
  tools: Tools;
  /** --tool: the tool of the rows that name none; a row naming another one is refused. */
  tool: Tool | null;
}

/**
 * A row's time. A full ISO time is taken as given (the org's zone when it names none). A date
 * alone (2026-12-01) is that day in the row's tool's zone: at 12:00, safely inside the day, or,
 * while 12:00 is still to come on that day (a row dated today, imported in the morning), the
 * import's now, so the row is not refused as in the future. A later day stays at 12:00, and the
 * ledger refuses it as in the future.
 * `nominal` is what the row's derived id is made of: the time as given, for a date alone 12:00 in
 * the org's zone (as ids were derived before there were several tools), the same whenever the
 * file is imported. Null when the text is neither.
 */
export function usageTime(text: string, zones: { org: string; tool: string }, now: Date): { at: Date; nominal: Date } | null {
  const orgDay = DateTime.fromFormat(text, 'yyyy-MM-dd', { zone: zones.org });
  if (orgDay.isValid) {
    const nominal = orgDay.set({ hour: 12 }).toJSDate();
    const day = DateTime.fromFormat(text, 'yyyy-MM-dd', { zone: zones.tool });
    const noon = day.set({ hour: 12 }).toJSDate();
    const at = noon > now && now >= day.toJSDate() ? now : noon;
    return { at, nominal };
  }
  const iso = DateTime.fromISO(text, { zone: zones.org });
  return iso.isValid ? { at: iso.toJSDate(), nominal: iso.toJSDate() } : null;
}

/**
 * A row's tool: its `tool` cell (a tool key, in any case), else --tool, else the org's only tool.
 * Out: the tool, or why the row is refused (an unknown key, listing the keys; a key other than
 * --tool's; no tool named while the org has several, SPEC "Several tools").
 */
function rowTool(cell: string | undefined, choice: UsageFileTools): Tool | string {
  const { tools, tool } = choice;
  if (cell !== undefined) {
    const named = tools.byKey.get(cell.trim().toLowerCase());
    if (!named) return `tool "${cell.slice(0, 40)}" is not a tool here; the tools are ${tools.keys()}`;
    if (tool && named.key !== tool.key) return `names the tool ${named.key}, but --tool is ${tool.key}: import each tool's rows with its own --tool, or leave --tool out`;
    return named;
  }
  if (tool) return tool;
  if (tools.size === 1) return tools.list[0]!;
  return `names no tool: give it one in a tool column, or import the file with --tool KEY, one of ${tools.keys()}`;
}

/**
 * A usage file's rows as usage events, each with its line, and the rows refused by line (a cell
 * that cannot be read, a date that is not one, a tool that is not one: see rowTool). Times as
 * usageTime reads them, at `now`; `zone` is the org's.
 * A row without an event id gets one derived from its user, credits, nominal time, feature and,
 * unless it is the tool `default` (so files imported while that was the only tool keep their
 * ids), its tool: importing the same file again, on any day, yields the same ids.
 */
export function usageEventsFromCsv(
  input: Uint8Array | string | CsvFile,
  context: UsageFileTools & { zone: string; now: Date },
): { events: (UsageEvent & { line: number })[]; rejected: UsageImportSummary['rejected']; rows: number } {
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
      tool: column(row, 'tool'),
    });
    if (!parsed.success) {
      rejected.push({ line: row.line, reason: parsed.error.issues.map((i) => i.message).join('; ') });
      continue;
    }
    const tool = rowTool(parsed.data.tool, context);
    if (typeof tool === 'string') {
      rejected.push({ line: row.line, reason: tool });
      continue;
    }
    const time = usageTime(parsed.data.date, { org: context.zone, tool: tool.zone }, context.now);
    if (!time) {
      rejected.push({ line: row.line, reason: `date "${parsed.data.date.slice(0, 40)}" is not a date such as 2026-05-20 or 2026-05-20T14:03:00Z` });
      continue;
    }
    const { user, credits, feature } = parsed.data;
    // Two identical rows are two uses (the same member, amount, day, feature and tool twice): the
    // second gets its occurrence in the id, so it is not taken for a repeat of the first, while
    // importing the same file again still yields the same ids.
    const content = [user.toLowerCase(), credits, time.nominal.toISOString(), feature ?? '', ...(tool.key === default_tool_key ? [] : [`tool:${tool.key}`])].join('\u001f');
    const occurrence = (seen.get(content) ?? 0) + 1;
    seen.set(content, occurrence);
    const id = parsed.data.id ?? `csv-${createHash('sha256').update(occurrence === 1 ? content : `${content}\u001f${occurrence}`).digest('hex').slice(0, 32)}`;
    events.push({ line: row.line, id, user, tool: tool.key, credits, at: time.at, feature: feature ?? null, source: 'csv import' });
  }
  return { events, rejected, rows: rows.length };
}

/**
 * Applies a usage file's rows (its bytes, its text, or the file as readUsageFile read it) in
 * batches; each row is `applied`, a `duplicate` of an event applied before, or `rejected` by line.
 * `tool` (--tool): the key of the tool of the rows that name none (see usageEventsFromCsv).
 * Throws CsvFileError before anything is written when the file is refused as a whole, and a
 * LedgerError (not_found, listing the tool keys) when `tool` names no tool.
 */
export async function importUsage(ledger: Ledger, input: Uint8Array | string | CsvFile, options: { tool?: string | null } = {}): Promise<UsageImportSummary> {
  const tools = await ledger.loadTools();
  const tool = options.tool ? tools.get(options.tool) : null;
  const { events, rejected, rows } = usageEventsFromCsv(input, { tools, tool, zone: ledger.ctx.settings.zone, now: ledger.ctx.now() });
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
      ? `import-usage: no changes, ${summary.duplicate === 1 ? 'the one row was' : `all ${counted(summary.duplicate, 'row')} were`} imported before`
      : `import-usage: applied ${counted(summary.applied, 'usage event')}; ${summary.duplicate} imported before${failed > 0 ? `; ${failed} of ${counted(summary.rows, 'row')} failed` : ''}`;
  return [head, ...(failed > 0 ? [`${counted(failed, 'row')} not imported:`, ...summary.rejected.map((r) => `  line ${r.line}: ${r.reason}`)] : [])].join('\n');
}

/** The command's exit code (see import_exit): a row that could not be imported fails the run. */
export function usageImportExitCode(summary: UsageImportSummary): number {
  return summary.rejected.length > 0 ? import_exit.rows_failed : import_exit.ok;
}

// --format github: GitHub's premium request usage report, as its billing pages export it
// (docs.github.com/billing, "About usage reports"). Columns are found by header name: date (UTC),
// product, sku, model, quantity, unit_type, applied_cost_per_quantity, gross_amount,
// discount_amount, net_amount, username, organization, cost_center_name; only date, username and
// quantity are needed. quantity is fractional (a model with a 0.33x multiplier counts 0.33 of a
// premium request): a login's quantities of one UTC day and model are summed over the file's rows
// (a model's SKUs, such as chat and the coding agent, add up) and the sum is rounded once to the
// nearest whole request, halves up (connectors/apply.ts, wholeUnits). Members are matched by their
// seat's vendor_user (the GitHub login) in the tool. The rows share their running totals with
// `creditdesk pull github`, so importing after a pull, or the same report twice, records nothing
// twice; a report exported again later records what grew.

/** The columns the GitHub report must have, with other names accepted for each. */
export const github_usage_columns = {
  date: { label: 'date', names: ['date'] },
  username: { label: 'username', names: ['username', 'user', 'login'] },
  quantity: { label: 'quantity', names: ['quantity'] },
} as const;

/** GitHub's report as import-usage --format github reads it; throws CsvFileError when it is refused as a whole. */
export function readGithubUsageFile(input: Uint8Array | string): CsvFile {
  return readCsv(input, { required: [github_usage_columns.date, github_usage_columns.username, github_usage_columns.quantity] });
}

/** A report's rows summed per login, UTC day and model, with the rows that cannot be read and those of another unit. */
export interface GithubReportRows {
  rows: VendorRow[];
  rejected: { line: number; reason: string }[];
  /** Rows whose unit_type is not premium requests (`requests`): skipped. */
  otherUnits: number;
}

const github_quantity = /^\d+(?:\.\d+)?$/;

/**
 * The report's rows as vendor rows: one per login, UTC day and model, its quantity the sum of the
 * file's rows (kept fractional: recordVendorRows rounds each total once). A row without a
 * username, with a date that is not a day (2026-05-20, or a time on it) or with a quantity that is
 * not a number of 0 or more is rejected by its line; a row whose unit_type is not `requests` is
 * skipped and counted.
 */
export function githubReportRows(file: CsvFile): GithubReportRows {
  const byKey = new Map<string, VendorRow>();
  const rejected: GithubReportRows['rejected'] = [];
  let otherUnits = 0;
  for (const row of file.rows) {
    const unit = column(row, 'unit_type');
    if (unit && unit.trim().toLowerCase() !== premium_request_unit) {
      otherUnits++;
      continue;
    }
    const cells = csvCellsProblem(row.values);
    const login = column(row, ...github_usage_columns.username.names)?.trim();
    const date = column(row, ...github_usage_columns.date.names)?.trim() ?? '';
    const quantityText = column(row, ...github_usage_columns.quantity.names)?.trim() ?? '';
    const day = date.slice(0, 10);
    if (cells) rejected.push({ line: row.line, reason: cells });
    else if (!login) rejected.push({ line: row.line, reason: 'has no username' });
    else if (!isDay(day) || !/^(?:$|[T ])/.test(date.slice(10))) rejected.push({ line: row.line, reason: `date "${date.slice(0, 40)}" is not a day such as 2026-05-20` });
    else if (!github_quantity.test(quantityText)) rejected.push({ line: row.line, reason: `quantity "${quantityText.slice(0, 40)}" is not a number of 0 or more, such as 1 or 0.33` });
    else {
      const model = (column(row, 'model') ?? column(row, 'sku') ?? 'unknown model').trim();
      const vendorUser = login.toLowerCase();
      const key = `${vendorUser}\u001f${day}\u001f${githubModelKey(model)}`;
      const summed = byKey.get(key) ?? { vendorUser, day, kind: githubModelKey(model), total: 0, feature: model, lines: [] };
      summed.total += Number(quantityText);
      summed.lines!.push(row.line);
      byKey.set(key, summed);
    }
  }
  return { rows: [...byKey.values()], rejected, otherUnits };
}

export interface GithubImportSummary {
  /** The file's rows. */
  rows: number;
  tool: string;
  /** Usage events recorded, and the premium requests they carried. */
  applied: number;
  units: number;
  /** Sums (login, day, model) recorded before, by an earlier import or pull. */
  unchanged: number;
  /** Rows of another unit than premium requests, skipped. */
  otherUnits: number;
  /** Logins no seat in the tool carries as vendor_user: their rows and the premium requests they hold. */
  unknown: { username: string; rows: number; quantity: number }[];
  rejected: { line: number; reason: string }[];
}

/** Sums recorded in one transaction: a large report commits in steps, each one whole. */
const github_rows_per_transaction_max = 1_000;

/**
 * Records a premium request usage report (as readGithubUsageFile read it) in `tool` (the tool's
 * key; null: the org's only tool). Out: what was recorded, the logins creditdesk does not know
 * (not recorded; listed with their rows), and every row that failed, by line.
 * Throws a LedgerError (invalid) when no tool is named and the org has several.
 */
export async function importGithubUsage(ledger: Ledger, file: CsvFile, tool: string | null): Promise<GithubImportSummary> {
  const toolKey = (await ledger.loadTools()).pick(tool, 'import-usage --format github (set --tool or GITHUB_TOOL)').key;
  const { rows, rejected, otherUnits } = githubReportRows(file);
  rows.sort((a, b) => (a.vendorUser < b.vendorUser ? -1 : a.vendorUser > b.vendorUser ? 1 : 0));
  const summary: GithubImportSummary = { rows: file.rows.length, tool: toolKey, applied: 0, units: 0, unchanged: 0, otherUnits, unknown: [], rejected };
  const target = { connector: 'github', tool: toolKey, matchBy: 'vendor_user', source: 'github csv import' } as const;
  const unknown = new Set<string>();
  for (let from = 0; from < rows.length; from += github_rows_per_transaction_max) {
    const recorded = await recordVendorRows(ledger, target, rows.slice(from, from + github_rows_per_transaction_max));
    summary.applied += recorded.applied;
    summary.units += recorded.units;
    summary.unchanged += recorded.unchanged;
    for (const person of recorded.unknown) unknown.add(person.vendorUser);
    for (const refused of recorded.refused) for (const line of refused.lines ?? []) summary.rejected.push({ line, reason: refused.reason });
  }
  const byLogin = new Map<string, { username: string; rows: number; quantity: number }>();
  for (const row of rows) {
    if (!unknown.has(row.vendorUser)) continue;
    const entry = byLogin.get(row.vendorUser) ?? { username: row.vendorUser, rows: 0, quantity: 0 };
    entry.rows += row.lines?.length ?? 1;
    entry.quantity = Math.round((entry.quantity + row.total) * 1e6) / 1e6;
    byLogin.set(row.vendorUser, entry);
  }
  summary.unknown = [...byLogin.values()];
  summary.rejected.sort((a, b) => a.line - b.line);
  return summary;
}

/** For the person at the terminal: what was recorded, the logins creditdesk does not know, and every row that failed. */
export function githubImportSummary(summary: GithubImportSummary): string {
  const n = (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: 2 });
  const lines = [
    `import-usage --format github into ${summary.tool}: ${counted(summary.applied, 'usage event')} recorded, ${n(summary.units)} ${noun(summary.units, 'premium request')}; ` +
      `${counted(summary.unchanged, 'sum')} of login, day and model recorded before` +
      (summary.otherUnits > 0 ? `; ${counted(summary.otherUnits, 'row')} of another unit than premium requests skipped` : ''),
  ];
  if (summary.unknown.length > 0) {
    const rowsOf = summary.unknown.reduce((sum, u) => sum + u.rows, 0);
    lines.push(`${counted(summary.unknown.length, 'username')} no seat in ${summary.tool} carries as vendor_user, ${counted(rowsOf, 'row')} not recorded (give each a seat in the tool whose vendor_user is that GitHub login, then import the file again):`);
    for (const u of summary.unknown) lines.push(`  ${u.username}: ${counted(u.rows, 'row')}, ${n(u.quantity)} ${noun(u.quantity, 'premium request')}`);
  }
  if (summary.rejected.length > 0) {
    lines.push(`${counted(summary.rejected.length, 'row')} not imported:`, ...summary.rejected.map((r) => `  line ${r.line}: ${r.reason}`));
  }
  return lines.join('\n');
}

/** The command's exit code (see import_exit): a row not recorded, for want of a seat or by refusal, fails the run. */
export function githubImportExitCode(summary: GithubImportSummary): number {
  return summary.rejected.length > 0 || summary.unknown.length > 0 ? import_exit.rows_failed : import_exit.ok;
}
