// What the HTTP API answers, as zod schemas for the OpenAPI document, with the functions that shape
// ledger rows into the list routes' items. Where an answer is a ledger type passed through, a
// compile-time check below says the schema and the type are the same shape: a field added to one
// and not the other fails `tsc`, so the document cannot fall behind what the API sends.
import { z } from 'zod';
import type { PackProduct, Plan, Profile } from '../db/schema.ts';
import type { Balance, MemberBalance } from '../ledger/balance.ts';
import type { PackItem, PurchaseItem, SeatItem } from '../ledger/lists.ts';
import type { Breakage, ChargebackRow, PackMove, Report } from '../ledger/report.ts';
import type { RevokePlan, SeatResult } from '../ledger/seats.ts';
import type { Tool } from '../ledger/tools.ts';
import type { AppliedUsage, RejectedUsage } from '../ledger/usage.ts';

/** `true` only when A and B are the same type; anything else is `never`, which `true` cannot be. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
/** Compile-time only: fails `tsc` when a documented answer and the ledger's type differ. */
const sameShape = <A, B>(same: Same<A, B>): Same<A, B> => same;

const iso = z.string().meta({ format: 'date-time' });
const cycle_span = z.object({ start: iso, end: iso });

export const error_answer = z.object({ error: z.string().meta({ description: 'what went wrong and what to do about it' }) });

/** This document itself, in outline. */
export const openapi_answer = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});

export const health_answer = z.object({ ok: z.boolean(), database: z.enum(['up', 'down']) });

export const applied_usage = z.object({
  id: z.string(),
  status: z.enum(['applied', 'duplicate']),
  user: z.string(),
  tool: z.string(),
  credits: z.number().int(),
  at: iso,
  cycle: cycle_span,
  own: z.number().int(),
  pool: z.number().int(),
  overage: z.number().int(),
  late: z.boolean(),
  over_daily_limit: z.number().int().optional(),
});
sameShape<z.output<typeof applied_usage>, AppliedUsage>(true);

export const rejected_usage = z.object({
  // Null when an event of a batch was refused for its shape before its id could be read.
  id: z.string().nullable(),
  status: z.literal('rejected'),
  reason: z.string(),
  refused: z.object({ limit: z.string(), remaining: z.number().int(), resetsAt: iso }).optional(),
});
sameShape<Omit<z.output<typeof rejected_usage>, 'id'>, Omit<RejectedUsage, 'id'>>(true);

export const usage_answer = z.object({ results: z.array(z.union([applied_usage, rejected_usage])) });

const balance_source = z.object({
  kind: z.enum(['plan', 'pack', 'rollover', 'manual', 'pool', 'budget']),
  name: z.string(),
  credits: z.number().int(),
  remaining: z.number().int(),
  expires_at: iso,
  pack_id: z.number().int().optional(),
});

export const balance_answer = z.object({
  user: z.string(),
  slack_id: z.string().nullable(),
  email: z.string().nullable(),
  tool: z.string(),
  tool_name: z.string(),
  unit: z.string(),
  status: z.enum(['active', 'revoked']),
  plan: z.string(),
  plans: z.array(z.string()),
  profile: z.string().nullable(),
  cycle: z.object({ start: iso, end: iso, name: z.string() }),
  quota: z.number().int(),
  used: z.number().int(),
  remaining: z.number().int(),
  pool_used: z.number().int(),
  pool_available: z.number().int(),
  overage: z.number().int(),
  daily_limit: z.object({ credits: z.number().int(), used: z.number().int(), remaining: z.number().int(), resets_at: iso }).nullable(),
  sources: z.array(balance_source),
  forecast: z.object({
    status: z.enum(['runs_out', 'lasts_the_cycle', 'too_little_history', 'revoked']),
    burn_per_day: z.number().int().nullable(),
    runs_out_at: iso.nullable(),
    lasts_the_cycle: z.boolean(),
  }),
});
sameShape<z.output<typeof balance_answer>, Balance>(true);

/** Without `?tool=`: the first seat's balance, and every seat's in `tools`. */
export const member_balance_answer = balance_answer.extend({ tools: z.array(balance_answer) });
sameShape<z.output<typeof member_balance_answer>, MemberBalance>(true);

/** `GET /api/v1/balances/{user}`: with `?tool=` one seat's balance, without it every seat's too. */
export const balances_answer = z.union([balance_answer, member_balance_answer]);

export const seat_answer = z.object({
  change: z.enum(['created', 'restored', 'updated']),
  seatId: z.number().int(),
  user: z.string(),
  tool: z.string(),
  plan: z.string(),
  plans: z.array(z.string()),
  profile: z.string().nullable(),
  cycle: cycle_span,
  credits: z.number().int(),
  forfeited: z.number().int().optional(),
  note: z.string().optional(),
});
sameShape<z.output<typeof seat_answer>, SeatResult>(true);

export const pack_release = z.object({
  pack_id: z.number().int(),
  product: z.string(),
  policy: z.enum(['remaining', 'full', 'next_cycle']),
  unused: z.number().int(),
  next_assignee_gets: z.number().int(),
  forfeited: z.number().int(),
});

