// /credits report: the cycle in a few lines, the top consumers, members over 80 %.
import type { Report } from '../../ledger/report.ts';
import { credits, percent } from '../format.ts';
import { section, type Message } from './common.ts';

const rows_shown_max = 10;

export function reportMessage(report: Report): Message {
  const t = report.totals;
  const head = `*Cycle ${report.cycle}*: ${report.rows.length} seats · ${credits(t.used)} of ${credits(t.quota)} used (${percent(t.used, t.quota)}) · ${credits(t.remaining)} left · :red_circle: ${credits(t.overage)} overage · ${credits(t.expired)} expired unused`;
  const who = (r: Report['rows'][number]) => (r.slack_id ? `<@${r.slack_id}>` : r.user);
  const top = report.rows.slice(0, rows_shown_max).map((r) => `• ${who(r)}: ${credits(r.used)} of ${credits(r.quota)} (${r.pct_used} %)${r.overage ? `, ${credits(r.overage)} over` : ''}`);
  const over80 = report.rows.filter((r) => r.pct_used >= 80).map(who);
  return {
    text: `Cycle ${report.cycle}: ${credits(t.used)} of ${credits(t.quota)} credits used`,
    blocks: [section(head), section(`*Top consumers*\n${top.join('\n') || 'no usage yet'}`), section(`*Over 80 %:* ${over80.join(', ') || 'nobody'}`)],
  };
}
