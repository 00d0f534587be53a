// /credits sync: the member reads their remaining credits off the vendor's app. The ledger records
// a lower figure as usage and files a higher one as a pending correction for an admin to confirm
// (a sync is a report, not a grant); here the member hears which, and the admin channel sees a
// pending correction with Confirm and Dismiss, or the flag of a large gap.
import type { WebClient } from '@slack/web-api';
import type { SyncCorrection, SyncOutcome } from '../ledger/index.ts';
import { correctionMessage, syncFlagText } from './blocks/sync.ts';
import { inSlackWords, type SlackContext } from './context.ts';
import { credits } from './format.ts';

function memberText(outcome: SyncOutcome): string {
  const { expected, reported } = outcome;
  switch (outcome.result) {
    case 'matches':
      return `Your balance matches: ${credits(expected)} credits left.`;
    case 'usage':
      if (outcome.usage.status === 'rejected') return `:warning: ${inSlackWords(outcome.usage.reason)}`;
      return `Recorded ${credits(outcome.credits)} credits of usage: creditdesk expected ${credits(expected)} left, the vendor shows ${credits(reported)}.`;
    case 'pending':
      return (
        `The vendor shows ${credits(reported)} left where creditdesk expected ${credits(expected)}: a correction of +${credits(outcome.credits)} credits ` +
        `now awaits an admin's confirmation. Your balance stays at ${credits(expected)} until then.`
      );
  }
}

/**
 * Reports the sync to the ledger under `key` (the command's trigger id, which Slack's retries
 * repeat; a nudge modal's submission key) and returns what to tell the member. `tool` names the
 * tool the figure was read in, where known. Only the delivery that applied it talks to the admin
 * channel, so retries and concurrent duplicates post nothing twice.
 */
export async function syncWithVendor(ctx: SlackContext, client: WebClient, user: string, reported: number, key: string, tool?: string): Promise<string> {
  const { outcome, replayed } = await ctx.ledger.reportSync({ key, user, reported, tool });
  const said = memberText(outcome);
  if (replayed) return said;
  await Promise.all(outcome.superseded.map((old) => showCorrection(ctx, client, old.id)));
  if (outcome.result === 'pending') {
    if (!(await postCorrection(ctx, client, outcome.correction))) {
      return `${said} Slack did not pass it to the admins just now: run /credits sync again in a few minutes.`;
    }
  } else if (outcome.flagged && ctx.adminChannelId && !(outcome.result === 'usage' && outcome.usage.status === 'rejected')) {
    await client.chat
      .postMessage({ channel: ctx.adminChannelId, text: syncFlagText(user, outcome.expected, reported) })
      .catch((error) => ctx.log.warn('sync flag not posted', { error }));
  }
  return said;
}

/** Posts a pending correction to the admin channel and remembers where; false when Slack did not take it. */
async function postCorrection(ctx: SlackContext, client: WebClient, correction: SyncCorrection): Promise<boolean> {
  if (!ctx.adminChannelId) {
    ctx.log.warn('a sync correction waits, but no ADMIN_CHANNEL_ID is set to ask an admin');
    return false;
  }
  const posted = await client.chat.postMessage({ channel: ctx.adminChannelId, ...correctionMessage(correction) } as never).catch((error) => {
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
  await client.chat
    .update({ channel: correction.channelId, ts: correction.messageTs, ...correctionMessage(correction) } as never)
    .catch((error) => ctx.log.warn('sync correction message not updated', { error }));
}
