// One pull of a connector, whatever the vendor: where it starts (the watermark), what it asks for,
// recording each page as it comes (apply.ts), the run record an admin sees in the App Home, and
// what a failure leaves behind. Each connector module (figma.ts, github.ts) only fetches pages and
// maps the vendor's rows; this file decides everything else.
//
// The watermark is the earliest UTC day whose rows may still grow. A pull fetches from it to today
// and, once it has read everything from there, moves it forward (never back) to the first day that
// may still grow: its vendor's lag decides (settleMs). A pull that dies half way leaves it where it
// was, so the next one reads those days again; two pulls at once read the same days. Neither skips
// a day, and what is read twice is recorded once (vendor_totals).
import type { Database, Queryable } from '../db/client.ts';
import type { Ledger } from '../ledger/index.ts';
import { LedgerError } from '../ledger/errors.ts';
import { toolCycleAt, type Tools } from '../ledger/tools.ts';
import { recordVendorRows, type ConnectorTarget, type RefusedRow, type UnknownPerson, type VendorRow } from './apply.ts';
import { addDays, earlierDay, laterDay, utcDay } from './days.ts';
import { VendorError, type VendorHttp } from './http.ts';
import { counted } from '../words.ts';

/** What one request to the vendor gave: rows, and what the runner may learn from them. */
export interface ConnectorPage {
  rows: VendorRow[];
  /** Rows the vendor sent that could not be read; nothing of them is recorded. */
  malformed?: RefusedRow[];
  /** Every row of the days up to this one has been read (a connector that fetches day by day says so). */
  completedThrough?: string;
  /** Usage the vendor counts for the org that no known person accounts for (GitHub names nobody without a user filter). */
  unattributed?: { day: string; units: number }[];
}

/** What a connector is given for a pull. */
export interface PullContext {
  ledger: Ledger;
  http: VendorHttp;
  /** The tool the usage is recorded in. */
  tool: string;
  /** The UTC days to read, both included. */
  since: string;
  until: string;
}

/** A vendor creditdesk pulls usage from. */
export interface Connector {
  /** Keys its totals, watermark and run records: `figma`, `github`. */
  name: string;
  /** The vendor as people call it. */
  vendor: string;
  /** The variable naming the tool, for messages: FIGMA_TOOL. */
  toolVariable: string;
  /** The tool's key as configured; null: the org's only tool. */
  toolKey: string | null;
  matchBy: ConnectorTarget['matchBy'];
  /** How long after a UTC day ends the vendor may still add to its rows, margin included. */
  settleMs: number;
  /** The earliest day the vendor gives on `today` (Figma: a year back, and nothing before 2025-12-01). */
  earliestDay(today: string): string;
  /** The rows of the days asked for, a page at a time. Throws VendorError when the vendor cannot be read. */
  pages(ctx: PullContext): AsyncIterable<ConnectorPage>;
}

/** Unknown people and refused rows kept in a run record, and shown by the summary; the rest are counted. */
export const run_details_listed_max = 100;
/** How far a vendor's clock may be behind creditdesk's: the last day asked for is today as of this long ago. */
export const vendor_clock_skew_ms = 5 * 60_000;
/** Run records are kept this long; older ones are deleted when a pull starts. */
export const runs_kept_ms = 90 * 86_400_000;

export interface PullSummary {
  connector: string;
  tool: string | null;
  status: 'ok' | 'failed';
  since: string | null;
  until: string | null;
  /** Vendor rows read. */
  rows: number;
  /** Usage events recorded, and the whole units they carried. */
  applied: number;
  units: number;
  /** Rows of known people with nothing new since the last pull. */
  unchanged: number;
  unknown: { count: number; people: UnknownPerson[] };
  refused: { count: number; rows: RefusedRow[] };
  unattributed: { day: string; units: number }[];
  /** Why the pull stopped, for an admin; null when it finished. */
  error: string | null;
}

export interface PullOptions {
  http: VendorHttp;
  /** Read from this UTC day on instead of the watermark (a backfill). */
  since?: string;
}

/** The day a first pull starts on: the UTC day of the tool's current cycle start, so the cycle so far is read. */
async function firstDay(ledger: Ledger, tool: string, now: Date): Promise<string> {
  const tools = await ledger.loadTools();
  return utcDay(toolCycleAt(tools.get(tool), now).start);
}

async function watermarkOf(db: Queryable, connector: string, tool: string): Promise<string | null> {
  const [row] = await db.query<{ day: string }>(`select day::text as day from connector_watermarks where connector = $1 and tool_key = $2`, [connector, tool]);
  return row?.day ?? null;
}

