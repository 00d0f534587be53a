// What the tests that run the creditdesk command itself share: a database it can open by its environment.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openPglite, openPostgres, type Database } from '../../src/db/client.ts';
import { migrate } from '../../src/db/migrate.ts';

/**
 * A migrated database the command can open by its environment: a scratch PostgreSQL database when
 * TEST_DATABASE_URL is set (it opens in a fraction of PGlite's time), else a PGlite folder.
 */
export async function commandDatabase(): Promise<{ db: Database; env: Record<string, string>; remove: () => Promise<void> }> {
  const server = process.env.TEST_DATABASE_URL;
  if (!server) {
    const dataDir = mkdtempSync(join(tmpdir(), 'creditdesk-command-'));
    const db = await openPglite(dataDir);
    await migrate(db);
    return { db, env: { DATA_DIR: dataDir }, remove: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const name = `creditdesk_cli_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  await admin(`create database ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const db = openPostgres(url.toString());
  await migrate(db);
  return { db, env: { DATABASE_URL: url.toString() }, remove: () => admin(`drop database if exists ${name} with (force)`) };
}
