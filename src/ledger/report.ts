// The admin report for one cycle: a row per member from the balance rows of the seat cycles
// that start in that month, with totals, as JSON or CSV.
import type { LedgerContext } from './context.ts';
import { DateTime } from 'luxon';
import { cycleNamed } from './cycles.ts';
import { loadTools, toolCycleAt, type Tool } from './tools.ts';

export interface ReportRow {
  user: string;
  slack_id: string | null;
  email: string | null;
  /** The member's name where known (the seat import fills it in). */
  name: string | null;
  /** The seat's plans, joined with "+" when it holds several. */
  plan: string;
  plans: string[];
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
  /** Record mode: credits used beyond the seat's daily limit this cycle. */
  over_daily_limit: number;
}

export interface Report {
  cycle: string;
  /** The tool reported on, its name and unit. */
  tool: string;
  tool_name: string;
  unit: string;
  rows: ReportRow[];
  totals: Pick<ReportRow, 'quota' | 'used' | 'remaining' | 'pool_used' | 'overage' | 'expired' | 'forfeited' | 'over_daily_limit'> & {
    /** Overage priced at the tool's overage_unit_cost; null when it has none. */
    overage_cost: number | null;
    /** The tool's overage budget per cycle and what of it is left this cycle; null when it has none. */
    overage_budget: { amount: number; remaining: number } | null;
  };
}

/** The tool a report covers: the one named, else the org's only one (LedgerError invalid otherwise). */
async function reportTool(ctx: LedgerContext, toolKey: string | null | undefined): Promise<Tool> {
  return (await loadTools(ctx.db, ctx.settings)).pick(toolKey, 'a report');
}

/** The month `YYYY-MM` in a tool's zone: every seat cycle of the tool that starts in it. */
const monthOf = (name: string, tool: Tool) => cycleNamed(name, 1, tool.zone);

/**
 * The admin report for one tool and cycle (`YYYY-MM`: every seat cycle of the tool starting in
 * that month of its zone; default: the tool's current cycle). Credits in the tool's unit.
 */
