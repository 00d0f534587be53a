// Cycles are pure functions of (anchor day, zone, instant): from the anchor day at 00:00 in the
// org's zone to the same moment a month later; a short month uses its last day; DST-correct.
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { cycleAt, cycleNamed, daysLeft, nextCycle } from '../../src/ledger/cycles.ts';

const iso = (c: { start: Date; end: Date }) => [c.start.toISOString(), c.end.toISOString()];

describe('cycleAt', () => {
  it('runs a cycle with anchor day 1 over the calendar month, 00:00 to 00:00', () => {
    const may = cycleAt(new Date('2026-05-20T10:00:00Z'), 1, 'UTC');
    expect([...iso(may), may.name]).toEqual(['2026-05-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', '2026-05']);
    expect(cycleAt(new Date('2026-12-31T23:59:59.999Z'), 1, 'UTC').end.toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });

  it('puts the boundary instant in the cycle it starts, and the instant before it in the previous one', () => {
    expect(cycleAt(new Date('2026-06-01T00:00:00Z'), 1, 'UTC').name).toBe('2026-06');
    expect(cycleAt(new Date('2026-05-31T23:59:59.999Z'), 1, 'UTC').name).toBe('2026-05');
    expect(cycleAt(new Date('2026-05-14T23:59:59Z'), 15, 'UTC').name).toBe('2026-04');
    expect(iso(cycleAt(new Date('2026-05-15T00:00:00Z'), 15, 'UTC'))).toEqual(['2026-05-15T00:00:00.000Z', '2026-06-15T00:00:00.000Z']);
  });

  it('uses Feb 28 for anchor day 31 in a common year, and comes back to the 31st after it', () => {
    expect(iso(cycleAt(new Date('2027-01-31T00:00:00Z'), 31, 'UTC'))).toEqual(['2027-01-31T00:00:00.000Z', '2027-02-28T00:00:00.000Z']);
    expect(iso(cycleAt(new Date('2027-03-01T00:00:00Z'), 31, 'UTC'))).toEqual(['2027-02-28T00:00:00.000Z', '2027-03-31T00:00:00.000Z']);
    expect(iso(cycleAt(new Date('2027-04-15T00:00:00Z'), 31, 'UTC'))).toEqual(['2027-03-31T00:00:00.000Z', '2027-04-30T00:00:00.000Z']);
    expect(iso(cycleAt(new Date('2027-05-10T00:00:00Z'), 31, 'UTC'))).toEqual(['2027-04-30T00:00:00.000Z', '2027-05-31T00:00:00.000Z']);
  });

  it('uses Feb 29 for anchor day 31 (and 30) in a leap year', () => {
    expect(iso(cycleAt(new Date('2028-03-10T00:00:00Z'), 31, 'UTC'))).toEqual(['2028-02-29T00:00:00.000Z', '2028-03-31T00:00:00.000Z']);
    expect(iso(cycleAt(new Date('2028-02-29T12:00:00Z'), 30, 'UTC'))).toEqual(['2028-02-29T00:00:00.000Z', '2028-03-30T00:00:00.000Z']);
    expect(cycleAt(new Date('2028-02-28T23:59:59Z'), 31, 'UTC').name).toBe('2028-01');
  });

  it('cuts a Europe/Berlin cycle at local midnight across the spring-forward change', () => {
    // Berlin moves from UTC+1 to UTC+2 on 2026-03-29: March starts at 23:00Z, April at 22:00Z.
    const march = cycleAt(new Date('2026-03-15T12:00:00Z'), 1, 'Europe/Berlin');
    expect([...iso(march), march.name]).toEqual(['2026-02-28T23:00:00.000Z', '2026-03-31T22:00:00.000Z', '2026-03']);
    // 00:30 local on April 1 is 22:30Z on March 31: already April's cycle.
    expect(cycleAt(new Date('2026-03-31T22:30:00Z'), 1, 'Europe/Berlin').name).toBe('2026-04');
    expect(cycleAt(new Date('2026-03-31T21:59:59Z'), 1, 'Europe/Berlin').name).toBe('2026-03');
  });

  it('cuts an America/New_York cycle at local midnight across the fall-back change', () => {
    // New York falls back on 2026-11-01 at 02:00: November starts at 04:00Z (EDT), December at 05:00Z (EST).
    const nov = cycleAt(new Date('2026-11-15T12:00:00Z'), 1, 'America/New_York');
    expect(iso(nov)).toEqual(['2026-11-01T04:00:00.000Z', '2026-12-01T05:00:00.000Z']);
    // A cycle anchored on the 1st ends 30 days and one hour after it starts.
    expect(nov.end.getTime() - nov.start.getTime()).toBe(30 * 86_400_000 + 3_600_000);
  });

  it('starts a cycle at the first instant of the day where DST skips midnight', () => {
    // America/Santiago springs forward at 00:00 on 2026-09-06: that day begins at 01:00 local.
    const cycle = cycleAt(new Date('2026-09-10T12:00:00Z'), 6, 'America/Santiago');
    expect(cycle.start.toISOString()).toBe('2026-09-06T04:00:00.000Z');
    expect(DateTime.fromJSDate(cycle.start, { zone: 'America/Santiago' }).toFormat('yyyy-MM-dd HH:mm')).toBe('2026-09-06 01:00');
  });

  it('tiles time: every instant is in exactly one cycle, which starts on the anchor day at the start of that local day', () => {
    const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'America/Santiago', 'Australia/Lord_Howe', 'Asia/Kolkata'];
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2024-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true }),
        fc.integer({ min: 1, max: 31 }),
        fc.constantFrom(...zones),
        (at, anchor, zone) => {
          const cycle = cycleAt(at, anchor, zone);
          expect(cycle.start.getTime()).toBeLessThanOrEqual(at.getTime());
          expect(at.getTime()).toBeLessThan(cycle.end.getTime());
          const start = DateTime.fromJSDate(cycle.start, { zone });
          expect(start.day).toBe(Math.min(anchor, start.daysInMonth!));
          expect(start.toMillis()).toBe(start.startOf('day').toMillis());
          expect(cycle.name).toBe(start.toFormat('yyyy-MM'));
          // The next cycle starts where this one ends, and the one before ends where this one starts.
          expect(nextCycle(cycle, anchor, zone).start.getTime()).toBe(cycle.end.getTime());
          expect(cycleAt(new Date(cycle.start.getTime() - 1), anchor, zone).end.getTime()).toBe(cycle.start.getTime());
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('cycleNamed', () => {
  it("names a cycle by the month it starts in: '2026-05' is May 1 to June 1", () => {
    const may = cycleNamed('2026-05', 1, 'UTC');
    expect([...iso(may), may.name]).toEqual(['2026-05-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z', '2026-05']);
    expect(iso(cycleNamed('2026-05', 1, 'Europe/Berlin'))).toEqual(['2026-04-30T22:00:00.000Z', '2026-05-31T22:00:00.000Z']);
  });

  it('finds the named cycle of a late anchor day in a short month', () => {
    expect(iso(cycleNamed('2027-02', 31, 'UTC'))).toEqual(['2027-02-28T00:00:00.000Z', '2027-03-31T00:00:00.000Z']);
    expect(iso(cycleNamed('2026-12', 20, 'UTC'))).toEqual(['2026-12-20T00:00:00.000Z', '2027-01-20T00:00:00.000Z']);
  });

  it('refuses a name that is not YYYY-MM', () => {
    for (const bad of ['2026-13', '2026-5', '26-05', '2026-05-01', '']) {
      expect(() => cycleNamed(bad, 1, 'UTC')).toThrow(/must look like 2026-05/);
    }
  });
});

describe('daysLeft', () => {
  const may = cycleNamed('2026-05', 1, 'UTC');

  it('counts the day `from` falls on, out of the days in the cycle', () => {
    expect(daysLeft(may, new Date('2026-05-10T12:00:00Z'), 'UTC')).toEqual({ left: 22, total: 31 });
    expect(daysLeft(may, may.start, 'UTC')).toEqual({ left: 31, total: 31 });
    expect(daysLeft(may, new Date('2026-05-31T23:59:59Z'), 'UTC')).toEqual({ left: 1, total: 31 });
  });

  it('never goes below 0 or above the total outside the cycle', () => {
    expect(daysLeft(may, new Date('2026-06-03T00:00:00Z'), 'UTC').left).toBe(0);
    expect(daysLeft(may, new Date('2026-04-03T00:00:00Z'), 'UTC').left).toBe(31);
  });

  it('counts whole local days across a DST change', () => {
    const march = cycleNamed('2026-03', 1, 'Europe/Berlin');
    // March 30, 00:30 local is March 29, 22:30Z: March 30 and 31 are left.
    expect(daysLeft(march, new Date('2026-03-29T22:30:00Z'), 'Europe/Berlin')).toEqual({ left: 2, total: 31 });
    expect(daysLeft(cycleNamed('2027-02', 31, 'UTC'), new Date('2027-03-30T08:00:00Z'), 'UTC')).toEqual({ left: 1, total: 31 });
  });
});
