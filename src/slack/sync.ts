// /credits sync: the member reads their remaining balance off the vendor's app; the difference
// to creditdesk's figure is recorded as usage, or as a labelled correction, and flagged to the
// admins when it is large.
import type { WebClient } from '@slack/web-api';
import type { SlackContext } from './context.ts';
import { credits } from './format.ts';

/** A difference this large, or this share of the quota, is flagged to the admins. */
const flag_credits_min = 100;
const flag_quota_share = 0.05;

export async function recordSync(ctx: SlackContext, user: string, reported: number, eventId: string, client: WebClient): Promise<string> {
  const balance = await ctx.ledger.balance(user);
  const expected = balance.remaining;
  const difference = expected - reported;
  let said: string;
  if (difference === 0) return `Your balance matches: ${credits(expected)} credits left.`;
  if (difference > 0) {
    const outcome = await ctx.ledger.recordUsage({ id: eventId, user, credits: difference, feature: 'sync', source: 'vendor sync' });
    if (outcome.status === 'rejected') return `:warning: ${outcome.reason}`;
    said = `Recorded ${credits(difference)} credits of usage: creditdesk expected ${credits(expected)} left, the vendor shows ${credits(reported)}.`;
  } else {
    await ctx.ledger.adjust({ user, credits: -difference, reason: `sync correction: vendor shows ${reported}, creditdesk expected ${expected}`, actor: user });
    said = `Recorded a correction of +${credits(-difference)} credits: the vendor shows ${credits(reported)} left, creditdesk expected ${credits(expected)}.`;
  }
  if (ctx.adminChannelId && Math.abs(difference) >= Math.max(flag_credits_min, balance.quota * flag_quota_share)) {
    const text = `<@${user}> synced with the vendor: expected ${credits(expected)}, reported ${credits(reported)}: ${credits(Math.abs(difference))} unaccounted.`;
    await client.chat.postMessage({ channel: ctx.adminChannelId, text }).catch((error) => ctx.log.warn('sync flag not posted', { error }));
  }
  return said;
}
