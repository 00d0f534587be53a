// What every ledger function is given: a database, a clock, and the org's settings.
import type { Database, Queryable } from '../db/client.ts';
import type { Grant, PackProduct, Plan, Profile, Seat } from '../db/schema.ts';

export interface LedgerSettings {
  /** The org's IANA time zone: cycles and pools are cut in it. */
  zone: string;
  /** Default anchor day of a seat's cycle (1-31). */
  anchorDay: number;
  proration: 'none' | 'daily';
  /** How long after a cycle closes its late usage events are still accepted. */
  graceMs: number;
  /** Member alert thresholds in percent of their own quota, ascending. */
  thresholds: number[];
}

export interface LedgerContext {
  db: Database;
  now: () => Date;
  settings: LedgerSettings;
}

export const defaultSettings: LedgerSettings = {
  zone: 'UTC',
  anchorDay: 1,
  proration: 'none',
  graceMs: 72 * 3_600_000,
  thresholds: [50, 80, 100],
};

// Column lists that read rows straight into the schema's camelCase types. A seat comes with the
// keys of the plans it holds, in key order (one index probe of seat_plans).
export const seat_columns = `s.id, s.member_id as "memberId", s.tool_key as "toolKey", s.profile_key as "profileKey",
  s.anchor_day as "anchorDay", s.status, s.cycle_start as "cycleStart", s.cycle_end as "cycleEnd",
  s.started_at as "startedAt", s.revoked_at as "revokedAt", s.revoke_journal_id as "revokeJournalId",
  s.vendor_user as "vendorUser", array(select sp.plan_key from seat_plans sp where sp.seat_id = s.id order by sp.plan_key) as "planKeys"`;

export const grant_columns = `g.id, g.source, g.seat_id as "seatId", g.pack_id as "packId", g.profile_key as "profileKey",
  g.plan_key as "planKey", g.tool_key as "toolKey", g.cycle_start as "cycleStart", g.starts_at as "startsAt",
  g.expires_at as "expiresAt", g.amount, g.remaining, g.closed_at as "closedAt", g.created_at as "createdAt"`;

export const plan_columns = `key, tool_key as "toolKey", name, credits, daily_limit as "dailyLimit", rollover_cap as "rolloverCap",
  updated_at as "updatedAt"`;
export const pack_product_columns = `key, tool_key as "toolKey", name, credits, kind, expires_days as "expiresDays", reassign,
  rollover_cap as "rolloverCap", updated_at as "updatedAt"`;
export const profile_columns = `key, tool_key as "toolKey", name, pool_credits as "poolCredits", member_pool_cap as "memberPoolCap",
  cycle_start as "cycleStart", updated_at as "updatedAt"`;

export interface Catalog {
  plans: Map<string, Plan>;
  products: Map<string, PackProduct>;
}

/**
 * The catalog is a handful of rows: read whole where a decision needs it. One query after the
 * other: `tx` may be a transaction's one connection, which runs one query at a time.
 */
export async function loadCatalog(tx: Queryable): Promise<Catalog> {
  const plans = await tx.query<Plan>(`select ${plan_columns} from plans`);
  const products = await tx.query<PackProduct>(`select ${pack_product_columns} from pack_products`);
  return { plans: new Map(plans.map((p) => [p.key, p])), products: new Map(products.map((p) => [p.key, p])) };
}

export async function loadProfile(tx: Queryable, key: string): Promise<Profile | undefined> {
  const [profile] = await tx.query<Profile>(`select ${profile_columns} from profiles where key = $1`, [key]);
  return profile;
}

/** A seat row with the keys of the plans it holds. */
export type SeatRow = Seat & { planKeys: string[] };
export type GrantRow = Grant;

/**
 * A seat's daily limit (SPEC "Daily limits"): its plans' limits stack like their credits, and a
 * plan without one lifts it, so the seat has none. Credits per day in the tool's zone, or null.
 */
export function dailyLimitOf(planKeys: readonly string[], plans: ReadonlyMap<string, Plan>): number | null {
  let total = 0;
  for (const key of planKeys) {
    const limit = plans.get(key)?.dailyLimit;
    if (limit == null) return null;
    total += limit;
  }
  return planKeys.length > 0 ? total : null;
}
