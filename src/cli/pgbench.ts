// The reference the ingest figures are measured against (SPEC "Performance"): pgbench on the same
// server, in the same run, doing the least a usage write can do. Each transaction inserts one
// usage row and makes one conditional balance update, from 8 clients for 15 s. Its TPS is what the
// database itself reaches for one event per transaction on this machine today.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Queryable } from '../db/client.ts';

const run = promisify(execFile);

/** pgbench's setting, from SPEC: 8 clients for 15 s, over as many balance rows as the bench has seats. */
export interface PgbenchOptions {
  clients: number;
  seconds: number;
  /** Balance rows the updates spread over (the bench's seat count). */
  rows: number;
}

export const pgbench_defaults: Omit<PgbenchOptions, 'rows'> = { clients: 8, seconds: 15 };

/** One usage row and one conditional balance update per transaction, on a random balance row. */
const script = `\\set seat random(1, :rows)
BEGIN;
INSERT INTO pgbench_usage (seat_id, credits, occurred_at) VALUES (:seat, 3, now());
UPDATE pgbench_balances SET remaining = remaining - 3 WHERE seat_id = :seat AND remaining >= 3;
END;
`;

/**
 * Runs pgbench against the database `url` names (the bench's throw-away database, through `db`
 * for its two tables, dropped again afterwards). Resolves with the transactions per second
 * pgbench reports (without connection time). Throws when pgbench is not installed or fails,
 * with its own message.
 */
export async function pgbenchTps(db: Queryable, url: string, options: PgbenchOptions): Promise<number> {
  await db.query(`create table pgbench_usage (id bigserial primary key, seat_id int4 not null, credits int8 not null, occurred_at timestamptz not null)`);
  await db.query(`create table pgbench_balances (seat_id int4 primary key, remaining int8 not null)`);
  await db.query(`insert into pgbench_balances select g, 1000000000 from generate_series(1, $1::int4) g`, [options.rows]);
  await db.query('analyze pgbench_balances');
  const dir = await mkdtemp(join(tmpdir(), 'creditdesk-pgbench-'));
  try {
    const file = join(dir, 'usage.sql');
    await writeFile(file, script);
    const threads = Math.min(options.clients, 2);
    let stdout: string;
    try {
      ({ stdout } = await run('pgbench', ['-n', '-c', String(options.clients), '-j', String(threads), '-T', String(options.seconds), '-D', `rows=${options.rows}`, '-f', file, url]));
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT') throw new Error('--compare-pgbench needs pgbench on the PATH (Debian: apt install postgresql-client)');
      throw new Error(`pgbench failed: ${(e.stderr ?? e.message).trim()}`);
    }
    const tps = /tps = ([0-9.]+) \(without initial connection time\)/.exec(stdout);
    if (!tps) throw new Error(`pgbench printed no TPS:\n${stdout}`);
    return Number(tps[1]);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await db.query('drop table if exists pgbench_usage, pgbench_balances');
  }
}
