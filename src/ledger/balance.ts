// A member's balance as people see it: read from the balance rows, never summed from history.
import type { LedgerContext } from './context.ts';
import { seat_columns, type SeatRow } from './context.ts';
import { cycleAt } from './cycles.ts';
import { notFound } from './errors.ts';
import { forecast_usage_events_min, forecastRunOut, type ForecastStatus } from './forecast.ts';
import { history_entries_max } from './limits.ts';
import { describeUser, parseUserRef } from './members.ts';
import { resetLockedSeats } from './reset.ts';

export interface BalanceSource {
  kind: 'plan' | 'pack' | 'rollover' | 'manual' | 'pool';
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
  status: 'active' | 'revoked';
  plan: string;
  profile: string | null;
  cycle: { start: string; end: string; name: string };
  /** Own credits this cycle: plan, packs, rollover and manual grants. */
  quota: number;
  /** Everything consumed this cycle: own credits, pool draws and overage. */
  used: number;
  /** Own credits left. */
  remaining: number;
  pool_used: number;
  /** What the member may still draw from the pool (its remaining, within the member cap). */
  pool_available: number;
  overage: number;
  sources: BalanceSource[];
  /**
   * When own and pool credits run out at the pace so far (see forecastRunOut): `status` is
   * `runs_out`, `lasts_the_cycle`, `too_little_history` (under a day of the seat's time in the
   * cycle, or under two usage events: no date is given) or `revoked` (no date either).
   * `burn_per_day` is whole credits a day, null without the history to measure it.
   */
  forecast: { status: ForecastStatus; burn_per_day: number | null; runs_out_at: string | null; lasts_the_cycle: boolean };
}

interface BalanceRow extends SeatRow {
  slackId: string | null;
  email: string | null;
  planName: string;
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
  /** This cycle's usage events, counted up to forecast_usage_events_min: all the forecast needs to know. */
  usageEvents: number;
  grants: { id: number; source: BalanceSource['kind']; amount: number; remaining: number; expiresAt: string; packId: number | null; productName: string | null }[] | null;
}

export async function getBalance(ctx: LedgerContext, user: string): Promise<Balance> {
  const ref = parseUserRef(user);
  const now = ctx.now();
  const read = () =>
    ctx.db.query<BalanceRow>(
      `select ${seat_columns}, m.slack_id as "slackId", m.email, pl.name as "planName",
              sc.quota, sc.remaining, sc.used, sc.pool_used as "poolUsed", sc.overage,
              pr.name as "poolName", pg.amount as "poolAmount", pg.remaining as "poolRemaining", pg.expires_at as "poolExpiresAt",
              pr.member_pool_cap as "poolCap", pd.used as "poolDrawn", gs.grants,
              (select count(*)::int4 from (select 1 from journal j
                 where j.seat_id = s.id and j.occurred_at >= s.cycle_start and j.cycle_start = s.cycle_start and j.kind = 'usage'
                 limit ${forecast_usage_events_min}) e) as "usageEvents"
       from members m join seats s on s.member_id = m.id join plans pl on pl.key = s.plan_key
       left join seat_cycles sc on sc.seat_id = s.id and sc.cycle_start = s.cycle_start
       left join profiles pr on pr.key = s.profile_key
       left join grants pg on pg.source = 'pool' and pg.profile_key = s.profile_key and pg.starts_at <= $2 and pg.expires_at > $2
       left join pool_draws pd on pd.pool_grant_id = pg.id and pd.seat_id = s.id
       -- The seat's grants come in the same round trip: a balance is one query.
       left join lateral (
         select json_agg(json_build_object('id', g.id, 'source', g.source, 'amount', g.amount, 'remaining', g.remaining,
                                           'expiresAt', g.expires_at, 'packId', g.pack_id, 'productName', pp.name) order by g.id) as grants
         from grants g left join packs k on k.id = g.pack_id left join pack_products pp on pp.key = k.product_key
         where g.seat_id = s.id and g.cycle_start = s.cycle_start and g.closed_at is null) gs on true
       where ${'slackId' in ref ? 'm.slack_id = $1' : 'lower(m.email) = $1'}`,
      ['slackId' in ref ? ref.slackId : ref.email, now],
      { name: 'slackId' in ref ? 'balance_by_slack_id' : 'balance_by_email' },
    );
  let [row] = await read();
  if (!row) throw notFound(`${describeUser(ref)} has no seat: add one with PUT /api/v1/seats/${describeUser(ref)}`);
  if (row.status === 'active' && row.cycleEnd.getTime() <= now.getTime()) {
    // The reset has not reached this seat yet: apply it before showing a balance.
    await ctx.db.transaction(async (tx) => {
      const seats = await tx.query<SeatRow>(`select ${seat_columns} from seats s where s.id = $1 for update`, [row!.id]);
      await resetLockedSeats(tx, ctx, seats, now);
    });
    [row] = await read();
  }
  const r = row!;
  const grants = (r.grants ?? []).map((g) => ({ ...g, expiresAt: new Date(g.expiresAt) }));
  const sources: BalanceSource[] = grants.map((g) => ({
    kind: g.source,
    name: g.source === 'plan' ? r.planName : g.source === 'pack' ? (g.productName ?? 'pack') : g.source === 'rollover' ? 'rollover' : 'manual grant',
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
    status: r.status,
    plan: r.planKey,
    profile: r.profileKey,
    cycle: { start: r.cycleStart.toISOString(), end: r.cycleEnd.toISOString(), name: cycleAt(r.cycleStart, r.anchorDay, ctx.settings.zone).name },
    quota: r.quota ?? 0,
    used,
    remaining,
    pool_used: r.poolUsed ?? 0,
    pool_available: poolAvailable,
    overage: r.overage ?? 0,
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

/** The member's latest journal entries in their current cycle, newest first. */
export async function getHistory(ctx: LedgerContext, user: string, limit = history_entries_max): Promise<HistoryEntry[]> {
  const ref = parseUserRef(user);
  const rows = await ctx.db.query<{ id: number; kind: string; occurredAt: Date; credits: number | null; ownDrawn: number | null; poolDrawn: number | null; overage: number | null; feature: string | null; reason: string | null; actor: string | null }>(
    `select j.id, j.kind, j.occurred_at as "occurredAt", j.credits, j.own_drawn as "ownDrawn", j.pool_drawn as "poolDrawn",
            j.overage, j.feature, j.reason, j.actor
     from members m join seats s on s.member_id = m.id
     join journal j on j.seat_id = s.id and j.cycle_start = s.cycle_start
     where ${'slackId' in ref ? 'm.slack_id = $1' : 'lower(m.email) = $1'}
     order by j.occurred_at desc, j.id desc limit $2`,
    ['slackId' in ref ? ref.slackId : ref.email, Math.min(limit, history_entries_max)],
  );
  return rows.map((r) => ({
    id: r.id, kind: r.kind, at: r.occurredAt.toISOString(), credits: r.credits, own: r.ownDrawn, pool: r.poolDrawn,
    overage: r.overage, feature: r.feature, reason: r.reason, actor: r.actor,
  }));
}
