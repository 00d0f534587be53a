// Per-file test databases: PGlite in memory always, and a throw-away PostgreSQL database per
// file when TEST_DATABASE_URL is set, so files run in parallel without seeing each other.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { describe } from 'vitest';
import { openPglite, openScratchPostgres, type Database } from '../../src/db/client.ts';
import { migrate, migrations_folder } from '../../src/db/migrate.ts';
import { createLedger, type Ledger } from '../../src/ledger/index.ts';
import { defaultSettings, type LedgerSettings } from '../../src/ledger/context.ts';

export type DatabaseKind = 'pglite' | 'postgres';

/** Whether a PostgreSQL server is there to test on (CI's `.ci/run` always gives one). */
export const has_postgres = Boolean(process.env.TEST_DATABASE_URL);

/** The kinds every ledger test runs on: PGlite always, PostgreSQL when CI gives one. */
export const database_kinds: DatabaseKind[] = has_postgres ? ['pglite', 'postgres'] : ['pglite'];

/**
 * A suite that needs PostgreSQL (races, locks, two connections: PGlite is one connection, so
 * "concurrent" calls run one after another there). Without TEST_DATABASE_URL it shows as
 * skipped, so a run without a server says what it did not test.
 */
export const describeOnPostgres = describe.skipIf(!has_postgres);

/**
 * The same suite on each kind, named with `%s` replaced by the kind; the PostgreSQL one shows
 * as skipped without TEST_DATABASE_URL instead of vanishing as describe.each(database_kinds)'s does.
 */
export function describeEachDatabase(name: string, body: (kind: DatabaseKind) => void): void {
  for (const kind of ['pglite', 'postgres'] as const) {
    describe.skipIf(kind === 'postgres' && !has_postgres)(name.replace('%s', kind), () => body(kind));
  }
}

export async function openTestDatabase(kind: DatabaseKind, options: { poolMax?: number } = {}): Promise<Database> {
  if (kind === 'pglite') return openMigratedPglite();
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) throw new Error('TEST_DATABASE_URL is not set');
  // A throw-away database need not wait for each commit to reach the disk: on a busy machine
  // that wait is much of a PostgreSQL test's time. What a test sees is the same.
  const url = new URL(serverUrl);
  url.searchParams.set('options', `${url.searchParams.get('options') ?? ''} -c synchronous_commit=off`.trim());
  const db = await openScratchPostgres(url.toString(), 'creditdesk_test', options);
  await migrate(db);
  return db;
}

/**
 * A migrated PGlite cluster as a dumpDataDir() tarball, for openPglite's loadDataDir: starting
 * from it takes about 0.5 s in memory (2 s in a data folder) where initialising and migrating a
 * cluster takes 2-5 s on a busy machine. Kept in the system's temporary folder, named by the
 * migrations and the PGlite version; the first test file to need it writes it, and a rename
 * makes it appear whole to files running beside it.
 */
export async function migratedPgliteSnapshot(): Promise<Blob> {
  const snapshot = join(tmpdir(), `creditdesk-test-pglite-${migratedClusterKey()}.tar`);
  if (existsSync(snapshot)) return new Blob([readFileSync(snapshot)]);
  const db = await openPglite();
  await migrate(db);
  const dump = await (db.driver as PGlite).dumpDataDir('none');
  await db.close();
  const partial = `${snapshot}.${process.pid}`;
  writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
  renameSync(partial, snapshot);
  return dump;
}

async function openMigratedPglite(): Promise<Database> {
  const db = await openPglite(undefined, { loadDataDir: await migratedPgliteSnapshot() });
  await migrate(db); // nothing to apply: the snapshot holds every migration
  return db;
}

function migratedClusterKey(): string {
  const hash = createHash('sha256');
  const pglite = new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url);
  hash.update(JSON.parse(readFileSync(pglite, 'utf8')).version);
  const files = readdirSync(migrations_folder, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
  for (const path of files.map((f) => join(f.parentPath, f.name)).sort()) hash.update(path.slice(migrations_folder.length)).update(readFileSync(path));
  return hash.digest('hex').slice(0, 16);
}

/**
 * Empties every table between tests; ids restart so tests read the same way on both kinds.
 * DELETE, children before parents, rather than TRUNCATE: on PostgreSQL a TRUNCATE of every table
 * makes new files and syncs them at commit, 200-400 ms on a busy machine where this takes 10.
 */
export async function emptyDatabase(db: Database): Promise<void> {
  const tables = await db.query<{ name: string; parents: string[] }>(
    `select c.relname as name,
            coalesce(array_agg(p.relname) filter (where p.relname is not null and p.oid <> c.oid), '{}') as parents
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     left join pg_constraint fk on fk.conrelid = c.oid and fk.contype = 'f'
     left join pg_class p on p.oid = fk.confrelid
     where n.nspname = 'public' and c.relkind in ('r', 'p')
     group by c.relname`,
  );
  const sequences = await db.query<{ name: string }>(`select sequencename as name from pg_sequences where schemaname = 'public'`);
  // Children first: a table is emptied once no table left refers to it.
  const left = new Map(tables.map((t) => [t.name, t.parents]));
  const order: string[] = [];
  while (left.size > 0) {
    const leaves = [...left.keys()].filter((name) => ![...left.values()].some((parents) => parents.includes(name)));
    if (leaves.length === 0) throw new Error(`tables refer to each other in a cycle: ${[...left.keys()].join(', ')}`);
    for (const name of leaves) {
      order.push(name);
      left.delete(name);
    }
  }
  await db.transaction(async (tx) => {
    for (const name of order) await tx.query(`delete from "${name}"`);
    for (const { name } of sequences) await tx.query(`select setval('"${name}"', 1, false)`);
    // As a freshly migrated database: the one tool every org starts with, created before
    // anything a test makes at its own clock's time, as the migration's tool is.
    await tx.query(`insert into tools (key, name, unit, created_at) values ('default', 'AI credits', 'credits', '2000-01-01T00:00:00Z')`);
  });
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
