// /credits report: the cycle in a few lines, by profile, the top consumers, members over 80 %,
// what expired unused and what it cost, and the pack moves that would have helped.
import type { Breakage, ChargebackRow, PackMove, Report } from '../../ledger/report.ts';
import { credits, percent } from '../format.ts';
import { section, type Message } from './common.ts';

// Slack refuses a section over 3,000 characters; a mention is about 16. These keep each list
// well inside that however large the org; the CSV in the admin's DM has every member.
const rows_shown_max = 10;
const profiles_shown_max = 15;
const over80_shown_max = 40;
const moves_shown_max = 10;

/** The first `max` items, and how many more there are, so a long list never breaks the message. */
function capped(items: string[], max: number, separator: string, where = ''): string {
  const more = items.length - max;
  return items.slice(0, max).join(separator) + (more > 0 ? `${separator}and ${more} more${where}` : '');
}

export function reportMessage(report: Report, extras?: { breakage: Breakage; advice: PackMove[]; profiles: ChargebackRow[] }): Message {
  const t = report.totals;
  const head = `*Cycle ${report.cycle}*: ${report.rows.length} seats · ${credits(t.used)} of ${credits(t.quota)} used (${percent(t.used, t.quota)}) · ${credits(t.remaining)} left · :red_circle: ${credits(t.overage)} overage · ${credits(t.expired)} expired unused`;
  const who = (r: Report['rows'][number]) => (r.slack_id ? `<@${r.slack_id}>` : r.user);
  const top = report.rows.slice(0, rows_shown_max).map((r) => `• ${who(r)}: ${credits(r.used)} of ${credits(r.quota)} (${r.pct_used} %)${r.overage ? `, ${credits(r.overage)} over` : ''}`);
  const over80 = report.rows.filter((r) => r.pct_used >= 80).map(who);
  return {
    text: `Cycle ${report.cycle}: ${credits(t.used)} of ${credits(t.quota)} credits used`,
    blocks: [
      section(head),
      ...(extras && extras.profiles.length > 0 ? [section(`*By profile*\n${capped(extras.profiles.map(profileLine), profiles_shown_max, '\n')}`)] : []),
      section(`*Top consumers*\n${top.join('\n') || 'no usage yet'}`),
      section(`*Over 80 %:* ${capped(over80, over80_shown_max, ', ', ' (the CSV has everyone)') || 'nobody'}`),
      ...(extras ? [section(breakageText(extras.breakage)), section(adviceText(extras.advice))] : []),
    ],
  };
}

function profileLine(p: ChargebackRow): string {
  const over = p.overage ? `, ${credits(p.overage)} over` : '';
  const cost = p.packCost != null ? `, packs cost ${p.packCost.toFixed(2)}` : '';
  return `• ${p.group ?? 'no profile'}: ${credits(p.used)} of ${credits(p.quota)} used (${percent(p.used, p.quota)})${over}, ${credits(p.remaining)} left${cost}`;
}

const mention = (who: string) => (/^[UW][A-Z0-9]+$/.test(who) ? `<@${who}>` : who);

function breakageText(b: Breakage): string {
  const head = `*Expired unused in ${b.cycle}:*`;
  if (b.expired === 0) return `${head} nothing (so far).`;
  const cost = b.packCost != null && b.packCredits > 0 ? `, ${credits(b.packCredits)} of them from packs that cost ${b.packCost.toFixed(2)}` : '';
  return `${head} ${credits(b.expired)} credits${cost}.`;
}

function adviceText(moves: PackMove[]): string {
  if (moves.length === 0) return '*Packs:* none idle on light users while others ran dry.';
  const lines = moves.map(
    (m) => `• move a ${credits(m.credits)} pack (${m.product}) from ${mention(m.from)}, ${m.fromPctUsed} % used, to ${mention(m.to)}, out on day ${m.ranOutOnDay}`,
  );
  return `*Packs that would have helped*\n${capped(lines, moves_shown_max, '\n', ' (`creditdesk report` lists them all)')}`;
}