/**
 * Moves the watermark forward to `day`, but only when the pull read everything from where the
 * watermark stands (it read from `since`, at or before it): a backfill of later days moves nothing.
 */
async function advanceWatermark(db: Queryable, connector: string, tool: string, since: string, day: string, now: Date): Promise<void> {
  await db.query(
    `insert into connector_watermarks as w (connector, tool_key, day, updated_at) values ($1, $2, $3::date, $5)
     on conflict (connector, tool_key) do update set day = greatest(w.day, excluded.day), updated_at = excluded.updated_at
     where w.day >= $4::date`,
    [connector, tool, day, since, now],
  );
}

/** The tool a connector records in: the one its variable names, else the org's only one. */
function pickTool(tools: Tools, connector: Connector): string {
  if (connector.toolKey) {
    if (tools.byKey.has(connector.toolKey)) return connector.toolKey;
    throw new VendorError(`${connector.toolVariable} names the tool ${connector.toolKey}, which creditdesk does not have; the tools are ${tools.keys()}`, 'config');
  }
  if (tools.size === 1) return tools.list[0]!.key;
  throw new VendorError(`set ${connector.toolVariable} to the tool ${connector.vendor}'s usage is recorded in: one of ${tools.keys()}`, 'config');
}

function emptySummary(connector: Connector): PullSummary {
  return {
    connector: connector.name, tool: connector.toolKey, status: 'ok', since: null, until: null, rows: 0, applied: 0, units: 0, unchanged: 0,
    unknown: { count: 0, people: [] }, refused: { count: 0, rows: [] }, unattributed: [], error: null,
  };
}

/** Adds a page's outcome to the summary: people are counted once each, rows summed. */
function addUp(summary: PullSummary, unknownByName: Map<string, UnknownPerson>, page: Awaited<ReturnType<typeof recordVendorRows>>): void {
  summary.rows += page.rows;
  summary.applied += page.applied;
  summary.units += page.units;
  summary.unchanged += page.unchanged;
  for (const person of page.unknown) {
    const known = unknownByName.get(person.vendorUser) ?? { vendorUser: person.vendorUser, rows: 0, units: 0 };
    known.rows += person.rows;
    known.units += person.units;
    unknownByName.set(person.vendorUser, known);
  }
  summary.refused.count += page.refused.length;
  summary.refused.rows.push(...page.refused.slice(0, run_details_listed_max - summary.refused.rows.length));
}

async function startRun(db: Database, connector: Connector, now: Date): Promise<number> {
  await db.query(`delete from connector_runs where connector = $1 and started_at < $2`, [connector.name, new Date(now.getTime() - runs_kept_ms)]);
  const [run] = await db.query<{ id: number }>(
    `insert into connector_runs (connector, tool_key, status, started_at) values ($1, $2, 'running', $3) returning id`,
    [connector.name, connector.toolKey, now],
  );
  return run!.id;
}

async function finishRun(db: Database, id: number, summary: PullSummary, now: Date): Promise<void> {
  await db.query(
    `update connector_runs set status = $2, finished_at = $3, tool_key = $4, since = $5::date, until = $6::date, rows = $7, applied = $8,
       units = $9, unknown_count = $10, refused_count = $11, details = $12::jsonb, error = $13
     where id = $1`,
    [
      id, summary.status, now, summary.tool, summary.since, summary.until, summary.rows, summary.applied, summary.units,
      summary.unknown.count, summary.refused.count,
      JSON.stringify({ unknown: summary.unknown.people, refused: summary.refused.rows, unattributed: summary.unattributed }), summary.error,
    ],
  );
}

/**
 * Pulls `connector` once: from `options.since`, else the watermark, else the start of the tool's
 * current cycle (a first pull), to today (UTC), clamped to what the vendor gives. Each page is
 * recorded as it arrives, so a failure keeps what came before it. The run is recorded for the App
 * Home whatever happens.
 * Out: the summary; `status: 'failed'` with `error` when the vendor could not be read (a token
 * refused, rate limits past what a pull waits, the vendor down) or the tool is not there. Throws
 * only on a bug or an unreachable database, after recording the run as failed where it can.
 */
