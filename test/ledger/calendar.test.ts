// Cycles: anchor days, short months and DST, as pure functions of (anchor, zone, instant).
import { describe, expect, it } from 'vitest';
import { cycleAt, cycleNamed, daysLeft } from '../../src/ledger/cycles.ts';

describe('billing cycles', () => {
  it('runs from the anchor day at 00:00 in the org zone to the same moment a month later', () => {
    const cycle = cycleAt(new Date('2026-05-20T10:00:00Z'), 15, 'UTC');
    expect([cycle.start.toISOString(), cycle.end.toISOString(), cycle.name]).toEqual([
      '2026-05-15T00:00:00.000Z', '2026-06-15T00:00:00.000Z', '2026-05',
    ]);
    expect(cycleAt(new Date('2026-05-14T23:59:59Z'), 15, 'UTC').name).toBe('2026-04');
  });

  it('uses the last day of a short month for anchor day 31, and comes back to the 31st after it', () => {
    const feb = cycleAt(new Date('2027-03-01T00:00:00Z'), 31, 'UTC');
    expect([feb.start.toISOString(), feb.end.toISOString()]).toEqual(['2027-02-28T00:00:00.000Z', '2027-03-31T00:00:00.000Z']);
    const leap = cycleAt(new Date('2028-02-29T12:00:00Z'), 30, 'UTC');
    expect(leap.start.toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(cycleAt(new Date('2027-01-31T00:00:00Z'), 31, 'UTC').end.toISOString()).toBe('2027-02-28T00:00:00.000Z');
  });

  it('cuts cycles at local midnight across a DST change', () => {
    // Europe/Berlin moves from UTC+1 to UTC+2 on 2026-03-29.
    const march = cycleAt(new Date('2026-03-15T12:00:00Z'), 1, 'Europe/Berlin');
    expect([march.start.toISOString(), march.end.toISOString()]).toEqual(['2026-02-28T23:00:00.000Z', '2026-03-31T22:00:00.000Z']);
    // America/New_York falls back on 2026-11-01: the November cycle starts at 04:00Z, December's at 05:00Z.
    const nov = cycleAt(new Date('2026-11-15T12:00:00Z'), 1, 'America/New_York');
    expect([nov.start.toISOString(), nov.end.toISOString()]).toEqual(['2026-11-01T04:00:00.000Z', '2026-12-01T05:00:00.000Z']);
  });

  it('starts a cycle at the first instant of the day where DST skips midnight', () => {
    // America/Santiago springs forward at 00:00 on 2026-09-06: that day begins at 01:00 local.
    const cycle = cycleAt(new Date('2026-09-10T12:00:00Z'), 6, 'America/Santiago');
    expect(cycle.start.toISOString()).toBe('2026-09-06T04:00:00.000Z');
  });

  it('names a cycle by the month it starts in, and counts the days left in it', () => {
    const may = cycleNamed('2026-05', 1, 'UTC');
    expect([may.start.toISOString(), may.end.toISOString()]).toEqual(['2026-05-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z']);
    expect(() => cycleNamed('2026-13', 1, 'UTC')).toThrow(/must look like 2026-05/);
    expect(daysLeft(may, new Date('2026-05-10T12:00:00Z'), 'UTC')).toEqual({ left: 22, total: 31 });
  });
});
