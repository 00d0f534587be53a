// creditdesk import-seats <csv>: the vendor admin console's user export (Email, First Name, Last
// Name, Product Configurations, User Groups, ...) into seats. Product configurations map to plans
// (of one or several tools: one seat per tool, a member's plans of one tool stacked on it) and
// profiles through a small JSON file or flags; members are matched to Slack by email. A dry run
// shows what would change; running the same file again changes nothing; rows that cannot be
// imported are listed by line and fail the run.
import { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { csvCellsProblem } from '../input.ts';
import { LedgerError, type Ledger } from '../ledger/index.ts';
import { upsertMember } from '../ledger/members.ts';
import type { Tools } from '../ledger/tools.ts';
import { column, import_exit, readCsv, type CsvFile, type CsvRow } from './csv.ts';
import { counted } from '../words.ts';

/** Entries a mapping file may hold: far more than any console has product configurations. */
export const mapping_entries_max = 1_000;

const mapping_entry_schema = z.strictObject({
  /** A product configuration or user group of the export, matched as compileMapping says. */
  match: z.string().trim().min(1, 'must name a product configuration or user group'),
  /** The plan the row gets; its tool is the tool of the seat (plan keys are unique across tools). */
  plan: z.string().trim().min(1, 'must name a plan key'),
  /** The profile of that seat; it must be of the plan's tool. */
  profile: z.string().trim().min(1, 'must name a profile key').optional(),
});

/**
 * A mapping file in one of two forms:
 * - `plans` (the first form, for an org with one tool): configuration -> plan key; a row gets, in
 *   each tool, the plan of the first entry in the file's order that matches it;
 * - `entries` (several plans, several tools): a list of `{match, plan, profile?}`; a row gets the
 *   plan of every entry that matches it, plans of one tool stacked on one seat, one seat per tool.
 * Both take `profiles` (configuration or user group -> profile key; in each tool, the first match
 * of that tool's profiles), `default_plan`, `default_profile` and `vendor_user_columns` (tool key ->
 * the export's column holding the member's login at that vendor, such as a GitHub username).
 */
export const mapping_schema = z
  .strictObject({
    /** A product configuration (or user group) -> plan key, the first match per tool (see compileMapping). */
    plans: z.record(z.string(), z.string()).default({}),
    /** Every matching entry gives its plan: several plans of one tool stack on one seat. */
    entries: z.array(mapping_entry_schema).max(mapping_entries_max).optional(),
    /** The same as `plans` for profile keys. */
    profiles: z.record(z.string(), z.string()).default({}),
    /** The plan of a row that lists no product configuration at all (never of one whose products map to nothing). */
    default_plan: z.string().optional(),
    /** The profile of a seat of its tool that no entry gives a profile. */
    default_profile: z.string().optional(),
    /** Tool key -> the export's column holding the member's vendor login for that tool's seat. */
    vendor_user_columns: z.record(z.string(), z.string().trim().min(1, 'must name a column of the export')).optional(),
  })
  .refine((m) => !(m.entries && Object.keys(m.plans).length > 0), {
    path: ['entries'],
    message: 'give either "plans" (one plan per tool, the first match) or "entries" (every match), not both',
  });
export type SeatMapping = z.infer<typeof mapping_schema>;

/**
 * The mapping names what creditdesk does not have at all (a tool of `vendor_user_columns`): no
 * row can be imported as meant, so nothing is, and the message says what to fix.
 */
export class SeatMappingError extends Error {
  override name = 'SeatMappingError';
}

export type SeatChange = 'create' | 'restore' | 'update' | 'unchanged';

/** What a seat held before the import: its plans (sorted), profile and vendor login. */
export interface SeatState {
  plans: string[];
  profile: string | null;
  vendorUser: string | null;
}

/** One seat of one row: a row whose products map to plans of two tools has two. */
export interface SeatImportLine {
  line: number;
  email: string;
  slackId: string | null;
  tool: string;
  /** The first of `plans`, as the ledger's seat results name it. */
  plan: string;
  /** Every plan the seat holds after the import, all of `tool`; their credits stack. */
  plans: string[];
  profile: string | null;
  /** The row's vendor login for this tool, when the mapping names its column and the row fills it. */
  vendorUser?: string;
  change: SeatChange;
  /** Plans the seat gains (all of them for a new seat) and loses; a lost plan forfeits what it has left. */
  added: string[];
  removed: string[];
  /** The seat as it was; null when there was none. */
  before: SeatState | null;
  /** Credits the removed plans had left this cycle, forfeited (a real run that removed any). */
  forfeited?: number;
}

/** How many seats of a tool the import creates, restores, updates and finds unchanged. */
export interface SeatImportToolCounts {
  tool: string;
  /** Whether a plan of the mapping is of this tool; the seats of a tool it does not name are left alone. */
  mapped: boolean;
  create: number;
  restore: number;
  update: number;
  unchanged: number;
}

export interface SeatImportResult {
  dryRun: boolean;
  /** Rows the file holds. */
  rows: number;
  /** Every tool of the org, in the order they were added, with its counts. */
  tools: SeatImportToolCounts[];
  seats: SeatImportLine[];
  /**
   * Rows (or one tool's seat of a row, with `tool`) that could not be imported, by line, with the
   * reason: each one makes the import fail.
   */
  unmatched: { line: number; email: string | null; tool?: string; reason: string }[];
  /** Rows whose email Slack did not know: their seats are kept by email until they join Slack. */
  notInSlack: { line: number; email: string }[];
}

/** Finds a Slack user id by email (users.lookupByEmail); null when Slack has no such user. */
export type SlackLookup = (email: string) => Promise<string | null>;

/** Slack's rate-limit retries for one lookup, bounded so a long export cannot hang for half an hour. */
const lookup_retries_max = 3;
const lookup_retry_time_ms_max = 30_000;

/** users.lookupByEmail; Slack's users_not_found is no match, any other refusal stops the import. */
export function slackLookup(token: string, apiUrl?: string): SlackLookup {
  const client = new WebClient(token, { slackApiUrl: apiUrl, retryConfig: { retries: lookup_retries_max, maxRetryTime: lookup_retry_time_ms_max } });
  return async (email) => {
    try {
      const found = await client.users.lookupByEmail({ email });
      return found.user?.id ?? null;
    } catch (error) {
      const code = (error as { data?: { error?: string } }).data?.error;
      if (code === 'users_not_found') return null;
      if (code === 'missing_scope') throw new Error('Slack refused users.lookupByEmail (missing_scope): reinstall the app with the users:read.email scope');
      throw error;
    }
  };
}

const email_schema = z.email();

/** A folded name: trimmed, runs of spaces as one, lower-case ("Creative Cloud PRO" is "Creative Cloud Pro"). */
const fold = (name: string) => name.trim().replace(/\s+/g, ' ').toLowerCase();

/** The products of one cell: the export lists several configurations in one cell, comma-separated. */
export function productsIn(cell: string | undefined): string[] {
  return (cell ?? '').split(/[,;]/).map((v) => v.trim()).filter(Boolean);
}

/** One product configuration (or user group) that a mapping entry names. */
export interface MappingMatch {
  /** The configuration as the export spells it. */
  product: string;
  /** The mapping's key that matched it. */
  key: string;
  /** What the key maps to: a plan or profile key. */
  value: string;
}

/** A mapping's entries, in the mapping's order, each ready to test a configuration name. */
export type CompiledMapping = { key: string; value: string; matches: (product: string) => boolean }[];

/**
 * A test of configuration names for one mapping key, case-insensitive and with runs of spaces as
 * one: the key matches
 * - exactly (`Design`),
 * - as the product name before its configuration suffix: `Creative Cloud Pro` matches
 *   `Creative Cloud Pro - Default Configuration` and `Creative Cloud Pro - Marketing`, not
 *   `Creative Cloud Pro Plus - Default Configuration`,
 * - as a pattern when it holds `*`, which stands for any run of characters and must match the
 *   whole name: `*Acrobat*` matches `Default Acrobat Pro DC configuration`.
 */
function nameMatcher(key: string): (product: string) => boolean {
  const folded = fold(key);
  if (folded.includes('*')) {
    const literal = (part: string) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const pattern = new RegExp(`^${folded.split('*').map(literal).join('.*')}$`, 's');
    return (product) => pattern.test(fold(product));
  }
  return (product) => fold(product) === folded || fold(product).startsWith(`${folded} - `);
}

/** The entries of a mapping (`plans` or `profiles`) as tests, in the file's order (see nameMatcher). */
export function compileMapping(entries: Record<string, string>): CompiledMapping {
  return Object.entries(entries).map(([key, value]) => ({ key, value, matches: nameMatcher(key) }));
}

/**
 * Every (entry, product) pair where the entry matches the product: entries in the mapping's
 * order, products in the row's. A pure function of its input; the caller decides whether the
 * first match counts (`plans`, profiles) or every one (`entries`).
 */
export function matchProducts(products: readonly string[], mapping: CompiledMapping): MappingMatch[] {
  return mapping.flatMap((entry) => products.filter(entry.matches).map((product) => ({ product, key: entry.key, value: entry.value })));
}

/** The columns of the vendor's user export that import-seats reads, with the names other exports use. */
export const seat_columns = {
  email: { label: 'Email', names: ['Email', 'Email Address', 'E-mail', 'Username'] },
  products: { label: 'Product Configurations', names: ['Product Configurations', 'Product Configuration', 'Product Profiles', 'Products', 'User Groups'] },
} as const;

/**
 * The user export as import-seats reads it: an Email column always, a Product Configurations (or
 * User Groups) column unless a default plan stands in for it, and every vendor login column the
 * mapping names. Throws CsvFileError (see readCsv) when the file is refused as a whole.
 */
export function readSeatExport(input: Uint8Array | string, mapping: SeatMapping): CsvFile {
  const vendorColumns = Object.values(mapping.vendor_user_columns ?? {}).map((name) => ({ label: name, names: [name] }));
  const required = mapping.default_plan ? [seat_columns.email] : [seat_columns.email, seat_columns.products];
  return readCsv(input, { required: [...required, ...vendorColumns] });
}

/** A plan rule of either mapping form: the key as written, the plan, and the profile an entry names. */
interface PlanRule {
  key: string;
  plan: string;
  profile: string | null;
  matches: (product: string) => boolean;
}

/** A mapping ready for rows: its rules, and the catalog and tools it is read against. */
interface SeatPlanner {
  mapping: SeatMapping;
  /** `plans` gives one plan per tool (the first match); `entries` every match. */
  every: boolean;
  rules: PlanRule[];
  profileEntries: CompiledMapping;
  /** Plan and profile keys -> their tool. */
  planTools: Map<string, string>;
  profileTools: Map<string, string>;
  /** The org's tool keys, in the order they were added. */
  tools: string[];
}

/** One seat a row asks for. */
interface WantedSeat {
  tool: string;
  plans: string[];
  profile: string | null;
  vendorUser?: string;
}

/**
 * The mapping read against the catalog and the org's tools. Throws SeatMappingError when it names
 * a tool creditdesk does not have; plans and profiles it lacks are reported by the rows they meet.
 */
function seatPlanner(mapping: SeatMapping, catalog: Awaited<ReturnType<Ledger['catalog']>>, tools: Tools): SeatPlanner {
  for (const tool of Object.keys(mapping.vendor_user_columns ?? {})) {
    if (!tools.byKey.has(tool)) {
      throw new SeatMappingError(`vendor_user_columns names the tool "${tool}", which creditdesk does not have; the tools are ${tools.keys()}`);
    }
  }
  const rules = mapping.entries
    ? mapping.entries.map((e) => ({ key: e.match, plan: e.plan, profile: e.profile ?? null, matches: nameMatcher(e.match) }))
    : compileMapping(mapping.plans).map((e) => ({ key: e.key, plan: e.value, profile: null, matches: e.matches }));
  return {
    mapping,
    every: mapping.entries !== undefined,
    rules,
    profileEntries: compileMapping(mapping.profiles),
    planTools: new Map(catalog.plans.map((p) => [p.key, p.toolKey])),
    profileTools: new Map(catalog.profiles.map((p) => [p.key, p.toolKey])),
    tools: tools.list.map((t) => t.key),
  };
}

const missingPlan = (plan: string) => `plan "${plan}" is not in creditdesk: add it with PUT /api/v1/plans/${plan}`;
const missingProfile = (profile: string) => `profile "${profile}" is not in creditdesk: add it with PUT /api/v1/profiles/${profile}`;

/**
 * The seats one row asks for, one per tool its matches reach, in the tools' order; or why the
 * row cannot be imported at all (a row is imported whole or not at all, so a typo in the mapping
 * never strips a plan from a seat). Matches are tested against the row's product configurations
 * and user groups; `default_plan` applies only when it lists no configuration.
 */
function plannedSeats(planner: SeatPlanner, row: CsvRow, products: readonly string[], groups: readonly string[]): WantedSeat[] | string {
  const { mapping, planTools, profileTools } = planner;
  const names = [...products, ...groups];
  let picked = planner.rules.filter((rule) => names.some(rule.matches));
  if (picked.length === 0) {
    const named = names.map((n) => `"${n}"`).join(', ');
    if (products.length > 0) return `no plan maps from ${named}: add a mapping entry for one of them`;
    if (!mapping.default_plan) {
      return `lists no product configuration${groups.length > 0 ? ` and no plan maps from its user groups ${named}` : ''}: give a default plan (--plan KEY) to import such rows`;
    }
    picked = [{ key: 'default_plan', plan: mapping.default_plan, profile: null, matches: () => true }];
  }
  const unknown = picked.find((rule) => !planTools.has(rule.plan));
  if (unknown) return missingPlan(unknown.plan);
  const profileMatches = matchProducts(names, planner.profileEntries).map((m) => m.value);
  const seats: WantedSeat[] = [];
  for (const tool of planner.tools) {
    const rules = picked.filter((rule) => planTools.get(rule.plan) === tool);
    if (rules.length === 0) continue;
    const plans = planner.every ? [...new Set(rules.map((r) => r.plan))] : [rules[0]!.plan];
    // A profile the catalog lacks could be meant for any tool: it stops the row wherever it is met.
    const mayBeOfTool = (key: string) => !profileTools.has(key) || profileTools.get(key) === tool;
    const entry = rules.find((r) => r.profile);
    const fromDefault = mapping.default_profile && mayBeOfTool(mapping.default_profile) ? mapping.default_profile : null;
    const profile = entry?.profile ?? profileMatches.find(mayBeOfTool) ?? fromDefault;
    if (profile && !profileTools.has(profile)) return missingProfile(profile);
    if (profile && profileTools.get(profile) !== tool) {
      return `profile "${profile}" is of the tool ${profileTools.get(profile)}, not ${tool}: fix the mapping entry "${entry!.key}"`;
    }
    const loginColumn = mapping.vendor_user_columns?.[tool];
    const vendorUser = loginColumn ? column(row, loginColumn) : undefined;
    seats.push({ tool, plans, profile, ...(vendorUser ? { vendorUser } : {}) });
  }
  return seats;
}

/** The seats a member holds, by tool: the member the import's write would find (Slack id first, then email). */
async function heldSeats(ledger: Ledger, email: string, slackId: string | null): Promise<Map<string, SeatState & { status: string }>> {
  const rows = await ledger.ctx.db.query<SeatState & { tool: string; status: string }>(
    `select s.tool_key as tool, s.status, s.profile_key as profile, s.vendor_user as "vendorUser",
            array(select sp.plan_key from seat_plans sp where sp.seat_id = s.id order by sp.plan_key) as plans
     from seats s
     where s.member_id = coalesce((select id from members where slack_id = $2), (select id from members where lower(email) = $1))`,
    [email, slackId],
  );
  return new Map(rows.map(({ tool, ...seat }) => [tool, seat]));
}

/** Whether another member's seat of the tool holds this vendor login, which the ledger would refuse (case-insensitive). */
async function vendorUserTaken(ledger: Ledger, tool: string, vendorUser: string, email: string, slackId: string | null): Promise<boolean> {
  const [taken] = await ledger.ctx.db.query<{ id: number }>(
    `select s.id from seats s join members m on m.id = s.member_id
     where s.tool_key = $1 and lower(s.vendor_user) = lower($2)
       and m.id is distinct from coalesce((select id from members where slack_id = $4), (select id from members where lower(email) = $3))`,
    [tool, vendorUser, email, slackId],
  );
  return taken !== undefined;
}

/** One seat a row asks for, against what the member holds in its tool: the change, the plans added and removed. */
function seatLine(row: CsvRow, email: string, slackId: string | null, wanted: WantedSeat, held: (SeatState & { status: string }) | undefined): SeatImportLine {
  const plans = [...wanted.plans];
  const before = held ? { plans: held.plans, profile: held.profile, vendorUser: held.vendorUser } : null;
  const added = plans.filter((p) => !before?.plans.includes(p));
  const removed = before ? before.plans.filter((p) => !plans.includes(p)) : [];
  const vendorUserChanged = wanted.vendorUser !== undefined && wanted.vendorUser.toLowerCase() !== (held?.vendorUser ?? '').toLowerCase();
  const change: SeatChange = !held
    ? 'create'
    : held.status === 'revoked'
      ? 'restore'
      : added.length > 0 || removed.length > 0 || held.profile !== wanted.profile || vendorUserChanged
        ? 'update'
        : 'unchanged';
  return {
    line: row.line, email, slackId, tool: wanted.tool, plan: plans[0]!, plans, profile: wanted.profile,
    ...(wanted.vendorUser !== undefined ? { vendorUser: wanted.vendorUser } : {}),
    change, added, removed, before,
  };
}

/**
 * Seats from the vendor console's user export (its bytes, its text, or the file as
 * readSeatExport read it). Each row's product configurations and user groups are matched against
 * the mapping (see mapping_schema): the plans they reach give the member one seat per tool,
 * holding exactly those plans (plans the seat held that the row no longer reaches are removed and
 * forfeit what they have left), with its profile and vendor login. Seats of tools the row does not
 * reach are left alone, and the import never revokes a seat. `default_plan` applies only to a row
 * that lists no product configuration at all. A row that cannot be imported (its products map to
 * nothing, a plan or profile creditdesk lacks, a cell it cannot store) is listed in `unmatched` by
 * line and nothing of it is written; a seat the ledger refuses is listed with its tool.
 * Throws CsvFileError before anything is written when the file is refused as a whole, and
 * SeatMappingError when the mapping names a tool creditdesk does not have.
 */
export async function importSeats(
  ledger: Ledger,
  input: Uint8Array | string | CsvFile,
  options: { mapping: SeatMapping; lookup?: SlackLookup; dryRun: boolean },
): Promise<SeatImportResult> {
  const { mapping } = options;
  const file = typeof input === 'string' || input instanceof Uint8Array ? readSeatExport(input, mapping) : input;
  // Read up front so a dry run does not promise a seat the real run would refuse.
  const [catalog, tools] = await Promise.all([ledger.catalog(), ledger.loadTools()]);
  const planner = seatPlanner(mapping, catalog, tools);
  const mapped = new Set([...planner.rules.map((r) => r.plan), ...(mapping.default_plan ? [mapping.default_plan] : [])].map((plan) => planner.planTools.get(plan)));
  const result: SeatImportResult = {
    dryRun: options.dryRun,
    rows: file.rows.length,
    tools: planner.tools.map((tool) => ({ tool, mapped: mapped.has(tool), create: 0, restore: 0, update: 0, unchanged: 0 })),
    seats: [],
    unmatched: [],
    notInSlack: [],
  };
  for (const row of file.rows) {
    const rawEmail = column(row, ...seat_columns.email.names);
    const unstorable = csvCellsProblem(row.values);
    if (unstorable) {
      result.unmatched.push({ line: row.line, email: rawEmail ?? null, reason: unstorable });
      continue;
    }
    if (!rawEmail || !email_schema.safeParse(rawEmail).success) {
      result.unmatched.push({ line: row.line, email: rawEmail ?? null, reason: 'no valid email address' });
      continue;
    }
    const email = rawEmail.toLowerCase();
    const products = productsIn(column(row, 'product configurations', 'product configuration', 'product profiles', 'products'));
    const groups = productsIn(column(row, 'user groups'));
    const wanted = plannedSeats(planner, row, products, groups);
    if (typeof wanted === 'string') {
      result.unmatched.push({ line: row.line, email, reason: wanted });
      continue;
    }
    const slackId = options.lookup ? await options.lookup(email) : null;
    if (options.lookup && !slackId) result.notInSlack.push({ line: row.line, email });
    const held = await heldSeats(ledger, email, slackId);
    const lines: SeatImportLine[] = [];
    for (const seat of wanted) {
      if (seat.vendorUser && (await vendorUserTaken(ledger, seat.tool, seat.vendorUser, email, slackId))) {
        result.unmatched.push({ line: row.line, email, tool: seat.tool, reason: `${seat.vendorUser} is already the vendor login of another member's ${seat.tool} seat` });
        continue;
      }
      lines.push(seatLine(row, email, slackId, seat, held.get(seat.tool)));
    }
    if (!options.dryRun) {
      const name = [column(row, 'first name'), column(row, 'last name')].filter(Boolean).join(' ') || null;
      const department = column(row, 'department', 'user groups');
      await ledger.ctx.db.transaction((tx) =>
        upsertMember(tx, slackId ? { slackId } : { email }, { email, name, attributes: department ? { department } : {} }),
      );
    }
    for (const line of lines) {
      if (!options.dryRun && line.change !== 'unchanged') {
        try {
          const done = await ledger.putSeat(slackId ?? email, {
            plans: line.plans, tool: line.tool, profile: line.profile, email, actor: 'import-seats',
            ...(line.vendorUser !== undefined ? { vendorUser: line.vendorUser } : {}),
          });
          if (done.forfeited) line.forfeited = done.forfeited;
        } catch (error) {
          if (!(error instanceof LedgerError)) throw error;
          result.unmatched.push({ line: row.line, email, tool: line.tool, reason: error.message });
          continue;
        }
      }
      result.seats.push(line);
      result.tools.find((t) => t.tool === line.tool)![line.change]++;
    }
  }
  return result;
}

const joinPlans = (plans: readonly string[]) => `${plans.length === 1 ? 'plan' : 'plans'} ${plans.join(' + ')}`;

/** One seat as the summary lists it: the change, who, the tool (with several), what it holds and what moves. */
function describeSeat(s: SeatImportLine, namesTool: boolean): string {
  const moves = [
    s.added.length > 0 && s.change !== 'create' ? `adds ${s.added.join(', ')}` : null,
    s.removed.length > 0 ? `removes ${s.removed.join(', ')}${s.forfeited ? `, forfeiting ${s.forfeited}` : ''}` : null,
    s.before && s.change !== 'unchanged' && s.before.profile !== s.profile ? `profile was ${s.before.profile ?? 'none'}` : null,
  ].filter(Boolean);
  return `  line ${s.line}: ${s.change} ${s.email}${s.slackId ? ` (${s.slackId})` : ''}${namesTool ? ` in ${s.tool}` : ''}: ${joinPlans(s.plans)}` +
    `${s.profile ? `, profile ${s.profile}` : ''}${s.vendorUser ? `, vendor login ${s.vendorUser}` : ''}${moves.length > 0 ? ` (${moves.join('; ')})` : ''}`;
}

/**
 * What an admin reads first: what changed (or would), per tool when the org has several, then
 * every seat that changes (in a dry run every seat, unchanged ones too), then every row that needs
 * them, by line. "no changes" only when every row of the file is a seat already as the export says.
 */
export function seatImportSummary(result: SeatImportResult): string {
  const counts = (c: { create: number; restore: number; update: number; unchanged: number }) =>
    result.dryRun
      ? `would create ${c.create}, restore ${c.restore}, update ${c.update}; ${c.unchanged} unchanged`
      : `created ${c.create}, restored ${c.restore}, updated ${c.update}; ${c.unchanged} unchanged`;
  const total = { create: 0, restore: 0, update: 0, unchanged: 0 };
  for (const t of result.tools) for (const key of ['create', 'restore', 'update', 'unchanged'] as const) total[key] += t[key];
  const changed = result.seats.filter((s) => s.change !== 'unchanged');
  const failedLines = new Set(result.unmatched.map((u) => u.line)).size;
  const severalTools = result.tools.length > 1;
  const lines = [
    changed.length === 0 && failedLines === 0
      ? `import-seats${result.dryRun ? ' (dry run)' : ''}: no changes, ${counted(total.unchanged, 'seat')} already as the export says`
      : result.dryRun
        ? `import-seats (dry run, nothing written): ${counts(total)}${failedLines > 0 ? `; ${failedLines} of ${counted(result.rows, 'row')} would fail` : ''}`
        : `import-seats: ${counts(total)}${failedLines > 0 ? `; ${failedLines} of ${counted(result.rows, 'row')} failed` : ''}`,
    ...(severalTools ? result.tools.map((t) => `  ${t.tool}: ${t.mapped ? counts(t) : 'not in the mapping, its seats left alone'}`) : []),
    ...(result.dryRun ? result.seats : changed).map((s) => describeSeat(s, severalTools)),
  ];
  if (failedLines > 0) {
    lines.push(
      `${counted(failedLines, 'row')} not imported${result.unmatched.some((u) => u.tool) ? ' (or not in every tool)' : ''}:`,
      ...result.unmatched.map((u) => `  line ${u.line}: ${u.email ?? '(no email)'}${u.tool ? ` in ${u.tool}` : ''}: ${u.reason}`),
    );
  }
  if (result.notInSlack.length > 0) {
    lines.push(`${counted(result.notInSlack.length, 'member')} not found in Slack, kept by email:`, ...result.notInSlack.map((u) => `  line ${u.line}: ${u.email}`));
  }
  return lines.join('\n');
}

/** The command's exit code (see import_exit): a row that could not be imported fails the run, dry or not. */
export function seatImportExitCode(result: SeatImportResult): number {
  return result.unmatched.length > 0 ? import_exit.rows_failed : import_exit.ok;
}
