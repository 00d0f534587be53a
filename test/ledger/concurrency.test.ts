// Concurrency guarantees, shown on a real PostgreSQL server with many connections (when
// TEST_DATABASE_URL is set). PGlite is one connection that runs one transaction at a time, so the
// races cannot happen there; on PGlite this file only shows that it does serialise them.
import { describe, expect, it } from 'vitest';
import { createLedger, type Ledger } from '../../src/ledger/index.ts';
import { LedgerError } from '../../src/ledger/errors.ts';
import { applyUsage, type AppliedUsage, type UsageEvent, type UsageOutcome } from '../../src/ledger/usage.ts';
import { describeOnPostgres } from '../helpers/db.ts';
import { expectVerified, strandedGrants, useLedger } from '../helpers/ledger-harness.ts';

const applied = (outcomes: UsageOutcome[]) => outcomes.filter((o): o is AppliedUsage => o.status === 'applied');
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const padded = (prefix: string, i: number) => `${prefix}${String(i).padStart(6, '0')}`;

describe('transactions on pglite', () => {
  const h = useLedger('pglite');

  it('runs concurrent transactions one after another, so the races below need PostgreSQL', async () => {
    await h.db.query(`create temporary table if not exists counter (n int)`);
    await h.db.query(`delete from counter`);
    await h.db.query(`insert into counter values (0)`);
    // Read, yield, write: two overlapping read-modify-writes lose an update unless serialised.
    const bump = () =>
      h.db.transaction(async (tx) => {
        const [{ n }] = (await tx.query<{ n: number }>(`select n from counter`)) as [{ n: number }];
        await new Promise((resolve) => setImmediate(resolve));
        await tx.query(`update counter set n = $1`, [n + 1]);
      });
    await Promise.all(Array.from({ length: 8 }, bump));
    expect(await h.db.query(`select n from counter`)).toEqual([{ n: 8 }]);
  });
});

