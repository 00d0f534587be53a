// What every listener is given: the ledger and the settings Slack needs. No Slack client here:
// listeners use the one Bolt hands them.
import type { Ledger } from '../ledger/index.ts';
import type { Logger } from '../log.ts';

export interface SlackContext {
  ledger: Ledger;
  log: Logger;
  adminUserIds: readonly string[];
  adminChannelId?: string;
  selfReporting: boolean;
}

export const zoneOf = (ctx: SlackContext) => ctx.ledger.ctx.settings.zone;

/** A ledger error's message is written for people; anything else is logged and summarised. */
export function humanError(ctx: SlackContext, error: unknown): string {
  if (error instanceof Error && error.name === 'LedgerError') return error.message;
  ctx.log.error('slack listener failed', { error });
  return 'Something went wrong on our side; nothing was changed. Please try again in a minute.';
}