export async function runPull(ledger: Ledger, connector: Connector, options: PullOptions): Promise<PullSummary> {
  const { db } = ledger.ctx;
  const started = ledger.ctx.now();
  const runId = await startRun(db, connector, started);
  const summary = emptySummary(connector);
  const unknownByName = new Map<string, UnknownPerson>();
  try {
    const tool = pickTool(await ledger.loadTools(), connector);
    summary.tool = tool;
    // Asked a few minutes behind, so a pull at midnight never names a day the vendor's clock has not reached.
    const today = utcDay(new Date(started.getTime() - vendor_clock_skew_ms));
    const mark = await watermarkOf(db, connector.name, tool);
    const since = laterDay(options.since ?? mark ?? (await firstDay(ledger, tool, started)), connector.earliestDay(today));
    summary.since = since;
    summary.until = today;
    if (since > today) throw new VendorError(`nothing to pull: ${since} is after today (${today}, UTC)`, 'config');
    // The first day that may still grow, as of this pull's start: the watermark never passes it.
    const settled = earlierDay(utcDay(new Date(started.getTime() - connector.settleMs)), today);
    const readFrom = mark ?? since;
    const target: ConnectorTarget = { connector: connector.name, tool, matchBy: connector.matchBy, source: `${connector.name} pull` };
    for await (const page of connector.pages({ ledger, http: options.http, tool, since, until: today })) {
      const recorded = await recordVendorRows(ledger, target, page.rows);
      addUp(summary, unknownByName, { ...recorded, refused: [...(page.malformed ?? []), ...recorded.refused], rows: recorded.rows + (page.malformed?.length ?? 0) });
      summary.unattributed.push(...(page.unattributed ?? []));
      if (page.completedThrough && since <= readFrom) {
        await advanceWatermark(db, connector.name, tool, since, earlierDay(addDays(page.completedThrough, 1), settled), ledger.ctx.now());
      }
    }
    if (since <= readFrom) await advanceWatermark(db, connector.name, tool, since, laterDay(settled, since), ledger.ctx.now());
  } catch (error) {
    summary.status = 'failed';
    if (error instanceof VendorError || error instanceof LedgerError) {
      summary.error = error.message;
    } else {
      summary.error = 'internal error while pulling; it is logged, and the next pull tries again';
      closeSummary(summary, unknownByName);
      await finishRun(db, runId, summary, ledger.ctx.now()).catch(() => {});
      throw error;
    }
  }
  closeSummary(summary, unknownByName);
  await finishRun(db, runId, summary, ledger.ctx.now());
  return summary;
}

function closeSummary(summary: PullSummary, unknownByName: Map<string, UnknownPerson>): void {
  const people = [...unknownByName.values()].sort((a, b) => b.units - a.units || (a.vendorUser < b.vendorUser ? -1 : 1));
  summary.unknown = { count: people.length, people: people.slice(0, run_details_listed_max) };
}

/** The pull for the person at the terminal: what it read and recorded, whom it did not know, what was refused, why it stopped. */
export function pullSummaryText(summary: PullSummary): string {
  const n = (value: number) => value.toLocaleString('en-US');
  const units = (value: number) => counted(value, 'unit');
  const rows = (value: number) => counted(value, 'row');
  const lines = [
    `pull ${summary.connector}${summary.tool ? ` into ${summary.tool}` : ''}${summary.since ? `, ${summary.since} to ${summary.until} (UTC)` : ''}: ` +
      `${rows(summary.rows)} read; ${counted(summary.applied, 'usage event')} recorded, ${units(summary.units)}; ${rows(summary.unchanged)} with nothing new`,
  ];
  if (summary.unknown.count > 0) {
    lines.push(`${counted(summary.unknown.count, 'person', 'people')} creditdesk does not know (no seat in the tool with that email or vendor login), not recorded:`);
    for (const p of summary.unknown.people) lines.push(`  ${p.vendorUser}: ${rows(p.rows)}, ${units(p.units)}`);
    if (summary.unknown.count > summary.unknown.people.length) lines.push(`  and ${n(summary.unknown.count - summary.unknown.people.length)} more (the JSON on stdout lists the first ${run_details_listed_max})`);
  }
  for (const u of summary.unattributed) lines.push(`${u.day}: ${units(u.units)} the vendor counts for the organisation that no seat's vendor login accounts for`);
  if (summary.refused.count > 0) {
    lines.push(`${rows(summary.refused.count)} refused, not recorded:`);
    for (const r of summary.refused.rows) lines.push(`  ${r.vendorUser} ${r.day} ${r.kind}: ${r.reason}`);
    if (summary.refused.count > summary.refused.rows.length) lines.push(`  and ${n(summary.refused.count - summary.refused.rows.length)} more`);
  }
  if (summary.error) lines.push(`the pull stopped: ${summary.error}`);
  return lines.join('\n');
}
