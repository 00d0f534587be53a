// Block Kit for what the jobs send: threshold alerts, request outcomes and the weekly digest. Pure
// functions; every message carries a text fallback and names what happened, what remains and when it
// resets. Dates are Slack date tokens in the blocks (each reader sees their own zone) and the day in
// the org's zone in the text fallback; names and emails are escaped; lists fit their section. Each
// names its tool and counts in its unit; `several` (the org has several tools) names the tool where
// an org with one has never seen it named (a pool, a request).
import type { AlertPayload, BudgetThresholdAlert, MemberThresholdAlert, PoolThresholdAlert } from '../ledger/alerts.ts';
import type { RequestOutcomePayload } from '../ledger/requests.ts';
import { actionsRow, button, context, listSection, section, type Block, type Message } from '../slack/blocks/common.ts';
import { cappedLines, lazyLines, name_chars_shown_max, truncate } from '../slack/blocks/limits.ts';
import { credits as n, dateText, dateToken, mrkdwnText, overageText, percent as pct, unitText } from '../slack/format.ts';
import { counted, noun } from '../words.ts';
import { digestTools, type Digest, type LegacyDigest, type ToolDigest } from './digest.ts';

/** The button that opens the request modal; the Slack app listens for this action id. */
export const request_more_action_id = 'request_more_open';

export type SlackMessage = Message;

/** The alert's Request more: its value is the tool the alert is about, so the request modal offers that one first. */
const requestButton = (toolKey: string | undefined) => actionsRow(button('Request more', request_more_action_id, toolKey ?? 'alert'));

/** A date twice: as a token for the blocks, as the org's day for the text fallback. */
const day = (iso: string, zone: string) => ({ token: dateToken(iso, zone), text: dateText(iso, zone) });

export function memberThresholdMessage(alert: MemberThresholdAlert, zone: string): SlackMessage {
  const resets = day(alert.resetsAt, zone);
  const runsOut = alert.runsOutAt ? day(alert.runsOutAt, zone) : null;
  const who = alert.slackId ? `<@${alert.slackId}>` : alert.email ? mrkdwnText(alert.email, name_chars_shown_max) : 'A member';
  // Alerts queued before tools existed carry none: they were about the one tool, AI credits.
  const tool = alertTool(alert);
  const over = alert.overage > 0 ? ` ${n(alert.overage)} ${unitText(alert.overage, tool.unit)} ${noun(alert.overage, 'is', 'are')} overage beyond quota and pool.` : '';
  const headline =
    alert.audience === 'member'
      ? `You have used ${alert.threshold} % of your ${tool.name} this cycle.`
      : `${who} has used ${alert.threshold} % of their ${tool.name} this cycle.`;
  const whose = alert.audience === 'member' ? 'your' : 'their';
  const detail = (date: 'token' | 'text') =>
    `${n(alert.consumed)} of ${n(alert.quota)} ${unitText(alert.quota, tool.unit)} used; ${n(alert.remaining)} of ${whose} own left` +
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
    blocks: [section(`*${headline}*`), section(detail('token')), ...(alert.audience === 'member' ? [requestButton(alert.tool?.key)] : [])],
  };
}

export function poolThresholdMessage(alert: PoolThresholdAlert, zone: string, several = false): SlackMessage {
  const refills = day(alert.resetsAt, zone);
  const of = several && alert.tool ? ` of ${alertTool(alert).name}` : '';
  const headline = `The ${mrkdwnText(alert.profileKey, name_chars_shown_max)} shared pool${of} is ${alert.threshold} % used.`;
  const detail = (date: 'token' | 'text') => `${n(alert.remaining)} of ${n(alert.amount)} ${unitText(alert.amount, alertTool(alert).unit)} left; the pool refills on ${refills[date]}.`;
  return { text: `${headline} ${detail('text')}`, blocks: [section(`*${headline}*`), section(detail('token'))] };
}

