// The HTTP API: parse with zod, call the ledger, shape the answer. Bad input is a 4xx that says
// what to fix and writes nothing; a wrong or missing token is a 401 that writes nothing.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { z } from 'zod';
import { isDatabaseUnavailable } from '../db/client.ts';
import type { Ledger } from '../ledger/index.ts';
import { LedgerError } from '../ledger/errors.ts';
import { fullReport, reportCsv } from '../ledger/report.ts';
import { batch_events_max } from '../ledger/limits.ts';
import type { Metrics } from '../metrics.ts';
import {
  adjustment_body, assign_body, describeIssues, key_param, pack_product_body, plan_body, profile_body,
  purchase_body, report_query, seat_body, unassign_body, usage_batch, usage_event, user_param,
} from './schemas.ts';

export interface ApiDeps {
  ledger: Ledger;
  metrics: Metrics;
  /** Without a token the API is off: every /api route answers 503. */
  apiToken: string | undefined;
  checkDatabase: () => Promise<void>;
}

class BadRequest extends Error {}
class UnsupportedMediaType extends Error {}

/** A full batch of 1,000 events with long ids and features fits well within this. */
const request_body_bytes_max = 4 * 1024 * 1024;
/** When a caller should try again while the database is unavailable: a restart or failover takes seconds. */
const database_retry_after_s = 5;

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Compares in constant time whatever the lengths: both sides are hashed first. */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  return given != null && timingSafeEqual(digest(expected), digest(given));
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new BadRequest(describeIssues(result.error));
  return result.data;
}

/** A route parameter, named in the message when it is refused. */
function param<S extends z.ZodType>(c: Context, name: string, schema: S): z.infer<S> {
  const result = schema.safeParse(c.req.param(name));
  if (!result.success) throw new BadRequest(`${name}: ${describeIssues(result.error)}`);
  return result.data;
}

/** `application/json`, with or without parameters (a charset of utf-8 only: JSON is UTF-8, RFC 8259). */
function isJson(contentType: string | undefined): boolean {
  const [type, ...parameters] = (contentType ?? '').split(';').map((part) => part.trim().toLowerCase());
  if (type !== 'application/json') return false;
  return parameters.every((p) => !p.startsWith('charset=') || p.replace(/^charset=\s*"?|"$/g, '') === 'utf-8');
}

/** The body as JSON; 415 unless it says it is JSON (a form or text/plain is never applied), 400 unless it is. */
async function jsonBody(c: Context): Promise<unknown> {
  if (!isJson(c.req.header('content-type'))) {
    throw new UnsupportedMediaType('the body must be JSON, sent with Content-Type: application/json');
  }
  try {
    return await c.req.json();
  } catch {
    throw new BadRequest('the body must be JSON, sent with Content-Type: application/json');
  }
}

const status_of_ledger_error = { not_found: 404, invalid: 422, conflict: 409, insufficient: 409 } as const;

