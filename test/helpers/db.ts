// Per-file test databases: PGlite in memory always, and a throw-away PostgreSQL database per
// file when TEST_DATABASE_URL is set, so files run in parallel without seeing each other.
import { openPglite, openScratchPostgres, type Database } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createLedger, type Ledger } from '../../src/ledger/index.ts';
import { defaultSettings, type LedgerSettings } from '../../src/ledger/context.ts';

export type DatabaseKind = 'pglite' | 'postgres';

/** The kinds every ledger test runs on: PGlite always, PostgreSQL when CI gives one. */
export const database_kinds: DatabaseKind[] = process.env.TEST_DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];

export async function openTestDatabase(kind: DatabaseKind, options: { poolMax?: number } = {}): Promise<Database> {
  if (kind === 'pglite') {
    const db = await openPglite();
    await migrate(db);
    return db;
  }
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) throw new Error('TEST_DATABASE_URL is not set');
  const db = await openScratchPostgres(serverUrl, 'creditdesk_test', options);
  await migrate(db);
  return db;
}

/** Empties every table between tests; ids restart so tests read the same way on both kinds. */
export async function emptyDatabase(db: Database): Promise<void> {
  const tables = await db.query<{ name: string }>(
    `select tablename as name from pg_tables where schemaname = 'public'`,
  );
  await db.query(`truncate ${tables.map((t) => `"${t.name}"`).join(', ')} restart identity cascade`);
  // As a freshly migrated database: the one tool every org starts with.
  // Created before anything a test makes at its own clock's time, as the migration's tool is.
  await db.query(`insert into tools (key, name, unit, created_at) values ('default', 'AI credits', 'credits', '2000-01-01T00:00:00Z')`);
}

/** A clock tests move by hand: no test sleeps. */
export class TestClock {
  constructor(public current: Date) {}
  now = (): Date => new Date(this.current);
  set(iso: string): void {
    this.current = new Date(iso);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export function testLedger(db: Database, clock: TestClock, settings: Partial<LedgerSettings> = {}): Ledger {
  return createLedger({ db, now: clock.now, settings: { ...defaultSettings, ...settings } });
}
