// What the tests that run the creditdesk command itself share: a database it can open by its environment.
import { rmSync } from 'node:fs';
import { openPglite, type Database } from '../../src/db/client.ts';
import { has_postgres, migratedPgliteFolder, openTestDatabase, urlOf } from '../helpers/db.ts';

/**
 * A migrated, empty database the command can open by its environment: a test database on
 * PostgreSQL when TEST_DATABASE_URL is set (it opens in a fraction of PGlite's time), else a
 * PGlite folder holding a migrated cluster. Only one process at a time may hold a PGlite
 * folder: close `db` before the command runs.
 */
export async function commandDatabase(): Promise<{ db: Database; env: Record<string, string>; remove: () => Promise<void> }> {
  if (!has_postgres) {
    const dataDir = await migratedPgliteFolder();
    const db = await openPglite(dataDir);
    return { db, env: { DATA_DIR: dataDir }, remove: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const db = await openTestDatabase('postgres');
  return { db, env: { DATABASE_URL: await urlOf(db) }, remove: () => db.close() };
}