export const revoke_answer = z.object({
  user: z.string(),
  tool: z.string(),
  seatId: z.number().int(),
  cycle: cycle_span,
  forfeited: z.number().int(),
  packs: z.array(pack_release),
});
sameShape<z.output<typeof revoke_answer>, RevokePlan>(true);

export const purchase_answer = z.object({ purchase_id: z.number().int(), pack_ids: z.array(z.number().int()) });

export const assign_answer = z.object({
  pack_id: z.number().int(),
  product: z.string(),
  tool: z.string(),
  user: z.string(),
  credits: z.number().int(),
  policy: z.enum(['new', 'remaining', 'full', 'next_cycle']),
});

export const adjustment_answer = z.object({
  user: z.string(),
  tool: z.string(),
  credits: z.number().int(),
  grant_id: z.number().int().nullable(),
  expires_at: iso.nullable(),
});

const report_totals = z.object({
  quota: z.number().int(), used: z.number().int(), remaining: z.number().int(), pool_used: z.number().int(), overage: z.number().int(),
  expired: z.number().int(), forfeited: z.number().int(), over_daily_limit: z.number().int(),
  overage_cost: z.number().nullable(),
  overage_budget: z.object({ amount: z.number().int(), remaining: z.number().int() }).nullable(),
});

const report_row = z.object({
  user: z.string(), slack_id: z.string().nullable(), email: z.string().nullable(), name: z.string().nullable(), plan: z.string(),
  plans: z.array(z.string()), profile: z.string().nullable(), cycle_start: iso, quota: z.number().int(), used: z.number().int(),
  remaining: z.number().int(), pool_used: z.number().int(), overage: z.number().int(), expired: z.number().int(),
  forfeited: z.number().int(), pct_used: z.number(), over_daily_limit: z.number().int(),
});

const report_core = z.object({
  cycle: z.string(), tool: z.string(), tool_name: z.string(), unit: z.string(), rows: z.array(report_row), totals: report_totals,
});
sameShape<z.output<typeof report_core>, Report>(true);

const breakage = z.object({ cycle: z.string(), expired: z.number().int(), packCredits: z.number().int(), packCost: z.number().nullable() });
sameShape<z.output<typeof breakage>, Breakage>(true);
const pack_move = z.object({
  product: z.string(), credits: z.number().int(), from: z.string(), fromPctUsed: z.number(), to: z.string(), ranOutOnDay: z.number().int(),
});
sameShape<z.output<typeof pack_move>, PackMove>(true);
const chargeback_row = z.object({
  group: z.string().nullable(), seats: z.number().int(), quota: z.number().int(), used: z.number().int(), remaining: z.number().int(),
  overage: z.number().int(), packCost: z.number().nullable(),
});
sameShape<z.output<typeof chargeback_row>, ChargebackRow>(true);

export const report_answer = report_core.extend({
  breakage,
  advice: z.array(pack_move),
  chargeback: z.array(chargeback_row).optional().meta({ description: 'with group_by only' }),
});

export const tool_answer = z.object({
  key: z.string(),
  name: z.string(),
  unit: z.string(),
  time_zone: z.string().meta({ description: "the tool's own zone, or ORG_TIMEZONE when it follows the environment" }),
  anchor_day: z.number().int().meta({ description: "the tool's own anchor day, or CYCLE_ANCHOR_DAY when it follows the environment" }),
  overage_budget: z.number().int().nullable(),
  overage_unit_cost: z.string().nullable(),
  sync_nudge: z.boolean(),
  follows_environment: z.object({ time_zone: z.boolean(), anchor_day: z.boolean() })
    .meta({ description: 'true where the tool leaves its zone or anchor day to ORG_TIMEZONE or CYCLE_ANCHOR_DAY' }),
});

export function presentTool(tool: Tool): z.output<typeof tool_answer> {
  return {
    key: tool.key, name: tool.name, unit: tool.unit, time_zone: tool.zone, anchor_day: tool.anchorDay, overage_budget: tool.overageBudget,
    overage_unit_cost: tool.overageUnitCost, sync_nudge: tool.syncNudge,
    follows_environment: { time_zone: tool.followsEnvironment.zone, anchor_day: tool.followsEnvironment.anchorDay },
  };
}

export const tools_answer = z.object({ items: z.array(tool_answer) });

/** A page of a list route: `next_cursor` goes back as `?cursor=` for the next page; null on the last. */
export const pageOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), next_cursor: z.string().nullable() });

