// Purchases, packs in inventory, and packs moving between seats under their product's
// `reassign` policy: what a pack carries to its next assignee in the same cycle.
import type { Queryable } from '../db/client.ts';
import type { Pack, PackProduct } from '../db/schema.ts';
import { grant_columns, loadCatalog, type GrantRow, type LedgerContext, type SeatRow } from './context.ts';
import { conflict, invariant, notFound } from './errors.ts';
import { describeUser } from './members.ts';
import { grantIds, post, type NewGrant, type Transfer } from './post.ts';
import { lockCurrentSeats } from './reset.ts';
import { findSeat } from './seats.ts';
import { addVendorTask, inConsole } from './tasks.ts';
import { loadTools, type Tool, type Tools } from './tools.ts';

export const pack_columns = `k.id, k.purchase_id as "purchaseId", k.product_key as "productKey", k.seat_id as "seatId",
  k.assigned_at as "assignedAt", k.expires_at as "expiresAt", k.granted_until as "grantedUntil"`;

export interface PurchaseInput {
  product: string;
  quantity: number;
  reference?: string | null;
  unitCost?: string | null;
  purchasedAt?: Date;
}

export async function recordPurchase(ctx: LedgerContext, input: PurchaseInput) {
  const now = ctx.now();
  return ctx.db.transaction(async (tx) => {
    const { products } = await loadCatalog(tx);
    if (!products.has(input.product)) {
      throw notFound(`pack product ${input.product} is not in the catalog: create it with PUT /api/v1/pack-products/${input.product}`);
    }
    const [purchase] = await tx.query<{ id: number }>(
      `insert into purchases (product_key, quantity, reference, unit_cost, purchased_at) values ($1, $2, $3, $4, $5) returning id`,
      [input.product, input.quantity, input.reference ?? null, input.unitCost ?? null, input.purchasedAt ?? now],
    );
    const packs = await tx.query<{ id: number }>(
      `insert into packs (purchase_id, product_key) select $1, $2 from generate_series(1, $3) returning id`,
      [purchase!.id, input.product, input.quantity],
    );
    return { purchaseId: purchase!.id, packIds: packs.map((p) => p.id) };
  });
}

/** What leaving a seat does to one pack: the plan behind both the revoke preview and the change. */
export interface PackRelease {
  packId: number;
  product: string;
  policy: PackProduct['reassign'];
  /** Unused credits of this cycle's grant on the seat. */
  unused: number;
  /** What the next assignee gets this cycle: carried credits, a fresh grant, or nothing until the reset. */
  nextAssigneeGets: number;
  forfeited: number;
  /** This cycle's open grants of the pack on the seat: its own and any rollover it carried in. */
  grants: GrantRow[];
  /** When the latest of them expires: the end of the cycle the pack last paid into. */
  grantedUntil: Date | null;
}

export function planPackRelease(pack: Pack, product: PackProduct, grants: readonly GrantRow[]): PackRelease {
  const unused = grants.reduce((sum, g) => sum + g.remaining, 0);
  const policy = product.reassign;
  const carried = policy === 'remaining' ? unused : 0;
  const nextAssigneeGets = policy === 'remaining' ? unused : policy === 'full' ? product.credits : 0;
  const grantedUntil = grants.reduce<Date | null>((latest, g) => (latest && latest >= g.expiresAt ? latest : g.expiresAt), null);
  return { packId: pack.id, product: product.key, policy, unused, nextAssigneeGets, forfeited: unused - carried, grants: [...grants], grantedUntil };
}

/**
 * Moves what a released pack keeps into a holding grant owned by the pack (no seat), forfeits
 * the rest. Returns transfers and the holding grant to create.
 */
