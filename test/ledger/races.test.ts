// Concurrency guarantees. They are shown on a real PostgreSQL server with many connections when
// TEST_DATABASE_URL is set (CI); PGlite is one connection and serialises everything, so there the
// same tests only show that concurrent callers queue up correctly.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { defaultSettings, type LedgerContext } from '../../src/ledger/context.ts';
import { createLedger } from '../../src/ledger/index.ts';
import { applyUsage } from '../../src/ledger/usage.ts';
import { database_kinds, emptyDatabase, openTestDatabase, TestClock } from '../helpers/db.ts';

describe.each(database_kinds)('ledger under concurrency on %s', (kind) => {
  let db: Database;
  let ctx: LedgerContext;
  const clock = new TestClock(new Date('2026-05-10T12:00:00Z'));

  beforeAll(async () => {
    db = await openTestDatabase(kind, { poolMax: 64 });
    ctx = { db, now: clock.now, settings: defaultSettings };
  });
  afterAll(async () => db.close());
  beforeEach(async () => {
    await emptyDatabase(db);
    const ledger = createLedger(ctx);
    await ledger.putPlan('pro', { name: 'Pro', credits: 1000 });
    await ledger.putProfile('design', { name: 'Design', poolCredits: 500 });
    await ledger.putSeat('U0HOT0001', { plan: 'pro', profile: 'design' });
  });

  it('never overdraws a member under 64 concurrent enforce-mode debits', async () => {
    // Each call is its own transaction on its own connection: no batching hides the race.
    const outcomes = await Promise.all(
      Array.from({ length: 64 }, (_, i) => applyUsage(ctx, [{ id: `hot-${i}`, user: 'U0HOT0001', credits: 25, mode: 'enforce' }])),
    );
    const applied = outcomes.flat().filter((o) => o.status === 'applied').length;
    expect(applied).toBe(60); // 1,000 own + 500 pool = 1,500 = 60 x 25
    const ledger = createLedger(ctx);
    expect(await ledger.balance('U0HOT0001')).toMatchObject({ remaining: 0, pool_available: 0, overage: 0, used: 1500 });
    expect((await ledger.verify()).differences).toEqual([]);
  });

  it('applies one event id once under 32 concurrent replays', async () => {
    const outcomes = (
      await Promise.all(Array.from({ length: 32 }, () => applyUsage(ctx, [{ id: 'replayed', user: 'U0HOT0001', credits: 7 }])))
    ).flat();
    expect(outcomes.filter((o) => o.status === 'applied')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'duplicate')).toHaveLength(31);
    expect((await createLedger(ctx).balance('U0HOT0001')).used).toBe(7);
  });

  it('applies concurrent batches over overlapping members without deadlock', async () => {
    const ledger = createLedger(ctx);
    const members = Array.from({ length: 40 }, (_, i) => `U0M${String(i).padStart(6, '0')}`);
    for (const m of members) await ledger.putSeat(m, { plan: 'pro', profile: 'design' });
    // Eight batches touching the same members in different orders.
    const batches = Array.from({ length: 8 }, (_, b) =>
      Array.from({ length: 200 }, (_, k) => ({ id: `b${b}-${k}`, user: members[(k * (b + 3)) % members.length]!, credits: 3 })),
    );
    const outcomes = (await Promise.all(batches.map((events) => applyUsage(ctx, events)))).flat();
    expect(outcomes.every((o) => o.status === 'applied')).toBe(true);
    expect((await ledger.verify()).differences).toEqual([]);
  });

  it('applies each reset once when several replicas run the cycle jobs together', async () => {
    const ledger = createLedger(ctx);
    for (let i = 0; i < 30; i++) await ledger.putSeat(`U0R${String(i).padStart(6, '0')}`, { plan: 'pro' });
    clock.set('2026-06-01T00:00:01Z');
    const replicas = Array.from({ length: 4 }, () => createLedger(ctx));
    const results = await Promise.all(replicas.map((replica) => replica.runCycleJobs()));
    expect(results.reduce((sum, r) => sum + r.seats, 0)).toBe(31);
    expect(results.reduce((sum, r) => sum + r.pools, 0)).toBe(1);
    const [grants] = await db.query<{ count: number }>(`select count(*)::int8 as count from grants where cycle_start = '2026-06-01T00:00:00Z'`);
    expect(grants!.count).toBe(31 + 1);
    expect((await ledger.verify()).differences).toEqual([]);
  });
});
