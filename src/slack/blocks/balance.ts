// A member's balance and ledger history, as /credits, its History button and the App Home show
// them: as they always were while the org has one tool, one block per tool once it has several.
// Dates are Slack date tokens; `zone` (the org's) only words their fallback.
import type { Balance, HistoryEntry } from '../../ledger/balance.ts';
import { history_entries_max } from '../../ledger/limits.ts';
import { actions } from '../ids.ts';
import { counted } from '../../words.ts';
import { credits, dateText, dateTimeToken, dateToken, escapeMrkdwn, mrkdwnText, unitText } from '../format.ts';
import { one_tool, type ToolNames } from '../tools.ts';
import { actionsRow, button, context, listSection, listSections, modalText, section, type Block, type Message, type ModalView } from './common.ts';
import { cappedLines, lazyLines, message_blocks_max, name_chars_shown_max, note_chars_shown_max, truncate, view_blocks_max } from './limits.ts';

/** Sections a history may fill: in a reply with room to spare, and in a modal. */
const history_message_sections_max = message_blocks_max - 5;
const history_modal_sections_max = view_blocks_max - 5;

/** Tools shown in one balance reply or App Home; the rest are counted, each one command away. */
export const balance_tools_shown_max = 10;
/** Characters of a plan list in a tool's head, and of the keys listed for the tools not shown. */
const plans_chars_shown_max = 400;
const tool_keys_chars_shown_max = 1_000;

/** The forecast sentence: when the member runs out at their pace, or why there is no date. */
function forecastText(balance: Balance, zone: string): string {
  if (balance.forecast.status === 'too_little_history') return 'Too early to forecast: too little usage this cycle so far.';
  if (balance.forecast.status === 'revoked') return 'No forecast: the seat is revoked.';
  if (balance.forecast.lasts_the_cycle) return 'At your pace so far, your credits last the cycle.';
  if (balance.forecast.burn_per_day == null) return 'Your credits have run out.';
  return `At your pace so far (${credits(balance.forecast.burn_per_day)} a day), you run out on ${dateToken(balance.forecast.runs_out_at!, zone)}.`;
}

/** Today against the seat's daily limit (SPEC "Daily limits"), when its plans set one, in `unit` if named; '' otherwise. */
function dailyLimitText(balance: Balance, zone: string, unit?: string): string {
  const limit = balance.daily_limit;
  if (!limit) return '';
  const inUnit = unit ? ` ${unitText(limit.credits, unit)}` : '';
  return `Daily limit: ${credits(limit.remaining)} of ${credits(limit.credits)}${inUnit} left today, renewed ${dateTimeToken(limit.resets_at, zone)}. `;
}

const sourceLines = (balance: Balance) =>
  lazyLines(
    balance.sources,
    (s) => `• ${mrkdwnText(s.name, name_chars_shown_max)}: ${credits(s.remaining)} of ${credits(s.credits)} left${s.kind === 'pool' ? ' (shared, after your own)' : ''}`,
  );
const sources_more = (n: number) => `and ${credits(n)} more (\`/credits history\` lists each grant)`;
const no_sources_text = 'No credits this cycle.';

/**
 * The balance blocks of an org with one tool, as they have always been: quota by source, used,
 * left, the daily limit when the plan sets one, the reset day and the forecast. `title` is mrkdwn
 * the caller made safe (a mention, or `recordedTitle`). Sources past one section are counted;
 * `/credits history` lists every grant.
 */
export function balanceBlocks(balance: Balance, zone: string, options: { title?: string; buttons?: boolean } = {}): Block[] {
  const over = balance.overage > 0 ? `\n:red_circle: *${counted(balance.overage, 'credit')} over* quota and pool.` : '';
  const blocks: Block[] = [
    section(`*${options.title ?? 'Your AI credits'}*\n*${credits(balance.remaining)}* of ${credits(balance.quota)} left · ${credits(balance.used)} used this cycle${over}`),
    listSection('', sourceLines(balance), { empty: no_sources_text, more: sources_more }),
    context(`${dailyLimitText(balance, zone)}Resets on ${dateToken(balance.cycle.end, zone)}. ${forecastText(balance, zone)}`),
  ];
  if (options.buttons !== false) blocks.push(balanceButtons);
  return blocks;
}

