// A member's sync is a report, not a grant: below creditdesk's figure it is usage, above it a
// correction that waits for an admin and is decided once.
import { describe, expect, it } from 'vitest';
import { createLedger } from '../../src/ledger/index.ts';
import { describeEachDatabase, describeOnPostgres } from '../helpers/db.ts';
import { day_ms, expectVerified, journalCount, use, useLedger } from '../helpers/ledger-harness.ts';

describeEachDatabase('sync on %s', (kind) => {
  const h = useLedger(kind);

  const seat = async (user = 'U0MAYA001') => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putSeat(user, { plan: 'pro' });
  };
  const corrections = () => h.db.query(`select id, status, credits, decided_by as "decidedBy" from sync_corrections order by id`);

  it('records a figure below creditdesk as usage, once per key', async () => {
    await seat();
    const first = await h.ledger.reportSync({ key: 'sync:T1', user: 'U0MAYA001', reported: 3000 });
    expect(first.replayed).toBe(false);
    expect(first.outcome).toMatchObject({ result: 'usage', expected: 4000, reported: 3000, credits: 1000, flagged: true, usage: { status: 'applied', id: 'sync:T1', own: 1000 } });
    // Other usage arrives, then the same sync again: the first outcome, nothing new.
    await use(h.ledger, 'U0MAYA001', 500);
    const again = await h.ledger.reportSync({ key: 'sync:T1', user: 'U0MAYA001', reported: 3000 });
    expect(again).toEqual({ replayed: true, outcome: first.outcome });
    expect((await h.ledger.balance('U0MAYA001')).remaining).toBe(2500);
    const [entry] = await h.db.query(`select feature, source, credits from journal where event_key = 'sync:T1'`);
    expect(entry).toEqual({ feature: 'sync', source: 'vendor sync', credits: 1000 });
    await expectVerified(h.ledger);
  });

  it('flags only a gap of at least 100 credits and 5 % of the quota', async () => {
    await seat();
    expect((await h.ledger.reportSync({ key: 'a', user: 'U0MAYA001', reported: 3901 })).outcome.flagged).toBe(false);
    // 4,000 quota: 5 % is 200, so a 199 gap is not flagged and a 200 gap is.
    expect((await h.ledger.reportSync({ key: 'b', user: 'U0MAYA001', reported: 3901 - 199 })).outcome.flagged).toBe(false);
    expect((await h.ledger.reportSync({ key: 'c', user: 'U0MAYA001', reported: 3702 - 200 })).outcome.flagged).toBe(true);
    expect((await h.ledger.reportSync({ key: 'd', user: 'U0MAYA001', reported: 3502 })).outcome).toMatchObject({ result: 'matches', flagged: false });
  });

  it('never raises a balance by itself: a figure above creditdesk waits as a pending correction', async () => {
    await seat();
    const entries = await journalCount(h.db);
    const { outcome } = await h.ledger.reportSync({ key: 'sync:T2', user: 'U0MAYA001', reported: 5000 });
    expect(outcome).toMatchObject({
      result: 'pending', expected: 4000, reported: 5000, credits: 1000, flagged: true,
      correction: { id: 1, slackId: 'U0MAYA001', expected: 4000, reported: 5000, credits: 1000, status: 'pending', cycleStart: '2026-05-01T00:00:00.000Z' },
    });
    expect((await h.ledger.balance('U0MAYA001')).remaining).toBe(4000);
    expect(await journalCount(h.db)).toBe(entries);
  });

  it('grants a confirmed correction as a manual grant naming the sync, decided once', async () => {
    await seat();
    await h.ledger.reportSync({ key: 'sync:T2', user: 'U0MAYA001', reported: 5000 });
    const confirmed = await h.ledger.confirmCorrection({ id: 1, by: 'U0ADMIN01' });
    expect(confirmed).toMatchObject({ decided: true, correction: { status: 'confirmed', decidedBy: 'U0ADMIN01' } });
    const balance = await h.ledger.balance('U0MAYA001');
    expect(balance.remaining).toBe(5000);
    expect(balance.sources.map((s) => [s.kind, s.credits])).toEqual([['plan', 4000], ['manual', 1000]]);
    const [entry] = await h.db.query(`select kind, actor, reason from journal where kind = 'adjustment'`);
    expect(entry).toEqual({ kind: 'adjustment', actor: 'U0ADMIN01', reason: 'sync correction 1: the vendor showed 5,000 left where creditdesk expected 4,000' });
    // A second click, or a second admin confirming or dismissing: already decided, nothing more.
    expect(await h.ledger.confirmCorrection({ id: 1, by: 'U0ADMIN02' })).toMatchObject({ decided: false, correction: { status: 'confirmed', decidedBy: 'U0ADMIN01' } });
    expect(await h.ledger.dismissCorrection({ id: 1, by: 'U0ADMIN02' })).toMatchObject({ decided: false });
    expect((await h.ledger.balance('U0MAYA001')).remaining).toBe(5000);
    await expectVerified(h.ledger);
  });

  it('grants nothing for a dismissed correction', async () => {
    await seat();
    await h.ledger.reportSync({ key: 'sync:T2', user: 'U0MAYA001', reported: 5000 });
    const entries = await journalCount(h.db);
    expect(await h.ledger.dismissCorrection({ id: 1, by: 'U0ADMIN01' })).toMatchObject({ decided: true, correction: { status: 'dismissed' } });
    expect(await h.ledger.confirmCorrection({ id: 1, by: 'U0ADMIN01' })).toMatchObject({ decided: false, correction: { status: 'dismissed' } });
    expect((await h.ledger.balance('U0MAYA001')).remaining).toBe(4000);
    expect(await journalCount(h.db)).toBe(entries);
  });

  it('supersedes a pending correction with the next sync, which measures the whole gap again', async () => {
    await seat();
    await h.ledger.reportSync({ key: 'sync:T1', user: 'U0MAYA001', reported: 5000 });
    await h.db.query(`update sync_corrections set channel_id = 'C0ADMINS1', message_ts = '1.1'`);
    const second = await h.ledger.reportSync({ key: 'sync:T2', user: 'U0MAYA001', reported: 4600 });
    expect(second.outcome).toMatchObject({ result: 'pending', credits: 600, superseded: [{ id: 1, channelId: 'C0ADMINS1', messageTs: '1.1' }] });
    // Confirming both would grant 1,600 where the vendor shows 600 more: the first is no longer open.
    expect(await h.ledger.confirmCorrection({ id: 1, by: 'U0ADMIN01' })).toMatchObject({ decided: false, correction: { status: 'superseded' } });
    await h.ledger.confirmCorrection({ id: 2, by: 'U0ADMIN01' });
    expect((await h.ledger.balance('U0MAYA001')).remaining).toBe(4600);
    expect(await corrections()).toEqual([
      { id: 1, status: 'superseded', credits: 1000, decidedBy: null },
      { id: 2, status: 'confirmed', credits: 600, decidedBy: 'U0ADMIN01' },
    ]);
  });

  it('lets a correction lapse, granting nothing, once its cycle has ended', async () => {
    await seat();
    await h.ledger.reportSync({ key: 'sync:T1', user: 'U0MAYA001', reported: 5000 });
    h.clock.advance(25 * day_ms);
    const decision = await h.ledger.confirmCorrection({ id: 1, by: 'U0ADMIN01' });
    expect(decision).toMatchObject({ decided: true, correction: { status: 'lapsed', decidedBy: 'U0ADMIN01' } });
    const balance = await h.ledger.balance('U0MAYA001');
    expect([balance.cycle.name, balance.quota]).toEqual(['2026-06', 4000]);
  });

  it('leaves a correction pending when its grant fails because the seat was revoked', async () => {
    await seat();
    await h.ledger.reportSync({ key: 'sync:T1', user: 'U0MAYA001', reported: 5000 });
    await h.ledger.revokeSeat('U0MAYA001');
    await expect(h.ledger.confirmCorrection({ id: 1, by: 'U0ADMIN01' })).rejects.toThrow('U0MAYA001 has no active seat');
    expect(await corrections()).toEqual([{ id: 1, status: 'pending', credits: 1000, decidedBy: null }]);
  });

  it('refuses a reported figure that is not a whole number of credits, writing nothing', async () => {
    await seat();
    await expect(h.ledger.reportSync({ key: 'k', user: 'U0MAYA001', reported: -1 })).rejects.toThrow('the remaining credits must be a whole number from 0');
    await expect(h.ledger.reportSync({ key: 'k', user: 'U0MAYA001', reported: 2.5 })).rejects.toThrow('whole number');
    expect(await h.db.query(`select key from applied_keys`)).toEqual([]);
  });
});

describeOnPostgres('sync under concurrency on postgres', () => {
  const h = useLedger('postgres', { poolMax: 16 });

  it('files one correction and records one usage entry for five concurrent deliveries of each', async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
    const ledgers = Array.from({ length: 5 }, () => createLedger(h.ledger.ctx));
    const above = await Promise.all(ledgers.map((l) => l.reportSync({ key: 'sync:T7', user: 'U0MAYA001', reported: 5000 })));
    expect(above.filter((r) => !r.replayed)).toHaveLength(1);
    expect(await h.db.query(`select credits, status from sync_corrections`)).toEqual([{ credits: 1000, status: 'pending' }]);
    expect((await h.ledger.balance('U0MAYA001')).remaining).toBe(4000);

    const below = await Promise.all(ledgers.map((l) => l.reportSync({ key: 'sync:T8', user: 'U0MAYA001', reported: 3000 })));
    expect(below.filter((r) => !r.replayed)).toHaveLength(1);
    expect((await h.ledger.balance('U0MAYA001')).remaining).toBe(3000);
    expect(await h.db.query(`select credits from journal where kind = 'usage'`)).toEqual([{ credits: 1000 }]);
    await expectVerified(h.ledger);
  });
});
