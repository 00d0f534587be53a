// zod schemas for every body and parameter of the HTTP API. Field names are the API's
// (snake_case); routes map them onto the ledger's inputs.
import { z } from 'zod';
import { catalog_key, credits_or_zero, cycle_name, identifier, optionalText, positive_credits, row_id, text, wholeNumber } from '../input.ts';
import {
  batch_events_max, credits_max, event_id_length_max, pack_expires_days_max, purchase_packs_max, unit_cost_max, user_ref_length_max,
} from '../ledger/limits.ts';

export const key_param = catalog_key;

/** A Slack user id or an email address; the ledger reads which. */
export const user_param = text({ max: user_ref_length_max });

const iso_time = (error: string) => z.iso.datetime({ offset: true, error });

export const usage_event = z.object({
  id: identifier(event_id_length_max, { tooShort: 'every event needs an id' }),
  user: user_param,
  credits: positive_credits,
  at: iso_time('must be an ISO 8601 time such as 2026-05-20T14:03:00Z').optional(),
  feature: optionalText(),
  source: optionalText(),
});

/** A batch: `{events: [...]}` or the bare array. Events are checked one by one afterwards. */
export const usage_batch = z.preprocess(
  (value) => (Array.isArray(value) ? { events: value } : value),
  z.object({
    events: z
      .array(z.unknown(), 'send {"events": [...]} with at least one event')
      .min(1, 'send at least one event')
      .max(batch_events_max, `send at most ${batch_events_max} events per call`),
  }, 'send {"events": [...]} with at least one event'),
);

export const plan_body = z.strictObject({
  name: text(),
  credits: positive_credits,
  rollover_cap: credits_or_zero.nullish(),
});

export const pack_product_body = z.strictObject({
  name: text(),
  credits: positive_credits,
  kind: z.enum(['recurring', 'one_time']),
  expires_days: wholeNumber(1, pack_expires_days_max, 'days').nullish(),
  reassign: z.enum(['remaining', 'full', 'next_cycle']).default('remaining'),
  rollover_cap: credits_or_zero.nullish(),
});

export const profile_body = z.strictObject({
  name: text(),
  pool_credits: credits_or_zero.nullish(),
  member_pool_cap: credits_or_zero.nullish(),
});

export const seat_body = z.strictObject({
  plan: key_param,
  profile: key_param.nullish(),
  email: z.email('must be an email address').max(user_ref_length_max).nullish(),
  name: optionalText(),
  anchor_day: wholeNumber(1, 31).nullish(),
});

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
  credits: z
    .number({ error: 'must be a number of credits' })
    .int('must be a whole number of credits')
    .refine((n) => n !== 0, 'must not be 0: positive grants credits, negative debits them')
    .refine((n) => Math.abs(n) <= credits_max, `must be at most ${credits_max} either way`),
  reason: text(),
});

export const report_query = z.object({
  cycle: cycle_name.optional(),
  format: z.enum(['json', 'csv']).default('json'),
  /** Chargeback: `profile`, or `attribute:<name>` for a member attribute such as department. */
  group_by: z.string().regex(/^(profile|attribute:[a-z0-9_ -]{1,40})$/i, 'must be profile or attribute:<name>, such as attribute:department').optional(),
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
