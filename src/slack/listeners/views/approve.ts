// An admin's approval: one ledger operation claims the request, grants the pack or amount and
// queues the requester's DM; then the channel message shows who decided. The claim on the pending
// request makes it happen once, however often Slack delivers the submission.
import type { App, ViewSubmitAction } from '@slack/bolt';
import { isAdmin, not_admin_text } from '../../admins.ts';
import type { ListenerContext } from '../../background.ts';
import { humanError } from '../../context.ts';
import { unitAfter } from '../../../words.ts';
import { credits } from '../../format.ts';
import { blocks, inputs, views } from '../../ids.ts';
import { amount_schema, approve_metadata, parseMetadata, selected, value } from '../../parse/views.ts';
import type { CreditRequest, Decision } from '../../../ledger/index.ts';
import { showDecision } from '../actions/index.ts';
import { state } from './common.ts';
import { answerInTime, done, fieldErrors } from './in-time.ts';

/** A modal error is plain text, where a mention would show as a raw id. */
const alreadyDecided = (request: CreditRequest | undefined, by: string) =>
  request ? `This request was already ${request.status} by ${request.decidedBy === by ? 'you' : 'another admin'}; nothing was changed.` : 'That request no longer exists.';

export function register(app: App, ctx: ListenerContext): void {
  app.view<ViewSubmitAction>(views.approve, (args) =>
    answerInTime(
      ctx,
      args,
      async () => {
        const by = args.body.user.id;
        if (!(await isAdmin(ctx.ledger, ctx.adminUserIds, by))) return fieldErrors({ [blocks.amount]: not_admin_text });
        const meta = parseMetadata(approve_metadata, args.view.private_metadata);
        if (!meta) return fieldErrors({ [blocks.amount]: 'This form lost track of its request; open it again from the channel.' });
        const pack = selected(state(args), blocks.pack, inputs.pack);
        const typed = value(state(args), blocks.amount, inputs.amount);
        if (!pack && !typed) return fieldErrors({ [blocks.amount]: 'Pick a free pack above, or enter how many credits to grant' });
        const amount = pack ? null : amount_schema.safeParse(typed);
        if (amount && !amount.success) return fieldErrors({ [blocks.amount]: amount.error.issues[0]!.message });
        // Decided before the answer to Slack, so what stops it (decided already, no free pack left)
        // is named in the modal. Nothing is written unless all of it is: claim, grant and DM.
        const field = pack ? blocks.pack : blocks.amount;
        let decision: Decision;
        try {
          decision = await ctx.ledger.approveRequest({ id: meta.requestId, by, grant: pack ? { pack } : { credits: amount!.data! } });
        } catch (error) {
          return fieldErrors({ [field]: `Not approved: ${humanError(ctx, error)}` });
        }
        if (!decision.decided) return fieldErrors({ [field]: alreadyDecided(decision.request, by) });
        const { request, granted } = decision;
        const what = granted && 'pack' in granted ? `a pack (${granted.pack}), ${credits(granted.credits)} ${unitAfter(granted.credits, request.unit)}` : `${credits(granted?.credits ?? 0)} ${unitAfter(granted?.credits ?? 0, request.unit)}`;
        return done(`Approved: <@${request.slackId}> gets ${what}.`, { after: () => showDecision(ctx, args.client as never, request) });
      },
      (text) => fieldErrors({ [blocks.amount]: text }),
    ),
  );
}
