// Seats: add, restore, change, revoke (with its preview). A seat is a member's place in one tool
// and holds one or more of that tool's plans, whose grants stack (SPEC "Words", "Stacking").
// Revoking forfeits what is left of the plan and manual grants and returns each pack to inventory
// under its reassign policy; a restore in the same cycle gives back what the revocation
// forfeited, not a fresh grant.
import type { Queryable } from '../db/client.ts';
import type { Member, Pack, Plan } from '../db/schema.ts';
import { grant_columns, loadCatalog, loadProfile, seat_columns, type Catalog, type GrantRow, type LedgerContext, type SeatRow } from './context.ts';
import { conflict, invalid, notFound } from './errors.ts';
import { describeUser, findMember, parseUserRef, upsertMember } from './members.ts';
import { describeRelease, memberLabel, pack_columns, planPackRelease, releaseTransfers, type PackRelease } from './packs.ts';
import { grantIds, post, type NewGrant, type Transfer } from './post.ts';
import { lockCurrentSeats, planCredits, seatCycleAt } from './reset.ts';
import { addVendorTask, inConsole } from './tasks.ts';
import { loadTools, type Tool, type Tools } from './tools.ts';

export interface SeatInput {
  /** The plan keys the seat holds, all of one tool; `plan` names a single one. */
  plans?: readonly string[] | null;
  plan?: string | null;
  /** The tool, when the caller names it; it must be the plans' tool. */
  tool?: string | null;
  profile?: string | null;
  email?: string | null;
  name?: string | null;
  anchorDay?: number | null;
  /** The member's login at the vendor (a GitHub login); null clears it, undefined keeps it. */
  vendorUser?: string | null;
  actor?: string | null;
}

export type SeatChange = 'created' | 'restored' | 'updated';

export interface SeatResult {
  change: SeatChange;
  seatId: number;
  user: string;
  tool: string;
  /** The first of `plans`, for callers that know one plan per seat. */
  plan: string;
  plans: string[];
  profile: string | null;
  cycle: { start: string; end: string };
  /** Credits this change put on the seat (new plan grants, or what a restore gave back). */
  credits: number;
  /** Credits this change took off the seat (what removed plans had left). */
  forfeited?: number;
  note?: string;
}

/** The plans a seat body names, checked against the catalog: all exist and share one tool. */
function seatPlans(input: SeatInput, catalog: Catalog, tools: Tools): { plans: Plan[]; tool: Tool } {
  const keys = [...new Set(input.plans ?? (input.plan ? [input.plan] : []))];
  if (keys.length === 0) throw invalid('a seat needs at least one plan: send {"plan": "pro"} or {"plans": ["pro", ...]}');
  const plans = keys.map((key) => {
    const plan = catalog.plans.get(key);
    if (!plan) throw notFound(`plan ${key} is not in the catalog: create it with PUT /api/v1/plans/${key}`);
    return plan;
  });
  const toolKeys = [...new Set(plans.map((p) => p.toolKey))];
  if (toolKeys.length > 1) throw invalid(`a seat's plans must all be of one tool; ${keys.join(', ')} are of ${toolKeys.join(' and ')}: send one seat per tool`);
  if (input.tool && input.tool !== toolKeys[0]) throw invalid(`plan ${keys[0]} is of the tool ${toolKeys[0]}, not ${input.tool}`);
  return { plans, tool: tools.get(toolKeys[0]!) };
}

/** Adds a seat, restores a revoked one, or changes an active one's plans, profile or vendor login. */
export async function putSeat(ctx: LedgerContext, user: string, input: SeatInput): Promise<SeatResult> {
  const ref = parseUserRef(user);
  const now = ctx.now();
  return ctx.db.transaction(async (tx) => {
    // One after the other: a transaction's connection runs one query at a time.
    const catalog = await loadCatalog(tx);
    const tools = await loadTools(tx, ctx.settings);
    const { plans, tool } = seatPlans(input, catalog, tools);
    if (input.profile) {
      const profile = await loadProfile(tx, input.profile);
      if (!profile) throw notFound(`profile ${input.profile} does not exist: create it with PUT /api/v1/profiles/${input.profile}`);
      if (profile.toolKey !== tool.key) throw invalid(`profile ${input.profile} is of the tool ${profile.toolKey}, not ${tool.key}`);
    }
    const member = await upsertMember(tx, ref, { email: input.email, name: input.name });
    if (input.vendorUser) await checkVendorUserFree(tx, tool, input.vendorUser, member.id);
    const [found] = await tx.query<{ id: number }>(`select id from seats where member_id = $1 and tool_key = $2`, [member.id, tool.key]);
    const label = memberLabel(member);
    const context = { tx, ctx, member, tool, tools, plans, input, now, label };
    if (!found) return createSeat(context);
    const [seat] = await lockCurrentSeats(tx, ctx, [found.id], now);
    if (input.anchorDay != null && input.anchorDay !== seat!.anchorDay) {
      throw invalid(`the seat's anchor day is ${seat!.anchorDay} and cannot change; revoke the seat and add it again to move its billing date`);
    }
    if (seat!.status === 'revoked') return restoreSeat(context, seat!);
    return updateSeat(context, seat!, catalog);
  });
}

