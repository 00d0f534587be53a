// /credits report: the cycle in a few lines, by profile, the top consumers, members over 80 %,
// what expired unused and what it cost, and the pack moves that would have helped. Each list fits
// its section however large the org; the CSV in the admin's DM has every member, and
// `creditdesk report` every profile and pack move. With several tools a report is one tool's, named
// with its unit, and `/credits report` without a tool gives a line per tool.
import type { Breakage, ChargebackRow, PackMove, Report } from '../../ledger/report.ts';
import { counted } from '../../words.ts';
import { credits, escapeMrkdwn, mrkdwnText, overageText, percent, unitText, userRef } from '../format.ts';
import { listSection, listSections, section, type Message } from './common.ts';
import { lazyLines, name_chars_shown_max, truncate } from './limits.ts';

const rows_shown_max = 10;
const profiles_shown_max = 15;
const over80_shown_max = 40;
const moves_shown_max = 10;

/** A member in a list: a mention by Slack id, otherwise the email or name, escaped and shortened. */
const who = (r: Report['rows'][number]) => (r.slack_id ? `<@${r.slack_id}>` : mrkdwnText(r.user, name_chars_shown_max));

/** Money as the report writes it: two decimals, in the org's currency. */
const money = (amount: number) => amount.toFixed(2);

/**
 * What the tool's own settings add to a report, where it has them: overage priced at the tool's
 * unit cost, its overage budget's use this cycle, and what went past plans' daily limits.
 */
function toolExtras(report: Report, unit: string): string {
  const t = report.totals;
  const lines: string[] = [];
  if (t.overage_cost != null) lines.push(`Overage priced at the tool's unit cost: ${money(t.overage_cost)}.`);
  if (t.overage_budget) {
    const b = t.overage_budget;
    lines.push(`Overage budget: ${credits(b.amount - b.remaining)} of ${credits(b.amount)} ${unitText(b.amount, unit)} used (${percent(b.amount - b.remaining, b.amount)}), ${credits(b.remaining)} left.`);
  }
  if (t.over_daily_limit > 0) lines.push(`${credits(t.over_daily_limit)} ${unitText(t.over_daily_limit, unit)} used past plans' daily limits.`);
  return lines.map((l) => `\n${l}`).join('');
}

/**
 * The report of one tool and cycle. `several`: the org has several tools, so the report names its
 * tool and counts in its unit; with one it reads as it always has.
 */
export function reportMessage(report: Report, extras?: { breakage: Breakage; advice: PackMove[]; profiles: ChargebackRow[] }, several = false): Message {
  const t = report.totals;
  const unit = report.unit;
  const title = several ? `${mrkdwnText(report.tool_name, name_chars_shown_max)}, cycle ${report.cycle}` : `Cycle ${report.cycle}`;
  const inUnit = several ? ` ${unitText(t.quota, unit)}` : '';
  const head =
    `*${title}*: ${counted(report.rows.length, 'seat')} · ${credits(t.used)} of ${credits(t.quota)}${inUnit} used (${percent(t.used, t.quota)}) · ${credits(t.remaining)} left · ${overageText(t.overage)} · ${credits(t.expired)} expired unused` +
    toolExtras(report, unit);
  const top = lazyLines(report.rows, (r) => `• ${who(r)}: ${credits(r.used)} of ${credits(r.quota)} (${r.pct_used} %)${r.overage ? `, ${credits(r.overage)} over` : ''}`);
  const over80 = lazyLines(report.rows.filter((r) => r.pct_used >= 80), who);
  return {
    text: `${title}: ${credits(t.used)} of ${credits(t.quota)} ${unitText(t.quota, unit)} used`,
    blocks: [
      section(head),
      ...(extras && extras.profiles.length > 0
        ? [listSection('*By profile*\n', lazyLines(extras.profiles, profileLine), { empty: '', maxLines: profiles_shown_max, more: (n) => `and ${credits(n)} more (\`creditdesk report --group-by profile\` lists them all)` })]
        : []),
      listSection('*Top consumers*\n', top, { empty: 'no usage yet', maxLines: rows_shown_max, more: (n) => `and ${credits(n)} more (the CSV has everyone)` }),
      listSection('*Over 80 %:* ', over80, { empty: 'nobody', maxLines: over80_shown_max, separator: ', ', more: (n) => `and ${credits(n)} more (the CSV has everyone)` }),
      ...(extras ? [section(breakageText(extras.breakage, unit)), adviceSection(extras.advice)] : []),
    ],
  };
}

