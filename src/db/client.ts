// One interface over PostgreSQL (a pg pool) and embedded PGlite: the ledger writes plain,
// parameterised SQL against it, so the same queries and migrations serve both.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import pg from 'pg';

export interface QueryOptions {
  /**
   * Hot statements name themselves: PostgreSQL then parses and plans them once per connection
   * instead of on every call, which for the ledger's larger statements costs as much as running
   * them on a small batch. One name, one text. PGlite has no named statements and ignores it.
   */
  name?: string;
}

export interface Queryable {
  query<Row = Record<string, unknown>>(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<Row[]>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs fn in one transaction; retried whole when PostgreSQL reports a deadlock or serialization failure. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /**
   * Runs fn while holding a session advisory lock on `key`, shared by every replica on the
   * database; resolves undefined at once, without running fn, when another holder has it.
   */
  exclusively<T>(key: number, fn: () => Promise<T>): Promise<T | undefined>;
  /** The driver underneath, for drizzle's migrator. */
  readonly driver: pg.Pool | PGlite;
}

/**
 * SQLSTATEs that mean the database is not there to answer, rather than that a statement was wrong:
 * class 08 (connection exception), 57P01-57P03 (admin shutdown, crash shutdown, cannot connect
 * now: a restart) and 53300 (too many connections). PostgreSQL's appendix "Error codes".
 */
const unavailable_sql_state = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;
/** Network errors of Node's sockets while reaching the database. */
const unavailable_errno = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/**
 * What pg and PGlite say, without a code, when the connection is gone or none can be had: the
 * pool's wait for a connection timed out, a connection ended under a query, the database closed.
 */
const unavailable_messages = [
  /^timeout exceeded when trying to connect$/,
  /^Connection terminated/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Cannot use a pool after calling end on the pool$/,
  /^PGlite is closed$/,
];

/**
 * Whether `error` means the database is down or unreachable (so the caller should come back in a
 * few seconds) rather than that the request or the code was wrong. Looks through `cause` and an
 * AggregateError's errors (a host name that resolves to several addresses).
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (error === null || typeof error !== 'object' || depth > 3) return false;
  const { code, message, cause, errors } = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && (unavailable_sql_state.test(code) || unavailable_errno.has(code))) return true;
  if (typeof message === 'string' && unavailable_messages.some((m) => m.test(message))) return true;
  if (Array.isArray(errors) && errors.some((e) => isDatabaseUnavailable(e, depth + 1))) return true;
  return isDatabaseUnavailable(cause, depth + 1);
}

/** PostgreSQL error codes after which the whole transaction may simply run again. */
const retryable_sql_states = new Set(['40001', '40P01']);
const transaction_attempts_max = 5;

/** A transaction that must run again from the start, e.g. after losing a race on a unique key. */
export class RetryTransaction extends Error {}

/** The error says the transaction may simply run again (a serialization failure, a deadlock, RetryTransaction). */
export function isRetryable(error: unknown): boolean {
  if (error instanceof RetryTransaction) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && retryable_sql_states.has(code);
}

async function withRetries<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= transaction_attempts_max || !isRetryable(error)) throw error;
    }
  }
}

// int8 and numeric arrive as strings by default. Credits stay far below 2^53, so numbers are
// exact; the ledger refuses amounts above credits_max (ledger/limits.ts) to keep it so.
const int8_oid = 20;
const parseInt8 = (value: string) => Number(value);

/**
 * How long a query waits for a connection, from the pool or a new one, before the database counts
 * as unavailable. Without it a query against an unreachable host waits for the operating
 * system's TCP timeout (minutes on Linux), and so does the request behind it.
 */
const connect_timeout_ms = 10_000;

export interface PostgresOptions {
  poolMax?: number;
  /** Tests: a shorter wait for a connection than connect_timeout_ms. */
  connectTimeoutMs?: number;
}