export async function releaseTransfers(
  tx: Queryable,
  releases: readonly PackRelease[],
  packs: readonly Pack[],
): Promise<{ transfers: Transfer[]; newGrants: NewGrant[] }> {
  const transfers: Transfer[] = [];
  const carrying = releases.filter((r) => r.policy === 'remaining' && r.unused > 0);
  const ids = await grantIds(tx, carrying.length);
  const newGrants: NewGrant[] = [];
  for (const release of releases) {
    if (release.unused === 0) continue;
    const left = release.grants.filter((g) => g.remaining > 0);
    if (release.policy === 'remaining') {
      const pack = packs.find((p) => p.id === release.packId)!;
      const holding: NewGrant = {
        id: ids[newGrants.length]!,
        source: 'pack',
        seatId: null,
        packId: release.packId,
        profileKey: null,
        planKey: null,
        toolKey: null,
        cycleStart: left[0]!.cycleStart,
        startsAt: left[0]!.startsAt,
        // A one-time pack's credits wait in inventory until the pack itself expires.
        expiresAt: pack.expiresAt ?? release.grantedUntil!,
        amount: release.unused,
      };
      newGrants.push(holding);
      for (const grant of left) transfers.push({ from: { grant }, to: { grant: holding }, amount: grant.remaining });
    } else {
      for (const grant of left) transfers.push({ from: { grant }, to: { system: 'forfeit' }, amount: grant.remaining });
    }
  }
  return { transfers, newGrants };
}

/** A locked, active seat in its current cycle, with who holds it and its tool. */
export type ActiveSeat = SeatRow & { email: string | null; slackId: string | null; tool: Tool; tools: Tools };

/**
 * Locks a member's active seat in a tool (the one named, or the org's only one) and brings it into
 * the current cycle. LedgerErrors: not_found (no such member), conflict (no active seat there),
 * invalid (several tools and none named).
 */
export async function lockActiveSeat(tx: Queryable, ctx: LedgerContext, user: string, now: Date, toolKey?: string | null, what = 'this'): Promise<ActiveSeat> {
  const { ref, member, tool, tools, seatId, where } = await findSeat(tx, ctx, user, toolKey, what);
  const [seat] = seatId == null ? [] : await lockCurrentSeats(tx, ctx, [seatId], now);
  if (!seat || seat.status !== 'active') {
    throw conflict(`${describeUser(ref)} has no active seat${where}: add one with PUT /api/v1/seats/${describeUser(ref)}`);
  }
  return { ...seat, email: member.email, slackId: member.slackId, tool, tools };
}

export const memberLabel = (m: { email: string | null; slackId: string | null }) => m.email ?? (m.slackId ? `<@${m.slackId}>` : 'the member');

export interface AssignPackInput {
  product: string;
  user: string;
  actor?: string | null;
}

/** Assigns a free pack of `product` to the member's seat; what it brings follows its reassign policy. */
export async function assignPack(ctx: LedgerContext, input: AssignPackInput) {
  const now = ctx.now();
  return ctx.db.transaction((tx) => assignPackIn(tx, ctx, input, now));
}