interface SeatContext {
  tx: Queryable;
  ctx: LedgerContext;
  member: Member;
  tool: Tool;
  tools: Tools;
  plans: Plan[];
  input: SeatInput;
  now: Date;
  label: string;
}

async function checkVendorUserFree(tx: Queryable, tool: Tool, vendorUser: string, memberId: number): Promise<void> {
  const [taken] = await tx.query<{ memberId: number }>(
    `select member_id as "memberId" from seats where tool_key = $1 and lower(vendor_user) = lower($2)`,
    [tool.key, vendorUser],
  );
  if (taken && taken.memberId !== memberId) throw conflict(`${vendorUser} is already the vendor login of another member's ${tool.key} seat`);
}

/** One plan grant per plan, in the seat's cycle; opening the cycle's balance row when asked. */
async function issuePlanGrants(
  c: SeatContext, seatId: number, plans: readonly Plan[], cycle: { start: Date; end: Date }, opening: boolean,
): Promise<number> {
  const amounts = plans.map((plan) => planCredits(plan.credits, { ...cycle, name: '' }, c.now, c.ctx, c.tool.zone));
  const granted = plans.map((plan, i) => ({ plan, amount: amounts[i]! })).filter((p) => p.amount > 0);
  const ids = await grantIds(c.tx, granted.length);
  const grants: NewGrant[] = granted.map(({ plan, amount }, i) => ({
    id: ids[i]!, source: 'plan', seatId, packId: null, profileKey: null, planKey: plan.key, toolKey: null,
    cycleStart: cycle.start, startsAt: cycle.start, expiresAt: cycle.end, amount,
  }));
  const transfers: Transfer[] = grants.map((grant) => ({ from: { system: 'issuance' }, to: { grant }, amount: grant.amount }));
  const total = grants.reduce((sum, g) => sum + g.amount, 0);
  if (transfers.length > 0 || opening) {
    await post(
      c.tx,
      [{ kind: 'seat_grant', occurredAt: c.now, seatId, cycleStart: cycle.start, actor: c.input.actor ?? null, credits: total, transfers }],
      c.now,
      grants,
      opening ? [{ seatId, cycleStart: cycle.start, cycleEnd: cycle.end }] : [],
    );
  }
  return total;
}

async function setSeatPlans(tx: Queryable, seatId: number, planKeys: readonly string[]): Promise<void> {
  await tx.query(`delete from seat_plans where seat_id = $1 and not (plan_key = any($2::text[]))`, [seatId, planKeys]);
  await tx.query(`insert into seat_plans (seat_id, plan_key) select $1, unnest($2::text[]) on conflict do nothing`, [seatId, planKeys]);
}

const planNames = (plans: readonly Plan[]) => plans.map((p) => p.name).join(' and ');

function seatResult(c: SeatContext, change: SeatChange, seat: { id: number; cycleStart: Date; cycleEnd: Date; profileKey: string | null }, credits: number, extra: Partial<SeatResult> = {}): SeatResult {
  const plans = c.plans.map((p) => p.key);
  return {
    change, seatId: seat.id, user: c.member.slackId ?? c.member.email ?? '', tool: c.tool.key, plan: plans[0]!, plans,
    profile: seat.profileKey, cycle: { start: seat.cycleStart.toISOString(), end: seat.cycleEnd.toISOString() }, credits, ...extra,
  };
}

