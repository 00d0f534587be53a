// View state and private_metadata, read with zod: a modal's values arrive as nested objects.
import { z } from 'zod';
import { catalog_key, optionalText, row_id, text } from '../../input.ts';
import { credits_max, int4_max, pack_expires_days_max, text_length_max } from '../../ledger/limits.ts';
import { admin_forms } from '../blocks/admin.ts';
import { blocks, inputs } from '../ids.ts';

type State = Record<
  string,
  Record<string, { value?: string | null; selected_option?: { value: string } | null; selected_options?: { value: string }[] | null; selected_user?: string | null }>
>;

export const value = (state: State, block: string, action: string) => state[block]?.[action]?.value ?? null;
export const selected = (state: State, block: string, action: string) => state[block]?.[action]?.selected_option?.value ?? null;
/** A multi-select's picks, in the order Slack sends them; [] when none. */
export const selectedValues = (state: State, block: string, action: string) => (state[block]?.[action]?.selected_options ?? []).map((o) => o.value);
/** A menu's pick, or what was typed in the field that stands for a menu too long to show. */
export const selectedOrTyped = (state: State, block: string, action: string) => selected(state, block, action) ?? (value(state, block, action)?.trim() || null);
export const selectedUser = (state: State) => state[blocks.user]?.[inputs.user]?.selected_user ?? null;

export const amount_schema = z.coerce
  .number({ error: 'Enter a number of credits' })
  .int('Enter a whole number of credits')
  .positive('Enter more than 0')
  .max(credits_max, 'That is more than any grant can hold');

export const signed_amount_schema = z.coerce
  .number({ error: 'Enter a number of credits' })
  .int('Enter a whole number of credits')
  .refine((n) => n !== 0, 'Enter a positive number to grant or a negative one to debit')
  .refine((n) => Math.abs(n) <= credits_max, 'That is more than any grant can hold');

/** How a pack moves to its next assignee; unchosen keeps what the product has. */
export const reassign_schema = z.enum(['remaining', 'full', 'next_cycle']).optional();
export const reassign_words: Record<z.infer<typeof reassign_schema> & string, string> = {
  remaining: 'with its unused credits',
  full: 'with a fresh grant',
  next_cycle: 'with nothing until the next reset',
};

export const expires_days_schema = z.coerce
  .number({ error: 'Enter a number of days' })
  .int('Enter a whole number of days')
  .positive('Enter at least 1 day')
  .max(pack_expires_days_max, `Enter at most ${pack_expires_days_max.toLocaleString('en-US')} days`)
  .optional();

const too_long = `Keep it under ${text_length_max.toLocaleString('en-US')} characters`;

export const reason_schema = text({ tooShort: 'Say why, in a few words', tooLong: too_long });

/** A request's reason may be left empty; none is kept as null. */
export const optional_reason_schema = optionalText({ tooLong: too_long });

/** A catalog entry's name, as people will recognise it. */
export const name_schema = text({ tooShort: 'Give it a name people recognise', tooLong: too_long });

/** A purchase's reference (a PO number); may be left empty. */
export const reference_schema = optionalText({ tooLong: too_long });

/** A plan's daily limit in credits; left empty, the plan keeps what it has. */
export const daily_limit_schema = z.coerce
  .number({ error: 'Enter a number of credits per day' })
  .int('Enter a whole number of credits')
  .positive('Enter more than 0')
  .max(credits_max, 'That is more than any grant can hold')
  .optional();

/** A tool's overage budget per cycle; 0 allows none. Left empty, the tool keeps what it has. */
export const budget_schema = z.coerce
  .number({ error: 'Enter a number of credits per cycle' })
  .int('Enter a whole number of credits')
  .min(0, 'Enter 0 or more')
  .max(credits_max, 'That is more than any grant can hold')
  .optional();

/** A tool's unit ("premium requests"), or a member's vendor login; may be left empty. */
export const optional_name_schema = optionalText({ tooLong: too_long });

/** Plan keys typed in one field: separated by commas or spaces. */
export const typedKeys = (typed: string | null) => (typed ?? '').split(/[\s,]+/).filter(Boolean);

/** A pack's number, as the inventory shows it: a row id. */
export const pack_id_schema = z.coerce
  .number({ error: 'Enter the pack number' })
  .int('Enter the pack number')
  .min(1, 'Enter the pack number')
  .max(int4_max, 'There is no pack with that number');

/** The admin menu's button values: which form to open. */
export const admin_form_schema = z.enum(admin_forms);

export const approve_metadata = z.object({ requestId: row_id });
/** The tool a request modal is for, when the member had no choice (see blocks/request.ts). */
export const request_metadata = z.object({ tool: catalog_key });
const slack_user_id = z.string().regex(/^[UW][A-Z0-9]+$/);
/** The revoke form's steps: the member whose seat to pick (`user`), then the preview to confirm (`confirm`, `tool`). */
export const revoke_metadata = z.object({ confirm: slack_user_id, tool: catalog_key, user: slack_user_id }).partial();
/** The adjust form's second step, which asks which seat: the member it is for. */
export const adjust_metadata = z.object({ user: slack_user_id }).partial();

export function parseMetadata<T>(schema: z.ZodType<T>, raw: string | undefined): T | null {
  try {
    const parsed = schema.safeParse(JSON.parse(raw || '{}'));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export type { State as ViewState };
