// Buttons: history, request more, approve and deny a request, a vendor task done, the admin menu,
// (in sync.ts) a sync correction's Confirm and Dismiss, and (in nudge.ts) the weekly sync nudge.
import type { App } from '@slack/bolt';
import { isAdmin, not_admin_text } from '../../admins.ts';
import { adminForm, noticeModal, type AdminForm, type AdminFormData } from '../../blocks/admin.ts';
import { admin_form_schema } from '../../parse/views.ts';
import { historyMessage, historyModal, loadingModal } from '../../blocks/balance.ts';
import { section } from '../../blocks/common.ts';
import { approveModal, requestChannelMessage } from '../../blocks/request.ts';
import { humanError, zoneOf, type SlackContext } from '../../context.ts';
import { publishHome } from '../../home.ts';
import { actions } from '../../ids.ts';
import type { CreditRequest } from '../../../ledger/index.ts';
import { openRequestModal } from '../../request.ts';
import { toolNames } from '../../tools.ts';
import { openThenFill } from '../open.ts';
import { respondWith, type ButtonArgs } from './common.ts';
import * as nudge from './nudge.ts';
import * as sync from './sync.ts';

export function register(app: App, ctx: SlackContext): void {
  sync.register(app, ctx);
  nudge.register(app, ctx);

  app.action(actions.history, async (args) => {
    const { ack, body, respond, client } = args as ButtonArgs;
    await ack();
    if (body.container?.type === 'view') {
      // A Home click has no response_url: the history opens as a modal, the trigger_id (3 s, once) spent before the read.
      const opened = await client.views.open({ trigger_id: body.trigger_id, view: loadingModal('Your ledger') });
      const [entries, tools] = await Promise.all([ctx.ledger.history(body.user.id), ctx.ledger.loadTools()]);
      const view = historyModal(entries, zoneOf(ctx), toolNames(tools));
      return void (await client.views.update({ view_id: opened.view!.id!, view }));
    }
    const [entries, tools] = await Promise.all([ctx.ledger.history(body.user.id), ctx.ledger.loadTools()]);
    const message = historyMessage(entries, zoneOf(ctx), toolNames(tools));
    await respond({ response_type: 'ephemeral', replace_original: false, ...message } as never);
  });

  app.action(actions.requestOpen, async (args) => {
    const { ack, body, client, action } = args as ButtonArgs;
    await ack();
    // An alert's button carries the tool it was about; the one under /credits carries none.
    await openRequestModal(ctx, client, body.trigger_id, body.user.id, { amount: null, reason: null }, action.value || undefined);
  });

  app.action(actions.approve, async (args) => {
    const a = args as ButtonArgs;
    await a.ack();
    // Admin rights and the request are read after the modal opened: the trigger_id lives 3 s.
    await openThenFill(ctx, a.client, { trigger_id: a.body.trigger_id }, 'Approve request', async () => {
      if (!(await isAdmin(ctx.ledger, ctx.adminUserIds, a.body.user.id))) return noticeModal('Not allowed', not_admin_text);
      const request = await ctx.ledger.request(Number(a.action.value));
      if (!request) return noticeModal('Approve request', 'That request no longer exists.');
      if (request.status !== 'pending') return noticeModal('Approve request', `That request was already ${request.status} by <@${request.decidedBy}>.`);
      // Only the request's tool's pack products: Figma packs never pay for Adobe credits.
      const [free, catalog, tools] = await Promise.all([ctx.ledger.packProductsFree(), ctx.ledger.catalog(), ctx.ledger.loadTools()]);
      const ofTool = new Set(catalog.products.filter((p) => p.toolKey === request.tool).map((p) => p.key));
      return approveModal(request, free.filter((p) => ofTool.has(p.key)), tools.size > 1);
    });
  });

  app.action(actions.deny, async (args) => {
    const a = args as ButtonArgs;
    await a.ack();
    const by = a.body.user.id;
    if (!(await isAdmin(ctx.ledger, ctx.adminUserIds, by))) return respondWith(a, not_admin_text);
    // The denial and the requester's DM (queued in the outbox) commit together.
    const decision = await ctx.ledger.denyRequest({ id: Number(a.action.value), by });
    if (!decision.decided) {
      const { request } = decision;
      return respondWith(a, request ? `That request was already ${request.status} by <@${request.decidedBy}>.` : 'That request no longer exists.');
    }
    await showDecision(ctx, a.client, decision.request);
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
    await openThenFill(ctx, a.client, { trigger_id: a.body.trigger_id, push: true }, 'creditdesk admin', async () =>
      (await isAdmin(ctx.ledger, ctx.adminUserIds, a.body.user.id)) ? adminForm(form.data, await adminFormData(ctx, form.data)) : noticeModal('Not allowed', not_admin_text),
    );
  });
}

/** What the seat and catalog forms offer (tools, plans by tool); the other forms need nothing read. */
async function adminFormData(ctx: SlackContext, form: AdminForm): Promise<AdminFormData | undefined> {
  if (form !== 'seat' && form !== 'catalog') return undefined;
  const [tools, catalog] = await Promise.all([ctx.ledger.loadTools(), ctx.ledger.catalog()]);
  return {
    tools: tools.list.map((t) => ({ key: t.key, name: t.name })),
    plans: catalog.plans.map((p) => ({ key: p.key, name: p.name, toolKey: p.toolKey })),
  };
}

/**
 * The channel message shows who decided. Cosmetic and best-effort, after the decision committed:
 * the requester's DM is in the outbox, and a second click on a stale message is told the outcome.
 */
export async function showDecision(ctx: SlackContext, client: ButtonArgs['client'], request: CreditRequest): Promise<void> {
  if (!request.channelId || !request.messageTs) return;
  const several = (await ctx.ledger.loadTools()).size > 1;
  await client.chat
    .update({ channel: request.channelId, ts: request.messageTs, ...requestChannelMessage(request, several) } as never)
    .catch((error) => ctx.log.warn('request message not updated with its decision', { error }));
}
