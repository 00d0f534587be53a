// The admin report for one cycle: a row per member from the balance rows of the seat cycles
// that start in that month, with totals, as JSON or CSV.
import type { LedgerContext } from './context.ts';
import { cycleAt, cycleNamed } from './cycles.ts';

export interface ReportRow {
  user: string;
  slack_id: string | null;
  email: string | null;
  plan: string;
  profile: string | null;
  cycle_start: string;
  quota: number;
  used: number;
  remaining: number;
  pool_used: number;
  overage: number;
  expired: number;
  forfeited: number;
  pct_used: number;
}

export interface Report {
  cycle: string;
  rows: ReportRow[];
  totals: Pick<ReportRow, 'quota' | 'used' | 'remaining' | 'pool_used' | 'overage' | 'expired' | 'forfeited'>;
}

export async function buildReport(ctx: LedgerContext, cycleName?: string): Promise<Report> {
  const { zone, anchorDay } = ctx.settings;
  const name = cycleName ?? cycleAt(ctx.now(), anchorDay, zone).name;
  // Seats anchor on different days; "YYYY-MM" is every seat cycle that starts in that month.
  const month = cycleNamed(name, 1, zone);
  const rows = await ctx.db.query<{
    slackId: string | null; email: string | null; plan: string; profile: string | null; cycleStart: Date;
    quota: number; used: number; remaining: number; poolUsed: number; overage: number; expired: number; forfeited: number;
  }>(
    `select m.slack_id as "slackId", m.email, s.plan_key as plan, s.profile_key as profile, sc.cycle_start as "cycleStart",
            sc.quota, sc.used, sc.remaining, sc.pool_used as "poolUsed", sc.overage, sc.expired, sc.forfeited
     from seat_cycles sc join seats s on s.id = sc.seat_id join members m on m.id = s.member_id
     where sc.cycle_start >= $1 and sc.cycle_start < $2
     order by sc.used + sc.pool_used + sc.overage desc, m.id`,
    [month.start, month.end],
  );
  const reportRows = rows.map((r): ReportRow => {
    const used = r.used + r.poolUsed + r.overage;
    return {
      user: r.slackId ?? r.email ?? '',
      slack_id: r.slackId,
      email: r.email,
      plan: r.plan,
      profile: r.profile,
      cycle_start: r.cycleStart.toISOString(),
      quota: r.quota,
      used,
      remaining: r.remaining,
      pool_used: r.poolUsed,
      overage: r.overage,
      expired: r.expired,
      forfeited: r.forfeited,
      pct_used: r.quota > 0 ? Math.round((used * 1000) / r.quota) / 10 : 0,
    };
  });
  const sum = (key: keyof Report['totals']) => reportRows.reduce((total, row) => total + row[key], 0);
  return {
    cycle: name,
    rows: reportRows,
    totals: {
      quota: sum('quota'), used: sum('used'), remaining: sum('remaining'), pool_used: sum('pool_used'),
      overage: sum('overage'), expired: sum('expired'), forfeited: sum('forfeited'),
    },
  };
}

const csv_columns: (keyof ReportRow)[] = [
  'user', 'email', 'plan', 'profile', 'cycle_start', 'quota', 'used', 'remaining', 'pool_used', 'overage', 'expired', 'forfeited', 'pct_used',
];

function csvField(value: unknown): string {
  const text = value == null ? '' : String(value);
  // Quote what needs it, and defuse formulas a spreadsheet would run.
  const safe = /^[=+\-@\t\r]/.test(text) && !/^-?\d/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function reportCsv(report: Report): string {
  const lines = [csv_columns.join(',')];
  for (const row of report.rows) lines.push(csv_columns.map((c) => csvField(row[c])).join(','));
  return lines.join('\n') + '\n';
}
