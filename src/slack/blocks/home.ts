// The App Home: a member's balance, latest history and request button; for admins also the org
// view and the vendor-console tasks with a Done button each. At most 100 blocks whatever the org's
// size: every list shows its first entries and says how many more, and where they are.
import type { Balance, HistoryEntry } from '../../ledger/balance.ts';
import type { LivePool } from '../../ledger/catalog.ts';
import type { PackInventory } from '../../ledger/packs.ts';
import type { Report } from '../../ledger/report.ts';
import type { VendorTask } from '../../ledger/tasks.ts';
import { actions } from '../ids.ts';
import { credits, escapeKeepingMentions, memberRef, mrkdwnText, percent } from '../format.ts';
import { balanceBlocks, historyBlocks } from './balance.ts';
import { button, context, divider, listSection, listSections, section, type Block, type HomeView } from './common.ts';
import { lazyLines, name_chars_shown_max, section_text_chars_max, truncate } from './limits.ts';

export interface OrgView {
  report: Report;
  packs: PackInventory[];
  pools: LivePool[];
  tasks: VendorTask[];
}

// A Home tab holds 100 blocks: the member part takes at most 4 + 2 + 1, the org part at most
// 2 dividers + 1 + 12 packs + 2 pools + 1 + 1 + 20 tasks + 1 = 40.
/** History entries on the Home; the History button opens the rest. */
const home_history_entries_max = 10;
const home_history_sections_max = 2;
const tasks_shown_max = 20;
const consumers_shown_max = 5;
/** Pack products get 12 sections of lines of at most 600 characters: 60 products, past SPEC's 50 at any size. */
const pack_sections_max = 12;
const pack_line_chars_max = 600;
const pool_sections_max = 2;
/** Assigned packs listed by number per product; the rest are counted. */
const pack_numbers_shown_max = 10;

function packLine(p: PackInventory): string {
  const shown = p.holders.slice(0, pack_numbers_shown_max).map((h) => `#${h.id} ${memberRef(h)}`);
  const more = p.holders.length > shown.length ? ` and ${credits(p.holders.length - shown.length)} more` : '';
  const line = `• ${mrkdwnText(p.product, name_chars_shown_max)}: ${credits(p.free)} free, ${credits(p.assigned)} assigned${shown.length > 0 ? ` (${shown.join(', ')}${more})` : ''}`;
  return truncate(line, pack_line_chars_max);
}

export function homeView(input: { balance: Balance | null; history: HistoryEntry[]; zone: string; org: OrgView | null }): HomeView {
  const blocks: Block[] = [];
  if (input.balance) {
    const shown = input.history.slice(0, home_history_entries_max);
    blocks.push(
      ...balanceBlocks(input.balance, input.zone),
      ...historyBlocks(shown, input.zone, home_history_sections_max, (n) => `and ${credits(n)} more: *History* shows them`),
    );
    if (input.history.length > shown.length) blocks.push(context(`The newest ${shown.length} entries; *History* above shows up to ${credits(input.history.length)}.`));
  } else {
    blocks.push(section('You have no seat in creditdesk yet. An admin can add one with `/credits admin`.'));
  }
  if (input.org) blocks.push(...orgBlocks(input.org));
  return { type: 'home', blocks };
}

function orgBlocks({ report, packs, pools, tasks }: OrgView): Block[] {
  const top = report.rows
    .slice(0, consumers_shown_max)
    .map((r) => `• ${r.slack_id ? `<@${r.slack_id}>` : mrkdwnText(r.user, name_chars_shown_max)}: ${credits(r.used)} of ${credits(r.quota)} (${percent(r.used, r.quota)})`);
  const blocks: Block[] = [
    divider,
    section(`*Organisation, cycle ${report.cycle}*\n${credits(report.rows.length)} seats · ${credits(report.totals.used)} of ${credits(report.totals.quota)} used · :red_circle: ${credits(report.totals.overage)} overage`),
    ...listSections('*Packs*\n', lazyLines(packs, packLine), {
      empty: 'none purchased',
      maxSections: pack_sections_max,
      more: (n) => `and ${credits(n)} more pack products`,
    }),
    ...listSections('*Pools*\n', lazyLines(pools, (p) => `• ${mrkdwnText(p.profile ?? `${p.tool} overage budget`, name_chars_shown_max)}: ${credits(p.remaining)} of ${credits(p.amount)} left`), {
      empty: 'none',
      maxSections: pool_sections_max,
      more: (n) => `and ${credits(n)} more pools (\`creditdesk report --group-by profile\` has every profile)`,
    }),
    listSection('*Top consumers*\n', top, { empty: 'no usage yet', more: () => '' }),
    divider,
    section(`*Vendor console tasks* (${credits(tasks.length)} open)`),
  ];
  for (const task of tasks.slice(0, tasks_shown_max)) {
    blocks.push({ ...section(truncate(escapeKeepingMentions(task.text), section_text_chars_max)), accessory: button('Done', actions.taskDone, String(task.id)) });
  }
  if (tasks.length > tasks_shown_max) blocks.push(context(`${credits(tasks.length - tasks_shown_max)} more not shown: mark these done to see the next.`));
  return blocks;
}
