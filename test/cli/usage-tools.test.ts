// import-usage in an org of several tools, and rows dated by a day alone: a row's tool comes from
// its tool column, else --tool, else the only tool; a date alone is that day at 12:00 in the tool's
// zone, or the import's time while 12:00 is still to come, and the same file imported again, that
// day or later, is all duplicates.
import { describe, expect, it } from 'vitest';
import { importUsage, usageImportSummary, usageTime } from '../../src/cli/import-usage.ts';
import { LedgerError } from '../../src/ledger/errors.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { hour_ms, useLedger } from '../helpers/ledger-harness.ts';

describeEachDatabase('import-usage with several tools on %s', (kind) => {
  const h = useLedger(kind, { start: '2026-11-16T10:00:00Z' });

  /** Figma and Copilot beside the database's first tool, default; Maya holds a seat in each. */
  const setup = async () => {
    await h.ledger.putTool('figma', { name: 'Figma AI credits' });
    h.clock.advance(1000);
    await h.ledger.putTool('copilot', { name: 'Copilot premium requests', unit: 'premium requests' });
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000, tool: 'default' });
    await h.ledger.putPlan('figma-full', { name: 'Figma Full seat', credits: 4250, tool: 'figma' });
    await h.ledger.putPlan('copilot-business', { name: 'Copilot Business', credits: 300, tool: 'copilot' });
    for (const plan of ['pro', 'figma-full', 'copilot-business']) await h.ledger.putSeat('U0MAYA001', { plan, email: 'maya@example.com' });
    // 04:25 UTC on the 20th: noon of the day is still to come.
    h.clock.set('2026-11-20T04:25:00Z');
  };
  const used = async (tool: string) => (await h.ledger.balance('U0MAYA001', tool)).used;
  const occurredAt = async () =>
    (await h.db.query<{ at: Date }>(`select occurred_at as at from journal where event_key is not null order by id`)).map((r) => new Date(r.at).toISOString());

  it('reads each row\'s tool from its tool column, in any case, and refuses by line a row naming no tool or an unknown one', async () => {
    await setup();
    const csv = [
      'email,credits,date,tool,feature',
      'maya@example.com,120,2026-11-19,figma,make designs',
      'maya@example.com,30,2026-11-19T09:00:00Z,Copilot,',
      'maya@example.com,50,2026-11-19,default,',
      'maya@example.com,7,2026-11-19,,',
      'maya@example.com,9,2026-11-19,adobe,',
    ].join('\n');
    const first = await importUsage(h.ledger, csv);
    expect(first).toEqual({
      rows: 5,
      applied: 3,
      duplicate: 0,
      rejected: [
        { line: 5, reason: 'names no tool: give it one in a tool column, or import the file with --tool KEY, one of default, figma, copilot' },
        { line: 6, reason: 'tool "adobe" is not a tool here; the tools are default, figma, copilot' },
      ],
    });
    expect([await used('default'), await used('figma'), await used('copilot')]).toEqual([50, 120, 30]);
    const again = await importUsage(h.ledger, csv);
    expect(usageImportSummary(again).split('\n')[0]).toBe('import-usage: applied 0 usage events; 3 imported before; 2 of 5 rows failed');
    expect([await used('default'), await used('figma'), await used('copilot')]).toEqual([50, 120, 30]);
  });

  it('gives --tool to the rows that name none, keeps each tool\'s rows apart, and refuses a row naming another tool', async () => {
    await setup();
    const csv = 'email,credits,date\nmaya@example.com,40,2026-11-19\n';
    expect(await importUsage(h.ledger, csv, { tool: 'figma' })).toEqual({ rows: 1, applied: 1, duplicate: 0, rejected: [] });
    // The same row in another tool's file is another use, not a repeat.
    expect(await importUsage(h.ledger, csv, { tool: 'copilot' })).toEqual({ rows: 1, applied: 1, duplicate: 0, rejected: [] });
    expect(await importUsage(h.ledger, csv, { tool: 'figma' })).toEqual({ rows: 1, applied: 0, duplicate: 1, rejected: [] });
    const mixed = 'email,credits,date,tool\nmaya@example.com,5,2026-11-19,figma\nmaya@example.com,6,2026-11-19,copilot\n';
    expect(await importUsage(h.ledger, mixed, { tool: 'figma' })).toEqual({
      rows: 2,
      applied: 1,
      duplicate: 0,
      rejected: [{ line: 3, reason: 'names the tool copilot, but --tool is figma: import each tool\'s rows with its own --tool, or leave --tool out' }],
    });
    expect([await used('default'), await used('figma'), await used('copilot')]).toEqual([0, 45, 40]);
  });

  it('refuses a --tool that is no tool, listing the tool keys, and writes nothing', async () => {
    await setup();
    const attempt = importUsage(h.ledger, 'email,credits,date\nmaya@example.com,40,2026-11-19\n', { tool: 'adobe' });
    await expect(attempt).rejects.toThrow(LedgerError);
    await expect(attempt).rejects.toThrow('there is no tool adobe; the tools are default, figma, copilot');
    expect(await used('figma')).toBe(0);
  });

  it('applies a row dated today at 04:25 UTC at the time of the import, and the same file again, that day or later, is all duplicates', async () => {
    await setup();
    const csv = 'email,credits,date,tool\nmaya@example.com,25,2026-11-20,figma\nmaya@example.com,10,2026-11-19,figma\nmaya@example.com,3,2026-11-21,figma\n';
    expect(await importUsage(h.ledger, csv)).toEqual({
      rows: 3,
      applied: 2,
      duplicate: 0,
      rejected: [{ line: 4, reason: 'at 2026-11-21T12:00:00.000Z is in the future; send the time the credits were used' }],
    });
    expect(await occurredAt()).toEqual(['2026-11-20T04:25:00.000Z', '2026-11-19T12:00:00.000Z']);
    h.clock.advance(5 * hour_ms); // 09:25, still before noon
    expect(await importUsage(h.ledger, csv)).toMatchObject({ applied: 0, duplicate: 2 });
    h.clock.set('2026-11-22T15:00:00Z');
    expect(await importUsage(h.ledger, csv)).toMatchObject({ applied: 1, duplicate: 2, rejected: [] });
    expect(await occurredAt()).toEqual(['2026-11-20T04:25:00.000Z', '2026-11-19T12:00:00.000Z', '2026-11-21T12:00:00.000Z']);
    expect(await used('figma')).toBe(38);
  });

  it('reads a date alone in an org of one tool as before: a tool column naming it, or none', async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro', email: 'maya@example.com' });
    h.clock.set('2026-11-20T04:25:00Z');
    expect(await importUsage(h.ledger, 'email,credits,date\nmaya@example.com,25,2026-11-20\n')).toMatchObject({ applied: 1, rejected: [] });
    expect(await importUsage(h.ledger, 'email,credits,date,tool\nmaya@example.com,25,2026-11-20,default\n', { tool: 'default' })).toMatchObject({ applied: 0, duplicate: 1 });
    expect(await used('default')).toBe(25);
  });
});

