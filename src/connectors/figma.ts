// Figma's AI credits, per person and day, from Figma's REST API: GET /v1/ai_usage/daily
// (developers.figma.com/docs/rest-api/ai-usage-endpoints). What the docs say, and what this uses:
// - Enterprise plans only; a plan access token (created by an organisation admin at
//   figma.com/developers/tokens) with the scope org:ai_metering_usage_read, sent as X-Figma-Token.
// - Query: start_date and end_date, inclusive UTC calendar days (YYYY-MM-DD); start_date on or
//   after 2025-12-01 and at most 366 days back; end_date no later than the current UTC day; the
//   range at most 366 days. limit: rows per page, 1 to 1,000 (default 1,000). cursor: from the
//   previous page's next_cursor; has_next_page says whether there is one.
// - Each row: user_email, day, editor_type (design, figjam, slides, sites, buzz, make,
//   not_applicable), seat_credits_sum (the member's own seat credits) and plan_credits_sum (the
//   plan-level credits subscription: the tool's pool here), with plan, workspace, team and
//   license group fields this does not need.
// - "AI usage data is updated periodically and can lag real-time activity by up to 5-6 hours, so
//   recent usage (including the current day) may be incomplete": a day's rows keep growing after
//   it ends, so a day is read again until figma_settle_ms after its end.
// - Errors: 400 (bad parameters), 401 (token missing or invalid, plan deleted), 403 (missing scope
//   or a resource-restricted token); rate limits answer 429 with Retry-After (Tier 3 endpoint).
// Where the docs are silent, assumed: `day` is YYYY-MM-DD (a longer ISO time is read by its date),
// the sums are plain JSON numbers, and a row is unique per user, day and editor type (a repeat
// counts once, at its larger total).
import { z } from 'zod';
import type { RefusedRow, VendorRow } from './apply.ts';
import { addDays, laterDay } from './days.ts';
import { getJson, VendorError } from './http.ts';
import type { Connector, ConnectorPage, PullContext } from './runner.ts';

export const figma_api_url_default = 'https://api.figma.com';
/** "can lag real-time activity by up to 5–6 hours": a day is read again for a day and a quarter after it ends. */
export const figma_settle_ms = 30 * 3_600_000;
/** Rows per page: the most Figma serves. */
export const figma_page_rows_max = 1_000;
/** Pages one pull reads at most: a million rows; a pull that needs more stops with an error rather than loop on a cursor. */
export const figma_pages_max = 1_000;
/** The first day Figma has AI usage for. */
const figma_first_day = '2025-12-01';
/** How far back start_date may go: "no more than 366 days before the current UTC day" (one day kept as a margin). */
const figma_days_back_max = 365;

const page_schema = z.object({
  rows: z.array(z.unknown()),
  next_cursor: z.string().nullish(),
  has_next_page: z.boolean(),
});

const row_schema = z.object({
  user_email: z.string().trim().min(1),
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}/, 'is not a day such as 2026-05-20'),
  editor_type: z.string().trim().min(1),
  seat_credits_sum: z.number().nonnegative(),
  plan_credits_sum: z.number().nonnegative(),
});

export interface FigmaSettings {
  token: string;
  apiUrl?: string;
  /** The tool key (FIGMA_TOOL); null: the org's only tool. */
  tool: string | null;
}

/**
 * One row of Figma's as creditdesk's rows: the seat credits (the member's own grants) and the plan
 * credits (drawn from the tool's pool) are two running totals of the same person, day and editor
 * type. A row without the fields this needs comes back as the problem, to be listed.
 */
export function figmaRows(raw: unknown): VendorRow[] | { problem: string } {
  const parsed = row_schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { problem: `Figma sent a row whose ${issue.path.join('.') || 'shape'} ${issue.message.toLowerCase()}` };
  }
  const row = parsed.data;
  const base = { vendorUser: row.user_email, day: row.day.slice(0, 10), feature: row.editor_type };
  return [
    { ...base, kind: `${row.editor_type}:seat`, total: row.seat_credits_sum },
    { ...base, kind: `${row.editor_type}:plan`, total: row.plan_credits_sum, draw: 'pool' },
  ];
}

export function figmaConnector(settings: FigmaSettings): Connector {
  const base = (settings.apiUrl ?? figma_api_url_default).replace(/\/+$/, '');
  return {
    name: 'figma',
    vendor: 'Figma',
    toolVariable: 'FIGMA_TOOL',
    toolKey: settings.tool,
    // Figma names people by email; a seat's vendor_user covers an address that differs from the member's.
    matchBy: 'vendor_user_or_email',
    settleMs: figma_settle_ms,
    earliestDay: (today) => laterDay(figma_first_day, addDays(today, -figma_days_back_max)),
    async *pages(ctx: PullContext): AsyncIterable<ConnectorPage> {
      let cursor: string | null = null;
      for (let page = 0; page < figma_pages_max; page++) {
        const query = new URLSearchParams({ start_date: ctx.since, end_date: ctx.until, limit: String(figma_page_rows_max) });
        if (cursor) query.set('cursor', cursor);
        const body = await getJson(
          ctx.http,
          {
            vendor: 'Figma',
            url: `${base}/v1/ai_usage/daily?${query}`,
            headers: { 'x-figma-token': settings.token, accept: 'application/json' },
            tokenHint: 'set FIGMA_TOKEN to a plan access token of the Enterprise plan with the scope org:ai_metering_usage_read (an organisation admin creates it at figma.com/developers/tokens)',
          },
          () => ctx.ledger.ctx.now().getTime(),
        );
        const parsed = page_schema.safeParse(body);
        if (!parsed.success) throw malformedPage(parsed.error);
        const rows: VendorRow[] = [];
        const malformed: RefusedRow[] = [];
        for (const raw of parsed.data.rows) {
          const mapped = figmaRows(raw);
          if ('problem' in mapped) malformed.push({ vendorUser: String((raw as { user_email?: unknown })?.user_email ?? ''), day: '', kind: '', reason: mapped.problem });
          else rows.push(...mapped);
        }
        yield { rows, malformed };
        if (!parsed.data.has_next_page) return;
        if (!parsed.data.next_cursor) throw new VendorError('Figma said there is a next page but gave no next_cursor; the next pull tries again', 'malformed');
        cursor = parsed.data.next_cursor;
      }
      throw new VendorError(`Figma kept giving pages past ${figma_pages_max}; the pull stopped (pull a shorter range with --since)`, 'malformed');
    },
  };
}

function malformedPage(error: z.ZodError) {
  const issue = error.issues[0]!;
  return new VendorError(`Figma answered with a page creditdesk cannot read (${issue.path.join('.') || 'the body'}: ${issue.message}); the next pull tries again`, 'malformed');
}
