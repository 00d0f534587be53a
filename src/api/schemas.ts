// zod schemas for every body, path parameter and query of the HTTP API. Field names are the API's
// (snake_case); routes map them onto the ledger's inputs. The same schemas validate the requests
// and describe them in the OpenAPI document (openapi.ts), so the two cannot drift apart.
import { z } from 'zod';
import { catalog_key, credits_or_zero, cycle_name, identifier, optionalText, positive_credits, row_id, text, wholeNumber } from '../input.ts';
import { isTimeZone } from '../ledger/cycles.ts';
import { invariant } from '../ledger/errors.ts';
import {
  batch_events_max, credits_max, event_id_length_max, int4_max, pack_expires_days_max, purchase_packs_max, unit_cost_max, user_ref_length_max,
} from '../ledger/limits.ts';
import { list_page_items_default, list_page_items_max } from '../ledger/lists.ts';

export const key_param = catalog_key;

/** A tool's key, in a body or a query: `default` is the tool every database starts with. */
export const tool_key = catalog_key.meta({ description: "a tool's key, such as figma; may be left out while the org has one tool" });

/** A Slack user id or an email address; the ledger reads which. */
export const user_param = text({ max: user_ref_length_max });

/** Plan keys a seat may hold at once. */
export const seat_plans_max = 20;
/** Length of a tool's unit name ("premium requests"). */
export const unit_name_length_max = 100;
/** Length of a time zone's name: IANA's longest are about 30 characters. */
export const time_zone_length_max = 64;
/** Largest price of one overage credit: what tools.overage_unit_cost, numeric(14,6), holds. */
export const overage_unit_cost_max = 99_999_999.999999;

/** The path parameters of a route, named in a refusal (`user: ...`). */
export const user_path = z.object({ user: user_param });
export const key_path = z.object({ key: key_param });

const iso_time = (error: string) => z.iso.datetime({ offset: true, error });

export const usage_event = z.object({
  id: identifier(event_id_length_max, { tooShort: 'every event needs an id' }),
  user: user_param,
  tool: tool_key.nullish(),
  credits: positive_credits,
  at: iso_time('must be an ISO 8601 time such as 2026-05-20T14:03:00Z').optional(),
  feature: optionalText(),
  source: optionalText(),
  /** Figma's plan_credits_sum: the vendor drew these credits from the plan-level pool, not the member's own. */
  draw: z.literal('pool', 'must be pool, or left out').nullish()
    .meta({ description: "pool: the vendor reports these credits as drawn from the plan-level pool, so they skip the member's own credits" }),
});

const events_array = (items: z.ZodType) =>
  z
    .array(items, 'send {"events": [...]} with at least one event')
    .min(1, 'send at least one event')
    .max(batch_events_max, `send at most ${batch_events_max} events per call`);

/**
 * A batch as the route reads it: `{events: [...]}` or the bare array. Events are checked one by
 * one afterwards, so one bad event is rejected alone.
 */
export const usage_batch = z.preprocess(
  (value) => (Array.isArray(value) ? { events: value } : value),
  z.object({ events: events_array(z.unknown()) }, 'send {"events": [...]} with at least one event'),
);

/** The same batch as the OpenAPI document describes it, each event by usage_event. */
export const usage_batch_document = z.union([z.object({ events: events_array(usage_event) }), events_array(usage_event)]);

/**
 * What a list item carries that a PUT does not set: the entry's key (the path names it) and when
 * it last changed. A PUT takes them so that an item as GET lists it can be sent back as it came;
 * the route refuses a `key` other than the path's, and `updated_at` is ignored.
 */
const listed_fields = {
  key: key_param.optional().meta({ description: "read-only, as the list shows it: must be the key in the path when sent" }),
  updated_at: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time, as the list shows it' }).optional()
    .meta({ description: 'read-only, as the list shows it: ignored (the entry gets the time of this PUT)' }),
};

export const plan_body = z.strictObject({
  ...listed_fields,
  name: text(),
  credits: positive_credits,
  tool: tool_key.nullish(),
  rollover_cap: credits_or_zero.nullish(),
  /** SPEC "Daily limits": credits per member per day in the tool's time zone. */
  daily_limit: positive_credits.nullish().meta({ description: "credits a member may use per day, in the tool's time zone; left out: no daily limit" }),
});

