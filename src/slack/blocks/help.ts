// /credits help, and what an unknown or malformed command gets. The error may quote what the
// person typed, so it is escaped and shortened.
import { escapeMrkdwn, mrkdwnText } from '../format.ts';
import { section, type Message } from './common.ts';

/** How much of an error (which may quote the command) the help shows. */
const error_chars_shown_max = 300;

export function helpMessage(options: { isAdmin: boolean; selfReporting: boolean; error?: string }): Message {
  const lines = [
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
  const error = options.error ? mrkdwnText(options.error, error_chars_shown_max) : null;
  const head = error ? `:warning: ${error}\n\n` : '';
  return { text: `${error ? `${error}. ` : ''}/credits commands`, blocks: [section(`${head}*/credits commands*\n${lines.map(escapeMrkdwn).join('\n')}`)] };
}
