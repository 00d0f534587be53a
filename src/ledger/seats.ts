// Seats: add, restore, change, revoke (with its preview). Revoking forfeits what is left of the
// plan and manual grants and returns each pack to inventory under its reassign policy; a restore
// in the same cycle gives back what the revocation forfeited, not a fresh grant.
import type { Queryable } from '../db/client.ts';
import type { Member, Pack, Plan } from '../db/schema.ts';
import { grant_columns, loadCatalog, loadProfile, seat_columns, type GrantRow, type LedgerContext, type SeatRow } from './context.ts';
import { cycleAt } from './cycles.ts';
import { conflict, invalid, notFound } from './errors.ts';
import { describeUser, findMember, parseUserRef, upsertMember } from './members.ts';
import { describeRelease, memberLabel, pack_columns, planPackRelease, releaseTransfers, type PackRelease } from './packs.ts';
import { grantIds, post, type NewGrant } from './post.ts';
import { planCredits, resetLockedSeats } from './reset.ts';
import { addVendorTask } from './tasks.ts';

export interface SeatInput {
  plan: string;
  profile?: string | null;
  email?: string | null;
  name?: string | null;
  anchorDay?: number | null;
  actor?: string | null;
}

export type SeatChange = 'created' | 'restored' | 'updated';

export interface SeatResult {
  change: SeatChange;
  seatId: number;
  user: string;
  plan: string;
  profile: string | null;
  cycle: { start: string; end: string };
  /** Credits this change put on the seat (a new plan grant, or what a restore gave back). */
  credits: number;
  note?: string;
}

/** Adds a seat, restores a revoked one, or changes an active one's plan or profile. */
export async function putSeat(ctx: LedgerContext, user: string, input: SeatInput): Promise<SeatResult> {
  const ref = parseUserRef(user);
  const now = ctx.now();
  return ctx.db.transaction(async (tx) => {
    const { plans } = await loadCatalog(tx);
    const plan = plans.get(input.plan);
    if (!plan) throw notFound(`plan ${input.plan} is not in the catalog: create it with PUT /api/v1/plans/${input.plan}`);
    if (input.profile && !(await loadProfile(tx, input.profile))) {
      throw notFound(`profile ${input.profile} does not exist: create it with PUT /api/v1/profiles/${input.profile}`);
    }
    const member = await upsertMember(tx, ref, { email: input.email, name: input.name });
    const [seat] = await tx.query<SeatRow>(`select ${seat_columns} from seats s where s.member_id = $1 for update`, [member.id]);
    const label = memberLabel(member);
    if (!seat) return createSeat(tx, ctx, member, plan, input, now, label);
    if (input.anchorDay != null && input.anchorDay !== seat.anchorDay) {
      throw invalid(`the seat's anchor day is ${seat.anchorDay} and cannot change; revoke the seat and add it again to move its billing date`);
    }
    const profile = input.profile === undefined ? seat.profileKey : input.profile;
    if (seat.status === 'revoked') return restoreSeat(tx, ctx, member, seat, plan, profile, input, now, label);

    await tx.query(`update seats set plan_key = $2, profile_key = $3 where id = $1`, [seat.id, plan.key, profile]);
    if (plan.key !== seat.planKey) {
      await addVendorTask(tx, `Change the license of ${label} to ${plan.name} in the vendor console`, member.id, now);
    }
    return {
      change: 'updated', seatId: seat.id, user: describeUser(ref), plan: plan.key, profile,
      cycle: { start: seat.cycleStart.toISOString(), end: seat.cycleEnd.toISOString() }, credits: 0,
      ...(plan.key !== seat.planKey ? { note: `the ${plan.name} plan's credits apply from the next cycle` } : {}),
    };
  });
}

async function issuePlanGrant(tx: Queryable, ctx: LedgerContext, seatId: number, plan: Plan, cycle: { start: Date; end: Date; name: string }, now: Date, actor: string | null) {
  const amount = planCredits(plan.credits, cycle, now, ctx);
  const opening = [{ seatId, cycleStart: cycle.start, cycleEnd: cycle.end }];
  if (amount <= 0) {
    await post(tx, [{ kind: 'seat_grant', occurredAt: now, seatId, cycleStart: cycle.start, actor, credits: 0, transfers: [] }], now, [], opening);
    return 0;
  }
  const [id] = await grantIds(tx, 1);
  const grant: NewGrant = { id: id!, source: 'plan', seatId, packId: null, profileKey: null, cycleStart: cycle.start, startsAt: cycle.start, expiresAt: cycle.end, amount };
  await post(tx, [{ kind: 'seat_grant', occurredAt: now, seatId, cycleStart: cycle.start, actor, credits: amount, transfers: [{ from: { system: 'issuance' }, to: { grant }, amount }] }], now, [grant], opening);
  return amount;
}

