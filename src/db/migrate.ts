// Applies the drizzle-kit migrations in migrations/ to either database, at start-up and from the CLI.
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type pg from 'pg';
import type { Database } from './client.ts';

export const migrations_folder = fileURLToPath(new URL('../../migrations', import.meta.url));

/** Arbitrary, fixed: replicas starting together take turns applying migrations. */
const migration_lock_key = 7_410_001;

/** Applies every migration in `folder` (default: the project's) not yet applied; replicas take turns. */
export async function migrate(db: Database, folder: string = migrations_folder): Promise<void> {
  if (db.kind === 'pglite') {
    await migratePglite(drizzlePglite(db.driver as PGlite), { migrationsFolder: folder });
    return;
  }
  const pool = db.driver as pg.Pool;
  const lock = await pool.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [migration_lock_key]);
    await migratePg(drizzlePg(pool), { migrationsFolder: folder });
  } finally {
    await lock.query('select pg_advisory_unlock($1)', [migration_lock_key]).catch(() => {});
    lock.release();
  }
}
