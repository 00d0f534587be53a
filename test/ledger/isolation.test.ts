// One caller never fails another: a usage event the database refuses, or one that hits a bug,
// fails alone, whether it shares a group-commit batch with other callers or sits in a 1,000-event
// batch. And the ledger refuses text the database cannot store itself, as a LedgerError.
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { LedgerError } from '../../src/ledger/errors.ts';
import { createLedger } from '../../src/ledger/index.ts';
import type { UsageOutcome } from '../../src/ledger/usage.ts';
import { describeEachDatabase, describeOnPostgres } from '../helpers/db.ts';
import { expectVerified, journalCount, useLedger, type LedgerHarness } from '../helpers/ledger-harness.ts';

/**
 * A rule of the database that the ledger's own checks know nothing of, standing for any value
 * that passes every boundary and is still refused: the feature `refused` breaks a constraint
 * (SQLSTATE 23514), the feature `crash` raises an error no input explains (a bug).
 */
async function plantDatabaseRules(h: LedgerHarness): Promise<void> {
  await h.db.query(`create or replace function refuse_test_features() returns trigger language plpgsql as $$
    begin
      if new.feature = 'refused' then raise exception 'feature refused by a test rule' using errcode = 'check_violation'; end if;
      if new.feature = 'crash' then raise exception 'a bug this test planted'; end if;
      return new;
    end $$`);
  await h.db.query(`drop trigger if exists refuse_test_features on journal`);
  await h.db.query(`create trigger refuse_test_features before insert on journal for each row execute function refuse_test_features()`);
}

/** The database as migrated again, so the next tests can have it. */
async function removeDatabaseRules(h: LedgerHarness): Promise<void> {
  await h.db.query(`drop trigger if exists refuse_test_features on journal`);
  await h.db.query(`drop function if exists refuse_test_features()`);
}

const refused_reason = 'the database refused this event (SQLSTATE 23514: feature refused by a test rule); nothing of it was applied';

async function seatWithPlan(h: LedgerHarness, credits = 4000): Promise<void> {
  await h.ledger.putPlan('pro', { name: 'Pro', credits });
  await h.ledger.putSeat('U0MAYA001', { plan: 'pro' });
}

