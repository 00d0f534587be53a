// Tools: each vendor credit system the org governs (SPEC "Several tools"). A tool carries its own
// unit, time zone and anchor day (defaulting to the environment's), catalog, pools and overage
// budget. While an org has exactly one tool no call needs to name it; with several, a call that
// cannot tell which tool it means is refused with the tool keys.
import type { Queryable } from '../db/client.ts';
import type { Tool as ToolRow } from '../db/schema.ts';
import type { LedgerContext, LedgerSettings } from './context.ts';
import { cycleAt, isTimeZone, type Cycle } from './cycles.ts';
import { invalid, notFound } from './errors.ts';
import { applyBudgetChange } from './reset.ts';

/** The tool a database created before tools existed holds, owning everything it had. */
export const default_tool_key = 'default';

/** A tool with its zone and anchor day resolved against the environment's defaults. */
export interface Tool {
  key: string;
  name: string;
  unit: string;
  /** IANA zone of the tool's cycles and daily limits. */
  zone: string;
  /** Default anchor day of its seats (1-31), and the day its pools and overage budget renew. */
  anchorDay: number;
  /** Overage the org allows per tool cycle, in the tool's unit; null: none in enforce mode, unbudgeted in record mode. */
  overageBudget: number | null;
  /** Price of one unit of overage, as a decimal string; null when unknown. */
  overageUnitCost: string | null;
  syncNudge: boolean;
  /** Whether the stored row leaves zone or anchor day to the environment. */
  followsEnvironment: { zone: boolean; anchorDay: boolean };
}

export const tool_columns = `t.key, t.name, t.unit, t.time_zone as "timeZone", t.anchor_day as "anchorDay",
  t.overage_budget as "overageBudget", t.overage_unit_cost as "overageUnitCost", t.sync_nudge as "syncNudge",
  t.cycle_start as "cycleStart", t.created_at as "createdAt", t.updated_at as "updatedAt"`;

export function resolveTool(row: ToolRow, settings: LedgerSettings): Tool {
  return {
    key: row.key,
    name: row.name,
    unit: row.unit,
    zone: row.timeZone ?? settings.zone,
    anchorDay: row.anchorDay ?? settings.anchorDay,
    overageBudget: row.overageBudget,
    overageUnitCost: row.overageUnitCost,
    syncNudge: row.syncNudge,
    followsEnvironment: { zone: row.timeZone == null, anchorDay: row.anchorDay == null },
  };
}

/** Every tool, by key. A handful of rows: read whole where a decision needs them. */
export class Tools {
  constructor(readonly byKey: ReadonlyMap<string, Tool>) {}

  get size(): number {
    return this.byKey.size;
  }

  get list(): Tool[] {
    return [...this.byKey.values()];
  }

  keys(): string {
    return [...this.byKey.keys()].join(', ');
  }

  /** The tool a key names; a LedgerError (not_found) naming the tools there are otherwise. */
  get(key: string): Tool {
    const tool = this.byKey.get(key);
    if (!tool) throw notFound(`there is no tool ${key}; the tools are ${this.keys()}`);
    return tool;
  }

  /**
   * The tool a call means: the one it names, else the org's only tool. With several tools and
   * none named, a LedgerError (invalid) that lists the tool keys (SPEC "Several tools").
   */
  pick(key: string | null | undefined, what: string): Tool {
    if (key) return this.get(key);
    if (this.byKey.size === 1) return this.byKey.values().next().value!;
    throw invalid(`${what} must name its tool: one of ${this.keys()}`);
  }
}

export async function loadTools(tx: Queryable, settings: LedgerSettings): Promise<Tools> {
  const rows = await tx.query<ToolRow>(`select ${tool_columns} from tools t order by t.created_at, t.key`);
  return new Tools(new Map(rows.map((row) => [row.key, resolveTool(row, settings)])));
}

/** The tool's own cycle containing `at`: its pools and overage budget renew on it. */
export const toolCycleAt = (tool: Tool, at: Date): Cycle => cycleAt(at, tool.anchorDay, tool.zone);

export interface ToolInput {
  name: string;
  unit?: string | null;
  timeZone?: string | null;
  anchorDay?: number | null;
  overageBudget?: number | null;
  overageUnitCost?: string | null;
  syncNudge?: boolean | null;
}

/**
 * Creates or updates a tool. Fields left out keep what the tool had (a new tool: unit
 * "credits", the environment's zone and anchor day, no budget). A changed overage budget applies
 * to the running tool cycle at once; a changed zone or anchor day from each seat's next cycle.
 */
export async function putTool(ctx: LedgerContext, key: string, input: ToolInput): Promise<Tool> {
  if (input.timeZone != null && !isTimeZone(input.timeZone)) throw invalid(`time_zone must be an IANA time zone such as Europe/Berlin, got ${input.timeZone}`);
  const now = ctx.now();
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx.query<ToolRow>(
      `insert into tools as t (key, name, unit, time_zone, anchor_day, overage_budget, overage_unit_cost, sync_nudge, created_at, updated_at)
       values ($1, $2, coalesce($3, 'credits'), $4, $5, $6, $7, coalesce($8, false), $9, $9)
       on conflict (key) do update set name = excluded.name,
         unit = case when $3::text is null then t.unit else excluded.unit end,
         time_zone = case when $10 then excluded.time_zone else t.time_zone end,
         anchor_day = case when $11 then excluded.anchor_day else t.anchor_day end,
         overage_budget = case when $12 then excluded.overage_budget else t.overage_budget end,
         overage_unit_cost = case when $13 then excluded.overage_unit_cost else t.overage_unit_cost end,
         sync_nudge = case when $8::boolean is null then t.sync_nudge else excluded.sync_nudge end,
         updated_at = excluded.updated_at
       returning ${tool_columns}`,
      [
        key, input.name, input.unit ?? null, input.timeZone ?? null, input.anchorDay ?? null, input.overageBudget ?? null,
        input.overageUnitCost ?? null, input.syncNudge ?? null, now,
        input.timeZone !== undefined, input.anchorDay !== undefined, input.overageBudget !== undefined, input.overageUnitCost !== undefined,
      ],
    );
    await applyBudgetChange(tx, ctx, key, now);
    return resolveTool(row!, ctx.settings);
  });
}

export async function listTools(ctx: LedgerContext): Promise<Tool[]> {
  return (await loadTools(ctx.db, ctx.settings)).list;
}