describe('the time of a usage row', () => {
  const zones = { org: 'UTC', tool: 'America/Los_Angeles' };
  const iso = (time: { at: Date; nominal: Date } | null) => time && { at: time.at.toISOString(), nominal: time.nominal.toISOString() };

  it("reads a date alone as that day in the tool's zone: 12:00, or the import's time while 12:00 is still to come that day", () => {
    // 10:00 UTC is 02:00 in Los Angeles on the 20th; its noon is 20:00 UTC.
    expect(iso(usageTime('2026-11-20', zones, new Date('2026-11-20T10:00:00Z')))).toEqual({ at: '2026-11-20T10:00:00.000Z', nominal: '2026-11-20T12:00:00.000Z' });
    expect(iso(usageTime('2026-11-20', zones, new Date('2026-11-21T10:00:00Z')))).toEqual({ at: '2026-11-20T20:00:00.000Z', nominal: '2026-11-20T12:00:00.000Z' });
    // 05:00 UTC is still the 19th in Los Angeles: the 20th is a later day, kept at its noon (and refused as in the future).
    expect(iso(usageTime('2026-11-20', zones, new Date('2026-11-20T05:00:00Z')))).toEqual({ at: '2026-11-20T20:00:00.000Z', nominal: '2026-11-20T12:00:00.000Z' });
  });

  it('takes a full time as given, and refuses what is not a date', () => {
    expect(iso(usageTime('2026-11-20T09:30:00Z', zones, new Date('2026-11-21T00:00:00Z')))).toEqual({ at: '2026-11-20T09:30:00.000Z', nominal: '2026-11-20T09:30:00.000Z' });
    expect(usageTime('yesterday', zones, new Date('2026-11-21T00:00:00Z'))).toBeNull();
  });
});
