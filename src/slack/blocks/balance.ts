// A member's balance, as /credits and the App Home show it.
import type { Balance, HistoryEntry } from '../../ledger/balance.ts';
import { actions } from '../ids.ts';
import { credits, date } from '../format.ts';
import { actionsRow, button, context, section, type Block, type Message } from './common.ts';

export function balanceBlocks(balance: Balance, zone: string, options: { title?: string; buttons?: boolean } = {}): Block[] {
  const sources = balance.sources
    .map((s) => `• ${s.name}: ${credits(s.remaining)} of ${credits(s.credits)} left${s.kind === 'pool' ? ' (shared, after your own)' : ''}`)
    .join('\n');
  const forecast = balance.forecast.status === 'too_little_history'
    ? 'Too early to forecast: too little usage this cycle so far.'
    : balance.forecast.status === 'revoked'
      ? 'No forecast: the seat is revoked.'
      : balance.forecast.lasts_the_cycle
        ? 'At your pace so far, your credits last the cycle.'
        : balance.forecast.burn_per_day == null
          ? 'Your credits have run out.'
          : `At your pace so far (${credits(balance.forecast.burn_per_day)} a day), you run out on ${date(balance.forecast.runs_out_at!, zone)}.`;
  const over = balance.overage > 0 ? `\n:red_circle: *${credits(balance.overage)} credits over* quota and pool.` : '';
  const blocks: Block[] = [
    section(
      `*${options.title ?? 'Your AI credits'}*\n*${credits(balance.remaining)}* of ${credits(balance.quota)} left · ${credits(balance.used)} used this cycle${over}`,
    ),
    section(sources || 'No credits this cycle.'),
    context(`Resets on ${date(balance.cycle.end, zone)}. ${forecast}`),
  ];
  if (options.buttons !== false) blocks.push(actionsRow(button('History', actions.history), button('Request more', actions.requestOpen, '', 'primary')));
  return blocks;
}

export function balanceMessage(balance: Balance, zone: string, title?: string, buttons = true): Message {
  return {
    text: `${title ?? 'Your AI credits'}: ${credits(balance.remaining)} of ${credits(balance.quota)} left, resets on ${date(balance.cycle.end, zone)}`,
    blocks: balanceBlocks(balance, zone, { title, buttons }),
  };
}

const kind_words: Record<string, string> = {
  usage: 'used', seat_grant: 'plan granted', pack_grant: 'pack granted', reset: 'cycle reset', revoke: 'seat revoked',
  restore: 'seat restored', unassign: 'pack removed', adjustment: 'adjustment', correction: 'correction', expiry: 'expired',
};

export function historyMessage(entries: HistoryEntry[], zone: string): Message {
  if (entries.length === 0) return { text: 'No ledger entries this cycle yet.', blocks: [section('No ledger entries this cycle yet.')] };
  const lines = entries.map((e) => {
    const what = kind_words[e.kind] ?? e.kind;
    const amount = e.credits != null ? ` ${credits(e.credits)}` : '';
    const extra = e.kind === 'usage' && e.overage ? ` (${credits(e.overage)} over)` : '';
    const note = e.feature ?? e.reason;
    return `• ${date(e.at, zone)} — ${what}${amount}${extra}${note ? ` · ${note}` : ''}`;
  });
  return { text: `Your last ${entries.length} ledger entries this cycle`, blocks: [section(`*Your ledger this cycle*\n${lines.join('\n')}`)] };
}
