// A member's balance as people see it: read from the balance rows, never summed from history.
import type { LedgerContext } from './context.ts';
import { seat_columns, type SeatRow } from './context.ts';
import { cycleAt } from './cycles.ts';
import { invalid, notFound } from './errors.ts';
import { forecast_usage_events_min, forecastRunOut, type ForecastStatus } from './forecast.ts';
import { history_entries_max } from './limits.ts';
import { describeUser, parseUserRef } from './members.ts';
import { lockCurrentSeats } from './reset.ts';
import { loadTools } from './tools.ts';

export interface BalanceSource {
  kind: 'plan' | 'pack' | 'rollover' | 'manual' | 'pool' | 'budget';
  name: string;
  credits: number;
  remaining: number;
  expires_at: string;
  pack_id?: number;
}

export interface Balance {
  user: string;
  slack_id: string | null;
  email: string | null;
  /** The seat's tool: its key, its name and what its unit is called. */
  tool: string;
  tool_name: string;
  unit: string;
  status: 'active' | 'revoked';
  /** The first of `plans`, for callers that know one plan per seat. */
  plan: string;
  /** Every plan the seat holds; their grants stack. */
  plans: string[];
  profile: string | null;
  cycle: { start: string; end: string; name: string };
  /** Own credits this cycle: plans, packs, rollover and manual grants. */
  quota: number;
  /** Everything consumed this cycle: own credits, pool draws and overage. */
  used: number;
  /** Own credits left. */
  remaining: number;
  pool_used: number;
  /** What the member may still draw from the pool (its remaining, within the member cap). */
  pool_available: number;
  overage: number;
  /** The seat's daily limit today (in the tool's zone), or null when its plans set none. */
  daily_limit: { credits: number; used: number; remaining: number; resets_at: string } | null;
  sources: BalanceSource[];
  /**
   * When own and pool credits run out at the pace so far (see forecastRunOut): `status` is
   * `runs_out`, `lasts_the_cycle`, `too_little_history` (under a day of the seat's time in the
   * cycle, or under two usage events: no date is given) or `revoked` (no date either).
   * `burn_per_day` is whole credits a day, null without the history to measure it.
   */
  forecast: { status: ForecastStatus; burn_per_day: number | null; runs_out_at: string | null; lasts_the_cycle: boolean };
}

/** Without a tool named: the first seat's balance, and every seat's in `tools` (SPEC's HTTP API). */
export type MemberBalance = Balance & { tools: Balance[] };

interface BalanceRow extends SeatRow {
  slackId: string | null;
  email: string | null;
  toolName: string;
  unit: string;
  zone: string;
  planNames: Record<string, string>;
  quota: number | null;
  remaining: number | null;
  used: number | null;
  poolUsed: number | null;
  overage: number | null;
  poolName: string | null;
  poolAmount: number | null;
  poolRemaining: number | null;
  poolExpiresAt: Date | null;
  poolCap: number | null;
  poolDrawn: number | null;
  dailyLimit: number | null;
  dayUsed: number | null;
  dayEndsAt: Date | null;
  /** This cycle's usage events, counted up to forecast_usage_events_min: all the forecast needs to know. */
  usageEvents: number;
  grants: { id: number; source: BalanceSource['kind']; amount: number; remaining: number; expiresAt: string; packId: number | null; planKey: string | null; productName: string | null }[] | null;
}

/**
 * A member's balance in one tool: the tool named, else the org's only one. LedgerErrors:
 * not_found (no seat there), invalid (a malformed user, or several tools and none named).
 */
export async function getBalance(ctx: LedgerContext, user: string, tool?: string | null): Promise<Balance> {
  const balances = await readBalances(ctx, user, tool ?? null);
  // A member holds one seat per tool: several rows are several tools.
  if (!tool && balances.rows.length > 1) {
    throw invalid(`${describeUser(balances.ref)} has seats in several tools: name one of ${balances.rows.map((b) => b.tool).join(', ')}`);
  }
  return balances.rows[0]!;
}

/** Every seat's balance of a member, in the order the tools were created (SPEC: one block per tool). */
export async function getBalances(ctx: LedgerContext, user: string): Promise<MemberBalance> {
  const { rows } = await readBalances(ctx, user, null);
  return { ...rows[0]!, tools: rows };
}

/**
 * A member's seats with everything a balance shows, one JSON row per seat, in the order the tools
 * were created. $1 the member (Slack id, or lower-case email), $2 now, $3 a tool key or null for
 * every seat, $4 the org's zone for tools that set none. Built once: a lookup sends only its values.
 */
