// The member's request modal: filed once, posted to the admin channel with Approve and Deny.
import type { App, ViewSubmitAction } from '@slack/bolt';
import { requestChannelMessage } from '../../blocks/request.ts';
import type { SlackContext } from '../../context.ts';
import { credits } from '../../format.ts';
import { blocks, inputs, views } from '../../ids.ts';
import { amount_schema, optional_reason_schema, value } from '../../parse/views.ts';
import { dm, errors, state } from './common.ts';

export function register(app: App, ctx: SlackContext): void {
  app.view<ViewSubmitAction>(views.request, async (args) => {
    const amount = amount_schema.safeParse(value(state(args), blocks.amount, inputs.amount));
    const reason = optional_reason_schema.safeParse(value(state(args), blocks.reason, inputs.reason));
    if (!amount.success) return args.ack(errors({ [blocks.amount]: amount.error.issues[0]!.message }));
    if (!reason.success) return args.ack(errors({ [blocks.reason]: reason.error.issues[0]!.message }));
    if (!ctx.adminChannelId) return args.ack(errors({ [blocks.amount]: 'No admin channel is set up to receive requests (ADMIN_CHANNEL_ID); ask an admin.' }));
    await args.ack();
    const { request, created } = await ctx.ledger.fileRequest(args.body.user.id, amount.data, reason.data);
    // The same request again is not filed twice; it is posted again only if Slack never took it.
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