const balanceButtons = actionsRow(button('History', actions.history), button('Request more', actions.requestOpen, '', 'primary'));

/**
 * One seat's block where tools are named (SPEC "Several tools": one block per tool): the tool,
 * its plans, left of the quota in the tool's unit, the sources, then the daily limit, the reset
 * day and the forecast. `planNames` maps plan keys to the names people know.
 */
export function toolBalanceBlocks(balance: Balance, zone: string, planNames: ReadonlyMap<string, string> = new Map()): Block[] {
  const plans = cappedLines(
    balance.plans.map((key) => mrkdwnText(planNames.get(key) ?? key, name_chars_shown_max)),
    { maxChars: plans_chars_shown_max, separator: ' + ', more: (n) => counted(n, 'more plan') },
  );
  const over = balance.overage > 0 ? `\n:red_circle: *${credits(balance.overage)} ${unitText(balance.overage, balance.unit)} over* quota and pool.` : '';
  const revoked = balance.status === 'revoked' ? ' (revoked)' : '';
  const head =
    `*${mrkdwnText(balance.tool_name, name_chars_shown_max)}*${revoked}${plans ? ` · ${plans}` : ''}\n` +
    `*${credits(balance.remaining)}* of ${credits(balance.quota)} ${unitText(balance.quota, balance.unit)} left · ${credits(balance.used)} used this cycle${over}\n`;
  return [
    listSection(head, sourceLines(balance), { empty: no_sources_text, more: sources_more }),
    context(`${dailyLimitText(balance, zone, balance.unit)}Resets on ${dateToken(balance.cycle.end, zone)}. ${forecastText(balance, zone)}`),
  ];
}

export interface BalancesOptions {
  /** mrkdwn the caller made safe; default "Your AI credits" (one tool) or "Your credits" (several). */
  title?: string;
  buttons?: boolean;
  names: ToolNames;
  planNames?: ReadonlyMap<string, string>;
  /** The line that stands for the seats not shown: how many, and how to see one. */
  moreTools?: (hidden: readonly Balance[]) => string;
}

const own_more_tools = (hidden: readonly Balance[]) =>
  `and ${counted(hidden.length, 'more tool')}: \`/credits balance &lt;tool&gt;\` shows any one (${truncate(hidden.map((b) => escapeMrkdwn(b.tool)).join(', '), tool_keys_chars_shown_max)})`;

/**
 * A member's balance in every tool they hold a seat in. With one tool in the org it is the
 * balance as it has always been shown; with several, a head and one block per tool (the first
 * balance_tools_shown_max of them, the rest counted), each naming its tool and unit.
 */
export function balancesBlocks(balances: readonly Balance[], zone: string, options: BalancesOptions): Block[] {
  if (!options.names.several && balances.length === 1) return balanceBlocks(balances[0]!, zone, options);
  const shown = balances.slice(0, balance_tools_shown_max);
  const title = options.title ?? 'Your credits';
  const blocks: Block[] = [section(`*${title}*${balances.length > 1 ? ` in ${counted(balances.length, 'tool')}` : ''}`)];
  for (const balance of shown) blocks.push(...toolBalanceBlocks(balance, zone, options.planNames));
  if (balances.length > shown.length) blocks.push(context((options.moreTools ?? own_more_tools)(balances.slice(shown.length))));
  if (options.buttons !== false) blocks.push(balanceButtons);
  return blocks;
}

/** Characters of the plain `text` of a several-tool balance; the blocks carry the rest. */
const balances_text_chars_max = 2_000;

export function balancesMessage(balances: readonly Balance[], zone: string, options: BalancesOptions): Message {
  if (!options.names.several && balances.length === 1) return balanceMessage(balances[0]!, zone, options.title, options.buttons);
  const title = options.title ?? 'Your credits';
  const each = balances.map(
    (b) => `${mrkdwnText(b.tool_name, name_chars_shown_max)} ${credits(b.remaining)} of ${credits(b.quota)} ${unitText(b.quota, b.unit)} left`,
  );
  return { text: truncate(`${title}: ${each.join('; ')}`, balances_text_chars_max), blocks: balancesBlocks(balances, zone, options) };
}