export const pack_product_body = z.strictObject({
  ...listed_fields,
  name: text(),
  credits: positive_credits,
  tool: tool_key.nullish(),
  kind: z.enum(['recurring', 'one_time']),
  expires_days: wholeNumber(1, pack_expires_days_max, 'days').nullish(),
  reassign: z.enum(['remaining', 'full', 'next_cycle']).default('remaining'),
  rollover_cap: credits_or_zero.nullish(),
});

export const profile_body = z.strictObject({
  ...listed_fields,
  name: text(),
  tool: tool_key.nullish(),
  pool_credits: credits_or_zero.nullish(),
  member_pool_cap: credits_or_zero.nullish(),
});

export const seat_body = z
  .strictObject({
    plan: key_param.optional(),
    plans: z
      .array(key_param, 'must be a list of plan keys such as ["pro"]')
      .min(1, 'must name at least one plan')
      .max(seat_plans_max, `must name at most ${seat_plans_max} plans`)
      .optional()
      .meta({ description: "the plans the seat holds, all of one tool; their credits stack" }),
    profile: key_param.nullish(),
    email: z.email('must be an email address').max(user_ref_length_max).nullish(),
    name: optionalText(),
    anchor_day: wholeNumber(1, 31).nullish(),
    // Null clears the login, left out keeps it: not optionalText, which reads both as null.
    vendor_user: text({ max: user_ref_length_max }).nullish()
      .meta({ description: "the member's login at the vendor (a GitHub login), unique per tool; null clears it" }),
  })
  .refine((b) => (b.plan === undefined) !== (b.plans === undefined), {
    message: 'send the seat\'s plans as {"plans": ["pro", ...]} or one as {"plan": "pro"}, not both',
    path: ['plans'],
  })
  .meta({ override: { oneOf: [{ required: ['plan'] }, { required: ['plans'] }] } });

export const purchase_body = z.strictObject({
  product: key_param,
  quantity: wholeNumber(1, purchase_packs_max),
  reference: optionalText(),
  // What purchases.unit_cost, numeric(14,4), holds.
  unit_cost: z
    .union([
      z.number().nonnegative('must be 0 or more').max(unit_cost_max, `must be at most ${unit_cost_max}`),
      z.string().regex(/^\d{1,10}(\.\d{1,4})?$/, 'must be an amount such as 120.00'),
    ])
    .nullish(),
  purchased_at: iso_time('must be an ISO 8601 time such as 2026-05-20T14:03:00Z').nullish(),
});

export const assign_body = z.strictObject({ product: key_param, user: user_param });
export const unassign_body = z.strictObject({ pack_id: row_id });

export const adjustment_body = z.strictObject({
  user: user_param,
  tool: tool_key.nullish(),
  credits: z
    .number({ error: 'must be a number of credits' })
    .int('must be a whole number of credits')
    .refine((n) => n !== 0, 'must not be 0: positive grants credits, negative debits them')
    .refine((n) => Math.abs(n) <= credits_max, `must be at most ${credits_max} either way`)
    // The refinements above as JSON Schema, for the OpenAPI document.
    .meta({ minimum: -credits_max, maximum: credits_max, not: { const: 0 } }),
  reason: text(),
});

/** `?tool=KEY`: which of the member's seats a call means; may be left out while the org has one tool. */
export const tool_query = z.object({ tool: tool_key.optional() });

export const report_query = z.object({
  cycle: cycle_name.optional(),
  format: z.enum(['json', 'csv']).default('json'),
  tool: tool_key.optional(),
  /** Chargeback: `profile`, or `attribute:<name>` for a member attribute such as department. */
  group_by: z.string().regex(/^(profile|attribute:[a-z0-9_ -]{1,40})$/i, 'must be profile or attribute:<name>, such as attribute:department').optional(),
});

