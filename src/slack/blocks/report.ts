// /credits report: the cycle in a few lines, the top consumers, members over 80 %.
import type { Breakage, ChargebackRow, PackMove, Report } from '../../ledger/report.ts';
import { credits, percent } from '../format.ts';
import { section, type Message } from './common.ts';

const rows_shown_max = 10;

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
      ...(extras && extras.profiles.length > 0
        ? [section(`*By profile*\n${extras.profiles.map((p) => `• ${p.group ?? 'no profile'}: ${credits(p.used)} of ${credits(p.quota)} used (${percent(p.used, p.quota)})${p.overage ? `, ${credits(p.overage)} over` : ''}`).join('\n')}`)]
        : []),
      section(`*Top consumers*\n${top.join('\n') || 'no usage yet'}`),
      section(`*Over 80 %:* ${over80.join(', ') || 'nobody'}`),
      ...(extras ? [section(breakageText(extras.breakage)), section(adviceText(extras.advice))] : []),
    ],
  };
}

const mention = (who: string) => (/^[UW][A-Z0-9]+$/.test(who) ? `<@${who}>` : who);

function breakageText(b: Breakage): string {
  if (b.expired === 0) return '*Expired unused:* nothing (so far).';
  const cost = b.packCost != null && b.packCredits > 0 ? `, ${credits(b.packCredits)} of them from packs worth ${b.packCost.toFixed(2)}` : '';
  return `*Expired unused:* ${credits(b.expired)} credits${cost}.`;
}

function adviceText(moves: PackMove[]): string {
  if (moves.length === 0) return '*Packs:* none idle on light users while others ran dry.';
  return `*Packs that would have helped*\n${moves
    .map((m) => `• move a ${credits(m.credits)} pack (${m.product}) from ${mention(m.from)}, ${m.fromPctUsed} % used, to ${mention(m.to)}, out on day ${m.ranOutOnDay}`)
    .join('\n')}`;
}
