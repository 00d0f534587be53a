// What a person or a system may send creditdesk, as the zod schemas every boundary builds on: the
// HTTP API, Slack's slash text and modals, the CLI's imports. Text is storable (no NUL, no lone
// surrogate: ledger/text.ts) and within its limit after trimming; numbers are whole and within
// what their column holds (ledger/limits.ts). Each boundary words its own messages where it must.
import { z } from 'zod';
import { credits_max, cycle_year_max, cycle_year_min, int4_max, text_length_max } from './ledger/limits.ts';
import { textProblem } from './ledger/text.ts';

/** Refuses text the database cannot store; `label` starts the message where no path names the field (a CSV row). */
const refuseUnstorable = (label?: string) => (value: string, ctx: z.core.$RefinementCtx<string>) => {
  const problem = textProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: label ? `${label} ${problem}` : problem, input: value });
};

/**
 * What refuseUnstorable checks, for the API's OpenAPI document: a JSON Schema (ECMA-262 patterns,
 * matched with the `u` flag) refusing a NUL and a surrogate that is not half of a pair.
 */
const storable_json_schema = { not: { pattern: '\\u0000|[\\uD800-\\uDFFF]' } };

/** Any string the database can store, as sent: for values another check reads further (dates, CSV cells). */
export function storableString(label?: string) {
  return z.string({ error: label ? `${label} must be text` : 'must be text' }).superRefine(refuseUnstorable(label)).meta(storable_json_schema);
}

export interface TextLimits {
  /** Characters after trimming; text_length_max unless said. */
  max?: number;
  /** Characters after trimming; 1 unless said. */
  min?: number;
  /** Starts every message, where no path names the field (a CSV row): "feature must ...". */
  label?: string;
  /** Override the messages, e.g. in Slack's words. */
  tooShort?: string;
  tooLong?: string;
}

/**
 * Text a person typed or a system sent: trimmed, then between `min` and `max` characters, and
 * storable. Out: the trimmed string.
 */
export function text(limits: TextLimits = {}) {
  const max = limits.max ?? text_length_max;
  const min = limits.min ?? 1;
  const say = (message: string) => (limits.label ? `${limits.label} ${message}` : message);
  return z
    .string({ error: say('must be text') })
    .trim()
    .min(min, limits.tooShort ?? say(min === 1 ? 'must not be empty' : `must be at least ${min} characters`))
    .max(max, limits.tooLong ?? say(`must be at most ${max.toLocaleString('en-US')} characters`))
    .superRefine(refuseUnstorable(limits.label))
    // The document cannot say "after trimming"; for text that must not be empty it says "not blank".
    .meta(min > 0 ? { ...storable_json_schema, pattern: '\\S' } : storable_json_schema);
}

/** Text that may be left out or empty: null then. Out: the trimmed string, or null. */
export function optionalText(limits: Omit<TextLimits, 'min' | 'tooShort'> = {}) {
  return text({ ...limits, min: 0 })
    .nullish()
    .transform((value) => value || null);
}

/**
 * An identifier chosen by the sender (an event id): compared exactly as sent, so it is not
 * trimmed; 1 to `max` characters, not spaces alone, and storable.
 */
export function identifier(max: number, limits: Pick<TextLimits, 'label' | 'tooShort'> = {}) {
  const say = (message: string) => (limits.label ? `${limits.label} ${message}` : message);
  return z
    .string({ error: say('must be text') })
    .min(1, limits.tooShort ?? say('must not be empty'))
    .max(max, say(`must be at most ${max.toLocaleString('en-US')} characters`))
    // Spaces alone name nothing anyone could find again: refused as an empty id is.
    .regex(/\S/, limits.tooShort ?? say('must not be blank'))
    .superRefine(refuseUnstorable(limits.label))
    .meta(storable_json_schema);
}

/** A whole number from `min` to `max`, such as a count or a number of days. */
export function wholeNumber(min: number, max: number, unit = '') {
  const what = unit ? ` ${unit}` : '';
  return z
    .number({ error: `must be a number${what ? ` of${what}` : ''}` })
    .int(`must be a whole number${what ? ` of${what}` : ''}`)
    .min(min, `must be at least ${min.toLocaleString('en-US')}`)
    .max(max, `must be at most ${max.toLocaleString('en-US')}`);
}

/** The id of a row in an int4 column (a pack, a purchase, a request): 1 to 2,147,483,647. */
export const row_id = wholeNumber(1, int4_max);

/** An amount of credits in one grant, event or adjustment: 1 to credits_max. */
export const positive_credits = z
  .number({ error: 'must be a number of credits' })
  .int('must be a whole number of credits')
  .positive('must be more than 0')
  .max(credits_max, `must be at most ${credits_max.toLocaleString('en-US')}`);

/** Credits that may be 0 (a pool, a cap): 0 to credits_max. */
export const credits_or_zero = z
  .number({ error: 'must be a number of credits' })
  .int('must be a whole number of credits')
  .min(0, 'must be 0 or more')
  .max(credits_max, `must be at most ${credits_max.toLocaleString('en-US')}`);

/** The key of a plan, pack product or profile: lowercase letters, digits, - and _, as a URL path carries it. */
export const catalog_key = z
  .string({ error: 'must be text' })
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'keys are 1-64 lowercase letters, digits, - or _, such as pro or addon-2000');

/** A cycle by the month it starts in, `YYYY-MM`, within the years the calendar arithmetic and the database hold. */
export const cycle_name = z
  .string({ error: 'must name a cycle as YYYY-MM' })
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must name a cycle as YYYY-MM')
  .refine((name) => {
    const year = Number(name.slice(0, 4));
    return year >= cycle_year_min && year <= cycle_year_max;
  }, `must be a cycle from ${cycle_year_min}-01 to ${cycle_year_max}-12`)
  // The same years as one pattern, for the API's OpenAPI document (a refinement has no JSON Schema).
  .meta({ override: { pattern: '^(19[7-9]\\d|[2-8]\\d{3}|9[0-8]\\d{2}|99[0-8]\\d|999[0-8])-(0[1-9]|1[0-2])$' } });

/** Every cell of a CSV row, by column name: each storable, whatever the column means. */
const csv_cells = z.record(z.string(), storableString());

/**
 * What keeps a CSV row's cells out of the database, naming the column, or null. For imports
 * that read some columns through other checks: a row is then refused by its line, not the file.
 */
export function csvCellsProblem(values: Record<string, string>): string | null {
  const parsed = csv_cells.safeParse(values);
  if (parsed.success) return null;
  const issue = parsed.error.issues[0]!;
  return `column "${String(issue.path[0] ?? '')}" ${issue.message}`;
}
