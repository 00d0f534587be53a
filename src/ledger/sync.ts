// A member's sync: they read their remaining credits off the vendor's app. A figure below
// creditdesk's is usage creditdesk did not hear of, and is recorded as such; a figure above it is
// a report, not a grant (SPEC: "Sync is a report, not a grant"): the gap waits as a pending
// correction until an admin confirms it (a manual grant) or dismisses it, decided once.
import type { Queryable } from '../db/client.ts';
import { adjustIn } from './adjust.ts';
import type { LedgerContext } from './context.ts';
import { invalid, notFound } from './errors.ts';
import { credits_max } from './limits.ts';
import { applyOnce } from './once.ts';
import { lockActiveSeat } from './packs.ts';
import { applyUsage, type UsageOutcome } from './usage.ts';

/** A gap this large, or this share of the member's quota, is flagged to the admins. */
const flag_credits_min = 100;
const flag_quota_share = 0.05;

export interface SyncCorrection {
  id: number;
  slackId: string | null;
  email: string | null;
  /** The tool of the seat the member synced. */
  tool: string;
  /** ISO time: the seat's cycle when the member synced. */
  cycleStart: string;
  expected: number;
  reported: number;
  /** The gap, reported - expected: what confirming grants. */
  credits: number;
  status: 'pending' | 'confirmed' | 'dismissed' | 'superseded' | 'lapsed';
  channelId: string | null;
  messageTs: string | null;
  decidedBy: string | null;
}

/** Where an earlier pending correction was posted, so its message can say it was superseded. */
export interface SupersededCorrection {
  id: number;
  channelId: string | null;
  messageTs: string | null;
}

interface SyncFigures {
  user: string;
  /** Own credits left this cycle as creditdesk had them before the sync. */
  expected: number;
  reported: number;
  /** Whether the gap is large enough to flag to the admins (flag_credits_min, flag_quota_share). */
  flagged: boolean;
  /** Pending corrections of this seat that this sync replaced. */
  superseded: SupersededCorrection[];
}

export type SyncOutcome =
  | (SyncFigures & { result: 'matches' })
  | (SyncFigures & { result: 'usage'; credits: number; usage: UsageOutcome })
  | (SyncFigures & { result: 'pending'; credits: number; correction: SyncCorrection });

export interface SyncInput {
  /** The idempotency key of this sync (e.g. the Slack command's trigger id): applied once. */
  key: string;
  user: string;
  /** The tool the member read the figure in; may be left out while the org has one tool. */
  tool?: string | null;
  /** Own credits left as the vendor shows them: a whole number, 0 or more. */
  reported: number;
}

const correction_columns = `c.id, m.slack_id as "slackId", m.email, s.tool_key as tool, c.cycle_start as "cycleStart", c.expected, c.reported,
  c.credits, c.status, c.channel_id as "channelId", c.message_ts as "messageTs", c.decided_by as "decidedBy"`;

/**
 * Records a sync once per key. Under the member's seat lock it compares the reported figure with
 * the seat's own credits left: below it, the gap is recorded as usage (feature "sync", the key as
 * the event id); above it, a pending correction is filed and nothing else changes; equal, nothing.
 * Every sync supersedes the seat's earlier pending corrections, since it measures the whole gap
 * again. A repeat of the key returns the first outcome with `replayed: true`.
 * Throws `invalid` for a reported figure that is not a whole number from 0 to credits_max, and
 * the seat lookup's `not_found` / `conflict` when the member has no active seat.
 */
export async function reportSync(ctx: LedgerContext, input: SyncInput) {
  if (!Number.isSafeInteger(input.reported) || input.reported < 0 || input.reported > credits_max) {
    throw invalid(`the remaining credits must be a whole number from 0 to ${credits_max.toLocaleString('en-US')}`);
  }
  return applyOnce(ctx, input.key, async (inTx): Promise<SyncOutcome> => {
    const now = inTx.now();
    return inTx.db.transaction(async (tx) => {
      const seat = await lockActiveSeat(tx, inTx, input.user, now, input.tool, 'a sync');
      const [cycle] = await tx.query<{ remaining: number; quota: number }>(
        `select remaining, quota from seat_cycles where seat_id = $1 and cycle_start = $2`,
        [seat.id, seat.cycleStart],
      );
      const expected = cycle?.remaining ?? 0;
      const gap = input.reported - expected;
      const superseded = await tx.query<SupersededCorrection>(
        `update sync_corrections set status = 'superseded', decided_at = $2 where seat_id = $1 and status = 'pending'
         returning id, channel_id as "channelId", message_ts as "messageTs"`,
        [seat.id, now],
      );
      const figures: SyncFigures = {
        user: input.user,
        expected,
        reported: input.reported,
        flagged: Math.abs(gap) >= Math.max(flag_credits_min, (cycle?.quota ?? 0) * flag_quota_share),
        superseded,
      };
      if (gap === 0) return { ...figures, result: 'matches' };
      if (gap < 0) {
        const [usage] = await applyUsage(inTx, [{ id: input.key, user: input.user, tool: seat.tool.key, credits: -gap, feature: 'sync', source: 'vendor sync' }]);
        return { ...figures, result: 'usage', credits: -gap, usage: usage! };
      }
      const [filed] = await tx.query<{ id: number }>(
        `insert into sync_corrections (seat_id, cycle_start, expected, reported, credits, created_at) values ($1, $2, $3, $4, $5, $6) returning id`,
        [seat.id, seat.cycleStart, expected, input.reported, gap, now],
      );
      return { ...figures, result: 'pending', credits: gap, correction: (await loadCorrection(tx, filed!.id))! };
    });
  });
}