/** assignPack inside the caller's transaction, so another write (an approved request) commits with it. */
export async function assignPackIn(tx: Queryable, ctx: LedgerContext, input: AssignPackInput, now: Date) {
  const { products } = await loadCatalog(tx);
  const product = products.get(input.product);
  if (!product) throw notFound(`pack product ${input.product} is not in the catalog`);
  // The product says which tool: the pack goes to the member's seat there.
  const seat = await lockActiveSeat(tx, ctx, input.user, now, product.toolKey);
  // A pack that would give its assignee nothing now (used already, by its first holder this cycle
  // or for good if one-time, with no credits left to carry) is taken last: never while one that
  // gives credits is free. Among the rest, one used this cycle first, so its remaining credits
  // are not left to expire in stock.
  const [pack] = await tx.query<Pack>(
    `select ${pack_columns} from packs k where k.product_key = $1 and k.seat_id is null
       and (k.expires_at is null or k.expires_at > $2)
     order by ($4 <> 'full' and (case when $3 = 'one_time' then k.expires_at is not null else k.granted_until > $2 end)
               and not exists (select 1 from grants g where g.pack_id = k.id and g.seat_id is null and g.remaining > 0 and g.expires_at > $2)),
              k.granted_until desc nulls last, k.id
     limit 1 for update skip locked`,
    [input.product, now, product.kind, product.reassign],
  );
  if (!pack) {
    const [{ held } = { held: 0 }] = await tx.query<{ held: number }>(
      `select count(*)::int8 as held from packs where product_key = $1 and seat_id is not null`,
      [input.product],
    );
    const why = held === 0 ? 'none is held or in stock; record a purchase first' : `${held === 1 ? 'the only one is' : `all ${held} are`} assigned; record a purchase or unassign one first`;
    throw conflict(`no free ${product.name} pack: ${why}`);
  }
  const [holding] = await tx.query<GrantRow>(
    `select ${grant_columns} from grants g where g.pack_id = $1 and g.seat_id is null and g.remaining > 0 and g.expires_at > $2
     order by g.id desc limit 1 for update`,
    [pack.id, now],
  );
  const expiresAt = product.kind === 'one_time' ? (pack.expiresAt ?? new Date(now.getTime() + product.expiresDays! * 86_400_000)) : null;
  const grantedThisCycle = pack.grantedUntil != null && pack.grantedUntil.getTime() > now.getTime();
  const firstUse = product.kind === 'one_time' ? pack.expiresAt == null : !grantedThisCycle;
  let credits: { fresh: number } | { carry: GrantRow } | null;
  if (firstUse || product.reassign === 'full') credits = { fresh: product.credits };
  else if (product.reassign === 'remaining') credits = holding ? { carry: holding } : null;
  else credits = null; // next_cycle: nothing until the seat's reset
  const grantExpiry = new Date(Math.min(seat.cycleEnd.getTime(), (expiresAt ?? seat.cycleEnd).getTime()));
  let granted = 0;
  if (credits) {
    const [id] = await grantIds(tx, 1);
    const amount = 'fresh' in credits ? credits.fresh : credits.carry.remaining;
    const grant: NewGrant = {
      id: id!, source: 'pack', seatId: seat.id, packId: pack.id, profileKey: null, planKey: null, toolKey: null,
      cycleStart: seat.cycleStart, startsAt: seat.cycleStart, expiresAt: grantExpiry, amount,
    };
    const transfer: Transfer =
      'fresh' in credits
        ? { from: { system: 'issuance' }, to: { grant }, amount }
        : { from: { grant: credits.carry }, to: { grant }, amount };
    await post(tx, [{ kind: 'pack_grant', occurredAt: now, seatId: seat.id, cycleStart: seat.cycleStart, actor: input.actor ?? null, credits: amount, transfers: [transfer] }], now, [grant]);
    if ('carry' in credits) await tx.query(`update grants set closed_at = $2 where id = $1`, [credits.carry.id, now]);
    granted = amount;
  }
  await tx.query(
    `update packs set seat_id = $2, assigned_at = $3, expires_at = $4,
            granted_until = case when $5 then $6 else granted_until end where id = $1`,
    [pack.id, seat.id, now, expiresAt, credits != null && 'fresh' in credits, seat.cycleEnd],
  );
  await addVendorTask(tx, `Assign an add-on pack (${product.name}) to ${memberLabel(seat)} ${inConsole(seat.tools, seat.tool)}`, seat.memberId, now, seat.tool.key);
  return {
    packId: pack.id, product: product.key, productName: product.name, user: input.user, tool: seat.tool.key, credits: granted,
    policy: firstUse ? 'new' : product.reassign,
  };
}

