// The weekly admin digest: used vs quota per profile, top consumers, members over 80 %, overage,
// free packs and the change on the week before. Queued in the outbox once per ISO week, the week
// of the time it was scheduled for, however late it runs.
import type { Queryable } from '../db/client.ts';
import type { LedgerContext } from '../ledger/context.ts';
import { DateTime } from 'luxon';

export interface Digest {
  week: string;
  usedThisWeek: number;
  usedPreviousWeek: number;
  profiles: { profile: string | null; quota: number; used: number }[];
  topConsumers: { user: string; quota: number; used: number }[];
  over80: { user: string; quota: number; used: number }[];
  overage: number;
  freePacks: { product: string; count: number }[];
}

/** Members listed as top consumers. */
const top_consumers_max = 5;
const week_ms = 7 * 86_400_000;

/** The ISO week (`2026-W20`) an instant falls in, in the IANA `zone`. */
export function isoWeek(now: Date, zone: string): string {
  const local = DateTime.fromJSDate(now, { zone });
  return `${local.weekYear}-W${String(local.weekNumber).padStart(2, '0')}`;
}

/**
 * The digest scheduled for `scheduledAt`, built at `now` (later, when it is caught up): its week
 * and usage windows (the 7 days before `scheduledAt`, and the 7 before those) come from the
 * schedule, so digests tile the weeks however late one runs; quotas, members and packs are as
 * they are `now`.
 */
export async function buildDigest(db: Queryable, ctx: LedgerContext, scheduledAt: Date, now: Date = scheduledAt): Promise<Digest> {
  // Current balance rows: each active seat's cycle that contains now.
  const current = `select sc.*, s.profile_key, coalesce(m.slack_id, m.email) as who, m.slack_id
                   from seat_cycles sc join seats s on s.id = sc.seat_id and s.cycle_start = sc.cycle_start
                   join members m on m.id = s.member_id where s.status = 'active'`;
  const [weeks] = await db.query<{ thisWeek: number; previousWeek: number }>(
    `select coalesce(sum(credits) filter (where occurred_at >= $1), 0)::int8 as "thisWeek",
            coalesce(sum(credits) filter (where occurred_at < $1), 0)::int8 as "previousWeek"
     from journal where kind = 'usage' and occurred_at >= $2 and occurred_at < $3`,
    [new Date(scheduledAt.getTime() - week_ms), new Date(scheduledAt.getTime() - 2 * week_ms), scheduledAt],
  );
  const profiles = await db.query<{ profile: string | null; quota: number; used: number }>(
    `select c.profile_key as profile, sum(c.quota)::int8 as quota, sum(c.used + c.pool_used + c.overage)::int8 as used
     from (${current}) c group by c.profile_key order by c.profile_key nulls last`,
  );
  const members = await db.query<{ user: string; slackId: string | null; quota: number; used: number }>(
    `select c.who as user, c.slack_id as "slackId", c.quota, (c.used + c.pool_used + c.overage)::int8 as used
     from (${current}) c order by used desc, c.seat_id`,
  );
  const [overage] = await db.query<{ total: number }>(`select coalesce(sum(c.overage), 0)::int8 as total from (${current}) c`);
  const freePacks = await db.query<{ product: string; count: number }>(
    `select product_key as product, count(*)::int8 as count from packs
     where seat_id is null and (expires_at is null or expires_at > $1) group by product_key order by product_key`,
    [now],
  );
  const label = (m: { user: string; slackId: string | null }) => (m.slackId ? `<@${m.slackId}>` : m.user);
  return {
    week: isoWeek(scheduledAt, ctx.settings.zone),
    usedThisWeek: weeks!.thisWeek,
    usedPreviousWeek: weeks!.previousWeek,
    profiles,
    topConsumers: members.filter((m) => m.used > 0).slice(0, top_consumers_max).map((m) => ({ user: label(m), quota: m.quota, used: m.used })),
    over80: members.filter((m) => m.quota > 0 && m.used * 100 >= m.quota * 80).map((m) => ({ user: label(m), quota: m.quota, used: m.used })),
    overage: overage!.total,
    freePacks,
  };
}

/** Queues the digest scheduled for `scheduledAt` once, however many replicas or runs ask; true if this call queued it. */
export async function enqueueDigest(ctx: LedgerContext, scheduledAt: Date = ctx.now(), now: Date = ctx.now()): Promise<boolean> {
  return ctx.db.transaction(async (tx) => {
    const digest = await buildDigest(tx, ctx, scheduledAt, now);
    const inserted = await tx.query(
      `insert into outbox (kind, dedupe_key, payload, created_at, available_at) values ('digest', $1, $2, $3, $3)
       on conflict (dedupe_key) do nothing returning id`,
      [`digest:${digest.week}`, JSON.stringify({ kind: 'digest', ...digest }), now],
    );
    return inserted.length > 0;
  });
}
