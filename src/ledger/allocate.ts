// The consumption order, as a pure function: which grants a usage event draws from (SPEC
// "Consumption order"). Soonest expiry first; at equal expiry plan, then rollover, then packs,
// then manual grants; then oldest first. The pool only after all of those, within the member's
// pool cap; the rest is overage: drawn against the tool's overage budget while it lasts, and in
// record mode recorded beyond it too; in enforce mode an event whose overage the budget cannot
// cover is refused whole (SPEC "Overage budget", "Two modes").
import type { Grant } from '../db/schema.ts';

export type DrawableGrant = Pick<Grant, 'id' | 'seatId' | 'cycleStart' | 'source' | 'startsAt' | 'expiresAt' | 'remaining'>;

const source_rank: Record<Grant['source'], number> = { plan: 0, rollover: 1, pack: 2, manual: 3, pool: 4, budget: 5 };

export function drawOrder(a: DrawableGrant, b: DrawableGrant): number {
  return (
    a.expiresAt.getTime() - b.expiresAt.getTime() || source_rank[a.source] - source_rank[b.source] || a.id - b.id
  );
}

export const isLiveAt = (grant: DrawableGrant, at: Date) =>
  grant.remaining > 0 && grant.startsAt.getTime() <= at.getTime() && at.getTime() < grant.expiresAt.getTime();

export interface PoolAvailability {
  grant: DrawableGrant;
  /** What the member may still draw: the pool's remaining, or less under a per-member cap. */
  available: number;
}

export interface Allocation {
  draws: { grant: DrawableGrant; amount: number }[];
  poolDrawn: number;
  ownDrawn: number;
  /** Everything beyond own credits and pool: budgetDrawn plus what no budget covered. */
  overage: number;
  /** The part of the overage drawn from the tool's overage budget. */
  budgetDrawn: number;
}

/** Own credits live at `at`, in the order they are drawn. */
export function ownGrantsInOrder(grants: readonly DrawableGrant[], at: Date): DrawableGrant[] {
  return grants.filter((g) => isLiveAt(g, at)).sort(drawOrder);
}

/**
 * Splits `credits` over own grants (in order), the pool, then the overage budget. Returns null in
 * enforce mode when the event does not fit whole. Pure: the caller applies the draws to its
 * copies of the grants.
 */
export function allocate(
  ordered: readonly DrawableGrant[],
  pool: PoolAvailability | null,
  credits: number,
  mode: 'record' | 'enforce',
  budget: PoolAvailability | null = null,
): Allocation | null {
  const draws: Allocation['draws'] = [];
  let left = credits;
  for (const grant of ordered) {
    if (left === 0) break;
    const amount = Math.min(left, grant.remaining);
    if (amount > 0) {
      draws.push({ grant, amount });
      left -= amount;
    }
  }
  const ownDrawn = credits - left;
  const poolDrawn = pool ? Math.min(left, pool.available) : 0;
  if (poolDrawn > 0) draws.push({ grant: pool!.grant, amount: poolDrawn });
  const overage = left - poolDrawn;
  const budgetDrawn = budget ? Math.min(overage, budget.available) : 0;
  if (overage > budgetDrawn && mode === 'enforce') return null;
  if (budgetDrawn > 0) draws.push({ grant: budget!.grant, amount: budgetDrawn });
  return { draws, poolDrawn, ownDrawn, overage, budgetDrawn };
}
