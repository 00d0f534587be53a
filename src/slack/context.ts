// What every listener is given: the ledger and the settings Slack needs. No Slack client here:
// listeners use the one Bolt hands them.
import { isTimeZone } from '../ledger/cycles.ts';
import { LedgerError } from '../ledger/errors.ts';
import type { WebClient } from '@slack/web-api';
import type { Ledger } from '../ledger/index.ts';
import type { Logger } from '../log.ts';
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

export const zoneOf = (ctx: SlackContext) => ctx.ledger.ctx.settings.zone;

/** Members whose time zone is remembered; past this the oldest is forgotten. */
const zones_cached_max = 10_000;
const zones = new Map<string, string>();

/**
 * The member's own time zone from their Slack profile (users.info), so dates read as theirs;
 * the org's when Slack does not say. Remembered per process: people rarely move.
 */
export async function memberZone(ctx: SlackContext, client: WebClient, userId: string): Promise<string> {
  const known = zones.get(userId);
  if (known) return known;
  let zone = zoneOf(ctx);
  try {
    const info = await client.users.info({ user: userId });
    if (info.user?.tz && isTimeZone(info.user.tz)) zone = info.user.tz;
  } catch {
    return zone; // Slack unreachable: the org's zone now, ask again next time
  }
  if (zones.size >= zones_cached_max) zones.delete(zones.keys().next().value!);
  zones.set(userId, zone);
  return zone;
}


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

/** A ledger error's message is written for people; anything else is logged and summarised. */
export function humanError(ctx: SlackContext, error: unknown): string {
  if (error instanceof LedgerError) return inSlackWords(error.message);
  ctx.log.error('slack listener failed', { error });
  return 'Something went wrong on our side; nothing was changed. Please try again in a minute.';
}
