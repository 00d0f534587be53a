// The HTTP API over a real socket for one describe block: a database per file, emptied before each
// test, a hand-moved clock, and `call` sending what a client would (token, JSON, or anything else).
import type { Server } from 'node:http';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { buildApi } from '../../src/api/app.ts';
import type { Database } from '../../src/db/client.ts';
import type { Ledger } from '../../src/ledger/index.ts';
import { createMetrics } from '../../src/metrics.ts';
import { createHttpServer, listen } from '../../src/server.ts';
import { emptyDatabase, openTestDatabase, TestClock, testLedger, type DatabaseKind } from '../helpers/db.ts';

export const api_token = 'test-token-0123456789abcdef';

export interface Answer {
  status: number;
  json: any;
  text: string;
  headers: Headers;
}

export interface CallOptions {
  /** The body as sent: a Uint8Array byte for byte, a string as UTF-8, anything else as JSON. */
  body?: unknown;
  /** Content-Type; JSON's unless given, none when null. */
  contentType?: string | null;
  token?: string | null;
}

/** Sends one request to `base`; the body is JSON with its content type unless told otherwise. */
export async function send(base: string, method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const { body, token = api_token } = options;
  const contentType = options.contentType === undefined ? (body === undefined ? null : 'application/json') : options.contentType;
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (contentType) headers['content-type'] = contentType;
  // Bytes, so fetch adds no content type of its own (it would say text/plain for a string).
  const bytes = body === undefined ? undefined : body instanceof Uint8Array ? body : new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body));
  const res = await fetch(base + path, { method, headers, body: bytes });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

export interface ApiHarness {
  db: Database;
  ledger: Ledger;
  clock: TestClock;
  /** A JSON call with the token: `call('PUT', '/api/v1/plans/pro', {name, credits})`. */
  call(method: string, path: string, body?: unknown): Promise<Answer>;
  send(method: string, path: string, options?: CallOptions): Promise<Answer>;
  /** The server's address (http://127.0.0.1:port), for a request `send` cannot make. */
  base: string;
}

export function useApi(kind: DatabaseKind, start = '2026-05-10T12:00:00Z'): ApiHarness {
  const h = { clock: new TestClock(new Date(start)) } as ApiHarness;
  let server: Server;
  let base: string;
  h.send = (method, path, options) => send(base, method, path, options);
  h.call = (method, path, body) => send(base, method, path, { body });
  beforeAll(async () => {
    h.db = await openTestDatabase(kind);
    h.ledger = testLedger(h.db, h.clock);
    const metrics = createMetrics();
    server = createHttpServer(buildApi({ ledger: h.ledger, metrics, apiToken: api_token, checkDatabase: async () => void (await h.db.query('select 1')) }), metrics);
    base = `http://127.0.0.1:${await listen(server, 0)}`;
    h.base = base;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await h.db?.close();
  });
  beforeEach(async () => {
    await emptyDatabase(h.db);
    h.clock.set(start);
  });
  return h;
}
