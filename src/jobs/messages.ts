// Block Kit for what the jobs send: threshold alerts, request outcomes and the weekly digest. Pure
// functions; every message carries a text fallback and names what happened, what remains and when it resets.
import { DateTime } from 'luxon';
import type { AlertPayload, MemberThresholdAlert, PoolThresholdAlert } from '../ledger/alerts.ts';
import type { RequestOutcomePayload } from '../ledger/requests.ts';
import type { Digest } from './digest.ts';

/** The button that opens the request modal; the Slack app listens for this action id. */
export const request_more_action_id = 'request_more_open';

export interface SlackMessage {
  text: string;
  blocks: unknown[];
}

const n = (value: number) => value.toLocaleString('en-US');
const day = (iso: string, zone: string) => DateTime.fromISO(iso, { zone }).toFormat('d LLL yyyy');
const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const requestButton = {
  type: 'actions',
  elements: [{ type: 'button', action_id: request_more_action_id, text: { type: 'plain_text', text: 'Request more' }, value: 'alert' }],
};

export function memberThresholdMessage(alert: MemberThresholdAlert, zone: string): SlackMessage {
  const resets = day(alert.resetsAt, zone);
  const who = alert.slackId ? `<@${alert.slackId}>` : (alert.email ?? 'A member');
  const over = alert.overage > 0 ? ` ${n(alert.overage)} credits are overage beyond quota and pool.` : '';
  const headline =
    alert.audience === 'member'
      ? `You have used ${alert.threshold} % of your AI credits this cycle.`
      : `${who} has used ${alert.threshold} % of their AI credits this cycle.`;
  const whose = alert.audience === 'member' ? 'your' : 'their';
  const detail =
    `${n(alert.consumed)} of ${n(alert.quota)} credits used; ${n(alert.remaining)} of ${whose} own left` +
    (alert.poolUsed > 0 ? `, ${n(alert.poolUsed)} drawn from the shared pool` : '') +
    `.${over} The quota resets on ${resets}.` +
    (alert.remaining > 0
      ? alert.runsOutAt
        ? ` At this pace it runs out on ${day(alert.runsOutAt, zone)}.`
        : alert.forecast === 'too_little_history'
          ? ' Too early to forecast when it runs out.'
          : ' At this pace it lasts the cycle.'
      : '');
  const text = `${headline} ${detail}`;
  return {
    text,
    blocks: [section(`*${headline}*`), section(detail), ...(alert.audience === 'member' ? [requestButton] : [])],
  };
}

export function poolThresholdMessage(alert: PoolThresholdAlert, zone: string): SlackMessage {
  const headline = `The ${alert.profileKey} shared pool is ${alert.threshold} % used.`;
  const detail = `${n(alert.remaining)} of ${n(alert.amount)} credits left; the pool refills on ${day(alert.resetsAt, zone)}.`;
  return { text: `${headline} ${detail}`, blocks: [section(`*${headline}*`), section(detail)] };
}

export function alertMessage(alert: AlertPayload, zone: string): SlackMessage {
  return alert.kind === 'member_threshold' ? memberThresholdMessage(alert, zone) : poolThresholdMessage(alert, zone);
}

/** The requester's DM: who decided, and what an approval granted. */
export function requestOutcomeMessage(outcome: RequestOutcomePayload): SlackMessage {
  const asked = `Your request for ${n(outcome.credits)} credits`;
  const granted = outcome.granted;
  const what = !granted
    ? ''
    : 'pack' in granted
      ? granted.credits > 0
        ? `: ${n(granted.credits)} credits with a pack (${granted.pack})`
        : `: a pack (${granted.pack}), whose credits arrive at your next reset`
      : `: ${n(granted.credits)} credits`;
  const text =
    outcome.status === 'approved'
      ? `${asked} was approved by <@${outcome.decidedBy}>${what}`
      : `${asked} was declined by <@${outcome.decidedBy}>.`;
  return { text, blocks: [section(text)] };
}

const pct = (part: number, whole: number) => (whole > 0 ? `${Math.round((part * 100) / whole)} %` : '—');

export function digestMessage(digest: Digest): SlackMessage {
  const change =
    digest.usedPreviousWeek > 0
      ? `${digest.usedThisWeek >= digest.usedPreviousWeek ? '+' : '−'}${Math.round((Math.abs(digest.usedThisWeek - digest.usedPreviousWeek) * 100) / digest.usedPreviousWeek)} % on the week before`
      : 'no usage the week before';
  const headline = `Weekly AI credit digest: ${n(digest.usedThisWeek)} credits used this week (${change}).`;
  const profiles = digest.profiles.map((p) => `• ${p.profile ?? 'no profile'}: ${n(p.used)} of ${n(p.quota)} (${pct(p.used, p.quota)})`).join('\n');
  const top = digest.topConsumers.map((m, i) => `${i + 1}. ${m.user}: ${n(m.used)} of ${n(m.quota)} (${pct(m.used, m.quota)})`).join('\n');
  const over80 = digest.over80.length > 0 ? digest.over80.map((m) => `${m.user} (${pct(m.used, m.quota)})`).join(', ') : 'nobody';
  return {
    text: headline,
    blocks: [
      section(`*${headline}*`),
      section(`*Used vs quota by profile*\n${profiles || 'no seats yet'}`),
      section(`*Top consumers*\n${top || 'no usage yet'}`),
      section(`*Over 80 %:* ${over80}\n*Overage:* ${n(digest.overage)} credits\n*Free packs:* ${digest.freePacks.map((p) => `${p.count} × ${p.product}`).join(', ') || 'none'}`),
    ],
  };
}
