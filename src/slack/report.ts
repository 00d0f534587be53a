// /credits report for an admin: the summary in Slack, and the full table as CSV with the chart
// as a PNG uploaded to the admin's DM (files.getUploadURLExternal, then completeUploadExternal).
import type { WebClient } from '@slack/web-api';
import { cycleAt } from '../ledger/cycles.ts';
import { breakage, chargeback, dailyUsage, packAdvice, previousCycleName, reportCsv, type ReportRow } from '../ledger/report.ts';
import { renderUsageChart } from '../reports/chart.ts';
import { reportMessage } from './blocks/report.ts';
import type { Message } from './blocks/common.ts';
import type { SlackContext } from './context.ts';

/** Members drawn in the chart's top panel. */
const chart_members_max = 10;

/** How the chart names a member: their name, else what Slack calls them, else their email or id. */
async function chartName(client: WebClient, row: ReportRow): Promise<string> {
  if (row.name) return row.name;
  if (row.slack_id) {
    // A chart that reads "U04AB12CD" tells an admin nothing; Slack's name does. Failing that, the id.
    const info = await client.users.info({ user: row.slack_id }).catch(() => null);
    const name = info?.user?.real_name || info?.user?.profile?.display_name || info?.user?.name;
    if (name) return name;
  }
  return row.email ?? row.user;
}

export async function buildAndSendReport(ctx: SlackContext, client: WebClient, adminId: string, cycle?: string): Promise<Message> {
  const report = await ctx.ledger.report(cycle);
  const { anchorDay, zone } = ctx.ledger.ctx.settings;
  // Nothing has expired from a cycle still running: what the admin can act on is last cycle's.
  const isCurrent = report.cycle === cycleAt(ctx.ledger.ctx.now(), anchorDay, zone).name;
  const [lost, advice, days, profiles] = await Promise.all([
    breakage(ctx.ledger.ctx, isCurrent ? previousCycleName(report.cycle) : report.cycle),
    packAdvice(ctx.ledger.ctx, report.cycle),
    dailyUsage(ctx.ledger.ctx, report.cycle),
    chargeback(ctx.ledger.ctx, report.cycle, { profile: true }),
  ]);
  const message = reportMessage(report, { breakage: lost, advice, profiles });
  const chart = renderUsageChart({
    cycle: report.cycle,
    days,
    quota: report.totals.quota,
    top: await Promise.all(
      report.rows.slice(0, chart_members_max).map(async (r) => ({ name: await chartName(client, r), used: r.used, quota: r.quota })),
    ),
  });
  try {
    const dm = await client.conversations.open({ users: adminId });
    await client.files.uploadV2({
      channel_id: dm.channel!.id!,
      initial_comment: `creditdesk report for ${report.cycle}: the per-member table and the chart.`,
      file_uploads: [
        { file: Buffer.from(reportCsv(report)), filename: `creditdesk-${report.cycle}.csv`, title: `creditdesk ${report.cycle} per member` },
        { file: chart, filename: `creditdesk-${report.cycle}.png`, title: `Daily usage, ${report.cycle}` },
      ],
    });
  } catch (error) {
    // The summary is worth showing even when the files cannot be delivered; say why they are missing.
    ctx.log.warn('report files not uploaded', { error });
    const reason = (error as { data?: { error?: string } }).data?.error ?? 'Slack did not accept the upload';
    return { ...message, text: `${message.text}. The CSV and the chart could not be sent to your DM (${reason}); \`creditdesk report\` gives the same table.` };
  }
  return { ...message, text: `${message.text}. The CSV and the chart are in your DM with creditdesk.` };
}