export function buildApi(deps: ApiDeps): Hono {
  const { ledger, metrics } = deps;
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

  app.get('/healthz', async (c) => {
    try {
      await deps.checkDatabase();
      return c.json({ ok: true, database: 'up' });
    } catch {
      return c.json({ ok: false, database: 'down' }, 503);
    }
  });
  app.get('/metrics', async (c) => c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }));

  app.use('/api/*', bodyLimit({ maxSize: request_body_bytes_max, onError: (c) => c.json({ error: `the body is over ${request_body_bytes_max} bytes; send at most ${batch_events_max} events per call` }, 413) }));
  app.use('/api/*', async (c, next) => {
    if (!deps.apiToken) return c.json({ error: 'the API is off: set API_TOKEN to turn it on' }, 503);
    const header = c.req.header('authorization');
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (!tokenMatches(deps.apiToken, token)) {
      return c.json({ error: 'missing or wrong bearer token' }, 401, { 'www-authenticate': 'Bearer' });
    }
    await next();
  });

  const toEvent = (e: z.infer<typeof usage_event>) => ({
    id: e.id, user: e.user, credits: e.credits, at: e.at ? new Date(e.at) : undefined, feature: e.feature, source: e.source,
  });

  app.post('/api/v1/usage', async (c) => {
    const body = parse(usage_batch, await jsonBody(c));
    const raw = body.events;
    if (raw.length === 1) {
      // One event: it may join others arriving at the same moment in one transaction.
      const one = usage_event.safeParse(raw[0]);
      if (!one.success) throw new BadRequest(`events.0: ${describeIssues(one.error)}`);
      const outcome = await ledger.recordUsage(toEvent(one.data));
      metrics.usageEvents.inc({ outcome: outcome.status });
      return c.json({ results: [outcome] });
    }
    // Each event is checked on its own: one bad event does not sink the good ones.
    const parsed = raw.map((item) => usage_event.safeParse(item));
    const valid = parsed.flatMap((p) => (p.success ? [toEvent(p.data)] : []));
    const outcomes = await ledger.recordUsageBatch(valid);
    let next = 0;
    const results = parsed.map((p, i) => {
      if (p.success) return outcomes[next++]!;
      const id = typeof (raw[i] as { id?: unknown })?.id === 'string' ? (raw[i] as { id: string }).id : null;
      return { id, status: 'rejected' as const, reason: describeIssues(p.error) };
    });
    for (const r of results) metrics.usageEvents.inc({ outcome: r.status });
    return c.json({ results });
  });

  app.post('/api/v1/authorize', async (c) => {
    const event = parse(usage_event, await jsonBody(c));
    const outcome = await ledger.authorize(toEvent(event));
    metrics.usageEvents.inc({ outcome: outcome.status === 'rejected' && outcome.refused ? 'refused' : outcome.status });
    if (outcome.status === 'rejected') return c.json(outcome, outcome.refused ? 402 : 422);
    return c.json(outcome, 200);
  });

  app.get('/api/v1/balances/:user', async (c) => c.json(await ledger.balance(param(c, 'user', user_param))));

  app.put('/api/v1/plans/:key', async (c) => {
    const key = param(c, 'key', key_param);
    const body = parse(plan_body, await jsonBody(c));
    return c.json(await ledger.putPlan(key, { name: body.name, credits: body.credits, rolloverCap: body.rollover_cap }));
  });

  app.put('/api/v1/pack-products/:key', async (c) => {
    const key = param(c, 'key', key_param);
    const b = parse(pack_product_body, await jsonBody(c));
    return c.json(
      await ledger.putPackProduct(key, {
        name: b.name, credits: b.credits, kind: b.kind, expiresDays: b.expires_days, reassign: b.reassign, rolloverCap: b.rollover_cap,
      }),
    );
  });

  app.put('/api/v1/profiles/:key', async (c) => {
    const key = param(c, 'key', key_param);
    const b = parse(profile_body, await jsonBody(c));
    return c.json(await ledger.putProfile(key, { name: b.name, poolCredits: b.pool_credits, memberPoolCap: b.member_pool_cap }));
  });

  app.put('/api/v1/seats/:user', async (c) => {
    const user = param(c, 'user', user_param);
    const b = parse(seat_body, await jsonBody(c));
    const result = await ledger.putSeat(user, { plan: b.plan, profile: b.profile, email: b.email, name: b.name, anchorDay: b.anchor_day, actor: 'api' });
    return c.json(result, result.change === 'created' ? 201 : 200);
  });

  app.get('/api/v1/seats/:user/revoke-preview', async (c) => c.json(await ledger.previewRevoke(param(c, 'user', user_param))));

  app.delete('/api/v1/seats/:user', async (c) => c.json(await ledger.revokeSeat(param(c, 'user', user_param), 'api')));

  app.post('/api/v1/purchases', async (c) => {
    const b = parse(purchase_body, await jsonBody(c));
    const result = await ledger.recordPurchase({
      product: b.product, quantity: b.quantity, reference: b.reference,
      unitCost: b.unit_cost == null ? null : String(b.unit_cost), purchasedAt: b.purchased_at ? new Date(b.purchased_at) : undefined,
    });
    return c.json({ purchase_id: result.purchaseId, pack_ids: result.packIds }, 201);
  });

  app.post('/api/v1/packs/assign', async (c) => {
    const b = parse(assign_body, await jsonBody(c));
    const r = await ledger.assignPack({ product: b.product, user: b.user, actor: 'api' });
    return c.json({ pack_id: r.packId, product: r.product, user: r.user, credits: r.credits, policy: r.policy });
  });

  app.post('/api/v1/packs/unassign', async (c) => {
    const b = parse(unassign_body, await jsonBody(c));
    const r = await ledger.unassignPack({ packId: b.pack_id, actor: 'api' });
    return c.json(r.release);
  });

  app.post('/api/v1/adjustments', async (c) => {
    const b = parse(adjustment_body, await jsonBody(c));
    const r = await ledger.adjust({ user: b.user, credits: b.credits, reason: b.reason, actor: 'api' });
    return c.json({ user: r.user, credits: r.credits, grant_id: r.grantId, expires_at: r.expiresAt }, 201);
  });

  app.get('/api/v1/report', async (c) => {
    const q = parse(report_query, c.req.query());
    if (q.format === 'csv') {
      const report = await ledger.report(q.cycle);
      return c.body(reportCsv(report), 200, {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="creditdesk-${report.cycle}.csv"`,
      });
    }
    return c.json(await fullReport(ledger.ctx, q.cycle, q.group_by));
  });

  return app;
}
