// The weekly admin digest, per tool: used vs quota per profile, top consumers, members over 80 %,
// overage, free packs and the change on the week before, each in the tool's unit. Queued in the
// outbox once per ISO week, the week of the time it was scheduled for, however late it runs.
import type { Queryable } from '../db/client.ts';
import type { LedgerContext } from '../ledger/context.ts';
import { loadTools } from '../ledger/tools.ts';
import { DateTime } from 'luxon';

/** One tool's week: amounts in its unit. */
export interface ToolDigest {
  tool: { key: string; name: string; unit: string };
  usedThisWeek: number;
  usedPreviousWeek: number;
  profiles: { profile: string | null; quota: number; used: number }[];
  topConsumers: { user: string; quota: number; used: number }[];
  over80: { user: string; quota: number; used: number }[];
  overage: number;
  freePacks: { product: string; count: number }[];
}

/** The digest of a week: one part per tool, in the order the tools were created. */
export interface Digest {
  week: string;
  tools: ToolDigest[];
}

/** A digest queued before tools existed: the one tool's figures at the top level. */
export type LegacyDigest = Omit<ToolDigest, 'tool'> & { week: string };

/** The tools of a digest, reading one queued before tools existed as the one tool it was about: AI credits. */
export function digestTools(digest: Digest | LegacyDigest): ToolDigest[] {
  if ('tools' in digest) return digest.tools;
  const { week: _week, ...figures } = digest;
  return [{ tool: { key: 'default', name: 'AI credits', unit: 'credits' }, ...figures }];
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
  const current = `select sc.*, s.profile_key, s.tool_key, coalesce(m.slack_id, m.email) as who, m.slack_id
                   from seat_cycles sc join seats s on s.id = sc.seat_id and s.cycle_start = sc.cycle_start
                   join members m on m.id = s.member_id where s.status = 'active'`;
  const tools = await loadTools(db, ctx.settings);
  const weeks = await db.query<{ tool: string; thisWeek: number; previousWeek: number }>(
    `select s.tool_key as tool, coalesce(sum(j.credits) filter (where j.occurred_at >= $1), 0)::int8 as "thisWeek",
            coalesce(sum(j.credits) filter (where j.occurred_at < $1), 0)::int8 as "previousWeek"
     from journal j join seats s on s.id = j.seat_id
     where j.kind = 'usage' and j.occurred_at >= $2 and j.occurred_at < $3 group by s.tool_key`,
    [new Date(scheduledAt.getTime() - week_ms), new Date(scheduledAt.getTime() - 2 * week_ms), scheduledAt],
  );
  const profiles = await db.query<{ tool: string; profile: string | null; quota: number; used: number }>(
    `select c.tool_key as tool, c.profile_key as profile, sum(c.quota)::int8 as quota, sum(c.used + c.pool_used + c.overage)::int8 as used
     from (${current}) c group by c.tool_key, c.profile_key order by c.profile_key nulls last`,
  );
  const members = await db.query<{ tool: string; user: string; slackId: string | null; quota: number; used: number }>(
    `select c.tool_key as tool, c.who as user, c.slack_id as "slackId", c.quota, (c.used + c.pool_used + c.overage)::int8 as used
     from (${current}) c order by used desc, c.seat_id`,
  );
  const overage = await db.query<{ tool: string; total: number }>(`select c.tool_key as tool, coalesce(sum(c.overage), 0)::int8 as total from (${current}) c group by c.tool_key`);
  const freePacks = await db.query<{ tool: string; product: string; count: number }>(
    `select pp.tool_key as tool, k.product_key as product, count(*)::int8 as count from packs k join pack_products pp on pp.key = k.product_key
     where k.seat_id is null and (k.expires_at is null or k.expires_at > $1) group by pp.tool_key, k.product_key order by k.product_key`,
    [now],
  );
  const label = (m: { user: string; slackId: string | null }) => (m.slackId ? `<@${m.slackId}>` : m.user);
  const of = <T extends { tool: string }>(rows: T[], tool: string) => rows.filter((r) => r.tool === tool);
  const strip = <T extends { tool: string }>({ tool: _tool, ...rest }: T) => rest;
  return {
    week: isoWeek(scheduledAt, ctx.settings.zone),
    tools: tools.list.map((tool): ToolDigest => {
      const week = of(weeks, tool.key)[0];
      const seats = of(members, tool.key);
      return {
        tool: { key: tool.key, name: tool.name, unit: tool.unit },
        usedThisWeek: week?.thisWeek ?? 0,
        usedPreviousWeek: week?.previousWeek ?? 0,
        profiles: of(profiles, tool.key).map(strip),
        topConsumers: seats.filter((m) => m.used > 0).slice(0, top_consumers_max).map((m) => ({ user: label(m), quota: m.quota, used: m.used })),
        over80: seats.filter((m) => m.quota > 0 && m.used * 100 >= m.quota * 80).map((m) => ({ user: label(m), quota: m.quota, used: m.used })),
        overage: of(overage, tool.key)[0]?.total ?? 0,
        freePacks: of(freePacks, tool.key).map(strip),
      };
    }),
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
