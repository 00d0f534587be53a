// Block Kit for what the jobs send: threshold alerts, request outcomes and the weekly digest. Pure
// functions; every message carries a text fallback and names what happened, what remains and when it
// resets. Dates are Slack date tokens in the blocks (each reader sees their own zone) and the day in
// the org's zone in the text fallback; names and emails are escaped; lists fit their section.
import type { AlertPayload, BudgetThresholdAlert, MemberThresholdAlert, PoolThresholdAlert } from '../ledger/alerts.ts';
import type { RequestOutcomePayload } from '../ledger/requests.ts';
import { actionsRow, button, listSection, section, type Message } from '../slack/blocks/common.ts';
import { lazyLines, name_chars_shown_max } from '../slack/blocks/limits.ts';
import { credits as n, dateText, dateToken, mrkdwnText, percent as pct } from '../slack/format.ts';
import type { Digest } from './digest.ts';

/** The button that opens the request modal; the Slack app listens for this action id. */
export const request_more_action_id = 'request_more_open';

export type SlackMessage = Message;

const requestButton = actionsRow(button('Request more', request_more_action_id, 'alert'));

/** A date twice: as a token for the blocks, as the org's day for the text fallback. */
const day = (iso: string, zone: string) => ({ token: dateToken(iso, zone), text: dateText(iso, zone) });

export function memberThresholdMessage(alert: MemberThresholdAlert, zone: string): SlackMessage {
  const resets = day(alert.resetsAt, zone);
  const runsOut = alert.runsOutAt ? day(alert.runsOutAt, zone) : null;
  const who = alert.slackId ? `<@${alert.slackId}>` : alert.email ? mrkdwnText(alert.email, name_chars_shown_max) : 'A member';
  // Alerts queued before tools existed carry none: they were about the one tool, AI credits.
  const tool = alertTool(alert);
  const over = alert.overage > 0 ? ` ${n(alert.overage)} ${tool.unit} are overage beyond quota and pool.` : '';
  const headline =
    alert.audience === 'member'
      ? `You have used ${alert.threshold} % of your ${tool.name} this cycle.`
      : `${who} has used ${alert.threshold} % of their ${tool.name} this cycle.`;
  const whose = alert.audience === 'member' ? 'your' : 'their';
  const detail = (date: 'token' | 'text') =>
    `${n(alert.consumed)} of ${n(alert.quota)} ${tool.unit} used; ${n(alert.remaining)} of ${whose} own left` +
    (alert.poolUsed > 0 ? `, ${n(alert.poolUsed)} drawn from the shared pool` : '') +
    `.${over} The quota resets on ${resets[date]}.` +
    (alert.remaining > 0
      ? runsOut
        ? ` At this pace it runs out on ${runsOut[date]}.`
        : alert.forecast === 'too_little_history'
          ? ' Too early to forecast when it runs out.'
          : ' At this pace it lasts the cycle.'
      : '');
  return {
    text: `${headline} ${detail('text')}`,
    blocks: [section(`*${headline}*`), section(detail('token')), ...(alert.audience === 'member' ? [requestButton] : [])],
  };
}

export function poolThresholdMessage(alert: PoolThresholdAlert, zone: string): SlackMessage {
  const refills = day(alert.resetsAt, zone);
  const headline = `The ${mrkdwnText(alert.profileKey, name_chars_shown_max)} shared pool is ${alert.threshold} % used.`;
  const detail = (date: 'token' | 'text') => `${n(alert.remaining)} of ${n(alert.amount)} ${alertTool(alert).unit} left; the pool refills on ${refills[date]}.`;
  return { text: `${headline} ${detail('text')}`, blocks: [section(`*${headline}*`), section(detail('token'))] };
}

/** A tool's overage budget crossing 75, 90 or 100 %: the alert channel hears, like a pool. */
export function budgetThresholdMessage(alert: BudgetThresholdAlert, zone: string): SlackMessage {
  const renews = day(alert.resetsAt, zone);
  const headline = `The ${mrkdwnText(alert.tool.name, name_chars_shown_max)} overage budget is ${alert.threshold} % used.`;
  const detail = (date: 'token' | 'text') =>
    `${n(alert.remaining)} of ${n(alert.amount)} ${mrkdwnText(alert.tool.unit, name_chars_shown_max)} left; the budget renews on ${renews[date]}.`;
  return { text: `${headline} ${detail('text')}`, blocks: [section(`*${headline}*`), section(detail('token'))] };
}

