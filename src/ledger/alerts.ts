// Threshold alerts, raised in the same transaction as the usage that crossed them, into the
// outbox. Each alert has a dedupe key (seat, cycle, threshold), so it exists once per cycle
// however often the usage is replayed; the dispatcher in jobs/ sends it.
import type { Queryable } from '../db/client.ts';
import type { LedgerContext } from './context.ts';
import { forecast_usage_events_min, forecastRunOut, type ForecastStatus } from './forecast.ts';

/** At these percentages of a member's own quota the alert channel hears of it too. */
export const channel_thresholds_pct = [90, 100] as const;
/** A pool crossing these percentages of its cycle grant alerts the channel. */
export const pool_thresholds_pct = [75, 90, 100] as const;
/** A tool's overage budget alerts like a pool (SPEC "Overage budget"). */
export const budget_thresholds_pct = pool_thresholds_pct;
/** Seats the threshold sweep locks and checks in one transaction. */
const sweep_seats_per_transaction_max = 1_000;

/** The tool an alert is about, as people know it. */
export interface AlertTool {
  key: string;
  name: string;
  /** "credits", "premium requests". */
  unit: string;
}

export interface MemberThresholdAlert {
  kind: 'member_threshold';
  tool: AlertTool;
  /** Who is told: the member by DM, or the alert channel. */
  audience: 'member' | 'channel';
  slackId: string | null;
  email: string | null;
  threshold: number;
  quota: number;
  consumed: number;
  remaining: number;
  poolUsed: number;
  overage: number;
  cycleStart: string;
  resetsAt: string;
  /** At the burn rate so far this cycle, when own credits run out; null if they last the cycle or there is too little history. */
  runsOutAt: string | null;
  /** What the forecast says (see forecastRunOut); absent from alerts queued before it was added. */
  forecast?: ForecastStatus;
}

export interface PoolThresholdAlert {
  kind: 'pool_threshold';
  tool: AlertTool;
  profileKey: string;
  threshold: number;
  amount: number;
  remaining: number;
  resetsAt: string;
}

/** A tool's overage budget crossing a threshold of what the org allows this tool cycle. */
export interface BudgetThresholdAlert {
  kind: 'budget_threshold';
  tool: AlertTool;
  threshold: number;
  amount: number;
  remaining: number;
  resetsAt: string;
}

export type AlertPayload = MemberThresholdAlert | PoolThresholdAlert | BudgetThresholdAlert;

/** The thresholds crossed going from `before` to `after` percent, in ascending order. */
export function crossed(thresholds: readonly number[], beforePct: number, afterPct: number): number[] {
  return thresholds.filter((t) => t > beforePct && t <= afterPct);
}

/**
 * Queues the alerts that the seat cycles in `touched` and the pool or budget grants in
 * `sharedGrantIds` have crossed and not yet announced, in the caller's transaction.
 */
