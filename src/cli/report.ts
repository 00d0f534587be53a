// creditdesk report: the admin report of one tool's cycle as JSON or CSV. With several tools the
// command must name one (SPEC "Several tools"); the arguments are checked before any report is built.
import { parseArgs } from 'node:util';
import type { Ledger } from '../ledger/index.ts';
import { fullReport, reportCsv } from '../ledger/report.ts';

export interface ReportArgs {
  /** `YYYY-MM`; undefined: the tool's current cycle. */
  cycle?: string;
  /** The tool's key; undefined: the org's only tool. */
  tool?: string;
  csv: boolean;
  /** `profile` or `attribute:NAME`: adds chargeback per group to the JSON. */
  groupBy?: string;
}

const report_usage = '[YYYY-MM] [--tool KEY] [--csv] [--group-by profile|attribute:NAME]';

/** The command's arguments (without `report` itself), or the one-line reason they are wrong. */
export function parseReportArgs(args: readonly string[]): ReportArgs | string {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { csv: { type: 'boolean' }, 'group-by': { type: 'string' }, tool: { type: 'string' } },
      allowPositionals: true,
    });
  } catch (error) {
    // Node's parseArgs words the fault in its first sentence; the rest is advice that does not apply.
    return `${(error as Error).message.split('. ')[0]}; report takes ${report_usage}`;
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) return `name at most one cycle, got ${positionals.join(' ')}`;
  const cycle = positionals[0];
  if (cycle && !/^\d{4}-(0[1-9]|1[0-2])$/.test(cycle)) return `the cycle must look like 2026-05, got ${cycle}`;
  const groupBy = values['group-by'];
  if (groupBy && !/^(profile|attribute:.+)$/.test(groupBy)) return '--group-by takes profile or attribute:<name>, such as attribute:department';
  return { cycle, tool: values.tool, csv: values.csv ?? false, groupBy };
}

/**
 * The report the arguments ask for: `out` is the JSON (with breakage, pack advice and, grouped,
 * chargeback) or the CSV, in the tool's unit. Code 2 with a one-line `error` naming the tool keys
 * when the tool is unknown, or when the org has several tools and none is named.
 */
export async function runReport(ledger: Ledger, args: ReportArgs): Promise<{ code: 0; out: string } | { code: 2; error: string }> {
  const tools = await ledger.loadTools();
  if (args.tool !== undefined && !tools.byKey.has(args.tool)) {
    return { code: 2, error: `report: there is no tool ${args.tool}; the tools are ${tools.keys()}` };
  }
  if (args.tool === undefined && tools.size > 1) {
    return { code: 2, error: `report: name the tool with --tool KEY, one of ${tools.keys()}` };
  }
  const tool = args.tool ?? tools.list[0]!.key;
  if (args.csv) return { code: 0, out: reportCsv(await ledger.report(args.cycle, tool)) };
  return { code: 0, out: `${JSON.stringify(await fullReport(ledger.ctx, args.cycle, args.groupBy, tool), null, 2)}\n` };
}
