// The database down or out of reach: every API route answers 503 with Retry-After and a message,
// as /healthz does, instead of a 500; bad input and a wrong token are answered as ever.
import { createServer } from 'node:net';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.ts';
import { isDatabaseUnavailable, openPglite, openPostgres, type Database } from '../../src/db/client.ts';
import { createMetrics } from '../../src/metrics.ts';
import { barePgliteSnapshot, describeOnPostgres, openTestDatabase, TestClock, testLedger } from '../helpers/db.ts';
import { api_token } from './helpers.ts';

/** One well-formed request to every API route: each would reach the database. */
const every_route: [string, string, unknown][] = [
  ['POST', '/api/v1/usage', { events: [{ id: 'e1', user: 'U0MAYA001', credits: 5 }] }],
  ['POST', '/api/v1/usage', { events: [{ id: 'e1', user: 'U0MAYA001', credits: 5 }, { id: 'e2', user: 'U0MAYA001', credits: 5 }] }],
  ['POST', '/api/v1/authorize', { id: 'a1', user: 'U0MAYA001', credits: 5 }],
  ['GET', '/api/v1/balances/U0MAYA001', undefined],
  ['PUT', '/api/v1/plans/pro', { name: 'Pro', credits: 4000 }],
  ['PUT', '/api/v1/pack-products/addon', { name: 'Add-on', credits: 2000, kind: 'recurring' }],
  ['PUT', '/api/v1/profiles/design', { name: 'Design', pool_credits: 100 }],
  ['PUT', '/api/v1/seats/U0MAYA001', { plan: 'pro' }],
  ['GET', '/api/v1/seats/U0MAYA001/revoke-preview', undefined],
  ['DELETE', '/api/v1/seats/U0MAYA001', undefined],
  ['POST', '/api/v1/purchases', { product: 'addon', quantity: 1 }],
  ['POST', '/api/v1/packs/assign', { product: 'addon', user: 'U0MAYA001' }],
  ['POST', '/api/v1/packs/unassign', { pack_id: 1 }],
  ['POST', '/api/v1/adjustments', { user: 'U0MAYA001', credits: 5, reason: 'launch' }],
  ['GET', '/api/v1/report?cycle=2026-05', undefined],
  ['GET', '/api/v1/report?cycle=2026-05&format=csv', undefined],
];

const unavailable = { error: 'the database is unavailable; send the same request again in 5 seconds' };

function apiOn(db: Database) {
  const api = buildApi({
    ledger: testLedger(db, new TestClock(new Date('2026-05-10T12:00:00Z'))),
    metrics: createMetrics(),
    apiToken: api_token,
    checkDatabase: async () => void (await db.query('select 1')),
  });
  return (method: string, path: string, body?: unknown, token = api_token) =>
    api.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
}

async function expectUnavailableEverywhere(db: Database): Promise<void> {
  const call = apiOn(db);
  for (const [method, path, body] of every_route) {
    const res = await call(method, path, body);
    expect(res.status, `${method} ${path}`).toBe(503);
    expect(res.headers.get('retry-after'), `${method} ${path}`).toBe('5');
    expect(await res.json(), `${method} ${path}`).toEqual(unavailable);
  }
  expect((await call('GET', '/healthz')).status).toBe(503);
  // Nothing else changes: bad input is still a 400, a wrong token a 401, before any query.
  const bad = await call('PUT', '/api/v1/plans/pro', { name: 'Pro', credits: -1 });
  expect([bad.status, await bad.json()]).toEqual([400, { error: 'credits: must be more than 0' }]);
  expect((await call('GET', '/api/v1/balances/U0MAYA001', undefined, 'not-the-token')).status).toBe(401);
}

/** A port on this machine where nothing listens: connections to it are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the API while the database is unavailable', () => {
  it('answers 503 with Retry-After on every route when PostgreSQL refuses connections', async () => {
    const db = openPostgres(`postgres://postgres@127.0.0.1:${await closedPort()}/creditdesk`);
    try {
      await expectUnavailableEverywhere(db);
    } finally {
      await db.close();
    }
  });

  let closed: Database;
  beforeAll(async () => {
    // Any cluster will do; a snapshot opens in a fraction of the time a new one takes.
    closed = await openPglite(undefined, { loadDataDir: await barePgliteSnapshot() });
    await closed.close();
  });

  it('answers 503 with Retry-After on every route when the embedded database has closed', async () => {
    await expectUnavailableEverywhere(closed);
  });
});

describe('which errors mean the database is unavailable', () => {
  it('counts connection and shutdown errors, and not a refused value, a bad statement or a bug', () => {
    const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });
    for (const error of [
      coded('ECONNREFUSED'), coded('ECONNRESET'), coded('ETIMEDOUT'), coded('EHOSTUNREACH'), coded('ENOTFOUND'),
      coded('08006'), coded('08001'), coded('57P01'), coded('57P02'), coded('57P03'), coded('53300'),
      new Error('timeout exceeded when trying to connect'), new Error('Connection terminated unexpectedly'),
      new Error('PGlite is closed'), new AggregateError([coded('ECONNREFUSED')], 'connect failed'),
      new Error('query failed', { cause: coded('57P01') }),
    ]) {
      expect(isDatabaseUnavailable(error), String((error as { code?: string }).code ?? error.message)).toBe(true);
    }
    for (const error of [coded('22021'), coded('23505'), coded('23514'), coded('42601'), coded('40P01'), coded('3D000'), new TypeError('x is undefined'), 'down', null]) {
      expect(isDatabaseUnavailable(error), String(error)).toBe(false);
    }
  });
});

describeOnPostgres('PostgreSQL going away under a running service (needs TEST_DATABASE_URL)', () => {
  it('answers 503 when no connection can be had in time, and counts an administrator shutdown as unavailable', async () => {
    const db = await openTestDatabase('postgres', { poolMax: 1 });
    try {
      // The one connection stays busy; once it is, the next query waits 200 ms for it, then gives up.
      let release!: () => void;
      let holding!: () => void;
      const busy = new Promise<void>((resolve) => (holding = resolve));
      const held = db.transaction(async () => {
        holding();
        await new Promise<void>((resolve) => (release = resolve));
      });
      await busy;
      (db.driver as pg.Pool).options.connectionTimeoutMillis = 200;
      const res = await apiOn(db)('GET', '/api/v1/balances/U0MAYA001');
      release();
      await held;
      expect([res.status, res.headers.get('retry-after'), await res.json()]).toEqual([503, '5', unavailable]);

      // pg_terminate_backend is what a shutdown or failover does to a session: SQLSTATE 57P01.
      const session = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
      const ended = new Promise<unknown>((resolve) => session.on('error', resolve));
      await session.connect();
      const [{ pid }] = (await session.query<{ pid: number }>('select pg_backend_pid() as pid')).rows as [{ pid: number }];
      await db.query('select pg_terminate_backend($1)', [pid]);
      const error = await ended;
      expect(error).toMatchObject({ code: '57P01' });
      expect(isDatabaseUnavailable(error)).toBe(true);
      const after = await session.query('select 1').then(() => undefined, (e: unknown) => e);
      expect(isDatabaseUnavailable(after)).toBe(true);
    } finally {
      await db.close();
    }
  });
});