export async function raiseThresholdAlerts(
  tx: Queryable,
  ctx: LedgerContext,
  touched: readonly { seatId: number; cycleStart: Date }[],
  sharedGrantIds: readonly number[],
  now: Date,
): Promise<void> {
  const member = ctx.settings.thresholds;
  const all = [...new Set([...member, ...channel_thresholds_pct])].sort((a, b) => a - b);
  const rows = await tx.query<{
    seatId: number; cycleStart: Date; cycleEnd: Date; quota: number; used: number; poolUsed: number; overage: number;
    remaining: number; alertsSent: number; slackId: string | null; email: string | null; startedAt: Date; revoked: boolean; usageEvents: number;
    tool: AlertTool;
  }>(
    `select sc.seat_id as "seatId", sc.cycle_start as "cycleStart", sc.cycle_end as "cycleEnd", sc.quota, sc.used,
            sc.pool_used as "poolUsed", sc.overage, sc.remaining, sc.alerts_sent as "alertsSent", m.slack_id as "slackId", m.email,
            s.started_at as "startedAt", s.status = 'revoked' as revoked,
            (select count(*)::int4 from (select 1 from journal j
               where j.seat_id = sc.seat_id and j.occurred_at >= sc.cycle_start and j.cycle_start = sc.cycle_start and j.kind = 'usage'
               limit ${forecast_usage_events_min}) e) as "usageEvents",
            json_build_object('key', tl.key, 'name', tl.name, 'unit', tl.unit) as tool
     from seat_cycles sc join unnest($1::int4[], $2::timestamptz[]) as t(seat_id, cycle_start)
          on sc.seat_id = t.seat_id and sc.cycle_start = t.cycle_start
     join seats s on s.id = sc.seat_id join members m on m.id = s.member_id join tools tl on tl.key = s.tool_key`,
    [touched.map((t) => t.seatId), touched.map((t) => t.cycleStart)],
  );
  const outbox: { key: string; payload: AlertPayload }[] = [];
  const levels: { seatId: number; cycleStart: Date; pct: number }[] = [];
  for (const row of rows) {
    if (row.quota <= 0) continue;
    const consumed = row.used + row.poolUsed + row.overage;
    const pct = (consumed * 100) / row.quota;
    const fresh = crossed(all, row.alertsSent, pct);
    if (fresh.length === 0) continue;
    levels.push({ seatId: row.seatId, cycleStart: row.cycleStart, pct: fresh.at(-1)! });
    const forecast = forecastRunOut({
      consumed, available: row.remaining, usageEvents: row.usageEvents, cycleStart: row.cycleStart, cycleEnd: row.cycleEnd,
      seatStartedAt: row.startedAt, revoked: row.revoked, now,
    });
    for (const threshold of fresh) {
      const base = {
        kind: 'member_threshold' as const,
        tool: row.tool,
        slackId: row.slackId,
        email: row.email,
        threshold,
        quota: row.quota,
        consumed,
        remaining: row.remaining,
        poolUsed: row.poolUsed,
        overage: row.overage,
        cycleStart: row.cycleStart.toISOString(),
        resetsAt: row.cycleEnd.toISOString(),
        runsOutAt: forecast.runsOutAt?.toISOString() ?? null,
        forecast: forecast.status,
      };
      const cycleKey = `${row.seatId}:${row.cycleStart.toISOString()}:${threshold}`;
      if (member.includes(threshold)) outbox.push({ key: `member:${cycleKey}`, payload: { ...base, audience: 'member' } });
      if ((channel_thresholds_pct as readonly number[]).includes(threshold)) {
        outbox.push({ key: `channel:${cycleKey}`, payload: { ...base, audience: 'channel' } });
      }
    }
  }
  if (sharedGrantIds.length > 0) {
    const shared = await tx.query<{ id: number; source: 'pool' | 'budget'; profileKey: string | null; amount: number; remaining: number; expiresAt: Date; tool: AlertTool }>(
      `select g.id, g.source, g.profile_key as "profileKey", g.amount, g.remaining, g.expires_at as "expiresAt",
              json_build_object('key', tl.key, 'name', tl.name, 'unit', tl.unit) as tool
       from grants g left join profiles p on p.key = g.profile_key join tools tl on tl.key = coalesce(g.tool_key, p.tool_key)
       where g.id = any($1::int8[])`,
      [sharedGrantIds],
    );
    for (const grant of shared) {
      if (grant.amount <= 0) continue;
      const pct = ((grant.amount - grant.remaining) * 100) / grant.amount;
      const thresholds = grant.source === 'pool' ? pool_thresholds_pct : budget_thresholds_pct;
      for (const threshold of crossed(thresholds, 0, pct)) {
        const common = { tool: grant.tool, threshold, amount: grant.amount, remaining: grant.remaining, resetsAt: grant.expiresAt.toISOString() };
        outbox.push(
          grant.source === 'pool'
            ? { key: `pool:${grant.id}:${threshold}`, payload: { kind: 'pool_threshold', profileKey: grant.profileKey!, ...common } }
            : { key: `budget:${grant.id}:${threshold}`, payload: { kind: 'budget_threshold', ...common } },
        );
      }
    }
  }
  if (levels.length > 0) {
    await tx.query(
      `update seat_cycles s set alerts_sent = greatest(s.alerts_sent, d.pct)
       from unnest($1::int4[], $2::timestamptz[], $3::int2[]) as d(seat_id, cycle_start, pct)
       where s.seat_id = d.seat_id and s.cycle_start = d.cycle_start`,
      [levels.map((l) => l.seatId), levels.map((l) => l.cycleStart), levels.map((l) => l.pct)],
    );
  }
  if (outbox.length > 0) {
    await tx.query(
      `insert into outbox (kind, dedupe_key, payload, created_at, available_at)
       select d.payload->>'kind', d.key, d.payload, $3, $3 from unnest($1::text[], $2::jsonb[]) as d(key, payload)
       on conflict (dedupe_key) do nothing`,
      [outbox.map((o) => o.key), outbox.map((o) => JSON.stringify(o.payload)), now],
    );
  }
}

/**
 * Alerts for thresholds crossed without usage: a debit or an unassigned pack lowers a quota, so
 * the share already used rises with no event to raise them. The cycle job runs this; seats are
 * locked in id order like every writer, and alerts_sent plus the dedupe keys keep each alert once.
 */
export async function sweepThresholdAlerts(ctx: LedgerContext, now: Date = ctx.now()): Promise<number> {
  const all = [...new Set([...ctx.settings.thresholds, ...channel_thresholds_pct])];
  let seats = 0;
  for (;;) {
    const locked = await ctx.db.transaction(async (tx) => {
      const due = await tx.query<{ seatId: number; cycleStart: Date }>(
        `select s.id as "seatId", sc.cycle_start as "cycleStart"
         from seats s join seat_cycles sc on sc.seat_id = s.id and sc.cycle_start = s.cycle_start
         where s.status = 'active' and sc.cycle_end > $2 and sc.quota > 0
           and exists (select 1 from unnest($1::int4[]) t(pct)
                       where t.pct > sc.alerts_sent and (sc.used + sc.pool_used + sc.overage) * 100 >= t.pct::int8 * sc.quota)
         order by s.id limit $3 for update of s`,
        [all, now, sweep_seats_per_transaction_max],
      );
      if (due.length > 0) await raiseThresholdAlerts(tx, ctx, due, [], now);
      return due.length;
    });
    seats += locked;
    // Each swept seat's alerts_sent now covers what it has used, so it is not picked again.
    if (locked < sweep_seats_per_transaction_max) return seats;
  }
}