export const tool_body = z.strictObject({
  key: listed_fields.key,
  name: text(),
  unit: text({ max: unit_name_length_max }).nullish().meta({ description: 'what one unit is called, such as premium requests; left out: kept (a new tool: credits)' }),
  time_zone: text({ max: time_zone_length_max })
    .refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin')
    .nullable()
    .optional()
    .meta({ description: "the IANA zone of the tool's cycles and daily limits; null: ORG_TIMEZONE; left out: kept" }),
  anchor_day: wholeNumber(1, 31).nullable().optional()
    .meta({ description: "the day of the month the tool's seats, pools and budget renew; null: CYCLE_ANCHOR_DAY; left out: kept" }),
  overage_budget: credits_or_zero.nullable().optional()
    .meta({ description: 'credits of overage the org allows per tool cycle; null: no budget; left out: kept' }),
  // What tools.overage_unit_cost, numeric(14,6), holds.
  overage_unit_cost: z
    .union([
      z.number().nonnegative('must be 0 or more').max(overage_unit_cost_max, `must be at most ${overage_unit_cost_max}`),
      z.string().regex(/^\d{1,8}(\.\d{1,6})?$/, 'must be an amount such as 0.04'),
    ])
    .nullable()
    .optional()
    .meta({ description: 'the price of one overage credit, for reports; null: unknown; left out: kept' }),
  sync_nudge: z.boolean('must be true or false').nullish()
    .meta({ description: 'a weekly DM asks each member with a seat what the vendor shows; left out: kept' }),
  // As GET /api/v1/tools shows it, so a listed tool sent back keeps following the environment.
  follows_environment: z
    .strictObject({ time_zone: z.boolean('must be true or false').optional(), anchor_day: z.boolean('must be true or false').optional() })
    .optional()
    .meta({
      description:
        'true: the zone (or anchor day) follows ORG_TIMEZONE (CYCLE_ANCHOR_DAY), as null does; time_zone or anchor_day sent beside it must then be the environment\'s. false or left out: time_zone and anchor_day decide',
    }),
});

/**
 * Page size: the whole numbers 1 to list_page_items_max (500) as a query string carries them, as
 * one pattern so that the document says exactly what is taken. The list tests hold it to the limit.
 */
const page_limit_pattern = /^([1-9]\d?|[1-4]\d\d|500)$/;
invariant(
  page_limit_pattern.test(String(list_page_items_max)) && !page_limit_pattern.test(String(list_page_items_max + 1)),
  'page_limit_pattern must take 1 to list_page_items_max exactly',
);
const page_limit = z
  .string()
  .regex(page_limit_pattern, `must be a whole number of items from 1 to ${list_page_items_max}`)
  .transform(Number)
  .optional()
  .meta({ description: `items on the page, 1 to ${list_page_items_max}; ${list_page_items_default} when left out` });

/**
 * An opaque cursor: the `next_cursor` of the page before. It holds the key or id the next page
 * starts after (base64url JSON), so it keeps working while rows are added.
 */
export const encodeCursor = (after: string | number): string => Buffer.from(JSON.stringify(after)).toString('base64url');

const cursor_refused = "is not a cursor this API gave out: send a page's next_cursor as it came, or leave it out to start at the first page";

function cursorOf<T extends z.ZodType>(after: T) {
  return z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,200}$/, cursor_refused)
    .transform((cursor, ctx) => {
      let value: unknown;
      try {
        value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
      } catch {
        value = undefined;
      }
      const parsed = after.safeParse(value);
      if (parsed.success) return parsed.data as z.output<T>;
      ctx.addIssue({ code: 'custom', message: cursor_refused, input: cursor });
      return z.NEVER;
    })
    .optional()
    .meta({ description: "the next_cursor of the page before; left out: the first page" });
}

const key_cursor = cursorOf(catalog_key);
const id_cursor = cursorOf(z.number().int().min(1).max(int4_max));

/** `GET /api/v1/plans`, `/pack-products`, `/profiles`: keyset pages by key. */
export const catalog_list_query = z.object({ tool: tool_key.optional(), limit: page_limit, cursor: key_cursor });
/** `GET /api/v1/seats`, `/purchases`: keyset pages by id. */
export const id_list_query = z.object({ tool: tool_key.optional(), limit: page_limit, cursor: id_cursor });
/** `GET /api/v1/packs`: by id, also by product and whether a pack is free to assign. */
export const pack_list_query = id_list_query.extend({
  product: key_param.optional(),
  free: z
    .enum(['true', 'false'], 'must be true or false')
    .transform((value) => value === 'true')
    .optional()
    .meta({ description: 'true: only packs free to assign now; false: only packs assigned or expired' }),
});

/** One line naming each field at fault and what it needs. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