const balanceSql = (member: string) =>
  `select row_to_json(b) as r from (select ${seat_columns}, m.slack_id as "slackId", m.email, t.name as "toolName", t.unit, coalesce(t.time_zone, $4) as zone, t.created_at as "toolCreatedAt",
              (select json_object_agg(pl.key, pl.name) from seat_plans sp join plans pl on pl.key = sp.plan_key where sp.seat_id = s.id) as "planNames",
              sc.quota, sc.remaining, sc.used, sc.pool_used as "poolUsed", sc.overage,
              pr.name as "poolName", pg.amount as "poolAmount", pg.remaining as "poolRemaining", pg.expires_at as "poolExpiresAt",
              pr.member_pool_cap as "poolCap", pd.used as "poolDrawn", dl.limit as "dailyLimit", dl.used as "dayUsed", dl.ends_at as "dayEndsAt",
              gs.grants,
              (select count(*)::int4 from (select 1 from journal j
                 where j.seat_id = s.id and j.occurred_at >= s.cycle_start and j.cycle_start = s.cycle_start and j.kind = 'usage'
                 limit ${forecast_usage_events_min}) e) as "usageEvents"
       from members m join seats s on s.member_id = m.id join tools t on t.key = s.tool_key
       left join seat_cycles sc on sc.seat_id = s.id and sc.cycle_start = s.cycle_start
       left join profiles pr on pr.key = s.profile_key
       left join grants pg on pg.source = 'pool' and pg.profile_key = s.profile_key and pg.starts_at <= $2 and pg.expires_at > $2
       left join pool_draws pd on pd.pool_grant_id = pg.id and pd.seat_id = s.id
       -- Today's use against the daily limit, where the seat's plans set one.
       left join lateral (
         select l.limit, coalesce(sd.used, (select coalesce(sum(j.credits), 0) from journal j where j.seat_id = s.id and j.kind = 'usage' and j.day = l.day))::int8 as used,
                ((l.day + 1)::timestamp at time zone coalesce(t.time_zone, $4)) as ends_at
         from (select (select case when bool_and(pl.daily_limit is not null) then sum(pl.daily_limit)::int8 end
                       from seat_plans sp join plans pl on pl.key = sp.plan_key where sp.seat_id = s.id) as limit,
                      ($2::timestamptz at time zone coalesce(t.time_zone, $4))::date as day) l
         left join seat_days sd on sd.seat_id = s.id and sd.day = l.day
         where l.limit is not null) dl on true
       -- The seat's grants come in the same round trip: a balance is one query.
       left join lateral (
         select json_agg(json_build_object('id', g.id, 'source', g.source, 'amount', g.amount, 'remaining', g.remaining,
                                           'expiresAt', g.expires_at, 'packId', g.pack_id, 'planKey', g.plan_key, 'productName', pp.name) order by g.id) as grants
         from grants g left join packs k on k.id = g.pack_id left join pack_products pp on pp.key = k.product_key
         where g.seat_id = s.id and g.cycle_start = s.cycle_start and g.closed_at is null) gs on true
       where ${member} and ($3::text is null or s.tool_key = $3)) b
       order by b."toolCreatedAt", b."toolKey"`;
const balance_by_slack_id_sql = balanceSql('m.slack_id = $1');
const balance_by_email_sql = balanceSql('lower(m.email) = $1');

async function readBalances(ctx: LedgerContext, user: string, toolKey: string | null) {
  const ref = parseUserRef(user);
  const now = ctx.now();
  // The tools are read only when one is named (to refuse an unknown key by name): a lookup
  // without one is a single round trip.
  const tools = toolKey ? await loadTools(ctx.db, ctx.settings) : null;
  if (toolKey) tools!.get(toolKey);
  // One JSON column per seat rather than thirty-odd: the driver describes and parses every column
  // of every result again, which made most of a lookup's garbage (and its tail, in collections).
  const read = async () =>
    (await ctx.db.query<{ r: BalanceRow }>(
      'slackId' in ref ? balance_by_slack_id_sql : balance_by_email_sql,
      ['slackId' in ref ? ref.slackId : ref.email, now, toolKey, ctx.settings.zone],
      { name: 'slackId' in ref ? 'balance_by_slack_id_json' : 'balance_by_email_json' },
    )).map(({ r }) => reviveRow(r));
  let rows = await read();
  const where = toolKey && tools!.size > 1 ? ` in ${toolKey}` : '';
  if (rows.length === 0) throw notFound(`${describeUser(ref)} has no seat${where}: add one with PUT /api/v1/seats/${describeUser(ref)}`);
  const stale = rows.filter((r) => r.status === 'active' && r.cycleEnd.getTime() <= now.getTime());
  if (stale.length > 0) {
    // The reset has not reached these seats yet: apply it before showing a balance.
    await ctx.db.transaction((tx) => lockCurrentSeats(tx, ctx, stale.map((r) => r.id), now));
    rows = await read();
  }
  return { ref, rows: rows.map((r) => toBalance(r, user, now)) };
}

/** A balance row as row_to_json gives it: its instants back from ISO text to Dates. */
function reviveRow(r: BalanceRow): BalanceRow {
  const at = (value: Date | string | null) => (value == null ? null : new Date(value));
  return {
    ...r,
    cycleStart: at(r.cycleStart)!, cycleEnd: at(r.cycleEnd)!, startedAt: at(r.startedAt)!, revokedAt: at(r.revokedAt),
    poolExpiresAt: at(r.poolExpiresAt), dayEndsAt: at(r.dayEndsAt),
  };
}

