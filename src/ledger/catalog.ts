// The catalog (plans and pack products) and profiles with their pools. Changes to credits take
// effect at each holder's next reset; a new profile with a pool gets this cycle's grant at once.
import type { PackProduct, Plan, Profile } from '../db/schema.ts';
import type { LedgerContext } from './context.ts';
import { invalid } from './errors.ts';
import { resetPoolsIn } from './reset.ts';

export interface PlanInput {
  name: string;
  credits: number;
  rolloverCap?: number | null;
}

export interface PackProductInput extends PlanInput {
  kind: 'recurring' | 'one_time';
  expiresDays?: number | null;
  reassign?: 'remaining' | 'full' | 'next_cycle';
}

export interface ProfileInput {
  name: string;
  poolCredits?: number | null;
  memberPoolCap?: number | null;
}

export async function putPlan(ctx: LedgerContext, key: string, input: PlanInput): Promise<Plan> {
  const [plan] = await ctx.db.query<Plan>(
    `insert into plans (key, name, credits, rollover_cap, updated_at) values ($1, $2, $3, $4, $5)
     on conflict (key) do update set name = excluded.name, credits = excluded.credits,
       rollover_cap = excluded.rollover_cap, updated_at = excluded.updated_at
     returning key, name, credits, rollover_cap as "rolloverCap", updated_at as "updatedAt"`,
    [key, input.name, input.credits, input.rolloverCap ?? null, ctx.now()],
  );
  return plan!;
}

export async function putPackProduct(ctx: LedgerContext, key: string, input: PackProductInput): Promise<PackProduct> {
  if (input.kind === 'one_time' && !input.expiresDays) {
    throw invalid('a one_time pack product needs expires_days: how many days its credits last after it is first assigned');
  }
  if (input.kind === 'recurring' && input.expiresDays != null) {
    throw invalid('expires_days applies to one_time pack products only; a recurring pack renews every cycle');
  }
  const [product] = await ctx.db.query<PackProduct>(
    `insert into pack_products (key, name, credits, kind, expires_days, reassign, rollover_cap, updated_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8)
     on conflict (key) do update set name = excluded.name, credits = excluded.credits, kind = excluded.kind,
       expires_days = excluded.expires_days, reassign = excluded.reassign, rollover_cap = excluded.rollover_cap,
       updated_at = excluded.updated_at
     returning key, name, credits, kind, expires_days as "expiresDays", reassign, rollover_cap as "rolloverCap", updated_at as "updatedAt"`,
    [key, input.name, input.credits, input.kind, input.expiresDays ?? null, input.reassign ?? 'remaining', input.rolloverCap ?? null, ctx.now()],
  );
  return product!;
}

export async function putProfile(ctx: LedgerContext, key: string, input: ProfileInput): Promise<Profile> {
  const now = ctx.now();
  return ctx.db.transaction(async (tx) => {
    const [profile] = await tx.query<Profile>(
      `insert into profiles (key, name, pool_credits, member_pool_cap, updated_at) values ($1, $2, $3, $4, $5)
       on conflict (key) do update set name = excluded.name, pool_credits = excluded.pool_credits,
         member_pool_cap = excluded.member_pool_cap, updated_at = excluded.updated_at
       returning key, name, pool_credits as "poolCredits", member_pool_cap as "memberPoolCap", cycle_start as "cycleStart",
                 updated_at as "updatedAt"`,
      [key, input.name, input.poolCredits ?? 0, input.memberPoolCap ?? null, now],
    );
    await resetPoolsIn(tx, ctx, now, [key]);
    return profile!;
  });
}

export async function listCatalog(ctx: LedgerContext) {
  const [plans, products, profiles] = await Promise.all([
    ctx.db.query<Plan>(`select key, name, credits, rollover_cap as "rolloverCap" from plans order by key`),
    ctx.db.query<PackProduct>(
      `select key, name, credits, kind, expires_days as "expiresDays", reassign, rollover_cap as "rolloverCap" from pack_products order by key`,
    ),
    ctx.db.query<Profile>(
      `select key, name, pool_credits as "poolCredits", member_pool_cap as "memberPoolCap" from profiles order by key`,
    ),
  ]);
  return { plans, products, profiles };
}

export interface LivePool {
  profile: string;
  amount: number;
  remaining: number;
}

/** Each profile's pool in the cycle running now: its grant and what is left of it. */
export async function livePools(ctx: LedgerContext): Promise<LivePool[]> {
  return ctx.db.query(
    `select profile_key as profile, amount, remaining from grants where source = 'pool' and starts_at <= $1 and expires_at > $1 order by profile_key`,
    [ctx.now()],
  );
}
