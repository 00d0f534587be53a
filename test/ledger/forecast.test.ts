// The run-out forecast shown in /credits, the App Home and alerts: the member's burn rate so far
// this cycle, carried forward to the day their credits run out, once there is history enough.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { forecastRunOut } from '../../src/ledger/forecast.ts';
import { describeEachDatabase, emptyDatabase, openTestDatabase, TestClock, testLedger } from '../helpers/db.ts';

describe('the run-out forecast', () => {
  const cycleStart = new Date('2026-05-01T00:00:00Z');
  const cycleEnd = new Date('2026-06-01T00:00:00Z');
  it('projects the day the credits run out at the burn rate so far', () => {
    // 2,000 used in 10 days is 200 a day; 1,000 left lasts 5 more days.
    const f = forecastRunOut({ consumed: 2000, available: 1000, usageEvents: 7, cycleStart, cycleEnd, now: new Date('2026-05-11T00:00:00Z') });
    expect(f).toEqual({ status: 'runs_out', burnPerDay: 200, runsOutAt: new Date('2026-05-16T00:00:00.000Z') });
  });

  it('says the credits last the cycle when the pace never reaches zero', () => {
    expect(forecastRunOut({ consumed: 100, available: 3900, usageEvents: 2, cycleStart, cycleEnd, now: new Date('2026-05-11T00:00:00Z') })).toEqual({
      status: 'lasts_the_cycle', burnPerDay: 10, runsOutAt: null,
    });
  });

  it('measures a seat added mid-cycle from the day it started, not from the start of the cycle', () => {
    // Added on 20 May, 1,500 used by the 21st: 1,500 a day, so the 2,500 left last until 22 May at 16:00.
    const f = forecastRunOut({
      consumed: 1500, available: 2500, usageEvents: 3, cycleStart, cycleEnd, seatStartedAt: new Date('2026-05-20T00:00:00Z'), now: new Date('2026-05-21T00:00:00Z'),
    });
    expect(f).toEqual({ status: 'runs_out', burnPerDay: 1500, runsOutAt: new Date('2026-05-22T16:00:00.000Z') });
    // A seat that started before this cycle is measured from the cycle's start.
    const old = forecastRunOut({
      consumed: 2000, available: 1000, usageEvents: 3, cycleStart, cycleEnd, seatStartedAt: new Date('2026-01-05T00:00:00Z'), now: new Date('2026-05-11T00:00:00Z'),
    });
    expect(old.burnPerDay).toBe(200);
  });

  it('says there is too little history before a day of the seat\'s own time and two usage events', () => {
    const seatStartedAt = new Date('2026-05-20T00:00:00Z');
    const at = (now: string, usageEvents: number) =>
      forecastRunOut({ consumed: 80 * usageEvents, available: 4000 - 80 * usageEvents, usageEvents, cycleStart, cycleEnd, seatStartedAt, now: new Date(now) });
    const too_early = { status: 'too_little_history', burnPerDay: null, runsOutAt: null };
    // One use a minute after the seat was added is not a pace of 115,200 credits a day.
    expect(at('2026-05-20T00:01:00Z', 1)).toEqual(too_early);
    expect(at('2026-05-20T23:59:00Z', 5)).toEqual(too_early);
    expect(at('2026-05-25T00:00:00Z', 1)).toEqual(too_early);
    expect(at('2026-05-25T00:00:00Z', 0)).toEqual(too_early);
    // A day and two uses: 160 a day, and the 3,840 left outlast the 12 days to 1 June.
    expect(at('2026-05-21T00:00:00Z', 2)).toEqual({ status: 'lasts_the_cycle', burnPerDay: 160, runsOutAt: null });
  });

  it('says a member with nothing left has run out now, however short the history', () => {
    const now = new Date('2026-05-11T00:00:00Z');
    expect(forecastRunOut({ consumed: 4000, available: 0, usageEvents: 5, cycleStart, cycleEnd, now })).toEqual({ status: 'runs_out', burnPerDay: 400, runsOutAt: now });
    expect(forecastRunOut({ consumed: 4000, available: 0, usageEvents: 1, cycleStart, cycleEnd, now, seatStartedAt: new Date('2026-05-10T23:00:00Z') })).toEqual({
      status: 'runs_out', burnPerDay: null, runsOutAt: now,
    });
  });

  it('gives a revoked seat no run-out date', () => {
    expect(forecastRunOut({ consumed: 4000, available: 0, usageEvents: 9, cycleStart, cycleEnd, now: new Date('2026-05-11T00:00:00Z'), revoked: true })).toEqual({
      status: 'revoked', burnPerDay: null, runsOutAt: null,
    });
  });
});