export async function buildReport(ctx: LedgerContext, cycleName?: string, toolKey?: string | null): Promise<Report> {
  const tool = await reportTool(ctx, toolKey);
  const name = cycleName ?? toolCycleAt(tool, ctx.now()).name;
  // Seats anchor on different days; "YYYY-MM" is every seat cycle that starts in that month.
  const month = monthOf(name, tool);
  const rows = await ctx.db.query<{
    slackId: string | null; email: string | null; name: string | null; plans: string[]; profile: string | null; cycleStart: Date;
    quota: number; used: number; remaining: number; poolUsed: number; overage: number; expired: number; forfeited: number; overDaily: number;
  }>(
    `select m.slack_id as "slackId", m.email, m.name, array(select sp.plan_key from seat_plans sp where sp.seat_id = s.id order by sp.plan_key) as plans,
            s.profile_key as profile, sc.cycle_start as "cycleStart",
            sc.quota, sc.used, sc.remaining, sc.pool_used as "poolUsed", sc.overage, sc.expired, sc.forfeited,
            coalesce((select sum(d.over_limit) from seat_days d where d.seat_id = s.id and d.day >= (sc.cycle_start at time zone $4)::date
                      and d.day < (sc.cycle_end at time zone $4)::date), 0)::int8 as "overDaily"
     from seat_cycles sc join seats s on s.id = sc.seat_id join members m on m.id = s.member_id
     where sc.cycle_start >= $1 and sc.cycle_start < $2 and s.tool_key = $3
     order by sc.used + sc.pool_used + sc.overage desc, m.id`,
    [month.start, month.end, tool.key, tool.zone],
  );
  const [budget] = await ctx.db.query<{ remaining: number }>(
    `select remaining from grants where source = 'budget' and tool_key = $1 and cycle_start >= $2 and cycle_start < $3 order by cycle_start limit 1`,
    [tool.key, month.start, month.end],
  );
  const reportRows = rows.map((r): ReportRow => {
    const used = r.used + r.poolUsed + r.overage;
    return {
      user: r.slackId ?? r.email ?? '',
      slack_id: r.slackId,
      email: r.email,
      name: r.name,
      plan: r.plans.join('+'),
      plans: r.plans,
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
      over_daily_limit: r.overDaily,
    };
  });
  const sum = (key: 'quota' | 'used' | 'remaining' | 'pool_used' | 'overage' | 'expired' | 'forfeited' | 'over_daily_limit') =>
    reportRows.reduce((total, row) => total + row[key], 0);
  const overage = sum('overage');
  return {
    cycle: name,
    tool: tool.key,
    tool_name: tool.name,
    unit: tool.unit,
    rows: reportRows,
    totals: {
      quota: sum('quota'), used: sum('used'), remaining: sum('remaining'), pool_used: sum('pool_used'),
      overage, expired: sum('expired'), forfeited: sum('forfeited'), over_daily_limit: sum('over_daily_limit'),
      overage_cost: tool.overageUnitCost == null ? null : Math.round(overage * Number(tool.overageUnitCost) * 100) / 100,
      overage_budget: tool.overageBudget == null ? null : { amount: tool.overageBudget, remaining: budget?.remaining ?? 0 },
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

/** The org's cycle named `YYYY-MM`, day by day in the org's zone: credits used, null for days to come. */
export async function dailyUsage(ctx: LedgerContext, cycleName: string, toolKey?: string | null): Promise<{ day: string; used: number | null }[]> {
  const tool = await reportTool(ctx, toolKey);
  const zone = tool.zone;
  const cycle = cycleNamed(cycleName, tool.anchorDay, zone);
  const rows = await ctx.db.query<{ day: string; used: number }>(
    `select to_char(j.occurred_at at time zone $3, 'YYYY-MM-DD') as day, sum(j.credits)::int8 as used
     from journal j join seats s on s.id = j.seat_id
     where j.kind = 'usage' and j.occurred_at >= $1 and j.occurred_at < $2 and s.tool_key = $4 group by 1`,
    [cycle.start, cycle.end, zone, tool.key],
  );
  const used = new Map(rows.map((r) => [r.day, r.used]));
  const today = DateTime.fromJSDate(ctx.now(), { zone }).toISODate()!;
  const days: { day: string; used: number | null }[] = [];
  for (let d = DateTime.fromJSDate(cycle.start, { zone }); d.toMillis() < cycle.end.getTime(); d = d.plus({ days: 1 })) {
    const day = d.toISODate()!;
    days.push({ day, used: day > today ? null : (used.get(day) ?? 0) });
  }
  return days;
}

export interface Breakage {
  /** The cycle (`YYYY-MM`) whose seat cycles these credits expired from. */
  cycle: string;
  /** Credits that expired unused in the seat cycles starting that month. */
  expired: number;
  /** Of those, credits from packs, and what they cost at the purchases' unit costs. */
  packCredits: number;
  packCost: number | null;
}

/** The cycle before `YYYY-MM`, by name. */
export function previousCycleName(cycleName: string): string {
  return DateTime.fromFormat(cycleName, 'yyyy-MM', { zone: 'utc' }).minus({ months: 1 }).toFormat('yyyy-MM');
}

/** What a cycle's unused credits cost: only packs carry a price; plan credits come with the seat. */
export async function breakage(ctx: LedgerContext, cycleName: string, toolKey?: string | null): Promise<Breakage> {
  const tool = await reportTool(ctx, toolKey);
  const month = monthOf(cycleName, tool);
  const [row] = await ctx.db.query<{ expired: number; packCredits: number; packCost: string | null }>(
    `select (select coalesce(sum(sc.expired), 0) from seat_cycles sc join seats s on s.id = sc.seat_id
             where sc.cycle_start >= $1 and sc.cycle_start < $2 and s.tool_key = $3)::int8 as expired,
            coalesce(sum(t.amount), 0)::int8 as "packCredits",
            sum(t.amount * p.unit_cost / pp.credits)::numeric(14, 2)::text as "packCost"
     from transfers t join grants g on g.id = t.debit_grant_id
     join packs k on k.id = g.pack_id join purchases p on p.id = k.purchase_id join pack_products pp on pp.key = k.product_key
     where t.credit_account = 'expiry' and g.seat_id is not null and g.cycle_start >= $1 and g.cycle_start < $2 and pp.tool_key = $3`,
    [month.start, month.end, tool.key],
  );
  return { cycle: cycleName, expired: row!.expired, packCredits: row!.packCredits, packCost: row!.packCost == null ? null : Number(row!.packCost) };
}

export interface PackMove {
  product: string;
  credits: number;
  from: string;
  fromPctUsed: number;
  to: string;
  /** Day of the cycle (1 = its first) on which the receiver ran out of their own credits. */
  ranOutOnDay: number;
}

/** Packs sitting on members who barely used their credits, and members who ran dry: who to move. */
export async function packAdvice(ctx: LedgerContext, cycleName: string, idlePctMax = 25, toolKey?: string | null): Promise<PackMove[]> {
  const tool = await reportTool(ctx, toolKey);
  const month = monthOf(cycleName, tool);
  const idle = await ctx.db.query<{ who: string; pct: number; product: string; credits: number }>(
    `select coalesce(m.slack_id, m.email) as who, round(100.0 * (sc.used + sc.pool_used + sc.overage) / nullif(sc.quota, 0))::int8 as pct,
            pp.name as product, pp.credits
     from seat_cycles sc join seats s on s.id = sc.seat_id join members m on m.id = s.member_id
     join grants g on g.seat_id = sc.seat_id and g.cycle_start = sc.cycle_start and g.source = 'pack'
     join packs k on k.id = g.pack_id join pack_products pp on pp.key = k.product_key
     where sc.cycle_start >= $1 and sc.cycle_start < $2 and sc.quota > 0 and s.tool_key = $4
       and (sc.used + sc.pool_used + sc.overage) * 100 <= sc.quota * $3
     order by pct, pp.credits desc`,
    [month.start, month.end, idlePctMax, tool.key],
  );
  const dry = await ctx.db.query<{ who: string; ranOutOnDay: number }>(
    `select coalesce(m.slack_id, m.email) as who,
            -- Days as the org counts them: in its zone, not the database session's.
            ((min(j.occurred_at) at time zone $3)::date - (sc.cycle_start at time zone $3)::date + 1)::int8 as "ranOutOnDay"
     from seat_cycles sc join seats s on s.id = sc.seat_id join members m on m.id = s.member_id
     join journal j on j.seat_id = sc.seat_id and j.cycle_start = sc.cycle_start and j.kind = 'usage' and j.pool_drawn + j.overage > 0
     where sc.cycle_start >= $1 and sc.cycle_start < $2 and s.tool_key = $4
     group by 1, sc.cycle_start order by 2`,
    [month.start, month.end, tool.zone, tool.key],
  );
  // The first to run out gets the idlest pack, each pack moved once, never to its own holder: a
  // member who ran out and was then given a pack can be both idle and dry in one cycle.
  const moves: PackMove[] = [];
  const given = new Set<number>();
  for (const receiver of dry) {
    const i = idle.findIndex((pack, k) => !given.has(k) && pack.who !== receiver.who);
    if (i < 0) continue;
    given.add(i);
    const pack = idle[i]!;
    moves.push({ product: pack.product, credits: pack.credits, from: pack.who, fromPctUsed: pack.pct, to: receiver.who, ranOutOnDay: receiver.ranOutOnDay });
  }
  return moves;
}

export interface ChargebackRow {
  group: string | null;
  seats: number;
  quota: number;
  used: number;
  remaining: number;
  overage: number;
  /** This group's share of what the packs granting to its seats cost, where purchases have a unit cost; null if none. */
  packCost: number | null;
}

/**
 * Splits `total` into whole parts proportional to `weights` that add up to `total` exactly
 * (largest remainder: each part is rounded down, and the units left over go to the parts that
 * lost most, the first of equals first). Equal parts when every weight is zero.
 */
export function apportion(total: bigint, weights: readonly bigint[]): bigint[] {
  const sum = weights.reduce((a, b) => a + b, 0n);
  const shares = sum === 0n ? weights.map(() => 1n) : weights;
  const whole = sum === 0n ? BigInt(weights.length) : sum;
  const parts = shares.map((w) => (total * w) / whole);
  const order = shares.map((w, i) => ({ i, rest: (total * w) % whole })).sort((a, b) => (b.rest > a.rest ? 1 : b.rest < a.rest ? -1 : a.i - b.i));
  let left = total - parts.reduce((a, b) => a + b, 0n);
  for (const { i } of order) {
    if (left <= 0n) break;
    parts[i]! += 1n;
    left -= 1n;
  }
  return parts;
}

/** Unit costs are numeric(14, 4): money is counted in ten-thousandths here, and reported in cents. */
const cost_units_per_cent = 100n;
const toCostUnits = (text: string) => {
  const [whole, fraction = ''] = text.split('.');
  return BigInt(whole!) * 10_000n + (whole!.startsWith('-') ? -1n : 1n) * BigInt(fraction.padEnd(4, '0').slice(0, 4));
};

/**
 * The cycle's report grouped by profile or by a member attribute (such as department), with
 * what the packs cost. Every pack's cost is attributed once: a pack that granted credits to
 * seats of several groups in the seat cycles starting that month (it moved from one member to
 * another) is split among them in proportion to the credits it granted to each group's seats
 * (a pack that gave Marketing 2,000 and then carried the 1,500 left to Design costs Marketing
 * 4/7 and Design 3/7 of its unit cost). The groups' shares are rounded to cents so that they add
 * up to what the packs cost. Packs that granted nothing that month (free all cycle) and packs
 * without a unit cost are charged to no one.
 */
export async function chargeback(
  ctx: LedgerContext, cycleName: string, groupBy: { profile: true } | { attribute: string }, toolKey?: string | null,
): Promise<ChargebackRow[]> {
  const tool = await reportTool(ctx, toolKey);
  const month = monthOf(cycleName, tool);
  const group = 'profile' in groupBy ? 's.profile_key' : `m.attributes ->> $4`;
  const params: unknown[] = [month.start, month.end, tool.key, ...('attribute' in groupBy ? [groupBy.attribute] : [])];
  const cycles = `select ${group} as grp, sc.* from seat_cycles sc join seats s on s.id = sc.seat_id join members m on m.id = s.member_id
                  where sc.cycle_start >= $1 and sc.cycle_start < $2 and s.tool_key = $3`;
  const rows = await ctx.db.query<Omit<ChargebackRow, 'packCost'>>(
    `select c.grp as "group", count(*)::int8 as seats, sum(c.quota)::int8 as quota, sum(c.used + c.pool_used + c.overage)::int8 as used,
            sum(c.remaining)::int8 as remaining, sum(c.overage)::int8 as overage
     from (${cycles}) c group by c.grp order by c.grp nulls last`,
    params,
  );
  const granted = await ctx.db.query<{ grp: string | null; packId: number; credits: number; unitCost: string }>(
    `select c.grp, g.pack_id as "packId", sum(g.amount)::int8 as credits, p.unit_cost::text as "unitCost"
     from (${cycles}) c join grants g on g.seat_id = c.seat_id and g.cycle_start = c.cycle_start and g.source = 'pack'
     join packs k on k.id = g.pack_id join purchases p on p.id = k.purchase_id
     where p.unit_cost is not null
     group by c.grp, g.pack_id, p.unit_cost order by g.pack_id, c.grp nulls last`,
    params,
  );
  const key = (grp: string | null) => grp ?? '\u0000none';
  const costs = new Map<string, bigint>();
  const byPack = new Map<number, typeof granted>();
  for (const row of granted) byPack.set(row.packId, [...(byPack.get(row.packId) ?? []), row]);
  for (const shares of byPack.values()) {
    const parts = apportion(toCostUnits(shares[0]!.unitCost), shares.map((s) => BigInt(s.credits)));
    shares.forEach((s, i) => costs.set(key(s.grp), (costs.get(key(s.grp)) ?? 0n) + parts[i]!));
  }
  // Rounded to cents as a whole, so the groups add up to the packs' total to the cent.
  const charged = rows.filter((r) => costs.has(key(r.group)));
  const total = charged.reduce((sum, r) => sum + costs.get(key(r.group))!, 0n);
  const cents = apportion((total + cost_units_per_cent / 2n) / cost_units_per_cent, charged.map((r) => costs.get(key(r.group))!));
  const centsOf = new Map(charged.map((r, i) => [key(r.group), cents[i]!]));
  return rows.map((r) => {
    const c = centsOf.get(key(r.group));
    return { ...r, packCost: c == null ? null : Number(c) / 100 };
  });
}

/** The report with everything the admin could not see: breakage, pack advice, chargeback. */
export async function fullReport(ctx: LedgerContext, cycleName: string | undefined, groupBy?: string, toolKey?: string | null) {
  const report = await buildReport(ctx, cycleName, toolKey);
  const [lost, advice, groups] = await Promise.all([
    breakage(ctx, report.cycle, report.tool),
    packAdvice(ctx, report.cycle, undefined, report.tool),
    groupBy ? chargeback(ctx, report.cycle, groupBy === 'profile' ? { profile: true } : { attribute: groupBy.replace(/^attribute:/, '') }, report.tool) : null,
  ]);
  return { ...report, breakage: lost, advice, ...(groups ? { chargeback: groups } : {}) };
}
