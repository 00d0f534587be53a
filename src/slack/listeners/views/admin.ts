// The admin menu's forms: seats, revocation after a preview, packs, purchases, the catalog,
// promotions and adjustments. Admin rights are checked again when each is submitted; every write
// carries the submission's key (view id and values), so Slack's retry applies it once; and Slack
// is answered within its 3 s (in-time.ts).
import type { App, ViewSubmitAction } from '@slack/bolt';
import type { LedgerOperations } from '../../../ledger/index.ts';
import type { Plain } from '../../../ledger/once.ts';
import { isAdmin, not_admin_text } from '../../admins.ts';
import type { ListenerContext } from '../../background.ts';
import { noticeModal, revokePreview } from '../../blocks/admin.ts';
import { humanError } from '../../context.ts';
import { credits } from '../../format.ts';
import { blocks, inputs, views } from '../../ids.ts';
import { amount_schema, expires_days_schema, name_schema, pack_id_schema, parseMetadata, reason_schema, reassign_schema, reassign_words, reference_schema, revoke_metadata, selected, selectedUser, signed_amount_schema, value } from '../../parse/views.ts';
import { state, submissionKey, type Args } from './common.ts';
import { answerInTime, done, fieldErrors, showView, type Answer } from './in-time.ts';

export function register(app: App, ctx: ListenerContext): void {
  /**
   * An admin form: admin rights are checked again on submission (a refusal replaces the form with
   * a notice, whatever fields it has), and an error nobody caught lands on the form's first field.
   */
  const adminSubmit = (id: string, firstBlock: string, run: (args: Args, by: string) => Promise<Answer>) =>
    app.view<ViewSubmitAction>(id, (args) =>
      answerInTime(
        ctx,
        args,
        async () => {
          const by = args.body.user.id;
          if (!(await isAdmin(ctx.ledger, ctx.adminUserIds, by))) return showView(noticeModal('Not allowed', not_admin_text));
          return run(args, by);
        },
        (text) => fieldErrors({ [firstBlock]: text }),
      ),
    );

  /** The form's write, applied once per submission key; a repeat gets the first outcome and sends no second DM. */
  const once = <T>(args: Args, work: (ledger: LedgerOperations) => Promise<T & Plain<T>>) => ctx.ledger.once(submissionKey(args), work);

  adminSubmit(views.adminSeat, blocks.user, async (args, by) => {
    const user = selectedUser(state(args));
    const plan = value(state(args), blocks.plan, inputs.plan)?.trim();
    if (!user) return fieldErrors({ [blocks.user]: 'Pick a member' });
    if (!plan) return fieldErrors({ [blocks.plan]: 'Name a plan, such as pro' });
    try {
      const { outcome: seat, replayed } = await once(args, (l) => l.putSeat(user, { plan, actor: by }));
      return done(`Seat ${seat.change} for <@${user}> on ${plan}: ${credits(seat.credits)} credits this cycle. A vendor-console task waits in the App Home.`, { dm: !replayed });
    } catch (error) {
      return fieldErrors({ [blocks.plan]: humanError(ctx, error) });
    }
  });

  adminSubmit(views.adminRevoke, blocks.user, async (args, by) => {
    const meta = parseMetadata(revoke_metadata, args.view.private_metadata);
    const confirmed = meta?.confirm;
    if (confirmed) {
      // The preview has no input block to hang an error on: a failure replaces it with a notice.
      try {
        const { outcome: revoked, replayed } = await once(args, (l) => l.revokeSeat(confirmed, by));
        return done(`Revoked <@${confirmed}>'s seat: ${credits(revoked.forfeited)} credits forfeited, ${revoked.packs.length} pack(s) back in inventory.`, { dm: !replayed });
      } catch (error) {
        return showView(noticeModal('Not revoked', `Revoking failed: ${humanError(ctx, error)}`));
      }
    }
    const user = selectedUser(state(args));
    if (!user) return fieldErrors({ [blocks.user]: 'Pick a member' });
    try {
      return showView(revokePreview(await ctx.ledger.previewRevoke(user), user));
    } catch (error) {
      return fieldErrors({ [blocks.user]: humanError(ctx, error) });
    }
  });

  adminSubmit(views.adminAssign, blocks.user, async (args, by) => {
    const user = selectedUser(state(args));
    const product = value(state(args), blocks.pack, inputs.pack)?.trim();
    if (!user) return fieldErrors({ [blocks.user]: 'Pick a member' });
    if (!product) return fieldErrors({ [blocks.pack]: 'Name a pack product, such as addon' });
    try {
      const { outcome: assigned, replayed } = await once(args, (l) => l.assignPack({ product, user, actor: by }));
      return done(`Assigned pack ${assigned.packId} (${product}) to <@${user}>: ${credits(assigned.credits)} credits this cycle.`, { dm: !replayed });
    } catch (error) {
      return fieldErrors({ [blocks.pack]: humanError(ctx, error) });
    }
  });

  adminSubmit(views.adminUnassign, blocks.key, async (args, by) => {
    const pack = pack_id_schema.safeParse(value(state(args), blocks.key, inputs.key));
    if (!pack.success) return fieldErrors({ [blocks.key]: pack.error.issues[0]!.message });
    try {
      const { outcome: unassigned, replayed } = await once(args, (l) => l.unassignPack({ packId: pack.data, actor: by }));
      return done(`Pack ${unassigned.packId} is back in inventory; its next assignee gets ${credits(unassigned.release.next_assignee_gets)} credits this cycle.`, { dm: !replayed });
    } catch (error) {
      return fieldErrors({ [blocks.key]: humanError(ctx, error) });
    }
  });

  adminSubmit(views.adminPurchase, blocks.key, async (args) => {
    const product = value(state(args), blocks.key, inputs.key)?.trim();
    const quantity = amount_schema.safeParse(value(state(args), blocks.quantity, inputs.quantity));
    if (!product) return fieldErrors({ [blocks.key]: 'Name a pack product, such as addon' });
    if (!quantity.success || quantity.data > 10_000) return fieldErrors({ [blocks.quantity]: 'Enter how many packs, 1 to 10,000' });
    const referenced = reference_schema.safeParse(value(state(args), blocks.reference, inputs.reference));
    if (!referenced.success) return fieldErrors({ [blocks.reference]: referenced.error.issues[0]!.message });
    const reference = referenced.data;
    try {
      const { outcome: bought, replayed } = await once(args, (l) => l.recordPurchase({ product, quantity: quantity.data, reference }));
      return done(`Recorded ${bought.packIds.length} ${product} pack(s), now free in inventory.`, { dm: !replayed });
    } catch (error) {
      return fieldErrors({ [blocks.key]: humanError(ctx, error) });
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
    if (kind !== 'plan' && kind !== 'profile' && kind !== 'recurring' && kind !== 'one_time') return fieldErrors({ [blocks.kind]: 'Choose what to save' });
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(key)) return fieldErrors({ [blocks.key]: 'Use 1-64 lowercase letters, digits, - or _, such as pro' });
    if (!named.success) return fieldErrors({ [blocks.name]: named.error.issues[0]!.message });
    const name = named.data;
    if (!amount.success) return fieldErrors({ [blocks.amount]: amount.error.issues[0]!.message });
    if (!reassign.success) return fieldErrors({ [blocks.reassign]: 'Choose one of the listed policies' });
    if (!expiresDays.success) return fieldErrors({ [blocks.expires]: expiresDays.error.issues[0]!.message });
    if (kind === 'one_time' && expiresDays.data === undefined) return fieldErrors({ [blocks.expires]: 'A one-time pack needs the days its credits last' });
    if (kind !== 'one_time' && expiresDays.data !== undefined) return fieldErrors({ [blocks.expires]: 'Only one-time packs expire after a number of days; leave this empty' });
    const { outcome: saved, replayed } = await once(args, async (l) => {
      // The form shows only some settings: the others (rollover caps, a member's pool cap, a policy
      // left unchosen) keep what the HTTP API set, instead of being wiped by a save from Slack.
      const existing = await l.catalog();
      if (kind === 'plan') {
        const plan = existing.plans.find((p) => p.key === key);
        await l.putPlan(key, { name, credits: amount.data, rolloverCap: plan?.rolloverCap ?? null });
        return `plan ${key}`;
      }
      if (kind === 'profile') {
        const profile = existing.profiles.find((p) => p.key === key);
        await l.putProfile(key, { name, poolCredits: amount.data, memberPoolCap: profile?.memberPoolCap ?? null });
        return `profile ${key}`;
      }
      const product = existing.products.find((p) => p.key === key);
      const policy = reassign.data ?? product?.reassign ?? 'remaining';
      await l.putPackProduct(key, { name, credits: amount.data, kind, expiresDays: expiresDays.data ?? null, reassign: policy, rolloverCap: product?.rolloverCap ?? null });
      return `${kind === 'one_time' ? `one-time pack product ${key}, lasting ${credits(expiresDays.data!)} days` : `pack product ${key}`}, reassigned ${reassign_words[policy]}`;
    });
    return done(`Saved ${saved} (${name}, ${credits(amount.data)} credits). Changes to credits apply from each holder's next cycle.`, { dm: !replayed });
  });

  adminSubmit(views.adminPromote, blocks.user, async (args) => {
    const user = selectedUser(state(args));
    if (!user) return fieldErrors({ [blocks.user]: 'Pick a member' });
    const { replayed } = await once(args, async (l) => {
      await l.promoteAdmin(user);
      return user;
    });
    return done(`<@${user}> is now a creditdesk admin.`, { dm: !replayed });
  });

  adminSubmit(views.adminAdjust, blocks.user, async (args, by) => {
    const user = selectedUser(state(args));
    const amount = signed_amount_schema.safeParse(value(state(args), blocks.amount, inputs.amount));
    const reason = reason_schema.safeParse(value(state(args), blocks.reason, inputs.reason) ?? '');
    if (!user) return fieldErrors({ [blocks.user]: 'Pick a member' });
    if (!amount.success) return fieldErrors({ [blocks.amount]: amount.error.issues[0]!.message });
    if (!reason.success) return fieldErrors({ [blocks.reason]: reason.error.issues[0]!.message });
    try {
      const { replayed } = await once(args, (l) => l.adjust({ user, credits: amount.data, reason: reason.data, actor: by }));
      return done(`Adjusted <@${user}> by ${amount.data > 0 ? '+' : ''}${credits(amount.data)} credits: ${reason.data}.`, { dm: !replayed });
    } catch (error) {
      return fieldErrors({ [blocks.amount]: humanError(ctx, error) });
    }
  });
}