/** Sections of the one-line-per-tool summary: 50 tools of 100-character names fit well inside. */
const tool_sections_max = 40;

/**
 * `/credits report` without a tool in an org with several: one line per tool (its cycle, seats,
 * use in its unit, overage and its cost, what went past daily limits) and how to ask for one.
 */
export function toolsSummaryMessage(reports: readonly Report[], cycle: string | null): Message {
  const example = reports[0] ? `\`/credits report ${escapeMrkdwn(reports[0].tool)}\`` : '`/credits report &lt;tool&gt;`';
  const ask = `For one tool's report, with its CSV and chart in your DM: \`/credits report &lt;tool&gt; [YYYY-MM]\`, such as ${truncate(example, name_chars_shown_max)}.`;
  const lines = lazyLines(reports, (r) => {
    const t = r.totals;
    const cost = t.overage_cost != null ? ` (${money(t.overage_cost)})` : '';
    const daily = t.over_daily_limit > 0 ? ` · ${credits(t.over_daily_limit)} past daily limits` : '';
    return (
      `• *${mrkdwnText(r.tool_name, name_chars_shown_max)}* (\`${mrkdwnText(r.tool, name_chars_shown_max)}\`), cycle ${r.cycle}: ${counted(r.rows.length, 'seat')} · ` +
      `${credits(t.used)} of ${credits(t.quota)} ${unitText(t.quota, r.unit)} used (${percent(t.used, t.quota)}) · ${overageText(t.overage)}${cost}${daily}`
    );
  });
  return {
    text: `Reports of ${counted(reports.length, 'tool')}${cycle ? ` for cycle ${cycle}` : ''}: name one for its CSV and chart`,
    blocks: [
      ...listSections(`*${counted(reports.length, 'tool')}, ${cycle ? `cycle ${cycle}` : 'each in its current cycle'}*\n`, lines, {
        empty: 'no tools', maxSections: tool_sections_max, more: (n) => `and ${counted(n, 'more tool')} (\`/credits report &lt;tool&gt;\` gives any one)`,
      }),
      section(ask),
    ],
  };
}

function profileLine(p: ChargebackRow): string {
  const over = p.overage ? `, ${credits(p.overage)} over` : '';
  const cost = p.packCost != null ? `, packs cost ${p.packCost.toFixed(2)}` : '';
  return `• ${p.group == null ? 'no profile' : mrkdwnText(p.group, name_chars_shown_max)}: ${credits(p.used)} of ${credits(p.quota)} used (${percent(p.used, p.quota)})${over}, ${credits(p.remaining)} left${cost}`;
}

function breakageText(b: Breakage, unit: string): string {
  const head = `*Expired unused in ${b.cycle}:*`;
  if (b.expired === 0) return `${head} nothing (so far).`;
  const cost = b.packCost != null && b.packCredits > 0 ? `, ${credits(b.packCredits)} of them from packs that cost ${money(b.packCost)}` : '';
  return `${head} ${credits(b.expired)} ${unitText(b.expired, unit)}${cost}.`;
}

function adviceSection(moves: PackMove[]) {
  if (moves.length === 0) return section('*Packs:* none idle on light users while others ran dry.');
  const lines = lazyLines(
    moves,
    (m) =>
      `• move a ${credits(m.credits)} pack (${mrkdwnText(m.product, name_chars_shown_max)}) from ${userRef(m.from)}, ${m.fromPctUsed} % used, to ${userRef(m.to)}, out on day ${m.ranOutOnDay}`,
  );
  return listSection('*Packs that would have helped*\n', lines, { empty: '', maxLines: moves_shown_max, more: (n) => `and ${credits(n)} more (\`creditdesk report\` lists them all)` });
}
