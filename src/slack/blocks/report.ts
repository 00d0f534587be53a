// /credits report: the cycle in a few lines, by profile, the top consumers, members over 80 %,
// what expired unused and what it cost, and the pack moves that would have helped. Each list fits
// its section however large the org; the CSV in the admin's DM has every member, and
// `creditdesk report` every profile and pack move.
import type { Breakage, ChargebackRow, PackMove, Report } from '../../ledger/report.ts';
import { credits, mrkdwnText, percent, userRef } from '../format.ts';
import { listSection, section, type Message } from './common.ts';
import { lazyLines, name_chars_shown_max } from './limits.ts';

const rows_shown_max = 10;
const profiles_shown_max = 15;
const over80_shown_max = 40;
const moves_shown_max = 10;

/** A member in a list: a mention by Slack id, otherwise the email or name, escaped and shortened. */
const who = (r: Report['rows'][number]) => (r.slack_id ? `<@${r.slack_id}>` : mrkdwnText(r.user, name_chars_shown_max));

export function reportMessage(report: Report, extras?: { breakage: Breakage; advice: PackMove[]; profiles: ChargebackRow[] }): Message {
  const t = report.totals;
  const head = `*Cycle ${report.cycle}*: ${credits(report.rows.length)} seats · ${credits(t.used)} of ${credits(t.quota)} used (${percent(t.used, t.quota)}) · ${credits(t.remaining)} left · :red_circle: ${credits(t.overage)} overage · ${credits(t.expired)} expired unused`;
  const top = lazyLines(report.rows, (r) => `• ${who(r)}: ${credits(r.used)} of ${credits(r.quota)} (${r.pct_used} %)${r.overage ? `, ${credits(r.overage)} over` : ''}`);
  const over80 = lazyLines(report.rows.filter((r) => r.pct_used >= 80), who);
  return {
    text: `Cycle ${report.cycle}: ${credits(t.used)} of ${credits(t.quota)} credits used`,
    blocks: [
      section(head),
      ...(extras && extras.profiles.length > 0
        ? [listSection('*By profile*\n', lazyLines(extras.profiles, profileLine), { empty: '', maxLines: profiles_shown_max, more: (n) => `and ${credits(n)} more (\`creditdesk report --group-by profile\` lists them all)` })]
        : []),
      listSection('*Top consumers*\n', top, { empty: 'no usage yet', maxLines: rows_shown_max, more: (n) => `and ${credits(n)} more (the CSV has everyone)` }),
      listSection('*Over 80 %:* ', over80, { empty: 'nobody', maxLines: over80_shown_max, separator: ', ', more: (n) => `and ${credits(n)} more (the CSV has everyone)` }),
      ...(extras ? [section(breakageText(extras.breakage)), adviceSection(extras.advice)] : []),
    ],
  };
}

function profileLine(p: ChargebackRow): string {
  const over = p.overage ? `, ${credits(p.overage)} over` : '';
  const cost = p.packCost != null ? `, packs cost ${p.packCost.toFixed(2)}` : '';
  return `• ${p.group == null ? 'no profile' : mrkdwnText(p.group, name_chars_shown_max)}: ${credits(p.used)} of ${credits(p.quota)} used (${percent(p.used, p.quota)})${over}, ${credits(p.remaining)} left${cost}`;
}

function breakageText(b: Breakage): string {
  const head = `*Expired unused in ${b.cycle}:*`;
  if (b.expired === 0) return `${head} nothing (so far).`;
  const cost = b.packCost != null && b.packCredits > 0 ? `, ${credits(b.packCredits)} of them from packs that cost ${b.packCost.toFixed(2)}` : '';
  return `${head} ${credits(b.expired)} credits${cost}.`;
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
