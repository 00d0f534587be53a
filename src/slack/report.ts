// /credits report for an admin: the summary in Slack, and the full table as CSV with the chart
// as a PNG uploaded to the admin's DM (files.getUploadURLExternal, then completeUploadExternal).
import type { WebClient } from '@slack/web-api';
import { breakage, chargeback, dailyUsage, packAdvice, reportCsv } from '../ledger/report.ts';
import { renderUsageChart } from '../reports/chart.ts';
import { reportMessage } from './blocks/report.ts';
import type { Message } from './blocks/common.ts';
import type { SlackContext } from './context.ts';

/** Members drawn in the chart's top panel. */
const chart_members_max = 10;

export async function buildAndSendReport(ctx: SlackContext, client: WebClient, adminId: string, cycle?: string): Promise<Message> {
  const report = await ctx.ledger.report(cycle);
  const [lost, advice, days, profiles] = await Promise.all([
    breakage(ctx.ledger.ctx, report.cycle),
    packAdvice(ctx.ledger.ctx, report.cycle),
    dailyUsage(ctx.ledger.ctx, report.cycle),
    chargeback(ctx.ledger.ctx, report.cycle, { profile: true }),
  ]);
  const message = reportMessage(report, { breakage: lost, advice, profiles });
  const chart = renderUsageChart({
    cycle: report.cycle,
    days,
    quota: report.totals.quota,
    top: report.rows.slice(0, chart_members_max).map((r) => ({ name: r.email ?? r.user, used: r.used, quota: r.quota })),
  });
  const dm = await client.conversations.open({ users: adminId });
  await client.files.uploadV2({
    channel_id: dm.channel!.id!,
    initial_comment: `creditdesk report for ${report.cycle}: the per-member table and the chart.`,
    file_uploads: [
      { file: Buffer.from(reportCsv(report)), filename: `creditdesk-${report.cycle}.csv`, title: `creditdesk ${report.cycle} per member` },
      { file: chart, filename: `creditdesk-${report.cycle}.png`, title: `Daily usage, ${report.cycle}` },
    ],
  });
  return message;
}
