// GitHub Copilot premium requests, per person and day: pulled from GitHub's REST billing API, or
// read from the premium request usage report (CSV) GitHub's billing pages export. Both key their
// rows alike (login, UTC day, model), so the import and the pull share their totals and never
// count one request twice.
//
// REST (docs.github.com/rest/billing/usage, "Get billing premium request usage report for an
// organization"): GET /organizations/{org}/settings/billing/premium_request/usage with the query
// year, month, day (one day when all three are given), user (a login, "not case sensitive"), model
// and product; headers Accept: application/vnd.github+json and X-GitHub-Api-Version: 2022-11-28.
// The caller must be an organisation administrator; a fine-grained token needs the organisation
// permission "Administration" (read). Only the past 24 months are served. The answer is
// { timePeriod, organization, user?, usageItems: [{ product, sku, model, unitType, pricePerUnit,
// grossQuantity, grossAmount, discountQuantity, discountAmount, netQuantity, netAmount }] }:
// totals for the period, per product, SKU and model, with no per-person split. So a pull asks once
// per day for the organisation and once per day for each login a seat carries (vendor_user); the
// organisation's total less what the logins account for is usage by people creditdesk does not
// know, reported as such. grossQuantity is what a person used (discountQuantity is the part the
// plan's included allowance covered, netQuantity what was billed beyond it).
// Rate limits (docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api): a limit is
// answered with 403 or 429; wait for retry-after when present, else until x-ratelimit-reset when
// x-ratelimit-remaining is 0, else (a secondary limit) at least a minute.
//
// The CSV is read by the import (src/cli/import-usage.ts) into the same rows.
//
// Assumed where the docs are silent: a day's figures may still grow for up to a day after it ends
// (GitHub publishes no latency for this report), so a day is read again for two days; the model is
// what a premium request is counted by (a model's rows of several SKUs, such as chat and the
// coding agent, are summed); rows of another unit_type are not premium requests and are skipped.
import { z } from 'zod';
import type { VendorRow } from './apply.ts';
import { daysFrom } from './days.ts';
import { getJson, retryAfterMs, VendorError } from './http.ts';
import type { Connector, ConnectorPage, PullContext } from './runner.ts';

export const github_api_url_default = 'https://api.github.com';
/** GitHub publishes no latency for billing usage: a day is read again for two days after it ends. */
export const github_settle_ms = 48 * 3_600_000;
/** "Only data from the past 24 months is accessible via this endpoint" (23 kept, as a margin). */
const github_months_back_max = 23;
/** GitHub's own advice for a secondary rate limit that names no wait: "wait for at least one minute". */
const secondary_rate_limit_wait_ms = 60_000;
/** What GitHub calls the unit of premium requests (the REST unitType, the CSV's unit_type). */
export const premium_request_unit = 'requests';
/** Below this, what the organisation's total and the logins' totals differ by is rounding, not a person. */
const unattributed_units_min = 0.5;

export interface GithubSettings {
  token: string;
  org: string;
  apiUrl?: string;
  /** The tool key (GITHUB_TOOL); null: the org's only tool. */
  tool: string | null;
}

const report_schema = z.object({
  usageItems: z.array(
    z.object({
      model: z.string().nullish(),
      sku: z.string().nullish(),
      unitType: z.string().nullish(),
      grossQuantity: z.number().nonnegative(),
    }),
  ),
});

/**
 * A model's name as the kind of a vendor row: trimmed, lower-case ("Claude Sonnet 4" and "claude
 * sonnet 4" are one model), the same for the REST pull and the CSV import.
 */
export const githubModelKey = (model: string) => model.trim().toLowerCase();

/** How long a 403 or 429 of GitHub's asks to wait, or null when the 403 refuses the token (see the file's head). */
export function githubRateLimitWait(response: Response, body: string, nowMs: number): number | null {
  const retryAfter = retryAfterMs(response.headers.get('retry-after'), nowMs);
  if (retryAfter !== null) return retryAfter;
  if (response.headers.get('x-ratelimit-remaining') === '0') {
    const reset = Number(response.headers.get('x-ratelimit-reset'));
    return Number.isFinite(reset) ? Math.max(0, reset * 1000 - nowMs) : secondary_rate_limit_wait_ms;
  }
  return /rate limit/i.test(body) ? secondary_rate_limit_wait_ms : null;
}

