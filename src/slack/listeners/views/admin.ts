// The admin menu's forms: seats, revocation after a preview, packs, purchases, the catalog (tools
// too), promotions and adjustments. Admin rights are checked again when each is submitted; every
// write carries the submission's key (view id and values), so Slack's retry applies it once; and
// Slack is answered within its 3 s (in-time.ts). With several tools a form asks which seat when the
// member holds several, and what it tells the admin names the tool and counts in its unit.
import type { App, ViewSubmitAction } from '@slack/bolt';
import type { Applied, LedgerOperations } from '../../../ledger/index.ts';
import type { Plain } from '../../../ledger/once.ts';
import type { Tools } from '../../../ledger/tools.ts';
import { isAdmin, not_admin_text } from '../../admins.ts';
import type { ListenerContext } from '../../background.ts';
import { noticeModal, revokePreview, seatPicker, type ToolChoice } from '../../blocks/admin.ts';
import { humanError } from '../../context.ts';
import { counted, noun, unitAfter } from '../../../words.ts';
import { credits } from '../../format.ts';
import { blocks, inputs, views } from '../../ids.ts';
import {
  adjust_metadata, amount_schema, budget_schema, daily_limit_schema, expires_days_schema, name_schema, optional_name_schema, pack_id_schema, parseMetadata,
  reason_schema, reassign_schema, reassign_words, reference_schema, revoke_metadata, selected, selectedOrTyped, selectedUser, selectedValues,
  signed_amount_schema, typedKeys, value,
} from '../../parse/views.ts';
import { knownTool, memberSeats } from '../../tools.ts';
import { state, submissionKey, type Args } from './common.ts';
import { answerInTime, done, fieldErrors, showView, type Answer } from './in-time.ts';

/** How a done message names a tool: nothing with one tool in the org, " (Figma AI credits)" with several. */
const toolSuffix = (tools: Tools, key: string) => (tools.size > 1 ? ` (${tools.byKey.get(key)?.name ?? key})` : '');
/** The unit `count` is in: the tool's where there are several, "credits" as always with one ("1 credit" for one). */
const unitOf = (tools: Tools, key: string, count: number) => unitAfter(count, tools.size > 1 ? (tools.byKey.get(key)?.unit ?? 'credits') : 'credits');

/**
 * The seat of `user` a form acts on, where the org has several tools: the tool picked in the form,
 * else their only active seat's; `ask` when they hold several; `none` when they hold no active seat.
 * With one tool, null: the ledger needs no tool named.
 */
type FormSeat = { tool: string | null } | { none: true } | { ask: ToolChoice[] };

async function formSeat(ctx: ListenerContext, tools: Tools, user: string, picked: string | null): Promise<FormSeat> {
  if (picked) return { tool: knownTool(tools, picked).key };
  if (tools.size === 1) return { tool: null };
  const seats = (await memberSeats(ctx, user)).filter((s) => s.status === 'active');
  if (seats.length === 0) return { none: true };
  if (seats.length === 1) return { tool: seats[0]!.tool };
  return { ask: seats.map((s) => ({ key: s.tool, name: s.tool_name })) };
}

const no_active_seat_text = 'That member has no active seat: add one first under Add or restore a seat.';

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

  adminSubmit(views.adminSeat, blocks.user, (args, by) => submitSeat(ctx, args, by, once));
  adminSubmit(views.adminRevoke, blocks.user, (args, by) => submitRevoke(ctx, args, by, once));
  adminSubmit(views.adminAdjust, blocks.user, (args, by) => submitAdjust(ctx, args, by, once));
  adminSubmit(views.adminAssign, blocks.user, (args, by) => submitAssign(ctx, args, by, once));
  adminSubmit(views.adminUnassign, blocks.key, (args, by) => submitUnassign(ctx, args, by, once));
  adminSubmit(views.adminPurchase, blocks.key, (args) => submitPurchase(ctx, args, once));
  adminSubmit(views.adminCatalog, blocks.key, (args) => submitCatalog(ctx, args, once));
  adminSubmit(views.adminPromote, blocks.user, async (args) => {
    const user = selectedUser(state(args));
    if (!user) return fieldErrors({ [blocks.user]: 'Pick a member' });
    const { replayed } = await once(args, async (l) => {
      await l.promoteAdmin(user);
      return user;
    });
    return done(`<@${user}> is now a creditdesk admin.`, { dm: !replayed });
  });
}