/** A tool's overage budget crossing 75, 90 or 100 %: the alert channel hears, like a pool. */
export function budgetThresholdMessage(alert: BudgetThresholdAlert, zone: string): SlackMessage {
  const renews = day(alert.resetsAt, zone);
  const headline = `The ${mrkdwnText(alert.tool.name, name_chars_shown_max)} overage budget is ${alert.threshold} % used.`;
  const detail = (date: 'token' | 'text') =>
    `${n(alert.remaining)} of ${n(alert.amount)} ${unitText(alert.amount, alert.tool.unit)} left; the budget renews on ${renews[date]}.`;
  return { text: `${headline} ${detail('text')}`, blocks: [section(`*${headline}*`), section(detail('token'))] };
}

/**
 * The tool an alert names, as people know it (its name escaped, its unit as stored, for unitText);
 * alerts queued before tools existed were about AI credits.
 */
function alertTool(alert: { tool?: { name: string; unit: string } }) {
  const tool = alert.tool ?? { name: 'AI credits', unit: 'credits' };
  return { name: mrkdwnText(tool.name, name_chars_shown_max), unit: tool.unit };
}

export function alertMessage(alert: AlertPayload, zone: string, several = false): SlackMessage {
  if (alert.kind === 'member_threshold') return memberThresholdMessage(alert, zone);
  if (alert.kind === 'budget_threshold') return budgetThresholdMessage(alert, zone);
  return poolThresholdMessage(alert, zone, several);
}

