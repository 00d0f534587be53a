// The member's request modal: filed once per submission (its view id and values are the key), and
// posted to the admin channel with Approve and Deny. With several tools the request is for the tool
// the modal named or the member picked.
import type { App, ViewSubmitAction } from '@slack/bolt';
import type { CreditRequest } from '../../../ledger/index.ts';
import type { ListenerContext } from '../../background.ts';
import { requestChannelMessage } from '../../blocks/request.ts';
import { unitAfter } from '../../../words.ts';
import { credits } from '../../format.ts';
import { blocks, inputs, views } from '../../ids.ts';
import { amount_schema, optional_reason_schema, parseMetadata, request_metadata, selected, value } from '../../parse/views.ts';
import { requestTools } from '../../request.ts';
import { dm, errors, state, submissionKey } from './common.ts';

/** What the member asked for, as the DMs say it: the tool's unit, and the tool when there are several. */
const askedFor = (request: CreditRequest, several: boolean) =>
  `${credits(request.credits)} ${unitAfter(request.credits, request.unit)}${several ? ` (${request.toolName})` : ''}`;

export function register(app: App, ctx: ListenerContext): void {
  app.view<ViewSubmitAction>(views.request, async (args) => {
    const amount = amount_schema.safeParse(value(state(args), blocks.amount, inputs.amount));
    const reason = optional_reason_schema.safeParse(value(state(args), blocks.reason, inputs.reason));
    if (!amount.success) return args.ack(errors({ [blocks.amount]: amount.error.issues[0]!.message }));
    if (!reason.success) return args.ack(errors({ [blocks.reason]: reason.error.issues[0]!.message }));
    if (!ctx.adminChannelId) return args.ack(errors({ [blocks.amount]: 'No admin channel is set up to receive requests (ADMIN_CHANNEL_ID); ask an admin.' }));
    const user = args.body.user.id;
    // The tool the modal asked for or named; a modal that could not be updated with it is decided here.
    let tool = selected(state(args), blocks.tool, inputs.tool) ?? parseMetadata(request_metadata, args.view.private_metadata)?.tool ?? null;
    let several = tool != null;
    if (!tool) {
      const tools = await requestTools(ctx, user);
      if (tools && 'choose' in tools) {
        return args.ack(errors({ [blocks.amount]: 'You hold seats in several tools and this form did not ask which: close it and open the request again.' }));
      }
      tool = tools?.tool.key ?? null;
      several = tools != null;
    }
    // Nothing below can be the member's fault: Slack hears at once, the work follows.
    await args.ack();
    const filed = await ctx.ledger.once(submissionKey(args), (l) => l.fileRequest(user, amount.data, reason.data, tool));
    // Slack's retry of this very submission: the delivery that filed it posts it and tells the member.
    if (filed.replayed) return;
    const { request, created } = filed.outcome;
    const what = askedFor(request, several);
    // The same request from another submission is not filed twice; it is posted again only if Slack never took it.
    if (!created && request.messageTs) {
      return void (await dm(args, `Your request for ${what} is already with the admins; you will hear here when one decides.`));
    }
    const posted = await args.client.chat.postMessage({ channel: ctx.adminChannelId, ...requestChannelMessage(request, several) }).catch((error) => {
      ctx.log.warn('request not posted to the admin channel', { error });
      return null;
    });
    if (!posted?.ts) {
      return void (await dm(args, `Slack did not pass your request for ${what} to the admins just now. It is saved: send the same request again in a few minutes and it goes to them once.`));
    }
    await ctx.ledger.rememberRequestMessage(request.id, posted.channel ?? ctx.adminChannelId, posted.ts);
    await dm(args, `Your request for ${what} went to the admins. You will hear here when one decides.`);
  });
}
