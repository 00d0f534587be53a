// The run-out forecast shown in /credits, the App Home and alerts: the member's burn rate so far
// this cycle, carried forward to the day their credits run out.
import { describe, expect, it } from 'vitest';
import { forecastRunOut } from '../../src/ledger/forecast.ts';
import { openTestDatabase, TestClock, testLedger } from '../helpers/db.ts';

describe('the run-out forecast', () => {
  const cycleStart = new Date('2026-05-01T00:00:00Z');
  const cycleEnd = new Date('2026-06-01T00:00:00Z');
  it('projects the day the credits run out at the burn rate so far', () => {
    // 2,000 used in 10 days is 200 a day; 1,000 left lasts 5 more days.
    const f = forecastRunOut({ consumed: 2000, available: 1000, cycleStart, cycleEnd, now: new Date('2026-05-11T00:00:00Z') });
    expect(f.burnPerDay).toBe(200);
    expect(f.runsOutAt?.toISOString()).toBe('2026-05-16T00:00:00.000Z');
  });
  it('says the credits last the cycle when the pace never reaches zero, or nothing was used', () => {
    expect(forecastRunOut({ consumed: 100, available: 3900, cycleStart, cycleEnd, now: new Date('2026-05-11T00:00:00Z') }).runsOutAt).toBeNull();
    expect(forecastRunOut({ consumed: 0, available: 4000, cycleStart, cycleEnd, now: new Date('2026-05-11T00:00:00Z') })).toEqual({ burnPerDay: 0, runsOutAt: null });
  });
  it('measures a seat added mid-cycle from the day it started, not from the start of the cycle', () => {
    // Added on 20 May, 1,500 used by the 21st: 1,500 a day, so the 2,500 left last until 22 May at 16:00.
    const f = forecastRunOut({
      consumed: 1500, available: 2500, cycleStart, cycleEnd, seatStartedAt: new Date('2026-05-20T00:00:00Z'), now: new Date('2026-05-21T00:00:00Z'),
    });
    expect(f.burnPerDay).toBe(1500);
    expect(f.runsOutAt?.toISOString()).toBe('2026-05-22T16:00:00.000Z');
    // A seat that started before this cycle is measured from the cycle's start.
    const old = forecastRunOut({ consumed: 2000, available: 1000, cycleStart, cycleEnd, seatStartedAt: new Date('2026-01-05T00:00:00Z'), now: new Date('2026-05-11T00:00:00Z') });
    expect(old.burnPerDay).toBe(200);
  });
  it('says a member with nothing left has run out now', () => {
    const now = new Date('2026-05-11T00:00:00Z');
    expect(forecastRunOut({ consumed: 4000, available: 0, cycleStart, cycleEnd, now }).runsOutAt).toEqual(now);
  });
});

describe('the forecast in a balance', () => {
  it('tells a member added mid-cycle when they run out at their own pace', async () => {
    const db = await openTestDatabase('pglite');
    const clock = new TestClock(new Date('2026-05-20T00:00:00Z'));
    const ledger = testLedger(db, clock);
    await ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await ledger.putSeat('U0NEWBIE1', { plan: 'pro' });
    await ledger.recordUsage({ id: 'first-day', user: 'U0NEWBIE1', credits: 1500 });
    clock.set('2026-05-21T00:00:00Z');
    expect((await ledger.balance('U0NEWBIE1')).forecast).toEqual({ burn_per_day: 1500, runs_out_at: '2026-05-22T16:00:00.000Z', lasts_the_cycle: false });
    await db.close();
  });
});
