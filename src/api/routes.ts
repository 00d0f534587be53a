// The API's route table: each route's method, path, schemas, answers and handler in one entry.
// app.ts registers these with Hono and openapi.ts documents them, so no route is served without
// appearing in GET /api/v1/openapi.json, and none is documented with schemas it does not use.
import type { Context } from 'hono';
import type { z } from 'zod';
import type { Ledger } from '../ledger/index.ts';
import { fullReport, reportCsv } from '../ledger/report.ts';
import {
  list_page_items_default, packPage, packProductPage, planPage, profilePage, purchasePage, seatPage, type Page,
} from '../ledger/lists.ts';
import type { UsageEvent } from '../ledger/usage.ts';
import type { Metrics } from '../metrics.ts';
import * as answers from './answers.ts';
import { BadRequest, parse } from './http.ts';
import {
  adjustment_body, assign_body, catalog_list_query, describeIssues, encodeCursor, id_list_query, key_path, pack_list_query, pack_product_body,
  plan_body, profile_body, purchase_body, report_query, seat_body, tool_body, tool_query, unassign_body, usage_batch, usage_batch_document,
  usage_event, user_path,
} from './schemas.ts';

/** What a handler may use besides its request. */
export interface ApiEnv {
  ledger: Ledger;
  metrics: Metrics;
  checkDatabase: () => Promise<void>;
  /** The OpenAPI document of this table, built once. */
  document: () => unknown;
}

/** One kind of answer of a route: `schema` for JSON; `text` for CSV or Prometheus text. */
export interface AnswerSpec {
  description: string;
  schema?: z.ZodType;
  text?: 'text/csv' | 'text/plain';
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteSpec<P extends z.ZodType | undefined, Q extends z.ZodType | undefined, B extends z.ZodType | undefined> {
  method: 'get' | 'put' | 'post' | 'delete';
  /** OpenAPI's form, `{name}` for a path parameter; Hono's `:name` is derived from it. */
  path: `/${string}`;
  summary: string;
  description?: string;
  /** Served without the bearer token, outside /api (liveness and metrics). */
  open?: true;
  params?: P;
  query?: Q;
  body?: B;
  /**
   * The handler checks the JSON body itself, and `body` only documents it: a usage batch is
   * judged event by event, so one bad event does not sink the others.
   */
  ownBodyCheck?: true;
  /** Success answers by status. Refusals (400, 401, 413, 415, 503) are added by openapi.ts. */
  answers: Record<number, AnswerSpec>;
  /** Statuses of the ledger's refusals this route can give: 404 not found, 409 conflict, 422 invalid. */
  refusals?: (404 | 409 | 422)[];
  handle: (c: Context, input: { params: Out<P>; query: Out<Q>; body: Out<B> }, env: ApiEnv) => Response | Promise<Response>;
}

export type Route = RouteSpec<z.ZodType | undefined, z.ZodType | undefined, z.ZodType | undefined>;

/** A table entry with its input types inferred from its schemas. */
function route<P extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  spec: RouteSpec<P, Q, B>,
): Route {
  return spec as unknown as Route;
}

const json = (schema: z.ZodType, description: string): Record<number, AnswerSpec> => ({ 200: { description, schema } });

function toEvent(e: z.output<typeof usage_event>): UsageEvent {
  return {
    id: e.id, user: e.user, tool: e.tool, credits: e.credits, at: e.at ? new Date(e.at) : undefined, feature: e.feature, source: e.source, draw: e.draw,
  };
}

/** A page of ledger rows as the API answers it: items shaped for the API, the cursor opaque. */
function page<T, K extends string | number, I>(result: Page<T, K>, present: (row: T) => I) {
  return { items: result.items.map(present), next_cursor: result.next == null ? null : encodeCursor(result.next) };
}

/**
 * A PUT body's `key`, which a listed item carries, must be the path's: a PUT never moves an entry
 * to another key. A BadRequest naming both otherwise.
 */
function checkPathKey(path: string, sent: string | undefined): void {
  if (sent !== undefined && sent !== path) {
    throw new BadRequest(`key: is ${sent} but the path names ${path}: leave key out, or PUT the entry to /${sent}`);
  }
}

/**
 * A tool setting that `follows_environment` says follows the environment: null, which stores it so.
 * A value sent beside it must be the environment's, as GET shows it (a BadRequest otherwise): a
 * listed tool sent back as it came keeps following, and a changed value is never dropped silently.
 */
