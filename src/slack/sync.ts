// /credits sync: the member reads their remaining credits off the vendor's app. The ledger records
// a lower figure as usage and files a higher one as a pending correction for an admin to confirm
// (a sync is a report, not a grant); here the member hears which, and the admin channel sees a
// pending correction with Confirm and Dismiss, or the flag of a large gap.
import type { WebClient } from '@slack/web-api';
import type { SyncCorrection, SyncOutcome } from '../ledger/index.ts';
import { unitAfter } from '../words.ts';
import { correctionMessage, syncFlagText, type SyncTool } from './blocks/sync.ts';
import { inSlackWords, type SlackContext } from './context.ts';
import { credits } from './format.ts';
import { name_chars_shown_max, truncate } from './blocks/limits.ts';

/**
 * What the member hears, as plain text (it quotes the tool's name and the ledger's reasons): the
 * caller escapes it where it goes into mrkdwn. With several tools (`tool` given) it names the tool
 * and counts in its unit.
 */
function memberText(outcome: SyncOutcome, tool: SyncTool | null): string {
  const { expected, reported } = outcome;
  const name = tool ? truncate(tool.name, name_chars_shown_max) : '';
  const unitOf = (count: number) => unitAfter(count, tool ? truncate(tool.unit, name_chars_shown_max) : 'credits');
  switch (outcome.result) {
    case 'matches':
      return `Your ${tool ? `${name} ` : ''}balance matches: ${credits(expected)} ${unitOf(expected)} left.`;
    case 'usage':
      if (outcome.usage.status === 'rejected') return `:warning: ${inSlackWords(outcome.usage.reason)}`;
      return `Recorded ${credits(outcome.credits)} ${unitOf(outcome.credits)} of usage${tool ? ` in ${name}` : ''}: creditdesk expected ${credits(expected)} left, the vendor shows ${credits(reported)}.`;
    case 'pending':
      return (
        `The vendor${tool ? ` of ${name}` : ''} shows ${credits(reported)} left where creditdesk expected ${credits(expected)}: a correction of +${credits(outcome.credits)} ${unitOf(outcome.credits)} ` +
        `now awaits an admin's confirmation. Your balance stays at ${credits(expected)} until then.`
      );
  }
}

/** The tool of a correction as Slack names it: null while the org has one tool, so nothing changes for it. */
export async function syncToolOf(ctx: SlackContext, key: string): Promise<SyncTool | null> {
  const tools = await ctx.ledger.loadTools();
  const tool = tools.byKey.get(key);
  return tools.size > 1 && tool ? { name: tool.name, unit: tool.unit } : null;
}

/**
 * Reports the sync to the ledger under `key` (the command's trigger id, which Slack's retries
 * repeat) and returns what to tell the member, as plain text to be escaped for mrkdwn. `tool` is the tool's key (null: the org's only one)
 * and `named` the tool as Slack names it where there are several. Only the delivery that applied
 * it talks to the admin channel, so retries and concurrent duplicates post nothing twice.
 */
export async function syncWithVendor(
  ctx: SlackContext, client: WebClient, user: string, reported: number, key: string, tool: string | null = null, named: SyncTool | null = null,
): Promise<string> {
  const { outcome, replayed } = await ctx.ledger.reportSync({ key, user, reported, tool });
  const said = memberText(outcome, named);
  if (replayed) return said;
  await Promise.all(outcome.superseded.map((old) => showCorrection(ctx, client, old.id)));
  if (outcome.result === 'pending') {
    if (!(await postCorrection(ctx, client, outcome.correction, named))) {
      return `${said} Slack did not pass it to the admins just now: run /credits sync again in a few minutes.`;
    }
  } else if (outcome.flagged && ctx.adminChannelId && !(outcome.result === 'usage' && outcome.usage.status === 'rejected')) {
    await client.chat
      .postMessage({ channel: ctx.adminChannelId, text: syncFlagText(user, outcome.expected, reported, named) })
      .catch((error) => ctx.log.warn('sync flag not posted', { error }));
  }
  return said;
}

/** Posts a pending correction to the admin channel and remembers where; false when Slack did not take it. */
async function postCorrection(ctx: SlackContext, client: WebClient, correction: SyncCorrection, named: SyncTool | null): Promise<boolean> {
  if (!ctx.adminChannelId) {
    ctx.log.warn('a sync correction waits, but no ADMIN_CHANNEL_ID is set to ask an admin');
    return false;
  }
  const posted = await client.chat.postMessage({ channel: ctx.adminChannelId, ...correctionMessage(correction, named) } as never).catch((error) => {
    ctx.log.warn('sync correction not posted to the admin channel', { error });
    return null;
  });
  if (!posted?.ts) return false;
  await ctx.ledger.rememberCorrectionMessage(correction.id, posted.channel ?? ctx.adminChannelId, posted.ts);
  return true;
}

/**
 * Redraws a correction's channel message as it now stands (decided or superseded). Cosmetic and
 * best-effort, after the change committed: a click on a stale message is told the outcome anyway.
 */
export async function showCorrection(ctx: SlackContext, client: WebClient, id: number): Promise<void> {
  const correction = await ctx.ledger.syncCorrection(id);
  if (!correction?.channelId || !correction.messageTs) return;
  const named = await syncToolOf(ctx, correction.tool);
  await client.chat
    .update({ channel: correction.channelId, ts: correction.messageTs, ...correctionMessage(correction, named) } as never)
    .catch((error) => ctx.log.warn('sync correction message not updated', { error }));
}
