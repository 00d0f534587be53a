// The /credits text, parsed with zod into one of the forms SPEC lists. Anything else is an
// error value carrying what was wrong, shown together with the help.
import { z } from 'zod';
import { credits_max, text_length_max } from '../../ledger/limits.ts';

const amount = z.coerce
  .number({ error: 'the amount must be a number of credits, such as 500' })
  .int('the amount must be a whole number of credits')
  .positive('the amount must be more than 0')
  .max(credits_max, 'that amount is larger than any credit grant');
const remaining = z.coerce.number({ error: 'give the remaining balance as a number, such as 2400' }).int('the balance must be a whole number').min(0, 'the balance cannot be negative').max(credits_max);
const rest = (words: string[]) => words.join(' ').slice(0, text_length_max) || null;

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
      if (cycle && !/^\d{4}-(0[1-9]|1[0-2])$/.test(cycle)) return invalid(`the cycle must look like 2026-05, not "${cycle.slice(0, 20)}"`);
      return { kind: 'report', cycle };
    }
    case 'request': {
      if (others.length === 0) return { kind: 'request', amount: null, reason: null };
      const parsed = amount.safeParse(others[0]);
      if (!parsed.success) return { kind: 'request', amount: null, reason: rest(others) };
      return { kind: 'request', amount: parsed.data, reason: rest(others.slice(1)) };
    }
    case 'log': {
      const parsed = amount.safeParse(others[0]);
      if (!parsed.success) return invalid(`/credits log needs an amount: ${parsed.error.issues[0]!.message}`);
      return { kind: 'log', amount: parsed.data, feature: rest(others.slice(1)) };
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
