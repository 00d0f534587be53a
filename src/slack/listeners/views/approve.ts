// An admin's approval: the decision is claimed first, then a pack or an amount is granted, and
// the requester and the channel are told.
import type { App, ViewSubmitAction } from '@slack/bolt';
import { isAdmin, not_admin_text } from '../../admins.ts';
import { humanError, type SlackContext } from '../../context.ts';
import { credits } from '../../format.ts';
import { blocks, inputs, views } from '../../ids.ts';
import { amount_schema, approve_metadata, parseMetadata, selected, value } from '../../parse/views.ts';
import { decideRequest, loadRequest, type CreditRequest } from '../../requests.ts';
import { announceDecision } from '../actions/index.ts';
import { dm, errors, state } from './common.ts';

/** A modal error is plain text, where a mention would show as a raw id. */
const alreadyDecided = (request: CreditRequest | undefined, by: string) =>
  request ? `This request was already ${request.status} by ${request.decidedBy === by ? 'you' : 'another admin'}; nothing was changed.` : 'That request no longer exists.';

export function register(app: App, ctx: SlackContext): void {
  app.view<ViewSubmitAction>(views.approve, async (args) => {
    const by = args.body.user.id;
    if (!(await isAdmin(ctx.ledger, ctx.adminUserIds, by))) return args.ack(errors({ [blocks.amount]: not_admin_text }));
    const meta = parseMetadata(approve_metadata, args.view.private_metadata);
    if (!meta) return args.ack(errors({ [blocks.amount]: 'This form lost track of its request; open it again from the channel.' }));
    const pack = selected(state(args), blocks.pack, inputs.pack);
    const typed = value(state(args), blocks.amount, inputs.amount);
    if (!pack && !typed) return args.ack(errors({ [blocks.amount]: 'Pick a free pack above, or enter how many credits to grant' }));
    const amount = pack ? null : amount_schema.safeParse(typed);
    if (amount && !amount.success) return args.ack(errors({ [blocks.amount]: amount.error.issues[0]!.message }));
    // The decision is claimed first, so a second admin, a double click or Slack's retry cannot grant twice.
    const request = await decideRequest(ctx.ledger.ctx.db, meta.requestId, 'approved', by, ctx.ledger.ctx.now());
    if (!request) {
      const existing = await loadRequest(ctx.ledger.ctx.db, meta.requestId);
      return args.ack(errors({ [blocks.amount]: alreadyDecided(existing, by) }));
    }
    await args.ack();
    let outcome: string;
    try {
      outcome = pack
        ? `a ${pack} pack with ${credits((await ctx.ledger.assignPack({ product: pack, user: request.slackId, actor: by })).credits)} credits`
        : `${credits((await ctx.ledger.adjust({ user: request.slackId, credits: amount!.data!, reason: `request ${request.id}${request.reason ? `: ${request.reason}` : ''}`, actor: by })).credits)} credits`;
    } catch (error) {
      // The grant did not happen: the request goes back to pending for another try.
      await ctx.ledger.ctx.db.query(`update credit_requests set status = 'pending', decided_by = null, decided_at = null where id = $1`, [request.id]);
      await dm(args, `Approving the request from <@${request.slackId}> failed: ${humanError(ctx, error)}`);
      return;
    }
    // The grant is written and the request stays approved even if Slack cannot be told now:
    // putting it back to pending would let the next click grant it a second time.
    await announceDecision(args.client as never, request, outcome).catch((error) => ctx.log.warn('approval not announced in Slack', { error }));
  });
}
