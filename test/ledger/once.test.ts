// Idempotency keys: a write that carries a key is applied once, and every repeat, later or at the
// same moment, gets the first outcome. The concurrent cases need PostgreSQL's many connections.
import { describe, expect, it } from 'vitest';
import { createLedger } from '../../src/ledger/index.ts';
import { LedgerError } from '../../src/ledger/errors.ts';
import { runTick } from '../../src/jobs/index.ts';
import { silentLogger } from '../../src/log.ts';
import { applied_key_retention_days, idempotency_key_length_max } from '../../src/ledger/once.ts';
import { describeEachDatabase, describeOnPostgres } from '../helpers/db.ts';
import { expectVerified, useLedger } from '../helpers/ledger-harness.ts';

const count = async (h: ReturnType<typeof useLedger>, sql: string) => (await h.db.query<{ n: number }>(sql))[0]!.n;
const manualGrants = (h: ReturnType<typeof useLedger>) => count(h, `select count(*)::int8 as n from grants where source = 'manual'`);

/** A promise the test settles by hand: the ledger's work waits on it. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describeEachDatabase('idempotency keys on %s', (kind) => {
  const h = useLedger(kind);

  const seat = async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
  };

  it('applies a keyed write once and hands a repeat the first outcome', async () => {
    await seat();
    const grant = () => h.ledger.once('view:V1:abc', (l) => l.adjust({ user: 'U0MAYA001', credits: 100, reason: 'bonus' }));
    const first = await grant();
    const second = await grant();
    expect(first).toEqual({ replayed: false, outcome: { user: 'U0MAYA001', tool: 'default', credits: 100, grantId: 2, expiresAt: '2026-06-01T00:00:00.000Z' } });
    expect(second).toEqual({ replayed: true, outcome: first.outcome });
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4100);
    expect(await manualGrants(h)).toBe(1);
  });

  it('forgets a key 30 days after it was applied, on the first tick of a day, once a day', async () => {
    await seat();
    const keys = async () => (await h.db.query<{ key: string }>(`select key from applied_keys order by key`)).map((k) => k.key);
    const tick = async () => (await runTick(h.ledger, h.clock.now(), { log: silentLogger })).prune;
    const grant = (key: string) => h.ledger.once(key, (l) => l.adjust({ user: 'U0MAYA001', credits: 1, reason: 'bonus' }));
    await grant('view:V1:first'); // 10 May 12:00
    h.clock.set('2026-05-12T12:00:00Z');
    await grant('view:V2:second');
    expect(applied_key_retention_days).toBe(30);
    // 8 June: the first key is 29 days old and stays.
    h.clock.set('2026-06-08T12:05:00Z');
    expect(await tick()).toEqual({ status: 'ran', value: { appliedKeys: 0 } });
    // 9 June 12:05: it is 30 days and 5 minutes old, and goes; the second, 28 days old, stays.
    h.clock.set('2026-06-09T12:05:00Z');
    expect(await tick()).toEqual({ status: 'ran', value: { appliedKeys: 1 } });
    expect(await keys()).toEqual(['view:V2:second']);
    // 10 June: the day's run finds the second key 29 days old; a later tick that day runs nothing; 11 June takes it.
    h.clock.set('2026-06-10T23:55:00Z');
    expect(await tick()).toEqual({ status: 'ran', value: { appliedKeys: 0 } });
    h.clock.set('2026-06-10T23:59:00Z');
    expect(await tick()).toEqual({ status: 'done' });
    h.clock.set('2026-06-11T12:05:00Z');
    expect(await tick()).toEqual({ status: 'ran', value: { appliedKeys: 1 } });
    expect(await keys()).toEqual([]);
  });

  it('applies the same write again under another key', async () => {
    await seat();
    await h.ledger.once('view:V1:abc', (l) => l.adjust({ user: 'U0MAYA001', credits: 100, reason: 'bonus' }));
    const other = await h.ledger.once('view:V1:def', (l) => l.adjust({ user: 'U0MAYA001', credits: 100, reason: 'bonus' }));
    expect(other.replayed).toBe(false);
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4200);
  });

  it('commits the key and every write of the work together, so a failure leaves the key free', async () => {
    await seat();
    // The grant is written, then the work fails: the grant and the key roll back together.
    await expect(
      h.ledger.once('command:T1', async (l) => {
        await l.adjust({ user: 'U0MAYA001', credits: 100, reason: 'bonus' });
        throw new Error('the work broke half way');
      }),
    ).rejects.toThrow('the work broke half way');
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4000);
    expect(await count(h, `select count(*)::int8 as n from applied_keys`)).toBe(0);
    // A refusal writes nothing either, and the same key may then be applied.
    await expect(h.ledger.once('command:T1', (l) => l.adjust({ user: 'U0MAYA001', credits: -5000, reason: 'debit' }))).rejects.toThrow(LedgerError);
    const retried = await h.ledger.once('command:T1', (l) => l.adjust({ user: 'U0MAYA001', credits: -300, reason: 'debit' }));
    expect(retried.replayed).toBe(false);
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(3700);
    await expectVerified(h.ledger);
  });

  it('runs several ledger writes under one key as one', async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putPackProduct('addon', { name: 'Add-on', credits: 2000, kind: 'recurring' });
    const work = async (l: Parameters<Parameters<typeof h.ledger.once>[1]>[0]) => {
      await l.putSeat('U0LENA001', { plan: 'pro' });
      await l.recordPurchase({ product: 'addon', quantity: 1 });
      return l.assignPack({ product: 'addon', user: 'U0LENA001' });
    };
    await h.ledger.once('form:1', work);
    await h.ledger.once('form:1', work);
    expect((await h.ledger.balance('U0LENA001')).quota).toBe(6000);
    expect(await count(h, `select count(*)::int8 as n from packs`)).toBe(1);
  });

  it('refuses an empty key and one longer than the limit', async () => {
    await seat();
    const adjust = (key: string) => h.ledger.once(key, (l) => l.adjust({ user: 'U0MAYA001', credits: 1, reason: 'x' }));
    await expect(adjust('')).rejects.toThrow(`an idempotency key must be 1 to ${idempotency_key_length_max} characters`);
    await expect(adjust('k'.repeat(idempotency_key_length_max + 1))).rejects.toThrow(LedgerError);
    expect(await adjust('k'.repeat(idempotency_key_length_max))).toMatchObject({ replayed: false });
  });
});

describeOnPostgres('idempotency keys under concurrency on postgres', () => {
  const h = useLedger('postgres', { poolMax: 16 });

  const seat = async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 4000 });
    await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
  };

  /** Waits (by asking PostgreSQL, never by sleeping) until `n` backends wait on a lock. */
  const lockWaiters = async (n: number) => {
    for (let tries = 0; tries < 2_000; tries++) {
      const waiting = await count(h, `select count(*)::int8 as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
      if (waiting >= n) return;
    }
    throw new Error(`${n} backend(s) never waited on a lock`);
  };

  it('applies eight concurrent deliveries of one key once, each with the first outcome', async () => {
    await seat();
    // Separate ledgers, as separate replicas would be.
    const ledgers = Array.from({ length: 8 }, () => createLedger(h.ledger.ctx));
    const results = await Promise.all(ledgers.map((l) => l.once('command:T5', (inTx) => inTx.adjust({ user: 'U0MAYA001', credits: 1000, reason: 'sync' }))));
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(new Set(results.map((r) => JSON.stringify(r.outcome))).size).toBe(1);
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(5000);
    expect(await count(h, `select count(*)::int8 as n from grants where source = 'manual'`)).toBe(1);
    await expectVerified(h.ledger);
  });

  it('makes a concurrent duplicate wait for the first, then return its outcome', async () => {
    await seat();
    const slow = gate();
    const claimed = gate();
    const first = h.ledger.once('view:V9:aa', async (l) => {
      const granted = await l.adjust({ user: 'U0MAYA001', credits: 250, reason: 'bonus' });
      claimed.open();
      await slow.opened;
      return granted;
    });
    await claimed.opened;
    const duplicate = h.ledger.once('view:V9:aa', (l) => l.adjust({ user: 'U0MAYA001', credits: 250, reason: 'bonus' }));
    await lockWaiters(1);
    slow.open();
    const [a, b] = await Promise.all([first, duplicate]);
    expect(a.replayed).toBe(false);
    expect(b).toEqual({ replayed: true, outcome: a.outcome });
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4250);
  });

  it('lets a waiting duplicate apply the write itself when the first rolls back', async () => {
    await seat();
    const slow = gate();
    const claimed = gate();
    const first = h.ledger.once('view:V9:bb', async (l) => {
      await l.adjust({ user: 'U0MAYA001', credits: 250, reason: 'bonus' });
      claimed.open();
      await slow.opened;
      throw new Error('the first delivery died');
    });
    await claimed.opened;
    const duplicate = h.ledger.once('view:V9:bb', (l) => l.adjust({ user: 'U0MAYA001', credits: 250, reason: 'bonus' }));
    await lockWaiters(1);
    slow.open();
    await expect(first).rejects.toThrow('the first delivery died');
    expect((await duplicate).replayed).toBe(false);
    expect((await h.ledger.balance('U0MAYA001')).quota).toBe(4250);
    await expectVerified(h.ledger);
  });
});