describeEachDatabase('the forecast in a balance on %s', (kind) => {
  let db: Database;
  const clock = new TestClock(new Date('2026-05-20T00:00:00Z'));
  const ledger = () => testLedger(db, clock);
  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(async () => db.close());
  beforeEach(async () => {
    await emptyDatabase(db);
    clock.set('2026-05-20T00:00:00Z');
    await ledger().putPlan('pro', { name: 'Pro', credits: 4000 });
  });

  it('tells a member added mid-cycle when they run out at their own pace', async () => {
    const l = ledger();
    await l.putSeat('U0NEWBIE1', { plan: 'pro' });
    await l.recordUsage({ id: 'first', user: 'U0NEWBIE1', credits: 1000 });
    await l.recordUsage({ id: 'second', user: 'U0NEWBIE1', credits: 500 });
    clock.set('2026-05-21T00:00:00Z');
    expect((await l.balance('U0NEWBIE1')).forecast).toEqual({ status: 'runs_out', burn_per_day: 1500, runs_out_at: '2026-05-22T16:00:00.000Z', lasts_the_cycle: false });
  });

  it('says it has too little history minutes after a seat is added and used once', async () => {
    const l = ledger();
    await l.putSeat('U0NEWBIE1', { plan: 'pro' });
    clock.set('2026-05-20T00:01:00Z');
    await l.recordUsage({ id: 'first', user: 'U0NEWBIE1', credits: 80 });
    expect((await l.balance('U0NEWBIE1')).forecast).toEqual({ status: 'too_little_history', burn_per_day: null, runs_out_at: null, lasts_the_cycle: false });
    // A day on, one use is still not a pace; a second one makes it one.
    clock.set('2026-05-21T00:00:00Z');
    expect((await l.balance('U0NEWBIE1')).forecast.status).toBe('too_little_history');
    await l.recordUsage({ id: 'second', user: 'U0NEWBIE1', credits: 80 });
    expect((await l.balance('U0NEWBIE1')).forecast).toEqual({ status: 'lasts_the_cycle', burn_per_day: 160, runs_out_at: null, lasts_the_cycle: true });
  });

  it('counts only this cycle\'s usage events, not last cycle\'s', async () => {
    const l = ledger();
    clock.set('2026-04-10T00:00:00Z');
    await l.putSeat('U0MAYA001', { plan: 'pro' });
    await l.recordUsage({ id: 'april-1', user: 'U0MAYA001', credits: 100 });
    await l.recordUsage({ id: 'april-2', user: 'U0MAYA001', credits: 100 });
    clock.set('2026-05-10T00:00:00Z');
    await l.recordUsage({ id: 'may-1', user: 'U0MAYA001', credits: 100 });
    expect((await l.balance('U0MAYA001')).forecast.status).toBe('too_little_history');
  });

  it('gives a revoked seat no run-out date', async () => {
    const l = ledger();
    clock.set('2026-05-01T00:00:00Z');
    await l.putSeat('U0MAYA001', { plan: 'pro' });
    clock.set('2026-05-05T00:00:00Z');
    await l.recordUsage({ id: 'a', user: 'U0MAYA001', credits: 1000 });
    await l.recordUsage({ id: 'b', user: 'U0MAYA001', credits: 1000 });
    clock.set('2026-05-10T00:00:00Z');
    await l.revokeSeat('U0MAYA001');
    expect((await l.balance('U0MAYA001')).forecast).toEqual({ status: 'revoked', burn_per_day: null, runs_out_at: null, lasts_the_cycle: false });
  });
});