async function createSeat(c: SeatContext): Promise<SeatResult> {
  const anchorDay = c.input.anchorDay ?? c.tool.anchorDay;
  const cycle = seatCycleAt({ anchorDay, toolKey: c.tool.key }, c.tools, c.now);
  const [seat] = await c.tx.query<{ id: number }>(
    `insert into seats (member_id, tool_key, profile_key, anchor_day, status, cycle_start, cycle_end, started_at, vendor_user)
     values ($1, $2, $3, $4, 'active', $5, $6, $7, $8) returning id`,
    [c.member.id, c.tool.key, c.input.profile ?? null, anchorDay, cycle.start, cycle.end, c.now, c.input.vendorUser ?? null],
  );
  await setSeatPlans(c.tx, seat!.id, c.plans.map((p) => p.key));
  const credits = await issuePlanGrants(c, seat!.id, c.plans, cycle, true);
  await addVendorTask(c.tx, `Assign a ${planNames(c.plans)} license to ${c.label} ${inConsole(c.tools, c.tool)}`, c.member.id, c.now, c.tool.key);
  return seatResult(c, 'created', { id: seat!.id, cycleStart: cycle.start, cycleEnd: cycle.end, profileKey: c.input.profile ?? null }, credits);
}

/** The plans removed from a seat forfeit what they have left this cycle, and leave its quota. */
async function forfeitPlans(c: SeatContext, seat: SeatRow, planKeys: readonly string[]): Promise<number> {
  if (planKeys.length === 0) return 0;
  const grants = await c.tx.query<GrantRow>(
    `select ${grant_columns} from grants g where g.seat_id = $1 and g.cycle_start = $2 and g.closed_at is null
       and g.pack_id is null and g.plan_key = any($3::text[]) order by g.id for update`,
    [seat.id, seat.cycleStart, planKeys],
  );
  const transfers: Transfer[] = grants.filter((g) => g.remaining > 0).map((grant) => ({ from: { grant }, to: { system: 'forfeit' }, amount: grant.remaining }));
  if (transfers.length > 0) {
    await post(c.tx, [{ kind: 'plan_removed', occurredAt: c.now, seatId: seat.id, cycleStart: seat.cycleStart, actor: c.input.actor ?? null, reason: `plan ${planKeys.join(', ')} removed`, transfers }], c.now);
  }
  await c.tx.query(`update grants set closed_at = $2 where id = any($1::int8[])`, [grants.map((g) => g.id), c.now]);
  return transfers.reduce((sum, t) => sum + t.amount, 0);
}

/**
 * Plans coming back to a seat within the cycle their grant was forfeited in (removed from the
 * seat, or the seat revoked and restored without them) get back what that grant had left, as a
 * restored seat does (SPEC "Mid-cycle seat start"), not a fresh grant: otherwise removing a used
 * plan and adding it again would mint its credits anew. Resolves with the credits given back and
 * the plans given back this way; the others need a fresh grant.
 */
async function reopenForfeitedPlans(c: SeatContext, seatId: number, cycleStart: Date, planKeys: readonly string[]): Promise<{ credits: number; reopened: Set<string> }> {
  if (planKeys.length === 0) return { credits: 0, reopened: new Set() };
  // Each plan's latest grant of the cycle and its rollover, if closed; what each has forfeited,
  // net of what was given back before (transfers_forfeit_idx, transfers_unforfeit_idx). The caller holds the seat's lock, which every writer of
  // its grants takes first.
  const grants = await c.tx.query<GrantRow & { forfeited: number | null }>(
    `select * from (
       select distinct on (g.plan_key, g.source) ${grant_columns},
              ((select coalesce(sum(t.amount), 0) from transfers t where t.debit_grant_id = g.id and t.credit_account = 'forfeit')
              - (select coalesce(sum(t.amount), 0) from transfers t where t.credit_grant_id = g.id and t.debit_account = 'forfeit'))::int8 as forfeited
       from grants g
       where g.seat_id = $1 and g.cycle_start = $2 and g.source in ('plan', 'rollover') and g.pack_id is null and g.plan_key = any($3::text[])
       order by g.plan_key, g.source, g.id desc) latest
     where latest."closedAt" is not null`,
    [seatId, cycleStart, planKeys],
  );
  if (grants.length === 0) return { credits: 0, reopened: new Set() };
  await c.tx.query(`update grants set closed_at = null where id = any($1::int8[])`, [grants.map((g) => g.id)]);
  const back = grants.filter((g) => (g.forfeited ?? 0) > 0);
  if (back.length > 0) {
    await post(c.tx, [{
      kind: 'restore', occurredAt: c.now, seatId, cycleStart, actor: c.input.actor ?? null, reason: `plan ${back.map((g) => g.planKey).join(', ')} back`,
      transfers: back.map((g) => ({ from: { system: 'forfeit' as const }, to: { grant: g }, amount: g.forfeited! })),
    }], c.now);
  }
  return { credits: back.reduce((sum, g) => sum + g.forfeited!, 0), reopened: new Set(grants.filter((g) => g.source === 'plan').map((g) => g.planKey!)) };
}