describeEachDatabase('one event failing alone on %s', (kind) => {
  const h = useLedger(kind);
  beforeEach(() => plantDatabaseRules(h));
  afterEach(async () => void (await h.db.query(`drop trigger if exists refuse_test_features on journal`)));
  afterAll(() => removeDatabaseRules(h));

  it('rejects the one event of a 1,000-event batch that the database refuses, and applies the other 999', async () => {
    await seatWithPlan(h);
    const events = Array.from({ length: 1000 }, (_, i) => ({ id: `b-${i}`, user: 'U0MAYA001', credits: 2, feature: i === 617 ? 'refused' : 'fill' }));
    const outcomes = await h.ledger.recordUsageBatch(events);
    expect(outcomes.map((o) => o.id)).toEqual(events.map((e) => e.id));
    expect(outcomes.filter((o) => o.status === 'applied')).toHaveLength(999);
    expect(outcomes[617]).toEqual({ id: 'b-617', status: 'rejected', reason: refused_reason });
    expect(await h.ledger.balance('U0MAYA001')).toMatchObject({ used: 1998, remaining: 2002 });
    await expectVerified(h.ledger);
  });

  it('keeps the order of a batch when it is split, and a split batch sent again changes nothing', async () => {
    await seatWithPlan(h, 100);
    const events = [
      { id: 'o-1', user: 'U0MAYA001', credits: 60 },
      { id: 'o-2', user: 'U0MAYA001', credits: 10, feature: 'refused' },
      { id: 'o-1', user: 'U0MAYA001', credits: 60 },
      { id: 'o-3', user: 'U0MAYA001', credits: 60 },
    ];
    const outcomes = await h.ledger.recordUsageBatch(events);
    // A repeated id after the refused event is still a repeat of its first use.
    expect(outcomes.map((o) => o.status)).toEqual(['applied', 'rejected', 'duplicate', 'applied']);
    // The plan's 100 hold the first 60; the last event draws the 40 left and 20 overage, as in one batch.
    expect(outcomes[3]).toMatchObject({ own: 40, overage: 20 });
    const again = await h.ledger.recordUsageBatch(events);
    expect(again.map((o) => o.status)).toEqual(['duplicate', 'rejected', 'duplicate', 'duplicate']);
    expect(again[1]).toEqual({ id: 'o-2', status: 'rejected', reason: refused_reason });
    expect(await h.ledger.balance('U0MAYA001')).toMatchObject({ used: 120, overage: 20 });
  });

  it('rejects a batch event that hits a bug as an internal error, logs it, and applies the others', async () => {
    await seatWithPlan(h);
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const outcomes = await h.ledger.recordUsageBatch([
        { id: 'k-1', user: 'U0MAYA001', credits: 5 },
        { id: 'k-2', user: 'U0MAYA001', credits: 5, feature: 'crash' },
        { id: 'k-3', user: 'U0MAYA001', credits: 5 },
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['applied', 'rejected', 'applied']);
      expect(outcomes[1]).toEqual({ id: 'k-2', status: 'rejected', reason: 'internal error while applying this event; it was not applied, the others were' });
      expect(logged).toHaveBeenCalledWith('usage event failed', 'k-2', expect.objectContaining({ message: 'a bug this test planted' }));
    } finally {
      logged.mockRestore();
    }
    expect((await h.ledger.balance('U0MAYA001')).used).toBe(10);
  });

  it('refuses text the database cannot store with a LedgerError naming the field, whatever the boundary forgot', async () => {
    await seatWithPlan(h);
    await h.ledger.putPackProduct('addon', { name: 'Add-on', credits: 2000, kind: 'recurring' });
    const entries = await journalCount(h.db);
    const nul = 'x\u0000y';
    const surrogate = 'x\udfffy';
    const calls: [string, () => Promise<unknown>, string][] = [
      ['plan name', () => h.ledger.putPlan('lite', { name: nul, credits: 10 }), 'name: must not contain a NUL character (U+0000): remove it'],
      ['plan name', () => h.ledger.putPlan('lite', { name: surrogate, credits: 10 }), 'name: must not contain a lone surrogate (U+DFFF): send valid Unicode text, where surrogates come in pairs'],
      ['plan key', () => h.ledger.putPlan(`lite${nul}`, { name: 'Lite', credits: 10 }), 'text must not contain a NUL character (U+0000): remove it'],
      ['product name', () => h.ledger.putPackProduct('extra', { name: nul, credits: 10, kind: 'recurring' }), 'name: must not contain a NUL character (U+0000): remove it'],
      ['profile name', () => h.ledger.putProfile('design', { name: nul }), 'name: must not contain a NUL character (U+0000): remove it'],
      ['seat name', () => h.ledger.putSeat('U0LENA001', { plan: 'pro', name: surrogate }), 'name: must not contain a lone surrogate (U+DFFF): send valid Unicode text, where surrogates come in pairs'],
      ['purchase reference', () => h.ledger.recordPurchase({ product: 'addon', quantity: 1, reference: nul }), 'reference: must not contain a NUL character (U+0000): remove it'],
      ['adjustment reason', () => h.ledger.adjust({ user: 'U0MAYA001', credits: 5, reason: surrogate }), 'reason: must not contain a lone surrogate (U+DFFF): send valid Unicode text, where surrogates come in pairs'],
      ['request reason', () => h.ledger.fileRequest('U0MAYA001', 500, nul), 'text must not contain a NUL character (U+0000): remove it'],
      ['promoted admin', () => h.ledger.promoteAdmin(`U0LENA001${nul}`), 'text must not contain a NUL character (U+0000): remove it'],
    ];
    for (const [what, call, message] of calls) {
      const error = await call().then(() => undefined, (e: unknown) => e);
      expect(error, what).toBeInstanceOf(LedgerError);
      expect((error as LedgerError).code, what).toBe('invalid');
      expect((error as LedgerError).message, what).toBe(message);
    }
    // A usage event is refused as its own outcome, so a batch it shares goes on.
    const outcomes = await h.ledger.recordUsageBatch([
      { id: 'ok', user: 'U0MAYA001', credits: 5 },
      { id: 'bad', user: 'U0MAYA001', credits: 5, source: surrogate },
      { id: `bad${nul}`, user: 'U0MAYA001', credits: 5 },
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['applied', 'rejected', 'rejected']);
    expect((outcomes[1] as { reason: string }).reason).toBe('source: must not contain a lone surrogate (U+DFFF): send valid Unicode text, where surrogates come in pairs');
    expect((outcomes[2] as { reason: string }).reason).toBe('id: must not contain a NUL character (U+0000): remove it');
    expect(await h.db.query(`select key, name from plans order by key`)).toEqual([{ key: 'pro', name: 'Pro' }]);
    expect(await h.db.query(`select count(*)::int as n from credit_requests`)).toEqual([{ n: 0 }]);
    expect(await journalCount(h.db)).toBe(entries + 1);
  });
});

describe('a batch while the database is unavailable', () => {
  const h = useLedger('pglite');

  it('fails at once with the database error, without splitting the batch to look for an event at fault', async () => {
    // A batch is one statement when it can be, else a transaction: either way one call each.
    let calls = 0;
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const down: Database = { ...h.db, query: () => (calls++, Promise.reject(refused)), transaction: () => (calls++, Promise.reject(refused)) };
    const ledger = createLedger({ ...h.ledger.ctx, db: down });
    const events = Array.from({ length: 64 }, (_, i) => ({ id: `d-${i}`, user: 'U0MAYA001', credits: 1 }));
    await expect(ledger.recordUsageBatch(events)).rejects.toBe(refused);
    await expect(ledger.recordUsage(events[0]!)).rejects.toBe(refused);
    expect(calls).toBe(2);
  });
});

describeOnPostgres('callers sharing a group-commit batch on PostgreSQL (needs TEST_DATABASE_URL)', () => {
  const h = useLedger('postgres');
  beforeEach(() => plantDatabaseRules(h));
  afterEach(async () => void (await h.db.query(`drop trigger if exists refuse_test_features on journal`)));
  afterAll(() => removeDatabaseRules(h));

  /** 16 single-event calls at once; the last one carries `feature`. Two go first, the other 14 share one batch. */
  const sixteenCalls = (feature: string) =>
    Promise.allSettled(
      Array.from({ length: 16 }, (_, i) => h.ledger.recordUsage({ id: `g-${i}`, user: 'U0MAYA001', credits: 10, feature: i === 15 ? feature : 'fill' })),
    );

  it('rejects only the call the database refuses among 16 concurrent single-event calls', async () => {
    await seatWithPlan(h);
    const settled = await sixteenCalls('refused');
    const outcomes = settled.map((s) => (s.status === 'fulfilled' ? s.value : s.reason)) as UsageOutcome[];
    expect(outcomes.slice(0, 15).map((o) => o.status)).toEqual(Array(15).fill('applied'));
    expect(outcomes[15]).toEqual({ id: 'g-15', status: 'rejected', reason: refused_reason });
    expect((await h.ledger.balance('U0MAYA001')).used).toBe(150);
  });

  it('fails only the call that hits a bug among 16 concurrent single-event calls', async () => {
    await seatWithPlan(h);
    const settled = await sixteenCalls('crash');
    expect(settled.slice(0, 15).map((s) => s.status === 'fulfilled' && s.value.status)).toEqual(Array(15).fill('applied'));
    expect(settled[15]).toMatchObject({ status: 'rejected', reason: { message: 'a bug this test planted' } });
    expect((await h.ledger.balance('U0MAYA001')).used).toBe(150);
  });
});