/** Returns one pack to inventory under its product's reassign policy. */
export async function unassignPack(ctx: LedgerContext, input: { packId: number; actor?: string | null }) {
  const now = ctx.now();
  return ctx.db.transaction(async (tx) => {
    const [found] = await tx.query<Pack>(`select ${pack_columns} from packs k where k.id = $1`, [input.packId]);
    if (!found) throw notFound(`no pack ${input.packId}`);
    if (found.seatId == null) throw conflict(`pack ${input.packId} is already free in inventory`);
    // Seat first, then the pack: the lock order every writer keeps.
    const [seat] = await lockCurrentSeats(tx, ctx, [found.seatId], now);
    const [pack] = await tx.query<Pack>(`select ${pack_columns} from packs k where k.id = $1 for update`, [input.packId]);
    invariant(seat && pack, 'pack and seat vanished under lock');
    if (pack.seatId !== seat.id) throw conflict(`pack ${input.packId} moved while you were looking; try again`);
    const [holder] = await tx.query<{ email: string | null; slackId: string | null }>(
      `select email, slack_id as "slackId" from members where id = $1`,
      [seat.memberId],
    );
    const tools = await loadTools(tx, ctx.settings);
    const { products } = await loadCatalog(tx);
    const product = products.get(pack.productKey)!;
    const grants = await tx.query<GrantRow>(
      `select ${grant_columns} from grants g where g.pack_id = $1 and g.seat_id = $2 and g.cycle_start = $3 and g.closed_at is null
       order by g.id`,
      [pack.id, seat.id, seat.cycleStart],
    );
    const release = planPackRelease(pack, product, grants);
    const { transfers, newGrants } = await releaseTransfers(tx, [release], [pack]);
    if (transfers.length > 0) {
      await post(tx, [{ kind: 'unassign', occurredAt: now, seatId: seat.id, cycleStart: seat.cycleStart, actor: input.actor ?? null, transfers }], now, newGrants);
    }
    // This cycle's grants only: last cycle's stay open for late events until the sweep expires them.
    await tx.query(
      `update grants set closed_at = $4 where pack_id = $1 and seat_id = $2 and cycle_start = $3 and closed_at is null`,
      [pack.id, seat.id, seat.cycleStart, now],
    );
    // Remember which cycle this pack last paid into: `next_cycle` and `remaining` depend on it.
    await tx.query(`update packs set seat_id = null, assigned_at = null, granted_until = coalesce($2, granted_until) where id = $1`, [pack.id, release.grantedUntil]);
    await addVendorTask(
      tx, `Remove the add-on pack (${product.name}) from ${memberLabel(holder!)} ${inConsole(tools, tools.get(seat.toolKey))}`, seat.memberId, now, seat.toolKey,
    );
    return { packId: pack.id, release: describeRelease(release) };
  });
}

export const describeRelease = (r: PackRelease) => ({
  pack_id: r.packId,
  product: r.product,
  policy: r.policy,
  unused: r.unused,
  next_assignee_gets: r.nextAssigneeGets,
  forfeited: r.forfeited,
});

export async function listPacks(tx: Queryable) {
  return tx.query<Pack & { email: string | null; slackId: string | null }>(
    `select ${pack_columns}, m.email, m.slack_id as "slackId" from packs k
     left join seats s on s.id = k.seat_id left join members m on m.id = s.member_id order by k.id`,
  );
}

/** Each pack product with how many of its packs are free to assign now (unassigned, unexpired). */
export async function packProductsFree(ctx: LedgerContext) {
  return ctx.db.query<{ key: string; name: string; credits: number; free: number }>(
    `select pp.key, pp.name, pp.credits, count(k.id) filter (where k.seat_id is null and (k.expires_at is null or k.expires_at > $1))::int8 as free
     from pack_products pp left join packs k on k.product_key = pp.key group by pp.key order by pp.key`,
    [ctx.now()],
  );
}

export interface PackInventory {
  product: string;
  free: number;
  assigned: number;
  /** Who holds each assigned pack, by pack number: the number "Unassign a pack" asks for. */
  holders: { id: number; slackId: string | null; email: string | null }[];
}

/** Packs by product: how many are free, how many assigned, and to whom. */
export async function packInventory(ctx: LedgerContext): Promise<PackInventory[]> {
  return ctx.db.query<PackInventory>(
    `select k.product_key as product, count(*) filter (where k.seat_id is null)::int8 as free, count(k.seat_id)::int8 as assigned,
            coalesce(json_agg(json_build_object('id', k.id, 'slackId', m.slack_id, 'email', m.email) order by k.id)
                     filter (where k.seat_id is not null), '[]') as holders
     from packs k left join seats s on s.id = k.seat_id left join members m on m.id = s.member_id
     group by k.product_key order by k.product_key`,
  );
}
