// What every listener is given: the ledger and the settings Slack needs. No Slack client here:
// listeners use the one Bolt hands them.
import { LedgerError } from '../ledger/errors.ts';
import type { Ledger } from '../ledger/index.ts';
import type { Logger } from '../log.ts';
import { escapeMrkdwn } from './format.ts';
import type { BackgroundWork, SlackTimers } from './background.ts';

export interface SlackContext {
  ledger: Ledger;
  log: Logger;
  adminUserIds: readonly string[];
  adminChannelId?: string;
  selfReporting: boolean;
  /** How listeners wait, e.g. for a modal submission's time budget; default real time. Tests drive their own. */
  timers?: SlackTimers;
  /** Work listeners leave running after answering Slack; default one per app. Tests await it. */
  background?: BackgroundWork;
}

/**
 * The org's time zone. Dates reach people as Slack date tokens, which each reader's Slack shows
 * in their own zone; this zone only words the tokens' fallback and the plain `text` of a message.
 */
export const zoneOf = (ctx: SlackContext) => ctx.ledger.ctx.settings.zone;

/**
 * The ledger's messages point API callers at a route; in Slack the same fix is a form of
 * /credits admin, so the hint is rewritten for the person reading it.
 */
const api_hints: [RegExp, string][] = [
  [/ with PUT \/api\/v1\/(plans|pack-products|profiles)\/\S+/, ' under /credits admin → Plans, packs, profiles'],
  [/ with PUT \/api\/v1\/seats\/\S+/, ' under /credits admin → Add or restore a seat'],
];

/** A ledger message (an error, a refused event's reason) as a person in Slack can act on it. */
export const inSlackWords = (message: string) => api_hints.reduce((said, [route, form]) => said.replace(route, form), message);

/**
 * A ledger error's message is written for people; anything else is logged and summarised. Plain
 * text, for a modal's field errors and for what escapes it later (a DM, a result modal); where it
 * goes into mrkdwn itself, humanErrorMrkdwn.
 */
export function humanError(ctx: SlackContext, error: unknown): string {
  if (error instanceof LedgerError) return inSlackWords(error.message);
  ctx.log.error('slack listener failed', { error });
  return 'Something went wrong on our side; nothing was changed. Please try again in a minute.';
}

/**
 * humanError for mrkdwn. A ledger message quotes names, emails and keys people typed, and shows
 * commands with placeholders (`/credits log <tool> <amount>`), so it is escaped like any typed text
 * (SPEC "People's text is text"): nothing in it can ping a channel, hide a link or vanish as one.
 */
export const humanErrorMrkdwn = (ctx: SlackContext, error: unknown) => escapeMrkdwn(humanError(ctx, error));

/** A refused event's reason (the ledger's words) as mrkdwn: in Slack's words, escaped as humanErrorMrkdwn is. */
export const reasonMrkdwn = (reason: string) => escapeMrkdwn(inSlackWords(reason));