type Once = <T>(args: Args, work: (ledger: LedgerOperations) => Promise<T & Plain<T>>) => Promise<Applied<T>>;

/** Add or restore a seat: one or more plans of one tool (picked by tool, or typed as keys), an optional vendor login. */
async function submitSeat(ctx: ListenerContext, args: Args, by: string, once: Once): Promise<Answer> {
  const values = state(args);
  const user = selectedUser(values);
  const picked = selectedValues(values, blocks.plans, inputs.plans);
  const menu = blocks.plans in values;
  const plans = menu ? picked : typedKeys(value(values, blocks.plan, inputs.plan));
  const planBlock = menu ? blocks.plans : blocks.plan;
  const login = optional_name_schema.safeParse(value(values, blocks.vendorUser, inputs.vendorUser));
  if (!user) return fieldErrors({ [blocks.user]: 'Pick a member' });
  if (plans.length === 0) return fieldErrors({ [planBlock]: menu ? 'Pick at least one plan' : 'Name a plan, such as pro' });
  if (!login.success) return fieldErrors({ [blocks.vendorUser]: login.error.issues[0]!.message });
  const vendorUser = login.data;
  try {
    const tools = await ctx.ledger.loadTools();
    const { outcome: seat, replayed } = await once(args, (l) => l.putSeat(user, { plans, actor: by, ...(vendorUser ? { vendorUser } : {}) }));
    const amount = `${credits(seat.credits)} ${unitOf(tools, seat.tool, seat.credits)}`;
    return done(
      `Seat ${seat.change} for <@${user}> on ${seat.plans.join(' + ')}${toolSuffix(tools, seat.tool)}: ${amount} this cycle. A vendor-console task waits in the App Home.`,
      { dm: !replayed },
    );
  } catch (error) {
    return fieldErrors({ [planBlock]: humanError(ctx, error) });
  }
}

/** Revoke: the member, then which seat when they hold several, then the preview, then the confirm. */
async function submitRevoke(ctx: ListenerContext, args: Args, by: string, once: Once): Promise<Answer> {
  const meta = parseMetadata(revoke_metadata, args.view.private_metadata);
  const confirmed = meta?.confirm;
  if (confirmed) {
    // The preview has no input block to hang an error on: a failure replaces it with a notice.
    try {
      const { outcome: revoked, replayed } = await once(args, (l) => l.revokeSeat(confirmed, by, meta.tool ?? null));
      const tools = await ctx.ledger.loadTools();
      return done(
        `Revoked <@${confirmed}>'s seat${toolSuffix(tools, revoked.tool)}: ${credits(revoked.forfeited)} ${unitOf(tools, revoked.tool, revoked.forfeited)} forfeited, ${counted(revoked.packs.length, 'pack')} back in inventory.`,
        { dm: !replayed },
      );
    } catch (error) {
      return showView(noticeModal('Not revoked', `Revoking failed: ${humanError(ctx, error)}`));
    }
  }
  const user = meta?.user ?? selectedUser(state(args));
  // The seat step has no member field: its errors go under its menu.
  const field = meta?.user ? blocks.tool : blocks.user;
  if (!user) return fieldErrors({ [blocks.user]: 'Pick a member' });
  try {
    const tools = await ctx.ledger.loadTools();
    const seat = await formSeat(ctx, tools, user, selectedOrTyped(state(args), blocks.tool, inputs.tool));
    if ('none' in seat) return fieldErrors({ [field]: no_active_seat_text });
    if ('ask' in seat) return showView(seatPicker('revoke', user, seat.ask));
    const plan = await ctx.ledger.previewRevoke(user, seat.tool);
    return showView(revokePreview(plan, user, tools.size > 1 ? tools.byKey.get(plan.tool)?.name : undefined));
  } catch (error) {
    return fieldErrors({ [field]: humanError(ctx, error) });
  }
}

