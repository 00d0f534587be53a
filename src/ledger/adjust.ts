// Manual adjustments: an admin grants extra credits (a manual grant until the cycle ends) or
// debits credits with a reason. A debit draws in the consumption order and never overdraws.
import type { Queryable } from '../db/client.ts';
import { ownGrantsInOrder } from './allocate.ts';
import { grant_columns, type GrantRow, type LedgerContext } from './context.ts';
import { insufficient } from './errors.ts';
import { lockActiveSeat } from './packs.ts';
import { grantIds, post, type NewGrant, type Transfer } from './post.ts';
import { counted, noun } from '../words.ts';

export interface AdjustmentInput {
  user: string;
  /** The tool of the member's seat; may be left out while the org has one tool. */
  tool?: string | null;
  /** Positive grants, negative debits; never zero. */
  credits: number;
  reason: string;
  actor?: string | null;
}

export async function adjust(ctx: LedgerContext, input: AdjustmentInput) {
  const now = ctx.now();
  return ctx.db.transaction((tx) => adjustIn(tx, ctx, input, now));
}

/** adjust inside the caller's transaction, so another write (an approved request) commits with it. */
export async function adjustIn(tx: Queryable, ctx: LedgerContext, input: AdjustmentInput, now: Date) {
  const seat = await lockActiveSeat(tx, ctx, input.user, now, input.tool, 'an adjustment');
  const header = {
    kind: 'adjustment' as const, occurredAt: now, seatId: seat.id, cycleStart: seat.cycleStart,
    actor: input.actor ?? null, reason: input.reason, credits: input.credits,
  };
  if (input.credits > 0) {
    const [id] = await grantIds(tx, 1);
    const grant: NewGrant = {
      id: id!, source: 'manual', seatId: seat.id, packId: null, profileKey: null, planKey: null, toolKey: null,
      cycleStart: seat.cycleStart, startsAt: seat.cycleStart, expiresAt: seat.cycleEnd, amount: input.credits,
    };
    await post(tx, [{ ...header, transfers: [{ from: { system: 'issuance' }, to: { grant }, amount: input.credits }] }], now, [grant]);
    return { user: input.user, tool: seat.tool.key, credits: input.credits, grantId: grant.id, expiresAt: seat.cycleEnd.toISOString() };
  }
  const debit = -input.credits;
  const grants = ownGrantsInOrder(
    await tx.query<GrantRow>(`select ${grant_columns} from grants g where g.seat_id = $1 and g.remaining > 0 and g.closed_at is null`, [seat.id]),
    now,
  );
  const available = grants.reduce((sum, g) => sum + g.remaining, 0);
  if (debit > available) {
    throw insufficient(
      `cannot debit ${counted(debit, 'credit')}: only ${available.toLocaleString('en-US')} of the member's own credits ${noun(available, 'remains', 'remain')} until the reset on ${seat.cycleEnd.toISOString()}`,
    );
  }
  const transfers: Transfer[] = [];
  let left = debit;
  for (const grant of grants) {
    const amount = Math.min(left, grant.remaining);
    if (amount === 0) break;
    transfers.push({ from: { grant }, to: { system: 'adjustment' }, amount });
    left -= amount;
  }
  await post(tx, [{ ...header, transfers }], now);
  return { user: input.user, tool: seat.tool.key, credits: input.credits, grantId: null, expiresAt: null };
}
