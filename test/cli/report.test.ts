// creditdesk report: one tool's report, named with --tool once the org has several tools.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseReportArgs, runReport } from '../../src/cli/report.ts';
import { describeEachDatabase, TestClock, testLedger } from '../helpers/db.ts';
import { useLedger } from '../helpers/ledger-harness.ts';
import { commandDatabase } from './command.ts';

const csv_header = 'user,email,plan,profile,cycle_start,quota,used,remaining,pool_used,overage,expired,forfeited,pct_used';

describeEachDatabase('creditdesk report on %s', (kind) => {
  const h = useLedger(kind, { start: '2026-05-20T12:00:00Z' });

  /** Jacob holds an Adobe seat in the first tool and a Copilot seat; Maya only Copilot. */
  const setup = async () => {
    h.clock.advance(1000);
    await h.ledger.putTool('copilot', { name: 'Copilot premium requests', unit: 'premium requests' });
    await h.ledger.putPlan('cc-pro', { name: 'Creative Cloud Pro', credits: 4000, tool: 'default' });
    await h.ledger.putPlan('copilot-business', { name: 'Copilot Business', credits: 300, tool: 'copilot' });
    await h.ledger.putSeat('U0JACOB01', { plan: 'cc-pro', email: 'jacob@example.com' });
    await h.ledger.putSeat('U0JACOB01', { plan: 'copilot-business' });
    await h.ledger.putSeat('U0MAYA001', { plan: 'copilot-business', email: 'maya@example.com' });
    await h.ledger.recordUsage({ id: 'ps-1', user: 'U0JACOB01', tool: 'default', credits: 1000 });
    await h.ledger.recordUsage({ id: 'cp-1', user: 'U0JACOB01', tool: 'copilot', credits: 120 });
  };

  it('refuses, with several tools and none named, in one line listing the tool keys', async () => {
    await setup();
    expect(await runReport(h.ledger, { csv: false })).toEqual({ code: 2, error: 'report: name the tool with --tool KEY, one of default, copilot' });
    expect(await runReport(h.ledger, { csv: true, tool: 'figma' })).toEqual({ code: 2, error: 'report: there is no tool figma; the tools are default, copilot' });
  });

  it("reports the named tool's members only, in its unit, as CSV", async () => {
    await setup();
    expect(await runReport(h.ledger, { csv: true, tool: 'copilot', cycle: '2026-05' })).toEqual({
      code: 0,
      out: [
        csv_header,
        'U0JACOB01,jacob@example.com,copilot-business,,2026-05-01T00:00:00.000Z,300,120,180,0,0,0,0,40',
        'U0MAYA001,maya@example.com,copilot-business,,2026-05-01T00:00:00.000Z,300,0,300,0,0,0,0,0',
        '',
      ].join('\n'),
    });
  });

  it("reports the named tool as JSON with its breakage, advice and chargeback", async () => {
    await setup();
    const report = await runReport(h.ledger, { csv: false, tool: 'default', groupBy: 'profile' });
    expect(report.code).toBe(0);
    const json = JSON.parse((report as { out: string }).out);
    expect(json).toMatchObject({ cycle: '2026-05', tool: 'default', tool_name: 'AI credits', unit: 'credits', totals: { quota: 4000, used: 1000 } });
    expect(json.rows.map((r: { user: string }) => r.user)).toEqual(['U0JACOB01']);
    expect(Object.keys(json)).toEqual(expect.arrayContaining(['breakage', 'advice', 'chargeback']));
  });

  it('needs no --tool while the org has one tool', async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putSeat('U0JACOB01', { plan: 'pro', email: 'jacob@example.com' });
    expect(await runReport(h.ledger, { csv: true })).toEqual({
      code: 0,
      out: `${csv_header}\nU0JACOB01,jacob@example.com,pro,,2026-05-01T00:00:00.000Z,4000,0,4000,0,0,0,0,0\n`,
    });
  });
});

describe('the report command line', () => {
  it('reads the cycle, --tool, --csv and --group-by, and says what is wrong in one line', () => {
    expect(parseReportArgs(['2026-05', '--tool', 'copilot', '--csv'])).toEqual({ cycle: '2026-05', tool: 'copilot', csv: true, groupBy: undefined });
    expect(parseReportArgs([])).toEqual({ cycle: undefined, tool: undefined, csv: false, groupBy: undefined });
    expect(parseReportArgs(['2026-5'])).toBe('the cycle must look like 2026-05, got 2026-5');
    expect(parseReportArgs(['2026-05', '2026-06'])).toBe('name at most one cycle, got 2026-05 2026-06');
    expect(parseReportArgs(['--group-by', 'team'])).toBe('--group-by takes profile or attribute:<name>, such as attribute:department');
    expect(parseReportArgs(['--tool'])).toBe("Option '--tool <value>' argument missing; report takes [YYYY-MM] [--tool KEY] [--csv] [--group-by profile|attribute:NAME]");
    expect(parseReportArgs(['--tools', 'copilot'])).toBe("Unknown option '--tools'; report takes [YYYY-MM] [--tool KEY] [--csv] [--group-by profile|attribute:NAME]");
  });

  it('exits 2 with one line naming the tools when an org of several tools asks for a report without --tool', async () => {
    const { db, env, remove } = await commandDatabase();
    try {
      await testLedger(db, new TestClock(new Date())).putTool('copilot', { name: 'Copilot premium requests' });
      await db.close();
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'report', '--csv'], {
        env: { PATH: process.env.PATH, ...env },
        encoding: 'utf8',
      });
      expect(run.stderr).toBe('report: name the tool with --tool KEY, one of default, copilot\n');
      expect(run.stdout).toBe('');
      expect(run.status).toBe(2);
    } finally {
      await remove();
    }
  });
});
