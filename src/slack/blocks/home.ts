// The App Home: a member's balance in each tool, latest history and request button; for admins also
// the org view and the vendor-console tasks with a Done button each, then any further admin sections
// (such as the vendor connectors). At most 100 blocks whatever the org's size: every list shows its
// first entries and says how many more, and where they are.
import type { Balance, HistoryEntry } from '../../ledger/balance.ts';
import type { LivePool } from '../../ledger/catalog.ts';
import type { PackInventory } from '../../ledger/packs.ts';
import type { Report } from '../../ledger/report.ts';
import type { VendorTask } from '../../ledger/tasks.ts';
import { actions } from '../ids.ts';
import { counted } from '../../words.ts';
import { credits, escapeKeepingMentions, memberRef, mrkdwnText, overageText, percent, unitText } from '../format.ts';
import { one_tool, type ToolNames } from '../tools.ts';
import { balancesBlocks, historyBlocks } from './balance.ts';
import { button, context, divider, listSection, listSections, section, type Block, type HomeView } from './common.ts';
import { lazyLines, name_chars_shown_max, section_text_chars_max, truncate, view_blocks_max } from './limits.ts';

export interface OrgView {
  /** This cycle's report of each tool, in the order the tools were created (one with one tool). */
  reports: Report[];
  packs: PackInventory[];
  pools: LivePool[];
  tasks: VendorTask[];
  /** The tool of each pack product, by product key: packs name their tool when there are several. */
  productTools?: ReadonlyMap<string, string>;
}

// A Home tab holds 100 blocks. The member part takes at most 1 + 10 tools × 2 + 1 + 1 (balances)
// + 2 + 1 (history) = 26; the org part at most 2 dividers + 3 + 12 packs + 2 pools + 1 + 1 + 20
// tasks + 1 = 42. Admin sections after those share what is left: at least 32 blocks.
/** History entries on the Home; the History button opens the rest. */
const home_history_entries_max = 10;
const home_history_sections_max = 2;
const tasks_shown_max = 20;
const consumers_shown_max = 5;
/** Sections of the one-line-per-tool org summary; the report command has every tool. */
const org_tool_sections_max = 3;
/** Pack products get 12 sections of lines of at most 600 characters: 60 products, past SPEC's 50 at any size. */
const pack_sections_max = 12;
const pack_line_chars_max = 600;
const pool_sections_max = 2;
/** Assigned packs listed by number per product; the rest are counted. */
const pack_numbers_shown_max = 10;

export interface HomeInput {
  /** The member's seats, one balance each; none: no seat yet. */
  balances: readonly Balance[];
  history: HistoryEntry[];
  zone: string;
  org: OrgView | null;
  names?: ToolNames;
  planNames?: ReadonlyMap<string, string>;
  /** Further admin sections, in order, each already within its own lists' limits; cut to the blocks left. */
  adminSections?: readonly Block[][];
}

export function homeView(input: HomeInput): HomeView {
  const names = input.names ?? one_tool;
  const blocks: Block[] = [];
  if (input.balances.length > 0) {
    const shown = input.history.slice(0, home_history_entries_max);
    blocks.push(
      ...balancesBlocks(input.balances, input.zone, { names, planNames: input.planNames }),
      ...historyBlocks(shown, input.zone, home_history_sections_max, (n) => `and ${credits(n)} more: *History* shows them`, names),
    );
    if (input.history.length > shown.length) blocks.push(context(`The newest ${counted(shown.length, 'entry', 'entries')}; *History* above shows up to ${credits(input.history.length)}.`));
  } else {
    blocks.push(section('You have no seat in creditdesk yet. An admin can add one with `/credits admin`.'));
  }
  if (input.org) {
    blocks.push(...orgBlocks(input.org, names));
    for (const extra of input.adminSections ?? []) {
      // Each section's own lists keep to their limits; what still does not fit the tab is left out whole.
      if (blocks.length + extra.length > view_blocks_max) break;
      blocks.push(...extra);
    }
  }
  return { type: 'home', blocks };
}

