// /credits report end to end: what the admin reads in Slack, and the CSV and chart delivered to
// their DM through Slack's upload flow (files.getUploadURLExternal, then completeUploadExternal).
import { HttpResponse } from 'msw';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Report, ReportRow } from '../../src/ledger/report.ts';
import { reportMessage } from '../../src/slack/blocks/report.ts';
import { answers, calls, responses, uploads, useSlackApp } from './helpers.ts';

const sections = (message: Record<string, any>) => (message.blocks as any[]).map((b) => b.text.text as string);

describe('/credits report', () => {
  const h = useSlackApp('pglite', '2026-04-10T12:00:00Z');
  const { clock } = h;

  beforeEach(async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putPackProduct('addon', { name: 'Add-on 2,000', credits: 2000, kind: 'recurring' });
    await h.ledger.recordPurchase({ product: 'addon', quantity: 1, unitCost: '120.00' });
    await h.ledger.putSeat('U0LENA001', { plan: 'pro' });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
    await h.ledger.assignPack({ product: 'addon', user: 'U0LENA001' });
    await h.ledger.recordUsage({ id: 'lena-april', user: 'U0LENA001', credits: 180 });
  });

  it("shows, for the cycle still running, what expired unused last cycle and what its packs cost", async () => {
    clock.set('2026-05-10T12:00:00Z'); // April closed and its grace window is over
    await h.ledger.runCycleJobs();
    await h.slack.command('U0ADMIN01', 'report');
    // Lena left 3,820 of her plan and the whole 2,000 pack; Maya all 4,000 of hers.
    expect(sections(responses.at(-1)!)).toContain('*Expired unused in 2026-04:* 9,820 credits, 2,000 of them from packs that cost 120.00.');
  });

  it('uploads the CSV and the chart with Slack\'s two-step flow, into the admin\'s DM', async () => {
    await h.slack.command('U0ADMIN01', 'report 2026-04');
    const fileCalls = calls.filter((c) => c.method.startsWith('files.'));
    expect(fileCalls.map((c) => c.method)).toEqual(['files.getUploadURLExternal', 'files.getUploadURLExternal', 'files.completeUploadExternal']);
    const [csvUrl, pngUrl, complete] = fileCalls.map((c) => c.args);
    expect([csvUrl!.filename, pngUrl!.filename]).toEqual(['creditdesk-2026-04.csv', 'creditdesk-2026-04.png']);
    expect(complete!.channel_id).toBe('DU0ADMIN01');
    // Completing names exactly the files uploaded to the URLs Slack handed out.
    expect(JSON.parse(complete!.files).map((f: { id: string }) => f.id).sort()).toEqual(uploads.map((u) => u.id).sort());
    const bodies = uploads.map((u) => u.bytes);
    expect(bodies.some((b) => b.includes('\nU0LENA001,,pro,,2026-04-01T00:00:00.000Z,6000,180,5820,'))).toBe(true);
    expect(bodies.some((b) => b.includes(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))).toBe(true);
  });

  it('still shows the summary when Slack refuses the upload, and says why the files are missing', async () => {
    answers.set('files.getUploadURLExternal', () => HttpResponse.json({ ok: false, error: 'missing_scope' }));
    await h.slack.command('U0ADMIN01', 'report 2026-04');
    const reply = responses.at(-1)!;
    expect(reply.text).toBe(
      'Cycle 2026-04: 180 of 10,000 credits used. The CSV and the chart could not be sent to your DM (missing_scope); `creditdesk report` gives the same table.',
    );
    expect(sections(reply)[0]).toMatch(/^\*Cycle 2026-04\*: 2 seats · 180 of 10,000 used/);
  });
});

describe('the report message', () => {
  const row = (i: number): ReportRow => ({
    user: `U0M${String(i).padStart(6, '0')}`, slack_id: `U0M${String(i).padStart(6, '0')}`, email: null, name: null, plan: 'pro', plans: ['pro'], profile: null,
    cycle_start: '2026-05-01T00:00:00.000Z', quota: 4000, used: 3900, remaining: 100, pool_used: 0, overage: 0, expired: 0, forfeited: 0, pct_used: 97.5,
    over_daily_limit: 0,
  });

  it('stays within Slack\'s section size when hundreds of members are over 80 %, pointing to the CSV for the rest', () => {
    const rows = Array.from({ length: 300 }, (_, i) => row(i));
    const report: Report = {
      cycle: '2026-05', tool: 'default', tool_name: 'AI credits', unit: 'credits', rows,
      totals: { quota: 1_200_000, used: 1_170_000, remaining: 30_000, pool_used: 0, overage: 0, expired: 0, forfeited: 0, over_daily_limit: 0, overage_cost: null, overage_budget: null },
    };
    const shown = sections(reportMessage(report));
    for (const text of shown) expect(text.length).toBeLessThanOrEqual(3000);
    expect(shown.find((t) => t.startsWith('*Over 80 %:*'))).toMatch(/<@U0M000039>, and 260 more \(the CSV has everyone\)$/);
  });
});