/** The tool an alert names, as people know it; alerts queued before tools existed were about AI credits. */
function alertTool(alert: { tool?: { name: string; unit: string } }) {
  const tool = alert.tool ?? { name: 'AI credits', unit: 'credits' };
  return { name: mrkdwnText(tool.name, name_chars_shown_max), unit: mrkdwnText(tool.unit, name_chars_shown_max) };
}

export function alertMessage(alert: AlertPayload, zone: string): SlackMessage {
  if (alert.kind === 'member_threshold') return memberThresholdMessage(alert, zone);
  if (alert.kind === 'budget_threshold') return budgetThresholdMessage(alert, zone);
  return poolThresholdMessage(alert, zone);
}

/** The requester's DM: who decided, and what an approval granted. */
export function requestOutcomeMessage(outcome: RequestOutcomePayload): SlackMessage {
  const asked = `Your request for ${n(outcome.credits)} credits`;
  const granted = outcome.granted;
  const pack = granted && 'pack' in granted ? mrkdwnText(granted.pack, name_chars_shown_max) : '';
  const what = !granted
    ? ''
    : 'pack' in granted
      ? granted.credits > 0
        ? `: ${n(granted.credits)} credits with a pack (${pack})`
        : `: a pack (${pack}), whose credits arrive at your next reset`
      : `: ${n(granted.credits)} credits`;
  const text =
    outcome.status === 'approved'
      ? `${asked} was approved by <@${outcome.decidedBy}>${what}`
      : `${asked} was declined by <@${outcome.decidedBy}>.`;
  return { text, blocks: [section(text)] };
}

/** Members and products the digest names in a list; the rest are counted. */
const over80_shown_max = 40;
const free_products_shown_max = 20;
const profiles_shown_max = 20;

export function digestMessage(digest: Digest): SlackMessage {
  const change =
    digest.usedPreviousWeek > 0
      ? `${digest.usedThisWeek >= digest.usedPreviousWeek ? '+' : '−'}${Math.round((Math.abs(digest.usedThisWeek - digest.usedPreviousWeek) * 100) / digest.usedPreviousWeek)} % on the week before`
      : 'no usage the week before';
  const headline = `Weekly AI credit digest: ${n(digest.usedThisWeek)} credits used this week (${change}).`;
  // Members arrive as a mention (`<@U123>`) or, without a Slack id, as their email.
  const member = (user: string) => (/^<@[UW][A-Z0-9]+>$/.test(user) ? user : mrkdwnText(user, name_chars_shown_max));
  const profiles = lazyLines(digest.profiles, (p) => `• ${p.profile == null ? 'no profile' : mrkdwnText(p.profile, name_chars_shown_max)}: ${n(p.used)} of ${n(p.quota)} (${pct(p.used, p.quota)})`);
  const top = lazyLines(digest.topConsumers, (m, i) => `${i + 1}. ${member(m.user)}: ${n(m.used)} of ${n(m.quota)} (${pct(m.used, m.quota)})`);
  const over80 = lazyLines(digest.over80, (m) => `${member(m.user)} (${pct(m.used, m.quota)})`);
  const freePacks = lazyLines(digest.freePacks, (p) => `${n(p.count)} × ${mrkdwnText(p.product, name_chars_shown_max)}`);
  const everyone = (k: number) => `and ${n(k)} more (\`/credits report\` has everyone)`;
  return {
    text: headline,
    blocks: [
      section(`*${headline}*`),
      listSection('*Used vs quota by profile*\n', profiles, { empty: 'no seats yet', maxLines: profiles_shown_max, more: (k) => `and ${n(k)} more (\`creditdesk report --group-by profile\` has every profile)` }),
      listSection('*Top consumers*\n', top, { empty: 'no usage yet', more: everyone }),
      listSection('*Over 80 %:* ', over80, { empty: 'nobody', separator: ', ', maxLines: over80_shown_max, more: everyone }),
      section(`*Overage:* ${n(digest.overage)} credits`),
      listSection('*Free packs:* ', freePacks, { empty: 'none', separator: ', ', maxLines: free_products_shown_max, more: (k) => `and ${n(k)} more products (the App Home lists them)` }),
    ],
  };
}