function following<T extends string | number>(field: string, sent: T | null | undefined, environment: T, variable: string): null {
  if (sent != null && sent !== environment) {
    throw new BadRequest(
      `${field}: is ${sent}, but follows_environment.${field} is true and ${variable} is ${environment}: ` +
        `leave ${field} out to follow ${variable}, or set follows_environment.${field} to false to give the tool its own`,
    );
  }
  return null;
}

const listed_item_description =
  'Answered in the list\'s field names, and an item as the list shows it may be sent back as it came: `key` must be the path\'s, `updated_at` is ignored.';

const list_description =
  'Keyset pages: `next_cursor` goes back as `?cursor=` for the next page, and keeps working while rows are added; null on the last page.';

export const api_routes: Route[] = [
  route({
    method: 'get', path: '/healthz', summary: 'Liveness, with a database check', open: true,
    answers: { 200: { description: 'the database answers', schema: answers.health_answer }, 503: { description: 'the database does not answer', schema: answers.health_answer } },
    handle: async (c, _input, env) => {
      try {
        await env.checkDatabase();
        return c.json({ ok: true, database: 'up' });
      } catch {
        return c.json({ ok: false, database: 'down' }, 503);
      }
    },
  }),
  route({
    method: 'get', path: '/metrics', summary: 'Prometheus metrics', open: true,
    answers: { 200: { description: 'the metrics in Prometheus text format', text: 'text/plain' } },
    handle: async (c, _input, env) => c.text(await env.metrics.registry.metrics(), 200, { 'content-type': env.metrics.registry.contentType }),
  }),
  route({
    method: 'get', path: '/api/v1/openapi.json', summary: 'This document: the OpenAPI 3.1 description of the API',
    answers: json(answers.openapi_answer, 'the OpenAPI document, generated from the schemas that validate the requests'),
    handle: (c, _input, env) => c.json(env.document() as object),
  }),
  route({
    method: 'post', path: '/api/v1/usage', summary: 'Record usage events (record mode)',
    description:
      'Up to 1,000 events, as `{"events": [...]}` or a bare array. Each event gets its own outcome, in order: `applied`, `duplicate` (its id was applied before: the first outcome again) or `rejected` with a reason; one bad event never fails the others. With two or more tools an event that names no `tool` is rejected with the tool keys.',
    body: usage_batch_document, ownBodyCheck: true,
    answers: json(answers.usage_answer, 'one outcome per event, in the order sent'),
    handle: async (c, { body }, { ledger, metrics }) => {
      const raw = parse(usage_batch, body).events;
      if (raw.length === 1) {
        // One event: it may join others arriving at the same moment in one transaction.
        const outcome = await ledger.recordUsage(toEvent(parse(usage_event, raw[0], 'events.0: ')));
        metrics.usageEvents.inc({ outcome: outcome.status });
        return c.json({ results: [outcome] });
      }
      // Each event is checked on its own: one bad event does not sink the good ones.
      const parsed = raw.map((item) => usage_event.safeParse(item));
      const outcomes = await ledger.recordUsageBatch(parsed.flatMap((p) => (p.success ? [toEvent(p.data)] : [])));
      let next = 0;
      const results = parsed.map((p, i) => {
        if (p.success) return outcomes[next++]!;
        const id = typeof (raw[i] as { id?: unknown })?.id === 'string' ? (raw[i] as { id: string }).id : null;
        return { id, status: 'rejected' as const, reason: describeIssues(p.error) };
      });
      const counts = new Map<string, number>();
      for (const r of results) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
      for (const [outcome, count] of counts) metrics.usageEvents.inc({ outcome }, count);
      return c.json({ results });
    },
  }),
  route({
    method: 'post', path: '/api/v1/authorize', summary: 'Authorize one event in enforce mode',
    description: 'Applied whole, or refused whole with nothing written. With two or more tools an event that names no `tool` is a 422 listing the tool keys.',
    body: usage_event,
    answers: {
      200: { description: 'applied (or a duplicate of an event applied before)', schema: answers.applied_usage },
      402: { description: 'refused: the event does not fit; names the limit, what remains and when it resets', schema: answers.rejected_usage },
      422: { description: 'rejected: no such member, tool or seat, a revoked seat, a late event, or no tool named among several', schema: answers.rejected_usage },
    },
    handle: async (c, { body }, { ledger, metrics }) => {
      const outcome = await ledger.authorize(toEvent(body));
      metrics.usageEvents.inc({ outcome: outcome.status === 'rejected' && outcome.refused ? 'refused' : outcome.status });
      if (outcome.status === 'rejected') return c.json(outcome, outcome.refused ? 402 : 422);
      return c.json(outcome, 200);
    },
  }),
  route({
    method: 'get', path: '/api/v1/balances/{user}', summary: "A member's balance, as /credits shows it",
    description: 'With `?tool=KEY`: the balance of the seat in that tool. Without: the first seat\'s balance (tools in the order they were added) and every seat\'s in `tools`.',
    params: user_path, query: tool_query,
    answers: json(answers.balances_answer, 'the balance of one seat with ?tool=; without it, the first seat\'s with every seat\'s in `tools`'),
    refusals: [404, 422],
    handle: async (c, { params, query }, { ledger }) =>
      c.json(query.tool ? await ledger.balance(params.user, query.tool) : await ledger.balances(params.user)),
  }),
  route({
    method: 'put', path: '/api/v1/tools/{key}', summary: 'Create or update a tool',
    description:
      'Fields left out keep what the tool had. A changed overage budget applies to the running tool cycle at once. A tool as GET /api/v1/tools lists it may be sent back as it came: `key` must be the path\'s, and `follows_environment` keeps a zone or anchor day following the environment.',
    params: key_path, body: tool_body,
    answers: json(answers.tool_answer, 'the tool, with its zone and anchor day resolved'),
    refusals: [422],
    handle: async (c, { params, body: b }, { ledger }) => {
      checkPathKey(params.key, b.key);
      const environment = ledger.ctx.settings;
      const follows = b.follows_environment ?? {};
      const tool = await ledger.putTool(params.key, {
        name: b.name,
        unit: b.unit,
        timeZone: follows.time_zone ? following('time_zone', b.time_zone, environment.zone, 'ORG_TIMEZONE') : b.time_zone,
        anchorDay: follows.anchor_day ? following('anchor_day', b.anchor_day, environment.anchorDay, 'CYCLE_ANCHOR_DAY') : b.anchor_day,
        overageBudget: b.overage_budget,
        overageUnitCost: b.overage_unit_cost == null ? b.overage_unit_cost : String(b.overage_unit_cost), syncNudge: b.sync_nudge,
      });
      return c.json(answers.presentTool(tool));
    },
  }),
  route({
    method: 'get', path: '/api/v1/tools', summary: 'Every tool, in the order they were added',
    answers: json(answers.tools_answer, 'the tools (a handful: one page)'),
    handle: async (c, _input, { ledger }) => c.json({ items: (await ledger.tools()).map(answers.presentTool) }),
  }),
  route({
    method: 'put', path: '/api/v1/plans/{key}', summary: 'Create or update a plan',
    description:
      'A plan of one tool: `tool` may be left out while the org has one tool, or when the plan exists (it keeps its tool). ' + listed_item_description,
    params: key_path, body: plan_body,
    answers: json(answers.plan_item, 'the stored plan, as the list shows it'),
    refusals: [404, 409, 422],
    handle: async (c, { params, body: b }, { ledger }) => {
      checkPathKey(params.key, b.key);
      const plan = await ledger.putPlan(params.key, { name: b.name, credits: b.credits, tool: b.tool, rolloverCap: b.rollover_cap, dailyLimit: b.daily_limit });
      return c.json(answers.presentPlan(plan));
    },
  }),
  route({
    method: 'get', path: '/api/v1/plans', summary: 'Plans by key', description: list_description,
    query: catalog_list_query,
    answers: json(answers.pageOf(answers.plan_item), 'a page of plans'),
    refusals: [404],
    handle: async (c, { query: q }, { ledger }) =>
      c.json(page(await planPage(ledger.ctx, { tool: q.tool, after: q.cursor, limit: q.limit ?? list_page_items_default }), answers.presentPlan)),
  }),
  route({
    method: 'put', path: '/api/v1/pack-products/{key}', summary: 'Create or update a pack product', description: listed_item_description,
    params: key_path, body: pack_product_body,
    answers: json(answers.pack_product_item, 'the stored pack product, as the list shows it'),
    refusals: [404, 409, 422],
    handle: async (c, { params, body: b }, { ledger }) => {
      checkPathKey(params.key, b.key);
      const product = await ledger.putPackProduct(params.key, {
        name: b.name, credits: b.credits, tool: b.tool, kind: b.kind, expiresDays: b.expires_days, reassign: b.reassign, rolloverCap: b.rollover_cap,
      });
      return c.json(answers.presentPackProduct(product));
    },
  }),
  route({
    method: 'get', path: '/api/v1/pack-products', summary: 'Pack products by key', description: list_description,
    query: catalog_list_query,
    answers: json(answers.pageOf(answers.pack_product_item), 'a page of pack products'),
    refusals: [404],
    handle: async (c, { query: q }, { ledger }) =>
      c.json(page(await packProductPage(ledger.ctx, { tool: q.tool, after: q.cursor, limit: q.limit ?? list_page_items_default }), answers.presentPackProduct)),
  }),
  route({
    method: 'put', path: '/api/v1/profiles/{key}', summary: 'Create or update a profile and its pool', description: listed_item_description,
    params: key_path, body: profile_body,
    answers: json(answers.profile_item, 'the stored profile, as the list shows it'),
    refusals: [404, 409, 422],
    handle: async (c, { params, body: b }, { ledger }) => {
      checkPathKey(params.key, b.key);
      const profile = await ledger.putProfile(params.key, { name: b.name, tool: b.tool, poolCredits: b.pool_credits, memberPoolCap: b.member_pool_cap });
      return c.json(answers.presentProfile(profile));
    },
  }),
  route({
    method: 'get', path: '/api/v1/profiles', summary: 'Profiles by key', description: list_description,
    query: catalog_list_query,
    answers: json(answers.pageOf(answers.profile_item), 'a page of profiles'),
    refusals: [404],
    handle: async (c, { query: q }, { ledger }) =>
      c.json(page(await profilePage(ledger.ctx, { tool: q.tool, after: q.cursor, limit: q.limit ?? list_page_items_default }), answers.presentProfile)),
  }),
  route({
    method: 'put', path: '/api/v1/seats/{user}', summary: 'Add, restore or change a seat',
    description: "The seat's tool is its plans' tool: a member has one seat per tool, holding `plans` (or one `plan`) of that tool, whose credits stack.",
    params: user_path, body: seat_body,
    answers: { 201: { description: 'a new seat', schema: answers.seat_answer }, 200: { description: 'a seat restored or changed', schema: answers.seat_answer } },
    refusals: [404, 409, 422],
    handle: async (c, { params, body: b }, { ledger }) => {
      const result = await ledger.putSeat(params.user, {
        plan: b.plan, plans: b.plans, profile: b.profile, email: b.email, name: b.name, anchorDay: b.anchor_day, vendorUser: b.vendor_user, actor: 'api',
      });
      return c.json(result, result.change === 'created' ? 201 : 200);
    },
  }),
  route({
    method: 'get', path: '/api/v1/seats', summary: 'Seats in the order they were added', description: list_description,
    query: id_list_query,
    answers: json(answers.pageOf(answers.seat_item), 'a page of seats, active and revoked'),
    refusals: [404],
    handle: async (c, { query: q }, { ledger }) =>
      c.json(page(await seatPage(ledger.ctx, { tool: q.tool, after: q.cursor, limit: q.limit ?? list_page_items_default }), answers.presentSeat)),
  }),
  route({
    method: 'get', path: '/api/v1/seats/{user}/revoke-preview', summary: 'What revoking the seat would do, without doing it',
    description: 'With two or more tools, `?tool=` names the seat.',
    params: user_path, query: tool_query,
    answers: json(answers.revoke_answer, 'what the revocation forfeits and what each pack carries to its next assignee'),
    refusals: [404, 409, 422],
    handle: async (c, { params, query }, { ledger }) => c.json(await ledger.previewRevoke(params.user, query.tool)),
  }),
  route({
    method: 'delete', path: '/api/v1/seats/{user}', summary: 'Revoke the seat',
    description: 'Forfeits what is left of the plans and manual grants and returns each pack to inventory. With two or more tools, `?tool=` names the seat.',
    params: user_path, query: tool_query,
    answers: json(answers.revoke_answer, 'what the revocation did: the same as its preview'),
    refusals: [404, 409, 422],
    handle: async (c, { params, query }, { ledger }) => c.json(await ledger.revokeSeat(params.user, 'api', query.tool)),
  }),
  route({
    method: 'post', path: '/api/v1/purchases', summary: 'Record a purchase of packs',
    body: purchase_body,
    answers: { 201: { description: 'the purchase and its packs, free in inventory', schema: answers.purchase_answer } },
    refusals: [404],
    handle: async (c, { body: b }, { ledger }) => {
      const result = await ledger.recordPurchase({
        product: b.product, quantity: b.quantity, reference: b.reference,
        unitCost: b.unit_cost == null ? null : String(b.unit_cost), purchasedAt: b.purchased_at ? new Date(b.purchased_at) : undefined,
      });
      return c.json({ purchase_id: result.purchaseId, pack_ids: result.packIds }, 201);
    },
  }),
  route({
    method: 'get', path: '/api/v1/purchases', summary: 'Purchases in the order they were recorded', description: list_description,
    query: id_list_query,
    answers: json(answers.pageOf(answers.purchase_item), 'a page of purchases'),
    refusals: [404],
    handle: async (c, { query: q }, { ledger }) =>
      c.json(page(await purchasePage(ledger.ctx, { tool: q.tool, after: q.cursor, limit: q.limit ?? list_page_items_default }), answers.presentPurchase)),
  }),
  route({
    method: 'get', path: '/api/v1/packs', summary: 'Packs in the order they were bought', description: list_description,
    query: pack_list_query,
    answers: json(answers.pageOf(answers.pack_item), 'a page of packs'),
    refusals: [404],
    handle: async (c, { query: q }, { ledger }) =>
      c.json(
        page(
          await packPage(ledger.ctx, { tool: q.tool, product: q.product, free: q.free, after: q.cursor, limit: q.limit ?? list_page_items_default }),
          answers.presentPack,
        ),
      ),
  }),
  route({
    method: 'post', path: '/api/v1/packs/assign', summary: "Assign a free pack to a member's seat in the product's tool",
    body: assign_body,
    answers: json(answers.assign_answer, 'the pack and the credits it brought under its reassign policy'),
    refusals: [404, 409, 422],
    handle: async (c, { body: b }, { ledger }) => {
      const r = await ledger.assignPack({ product: b.product, user: b.user, actor: 'api' });
      return c.json({ pack_id: r.packId, product: r.product, tool: r.tool, user: r.user, credits: r.credits, policy: r.policy });
    },
  }),
  route({
    method: 'post', path: '/api/v1/packs/unassign', summary: 'Return a pack to inventory',
    body: unassign_body,
    answers: json(answers.pack_release, 'what the pack keeps for its next assignee'),
    refusals: [404, 409],
    handle: async (c, { body: b }, { ledger }) => c.json((await ledger.unassignPack({ packId: b.pack_id, actor: 'api' })).release),
  }),
  route({
    method: 'post', path: '/api/v1/adjustments', summary: 'A manual grant or debit, with a reason',
    description: 'Positive credits grant until the cycle ends; negative debit, never beyond what remains. With two or more tools, `tool` names the seat.',
    body: adjustment_body,
    answers: { 201: { description: 'the adjustment', schema: answers.adjustment_answer } },
    refusals: [404, 409, 422],
    handle: async (c, { body: b }, { ledger }) => {
      const r = await ledger.adjust({ user: b.user, tool: b.tool, credits: b.credits, reason: b.reason, actor: 'api' });
      return c.json({ user: r.user, tool: r.tool, credits: r.credits, grant_id: r.grantId, expires_at: r.expiresAt }, 201);
    },
  }),
  route({
    method: 'get', path: '/api/v1/report', summary: 'The admin report of one tool and cycle',
    description: "JSON with breakage, pack advice and chargeback (with group_by), or the per-member table as CSV. With two or more tools, `?tool=` names the tool.",
    query: report_query,
    answers: {
      200: { description: 'the report (format=json), or the per-member table (format=csv)', schema: answers.report_answer, text: 'text/csv' },
    },
    refusals: [404, 422],
    handle: async (c, { query: q }, { ledger }) => {
      if (q.format === 'csv') {
        const report = await ledger.report(q.cycle, q.tool);
        const name = q.tool ? `creditdesk-${report.tool}-${report.cycle}.csv` : `creditdesk-${report.cycle}.csv`;
        return c.body(reportCsv(report), 200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}"` });
      }
      return c.json(await fullReport(ledger.ctx, q.cycle, q.group_by, q.tool));
    },
  }),
];