async function updateSeat(c: SeatContext, seat: SeatRow, catalog: Catalog): Promise<SeatResult> {
  const profile = c.input.profile === undefined ? seat.profileKey : c.input.profile;
  const wanted = c.plans.map((p) => p.key);
  const added = c.plans.filter((p) => !seat.planKeys.includes(p.key));
  const removed = seat.planKeys.filter((key) => !wanted.includes(key));
  await c.tx.query(`update seats set profile_key = $2, vendor_user = case when $4 then $3 else vendor_user end where id = $1`, [
    seat.id, profile, c.input.vendorUser ?? null, c.input.vendorUser !== undefined,
  ]);
  await setSeatPlans(c.tx, seat.id, wanted);
  const forfeited = await forfeitPlans(c, seat, removed);
  const back = await reopenForfeitedPlans(c, seat.id, seat.cycleStart, added.map((p) => p.key));
  const credits = back.credits + await issuePlanGrants(c, seat.id, added.filter((p) => !back.reopened.has(p.key)), { start: seat.cycleStart, end: seat.cycleEnd }, false);
  const removedPlans = removed.map((key) => catalog.plans.get(key)!);
  const console = inConsole(c.tools, c.tool);
  if (added.length === 1 && removedPlans.length === 1 && wanted.length === 1) {
    await addVendorTask(c.tx, `Change the license of ${c.label} to ${added[0]!.name} ${console}`, c.member.id, c.now, c.tool.key);
  } else {
    if (added.length > 0) await addVendorTask(c.tx, `Assign a ${planNames(added)} license to ${c.label} ${console}`, c.member.id, c.now, c.tool.key);
    if (removedPlans.length > 0) await addVendorTask(c.tx, `Remove the ${planNames(removedPlans)} license from ${c.label} ${console}`, c.member.id, c.now, c.tool.key);
  }
  return seatResult(c, 'updated', { ...seat, profileKey: profile }, credits, forfeited > 0 ? { forfeited } : {});
}

async function restoreSeat(c: SeatContext, seat: SeatRow): Promise<SeatResult> {
  const cycle = seatCycleAt(seat, c.tools, c.now);
  const profile = c.input.profile === undefined ? seat.profileKey : c.input.profile;
  const wanted = c.plans.map((p) => p.key);
  let credits = 0;
  if (seat.cycleStart.getTime() === cycle.start.getTime() && seat.revokeJournalId != null) {
    // Same cycle: reverse what the revocation forfeited from the plans it holds again, their
    // rollover and the manual grants; a plan it did not hold before is granted now. A pack's own
    // rollover grant stays with the pack, which went back to inventory.
    // From the seat's grants to their forfeits by that revocation: through grants_seat_idx and
    // transfers_forfeit_idx, never a scan of every transfer.
    const forfeits = await c.tx.query<GrantRow & { forfeited: number }>(
      `select ${grant_columns}, t.amount as forfeited from grants g
       join transfers t on t.debit_grant_id = g.id and t.credit_account = 'forfeit' and t.journal_id = $1
       where g.seat_id = $3 and g.pack_id is null
         and (g.source = 'manual' or (g.source in ('plan', 'rollover') and g.plan_key = any($2::text[])))`,
      [seat.revokeJournalId, wanted, seat.id],
    );
    await c.tx.query(`update grants set closed_at = null where id = any($1::int8[])`, [forfeits.map((g) => g.id)]);
    if (forfeits.length > 0) {
      await post(c.tx, [{
        kind: 'restore', occurredAt: c.now, seatId: seat.id, cycleStart: seat.cycleStart, actor: c.input.actor ?? null,
        transfers: forfeits.map((g) => ({ from: { system: 'forfeit' as const }, to: { grant: g }, amount: g.forfeited })),
      }], c.now);
      credits = forfeits.reduce((sum, g) => sum + g.forfeited, 0);
    }
    await c.tx.query(`update seats set status = 'active', revoked_at = null, revoke_journal_id = null, profile_key = $2 where id = $1`, [seat.id, profile]);
    await setSeatPlans(c.tx, seat.id, wanted);
    const newPlans = c.plans.filter((p) => !seat.planKeys.includes(p.key));
    const back = await reopenForfeitedPlans(c, seat.id, cycle.start, newPlans.map((p) => p.key));
    credits += back.credits + await issuePlanGrants(c, seat.id, newPlans.filter((p) => !back.reopened.has(p.key)), cycle, false);
  } else {
    await c.tx.query(
      `update seats set status = 'active', revoked_at = null, revoke_journal_id = null, profile_key = $2,
              cycle_start = $3, cycle_end = $4, started_at = $5 where id = $1`,
      [seat.id, profile, cycle.start, cycle.end, c.now],
    );
    await setSeatPlans(c.tx, seat.id, wanted);
    credits = await issuePlanGrants(c, seat.id, c.plans, cycle, true);
  }
  if (c.input.vendorUser !== undefined) await c.tx.query(`update seats set vendor_user = $2 where id = $1`, [seat.id, c.input.vendorUser]);
  await addVendorTask(c.tx, `Assign a ${planNames(c.plans)} license to ${c.label} ${inConsole(c.tools, c.tool)} (seat restored)`, c.member.id, c.now, c.tool.key);
  return seatResult(c, 'restored', { id: seat.id, cycleStart: cycle.start, cycleEnd: cycle.end, profileKey: profile }, credits);
}

