// /credits report end to end: what the admin reads in Slack, and the CSV and chart delivered to
// their DM through Slack's upload flow (files.getUploadURLExternal, then completeUploadExternal).
import { HttpResponse } from 'msw';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import type { Ledger } from '../../src/ledger/index.ts';
import type { Report, ReportRow } from '../../src/ledger/report.ts';
import { reportMessage } from '../../src/slack/blocks/report.ts';
import { emptyDatabase, openTestDatabase, TestClock, testLedger } from '../helpers/db.ts';
import { answers, calls, mockSlack, reset, responses, startSlackApp, uploads } from './helpers.ts';

const sections = (message: Record<string, any>) => (message.blocks as any[]).map((b) => b.text.text as string);

describe('/credits report', () => {
  let db: Database;
  let ledger: Ledger;
  let slack: Awaited<ReturnType<typeof startSlackApp>>;
  const clock = new TestClock(new Date('2026-04-10T12:00:00Z'));

  beforeAll(async () => {
    mockSlack.listen({ onUnhandledRequest: (request, print) => (new URL(request.url).hostname === '127.0.0.1' ? undefined : print.error()) });
    db = await openTestDatabase('pglite');
    ledger = testLedger(db, clock);
    slack = await startSlackApp(ledger);
  });
  afterAll(async () => {
    await slack.close();
    await db.close();
    mockSlack.close();
  });
  beforeEach(async () => {
    await emptyDatabase(db);
    reset();
    clock.set('2026-04-10T12:00:00Z');
    await ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await ledger.putPackProduct('addon', { name: 'Add-on 2,000', credits: 2000, kind: 'recurring' });
    await ledger.recordPurchase({ product: 'addon', quantity: 1, unitCost: '120.00' });
    await ledger.putSeat('U0LENA001', { plan: 'pro' });
    await ledger.putSeat('U0MAYA001', { plan: 'pro' });
    await ledger.assignPack({ product: 'addon', user: 'U0LENA001' });
    await ledger.recordUsage({ id: 'lena-april', user: 'U0LENA001', credits: 180 });
  });

  it("shows, for the cycle still running, what expired unused last cycle and what its packs cost", async () => {
    clock.set('2026-05-10T12:00:00Z'); // April closed and its grace window is over
    await ledger.runCycleJobs();
    await slack.command('U0ADMIN01', 'report');
    // Lena left 3,820 of her plan and the whole 2,000 pack; Maya all 4,000 of hers.
    expect(sections(responses.at(-1)!)).toContain('*Expired unused in 2026-04:* 9,820 credits, 2,000 of them from packs that cost 120.00.');
  });

  it('uploads the CSV and the chart with Slack\'s two-step flow, into the admin\'s DM', async () => {
    await slack.command('U0ADMIN01', 'report 2026-04');
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
    await slack.command('U0ADMIN01', 'report 2026-04');
    const reply = responses.at(-1)!;
    expect(reply.text).toBe(
      'Cycle 2026-04: 180 of 10,000 credits used. The CSV and the chart could not be sent to your DM (missing_scope); `creditdesk report` gives the same table.',
    );
    expect(sections(reply)[0]).toMatch(/^\*Cycle 2026-04\*: 2 seats · 180 of 10,000 used/);
  });
});

describe('the report message', () => {
  const row = (i: number): ReportRow => ({
    user: `U0M${String(i).padStart(6, '0')}`, slack_id: `U0M${String(i).padStart(6, '0')}`, email: null, name: null, plan: 'pro', profile: null,
    cycle_start: '2026-05-01T00:00:00.000Z', quota: 4000, used: 3900, remaining: 100, pool_used: 0, overage: 0, expired: 0, forfeited: 0, pct_used: 97.5,
  });

  it('stays within Slack\'s section size when hundreds of members are over 80 %, pointing to the CSV for the rest', () => {
    const rows = Array.from({ length: 300 }, (_, i) => row(i));
    const report: Report = { cycle: '2026-05', rows, totals: { quota: 1_200_000, used: 1_170_000, remaining: 30_000, pool_used: 0, overage: 0, expired: 0, forfeited: 0 } };
    const shown = sections(reportMessage(report));
    for (const text of shown) expect(text.length).toBeLessThanOrEqual(3000);
    expect(shown.find((t) => t.startsWith('*Over 80 %:*'))).toMatch(/<@U0M000039>, and 260 more \(the CSV has everyone\)$/);
  });
});
