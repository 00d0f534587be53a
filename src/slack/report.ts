// /credits report for an admin: the summary in Slack, and the full table as CSV with the chart
// as a PNG uploaded to the admin's DM (files.getUploadURLExternal, then completeUploadExternal).
// With several tools a report is one tool's, its files named after it; without a tool named, the
// admin gets a line per tool and how to ask for one.
import type { WebClient } from '@slack/web-api';
import { breakage, chargeback, dailyUsage, packAdvice, previousCycleName, reportCsv, type ReportRow } from '../ledger/report.ts';
import { toolCycleAt, type Tool, type Tools } from '../ledger/tools.ts';
import { renderUsageChart } from '../reports/chart.ts';
import { reportMessage, toolsSummaryMessage } from './blocks/report.ts';
import type { Message } from './blocks/common.ts';
import type { SlackContext } from './context.ts';
import { escapeMrkdwn } from './format.ts';
import { truncate } from './blocks/limits.ts';
import { knownTool } from './tools.ts';

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

/** Characters of a tool's name in a file's title; its key names the file itself. */
const file_title_tool_chars_max = 100;

/**
 * /credits report [tool] [YYYY-MM] for `adminId`: with a tool, or in an org with one, that tool's
 * report, its CSV and chart sent to the admin's DM; in an org with several and no tool named, a
 * line per tool. LedgerErrors: invalid for a tool that does not exist.
 */
export async function buildAndSendReport(ctx: SlackContext, client: WebClient, adminId: string, cycle?: string, toolKey?: string): Promise<Message> {
  const tools = await ctx.ledger.loadTools();
  if (!toolKey && tools.size > 1) {
    const reports = await Promise.all(tools.list.map((tool) => ctx.ledger.report(cycle, tool.key)));
    return toolsSummaryMessage(reports, cycle ?? null);
  }
  const tool = toolKey ? knownTool(tools, toolKey) : tools.list[0]!;
  return sendToolReport(ctx, client, adminId, cycle, tool, tools);
}

async function sendToolReport(ctx: SlackContext, client: WebClient, adminId: string, cycle: string | undefined, tool: Tool, tools: Tools): Promise<Message> {
  const several = tools.size > 1;
  const report = await ctx.ledger.report(cycle, tool.key);
  // Nothing has expired from a cycle still running: what the admin can act on is last cycle's.
  const isCurrent = report.cycle === toolCycleAt(tool, ctx.ledger.ctx.now()).name;
  const [lost, advice, days, profiles] = await Promise.all([
    breakage(ctx.ledger.ctx, isCurrent ? previousCycleName(report.cycle) : report.cycle, tool.key),
    packAdvice(ctx.ledger.ctx, report.cycle, undefined, tool.key),
    dailyUsage(ctx.ledger.ctx, report.cycle, tool.key),
    chargeback(ctx.ledger.ctx, report.cycle, { profile: true }, tool.key),
  ]);
  const message = reportMessage(report, { breakage: lost, advice, profiles }, several);
  const chart = renderUsageChart({
    cycle: report.cycle,
    days,
    quota: report.totals.quota,
    top: await Promise.all(
      report.rows.slice(0, chart_members_max).map(async (r) => ({ name: await chartName(client, r), used: r.used, quota: r.quota })),
    ),
    tool: { name: tool.name, unit: tool.unit },
  });
  // Files carry the tool's key (safe in a file name) where there are several; titles its name.
  const named = several ? `-${tool.key.replace(/[^a-z0-9_-]/g, '')}` : '';
  const titled = several ? ` ${truncate(tool.name, file_title_tool_chars_max)}` : '';
  try {
    const dm = await client.conversations.open({ users: adminId });
    await client.files.uploadV2({
      channel_id: dm.channel!.id!,
      initial_comment: `creditdesk report${several ? ` of ${escapeMrkdwn(truncate(tool.name, file_title_tool_chars_max))}` : ''} for ${report.cycle}: the per-member table and the chart.`,
      file_uploads: [
        { file: Buffer.from(reportCsv(report)), filename: `creditdesk${named}-${report.cycle}.csv`, title: `creditdesk${titled} ${report.cycle} per member` },
        { file: chart, filename: `creditdesk${named}-${report.cycle}.png`, title: `Daily usage${several ? ` of${titled}` : ''}, ${report.cycle}` },
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
