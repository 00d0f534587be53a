// creditdesk import-seats <csv>: the vendor admin console's user export (Email, First Name, Last
// Name, Product Configurations, User Groups, ...) into seats. Product configurations map to plans
// and profiles through a small JSON file or flags; members are matched to Slack by email. A dry
// run shows what would change; running the same file again changes nothing; rows that cannot be
// imported are listed by line and fail the run.
import { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { csvCellsProblem } from '../input.ts';
import type { Ledger } from '../ledger/index.ts';
import { upsertMember } from '../ledger/members.ts';
import { column, import_exit, readCsv, type CsvFile } from './csv.ts';

export const mapping_schema = z.strictObject({
  /**
   * A product configuration (or user group) of the export -> creditdesk plan key. Keys match as
   * compileMapping says: exact name, product name before ` - `, or a `*` pattern.
   */
  plans: z.record(z.string(), z.string()).default({}),
  /** The same for profile keys. */
  profiles: z.record(z.string(), z.string()).default({}),
  /** The plan of a row that lists no product configuration at all (never of one whose products map to nothing). */
  default_plan: z.string().optional(),
  default_profile: z.string().optional(),
});
export type SeatMapping = z.infer<typeof mapping_schema>;

export type SeatChange = 'create' | 'restore' | 'update' | 'unchanged';

export interface SeatImportLine {
  line: number;
  email: string;
  slackId: string | null;
  plan: string;
  profile: string | null;
  change: SeatChange;
}

export interface SeatImportResult {
  dryRun: boolean;
  /** Rows the file holds. */
  rows: number;
  seats: SeatImportLine[];
  /** Rows that could not be imported, by line, with the reason: each one makes the import fail. */
  unmatched: { line: number; email: string | null; reason: string }[];
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
 * The entries of a mapping (`plans` or `profiles`) as tests, in the file's order. A key matches a
 * configuration, case-insensitively and with runs of spaces as one:
 * - exactly (`Design`),
 * - as the product name before its configuration suffix: `Creative Cloud Pro` matches
 *   `Creative Cloud Pro - Default Configuration` and `Creative Cloud Pro - Marketing`, not
 *   `Creative Cloud Pro Plus - Default Configuration`,
 * - as a pattern when it holds `*`, which stands for any run of characters and must match the
 *   whole name: `*Acrobat*` matches `Default Acrobat Pro DC configuration`.
 */
export function compileMapping(entries: Record<string, string>): CompiledMapping {
  return Object.entries(entries).map(([key, value]) => {
    const folded = fold(key);
    if (folded.includes('*')) {
      const literal = (part: string) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const pattern = new RegExp(`^${folded.split('*').map(literal).join('.*')}$`, 's');
      return { key, value, matches: (product: string) => pattern.test(fold(product)) };
    }
    return { key, value, matches: (product: string) => fold(product) === folded || fold(product).startsWith(`${folded} - `) };
  });
}

/**
 * Every (entry, product) pair where the entry matches the product: entries in the mapping's
 * order, products in the row's. A pure function of its input, so a row's products can later map
 * to several plans at once; today the first match gives the row its plan.
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
 * The user export as import-seats reads it: an Email column always, and a Product
 * Configurations (or User Groups) column unless a default plan stands in for it.
 * Throws CsvFileError (see readCsv) when the file is refused as a whole.
 */
export function readSeatExport(input: Uint8Array | string, mapping: SeatMapping): CsvFile {
  return readCsv(input, { required: mapping.default_plan ? [seat_columns.email] : [seat_columns.email, seat_columns.products] });
}

/**
 * Seats from the vendor console's user export (its bytes, its text, or the file as
 * readSeatExport read it). A row's plan is the first `plans` entry, in the mapping's order, that
 * matches one of its product configurations or user groups; `default_plan` applies only to a row
 * that lists no product configuration at all. A row whose products all map to nothing is listed
 * in `unmatched` by line with the products it has, as is every other row that cannot be imported.
 * Throws CsvFileError before anything is written when the file is refused as a whole.
 */
export async function importSeats(
  ledger: Ledger,
  input: Uint8Array | string | CsvFile,
  options: { mapping: SeatMapping; lookup?: SlackLookup; dryRun: boolean },
): Promise<SeatImportResult> {
  const { mapping } = options;
  const file = typeof input === 'string' || input instanceof Uint8Array ? readSeatExport(input, mapping) : input;
  const planEntries = compileMapping(mapping.plans);
  const profileEntries = compileMapping(mapping.profiles);
  const result: SeatImportResult = { dryRun: options.dryRun, rows: file.rows.length, seats: [], unmatched: [], notInSlack: [] };
  // Checked up front so a dry run does not promise a seat the real run would refuse.
  const catalog = await ledger.catalog();
  const plans = new Set(catalog.plans.map((p) => p.key));
  const profiles = new Set(catalog.profiles.map((p) => p.key));
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
    const plan = matchProducts([...products, ...groups], planEntries)[0]?.value ?? (products.length === 0 ? mapping.default_plan : undefined);
    const profile = matchProducts([...products, ...groups], profileEntries)[0]?.value ?? mapping.default_profile ?? null;
    if (!plan) {
      const named = [...products, ...groups].map((p) => `"${p}"`).join(', ');
      result.unmatched.push({
        line: row.line,
        email,
        reason: products.length > 0
          ? `no plan maps from ${named}: add a mapping entry for one of them`
          : `lists no product configuration${groups.length > 0 ? ` and no plan maps from its user groups ${named}` : ''}: give a default plan (--plan KEY) to import such rows`,
      });
      continue;
    }
    if (!plans.has(plan) || (profile && !profiles.has(profile))) {
      const missing = plans.has(plan) ? `profile "${profile}" is not in creditdesk: add it with PUT /api/v1/profiles/${profile}` : `plan "${plan}" is not in creditdesk: add it with PUT /api/v1/plans/${plan}`;
      result.unmatched.push({ line: row.line, email, reason: missing });
      continue;
    }
    const slackId = options.lookup ? await options.lookup(email) : null;
    if (options.lookup && !slackId) result.notInSlack.push({ line: row.line, email });
    const [existing] = await ledger.ctx.db.query<{ status: string; plan: string; profile: string | null }>(
      `select s.status, (select string_agg(sp.plan_key, '+' order by sp.plan_key) from seat_plans sp where sp.seat_id = s.id) as plan,
              s.profile_key as profile
       from members m join seats s on s.member_id = m.id and s.tool_key = (select tool_key from plans where key = $3)
       where lower(m.email) = $1 or ($2::text is not null and m.slack_id = $2)`,
      [email, slackId, plan],
    );
    const change: SeatChange = !existing
      ? 'create'
      : existing.status === 'revoked'
        ? 'restore'
        : existing.plan !== plan || existing.profile !== profile
          ? 'update'
          : 'unchanged';
    result.seats.push({ line: row.line, email, slackId, plan, profile, change });
    if (options.dryRun) continue;
    const name = [column(row, 'first name'), column(row, 'last name')].filter(Boolean).join(' ') || null;
    const department = column(row, 'department', 'user groups');
    await ledger.ctx.db.transaction((tx) =>
      upsertMember(tx, slackId ? { slackId } : { email }, { email, name, attributes: department ? { department } : {} }),
    );
    if (change !== 'unchanged') {
      try {
        await ledger.putSeat(slackId ?? email, { plan, profile, email, name, actor: 'import-seats' });
      } catch (error) {
        result.seats.pop();
        result.unmatched.push({ line: row.line, email, reason: (error as Error).message });
      }
    }
  }
  return result;
}

/**
 * What an admin reads first: what changed (or would), then every row that needs them, by line.
 * "no changes" only when every row of the file is a seat already as the export says.
 */
export function seatImportSummary(result: SeatImportResult): string {
  const count = (change: SeatChange) => result.seats.filter((s) => s.change === change).length;
  const changed = result.seats.filter((s) => s.change !== 'unchanged');
  const failed = result.unmatched.length;
  const lines = [
    changed.length === 0 && failed === 0
      ? `import-seats${result.dryRun ? ' (dry run)' : ''}: no changes, ${count('unchanged')} seat(s) already as the export says`
      : result.dryRun
        ? `import-seats (dry run, nothing written): would create ${count('create')}, restore ${count('restore')}, update ${count('update')}; ${count('unchanged')} unchanged${failed > 0 ? `; ${failed} of ${result.rows} row(s) would fail` : ''}`
        : `import-seats: created ${count('create')}, restored ${count('restore')}, updated ${count('update')}; ${count('unchanged')} unchanged${failed > 0 ? `; ${failed} of ${result.rows} row(s) failed` : ''}`,
    ...changed.map((s) => `  line ${s.line}: ${s.change} ${s.email}${s.slackId ? ` (${s.slackId})` : ''}: plan ${s.plan}${s.profile ? `, profile ${s.profile}` : ''}`),
  ];
  if (failed > 0) {
    lines.push(`${failed} row(s) not imported:`, ...result.unmatched.map((u) => `  line ${u.line}: ${u.email ?? '(no email)'}: ${u.reason}`));
  }
  if (result.notInSlack.length > 0) {
    lines.push(`${result.notInSlack.length} member(s) not found in Slack, kept by email:`, ...result.notInSlack.map((u) => `  line ${u.line}: ${u.email}`));
  }
  return lines.join('\n');
}

/** The command's exit code (see import_exit): a row that could not be imported fails the run, dry or not. */
export function seatImportExitCode(result: SeatImportResult): number {
  return result.unmatched.length > 0 ? import_exit.rows_failed : import_exit.ok;
}
