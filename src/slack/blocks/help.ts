// /credits help, and what an unknown or malformed command gets.
import { section, type Message } from './common.ts';

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
  const head = options.error ? `:warning: ${options.error}\n\n` : '';
  return { text: `${options.error ? `${options.error}. ` : ''}/credits commands`, blocks: [section(`${head}*/credits commands*\n${lines.join('\n')}`)] };
}