export async function loadCorrection(db: Queryable, id: number): Promise<SyncCorrection | undefined> {
  const [row] = await db.query<Omit<SyncCorrection, 'cycleStart'> & { cycleStart: Date }>(
    `select ${correction_columns} from sync_corrections c join seats s on s.id = c.seat_id join members m on m.id = s.member_id where c.id = $1`,
    [id],
  );
  return row && { ...row, cycleStart: row.cycleStart.toISOString() };
}

/** Where the correction was posted, so its decision can update that message. */
export async function rememberCorrectionMessage(ctx: LedgerContext, id: number, channelId: string, messageTs: string): Promise<void> {
  await ctx.db.query(`update sync_corrections set channel_id = $2, message_ts = $3 where id = $1`, [id, channelId, messageTs]);
}

/** A decision made (confirmed, dismissed, or lapsed because its cycle ended), or the correction as someone else left it. */
export type CorrectionDecision = { decided: true; correction: SyncCorrection } | { decided: false; correction: SyncCorrection | undefined };

/**
 * Confirms a pending correction: claims it and grants its credits to the member as a manual grant
 * whose reason names the sync, in one transaction. A correction whose cycle has ended by now is
 * marked lapsed instead (the reset replaced those credits) and grants nothing. One already decided
 * comes back undecided. A grant that fails (the seat was revoked) throws and leaves it pending.
 * The caller checks that `by` is an admin.
 */
export async function confirmCorrection(ctx: LedgerContext, input: { id: number; by: string }): Promise<CorrectionDecision> {
  return decideCorrection(ctx, input.id, 'confirmed', input.by, async (tx, correction, now) => {
    const user = correction.slackId ?? correction.email;
    if (!user) throw notFound(`correction ${correction.id} names no member`);
    const seat = await lockActiveSeat(tx, ctx, user, now, correction.tool);
    if (seat.cycleStart.toISOString() !== correction.cycleStart) return 'lapsed';
    const reason = `sync correction ${correction.id}: the vendor showed ${correction.reported.toLocaleString('en-US')} left where creditdesk expected ${correction.expected.toLocaleString('en-US')}`;
    await adjustIn(tx, ctx, { user, tool: correction.tool, credits: correction.credits, reason, actor: input.by }, now);
    return 'confirmed';
  });
}

/** Dismisses a pending correction: nothing is granted. One already decided comes back undecided. */
export async function dismissCorrection(ctx: LedgerContext, input: { id: number; by: string }): Promise<CorrectionDecision> {
  return decideCorrection(ctx, input.id, 'dismissed', input.by, async () => 'dismissed');
}

async function decideCorrection(
  ctx: LedgerContext,
  id: number,
  status: 'confirmed' | 'dismissed',
  by: string,
  apply: (tx: Queryable, correction: SyncCorrection, now: Date) => Promise<'confirmed' | 'dismissed' | 'lapsed'>,
): Promise<CorrectionDecision> {
  const now = ctx.now();
  const decided = await ctx.db.transaction(async (tx) => {
    // The compare-and-set on 'pending' holds the row lock until commit: a second click or a second
    // admin waits here, then finds it decided; if this transaction rolls back, it finds it pending.
    const [claimed] = await tx.query<{ id: number }>(
      `update sync_corrections set status = $2, decided_by = $3, decided_at = $4 where id = $1 and status = 'pending' returning id`,
      [id, status, by, now],
    );
    if (!claimed) return undefined;
    const outcome = await apply(tx, (await loadCorrection(tx, id))!, now);
    if (outcome !== status) await tx.query(`update sync_corrections set status = $2 where id = $1`, [id, outcome]);
    return (await loadCorrection(tx, id))!;
  });
  return decided ? { decided: true, correction: decided } : { decided: false, correction: await loadCorrection(ctx.db, id) };
}
