// Numbers, dates and people's text as Slack shows them: thousands separators, dates as Slack date
// tokens that each reader sees in their own time zone, and text escaped so it stays text.
import { DateTime } from 'luxon';
import { unitAfter } from '../words.ts';
import { name_chars_shown_max, truncate } from './blocks/limits.ts';

export const credits = (value: number) => value.toLocaleString('en-US');

/**
 * Overage as a report line shows it: flagged in red only when there is some ("no overage" for 0,
 * where a red 0 read as an alarm). `unit`, when given, goes between the amount and the word.
 */
export const overageText = (value: number, unit?: string) => (value > 0 ? `:red_circle: ${credits(value)}${unit ? ` ${unit}` : ''} overage` : 'no overage');

export const percent = (part: number, whole: number) => (whole > 0 ? `${Math.round((part * 100) / whole)} %` : '—');

/**
 * Text anyone typed (a reason, a feature, a name, an email), made safe for mrkdwn: Slack treats
 * `&`, `<` and `>` as control characters and asks for exactly these three entities ("Formatting
 * text for app surfaces", Escaping text), so `<!channel>` cannot ping and `<https://…|invoice>`
 * cannot hide a link. Plain-text fields (labels, options, initial values) take the text as it is.
 */
export const escapeMrkdwn = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Typed text for mrkdwn, escaped and then shortened to at most `maxChars` (never inside an entity). */
export const mrkdwnText = (text: string, maxChars: number) => truncate(escapeMrkdwn(text), maxChars);

/** A tool's unit after `count` ("1 premium request", words.ts), escaped for mrkdwn and shortened to a name's length. */
export const unitText = (count: number, unit: string) => mrkdwnText(unitAfter(count, unit), name_chars_shown_max);

/**
 * A text the ledger wrote for people, such as a vendor-console task, where a member may appear
 * as a mention (`<@U123>`) next to names and emails anyone could have typed: everything is
 * escaped except those mentions.
 */
export const escapeKeepingMentions = (text: string) => escapeMrkdwn(text).replace(/&lt;@([UW][A-Z0-9]+)&gt;/g, '<@$1>');

/**
 * How mrkdwn names a member: a mention when the text is a Slack user id (bare or already as
 * `<@U123>`), otherwise the escaped text (an email, a name).
 */
export function userRef(who: string): string {
  const id = /^<@([UW][A-Z0-9]+)>$/.exec(who)?.[1] ?? (/^[UW][A-Z0-9]+$/.test(who) ? who : null);
  return id ? `<@${id}>` : escapeMrkdwn(who);
}

/** A member by Slack id, else by email, in mrkdwn. */
export const memberRef = (m: { slackId: string | null; email: string | null }, unknown = 'a member') =>
  m.slackId ? `<@${m.slackId}>` : m.email ? escapeMrkdwn(m.email) : unknown;

const toDateTime = (at: string | Date, zone: string) => (typeof at === 'string' ? DateTime.fromISO(at, { zone }) : DateTime.fromJSDate(at, { zone }));

/** The day of `at` in `zone` ("1 Jun 2026"): a date token's fallback, and how a `text` fallback says a date. */
export function dateText(at: string | Date, zone: string): string {
  return toDateTime(at, zone).toFormat('d LLL yyyy');
}

/**
 * A Slack date token (`<!date^UNIX^{date_short}|fallback>`, "Formatting text for app surfaces",
 * Date formatting): each reader's Slack shows the moment in their own time zone; a client that
 * cannot shows the fallback, the day in `zone` (the org's).
 */
export function dateToken(at: string | Date, zone: string, format = '{date_short}'): string {
  const moment = toDateTime(at, zone);
  return `<!date^${Math.floor(moment.toSeconds())}^${format}|${moment.toFormat('d LLL yyyy')}>`;
}

/** A moment as a Slack date token showing the day and the time (a daily limit renews at a tool's midnight, not the reader's). */
export function dateTimeToken(at: string | Date, zone: string): string {
  const moment = toDateTime(at, zone);
  return `<!date^${Math.floor(moment.toSeconds())}^{date_short} {time}|${moment.toFormat('d LLL yyyy HH:mm')}>`;
}