/** The requester's DM: who decided, and what an approval granted, in the tool's unit; the tool named where there are several. */
export function requestOutcomeMessage(outcome: RequestOutcomePayload, several = false): SlackMessage {
  const unit = outcome.unit ?? 'credits';
  const tool = several && outcome.toolName ? ` (${mrkdwnText(outcome.toolName, name_chars_shown_max)})` : '';
  const asked = `Your request for ${n(outcome.credits)} ${unitText(outcome.credits, unit)}${tool}`;
  const granted = outcome.granted;
  const pack = granted && 'pack' in granted ? mrkdwnText(granted.pack, name_chars_shown_max) : '';
  const what = !granted
    ? ''
    : 'pack' in granted
      ? granted.credits > 0
        ? `: ${n(granted.credits)} ${unitText(granted.credits, unit)} with a pack (${pack})`
        : `: a pack (${pack}), whose credits arrive at your next reset`
      : `: ${n(granted.credits)} ${unitText(granted.credits, unit)}`;
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
/** Tools the digest of an org with several shows, two blocks each; the rest are counted. */
const digest_tools_shown_max = 20;
/** Characters of each list in a tool's part of a several-tool digest: four lists fit one section. */
const digest_list_chars_max = 700;
const digest_text_chars_max = 2_000;

/** The change on the week before, in words. */
function weekChange(t: ToolDigest): string {
  if (t.usedPreviousWeek === 0) return 'no usage the week before';
  const sign = t.usedThisWeek >= t.usedPreviousWeek ? '+' : '−';
  return `${sign}${Math.round((Math.abs(t.usedThisWeek - t.usedPreviousWeek) * 100) / t.usedPreviousWeek)} % on the week before`;
}

// Members arrive as a mention (`<@U123>`) or, without a Slack id, as their email.
const member = (user: string) => (/^<@[UW][A-Z0-9]+>$/.test(user) ? user : mrkdwnText(user, name_chars_shown_max));
const profileName = (p: { profile: string | null }) => (p.profile == null ? 'no profile' : mrkdwnText(p.profile, name_chars_shown_max));

/**
 * The weekly digest for the admin channel. With one tool it reads as it always has; with several,
 * a part per tool that had seats, usage or free packs (the first digest_tools_shown_max of them),
 * each in its unit. A digest queued before tools existed reads as one tool's.
 */
export function digestMessage(digest: Digest | LegacyDigest): SlackMessage {
  const tools = digestTools(digest);
  return tools.length === 1 ? oneToolDigest(tools[0]!) : severalToolsDigest(tools);
}

function oneToolDigest(t: ToolDigest): SlackMessage {
  const unit = t.tool.unit;
  const headline = `Weekly AI credit digest: ${n(t.usedThisWeek)} ${unitText(t.usedThisWeek, unit)} used this week (${weekChange(t)}).`;
  const profiles = lazyLines(t.profiles, (p) => `• ${profileName(p)}: ${n(p.used)} of ${n(p.quota)} (${pct(p.used, p.quota)})`);
  const top = lazyLines(t.topConsumers, (m, i) => `${i + 1}. ${member(m.user)}: ${n(m.used)} of ${n(m.quota)} (${pct(m.used, m.quota)})`);
  const over80 = lazyLines(t.over80, (m) => `${member(m.user)} (${pct(m.used, m.quota)})`);
  const freePacks = lazyLines(t.freePacks, (p) => `${n(p.count)} × ${mrkdwnText(p.product, name_chars_shown_max)}`);
  const everyone = (k: number) => `and ${n(k)} more (\`/credits report\` has everyone)`;
  return {
    text: headline,
    blocks: [
      section(`*${headline}*`),
      listSection('*Used vs quota by profile*\n', profiles, { empty: 'no seats yet', maxLines: profiles_shown_max, more: (k) => `and ${n(k)} more (\`creditdesk report --group-by profile\` has every profile)` }),
      listSection('*Top consumers*\n', top, { empty: 'no usage yet', more: everyone }),
      listSection('*Over 80 %:* ', over80, { empty: 'nobody', separator: ', ', maxLines: over80_shown_max, more: everyone }),
      section(`*Overage:* ${n(t.overage)} ${unitText(t.overage, unit)}`),
      listSection('*Free packs:* ', freePacks, { empty: 'none', separator: ', ', maxLines: free_products_shown_max, more: (k) => `and ${counted(k, 'more product')} (the App Home lists them)` }),
    ],
  };
}

/** A list in a tool's part: its head, then the first entries that fit, then how many more. */
const part = (head: string, lines: ReturnType<typeof lazyLines>, empty: string, more: (k: number) => string) =>
  `${head}${cappedLines(lines, { maxChars: digest_list_chars_max - head.length, separator: ', ', more }) || empty}`;

function severalToolsDigest(all: ToolDigest[]): SlackMessage {
  const active = all.filter((t) => t.profiles.length > 0 || t.usedThisWeek > 0 || t.usedPreviousWeek > 0 || t.freePacks.length > 0);
  const shown = active.slice(0, digest_tools_shown_max);
  const name = (t: ToolDigest) => mrkdwnText(t.tool.name, name_chars_shown_max);
  const headline = `Weekly AI credit digest: ${n(active.length)} of ${counted(all.length, 'tool')} in use.`;
  const blocks: Block[] = [section(`*${headline}*`)];
  for (const t of shown) {
    const unit = t.tool.unit;
    const report = (k: number) => `and ${n(k)} more (\`/credits report ${mrkdwnText(t.tool.key, name_chars_shown_max)}\` has everyone)`;
    blocks.push(
      section(`*${name(t)}*: ${n(t.usedThisWeek)} ${unitText(t.usedThisWeek, unit)} used this week (${weekChange(t)}) · ${overageText(t.overage, unitText(t.overage, unit))}`),
      section(
        [
          part('*By profile:* ', lazyLines(t.profiles, (p) => `${profileName(p)} ${n(p.used)} of ${n(p.quota)} (${pct(p.used, p.quota)})`), 'no seats yet', (k) => `and ${n(k)} more (\`creditdesk report --group-by profile\` has every profile)`),
          part('*Top consumers:* ', lazyLines(t.topConsumers, (m, i) => `${i + 1}. ${member(m.user)} ${n(m.used)} of ${n(m.quota)} (${pct(m.used, m.quota)})`), 'no usage yet', report),
          part('*Over 80 %:* ', lazyLines(t.over80, (m) => `${member(m.user)} (${pct(m.used, m.quota)})`), 'nobody', report),
          part('*Free packs:* ', lazyLines(t.freePacks, (p) => `${n(p.count)} × ${mrkdwnText(p.product, name_chars_shown_max)}`), 'none', (k) => `and ${counted(k, 'more product')} (the App Home lists them)`),
        ].join('\n'),
      ),
    );
  }
  if (active.length > shown.length) blocks.push(context(`and ${counted(active.length - shown.length, 'more tool')} in use (\`/credits report\` has a line for each)`));
  const each = shown.map((t) => `${name(t)} ${n(t.usedThisWeek)} ${unitText(t.usedThisWeek, t.tool.unit)}`).join('; ');
  return { text: truncate(`${headline} Used this week: ${each || 'nothing'}.`, digest_text_chars_max), blocks };
}
