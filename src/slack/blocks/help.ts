// /credits help, and what an unknown or malformed command gets. The error may quote what the
// person typed, so it is escaped and shortened. With several tools the forms that take a tool say
// so, with the rule for leaving it out, and the tools' keys are listed.
import { credits, escapeMrkdwn, mrkdwnText } from '../format.ts';
import { section, type Message } from './common.ts';
import { cappedLines, lazyLines, name_chars_shown_max } from './limits.ts';

/** How much of an error (which may quote the command) the help shows. */
const error_chars_shown_max = 300;
/** Characters of the list of tool keys; the rest are counted. */
const tool_list_chars_max = 1_200;

export interface HelpOptions {
  isAdmin: boolean;
  selfReporting: boolean;
  error?: string;
  /** The org's tools, when it has several: the help then shows the forms that name one. */
  tools?: readonly { key: string; name: string }[];
}

export function helpMessage(options: HelpOptions): Message {
  const several = (options.tools?.length ?? 0) > 1;
  const lines = several ? severalToolLines(options) : oneToolLines(options);
  const error = options.error ? mrkdwnText(options.error, error_chars_shown_max) : null;
  const head = error ? `:warning: ${error}\n\n` : '';
  const tools = several
    ? `\n*Tools:* ${cappedLines(lazyLines(options.tools!, (t) => `\`${escapeMrkdwn(t.key)}\` ${mrkdwnText(t.name, name_chars_shown_max)}`), {
        maxChars: tool_list_chars_max, separator: ', ', more: (n) => `and ${credits(n)} more (\`GET /api/v1/tools\` lists every tool)`,
      })}`
    : '';
  return { text: `${error ? `${error}. ` : ''}/credits commands`, blocks: [section(`${head}*/credits commands*\n${lines.map(escapeMrkdwn).join('\n')}${tools}`)] };
}

function oneToolLines(options: HelpOptions): string[] {
  return [
    '`/credits` — your balance: quota by source, used, left, reset date, forecast',
    '`/credits history` — your ledger entries this cycle',
    '`/credits request [amount] [reason]` — ask an admin for more credits',
    ...(options.selfReporting
      ? ['`/credits log <amount> [feature]` — record credits you used', '`/credits sync <remaining>` — tell creditdesk what the vendor app shows as left']
      : []),
    ...(options.isAdmin
      ? ['`/credits @someone` — a member\'s balance', '`/credits report [YYYY-MM]` — the cycle report', '`/credits admin` — seats, packs, adjustments']
      : []),
  ];
}

function severalToolLines(options: HelpOptions): string[] {
  return [
    '`/credits` — your balance in each tool: quota by source, used, left, reset date, forecast',
    '`/credits balance <tool>` — your balance in one tool',
    '`/credits history` — your ledger entries this cycle, in every tool',
    '`/credits request [amount] [reason]` — ask an admin for more credits; the form asks which tool when you hold seats in several',
    ...(options.selfReporting
      ? [
          '`/credits log [tool] <amount> [feature]` — record what you used; name the tool when you hold seats in several',
          '`/credits sync [tool] <remaining>` — tell creditdesk what the vendor app shows as left; without a tool it is your only seat, or your only seat in a tool that asks members for syncs',
        ]
      : []),
    ...(options.isAdmin
      ? [
          '`/credits @someone [tool]` — a member\'s balance',
          '`/credits report [tool] [YYYY-MM]` — a line per tool, or one tool\'s report with its CSV and chart',
          '`/credits admin` — seats, packs, adjustments, tools',
        ]
      : []),
  ];
}
