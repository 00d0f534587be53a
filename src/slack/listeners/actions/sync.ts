// Confirm and Dismiss on a sync correction in the admin channel: admin rights are checked when
// clicked, and the ledger decides each correction once (a second click or a second admin is told
// who decided). Confirming grants the gap as a manual grant; the member hears the outcome by DM.
import type { App } from '@slack/bolt';
import type { CorrectionDecision } from '../../../ledger/index.ts';
import { isAdmin, not_admin_text } from '../../admins.ts';
import { alreadyDecidedText, correctionOutcomeText } from '../../blocks/sync.ts';
import { humanErrorMrkdwn, type SlackContext } from '../../context.ts';
import { actions } from '../../ids.ts';
import { showCorrection, syncToolOf } from '../../sync.ts';
import { respondWith, type ButtonArgs } from './common.ts';

export function register(app: App, ctx: SlackContext): void {
  const decide = (verb: 'Confirmed' | 'Dismissed', apply: (input: { id: number; by: string }) => Promise<CorrectionDecision>) => async (args: unknown) => {
    const a = args as ButtonArgs;
    await a.ack();
    const by = a.body.user.id;
    if (!(await isAdmin(ctx.ledger, ctx.adminUserIds, by))) return respondWith(a, not_admin_text);
    const id = Number(a.action.value);
    let decision: CorrectionDecision;
    try {
      decision = await apply({ id, by });
    } catch (error) {
      return respondWith(a, `Not ${verb.toLowerCase()}: ${humanErrorMrkdwn(ctx, error)}`);
    }
    if (!decision.decided) return respondWith(a, decision.correction ? alreadyDecidedText(decision.correction) : 'That correction no longer exists.');
    await showCorrection(ctx, a.client, id);
    const told = correctionOutcomeText(decision.correction, await syncToolOf(ctx, decision.correction.tool));
    const member = decision.correction.slackId;
    if (told && member) {
      await a.client.chat.postMessage({ channel: member, text: told }).catch((error) => ctx.log.warn('sync correction outcome not sent to the member', { error }));
    }
  };
  app.action(actions.syncConfirm, decide('Confirmed', ctx.ledger.confirmCorrection));
  app.action(actions.syncDismiss, decide('Dismissed', ctx.ledger.dismissCorrection));
}