export interface RevokePlan {
  user: string;
  tool: string;
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
  tool: Tool;
  tools: Tools;
}

/**
 * Finds a member's seat in a tool (the tool named, or the org's only one) without locking it.
 * LedgerErrors: not_found when the member or the seat does not exist, invalid when several tools
 * exist and none is named.
 */
export async function findSeat(tx: Queryable, ctx: LedgerContext, user: string, toolKey: string | null | undefined, what: string) {
  const ref = parseUserRef(user);
  const tools = await loadTools(tx, ctx.settings);
  const tool = tools.pick(toolKey, what);
  const member = await findMember(tx, ref);
  const where = tools.size > 1 ? ` in ${tool.key}` : '';
  if (!member) throw notFound(`no member ${describeUser(ref)}${where}: add a seat with PUT /api/v1/seats/${describeUser(ref)}`);
  const [seat] = await tx.query<{ id: number }>(`select id from seats where member_id = $1 and tool_key = $2`, [member.id, tool.key]);
  return { ref, member, tool, tools, seatId: seat?.id ?? null, where };
}

/** Locks the member's seat and packs, bringing the seat into the cycle containing `now` first. */
async function loadRevokeState(tx: Queryable, ctx: LedgerContext, user: string, toolKey: string | null | undefined, now: Date): Promise<RevokeState> {
  const { ref, member, tool, tools, seatId, where } = await findSeat(tx, ctx, user, toolKey, 'revoking a seat');
  const [seat] = seatId == null ? [] : await lockCurrentSeats(tx, ctx, [seatId], now);
  if (!seat || seat.status !== 'active') throw conflict(`${describeUser(ref)} has no active seat${where} to revoke`);
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
    planName: seat!.planKeys.map((key) => plans.get(key)?.name ?? key).join(' and '),
    productNames: new Map([...products.values()].map((p) => [p.key, p.name])),
    tool,
    tools,
  };
}

function describePlan(state: RevokeState, user: string): RevokePlan {
  return {
    user,
    tool: state.tool.key,
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
export async function previewRevoke(ctx: LedgerContext, user: string, tool?: string | null): Promise<RevokePlan> {
  const now = ctx.now();
  return ctx.db.transaction(async (tx) => describePlan(await loadRevokeState(tx, ctx, user, tool, now), user));
}

export async function revokeSeat(ctx: LedgerContext, user: string, actor: string | null = null, tool?: string | null): Promise<RevokePlan> {
  const now = ctx.now();
  return ctx.db.transaction(async (tx) => {
    const state = await loadRevokeState(tx, ctx, user, tool, now);
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
    const console = inConsole(state.tools, state.tool);
    await addVendorTask(tx, `Remove the ${state.planName} license from ${label} ${console}`, state.member.id, now, state.tool.key);
    for (const release of state.releases) {
      const product = state.productNames.get(release.product) ?? release.product;
      await addVendorTask(tx, `Remove the add-on pack (${product}) from ${label} ${console}`, state.member.id, now, state.tool.key);
    }
    return describePlan(state, user);
  });
}