/** Premium requests per model in one report's items; other units are skipped. */
function perModel(items: z.infer<typeof report_schema>['usageItems']): Map<string, { model: string; quantity: number }> {
  const models = new Map<string, { model: string; quantity: number }>();
  for (const item of items) {
    if (item.unitType && item.unitType.trim().toLowerCase() !== premium_request_unit) continue;
    const model = (item.model || item.sku || 'unknown model').trim();
    const entry = models.get(githubModelKey(model)) ?? { model, quantity: 0 };
    entry.quantity += item.grossQuantity;
    models.set(githubModelKey(model), entry);
  }
  return models;
}

export function githubConnector(settings: GithubSettings): Connector {
  const base = (settings.apiUrl ?? github_api_url_default).replace(/\/+$/, '');
  const report = async (ctx: PullContext, day: string, login?: string) => {
    const [year, month, date] = day.split('-').map(Number) as [number, number, number];
    const query = new URLSearchParams({ year: String(year), month: String(month), day: String(date) });
    if (login) query.set('user', login);
    const body = await getJson(
      ctx.http,
      {
        vendor: 'GitHub',
        url: `${base}/organizations/${encodeURIComponent(settings.org)}/settings/billing/premium_request/usage?${query}`,
        headers: { authorization: `Bearer ${settings.token}`, accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' },
        tokenHint:
          'set GITHUB_TOKEN to a token of an owner of GITHUB_ORG: a fine-grained personal access token with the organisation permission "Administration" (read). ' +
          'An organisation owned by an enterprise cannot filter usage by user: import the premium request usage report with import-usage --format github instead',
        rateLimitWait: githubRateLimitWait,
      },
      () => ctx.ledger.ctx.now().getTime(),
    );
    const parsed = report_schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new VendorError(`GitHub answered with a report creditdesk cannot read (${issue.path.join('.') || 'the body'}: ${issue.message}); the next pull tries again`, 'malformed');
    }
    return perModel(parsed.data.usageItems);
  };
  return {
    name: 'github',
    vendor: 'GitHub',
    toolVariable: 'GITHUB_TOOL',
    toolKey: settings.tool,
    matchBy: 'vendor_user',
    settleMs: github_settle_ms,
    earliestDay: (today) => {
      const [year, month] = today.split('-').map(Number) as [number, number];
      const back = new Date(Date.UTC(year, month - 1 - github_months_back_max, 1));
      return back.toISOString().slice(0, 10);
    },
    async *pages(ctx: PullContext): AsyncIterable<ConnectorPage> {
      // Everyone who held a seat in the tool while these days ran: a seat revoked since still used them.
      const logins = (
        await ctx.ledger.ctx.db.query<{ login: string }>(
          `select distinct lower(vendor_user) as login from seats
           where tool_key = $1 and vendor_user is not null and (status = 'active' or revoked_at >= $2::date)
           order by 1`,
          [ctx.tool, ctx.since],
        )
      ).map((r) => r.login);
      for (const day of daysFrom(ctx.since, ctx.until)) {
        const org = await report(ctx, day);
        const orgTotal = [...org.values()].reduce((sum, m) => sum + m.quantity, 0);
        const rows: VendorRow[] = [];
        // A day the organisation used nothing needs no question per person.
        if (orgTotal > 0) {
          for (const login of logins) {
            for (const { model, quantity } of (await report(ctx, day, login)).values()) {
              rows.push({ vendorUser: login, day, kind: githubModelKey(model), total: quantity, feature: model });
            }
          }
        }
        const attributed = rows.reduce((sum, r) => sum + r.total, 0);
        const rest = orgTotal - attributed;
        yield { rows, completedThrough: day, unattributed: rest >= unattributed_units_min ? [{ day, units: Math.round(rest * 100) / 100 }] : [] };
      }
    },
  };
}
