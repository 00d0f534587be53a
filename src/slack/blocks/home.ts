// The App Home: a member's balance, history and request button; for admins also the org view
// and the vendor-console tasks with a Done button each.
import type { Balance, HistoryEntry } from '../../ledger/balance.ts';
import type { LivePool } from '../../ledger/catalog.ts';
import type { PackInventory } from '../../ledger/packs.ts';
import type { Report } from '../../ledger/report.ts';
import type { VendorTask } from '../../ledger/tasks.ts';
import { actions } from '../ids.ts';
import { credits, percent } from '../format.ts';
import { balanceBlocks, historyMessage } from './balance.ts';
import { button, context, divider, section, type Block } from './common.ts';

export interface OrgView {
  report: Report;
  packs: PackInventory[];
  pools: LivePool[];
  tasks: VendorTask[];
}

/** Slack allows 100 blocks in a Home tab; leave room for the member part. */
const tasks_shown_max = 20;
const consumers_shown_max = 5;
/** Assigned packs listed by number per product; the rest are counted. */
const pack_numbers_shown_max = 10;

function packLine(p: OrgView['packs'][number]): string {
  const shown = p.holders.slice(0, pack_numbers_shown_max).map((h) => `#${h.id} ${h.slackId ? `<@${h.slackId}>` : (h.email ?? 'a member')}`);
  const more = p.holders.length > shown.length ? ` and ${credits(p.holders.length - shown.length)} more` : '';
  return `• ${p.product}: ${credits(p.free)} free, ${credits(p.assigned)} assigned${shown.length > 0 ? ` (${shown.join(', ')}${more})` : ''}`;
}

export function homeView(input: { balance: Balance | null; history: HistoryEntry[]; zone: string; org: OrgView | null }) {
  const blocks: Block[] = [];
  if (input.balance) {
    blocks.push(...balanceBlocks(input.balance, input.zone), ...historyMessage(input.history.slice(0, 10), input.zone).blocks);
  } else {
    blocks.push(section('You have no seat in creditdesk yet. An admin can add one with `/credits admin`.'));
  }
  if (input.org) {
    const { report, packs, pools, tasks } = input.org;
    const top = report.rows.slice(0, consumers_shown_max).map((r) => `• ${r.slack_id ? `<@${r.slack_id}>` : r.user}: ${credits(r.used)} of ${credits(r.quota)} (${percent(r.used, r.quota)})`);
    blocks.push(
      divider,
      section(`*Organisation, cycle ${report.cycle}*\n${credits(report.rows.length)} seats · ${credits(report.totals.used)} of ${credits(report.totals.quota)} used · :red_circle: ${credits(report.totals.overage)} overage`),
      section(`*Packs*\n${packs.map(packLine).join('\n') || 'none purchased'}`),
      section(`*Pools*\n${pools.map((p) => `• ${p.profile}: ${credits(p.remaining)} of ${credits(p.amount)} left`).join('\n') || 'none'}`),
      section(`*Top consumers*\n${top.join('\n') || 'no usage yet'}`),
      divider,
      section(`*Vendor console tasks* (${tasks.length} open)`),
    );
    for (const task of tasks.slice(0, tasks_shown_max)) {
      blocks.push({ ...section(task.text), accessory: button('Done', actions.taskDone, String(task.id)) });
    }
    if (tasks.length > tasks_shown_max) blocks.push(context(`${tasks.length - tasks_shown_max} more not shown.`));
  }
  return { type: 'home' as const, blocks };
}
