// When a cron schedule's run is due: the latest time it names in the org's zone, read as wall-clock
// times across DST changes, so a run whose time fell in a gap or repeats still happens once.
import cron from 'node-cron';
import { describe, expect, it } from 'vitest';
import { latestOccurrence } from '../../src/jobs/runs.ts';

const berlin = 'Europe/Berlin';

describe('the latest occurrence of a cron schedule', () => {
  it('is the latest time the expression names at or before now, in the org\'s zone', () => {
    // Mondays 09:00 in Berlin (summer time, UTC+2): on Wednesday 13 May the latest is Monday the 11th.
    expect(latestOccurrence('0 9 * * 1', berlin, new Date('2026-05-13T10:00:00Z'))).toEqual({ at: new Date('2026-05-11T07:00:00Z'), local: '2026-05-11T09:00:00' });
    expect(latestOccurrence('0 9 * * 1', berlin, new Date('2026-05-11T07:00:00Z'))!.local).toBe('2026-05-11T09:00:00');
    expect(latestOccurrence('0 9 * * 1', berlin, new Date('2026-05-11T06:59:59Z'))!.local).toBe('2026-05-04T09:00:00');
    expect(latestOccurrence('0 9 1 * *', 'UTC', new Date('2026-05-13T10:00:00Z'))!.local).toBe('2026-05-01T09:00:00');
    expect(latestOccurrence('0 0 29 2 *', 'UTC', new Date('2026-05-13T10:00:00Z'))).toBeNull(); // 2024's is more than a year back
  });

  it('places a time that falls in the spring-forward gap after the gap, where node-cron never fires it', () => {
    // On 29 March 2026 Berlin's clocks jump from 02:00 to 03:00: 02:30 never shows on them.
    const gap = Array.from({ length: 180 }, (_, i) => new Date(Date.parse('2026-03-29T00:00:00Z') + i * 60_000));
    const nodeCron = cron.createTask('30 2 * * 0', () => {}, { timezone: berlin });
    expect(gap.filter((minute) => nodeCron.match(minute))).toEqual([]);
    void nodeCron.destroy();
    // The run due at 02:30 comes at 03:30 summer time (01:30 UTC), shifted by the gap's hour.
    expect(latestOccurrence('30 2 * * 0', berlin, new Date('2026-03-29T01:29:00Z'))!.local).toBe('2026-03-22T02:30:00');
    expect(latestOccurrence('30 2 * * 0', berlin, new Date('2026-03-29T01:30:00Z'))).toEqual({ at: new Date('2026-03-29T01:30:00Z'), local: '2026-03-29T02:30:00' });
  });

  it('gives a time the autumn night repeats once, at its first instant', () => {
    // On 25 October 2026 Berlin's clocks go back from 03:00 to 02:00: 02:30 shows at 00:30 and at 01:30 UTC.
    const first = { at: new Date('2026-10-25T00:30:00Z'), local: '2026-10-25T02:30:00' };
    expect(latestOccurrence('30 2 * * 0', berlin, new Date('2026-10-25T00:30:00Z'))).toEqual(first);
    expect(latestOccurrence('30 2 * * 0', berlin, new Date('2026-10-25T01:30:00Z'))).toEqual(first);
    expect(latestOccurrence('30 2 * * 0', berlin, new Date('2026-10-25T01:35:00Z'))).toEqual(first);
  });

  it('reads days and weekdays as node-cron does, last day of the month included', () => {
    expect(latestOccurrence('0 18 L * *', 'UTC', new Date('2026-05-13T10:00:00Z'))!.local).toBe('2026-04-30T18:00:00');
    expect(latestOccurrence('0 9 * * MON-FRI', 'UTC', new Date('2026-05-17T10:00:00Z'))!.local).toBe('2026-05-15T09:00:00');
  });
});
