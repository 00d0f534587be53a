// The /credits text, parsed with zod into one of the forms SPEC lists. Anything else is an
// error value carrying what was wrong, shown together with the help.
import { z } from 'zod';
import { catalog_key, cycle_name } from '../../input.ts';
import { credits_max, cycle_year_max, cycle_year_min, text_length_max } from '../../ledger/limits.ts';
import { textProblem } from '../../ledger/text.ts';
import { truncate } from '../blocks/limits.ts';

/**
 * What a person typed, from the text Slack sent. Slack escapes `&`, `<` and `>` in a slash
 * command's text (the control characters of "Formatting text for app surfaces"), and with the
 * command's `should_escape` (manifest.yml) it sends a mention typed as @maya as `<@U123|maya>`,
 * a channel as `<#C123|general>`, a link as `<https://…>`. These become what the person saw
 * as they typed (`@maya`, `#general`, `https://…`) and the entities the characters themselves,
 * so `/credits log 5 R&D` stores `R&D`. Modal fields need none of this: Slack sends their
 * values as typed.
 */
export function typedText(text: string): string {
  return text
    .replace(/<([@#])[^<>|]*\|([^<>]*)>/g, (_, sigil: string, label: string) => `${sigil}${label.replace(/^[@#]/, '')}`)
    .replace(/<![^<>|]*\|([^<>]*)>/g, '$1')
    .replace(/<!(\w+)[^<>|]*>/g, '@$1')
    .replace(/<[@#][^<>|]*>/g, (whole: string) => whole.slice(1, -1))
    .replace(/<((?:https?|mailto):[^<>|]*)(?:\|([^<>]*))?>/g, (_, url: string, label?: string) => label ?? url)
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/**
 * An amount as people write it: a whole number without a sign or leading zeros, optionally with
 * `,` or a thin space (U+2009, or the narrow no-break space U+202F) between groups of three
 * digits, the same one throughout: `1500`, `1,500`, `12 500`. `1e12`, `0x10`, `+5`, `0005`,
 * `1.5` and `1,00` are not amounts; they are refused rather than read as something else.
 */
const amount_pattern = /^(?:0|[1-9]\d*|[1-9]\d{0,2}(?:,\d{3})+|[1-9]\d{0,2}(?:\u2009\d{3})+|[1-9]\d{0,2}(?:\u202F\d{3})+)$/;
/** Words that are meant as a number, right or wrong: they get the amount's error, not a reading as a reason. */
const number_like = /^[+\-−]?\.?\d[\d.,_\u2009\u202F]*(?:[eE][+\-]?\d+)?$|^[+\-]?0[xXbBoO][\da-fA-F]+$/;

const whole_number = (error: string) =>
  z
    .string()
    .regex(amount_pattern, error)
    .transform((word) => Number(word.replace(/[,\u2009\u202F]/g, '')));

// Whole by the pattern; no int() check after it, whose own message for numbers past 2^53
// ("Too big: expected int ...") would reach people instead of these.
const amount = whole_number('write the amount as a whole number of credits, such as 500 or 1,500')
  .pipe(z.number().positive('the amount must be more than 0').max(credits_max, 'that amount is larger than any credit grant'));
const remaining = whole_number('give the remaining balance as a whole number, such as 2400 or 2,400').pipe(z.number().min(0).max(credits_max, 'that balance is larger than any credit grant'));

/**
 * What a person typed after the amount (a reason, a feature), decoded: null when nothing, an
 * error past text_length_max characters (refused, never cut: it is stored as typed).
 */
function rest(words: string[]): { text: string | null } | { error: string } {
  const text = words.length > 0 ? typedText(words.join(' ')).trim() : '';
  if ([...text].length > text_length_max) return { error: `is longer than ${text_length_max.toLocaleString('en-US')} characters; say it in fewer words` };
  return { text: text || null };
}
/** A word of the command quoted back in an error: as typed, and short. */
const quote = (word: string, max: number) => truncate(typedText(word), max);

/**
 * A command that may name a tool carries its key in `tool`, absent when not named. With one tool
 * in the org nobody needs to name it; with several, the listener decides which tool an unnamed one means.
 */
export type CreditsCommand =
  | { kind: 'balance'; tool?: string }
  | { kind: 'history' }
  | { kind: 'help' }
  | { kind: 'request'; amount: number | null; reason: string | null }
  | { kind: 'log'; tool?: string; amount: number; feature: string | null }
  | { kind: 'sync'; tool?: string; remaining: number }
  | { kind: 'member'; userId: string; tool?: string }
  | { kind: 'report'; tool?: string; cycle: string | null }
  | { kind: 'admin' }
  | { kind: 'invalid'; error: string };

/** A word typed where a tool key may stand: keys are lowercase, so `Figma` means `figma`. Null when it cannot be a key. */
function toolWord(word: string): string | null {
  const key = typedText(word).toLowerCase();
  return catalog_key.safeParse(key).success ? key : null;
}

/** A word that is meant as a cycle (`2026-05`, or a mistyped `2026-5`), rather than a tool key. */
const cycle_like = /^\d{4}-/;

export function parseCommand(text: string): CreditsCommand {
  const unstorable = textProblem(text);
  if (unstorable) return invalid(`the command ${unstorable}`);
  // A thin space inside a number groups its digits; every other space separates words.
  const words = text.trim().split(/[^\S\u2009\u202F]+/).filter(Boolean);
  const [first, ...others] = words;
  if (!first) return { kind: 'balance' };
  if (first === 'balance') {
    if (others.length === 0) return { kind: 'balance' };
    const tool = others.length === 1 ? toolWord(others[0]!) : null;
    return tool ? { kind: 'balance', tool } : invalid(`"balance" takes at most a tool's key after it, such as /credits balance figma`);
  }
  const mention = /^<@([UW][A-Z0-9]+)(\|[^>]*)?>$/.exec(first);
  if (mention) {
    if (others.length === 0) return { kind: 'member', userId: mention[1]! };
    const tool = others.length === 1 ? toolWord(others[0]!) : null;
    return tool ? { kind: 'member', userId: mention[1]!, tool } : invalid('name one member, and at most one tool, such as /credits @maya or /credits @maya figma');
  }
  switch (first.toLowerCase()) {
    case 'history':
      return { kind: 'history' };
    case 'help':
      return { kind: 'help' };
    case 'admin':
      return { kind: 'admin' };
    case 'report': {
      // `report [tool] [YYYY-MM]`: a word that looks like a month is the cycle, any other the tool.
      let cycle: string | null = null;
      let tool: string | null = null;
      if (others.length > 2) return invalid('/credits report takes at most a tool and a cycle, such as /credits report figma 2026-05');
      for (const word of others) {
        if (cycle_like.test(word)) {
          if (!cycle_name.safeParse(word).success) {
            return invalid(`the cycle must look like 2026-05 (from ${cycle_year_min}-01 to ${cycle_year_max}-12), not "${quote(word, 20)}"`);
          }
          if (cycle) return invalid('/credits report takes one cycle, such as /credits report figma 2026-05');
          cycle = word;
        } else {
          const key = toolWord(word);
          if (!key) return invalid(`"${quote(word, 30)}" is neither a cycle such as 2026-05 nor a tool's key`);
          if (tool) return invalid('/credits report takes one tool, such as /credits report figma 2026-05');
          tool = key;
        }
      }
      return { kind: 'report', cycle, ...named(tool) };
    }
    case 'request': {
      if (others.length === 0) return { kind: 'request', amount: null, reason: null };
      const [word, ...reason] = others;
      // A first word that is not a number is the start of the reason: /credits request deck for the pitch.
      const parsed = number_like.test(word!) ? amount.safeParse(word) : null;
      if (parsed && !parsed.success) return invalid(`/credits request: "${quote(word!, 30)}" is not an amount: ${parsed.error.issues[0]!.message}`);
      const said = rest(parsed ? reason : others);
      if ('error' in said) return invalid(`the reason ${said.error}`);
      return { kind: 'request', amount: parsed ? parsed.data! : null, reason: said.text };
    }
    case 'log': {
      // `log [tool] <amount> [feature]`: a first word that is no number but is followed by one names the tool.
      const [tool, afterTool] = leadingTool(others);
      const [word, ...feature] = afterTool;
      if (!word || !number_like.test(word)) return invalid('/credits log needs an amount: the amount must be a number of credits, such as 500');
      const parsed = amount.safeParse(word);
      if (!parsed.success) return invalid(`/credits log needs an amount: "${quote(word, 30)}" is not one; ${parsed.error.issues[0]!.message}`);
      const said = rest(feature);
      if ('error' in said) return invalid(`the feature ${said.error}`);
      return { kind: 'log', amount: parsed.data, feature: said.text, ...named(tool) };
    }
    case 'sync': {
      const [tool, afterTool] = leadingTool(others);
      const parsed = remaining.safeParse(afterTool[0] ?? '');
      if (!parsed.success || afterTool.length > 1) return invalid(`/credits sync needs the remaining balance the vendor's app shows, such as /credits sync 2400`);
      return { kind: 'sync', remaining: parsed.data, ...named(tool) };
    }
    default:
      return invalid(`"${quote(first, 30)}" is not a /credits command`);
  }
}

const invalid = (error: string): CreditsCommand => ({ kind: 'invalid', error });

const named = (tool: string | null) => (tool ? { tool } : {});

/** A tool key before the amount (`figma 500`), and the words after it; no tool when the first word is the amount. */
function leadingTool(words: string[]): [string | null, string[]] {
  const [first, second] = words;
  if (first && second && !number_like.test(first) && number_like.test(second)) {
    const key = toolWord(first);
    if (key) return [key, words.slice(1)];
  }
  return [null, words];
}
