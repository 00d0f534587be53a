// The catalog (plans and pack products) and profiles with their pools, each of one tool. Changes
// to credits take effect at each holder's next reset; a new profile with a pool gets this cycle's
// grant at once. Keys are unique across tools, so a plan or pack product key also says its tool.
import type { Queryable } from '../db/client.ts';
import type { PackProduct, Plan, Profile } from '../db/schema.ts';
import { pack_product_columns, plan_columns, profile_columns, type LedgerContext } from './context.ts';
import { conflict, invalid } from './errors.ts';
import { resetPoolsIn } from './reset.ts';
import { loadTools } from './tools.ts';

export interface PlanInput {
  name: string;
  credits: number;
  /** The tool; may be left out while the org has one tool, or when the entry exists. */
  tool?: string | null;
  rolloverCap?: number | null;
  /** Credits per member per day in the tool's zone; null for none (SPEC "Daily limits"). Plans only. */
  dailyLimit?: number | null;
}

export interface PackProductInput extends PlanInput {
  kind: 'recurring' | 'one_time';
  expiresDays?: number | null;
  reassign?: 'remaining' | 'full' | 'next_cycle';
}

export interface ProfileInput {
  name: string;
  tool?: string | null;
  poolCredits?: number | null;
  memberPoolCap?: number | null;
}

/**
 * The tool a catalog entry belongs to: the one named, else the existing entry's, else the org's
 * only tool. An entry keeps its tool while anything uses it (`inUse` says what).
 */
async function entryTool(
  tx: Queryable, ctx: LedgerContext, table: 'plans' | 'pack_products' | 'profiles', key: string, named: string | null | undefined, inUse: string,
): Promise<string> {
  const [existing] = await tx.query<{ toolKey: string }>(`select tool_key as "toolKey" from ${table} where key = $1 for update`, [key]);
  const tools = await loadTools(tx, ctx.settings);
  const what = { plans: 'a plan', pack_products: 'a pack product', profiles: 'a profile' }[table];
  const tool = named ? tools.get(named).key : (existing?.toolKey ?? tools.pick(null, what).key);
  if (existing && existing.toolKey !== tool) {
    const [{ used } = { used: false }] = await tx.query<{ used: boolean }>(inUse, [key]);
    if (used) throw conflict(`${key} belongs to the tool ${existing.toolKey} and is in use there; create a new key for ${tool}`);
  }
  return tool;
}

export async function putPlan(ctx: LedgerContext, key: string, input: PlanInput): Promise<Plan> {
  return ctx.db.transaction(async (tx) => {
    const tool = await entryTool(tx, ctx, 'plans', key, input.tool, `select exists (select 1 from seat_plans where plan_key = $1) as used`);
    const [plan] = await tx.query<Plan>(
      `insert into plans (key, tool_key, name, credits, rollover_cap, daily_limit, updated_at) values ($1, $2, $3, $4, $5, $6, $7)
       on conflict (key) do update set tool_key = excluded.tool_key, name = excluded.name, credits = excluded.credits,
         rollover_cap = excluded.rollover_cap, daily_limit = excluded.daily_limit, updated_at = excluded.updated_at
       returning ${plan_columns}`,
      [key, tool, input.name, input.credits, input.rolloverCap ?? null, input.dailyLimit ?? null, ctx.now()],
    );
    return plan!;
  });
}

export async function putPackProduct(ctx: LedgerContext, key: string, input: PackProductInput): Promise<PackProduct> {
  if (input.kind === 'one_time' && !input.expiresDays) {
    throw invalid('a one_time pack product needs expires_days: how many days its credits last after it is first assigned');
  }
  if (input.kind === 'recurring' && input.expiresDays != null) {
    throw invalid('expires_days applies to one_time pack products only; a recurring pack renews every cycle');
  }
  if (input.dailyLimit != null) throw invalid('daily_limit is a plan setting; a pack product has none');
  return ctx.db.transaction(async (tx) => {
    const tool = await entryTool(tx, ctx, 'pack_products', key, input.tool, `select exists (select 1 from packs where product_key = $1) as used`);
    const [product] = await tx.query<PackProduct>(
      `insert into pack_products (key, tool_key, name, credits, kind, expires_days, reassign, rollover_cap, updated_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       on conflict (key) do update set tool_key = excluded.tool_key, name = excluded.name, credits = excluded.credits, kind = excluded.kind,
         expires_days = excluded.expires_days, reassign = excluded.reassign, rollover_cap = excluded.rollover_cap,
         updated_at = excluded.updated_at
       returning ${pack_product_columns}`,
      [key, tool, input.name, input.credits, input.kind, input.expiresDays ?? null, input.reassign ?? 'remaining', input.rolloverCap ?? null, ctx.now()],
    );
    return product!;
  });
}

export async function putProfile(ctx: LedgerContext, key: string, input: ProfileInput): Promise<Profile> {
  const now = ctx.now();
  return ctx.db.transaction(async (tx) => {
    const tool = await entryTool(
      tx, ctx, 'profiles', key, input.tool,
      `select exists (select 1 from seats where profile_key = $1) or exists (select 1 from grants where profile_key = $1) as used`,
    );
    const [profile] = await tx.query<Profile>(
      `insert into profiles (key, tool_key, name, pool_credits, member_pool_cap, updated_at) values ($1, $2, $3, $4, $5, $6)
       on conflict (key) do update set tool_key = excluded.tool_key, name = excluded.name, pool_credits = excluded.pool_credits,
         member_pool_cap = excluded.member_pool_cap, updated_at = excluded.updated_at
       returning ${profile_columns}`,
      [key, tool, input.name, input.poolCredits ?? 0, input.memberPoolCap ?? null, now],
    );
    await resetPoolsIn(tx, ctx, now, [key]);
    return profile!;
  });
}

export async function listCatalog(ctx: LedgerContext) {
  const [plans, products, profiles] = await Promise.all([
    ctx.db.query<Plan>(`select ${plan_columns} from plans order by key`),
    ctx.db.query<PackProduct>(`select ${pack_product_columns} from pack_products order by key`),
    ctx.db.query<Profile>(`select ${profile_columns} from profiles order by key`),
  ]);
  return { plans, products, profiles };
}

export interface LivePool {
  /** The profile's key, or null for a tool's overage budget. */
  profile: string | null;
  tool: string;
  kind: 'pool' | 'budget';
  amount: number;
  remaining: number;
}

/** Each profile's pool and each tool's overage budget in the cycle running now: the grant and what is left of it. */
export async function livePools(ctx: LedgerContext): Promise<LivePool[]> {
  return ctx.db.query(
    `select g.profile_key as profile, coalesce(g.tool_key, p.tool_key) as tool, g.source as kind, g.amount, g.remaining
     from grants g left join profiles p on p.key = g.profile_key
     where g.source in ('pool', 'budget') and g.starts_at <= $1 and g.expires_at > $1 order by g.source desc, 2, 1`,
    [ctx.now()],
  );
}