async function createSeat(tx: Queryable, ctx: LedgerContext, member: Member, plan: Plan, input: SeatInput, now: Date, label: string): Promise<SeatResult> {
  const anchorDay = input.anchorDay ?? ctx.settings.anchorDay;
  const cycle = cycleAt(now, anchorDay, ctx.settings.zone);
  const [seat] = await tx.query<{ id: number }>(
    `insert into seats (member_id, plan_key, profile_key, anchor_day, status, cycle_start, cycle_end, started_at)
     values ($1, $2, $3, $4, 'active', $5, $6, $7) returning id`,
    [member.id, plan.key, input.profile ?? null, anchorDay, cycle.start, cycle.end, now],
  );
  const credits = await issuePlanGrant(tx, ctx, seat!.id, plan, cycle, now, input.actor ?? null);
  await addVendorTask(tx, `Assign a ${plan.name} license to ${label} in the vendor console`, member.id, now);
  return {
    change: 'created', seatId: seat!.id, user: member.slackId ?? member.email ?? '', plan: plan.key, profile: input.profile ?? null,
    cycle: { start: cycle.start.toISOString(), end: cycle.end.toISOString() }, credits,
  };
}

async function restoreSeat(
  tx: Queryable, ctx: LedgerContext, member: Member, seat: SeatRow, plan: Plan, profile: string | null, input: SeatInput, now: Date, label: string,
): Promise<SeatResult> {
  const cycle = cycleAt(now, seat.anchorDay, ctx.settings.zone);
  let credits = 0;
  if (seat.cycleStart.getTime() === cycle.start.getTime() && seat.revokeJournalId != null) {
    // Same cycle: reverse what the revocation forfeited from the plan, rollover and manual grants.
    const forfeits = await tx.query<GrantRow & { forfeited: number }>(
      `select ${grant_columns}, t.amount as forfeited from transfers t join grants g on g.id = t.debit_grant_id
       where t.journal_id = $1 and t.credit_account = 'forfeit' and g.source in ('plan', 'rollover', 'manual')`,
      [seat.revokeJournalId],
    );
    await tx.query(
      `update grants set closed_at = null where seat_id = $1 and cycle_start = $2 and source in ('plan', 'rollover', 'manual') and closed_at = $3`,
      [seat.id, seat.cycleStart, seat.revokedAt],
    );
    if (forfeits.length > 0) {
      await post(tx, [{
        kind: 'restore', occurredAt: now, seatId: seat.id, cycleStart: seat.cycleStart, actor: input.actor ?? null,
        transfers: forfeits.map((g) => ({ from: { system: 'forfeit' as const }, to: { grant: g }, amount: g.forfeited })),
      }], now);
      credits = forfeits.reduce((sum, g) => sum + g.forfeited, 0);
    }
    await tx.query(`update seats set status = 'active', revoked_at = null, revoke_journal_id = null, plan_key = $2, profile_key = $3 where id = $1`, [seat.id, plan.key, profile]);
  } else {
    await tx.query(
      `update seats set status = 'active', revoked_at = null, revoke_journal_id = null, plan_key = $2, profile_key = $3,
              cycle_start = $4, cycle_end = $5, started_at = $6 where id = $1`,
      [seat.id, plan.key, profile, cycle.start, cycle.end, now],
    );
    credits = await issuePlanGrant(tx, ctx, seat.id, plan, cycle, now, input.actor ?? null);
  }
  await addVendorTask(tx, `Assign a ${plan.name} license to ${label} in the vendor console (seat restored)`, member.id, now);
  return {
    change: 'restored', seatId: seat.id, user: member.slackId ?? member.email ?? '', plan: plan.key, profile,
    cycle: { start: cycle.start.toISOString(), end: cycle.end.toISOString() }, credits,
  };
}

export interface RevokePlan {
  user: string;
  seatId: number;
  cycle: { start: string; end: string };
  /** Unused credits of the plan, rollover and manual grants that the revocation forfeits. */
  forfeited: number;
  packs: ReturnType<typeof describeRelease>[];
}

interface RevokeState {
  seat: SeatRow;
  member: Member;
  ownGrants: GrantRow[];
  packs: Pack[];
  releases: PackRelease[];
  /** Catalog names for the vendor-console tasks: admins know plans and packs by name, not key. */
  planName: string;
  productNames: Map<string, string>;
}

