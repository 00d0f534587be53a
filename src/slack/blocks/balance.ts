// A member's balance and ledger history, as /credits, its History button and the App Home show
// them. Dates are Slack date tokens; `zone` (the org's) only words their fallback.
import type { Balance, HistoryEntry } from '../../ledger/balance.ts';
import { history_entries_max } from '../../ledger/limits.ts';
import { actions } from '../ids.ts';
import { credits, dateText, dateToken, mrkdwnText } from '../format.ts';
import { actionsRow, button, context, listSection, listSections, modalText, section, type Block, type Message, type ModalView } from './common.ts';
import { lazyLines, message_blocks_max, name_chars_shown_max, note_chars_shown_max, view_blocks_max } from './limits.ts';

/** Sections a history may fill: in a reply with room to spare, and in a modal. */
const history_message_sections_max = message_blocks_max - 5;
const history_modal_sections_max = view_blocks_max - 5;

/**
 * The balance blocks: quota by source, used, left, the reset day and the forecast. `title` is
 * mrkdwn the caller made safe (a mention, or `recordedTitle`). Sources past one section are
 * counted; `/credits history` lists every grant.
 */
export function balanceBlocks(balance: Balance, zone: string, options: { title?: string; buttons?: boolean } = {}): Block[] {
  const sources = lazyLines(
    balance.sources,
    (s) => `• ${mrkdwnText(s.name, name_chars_shown_max)}: ${credits(s.remaining)} of ${credits(s.credits)} left${s.kind === 'pool' ? ' (shared, after your own)' : ''}`,
  );
  const forecast = balance.forecast.status === 'too_little_history'
    ? 'Too early to forecast: too little usage this cycle so far.'
    : balance.forecast.status === 'revoked'
      ? 'No forecast: the seat is revoked.'
      : balance.forecast.lasts_the_cycle
        ? 'At your pace so far, your credits last the cycle.'
        : balance.forecast.burn_per_day == null
          ? 'Your credits have run out.'
          : `At your pace so far (${credits(balance.forecast.burn_per_day)} a day), you run out on ${dateToken(balance.forecast.runs_out_at!, zone)}.`;
  const over = balance.overage > 0 ? `\n:red_circle: *${credits(balance.overage)} credits over* quota and pool.` : '';
  const blocks: Block[] = [
    section(`*${options.title ?? 'Your AI credits'}*\n*${credits(balance.remaining)}* of ${credits(balance.quota)} left · ${credits(balance.used)} used this cycle${over}`),
    listSection('', sources, { empty: 'No credits this cycle.', more: (n) => `and ${credits(n)} more (\`/credits history\` lists each grant)` }),
    context(`Resets on ${dateToken(balance.cycle.end, zone)}. ${forecast}`),
  ];
  if (options.buttons !== false) blocks.push(actionsRow(button('History', actions.history), button('Request more', actions.requestOpen, '', 'primary')));
  return blocks;
}

export function balanceMessage(balance: Balance, zone: string, title?: string, buttons = true): Message {
  return {
    text: `${title ?? 'Your AI credits'}: ${credits(balance.remaining)} of ${credits(balance.quota)} left, resets on ${dateText(balance.cycle.end, zone)}`,
    blocks: balanceBlocks(balance, zone, { title, buttons }),
  };
}

/** The title of the balance shown after `/credits log`: what was recorded, the feature escaped. */
export const recordedTitle = (amount: number, feature: string | null) =>
  `Recorded ${credits(amount)} credits${feature ? ` for ${mrkdwnText(feature, name_chars_shown_max)}` : ''}`;

const kind_words: Record<string, string> = {
  usage: 'used', seat_grant: 'plan granted', pack_grant: 'pack granted', reset: 'cycle reset', revoke: 'seat revoked',
  restore: 'seat restored', unassign: 'pack removed', adjustment: 'adjustment', correction: 'correction', expiry: 'expired',
};

function historyLine(e: HistoryEntry, zone: string): string {
  const what = kind_words[e.kind] ?? e.kind;
  const amount = e.credits != null ? ` ${credits(e.credits)}` : '';
  const extra = e.kind === 'usage' && e.overage ? ` (${credits(e.overage)} over)` : '';
  const note = e.feature ?? e.reason;
  return `• ${dateToken(e.at, zone)} — ${what}${amount}${extra}${note ? ` · ${mrkdwnText(note, note_chars_shown_max)}` : ''}`;
}

const no_history_text = 'No ledger entries this cycle yet.';

/** The entries as sections, newest first; what does not fit in `maxSections` is counted. */
export function historyBlocks(entries: HistoryEntry[], zone: string, maxSections: number, more: (hidden: number) => string): Block[] {
  return listSections('*Your ledger this cycle*\n', entries.map((e) => historyLine(e, zone)), { empty: no_history_text, maxSections, more });
}

/** `/credits history`, and the History button under a /credits reply: an ephemeral message. */
export function historyMessage(entries: HistoryEntry[], zone: string): Message {
  if (entries.length === 0) return { text: no_history_text, blocks: historyBlocks(entries, zone, 1, () => '') };
  return {
    text: `Your last ${entries.length} ledger entries this cycle`,
    blocks: historyBlocks(entries, zone, history_message_sections_max, (n) => `and ${credits(n)} more (the History button in the App Home shows them all)`),
  };
}

/**
 * The History button in the App Home: a Home click has no response_url, so the entries open in a
 * modal. The ledger reads at most `history_entries_max` of them; when it gave that many, the
 * modal says these are the newest.
 */
export function historyModal(entries: HistoryEntry[], zone: string): ModalView {
  const blocks = historyBlocks(entries, zone, history_modal_sections_max, (n) => `and ${credits(n)} more`);
  if (entries.length >= history_entries_max) blocks.push(context(`The newest ${credits(history_entries_max)} entries of this cycle.`));
  return { type: 'modal', title: modalText('Your ledger'), close: modalText('Close'), blocks };
}

/** The modal that holds the place of the history while it is read: a trigger_id lives 3 s. */
export function loadingModal(title: string): ModalView {
  return { type: 'modal', title: modalText(title), close: modalText('Close'), blocks: [context('Loading…')] };
}
