// A member's sync that showed more credits than creditdesk expected: the pending correction as
// the admin channel sees it (Confirm, Dismiss, then who decided), and what the member hears.
import type { SyncCorrection } from '../../ledger/index.ts';
import { credits } from '../format.ts';
import { actions } from '../ids.ts';
import { actionsRow, button, context, section, type Block, type Message } from './common.ts';

/** The flag the admins have always seen for a sync gap: "expected 3,120, reported 2,400: 720 unaccounted". */
export const syncFlagText = (user: string, expected: number, reported: number) =>
  `<@${user}> synced with the vendor: expected ${credits(expected)}, reported ${credits(reported)}: ${credits(Math.abs(expected - reported))} unaccounted.`;

const member = (c: SyncCorrection) => c.slackId ?? c.email ?? 'a member';

function decidedLine(c: SyncCorrection): string {
  switch (c.status) {
    case 'pending':
      return '';
    case 'confirmed':
      return `:white_check_mark: Confirmed by <@${c.decidedBy}>: +${credits(c.credits)} credits granted as a correction`;
    case 'dismissed':
      return `:x: Dismissed by <@${c.decidedBy}>: nothing granted`;
    case 'superseded':
      return 'Superseded by a later sync: nothing granted here';
    case 'lapsed':
      return `Lapsed (confirmed by <@${c.decidedBy}> after the cycle it was for had ended): nothing granted`;
  }
}

/** The admin channel's message: Confirm and Dismiss while pending, who decided afterwards. */
export function correctionMessage(c: SyncCorrection): Message {
  const head = `${syncFlagText(member(c), c.expected, c.reported)}\nConfirming grants them *+${credits(c.credits)} credits* as a correction; a sync never raises a balance by itself.`;
  const blocks: Block[] = [section(head)];
  if (c.status === 'pending') {
    blocks.push(actionsRow(button('Confirm', actions.syncConfirm, String(c.id), 'primary'), button('Dismiss', actions.syncDismiss, String(c.id))));
  } else {
    blocks.push(context(decidedLine(c)));
  }
  return { text: `Sync correction for <@${member(c)}>: +${credits(c.credits)} credits (${c.status})`, blocks };
}

/** Said to an admin who clicks a correction that is no longer pending. */
export function alreadyDecidedText(c: SyncCorrection): string {
  if (c.status === 'superseded') return 'That correction was superseded by a later sync; decide on the newest one.';
  if (c.status === 'lapsed') return 'That correction lapsed: the cycle it was for has ended, and nothing was granted.';
  return `That correction was already ${c.status} by <@${c.decidedBy}>.`;
}

/** The member's DM once an admin decided; null when there is nothing to tell. */
export function correctionOutcomeText(c: SyncCorrection): string | null {
  if (c.status === 'confirmed') {
    return `<@${c.decidedBy}> confirmed your sync: +${credits(c.credits)} credits were added to your balance as a correction.`;
  }
  if (c.status === 'dismissed') {
    return `<@${c.decidedBy}> dismissed the +${credits(c.credits)} credits your sync reported; creditdesk's figure stays as it was. Ask an admin if you think the vendor's figure is right.`;
  }
  return null;
}