/** A ledger field name as the API writes it: `dailyLimit` is `daily_limit`. */
type Snake<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${Snake<Tail>}`
  : S;
/** A catalog row's fields as its list item names them: `toolKey` is `tool`; `omitted` are the ledger's own. */
type ItemFields<Row, Omitted extends string = never> = Exclude<Snake<keyof Row & string>, 'tool_key' | Omitted> | 'tool';

// Catalog items: what the list routes show and what their PUTs answer and take back (SPEC: one
// set of field names, snake_case, in and out). The checks fail `tsc` when a field is added to a
// row and not to its item.
export const plan_item = z.object({
  key: z.string(), tool: z.string(), name: z.string(), credits: z.number().int(), daily_limit: z.number().int().nullable(),
  rollover_cap: z.number().int().nullable(), updated_at: iso,
});
sameShape<keyof z.output<typeof plan_item>, ItemFields<Plan>>(true);
export const presentPlan = (p: Plan): z.output<typeof plan_item> => ({
  key: p.key, tool: p.toolKey, name: p.name, credits: p.credits, daily_limit: p.dailyLimit, rollover_cap: p.rolloverCap,
  updated_at: p.updatedAt.toISOString(),
});

export const pack_product_item = z.object({
  key: z.string(), tool: z.string(), name: z.string(), credits: z.number().int(), kind: z.enum(['recurring', 'one_time']),
  expires_days: z.number().int().nullable(), reassign: z.enum(['remaining', 'full', 'next_cycle']), rollover_cap: z.number().int().nullable(),
  updated_at: iso,
});
sameShape<keyof z.output<typeof pack_product_item>, ItemFields<PackProduct>>(true);
export const presentPackProduct = (p: PackProduct): z.output<typeof pack_product_item> => ({
  key: p.key, tool: p.toolKey, name: p.name, credits: p.credits, kind: p.kind, expires_days: p.expiresDays, reassign: p.reassign,
  rollover_cap: p.rolloverCap, updated_at: p.updatedAt.toISOString(),
});

export const profile_item = z.object({
  key: z.string(), tool: z.string(), name: z.string(), pool_credits: z.number().int(), member_pool_cap: z.number().int().nullable(),
  updated_at: iso,
});
// A profile's cycle_start is the ledger's bookkeeping of its pool's grant, not a setting.
sameShape<keyof z.output<typeof profile_item>, ItemFields<Profile, 'cycle_start'>>(true);
export const presentProfile = (p: Profile): z.output<typeof profile_item> => ({
  key: p.key, tool: p.toolKey, name: p.name, pool_credits: p.poolCredits, member_pool_cap: p.memberPoolCap, updated_at: p.updatedAt.toISOString(),
});

export const seat_item = z.object({
  id: z.number().int(),
  user: z.string().meta({ description: "the member's Slack id, else their email" }),
  slack_id: z.string().nullable(),
  email: z.string().nullable(),
  name: z.string().nullable(),
  tool: z.string(),
  plan: z.string(),
  plans: z.array(z.string()),
  profile: z.string().nullable(),
  status: z.enum(['active', 'revoked']),
  anchor_day: z.number().int(),
  cycle: cycle_span,
  started_at: iso,
  revoked_at: iso.nullable(),
  vendor_user: z.string().nullable(),
});
export const presentSeat = (s: SeatItem): z.output<typeof seat_item> => ({
  id: s.id, user: s.slackId ?? s.email ?? '', slack_id: s.slackId, email: s.email, name: s.name, tool: s.toolKey, plan: s.planKeys[0] ?? '',
  plans: s.planKeys, profile: s.profileKey, status: s.status, anchor_day: s.anchorDay,
  cycle: { start: s.cycleStart.toISOString(), end: s.cycleEnd.toISOString() }, started_at: s.startedAt.toISOString(),
  revoked_at: s.revokedAt?.toISOString() ?? null, vendor_user: s.vendorUser,
});

export const pack_item = z.object({
  id: z.number().int(),
  product: z.string(),
  tool: z.string(),
  purchase_id: z.number().int(),
  status: z.enum(['free', 'assigned', 'expired']).meta({ description: 'free: in inventory and assignable now; expired: a one-time pack past its expiry' }),
  user: z.string().nullable().meta({ description: 'who holds it: their Slack id, else their email; null while it is in inventory' }),
  slack_id: z.string().nullable(),
  email: z.string().nullable(),
  assigned_at: iso.nullable(),
  expires_at: iso.nullable(),
});
export const presentPack = (k: PackItem): z.output<typeof pack_item> => ({
  id: k.id, product: k.product, tool: k.tool, purchase_id: k.purchaseId, status: k.status,
  user: k.seatId == null ? null : (k.slackId ?? k.email), slack_id: k.slackId, email: k.email,
  assigned_at: k.assignedAt?.toISOString() ?? null, expires_at: k.expiresAt?.toISOString() ?? null,
});

export const purchase_item = z.object({
  id: z.number().int(),
  product: z.string(),
  tool: z.string(),
  quantity: z.number().int(),
  reference: z.string().nullable(),
  unit_cost: z.string().nullable().meta({ description: 'the price of one pack as a decimal string, such as 120.0000' }),
  purchased_at: iso,
});
export const presentPurchase = (p: PurchaseItem): z.output<typeof purchase_item> => ({
  id: p.id, product: p.product, tool: p.tool, quantity: p.quantity, reference: p.reference, unit_cost: p.unitCost,
  purchased_at: p.purchasedAt.toISOString(),
});
