// Shared set-up for the ledger tests: one database per file and kind, emptied before each test,
// a hand-moved clock, and small readers for what the rules talk about (sources, stranded credits).
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import type { LedgerSettings } from '../../src/ledger/context.ts';
import type { Ledger } from '../../src/ledger/index.ts';
import type { AppliedUsage, RejectedUsage, UsageEvent } from '../../src/ledger/usage.ts';
import { emptyDatabase, openTestDatabase, TestClock, testLedger, type DatabaseKind } from './db.ts';

export const hour_ms = 3_600_000;
export const day_ms = 24 * hour_ms;

export interface LedgerHarness {
  db: Database;
  clock: TestClock;
  ledger: Ledger;
  /** A second ledger on the same database with other settings (e.g. proration). */
  with(settings: Partial<LedgerSettings>): Ledger;
}

/**
 * Registers the hooks of one describe block: the database opens once, every test starts empty
 * at `start` with a fresh ledger.
 */
export function useLedger(
  kind: DatabaseKind,
  options: { start?: string; settings?: Partial<LedgerSettings>; poolMax?: number } = {},
): LedgerHarness {
  const start = options.start ?? '2026-05-10T12:00:00Z';
  const harness = { clock: new TestClock(new Date(start)) } as LedgerHarness;
  harness.with = (settings) => testLedger(harness.db, harness.clock, { ...options.settings, ...settings });
  beforeAll(async () => {
    harness.db = await openTestDatabase(kind, { poolMax: options.poolMax });
  });
  afterAll(async () => harness.db?.close());
  beforeEach(async () => {
    await emptyDatabase(harness.db);
    harness.clock.set(start);
    harness.ledger = testLedger(harness.db, harness.clock, options.settings);
  });
  return harness;
}

let event_seq = 0;
/** A unique event id, for tests that do not care about it. */
export const eventId = (prefix = 'e') => `${prefix}-${++event_seq}`;

export async function use(ledger: Ledger, user: string, credits: number, extra: Partial<UsageEvent> = {}) {
  return (await ledger.recordUsage({ id: eventId(), user, credits, ...extra })) as AppliedUsage | RejectedUsage;
}

/** [kind, remaining] of each source the balance lists, in grant order. */
export async function sourcesOf(ledger: Ledger, user: string): Promise<[string, number][]> {
  return (await ledger.balance(user)).sources.map((s) => [s.kind, s.remaining]);
}

export async function expectVerified(ledger: Ledger): Promise<void> {
  const report = await ledger.verify();
  expect(report.differences).toEqual([]);
  expect(report.ok).toBe(true);
}

/**
 * Grants that left their holder or were swept but still hold credits: nobody can draw on them and
 * the sweep never books them, so those credits would sit in a balance row forever.
 */
export async function strandedGrants(db: Database): Promise<{ id: number; source: string; remaining: number }[]> {
  return db.query(`select id, source, remaining from grants where closed_at is not null and remaining > 0 order by id`);
}

export async function journalCount(db: Database): Promise<number> {
  const [row] = await db.query<{ n: number }>(`select count(*)::int8 as n from journal`);
  return row!.n;
}

/** The report row of one member for a cycle name. */
export async function reportRow(ledger: Ledger, cycle: string, user: string, tool?: string) {
  const report = await ledger.report(cycle, tool);
  const row = report.rows.find((r) => r.user === user || r.email === user);
  expect(row, `${user} in the ${cycle} report`).toBeDefined();
  return row!;
}