/** Adjust: a grant or debit with a reason, on the seat picked when the member holds several. */
async function submitAdjust(ctx: ListenerContext, args: Args, by: string, once: Once): Promise<Answer> {
  const values = state(args);
  const meta = parseMetadata(adjust_metadata, args.view.private_metadata);
  const user = meta?.user ?? selectedUser(values);
  const amount = signed_amount_schema.safeParse(value(values, blocks.amount, inputs.amount));
  const reason = reason_schema.safeParse(value(values, blocks.reason, inputs.reason) ?? '');
  if (!user) return fieldErrors({ [blocks.user]: 'Pick a member' });
  if (!amount.success) return fieldErrors({ [blocks.amount]: amount.error.issues[0]!.message });
  if (!reason.success) return fieldErrors({ [blocks.reason]: reason.error.issues[0]!.message });
  try {
    const tools = await ctx.ledger.loadTools();
    const seat = await formSeat(ctx, tools, user, selectedOrTyped(values, blocks.tool, inputs.tool));
    if ('none' in seat) return fieldErrors({ [meta?.user ? blocks.tool : blocks.user]: no_active_seat_text });
    if ('ask' in seat) return showView(seatPicker('adjust', user, seat.ask, { credits: amount.data, reason: reason.data }));
    const { outcome: adjusted, replayed } = await once(args, (l) => l.adjust({ user, tool: seat.tool, credits: amount.data, reason: reason.data, actor: by }));
    const signed = `${amount.data > 0 ? '+' : ''}${credits(amount.data)} ${unitOf(tools, adjusted.tool, amount.data)}`;
    return done(`Adjusted <@${user}> by ${signed}${toolSuffix(tools, adjusted.tool)}: ${reason.data}.`, { dm: !replayed });
  } catch (error) {
    return fieldErrors({ [blocks.amount]: humanError(ctx, error) });
  }
}

/** Assign a free pack: the pack product says the tool, and the pack goes to the member's seat there. */
async function submitAssign(ctx: ListenerContext, args: Args, by: string, once: Once): Promise<Answer> {
  const user = selectedUser(state(args));
  const product = value(state(args), blocks.pack, inputs.pack)?.trim();
  if (!user) return fieldErrors({ [blocks.user]: 'Pick a member' });
  if (!product) return fieldErrors({ [blocks.pack]: 'Name a pack product, such as addon' });
  try {
    const tools = await ctx.ledger.loadTools();
    const { outcome: assigned, replayed } = await once(args, (l) => l.assignPack({ product, user, actor: by }));
    return done(
      `Assigned pack ${assigned.packId} (${product}${tools.size > 1 ? `, ${tools.byKey.get(assigned.tool)?.name ?? assigned.tool}` : ''}) to <@${user}>: ` +
        `${credits(assigned.credits)} ${unitOf(tools, assigned.tool, assigned.credits)} this cycle.`,
      { dm: !replayed },
    );
  } catch (error) {
    return fieldErrors({ [blocks.pack]: humanError(ctx, error) });
  }
}

async function submitUnassign(ctx: ListenerContext, args: Args, by: string, once: Once): Promise<Answer> {
  const pack = pack_id_schema.safeParse(value(state(args), blocks.key, inputs.key));
  if (!pack.success) return fieldErrors({ [blocks.key]: pack.error.issues[0]!.message });
  try {
    const { outcome: unassigned, replayed } = await once(args, (l) => l.unassignPack({ packId: pack.data, actor: by }));
    const [tools, catalog] = await Promise.all([ctx.ledger.loadTools(), ctx.ledger.catalog()]);
    const tool = catalog.products.find((p) => p.key === unassigned.release.product)?.toolKey ?? '';
    return done(
      `Pack ${unassigned.packId}${toolSuffix(tools, tool)} is back in inventory; its next assignee gets ${credits(unassigned.release.next_assignee_gets)} ${unitOf(tools, tool, unassigned.release.next_assignee_gets)} this cycle.`,
      { dm: !replayed },
    );
  } catch (error) {
    return fieldErrors({ [blocks.key]: humanError(ctx, error) });
  }
}

