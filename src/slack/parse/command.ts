// The /credits text, parsed with zod into one of the forms SPEC lists. Anything else is an
// error value carrying what was wrong, shown together with the help.
import { z } from 'zod';
import { cycle_name, optionalText } from '../../input.ts';
import { credits_max, cycle_year_max, cycle_year_min, text_length_max } from '../../ledger/limits.ts';
import { textProblem } from '../../ledger/text.ts';

const amount = z.coerce
  .number({ error: 'the amount must be a number of credits, such as 500' })
  .int('the amount must be a whole number of credits')
  .positive('the amount must be more than 0')
  .max(credits_max, 'that amount is larger than any credit grant');
const remaining = z.coerce.number({ error: 'give the remaining balance as a number, such as 2400' }).int('the balance must be a whole number').min(0, 'the balance cannot be negative').max(credits_max);
/** Free text after the amount (a reason, a feature): refused past text_length_max, never cut. */
const free_text = optionalText({ tooLong: `is longer than ${text_length_max.toLocaleString('en-US')} characters; say it in fewer words` });

export type CreditsCommand =
  | { kind: 'balance' }
  | { kind: 'history' }
  | { kind: 'help' }
  | { kind: 'request'; amount: number | null; reason: string | null }
  | { kind: 'log'; amount: number; feature: string | null }
  | { kind: 'sync'; remaining: number }
  | { kind: 'member'; userId: string }
  | { kind: 'report'; cycle: string | null }
  | { kind: 'admin' }
  | { kind: 'invalid'; error: string };

export function parseCommand(text: string): CreditsCommand {
  const unstorable = textProblem(text);
  if (unstorable) return invalid(`the command ${unstorable}`);
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [first, ...others] = words;
  if (!first || first === 'balance') return others.length === 0 ? { kind: 'balance' } : invalid(`"balance" takes nothing after it`);
  const mention = /^<@([UW][A-Z0-9]+)(\|[^>]*)?>$/.exec(first);
  if (mention) return others.length === 0 ? { kind: 'member', userId: mention[1]! } : invalid('name one member, such as /credits @maya');
  switch (first.toLowerCase()) {
    case 'history':
      return { kind: 'history' };
    case 'help':
      return { kind: 'help' };
    case 'admin':
      return { kind: 'admin' };
    case 'report': {
      const cycle = others[0] ?? null;
      if (cycle && !cycle_name.safeParse(cycle).success) return invalid(`the cycle must look like 2026-05 (from ${cycle_year_min}-01 to ${cycle_year_max}-12), not "${cycle.slice(0, 20)}"`);
      return { kind: 'report', cycle };
    }
    case 'request': {
      if (others.length === 0) return { kind: 'request', amount: null, reason: null };
      const parsed = amount.safeParse(others[0]);
      const reason = free_text.safeParse((parsed.success ? others.slice(1) : others).join(' '));
      if (!reason.success) return invalid(`the reason ${reason.error.issues[0]!.message}`);
      return { kind: 'request', amount: parsed.success ? parsed.data : null, reason: reason.data };
    }
    case 'log': {
      const parsed = amount.safeParse(others[0]);
      if (!parsed.success) return invalid(`/credits log needs an amount: ${parsed.error.issues[0]!.message}`);
      const feature = free_text.safeParse(others.slice(1).join(' '));
      if (!feature.success) return invalid(`the feature ${feature.error.issues[0]!.message}`);
      return { kind: 'log', amount: parsed.data, feature: feature.data };
    }
    case 'sync': {
      const parsed = remaining.safeParse(others[0]);
      if (!parsed.success || others.length > 1) return invalid(`/credits sync needs the remaining balance the vendor's app shows, such as /credits sync 2400`);
      return { kind: 'sync', remaining: parsed.data };
    }
    default:
      return invalid(`"${first.slice(0, 30)}" is not a /credits command`);
  }
}

const invalid = (error: string): CreditsCommand => ({ kind: 'invalid', error });