function packLine(p: PackInventory, names: ToolNames, productTools: ReadonlyMap<string, string>): string {
  const shown = p.holders.slice(0, pack_numbers_shown_max).map((h) => `#${h.id} ${memberRef(h)}`);
  const more = p.holders.length > shown.length ? ` and ${credits(p.holders.length - shown.length)} more` : '';
  const tool = productTools.get(p.product);
  const of = names.several && tool ? ` (${mrkdwnText(names.name(tool), name_chars_shown_max)})` : '';
  const line = `• ${mrkdwnText(p.product, name_chars_shown_max)}${of}: ${credits(p.free)} free, ${credits(p.assigned)} assigned${shown.length > 0 ? ` (${shown.join(', ')}${more})` : ''}`;
  return truncate(line, pack_line_chars_max);
}

/** A pool names its profile, and its tool when there are several; a budget names its tool. */
function poolLine(p: LivePool, names: ToolNames): string {
  const tool = mrkdwnText(names.name(p.tool), name_chars_shown_max);
  const what =
    p.profile == null ? `${tool} overage budget` : `${mrkdwnText(p.profile, name_chars_shown_max)}${names.several ? ` (${tool})` : ''}`;
  return `• ${what}: ${credits(p.remaining)} of ${credits(p.amount)} left`;
}

const consumer = (r: Report['rows'][number]) => (r.slack_id ? `<@${r.slack_id}>` : mrkdwnText(r.user, name_chars_shown_max));

/** With several tools, one line per tool: its cycle, seats, use in its unit, overage, and its top consumer. */
function toolLine(report: Report): string {
  const t = report.totals;
  const top = report.rows[0] && report.rows[0].used > 0 ? ` · top: ${consumer(report.rows[0])} ${credits(report.rows[0].used)} (${percent(report.rows[0].used, report.rows[0].quota)})` : '';
  return (
    `• *${mrkdwnText(report.tool_name, name_chars_shown_max)}*, cycle ${report.cycle}: ${counted(report.rows.length, 'seat')} · ` +
    `${credits(t.used)} of ${credits(t.quota)} ${unitText(t.quota, report.unit)} used · ${overageText(t.overage)}${top}`
  );
}

function orgBlocks({ reports, packs, pools, tasks, productTools = new Map() }: OrgView, names: ToolNames): Block[] {
  const blocks: Block[] = [divider];
  const [only] = reports;
  if (!names.several && only) {
    const top = only.rows
      .slice(0, consumers_shown_max)
      .map((r) => `• ${consumer(r)}: ${credits(r.used)} of ${credits(r.quota)} (${percent(r.used, r.quota)})`);
    blocks.push(section(`*Organisation, cycle ${only.cycle}*\n${counted(only.rows.length, 'seat')} · ${credits(only.totals.used)} of ${credits(only.totals.quota)} used · ${overageText(only.totals.overage)}`));
    blocks.push(...packAndPoolBlocks(packs, pools, names, productTools));
    blocks.push(listSection('*Top consumers*\n', top, { empty: 'no usage yet', more: () => '' }));
  } else {
    blocks.push(
      ...listSections(`*Organisation: ${counted(reports.length, 'tool')}*\n`, lazyLines(reports, toolLine), {
        empty: 'no tools yet',
        maxSections: org_tool_sections_max,
        more: (n) => `and ${counted(n, 'more tool')} (\`/credits report\` lists each)`,
      }),
    );
    blocks.push(...packAndPoolBlocks(packs, pools, names, productTools));
  }
  blocks.push(divider, section(`*Vendor console tasks* (${credits(tasks.length)} open)`));
  for (const task of tasks.slice(0, tasks_shown_max)) {
    blocks.push({ ...section(truncate(escapeKeepingMentions(task.text), section_text_chars_max)), accessory: button('Done', actions.taskDone, String(task.id)) });
  }
  if (tasks.length > tasks_shown_max) blocks.push(context(`${credits(tasks.length - tasks_shown_max)} more not shown: mark these done to see the next.`));
  return blocks;
}

function packAndPoolBlocks(packs: PackInventory[], pools: LivePool[], names: ToolNames, productTools: ReadonlyMap<string, string>): Block[] {
  return [
    ...listSections('*Packs*\n', lazyLines(packs, (p) => packLine(p, names, productTools)), {
      empty: 'none purchased',
      maxSections: pack_sections_max,
      more: (n) => `and ${counted(n, 'more pack product')} (\`GET /api/v1/pack-products\` lists them all)`,
    }),
    ...listSections('*Pools*\n', lazyLines(pools, (p) => poolLine(p, names)), {
      empty: 'none',
      maxSections: pool_sections_max,
      more: (n) => `and ${counted(n, 'more pool')} (\`creditdesk report --group-by profile\` has every profile)`,
    }),
  ];
}