async function submitPurchase(ctx: ListenerContext, args: Args, once: Once): Promise<Answer> {
  const product = value(state(args), blocks.key, inputs.key)?.trim();
  const quantity = amount_schema.safeParse(value(state(args), blocks.quantity, inputs.quantity));
  if (!product) return fieldErrors({ [blocks.key]: 'Name a pack product, such as addon' });
  if (!quantity.success || quantity.data > 10_000) return fieldErrors({ [blocks.quantity]: 'Enter how many packs, 1 to 10,000' });
  const referenced = reference_schema.safeParse(value(state(args), blocks.reference, inputs.reference));
  if (!referenced.success) return fieldErrors({ [blocks.reference]: referenced.error.issues[0]!.message });
  const reference = referenced.data;
  try {
    const { outcome: bought, replayed } = await once(args, (l) => l.recordPurchase({ product, quantity: quantity.data, reference }));
    const [tools, catalog] = await Promise.all([ctx.ledger.loadTools(), ctx.ledger.catalog()]);
    const tool = catalog.products.find((p) => p.key === product)?.toolKey ?? '';
    return done(`Recorded ${credits(bought.packIds.length)} ${product} ${noun(bought.packIds.length, 'pack')}${toolSuffix(tools, tool)}, now free in inventory.`, { dm: !replayed });
  } catch (error) {
    return fieldErrors({ [blocks.key]: humanError(ctx, error) });
  }
}

const catalog_kinds = ['plan', 'profile', 'recurring', 'one_time', 'tool'] as const;
type CatalogKind = (typeof catalog_kinds)[number];

/**
 * Plans, pack products, profiles and tools from one form. Only the fields that apply to the kind
 * may be filled in; a field left empty keeps what the entry has (its tool, a plan's daily limit, a
 * pack's policy, a tool's unit and budget), and the settings the form does not show (rollover caps,
 * a member's pool cap) keep what the HTTP API set.
 */
async function submitCatalog(ctx: ListenerContext, args: Args, once: Once): Promise<Answer> {
  const values = state(args);
  const kind = selected(values, blocks.kind, inputs.kind) as CatalogKind | null;
  const key = value(values, blocks.key, inputs.key)?.trim() ?? '';
  const named = name_schema.safeParse(value(values, blocks.name, inputs.name) ?? '');
  const typedAmount = value(values, blocks.amount, inputs.amount);
  const amount = amount_schema.safeParse(typedAmount);
  const reassign = reassign_schema.safeParse(selected(values, blocks.reassign, inputs.reassign) ?? undefined);
  const expiresDays = expires_days_schema.safeParse(value(values, blocks.expires, inputs.expires) || undefined);
  const dailyLimit = daily_limit_schema.safeParse(value(values, blocks.dailyLimit, inputs.dailyLimit) || undefined);
  const unit = optional_name_schema.safeParse(value(values, blocks.unit, inputs.unit));
  const budget = budget_schema.safeParse(value(values, blocks.budget, inputs.budget) || undefined);
  const tool = selectedOrTyped(values, blocks.tool, inputs.tool);
  if (!kind || !catalog_kinds.includes(kind)) return fieldErrors({ [blocks.kind]: 'Choose what to save' });
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(key)) return fieldErrors({ [blocks.key]: 'Use 1-64 lowercase letters, digits, - or _, such as pro' });
  if (!named.success) return fieldErrors({ [blocks.name]: named.error.issues[0]!.message });
  const name = named.data;
  if (kind === 'tool') {
    if (typedAmount) return fieldErrors({ [blocks.amount]: "A tool has no credits of its own (its plans carry them); leave this empty" });
    if (tool) return fieldErrors({ [blocks.tool]: 'A tool belongs to no other tool; leave this empty' });
  } else if (!amount.success) {
    return fieldErrors({ [blocks.amount]: amount.error.issues[0]!.message });
  }
  if (!reassign.success) return fieldErrors({ [blocks.reassign]: 'Choose one of the listed policies' });
  if (!expiresDays.success) return fieldErrors({ [blocks.expires]: expiresDays.error.issues[0]!.message });
  if (kind === 'one_time' && expiresDays.data === undefined) return fieldErrors({ [blocks.expires]: 'A one-time pack needs the days its credits last' });
  if (kind !== 'one_time' && expiresDays.data !== undefined) return fieldErrors({ [blocks.expires]: 'Only one-time packs expire after a number of days; leave this empty' });
  if (!dailyLimit.success) return fieldErrors({ [blocks.dailyLimit]: dailyLimit.error.issues[0]!.message });
  if (kind !== 'plan' && dailyLimit.data !== undefined) return fieldErrors({ [blocks.dailyLimit]: 'Only plans have a daily limit; leave this empty' });
  if (!unit.success) return fieldErrors({ [blocks.unit]: unit.error.issues[0]!.message });
  if (kind !== 'tool' && unit.data) return fieldErrors({ [blocks.unit]: 'Only a tool has a unit; leave this empty' });
  if (!budget.success) return fieldErrors({ [blocks.budget]: budget.error.issues[0]!.message });
  if (kind !== 'tool' && budget.data !== undefined) return fieldErrors({ [blocks.budget]: 'Only a tool has an overage budget; leave this empty' });
  const tools = await ctx.ledger.loadTools();
  try {
    const { outcome: saved, replayed } = await once(args, (l) =>
      kind === 'tool'
        ? saveTool(l, key, name, unit.data, budget.data)
        : saveEntry(l, tools, { kind, key, name, credits: amount.data!, tool, reassign: reassign.data, expiresDays: expiresDays.data, dailyLimit: dailyLimit.data }),
    );
    return done(saved, { dm: !replayed });
  } catch (error) {
    // The ledger's refusals are about the entry's tool (none named with several, or one in use elsewhere).
    return fieldErrors({ [tools.size > 1 ? blocks.tool : blocks.key]: humanError(ctx, error) });
  }
}

