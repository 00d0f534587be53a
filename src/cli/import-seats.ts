// creditdesk import-seats <csv>: the vendor admin console's user export (Email, First Name, Last
// Name, Product Configurations, User Groups, ...) into seats. Product configurations map to plans
// and profiles through a small JSON file or flags; members are matched to Slack by email. A dry
// run shows what would change; running the same file again changes nothing; rows that cannot be
// matched are listed.
import { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { csvCellsProblem } from '../input.ts';
import type { Ledger } from '../ledger/index.ts';
import { upsertMember } from '../ledger/members.ts';
import { column, readCsv } from './csv.ts';

export const mapping_schema = z.strictObject({
  /** Product configuration (or profile) name in the export -> creditdesk plan key. */
  plans: z.record(z.string(), z.string()).default({}),
  /** Product configuration (or profile) name in the export -> creditdesk profile key. */
  profiles: z.record(z.string(), z.string()).default({}),
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
  seats: SeatImportLine[];
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
const split = (value: string | undefined) => (value ?? '').split(/[,;]/).map((v) => v.trim()).filter(Boolean);

export async function importSeats(
  ledger: Ledger,
  text: string,
  options: { mapping: SeatMapping; lookup?: SlackLookup; dryRun: boolean },
): Promise<SeatImportResult> {
  const { mapping } = options;
  // Consoles are not consistent about case ("Creative Cloud Pro" vs "Creative Cloud PRO"): match without it.
  const fold = (names: Record<string, string>) => new Map(Object.entries(names).map(([name, key]) => [name.toLowerCase(), key]));
  const planFor = fold(mapping.plans);
  const profileFor = fold(mapping.profiles);
  const result: SeatImportResult = { dryRun: options.dryRun, seats: [], unmatched: [], notInSlack: [] };
  // Checked up front so a dry run does not promise a seat the real run would refuse.
  const catalog = await ledger.catalog();
  const plans = new Set(catalog.plans.map((p) => p.key));
  const profiles = new Set(catalog.profiles.map((p) => p.key));
  for (const row of readCsv(text)) {
    const rawEmail = column(row, 'email', 'email address', 'username');
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
    const configurations = [...split(column(row, 'product configurations', 'product configuration', 'product profiles', 'products')), ...split(column(row, 'user groups'))];
    const plan = configurations.map((c) => planFor.get(c.toLowerCase())).find(Boolean) ?? mapping.default_plan;
    const profile = configurations.map((c) => profileFor.get(c.toLowerCase())).find(Boolean) ?? mapping.default_profile ?? null;
    if (!plan) {
      result.unmatched.push({ line: row.line, email, reason: `no plan maps from "${configurations.join(', ') || 'no product configuration'}"` });
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
      `select s.status, s.plan_key as plan, s.profile_key as profile from members m join seats s on s.member_id = m.id
       where lower(m.email) = $1 or ($2::text is not null and m.slack_id = $2)`,
      [email, slackId],
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

/** What an admin reads first: what changed (or would), then every row that needs them, by line. */
export function seatImportSummary(result: SeatImportResult): string {
  const count = (change: SeatChange) => result.seats.filter((s) => s.change === change).length;
  const changed = result.seats.filter((s) => s.change !== 'unchanged');
  const lines = [
    changed.length === 0
      ? `import-seats${result.dryRun ? ' (dry run)' : ''}: no changes, ${count('unchanged')} seat(s) already as the export says`
      : result.dryRun
        ? `import-seats (dry run, nothing written): would create ${count('create')}, restore ${count('restore')}, update ${count('update')}; ${count('unchanged')} unchanged`
        : `import-seats: created ${count('create')}, restored ${count('restore')}, updated ${count('update')}; ${count('unchanged')} unchanged`,
    ...changed.map((s) => `  line ${s.line}: ${s.change} ${s.email}${s.slackId ? ` (${s.slackId})` : ''}: plan ${s.plan}${s.profile ? `, profile ${s.profile}` : ''}`),
  ];
  if (result.unmatched.length > 0) {
    lines.push(`${result.unmatched.length} row(s) not imported:`, ...result.unmatched.map((u) => `  line ${u.line}: ${u.email ?? '(no email)'}: ${u.reason}`));
  }
  if (result.notInSlack.length > 0) {
    lines.push(`${result.notInSlack.length} member(s) not found in Slack, kept by email:`, ...result.notInSlack.map((u) => `  line ${u.line}: ${u.email}`));
  }
  return lines.join('\n');
}