export function balanceMessage(balance: Balance, zone: string, title?: string, buttons = true): Message {
  return {
    text: `${title ?? 'Your AI credits'}: ${credits(balance.remaining)} of ${credits(balance.quota)} left, resets on ${dateText(balance.cycle.end, zone)}`,
    blocks: balanceBlocks(balance, zone, { title, buttons }),
  };
}

/** The title of the balance shown after `/credits log`: what was recorded (in the tool's unit), the feature escaped. */
export const recordedTitle = (amount: number, feature: string | null, unit = 'credits') =>
  `Recorded ${credits(amount)} ${unitText(amount, unit)}${feature ? ` for ${mrkdwnText(feature, name_chars_shown_max)}` : ''}`;

const kind_words: Record<string, string> = {
  usage: 'used', seat_grant: 'plan granted', pack_grant: 'pack granted', reset: 'cycle reset', revoke: 'seat revoked',
  restore: 'seat restored', unassign: 'pack removed', adjustment: 'adjustment', correction: 'correction', expiry: 'expired',
};

/** An entry as a line; with several tools in the org it names the entry's tool first. */
function historyLine(e: HistoryEntry, zone: string, names: ToolNames): string {
  const what = kind_words[e.kind] ?? e.kind;
  const amount = e.credits != null ? ` ${credits(e.credits)}` : '';
  const extra = e.kind === 'usage' && e.overage ? ` (${credits(e.overage)} over)` : '';
  const note = e.feature ?? e.reason;
  const tool = names.several ? `${mrkdwnText(names.name(e.tool), name_chars_shown_max)}: ` : '';
  return `• ${dateToken(e.at, zone)} — ${tool}${what}${amount}${extra}${note ? ` · ${mrkdwnText(note, note_chars_shown_max)}` : ''}`;
}

const no_history_text = 'No ledger entries this cycle yet.';

/** The entries as sections, newest first; what does not fit in `maxSections` is counted. */
export function historyBlocks(entries: HistoryEntry[], zone: string, maxSections: number, more: (hidden: number) => string, names: ToolNames = one_tool): Block[] {
  return listSections('*Your ledger this cycle*\n', lazyLines(entries, (e) => historyLine(e, zone, names)), { empty: no_history_text, maxSections, more });
}

/** `/credits history`, and the History button under a /credits reply: an ephemeral message. */
export function historyMessage(entries: HistoryEntry[], zone: string, names: ToolNames = one_tool): Message {
  if (entries.length === 0) return { text: no_history_text, blocks: historyBlocks(entries, zone, 1, () => '', names) };
  return {
    text: `Your last ${counted(entries.length, 'ledger entry', 'ledger entries')} this cycle`,
    blocks: historyBlocks(entries, zone, history_message_sections_max, (n) => `and ${credits(n)} more (the History button in the App Home shows them all)`, names),
  };
}

/**
 * The History button in the App Home: a Home click has no response_url, so the entries open in a
 * modal. The ledger reads at most `history_entries_max` of them; when it gave that many, the
 * modal says these are the newest.
 */
export function historyModal(entries: HistoryEntry[], zone: string, names: ToolNames = one_tool): ModalView {
  const blocks = historyBlocks(entries, zone, history_modal_sections_max, (n) => `and ${credits(n)} more`, names);
  if (entries.length >= history_entries_max) blocks.push(context(`The newest ${credits(history_entries_max)} entries of this cycle.`));
  return { type: 'modal', title: modalText('Your ledger'), close: modalText('Close'), blocks };
}

/** The modal that holds the place of the history while it is read: a trigger_id lives 3 s. */
export function loadingModal(title: string): ModalView {
  return { type: 'modal', title: modalText(title), close: modalText('Close'), blocks: [context('Loading…')] };
}
