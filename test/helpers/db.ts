// Test databases: PGlite in memory always, and PostgreSQL databases of their own when
// TEST_DATABASE_URL is set, so test files (and two runs of the suite) never see each other's rows.
// Opening one costs a second or more on a busy machine, so a closed one is emptied and handed to
// the next describe block instead of thrown away.
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { describe, inject } from 'vitest';
import { openPglite, openPostgres, type Database } from '../../src/db/client.ts';
import { migrate, migrations_folder } from '../../src/db/migrate.ts';
import { createLedger, type Ledger } from '../../src/ledger/index.ts';
import { defaultSettings, type LedgerSettings } from '../../src/ledger/context.ts';

export type DatabaseKind = 'pglite' | 'postgres';

/** Whether a PostgreSQL server is there to test on (CI's `.ci/run` always gives one). */
export const has_postgres = Boolean(process.env.TEST_DATABASE_URL);

/**
 * A suite that needs PostgreSQL (races, locks, two connections: PGlite is one connection, so
 * "concurrent" calls run one after another there). Without TEST_DATABASE_URL it shows as
 * skipped, so a run without a server says what it did not test.
 */
export const describeOnPostgres = describe.skipIf(!has_postgres);

/**
 * The same suite on each kind, named with `%s` replaced by the kind; the PostgreSQL one shows
 * as skipped without TEST_DATABASE_URL instead of vanishing as a describe.each over the kinds
 * there are would.
 */
export function describeEachDatabase(name: string, body: (kind: DatabaseKind) => void): void {
  for (const kind of ['pglite', 'postgres'] as const) {
    describe.skipIf(kind === 'postgres' && !has_postgres)(name.replace('%s', kind), () => body(kind));
  }
}

/**
 * An empty, migrated database of `kind` for one describe block or test, as if just made: every
 * table empty, ids restarting at 1, the one `default` tool. Close it when done; it goes back to
 * this process's pool rather than away, so the next block takes it in milliseconds where a new
 * one costs a second or more on a busy machine. One holder at a time: two opened together are
 * two databases. A database whose schema a test changed (a table, a function, a trigger left
 * behind) is not handed out again.
 *
 * PostgreSQL: a database of its own on the TEST_DATABASE_URL server, copied from the migrated
 * template the run's global set-up made (test/helpers/global-setup.ts), with a new connection
 * pool of `poolMax` for each holder; the global teardown drops them all.
 */
export async function openTestDatabase(kind: DatabaseKind, options: { poolMax?: number } = {}): Promise<Database> {
  const kept = keptDatabases();
  if (kind === 'pglite') {
    const reused = kept.pglite.pop();
    const db = reused ?? (await openMigratedPglite());
    if (!reused) await learnSchema(db);
    return handOut(db, async () => {
      if (await sameSchema(db)) kept.pglite.push(db);
      else await db.close();
    });
  }
  const reused = kept.postgres.pop();
  const name = reused ?? (await createPostgresDatabase());
  const db = openPostgres(postgresUrl(name), options);
  if (!reused) await learnSchema(db);
  return handOut(db, async () => {
    const reusable = await sameSchema(db);
    await db.close();
    if (reusable) kept.postgres.push(name);
  });
}

/** `db` emptied, with a close that gives it back (once) through `giveBack`. */
async function handOut(db: Database, giveBack: () => Promise<void>): Promise<Database> {
  await emptyDatabase(db);
  let closed = false;
  return {
    ...db,
    close: async () => {
      if (closed) return;
      closed = true;
      await giveBack();
    },
  };
}

/** This process's databases that nobody holds; on globalThis, so test files run in one process share them. */
function keptDatabases(): KeptDatabases {
  const key = Symbol.for('creditdesk.test.kept-databases');
  const store = globalThis as unknown as Record<symbol, KeptDatabases | undefined>;
  return (store[key] ??= { pglite: [], postgres: [], fingerprints: {} });
}

interface KeptDatabases {
  pglite: Database[];
  postgres: string[];
  /** The schema of a freshly migrated database of each kind, as sameSchema() reads it. */
  fingerprints: Partial<Record<DatabaseKind, string>>;
}