/** Locks the member's seat and packs, bringing the seat into the cycle containing `now` first. */
async function loadRevokeState(tx: Queryable, ctx: LedgerContext, user: string, now: Date): Promise<RevokeState> {
  const ref = parseUserRef(user);
  const member = await findMember(tx, ref);
  if (!member) throw notFound(`no member ${describeUser(ref)}`);
  let [seat] = await tx.query<SeatRow>(`select ${seat_columns} from seats s where s.member_id = $1 for update`, [member.id]);
  if (!seat || seat.status !== 'active') throw conflict(`${describeUser(ref)} has no active seat to revoke`);
  if (seat.cycleEnd.getTime() <= now.getTime()) {
    await resetLockedSeats(tx, ctx, [seat], now);
    [seat] = await tx.query<SeatRow>(`select ${seat_columns} from seats s where s.id = $1`, [seat.id]);
  }
  const grants = await tx.query<GrantRow>(
    `select ${grant_columns} from grants g where g.seat_id = $1 and g.cycle_start = $2 and g.closed_at is null order by g.id`,
    [seat!.id, seat!.cycleStart],
  );
  const packs = await tx.query<Pack>(`select ${pack_columns} from packs k where k.seat_id = $1 order by k.id for update`, [seat!.id]);
  const { plans, products } = await loadCatalog(tx);
  const releases = packs.map((pack) =>
    planPackRelease(pack, products.get(pack.productKey)!, grants.filter((g) => g.packId === pack.id)),
  );
  return {
    seat: seat!,
    member,
    ownGrants: grants.filter((g) => g.packId == null),
    packs,
    releases,
    planName: plans.get(seat!.planKey)?.name ?? seat!.planKey,
    productNames: new Map([...products.values()].map((p) => [p.key, p.name])),
  };
}

function describePlan(state: RevokeState, user: string): RevokePlan {
  return {
    user,
    seatId: state.seat.id,
    cycle: { start: state.seat.cycleStart.toISOString(), end: state.seat.cycleEnd.toISOString() },
    forfeited: state.ownGrants.reduce((sum, g) => sum + g.remaining, 0),
    packs: state.releases.map(describeRelease),
  };
}

/**
 * What revoking would do, without doing it: the preview the modal and the API show. A seat whose
 * cycle has ended is reset first, as the revoke would (and as a balance lookup does), so the
 * preview describes the cycle the revoke will act on.
 */
export async function previewRevoke(ctx: LedgerContext, user: string): Promise<RevokePlan> {
  const now = ctx.now();
  return ctx.db.transaction(async (tx) => describePlan(await loadRevokeState(tx, ctx, user, now), user));
}

export async function revokeSeat(ctx: LedgerContext, user: string, actor: string | null = null): Promise<RevokePlan> {
  const now = ctx.now();
  return ctx.db.transaction(async (tx) => {
    const state = await loadRevokeState(tx, ctx, user, now);
    const { seat } = state;
    const { transfers, newGrants } = await releaseTransfers(tx, state.releases, state.packs);
    for (const grant of state.ownGrants) {
      if (grant.remaining > 0) transfers.push({ from: { grant }, to: { system: 'forfeit' }, amount: grant.remaining });
    }
    const [journalId] = await post(
      tx,
      [{ kind: 'revoke', occurredAt: now, seatId: seat.id, cycleStart: seat.cycleStart, actor, reason: 'seat revoked', transfers }],
      now,
      newGrants,
    );
    await tx.query(`update grants set closed_at = $3 where seat_id = $1 and cycle_start = $2 and closed_at is null`, [seat.id, seat.cycleStart, now]);
    // Remember which cycle each pack last paid into: `next_cycle` and `remaining` depend on it.
    await tx.query(
      `update packs k set seat_id = null, assigned_at = null, granted_until = coalesce(d.until, k.granted_until)
       from unnest($2::int4[], $3::timestamptz[]) as d(id, until) where k.seat_id = $1 and k.id = d.id`,
      [seat.id, state.releases.map((r) => r.packId), state.releases.map((r) => r.grantedUntil)],
    );
    await tx.query(`update seats set status = 'revoked', revoked_at = $2, revoke_journal_id = $3 where id = $1`, [seat.id, now, journalId ?? null]);
    const label = memberLabel(state.member);
    await addVendorTask(tx, `Remove the ${state.planName} license from ${label} in the vendor console`, state.member.id, now);
    for (const release of state.releases) {
      const product = state.productNames.get(release.product) ?? release.product;
      await addVendorTask(tx, `Remove the add-on pack (${product}) from ${label} in the vendor console`, state.member.id, now);
    }
    return describePlan(state, user);
  });
}
