// The member's request modal: filed once per submission (its view id and values are the key), and
// posted to the admin channel with Approve and Deny.
import type { App, ViewSubmitAction } from '@slack/bolt';
import type { ListenerContext } from '../../background.ts';
import { requestChannelMessage } from '../../blocks/request.ts';
import { credits } from '../../format.ts';
import { blocks, inputs, views } from '../../ids.ts';
import { amount_schema, optional_reason_schema, value } from '../../parse/views.ts';
import { dm, errors, state, submissionKey } from './common.ts';

export function register(app: App, ctx: ListenerContext): void {
  app.view<ViewSubmitAction>(views.request, async (args) => {
    const amount = amount_schema.safeParse(value(state(args), blocks.amount, inputs.amount));
    const reason = optional_reason_schema.safeParse(value(state(args), blocks.reason, inputs.reason));
    if (!amount.success) return args.ack(errors({ [blocks.amount]: amount.error.issues[0]!.message }));
    if (!reason.success) return args.ack(errors({ [blocks.reason]: reason.error.issues[0]!.message }));
    if (!ctx.adminChannelId) return args.ack(errors({ [blocks.amount]: 'No admin channel is set up to receive requests (ADMIN_CHANNEL_ID); ask an admin.' }));
    // Nothing below can be the member's fault: Slack hears at once, the work follows.
    await args.ack();
    const user = args.body.user.id;
    const filed = await ctx.ledger.once(submissionKey(args), (l) => l.fileRequest(user, amount.data, reason.data));
    // Slack's retry of this very submission: the delivery that filed it posts it and tells the member.
    if (filed.replayed) return;
    const { request, created } = filed.outcome;
    // The same request from another submission is not filed twice; it is posted again only if Slack never took it.
    if (!created && request.messageTs) {
      return void (await dm(args, `Your request for ${credits(amount.data)} credits is already with the admins; you will hear here when one decides.`));
    }
    const posted = await args.client.chat.postMessage({ channel: ctx.adminChannelId, ...requestChannelMessage(request) } as never).catch((error) => {
      ctx.log.warn('request not posted to the admin channel', { error });
      return null;
    });
    if (!posted?.ts) {
      return void (await dm(args, `Slack did not pass your request for ${credits(amount.data)} credits to the admins just now. It is saved: send the same request again in a few minutes and it goes to them once.`));
    }
    await ctx.ledger.rememberRequestMessage(request.id, posted.channel ?? ctx.adminChannelId, posted.ts);
    await dm(args, `Your request for ${credits(amount.data)} credits went to the admins. You will hear here when one decides.`);
  });
}