async function saveTool(l: LedgerOperations, key: string, name: string, unit: string | null, budget: number | undefined): Promise<string> {
  const tool = await l.putTool(key, { name, ...(unit ? { unit } : {}), ...(budget !== undefined ? { overageBudget: budget } : {}) });
  const budgetText = tool.overageBudget != null ? `, an overage budget of ${credits(tool.overageBudget)} ${unitAfter(tool.overageBudget, tool.unit)} per cycle` : '';
  return `Saved tool ${key} (${tool.name}, counted in ${tool.unit}${budgetText}). Add its plans and pack products under Plans, packs, profiles, naming this tool.`;
}

interface EntryInput {
  kind: Exclude<CatalogKind, 'tool'>;
  key: string;
  name: string;
  credits: number;
  tool: string | null;
  reassign: 'remaining' | 'full' | 'next_cycle' | undefined;
  expiresDays: number | undefined;
  dailyLimit: number | undefined;
}

async function saveEntry(l: LedgerOperations, tools: Tools, e: EntryInput): Promise<string> {
  // The form shows only some settings: the others (rollover caps, a member's pool cap, a policy
  // or daily limit left empty) keep what the entry has, instead of being wiped by a save from Slack.
  const existing = await l.catalog();
  const tool = e.tool ? knownTool(tools, e.tool).key : null;
  let saved: { what: string; toolKey: string; limit?: number | null };
  if (e.kind === 'plan') {
    const plan = existing.plans.find((p) => p.key === e.key);
    const dailyLimit = e.dailyLimit ?? plan?.dailyLimit ?? null;
    const put = await l.putPlan(e.key, { name: e.name, credits: e.credits, tool, rolloverCap: plan?.rolloverCap ?? null, dailyLimit });
    saved = { what: `plan ${e.key}`, toolKey: put.toolKey, limit: dailyLimit };
  } else if (e.kind === 'profile') {
    const profile = existing.profiles.find((p) => p.key === e.key);
    const put = await l.putProfile(e.key, { name: e.name, tool, poolCredits: e.credits, memberPoolCap: profile?.memberPoolCap ?? null });
    saved = { what: `profile ${e.key}`, toolKey: put.toolKey };
  } else {
    const product = existing.products.find((p) => p.key === e.key);
    const policy = e.reassign ?? product?.reassign ?? 'remaining';
    const put = await l.putPackProduct(e.key, {
      name: e.name, credits: e.credits, kind: e.kind, tool, expiresDays: e.expiresDays ?? null, reassign: policy, rolloverCap: product?.rolloverCap ?? null,
    });
    const what = e.kind === 'one_time' ? `one-time pack product ${e.key}, lasting ${counted(e.expiresDays!, 'day')}` : `pack product ${e.key}`;
    saved = { what: `${what}, reassigned ${reassign_words[policy]}`, toolKey: put.toolKey };
  }
  const of = tools.size > 1 ? ` of ${tools.byKey.get(saved.toolKey)?.name ?? saved.toolKey}` : '';
  const limit = saved.limit != null ? `, at most ${credits(saved.limit)} a member per day` : '';
  return `Saved ${saved.what}${of} (${e.name}, ${credits(e.credits)} ${unitOf(tools, saved.toolKey, e.credits)}${limit}). Changes to credits apply from each holder's next cycle.`;
}