describeOnPostgres('ledger under concurrency on postgres', () => {
  // 20 connections: every race below still overlaps 20 transactions, and two runs of the suite
  // beside each other stay well inside PostgreSQL's default 100 connections (64 did not).
  const h = useLedger('postgres', { poolMax: 20 });
  /** Several replicas: each ledger has its own group-commit queue, so calls really overlap. */
  const replicas = (n: number): Ledger[] => Array.from({ length: n }, () => createLedger(h.ledger.ctx));

  const hotMember = async (plan = 1000, pool = 500) => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: plan });
    await h.ledger.putProfile('design', { name: 'Design', poolCredits: pool });
    await h.ledger.putSeat('U0HOT0001', { plan: 'pro', profile: 'design' });
  };

  const expectNoOverdraft = async (outcomes: UsageOutcome[], available: number) => {
    const taken = sum(applied(outcomes).map((o) => o.credits));
    expect(taken).toBeLessThanOrEqual(available);
    const balance = await h.ledger.balance('U0HOT0001');
    expect(balance).toMatchObject({ used: taken, overage: 0 });
    expect(balance.remaining).toBeGreaterThanOrEqual(0);
    expect(balance.pool_available).toBeGreaterThanOrEqual(0);
    expect(await h.db.query(`select id from grants where remaining < 0`)).toEqual([]);
    await expectVerified(h.ledger);
    return taken;
  };

  it('never overdraws a member under 64 concurrent enforce-mode authorizations', async () => {
    await hotMember();
    const ledgers = replicas(8);
    const outcomes = await Promise.all(
      Array.from({ length: 64 }, (_, i) => ledgers[i % 8]!.authorize({ id: `hot-${i}`, user: 'U0HOT0001', credits: 25 })),
    );
    // 1,000 own + 500 pool = 1,500 = 60 x 25: exactly 60 fit, and the other 4 are refused whole.
    expect(applied(outcomes)).toHaveLength(60);
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(4);
    expect(await expectNoOverdraft(outcomes, 1500)).toBe(1500);
    expect(await h.ledger.balance('U0HOT0001')).toMatchObject({ remaining: 0, pool_available: 0, used: 1500 });
  });

  it('never overdraws a member under 64 concurrent enforce-mode batches of uneven events', async () => {
    await hotMember();
    // Each batch its own transaction (no group commit hides the race), 20 at a time.
    const batches = Array.from({ length: 64 }, (_, b) =>
      Array.from({ length: 3 }, (_, k): UsageEvent & { mode: 'enforce' } => ({
        id: `b${b}-${k}`, user: 'U0HOT0001', credits: 5 + ((b * 7 + k * 13) % 40), mode: 'enforce',
      })),
    );
    const outcomes = (await Promise.all(batches.map((events) => applyUsage(h.ledger.ctx, events)))).flat();
    const taken = await expectNoOverdraft(outcomes, 1500);
    // Whatever was refused did not fit in what was left at its turn.
    const smallest = Math.min(...outcomes.filter((o) => o.status === 'rejected').map((o) => batches.flat().find((e) => e.id === o.id)!.credits));
    expect(1500 - taken).toBeLessThan(smallest);
  });

  it('drains a shared pool exactly when 40 enforce-mode authorizations from 20 members race for it', async () => {
    // No own credits: every authorization needs the pool, whose grant row is the one lock they share.
    await h.ledger.putPlan('none', { name: 'Pool only', credits: 0 });
    await h.ledger.putProfile('design', { name: 'Design', poolCredits: 1000 });
    const members = Array.from({ length: 20 }, (_, i) => padded('U0D', i));
    for (const m of members) await h.ledger.putSeat(m, { plan: 'none', profile: 'design' });
    // Each its own transaction (no group commit), 20 at a time: 40 x 50 asked, 1,000 there.
    const settled = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => applyUsage(h.ledger.ctx, [{ id: `pool-${i}`, user: members[i % 20]!, credits: 50, mode: 'enforce' }])),
    );
    const failures = settled.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []));
    expect(failures).toEqual([]);
    const outcomes = settled.flatMap((s) => (s.status === 'fulfilled' ? s.value : []));
    expect(applied(outcomes)).toHaveLength(20);
    expect(applied(outcomes).every((o) => o.own === 0 && o.pool === 50 && o.overage === 0)).toBe(true);
    const refused = outcomes.filter((o) => o.status === 'rejected');
    expect(refused).toHaveLength(20);
    expect(refused.map((o) => o.refused?.remaining)).toEqual(refused.map(() => 0));
    expect(await h.db.query(`select remaining from grants where source = 'pool'`)).toEqual([{ remaining: 0 }]);
    const [draws] = await h.db.query<{ total: number }>(`select sum(used)::int8 as total from pool_draws`);
    expect(draws!.total).toBe(1000);
    await expectVerified(h.ledger);
  });

  it('applies one event id exactly once under 32 concurrent replays', async () => {
    await hotMember();
    const ledgers = replicas(4);
    const event = { id: 'replayed', user: 'U0HOT0001', credits: 7 };
    const outcomes = await Promise.all(
      Array.from({ length: 32 }, (_, i) => {
        const ledger = ledgers[i % 4]!;
        if (i % 4 === 1) return ledger.authorize(event);
        if (i % 4 === 2) return applyUsage(h.ledger.ctx, [event]).then(([o]) => o!);
        if (i % 4 === 3) return ledger.recordUsageBatch([{ ...event, user: 'U0HOT0001 ' }]).then(([o]) => o!);
        return ledger.recordUsage(event);
      }),
    );
    const first = applied(outcomes);
    expect(first).toHaveLength(1);
    const duplicates = outcomes.filter((o) => o.status === 'duplicate');
    expect(duplicates).toHaveLength(31);
    for (const d of duplicates) expect(d).toMatchObject({ credits: 7, own: 7, at: first[0]!.at, cycle: first[0]!.cycle });
    expect(await h.db.query(`select 1 from journal where event_key = 'replayed'`)).toHaveLength(1);
    expect((await h.ledger.balance('U0HOT0001')).used).toBe(7);
    await expectVerified(h.ledger);
  });

  it('applies concurrent batches over overlapping members and a shared pool without deadlock', async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 300 });
    await h.ledger.putProfile('design', { name: 'Design', poolCredits: 20_000, memberPoolCap: 400 });
    const members = Array.from({ length: 40 }, (_, i) => padded('U0M', i));
    for (const m of members) await h.ledger.putSeat(m, { plan: 'pro', profile: 'design' });
    // Twelve batches touching the same members in different orders, drawing own credits, the pool and overage.
    const batches = Array.from({ length: 12 }, (_, b) =>
      Array.from({ length: 200 }, (_, k) => ({ id: `b${b}-${k}`, user: members[(k * (b + 3) + b) % members.length]!, credits: 1 + ((k + b) % 5) })),
    );
    const outcomes = (
      await Promise.all(batches.map((events, b) => (b % 3 === 0 ? applyUsage(h.ledger.ctx, events.map((e) => ({ ...e, mode: 'enforce' as const }))) : applyUsage(h.ledger.ctx, events))))
    ).flat();
    expect(outcomes.filter((o) => o.status === 'duplicate')).toEqual([]);
    const [totals] = await h.db.query<{ used: number; pool: number; capped: number }>(
      `select (select sum(credits) from journal where kind = 'usage')::int8 as used,
              (select sum(used) from pool_draws)::int8 as pool,
              (select count(*) from pool_draws where used > 400)::int8 as capped`,
    );
    expect(totals).toEqual({ used: sum(applied(outcomes).map((o) => o.credits)), pool: sum(applied(outcomes).map((o) => o.pool)), capped: 0 });
    await expectVerified(h.ledger);
  });

  it('applies each reset once when several replicas run the cycle jobs together', async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 1000 });
    await h.ledger.putProfile('design', { name: 'Design', poolCredits: 500 });
    for (let i = 0; i < 40; i++) await h.ledger.putSeat(padded('U0R', i), { plan: 'pro', profile: 'design' });
    h.clock.set('2026-06-01T00:00:01Z');
    const results = await Promise.all(replicas(6).map((replica) => replica.runCycleJobs()));
    expect(sum(results.map((r) => r.seats))).toBe(40);
    expect(sum(results.map((r) => r.pools))).toBe(1);
    expect(await h.db.query(`select 1 from grants where cycle_start = '2026-06-01T00:00:00Z'`)).toHaveLength(40 + 1);
    expect(await h.db.query(`select 1 from seat_cycles where cycle_start = '2026-06-01T00:00:00Z'`)).toHaveLength(40);
    // And the expiry sweep after the grace window, also on every replica at once: each grant once.
    h.clock.set('2026-06-04T00:00:01Z');
    const sweeps = await Promise.all(replicas(6).map((replica) => replica.runCycleJobs()));
    expect(sum(sweeps.map((r) => r.expired))).toBe(41);
    const [expired] = await h.db.query<{ total: number }>(`select sum(amount)::int8 as total from transfers where credit_account = 'expiry'`);
    expect(expired!.total).toBe(40 * 1000 + 500);
    await expectVerified(h.ledger);
  });

  it('resets each seat once when usage races the cycle jobs at a boundary, with no overage', async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 1000 });
    const members = Array.from({ length: 30 }, (_, i) => padded('U0B', i));
    for (const m of members) await h.ledger.putSeat(m, { plan: 'pro' });
    await Promise.all(members.map((m, i) => h.ledger.recordUsage({ id: `may-${i}`, user: m, credits: 1000 })));
    h.clock.set('2026-06-01T00:00:30Z');
    const [jobs, ...usage] = await Promise.all([
      Promise.all(replicas(3).map((r) => r.runCycleJobs())),
      ...members.map((m, i) => applyUsage(h.ledger.ctx, [{ id: `june-${i}`, user: m, credits: 600, mode: 'enforce' }])),
    ]);
    expect(applied(usage.flat())).toHaveLength(30);
    expect(applied(usage.flat()).every((o) => o.own === 600 && o.cycle.start === '2026-06-01T00:00:00.000Z')).toBe(true);
    expect(sum(jobs.map((r) => r.seats))).toBeLessThanOrEqual(30);
    expect(await h.db.query(`select 1 from grants where source = 'plan' and cycle_start = '2026-06-01T00:00:00Z'`)).toHaveLength(30);
    await expectVerified(h.ledger);
  });

  it('resets a seat once when balance lookups and usage race on it after its boundary', async () => {
    await hotMember(4000, 0);
    h.clock.set('2026-06-01T08:00:00Z'); // the reset job has not run
    const ledgers = replicas(8);
    const results = await Promise.all([
      ...ledgers.map((ledger) => ledger.balance('U0HOT0001')),
      ...ledgers.map((ledger, i) => ledger.authorize({ id: `june-${i}`, user: 'U0HOT0001', credits: 100 })),
      ...ledgers.map((ledger) => ledger.balance('U0HOT0001')),
    ]);
    expect(results.slice(0, 8).every((b) => 'quota' in b && b.quota === 4000 && b.cycle.start === '2026-06-01T00:00:00.000Z')).toBe(true);
    expect(await h.db.query(`select amount from grants where source = 'plan' and cycle_start = '2026-06-01T00:00:00Z'`)).toEqual([{ amount: 4000 }]);
    expect(await h.ledger.balance('U0HOT0001')).toMatchObject({ quota: 4000, used: 800, remaining: 3200 });
    await expectVerified(h.ledger);
  });

  it("lets every member draw on the new cycle's pool when batches race at the org boundary before the jobs ran", async () => {
    await h.ledger.putPlan('tiny', { name: 'Tiny', credits: 10 });
    await h.ledger.putProfile('design', { name: 'Design', poolCredits: 100_000 });
    const members = Array.from({ length: 24 }, (_, i) => padded('U0P', i));
    for (const m of members) await h.ledger.putSeat(m, { plan: 'tiny', profile: 'design' });
    h.clock.set('2026-06-01T00:05:00Z');
    // Each member needs the pool at once; the first batch to get there issues June's pool grant.
    const outcomes = (await Promise.all(members.map((m, i) => applyUsage(h.ledger.ctx, [{ id: `p-${i}`, user: m, credits: 100 }])))).flat();
    expect(outcomes.map((o) => (o.status === 'applied' ? [o.own, o.pool, o.overage] : o.status))).toEqual(members.map(() => [10, 90, 0]));
    expect(await h.db.query(`select remaining from grants where source = 'pool' and cycle_start = '2026-06-01T00:00:00Z'`)).toEqual([{ remaining: 100_000 - 24 * 90 }]);
    await expectVerified(h.ledger);
  });

  it('keeps every balance verified when admins change seats and packs while usage flows', async () => {
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 2000, rolloverCap: 300 });
    await h.ledger.putPackProduct('addon', { name: 'Add-on', credits: 1000, kind: 'recurring', rolloverCap: 500 });
    await h.ledger.putProfile('design', { name: 'Design', poolCredits: 5000, memberPoolCap: 800 });
    const members = Array.from({ length: 8 }, (_, i) => padded('U0A', i));
    for (const m of members) await h.ledger.putSeat(m, { plan: 'pro', profile: 'design' });
    await h.ledger.recordPurchase({ product: 'addon', quantity: 6 });
    const ledgers = replicas(4);
    const unexpected: unknown[] = [];
    const attempt = (work: () => Promise<unknown>) =>
      work().catch((error) => {
        if (!(error instanceof LedgerError)) unexpected.push(error);
      });
    for (let round = 0; round < 4; round++) {
      const work: Promise<unknown>[] = [];
      members.forEach((m, i) => {
        const ledger = ledgers[(i + round) % ledgers.length]!;
        work.push(attempt(() => ledger.recordUsage({ id: `r${round}-${m}-a`, user: m, credits: 150 + 50 * i })));
        work.push(attempt(() => ledger.authorize({ id: `r${round}-${m}-b`, user: m, credits: 400 })));
        if ((i + round) % 4 === 0) work.push(attempt(() => ledger.assignPack({ product: 'addon', user: m })));
        if ((i + round) % 4 === 1) work.push(attempt(() => ledger.unassignPack({ packId: 1 + ((i + round) % 6) })));
        if ((i + round) % 4 === 2) work.push(attempt(() => ledger.adjust({ user: m, credits: i % 2 ? 200 : -100, reason: 'race' })));
        if ((i + round) % 8 === 3) work.push(attempt(() => ledger.revokeSeat(m)));
        if ((i + round) % 8 === 7) work.push(attempt(() => ledger.putSeat(m, { plan: 'pro' })));
      });
      work.push(attempt(() => applyUsage(h.ledger.ctx, members.map((m, i) => ({ id: `r${round}-batch-${i}`, user: members[(i * 3) % 8]!, credits: 60 })))));
      work.push(attempt(() => ledgers[round % 4]!.runCycleJobs()));
      await Promise.all(work);
      h.clock.advance(11 * 24 * 3_600_000); // three or four rounds cross a boundary and a grace window
    }
    expect(unexpected).toEqual([]);
    expect(await strandedGrants(h.db)).toEqual([]);
    await expectVerified(h.ledger);
  });

  it('charges seats that another transaction updated while the batch waited for their lock, keeping that update', async () => {
    // The usage function finds each seat, then locks it where it found it (its ctid). A seat
    // updated meanwhile has moved and is not there: the batch must lock the seats by id instead,
    // charging each one once and keeping the other transaction's update.
    await h.ledger.putPlan('pro', { name: 'Pro', credits: 1_000 });
    const users = Array.from({ length: 20 }, (_, i) => padded('U0MOVE', i));
    for (const user of users) await h.ledger.putSeat(user, { plan: 'pro' });
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    const admin = h.db.transaction(async (tx) => {
      await tx.query(`update seats set vendor_user = 'moved-' || id where tool_key = 'default'`);
      holding();
      await released;
    });
    await held;
    const batch = applyUsage(h.ledger.ctx, users.map((user, i) => ({ id: `moved-${i}`, user, credits: i + 1 })));
    // Wait until the batch waits on a seat lock, then let the update commit.
    for (let waiting = 0; waiting === 0; ) {
      await new Promise((resolve) => setImmediate(resolve));
      [{ waiting }] = (await h.db.query<{ waiting: number }>(
        `select count(*)::int4 as waiting from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`,
      )) as [{ waiting: number }];
    }
    release();
    await admin;
    const outcomes = await batch;
    expect(outcomes.map((o) => [o.id, o.status, o.status === 'applied' ? o.own : null])).toEqual(users.map((_, i) => [`moved-${i}`, 'applied', i + 1]));
    for (const [i, user] of users.entries()) expect((await h.ledger.balance(user)).used, user).toBe(i + 1);
    expect(await h.db.query(`select count(*)::int4 as n from seats where vendor_user like 'moved-%'`)).toEqual([{ n: 20 }]);
    await expectVerified(h.ledger);
  });
});