/**
 * The URL of database `name` on the TEST_DATABASE_URL server. A throw-away database need not wait
 * for each commit to reach the disk: on a busy machine that wait is much of a PostgreSQL test's
 * time. What a test sees is the same.
 */
export function postgresUrl(name: string): string {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) throw new Error('TEST_DATABASE_URL is not set');
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  url.searchParams.set('options', `${url.searchParams.get('options') ?? ''} -c synchronous_commit=off`.trim());
  return url.toString();
}

/** The URL of a test database on PostgreSQL, as a process or a second pool opens it: TEST_DATABASE_URL's server. */
export async function urlOf(db: Database): Promise<string> {
  const [{ name }] = (await db.query<{ name: string }>(`select current_database() as name`)) as [{ name: string }];
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A new database on the TEST_DATABASE_URL server, named for this run so its global teardown drops
 * it: a copy of the run's migrated template, or with `empty`, of template1 as `create database`
 * makes by default (for tests that migrate by hand).
 */
export async function createPostgresDatabase(options: { empty?: boolean } = {}): Promise<string> {
  const prefix = inject('postgres_prefix');
  if (!prefix) throw new Error('no PostgreSQL database prefix: TEST_DATABASE_URL was not set when the run began');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create database ${name} template ${options.empty ? 'template1' : templateName(prefix)}`);
  return name;
}

/** The migrated database every test database of a run is copied from, as test/helpers/global-setup.ts names it. */
const templateName = (prefix: string) => `${prefix}_template`;

/** One statement on the TEST_DATABASE_URL server's own database, on a connection of its own. */
async function adminQuery(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A migrated PGlite cluster as a dumpDataDir() tarball, for openPglite's loadDataDir: starting
 * from it takes about 0.5 s in memory (2 s in a data folder) where initialising and migrating a
 * cluster takes 2-5 s on a busy machine. Kept in the system's temporary folder, named by the
 * migrations and the PGlite version; the first test file to need it writes it, and a rename
 * makes it appear whole to files running beside it.
 */
export async function migratedPgliteSnapshot(): Promise<Blob> {
  return pgliteSnapshot(`migrated-${clusterKey(true)}`, (db) => migrate(db));
}

/**
 * A new PGlite cluster, before any migration, as migratedPgliteSnapshot() keeps it: for tests that
 * migrate by hand, without initialising a cluster (4-9 s on a busy machine) each time.
 */
export async function barePgliteSnapshot(): Promise<Blob> {
  return pgliteSnapshot(`bare-${clusterKey(false)}`, async () => {});
}

/**
 * A new data folder of its own holding a migrated PGlite cluster, for tests that open PGlite on
 * disk or start a process on it; the caller removes it. A copy of a folder kept beside the
 * snapshot: copying and opening it takes half the time of writing the snapshot out to a folder.
 */
export async function migratedPgliteFolder(): Promise<string> {
  const kept = join(tmpdir(), `creditdesk-test-pglite-migrated-${clusterKey(true)}`);
  if (!existsSync(kept)) {
    const building = mkdtempSync(`${kept}.`);
    const db = await openPglite(building, { loadDataDir: await migratedPgliteSnapshot() });
    await db.close();
    // Whole or not at all to files running beside this one; one of them may have been first.
    try {
      renameSync(building, kept);
    } catch {
      rmSync(building, { recursive: true, force: true });
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'creditdesk-test-'));
  cpSync(kept, dir, { recursive: true });
  return dir;
}

async function pgliteSnapshot(name: string, build: (db: Database) => Promise<void>): Promise<Blob> {
  const snapshot = join(tmpdir(), `creditdesk-test-pglite-${name}.tar`);
  if (existsSync(snapshot)) return new Blob([readFileSync(snapshot)]);
  const db = await openPglite();
  await build(db);
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

/** What a snapshot depends on: the PGlite version, and the migrations when it holds them. */
function clusterKey(withMigrations: boolean): string {
  const hash = createHash('sha256');
  const pglite = new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url);
  hash.update(JSON.parse(readFileSync(pglite, 'utf8')).version);
  if (!withMigrations) return hash.digest('hex').slice(0, 16);
  const files = readdirSync(migrations_folder, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
  for (const path of files.map((f) => join(f.parentPath, f.name)).sort()) hash.update(path.slice(migrations_folder.length)).update(readFileSync(path));
  return hash.digest('hex').slice(0, 16);
}

/**
 * Empties every table between tests; ids restart so tests read the same way on both kinds.
 * DELETE, children before parents, rather than TRUNCATE: on PostgreSQL a TRUNCATE of every table
 * makes new files and syncs them at commit, 200-400 ms on a busy machine where this takes 10.
 * The statements are worked out once per database and sent as one script, one round trip: a
 * query each (and the catalog read) cost 100 ms a test on PGlite.
 */
export async function emptyDatabase(db: Database): Promise<void> {
  let script = empty_scripts.get(db.driver);
  if (!script) {
    script = await emptyingScript(db);
    empty_scripts.set(db.driver, script);
  }
  // Several statements in one text: PGlite's exec and pg's simple query protocol take them.
  if (db.kind === 'pglite') await (db.driver as PGlite).exec(script);
  else await (db.driver as pg.Pool).query(script);
}

const empty_scripts = new WeakMap<object, string>();

async function emptyingScript(db: Database): Promise<string> {
  const tables = await db.query<{ name: string; parents: string[] }>(
    `select c.relname as name,
            coalesce(array_agg(p.relname) filter (where p.relname is not null and p.oid <> c.oid), '{}') as parents
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     left join pg_constraint fk on fk.conrelid = c.oid and fk.contype = 'f'
     left join pg_class p on p.oid = fk.confrelid
     where n.nspname = 'public' and c.relkind in ('r', 'p')
     group by c.relname`,
  );
  const sequences = await db.query<{ name: string }>(`select sequencename as name from pg_sequences where schemaname = 'public' order by 1`);
  // Children first: a table is emptied once no table left refers to it.
  const left = new Map(tables.map((t) => [t.name, t.parents]));
  const order: string[] = [];
  while (left.size > 0) {
    const leaves = [...left.keys()].filter((name) => ![...left.values()].some((parents) => parents.includes(name))).sort();
    if (leaves.length === 0) throw new Error(`tables refer to each other in a cycle: ${[...left.keys()].join(', ')}`);
    for (const name of leaves) {
      order.push(name);
      left.delete(name);
    }
  }
  return [
    'begin',
    ...order.map((name) => `delete from "${name}"`),
    ...(sequences.length ? [`select ${sequences.map(({ name }) => `setval('"${name}"', 1, false)`).join(', ')}`] : []),
    // As a freshly migrated database: the one tool every org starts with, created before
    // anything a test makes at its own clock's time, as the migration's tool is.
    `insert into tools (key, name, unit, created_at) values ('default', 'AI credits', 'credits', '2000-01-01T00:00:00Z')`,
    'commit',
  ].join(';\n');
}

/**
 * Whether `db`'s schema is still the migrated one: its tables and their columns, indexes,
 * constraints, sequences, functions and triggers, as a fingerprint compared with the first
 * database of its kind this process saw. A test that left a table or a trigger behind makes its
 * database unfit to hand out again (and its emptying script, cached, would be wrong).
 */
async function sameSchema(db: Database): Promise<boolean> {
  return keptDatabases().fingerprints[db.kind] === (await schemaFingerprint(db));
}

/** Takes the schema of `db`, freshly migrated, as what sameSchema() expects of its kind. */
async function learnSchema(db: Database): Promise<void> {
  keptDatabases().fingerprints[db.kind] ??= await schemaFingerprint(db);
}

async function schemaFingerprint(db: Database): Promise<string> {
  const [{ fingerprint }] = (await db.query<{ fingerprint: string }>(
    `select md5(string_agg(item, ',' order by item)) as fingerprint from (
       select c.relkind::text || ':' || c.relname || ':' || coalesce((
         select string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull, ',' order by a.attnum)
         from pg_attribute a where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped), '') as item
       from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public'
       union all
       select 'constraint:' || conname || ':' || pg_get_constraintdef(k.oid) from pg_constraint k join pg_namespace n on n.oid = k.connamespace where n.nspname = 'public'
       union all
       select 'function:' || proname || ':' || md5(prosrc) from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public'
       union all
       select 'trigger:' || tgname || ':' || tgenabled::text from pg_trigger where not tgisinternal
     ) items`,
  )) as [{ fingerprint: string }];
  return fingerprint;
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
