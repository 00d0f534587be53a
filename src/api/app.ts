// The HTTP API: the routes of routes.ts, each request parsed with its zod schemas before its
// handler calls the ledger. Bad input is a 4xx that says what to fix and writes nothing; a wrong
// or missing token is a 401 that writes nothing.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { isDatabaseUnavailable } from '../db/client.ts';
import type { Ledger } from '../ledger/index.ts';
import { LedgerError } from '../ledger/errors.ts';
import { batch_events_max } from '../ledger/limits.ts';
import type { Metrics } from '../metrics.ts';
import { BadRequest, jsonBody, parse, UnsupportedMediaType } from './http.ts';
import { openApiDocument } from './openapi.ts';
import { api_routes, type ApiEnv, type Route } from './routes.ts';

export interface ApiDeps {
  ledger: Ledger;
  metrics: Metrics;
  /** Without a token the API is off: every /api route answers 503. */
  apiToken: string | undefined;
  checkDatabase: () => Promise<void>;
}

/** A full batch of 1,000 events with long ids and features fits well within this. */
const request_body_bytes_max = 4 * 1024 * 1024;
/** When a caller should try again while the database is unavailable: a restart or failover takes seconds. */
const database_retry_after_s = 5;

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Compares in constant time whatever the lengths: both sides are hashed first. */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  return given != null && timingSafeEqual(digest(expected), digest(given));
}

const status_of_ledger_error = { not_found: 404, invalid: 422, conflict: 409, insufficient: 409 } as const;

/** Hono's form of an OpenAPI path: `{user}` becomes `:user`. */
export const honoPath = (path: string) => path.replace(/\{(\w+)\}/g, ':$1');

/** Parses a request in the order a caller's mistakes are reported: path, query, then the body. */
async function readInput(c: Context, route: Route) {
  const params = route.params ? parse(route.params, c.req.param()) : undefined;
  const query = route.query ? parse(route.query, c.req.query()) : undefined;
  let body: unknown;
  if (route.body) {
    body = await jsonBody(c);
    if (!route.ownBodyCheck) body = parse(route.body, body);
  }
  return { params, query, body };
}

export function buildApi(deps: ApiDeps): Hono {
  const app = new Hono();

  app.onError((error, c) => {
    if (error instanceof BadRequest) return c.json({ error: error.message }, 400);
    if (error instanceof UnsupportedMediaType) return c.json({ error: error.message }, 415);
    if (error instanceof LedgerError) return c.json({ error: error.message }, status_of_ledger_error[error.code]);
    if (isDatabaseUnavailable(error)) {
      // Events of a batch applied before the database went are kept: sent again, they come back as duplicates.
      return c.json(
        { error: `the database is unavailable; send the same request again in ${database_retry_after_s} seconds` },
        503,
        { 'retry-after': String(database_retry_after_s) },
      );
    }
    console.error('api error', c.req.method, c.req.path, error);
    return c.json({ error: 'internal error; nothing was applied' }, 500);
  });
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));

  const tooLarge = (c: Context) => c.json({ error: `the body is over ${request_body_bytes_max} bytes; send at most ${batch_events_max} events per call` }, 413);
  const streamedBodyLimit = bodyLimit({ maxSize: request_body_bytes_max, onError: tooLarge });
  app.use('/api/*', async (c, next) => {
    // A body whose length the headers state is judged by that alone. Hono's bodyLimit would read
    // c.req.raw.body, which turns @hono/node-server's light request into a full web Request with
    // a ReadableStream over the socket: a third of the server's CPU for a one-event call or a
    // balance lookup. A streamed (chunked) body still goes through it and is counted as it comes.
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length !== undefined && c.req.header('transfer-encoding') === undefined) {
      return Number(length) > request_body_bytes_max ? tooLarge(c) : next();
    }
    return streamedBodyLimit(c, next);
  });
  app.use('/api/*', async (c, next) => {
    if (!deps.apiToken) return c.json({ error: 'the API is off: set API_TOKEN to turn it on' }, 503);
    const header = c.req.header('authorization');
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (!tokenMatches(deps.apiToken, token)) {
      return c.json({ error: 'missing or wrong bearer token' }, 401, { 'www-authenticate': 'Bearer' });
    }
    await next();
  });

  let document: unknown;
  const env: ApiEnv = {
    ledger: deps.ledger,
    metrics: deps.metrics,
    checkDatabase: deps.checkDatabase,
    document: () => (document ??= openApiDocument(api_routes)),
  };
  for (const route of api_routes) {
    app.on(route.method.toUpperCase(), honoPath(route.path), async (c) => route.handle(c, await readInput(c, route), env));
  }
  return app;
}
