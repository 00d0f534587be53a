// Buttons: history, request more, approve and deny a request, a vendor task done, the admin menu.
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { isAdmin, not_admin_text } from '../../admins.ts';
import { adminForm, noticeModal } from '../../blocks/admin.ts';
import { admin_form_schema } from '../../parse/views.ts';
import { historyMessage } from '../../blocks/balance.ts';
import { section } from '../../blocks/common.ts';
import { approveModal, decisionDm, requestChannelMessage, requestModal } from '../../blocks/request.ts';
import { humanError, memberZone, type SlackContext } from '../../context.ts';
import { publishHome } from '../../home.ts';
import { actions } from '../../ids.ts';
import { decideRequest, loadRequest } from '../../requests.ts';

type ButtonArgs = Parameters<Parameters<App['action']>[1]>[0] & { body: BlockAction; action: ButtonAction };

export function register(app: App, ctx: SlackContext): void {
  const respondWith = (args: ButtonArgs, text: string) =>
    args.respond({ response_type: 'ephemeral', replace_original: false, text, blocks: [section(text)] } as never).then(
      () => undefined,
      () => undefined,
    );

  app.action(actions.history, async (args) => {
    const { ack, body, respond, client } = args as ButtonArgs;
    await ack();
    const message = historyMessage(await ctx.ledger.history(body.user.id), await memberZone(ctx, client, body.user.id));
    await respond({ response_type: 'ephemeral', replace_original: false, ...message } as never);
  });

  app.action(actions.requestOpen, async (args) => {
    const { ack, body, client } = args as ButtonArgs;
    await ack();
    await client.views.open({ trigger_id: body.trigger_id, view: requestModal({ amount: null, reason: null }) as never });
  });

  app.action(actions.approve, async (args) => {
    const a = args as ButtonArgs;
    await a.ack();
    if (!(await isAdmin(ctx.ledger, ctx.adminUserIds, a.body.user.id))) return respondWith(a, not_admin_text);
    const request = await loadRequest(ctx.ledger.ctx.db, Number(a.action.value));
    if (!request) return respondWith(a, 'That request no longer exists.');
    if (request.status !== 'pending') return respondWith(a, `That request was already ${request.status} by <@${request.decidedBy}>.`);
    const products = await ctx.ledger.ctx.db.query<never>(
      `select pp.key, pp.name, pp.credits, pp.kind, count(k.id) filter (where k.seat_id is null and (k.expires_at is null or k.expires_at > $1))::int8 as free
       from pack_products pp left join packs k on k.product_key = pp.key group by pp.key order by pp.key`,
      [ctx.ledger.ctx.now()],
    );
    await a.client.views.open({ trigger_id: a.body.trigger_id, view: approveModal(request, products) as never });
  });

  app.action(actions.deny, async (args) => {
    const a = args as ButtonArgs;
    await a.ack();
    const by = a.body.user.id;
    if (!(await isAdmin(ctx.ledger, ctx.adminUserIds, by))) return respondWith(a, not_admin_text);
    const id = Number(a.action.value);
    const decided = await decideRequest(ctx.ledger.ctx.db, id, 'denied', by, ctx.ledger.ctx.now());
    if (!decided) {
      const request = await loadRequest(ctx.ledger.ctx.db, id);
      return respondWith(a, `That request was already ${request?.status ?? 'decided'} by <@${request?.decidedBy}>.`);
    }
    await announceDecision(a.client, decided, '');
  });

  app.action(actions.taskDone, async (args) => {
    const a = args as ButtonArgs;
    await a.ack();
    const by = a.body.user.id;
    // A Home tab button has no response_url: a refusal goes by DM.
    if (!(await isAdmin(ctx.ledger, ctx.adminUserIds, by))) return void (await a.client.chat.postMessage({ channel: by, text: not_admin_text, blocks: [section(not_admin_text)] } as never));
    try {
      await ctx.ledger.completeVendorTask(Number(a.action.value), by);
    } catch (error) {
      humanError(ctx, error); // already done by someone else: the refreshed Home shows it gone
    }
    await publishHome(ctx, a.client, by);
  });

  app.action(actions.adminMenu, async (args) => {
    const a = args as ButtonArgs;
    await a.ack();
    // The menu opened for an admin; one demoted since then is told so in place of the form.
    const form = admin_form_schema.safeParse(a.action.value);
    if (!form.success) throw new Error(`admin menu sent an unknown form: ${String(a.action.value).slice(0, 30)}`);
    const admin = await isAdmin(ctx.ledger, ctx.adminUserIds, a.body.user.id);
    await a.client.views.push({ trigger_id: a.body.trigger_id, view: (admin ? adminForm(form.data) : noticeModal('Not allowed', not_admin_text)) as never });
  });
}

/** The channel message shows who decided; the requester hears the outcome by DM. */
export async function announceDecision(client: ButtonArgs['client'], request: NonNullable<Awaited<ReturnType<typeof loadRequest>>>, outcome: string): Promise<void> {
  if (request.channelId && request.messageTs) {
    await client.chat.update({ channel: request.channelId, ts: request.messageTs, ...requestChannelMessage(request) } as never);
  }
  await client.chat.postMessage({ channel: request.slackId, ...decisionDm(request, outcome) } as never);
}