function toBalance(r: BalanceRow, user: string, now: Date): Balance {
  const grants = (r.grants ?? []).map((g) => ({ ...g, expiresAt: new Date(g.expiresAt) }));
  const planNames = r.planNames ?? {};
  const sources: BalanceSource[] = grants.map((g) => ({
    kind: g.source,
    name:
      g.source === 'plan' ? (planNames[g.planKey ?? ''] ?? g.planKey ?? 'plan')
      : g.source === 'pack' ? (g.productName ?? 'pack')
      : g.source === 'rollover' ? 'rollover'
      : 'manual grant',
    credits: g.amount,
    remaining: g.remaining,
    expires_at: g.expiresAt.toISOString(),
    ...(g.packId != null ? { pack_id: g.packId } : {}),
  }));
  const poolAvailable =
    r.poolRemaining == null ? 0 : Math.max(0, Math.min(r.poolRemaining, r.poolCap == null ? Infinity : r.poolCap - (r.poolDrawn ?? 0)));
  if (r.poolAmount != null) {
    sources.push({ kind: 'pool', name: `${r.poolName} pool`, credits: r.poolAmount, remaining: poolAvailable, expires_at: r.poolExpiresAt!.toISOString() });
  }
  const used = (r.used ?? 0) + (r.poolUsed ?? 0) + (r.overage ?? 0);
  const remaining = r.remaining ?? 0;
  const forecast = forecastRunOut({
    consumed: used, available: remaining + poolAvailable, usageEvents: r.usageEvents, cycleStart: r.cycleStart, cycleEnd: r.cycleEnd,
    seatStartedAt: r.startedAt, revoked: r.status === 'revoked', now,
  });
  return {
    user,
    slack_id: r.slackId,
    email: r.email,
    tool: r.toolKey,
    tool_name: r.toolName,
    unit: r.unit,
    status: r.status,
    plan: r.planKeys[0] ?? '',
    plans: r.planKeys,
    profile: r.profileKey,
    cycle: { start: r.cycleStart.toISOString(), end: r.cycleEnd.toISOString(), name: cycleAt(r.cycleStart, r.anchorDay, r.zone).name },
    quota: r.quota ?? 0,
    used,
    remaining,
    pool_used: r.poolUsed ?? 0,
    pool_available: poolAvailable,
    overage: r.overage ?? 0,
    daily_limit:
      r.dailyLimit == null
        ? null
        : { credits: r.dailyLimit, used: r.dayUsed ?? 0, remaining: Math.max(0, r.dailyLimit - (r.dayUsed ?? 0)), resets_at: r.dayEndsAt!.toISOString() },
    sources,
    forecast: {
      status: forecast.status,
      burn_per_day: forecast.burnPerDay == null ? null : Math.round(forecast.burnPerDay),
      runs_out_at: forecast.runsOutAt?.toISOString() ?? null,
      lasts_the_cycle: forecast.status === 'lasts_the_cycle',
    },
  };
}

export interface HistoryEntry {
  id: number;
  /** The tool of the seat the entry belongs to. */
  tool: string;
  kind: string;
  at: string;
  credits: number | null;
  own: number | null;
  pool: number | null;
  overage: number | null;
  feature: string | null;
  reason: string | null;
  actor: string | null;
}

/** The member's latest journal entries in each seat's current cycle (or one tool's), newest first. */
export async function getHistory(ctx: LedgerContext, user: string, limit = history_entries_max, tool: string | null = null): Promise<HistoryEntry[]> {
  const ref = parseUserRef(user);
  const rows = await ctx.db.query<{ id: number; tool: string; kind: string; occurredAt: Date; credits: number | null; ownDrawn: number | null; poolDrawn: number | null; overage: number | null; feature: string | null; reason: string | null; actor: string | null }>(
    `select j.id, s.tool_key as tool, j.kind, j.occurred_at as "occurredAt", j.credits, j.own_drawn as "ownDrawn", j.pool_drawn as "poolDrawn",
            j.overage, j.feature, j.reason, j.actor
     from members m join seats s on s.member_id = m.id
     join journal j on j.seat_id = s.id and j.cycle_start = s.cycle_start
     where ${'slackId' in ref ? 'm.slack_id = $1' : 'lower(m.email) = $1'} and ($3::text is null or s.tool_key = $3)
     order by j.occurred_at desc, j.id desc limit $2`,
    ['slackId' in ref ? ref.slackId : ref.email, Math.min(limit, history_entries_max), tool],
  );
  return rows.map((r) => ({
    id: r.id, tool: r.tool, kind: r.kind, at: r.occurredAt.toISOString(), credits: r.credits, own: r.ownDrawn, pool: r.poolDrawn,
    overage: r.overage, feature: r.feature, reason: r.reason, actor: r.actor,
  }));
}
