// A member's sync that showed more credits than creditdesk expected: the pending correction as
// the admin channel sees it (Confirm, Dismiss, then who decided), and what the member hears. With
// several tools in the org each names the tool synced and counts in its unit.
import type { SyncCorrection } from '../../ledger/index.ts';
import { noun } from '../../words.ts';
import { credits, mrkdwnText, unitText, userRef } from '../format.ts';
import { actions } from '../ids.ts';
import { actionsRow, button, context, section, type Block, type Message } from './common.ts';
import { name_chars_shown_max } from './limits.ts';

/** The tool a sync was about, named only when the org has several (see tools.ts). */
export interface SyncTool {
  name: string;
  unit: string;
}

/** " of Figma AI credits" after "the vendor", where there are several tools. */
const ofTool = (tool?: SyncTool | null) => (tool ? ` of ${mrkdwnText(tool.name, name_chars_shown_max)}` : '');
/** The unit `count` is in, for mrkdwn: "credits" where the org has one tool, as it always was ("1 credit" for one). */
export const unitOf = (count: number, tool?: SyncTool | null) => (tool ? unitText(count, tool.unit) : noun(count, 'credit'));

/**
 * The flag the admins have always seen for a sync gap: "expected 3,120, reported 2,400: 720
 * unaccounted". `user` is a Slack id (shown as a mention) or, for a member without one, their email.
 */
export const syncFlagText = (user: string, expected: number, reported: number, tool?: SyncTool | null) =>
  `${userRef(user)} synced with the vendor${ofTool(tool)}: expected ${credits(expected)}, reported ${credits(reported)}: ${credits(Math.abs(expected - reported))} unaccounted.`;

const member = (c: SyncCorrection) => c.slackId ?? (c.email ? mrkdwnText(c.email, name_chars_shown_max) : 'a member');

function decidedLine(c: SyncCorrection, tool?: SyncTool | null): string {
  switch (c.status) {
    case 'pending':
      return '';
    case 'confirmed':
      return `:white_check_mark: Confirmed by <@${c.decidedBy}>: +${credits(c.credits)} ${unitOf(c.credits, tool)} granted as a correction`;
    case 'dismissed':
      return `:x: Dismissed by <@${c.decidedBy}>: nothing granted`;
    case 'superseded':
      return 'Superseded by a later sync: nothing granted here';
    case 'lapsed':
      return `Lapsed (confirmed by <@${c.decidedBy}> after the cycle it was for had ended): nothing granted`;
  }
}

/** The admin channel's message: Confirm and Dismiss while pending, who decided afterwards. */
export function correctionMessage(c: SyncCorrection, tool?: SyncTool | null): Message {
  const head = `${syncFlagText(member(c), c.expected, c.reported, tool)}\nConfirming grants them *+${credits(c.credits)} ${unitOf(c.credits, tool)}* as a correction; a sync never raises a balance by itself.`;
  const blocks: Block[] = [section(head)];
  if (c.status === 'pending') {
    blocks.push(actionsRow(button('Confirm', actions.syncConfirm, String(c.id), 'primary'), button('Dismiss', actions.syncDismiss, String(c.id))));
  } else {
    blocks.push(context(decidedLine(c, tool)));
  }
  return { text: `Sync correction for ${userRef(member(c))}: +${credits(c.credits)} ${unitOf(c.credits, tool)}${ofTool(tool) ? ` (${mrkdwnText(tool!.name, name_chars_shown_max)})` : ''} (${c.status})`, blocks };
}

/** Said to an admin who clicks a correction that is no longer pending. */
export function alreadyDecidedText(c: SyncCorrection): string {
  if (c.status === 'superseded') return 'That correction was superseded by a later sync; decide on the newest one.';
  if (c.status === 'lapsed') return 'That correction lapsed: the cycle it was for has ended, and nothing was granted.';
  return `That correction was already ${c.status} by <@${c.decidedBy}>.`;
}

/** The member's DM once an admin decided; null when there is nothing to tell. */
export function correctionOutcomeText(c: SyncCorrection, tool?: SyncTool | null): string | null {
  const where = tool ? ` in ${mrkdwnText(tool.name, name_chars_shown_max)}` : '';
  if (c.status === 'confirmed') {
    return `<@${c.decidedBy}> confirmed your sync${where}: +${credits(c.credits)} ${unitOf(c.credits, tool)} ${noun(c.credits, 'was', 'were')} added to your balance as a correction.`;
  }
  if (c.status === 'dismissed') {
    return `<@${c.decidedBy}> dismissed the +${credits(c.credits)} ${unitOf(c.credits, tool)} your sync${where} reported; creditdesk's figure stays as it was. Ask an admin if you think the vendor's figure is right.`;
  }
  return null;
}
