// zod schemas for every body and parameter of the HTTP API. Field names are the API's
// (snake_case); routes map them onto the ledger's inputs.
import { z } from 'zod';
import { batch_events_max, credits_max, event_id_length_max, text_length_max } from '../ledger/limits.ts';

const positiveCredits = z
  .number({ error: 'must be a number of credits' })
  .int('must be a whole number of credits')
  .positive('must be more than 0')
  .max(credits_max, `must be at most ${credits_max}`);

const nonNegativeCredits = z.number().int('must be a whole number of credits').min(0, 'must be 0 or more').max(credits_max);

export const key_param = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'keys are 1-64 lowercase letters, digits, - or _, such as pro or addon-2000');

export const user_param = z.string().min(1).max(254);

const text = z.string().trim().min(1).max(text_length_max);

export const usage_event = z.object({
  id: z.string().min(1, 'every event needs an id').max(event_id_length_max),
  user: z.string().min(1).max(254),
  credits: positiveCredits,
  at: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time such as 2026-05-20T14:03:00Z' }).optional(),
  feature: z.string().max(text_length_max).nullish(),
  source: z.string().max(text_length_max).nullish(),
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
  name: text,
  credits: positiveCredits,
  rollover_cap: nonNegativeCredits.nullish(),
});

export const pack_product_body = z.strictObject({
  name: text,
  credits: positiveCredits,
  kind: z.enum(['recurring', 'one_time']),
  expires_days: z.number().int().min(1).max(3660).nullish(),
  reassign: z.enum(['remaining', 'full', 'next_cycle']).default('remaining'),
  rollover_cap: nonNegativeCredits.nullish(),
});

export const profile_body = z.strictObject({
  name: text,
  pool_credits: nonNegativeCredits.nullish(),
  member_pool_cap: nonNegativeCredits.nullish(),
});

export const seat_body = z.strictObject({
  plan: key_param,
  profile: key_param.nullish(),
  email: z.email('must be an email address').nullish(),
  name: text.nullish(),
  anchor_day: z.number().int().min(1).max(31).nullish(),
});

export const purchase_body = z.strictObject({
  product: key_param,
  quantity: z.number().int('must be a whole number').min(1).max(10_000),
  reference: text.nullish(),
  unit_cost: z
    .union([z.number().nonnegative(), z.string().regex(/^\d{1,10}(\.\d{1,4})?$/, 'must be an amount such as 120.00')])
    .nullish(),
  purchased_at: z.iso.datetime({ offset: true }).nullish(),
});

export const assign_body = z.strictObject({ product: key_param, user: user_param });
export const unassign_body = z.strictObject({ pack_id: z.number().int().positive() });

export const adjustment_body = z.strictObject({
  user: user_param,
  credits: z
    .number()
    .int('must be a whole number of credits')
    .refine((n) => n !== 0, 'must not be 0: positive grants credits, negative debits them')
    .refine((n) => Math.abs(n) <= credits_max, `must be at most ${credits_max} either way`),
  reason: text,
});

export const report_query = z.object({
  cycle: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must name a cycle as YYYY-MM').optional(),
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
