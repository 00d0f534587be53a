// The admin menu's forms: seats, revocation after a preview, packs, purchases, the catalog,
// promotions and adjustments. Admin rights are checked again when each is submitted.
import type { App, ViewSubmitAction } from '@slack/bolt';
import { isAdmin, not_admin_text } from '../../admins.ts';
import { noticeModal, revokePreview } from '../../blocks/admin.ts';
import { humanError, type SlackContext } from '../../context.ts';
import { credits } from '../../format.ts';
import { blocks, inputs, views } from '../../ids.ts';
import { amount_schema, expires_days_schema, name_schema, pack_id_schema, parseMetadata, reason_schema, reassign_schema, reassign_words, reference_schema, revoke_metadata, selected, selectedUser, signed_amount_schema, value } from '../../parse/views.ts';
import { dm, errors, state, type Args } from './common.ts';

export function register(app: App, ctx: SlackContext): void {
  /**
   * An admin form: admin rights are checked again on submission (a refusal replaces the form
   * with a notice, whatever fields it has), and an error nobody caught still answers Slack, on
   * the form's first field while the form is open, by DM once it closed.
   */
  const adminSubmit = (id: string, firstBlock: string, run: (args: Args, by: string) => Promise<void>) =>
    app.view<ViewSubmitAction>(id, async (args) => {
      const by = args.body.user.id;
      if (!(await isAdmin(ctx.ledger, ctx.adminUserIds, by))) return args.ack({ response_action: 'update', view: noticeModal('Not allowed', not_admin_text) as never });
      let acked = false;
      const ack: Args['ack'] = async (response?: Parameters<Args['ack']>[0]) => {
        acked = true;
        await args.ack(response);
      };
      try {
        await run({ ...args, ack }, by);
      } catch (error) {
        const text = humanError(ctx, error);
        if (!acked) await args.ack(errors({ [firstBlock]: text }));
        else await dm(args, `:warning: ${text}`);
      }
    });

  adminSubmit(views.adminSeat, blocks.user, async (args, by) => {
    const user = selectedUser(state(args));
    const plan = value(state(args), blocks.plan, inputs.plan)?.trim();
    if (!user) return args.ack(errors({ [blocks.user]: 'Pick a member' }));
    if (!plan) return args.ack(errors({ [blocks.plan]: 'Name a plan, such as pro' }));
    try {
      const seat = await ctx.ledger.putSeat(user, { plan, actor: by });
      await args.ack();
      await dm(args, `Seat ${seat.change} for <@${user}> on ${plan}: ${credits(seat.credits)} credits this cycle. A vendor-console task waits in the App Home.`);
    } catch (error) {
      await args.ack(errors({ [blocks.plan]: humanError(ctx, error) }));
    }
  });

  adminSubmit(views.adminRevoke, blocks.user, async (args, by) => {
    const meta = parseMetadata(revoke_metadata, args.view.private_metadata);
    if (meta?.confirm) {
      await args.ack();
      try {
        const done = await ctx.ledger.revokeSeat(meta.confirm, by);
        await dm(args, `Revoked <@${meta.confirm}>'s seat: ${credits(done.forfeited)} credits forfeited, ${done.packs.length} pack(s) back in inventory.`);
      } catch (error) {
        await dm(args, `Revoking failed: ${humanError(ctx, error)}`);
      }
      return;
    }
    const user = selectedUser(state(args));
    if (!user) return args.ack(errors({ [blocks.user]: 'Pick a member' }));
    try {
      const plan = await ctx.ledger.previewRevoke(user);
      await args.ack({ response_action: 'update', view: revokePreview(plan, user) as never });
    } catch (error) {
      await args.ack(errors({ [blocks.user]: humanError(ctx, error) }));
    }
  });

  adminSubmit(views.adminAssign, blocks.user, async (args, by) => {
    const user = selectedUser(state(args));
    const product = value(state(args), blocks.pack, inputs.pack)?.trim();
    if (!user) return args.ack(errors({ [blocks.user]: 'Pick a member' }));
    if (!product) return args.ack(errors({ [blocks.pack]: 'Name a pack product, such as addon' }));
    try {
      const assigned = await ctx.ledger.assignPack({ product, user, actor: by });
      await args.ack();
      await dm(args, `Assigned pack ${assigned.packId} (${product}) to <@${user}>: ${credits(assigned.credits)} credits this cycle.`);
    } catch (error) {
      await args.ack(errors({ [blocks.pack]: humanError(ctx, error) }));
    }
  });

  adminSubmit(views.adminUnassign, blocks.key, async (args, by) => {
    const pack = pack_id_schema.safeParse(value(state(args), blocks.key, inputs.key));
    if (!pack.success) return args.ack(errors({ [blocks.key]: pack.error.issues[0]!.message }));
    try {
      const done = await ctx.ledger.unassignPack({ packId: pack.data, actor: by });
      await args.ack();
      await dm(args, `Pack ${done.packId} is back in inventory; its next assignee gets ${credits(done.release.next_assignee_gets)} credits this cycle.`);
    } catch (error) {
      await args.ack(errors({ [blocks.key]: humanError(ctx, error) }));
    }
  });

  adminSubmit(views.adminPurchase, blocks.key, async (args) => {
    const product = value(state(args), blocks.key, inputs.key)?.trim();
    const quantity = amount_schema.safeParse(value(state(args), blocks.quantity, inputs.quantity));
    if (!product) return args.ack(errors({ [blocks.key]: 'Name a pack product, such as addon' }));
    if (!quantity.success || quantity.data > 10_000) return args.ack(errors({ [blocks.quantity]: 'Enter how many packs, 1 to 10,000' }));
    const reference = reference_schema.safeParse(value(state(args), blocks.reference, inputs.reference));
    if (!reference.success) return args.ack(errors({ [blocks.reference]: reference.error.issues[0]!.message }));
    try {
      const bought = await ctx.ledger.recordPurchase({ product, quantity: quantity.data, reference: reference.data });
      await args.ack();
      await dm(args, `Recorded ${bought.packIds.length} ${product} pack(s), now free in inventory.`);
    } catch (error) {
      await args.ack(errors({ [blocks.key]: humanError(ctx, error) }));
    }
  });

  adminSubmit(views.adminCatalog, blocks.key, async (args) => {
    const kind = selected(state(args), blocks.kind, inputs.kind);
    const key = value(state(args), blocks.key, inputs.key)?.trim() ?? '';
    const named = name_schema.safeParse(value(state(args), blocks.name, inputs.name) ?? '');
    const amount = amount_schema.safeParse(value(state(args), blocks.amount, inputs.amount));
    const reassign = reassign_schema.safeParse(selected(state(args), blocks.reassign, inputs.reassign) ?? undefined);
    const expires = value(state(args), blocks.expires, inputs.expires);
    const expiresDays = expires_days_schema.safeParse(expires || undefined);
    if (!kind) return args.ack(errors({ [blocks.kind]: 'Choose what to save' }));
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(key)) return args.ack(errors({ [blocks.key]: 'Use 1-64 lowercase letters, digits, - or _, such as pro' }));
    if (!named.success) return args.ack(errors({ [blocks.name]: named.error.issues[0]!.message }));
    const name = named.data;
    if (!amount.success) return args.ack(errors({ [blocks.amount]: amount.error.issues[0]!.message }));
    if (!reassign.success) return args.ack(errors({ [blocks.reassign]: 'Choose one of the listed policies' }));
    if (!expiresDays.success) return args.ack(errors({ [blocks.expires]: expiresDays.error.issues[0]!.message }));
    if (kind === 'one_time' && expiresDays.data === undefined) return args.ack(errors({ [blocks.expires]: 'A one-time pack needs the days its credits last' }));
    if (kind !== 'one_time' && expiresDays.data !== undefined) return args.ack(errors({ [blocks.expires]: 'Only one-time packs expire after a number of days; leave this empty' }));
    // The form shows only some settings: the others (rollover caps, a member's pool cap, a policy
    // left unchosen) keep what the HTTP API set, instead of being wiped by a save from Slack.
    const existing = await ctx.ledger.catalog();
    let saved: string;
    if (kind === 'plan') {
      const plan = existing.plans.find((p) => p.key === key);
      await ctx.ledger.putPlan(key, { name, credits: amount.data, rolloverCap: plan?.rolloverCap ?? null });
      saved = `plan ${key}`;
    } else if (kind === 'profile') {
      const profile = existing.profiles.find((p) => p.key === key);
      await ctx.ledger.putProfile(key, { name, poolCredits: amount.data, memberPoolCap: profile?.memberPoolCap ?? null });
      saved = `profile ${key}`;
    } else if (kind === 'recurring' || kind === 'one_time') {
      const product = existing.products.find((p) => p.key === key);
      const policy = reassign.data ?? product?.reassign ?? 'remaining';
      await ctx.ledger.putPackProduct(key, { name, credits: amount.data, kind, expiresDays: expiresDays.data ?? null, reassign: policy, rolloverCap: product?.rolloverCap ?? null });
      saved = `${kind === 'one_time' ? `one-time pack product ${key}, lasting ${credits(expiresDays.data!)} days` : `pack product ${key}`}, reassigned ${reassign_words[policy]}`;
    } else {
      return args.ack(errors({ [blocks.kind]: 'Choose what to save' }));
    }
    await args.ack();
    await dm(args, `Saved ${saved} (${name}, ${credits(amount.data)} credits). Changes to credits apply from each holder's next cycle.`);
  });

  adminSubmit(views.adminPromote, blocks.user, async (args) => {
    const user = selectedUser(state(args));
    if (!user) return args.ack(errors({ [blocks.user]: 'Pick a member' }));
    await ctx.ledger.promoteAdmin(user);
    await args.ack();
    await dm(args, `<@${user}> is now a creditdesk admin.`);
  });

  adminSubmit(views.adminAdjust, blocks.user, async (args, by) => {
    const user = selectedUser(state(args));
    const amount = signed_amount_schema.safeParse(value(state(args), blocks.amount, inputs.amount));
    const reason = reason_schema.safeParse(value(state(args), blocks.reason, inputs.reason) ?? '');
    if (!user) return args.ack(errors({ [blocks.user]: 'Pick a member' }));
    if (!amount.success) return args.ack(errors({ [blocks.amount]: amount.error.issues[0]!.message }));
    if (!reason.success) return args.ack(errors({ [blocks.reason]: reason.error.issues[0]!.message }));
    try {
      await ctx.ledger.adjust({ user, credits: amount.data, reason: reason.data, actor: by });
      await args.ack();
      await dm(args, `Adjusted <@${user}> by ${amount.data > 0 ? '+' : ''}${credits(amount.data)} credits: ${reason.data}.`);
    } catch (error) {
      await args.ack(errors({ [blocks.amount]: humanError(ctx, error) }));
    }
  });
}