export function openPostgres(url: string, options: PostgresOptions = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolMax ?? 16,
    connectionTimeoutMillis: options.connectTimeoutMs ?? connect_timeout_ms,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === int8_oid ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client's error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const query = async <Row>(text: string, params?: readonly unknown[], options?: QueryOptions) =>
    (await pool.query({ text, values: params as unknown[], name: options?.name })).rows as Row[];
  return {
    kind: 'postgres',
    driver: pool,
    query,
    transaction: (fn) =>
      withRetries(async () => {
        const client = await pool.connect();
        try {
          await client.query('begin');
          const tx: Queryable = {
            query: async <Row>(text: string, params?: readonly unknown[], options?: QueryOptions) =>
              (await client.query({ text, values: params as unknown[], name: options?.name })).rows as Row[],
          };
          const result = await fn(tx);
          await client.query('commit');
          return result;
        } catch (error) {
          await client.query('rollback').catch(() => {});
          throw error;
        } finally {
          client.release();
        }
      }),
    exclusively: async (key, fn) => {
      const session = await pool.connect();
      try {
        const [{ locked }] = (await session.query('select pg_try_advisory_lock($1) as locked', [key])).rows;
        if (!locked) return undefined;
        try {
          return await fn();
        } finally {
          await session.query('select pg_advisory_unlock($1)', [key]);
        }
      } finally {
        session.release();
      }
    },
    close: () => pool.end(),
  };
}

/**
 * PGlite keeps its data in one folder and has no lock of its own: two processes opening it
 * corrupt it, so a lock file holding our pid guards it.
 */
function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const lockPath = join(dir, 'creditdesk.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lockPath, 'utf8'));
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new Error(`the data folder ${dir} is in use by process ${holder}; stop it or set DATA_DIR to another folder`);
      }
      rmSync(lockPath, { force: true }); // left behind by a process that died
    }
  }
  throw new Error(`could not lock the data folder ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * dataDir undefined keeps the database in memory (tests). options.loadDataDir starts it from a
 * PGlite.dumpDataDir() tarball instead of an empty cluster (tests start from a migrated one).
 */
export async function openPglite(dataDir?: string, options: { loadDataDir?: Blob } = {}): Promise<Database> {
  const unlock = dataDir ? lockDataDir(dataDir) : () => {};
  let db: PGlite;
  try {
    db = await PGlite.create(dataDir ?? 'memory://', {
      loadDataDir: options.loadDataDir,
      parsers: { [int8_oid]: parseInt8, [pgliteTypes.NUMERIC]: (value: string) => value },
    });
  } catch (error) {
    unlock();
    throw error;
  }
  const query = async <Row>(text: string, params?: readonly unknown[]) =>
    (await db.query<Row>(text, params as unknown[])).rows;
  const held = new Set<number>();
  return {
    kind: 'pglite',
    driver: db,
    query,
    transaction: (fn) =>
      withRetries(() =>
        db.transaction(async (inner) =>
          fn({ query: async <Row>(text: string, params?: readonly unknown[]) => (await inner.query<Row>(text, params as unknown[])).rows }),
        ),
      ),
    // One process owns a PGlite folder (the lock file sees to that): a lock in memory suffices.
    exclusively: async (key, fn) => {
      if (held.has(key)) return undefined;
      held.add(key);
      try {
        return await fn();
      } finally {
        held.delete(key);
      }
    },
    close: async () => {
      await db.close();
      unlock();
    },
  };
}

/** How long closing a scratch database waits for its running statements before dropping it anyway. */
const scratch_close_wait_ms = 2_000;

/**
 * A throw-away database on the server of `serverUrl`, dropped again by close(): for tests and
 * the benchmark, which must never write into a database someone else uses. `url` names it, for
 * tools run beside (pgbench).
 */
export async function openScratchPostgres(serverUrl: string, prefix: string, options: PostgresOptions = {}): Promise<Database & { url: string }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = openPostgres(url.toString(), options);
  return {
    ...db,
    url: url.toString(),
    close: async () => {
      // The pool's end waits for running statements; a bench interrupted in the middle of a
      // long one (building 10 M entries) still drops its database: FORCE ends that statement.
      let waited: NodeJS.Timeout | undefined;
      await Promise.race([db.close(), new Promise((resolve) => (waited = setTimeout(resolve, scratch_close_wait_ms)))]);
      clearTimeout(waited);
      await admin(`drop database if exists ${name} with (force)`);
    },
  };
}

export async function openDatabase(options: { url?: string; dataDir: string; poolMax?: number }): Promise<Database> {
  return options.url ? openPostgres(options.url, options) : openPglite(options.dataDir);
}
