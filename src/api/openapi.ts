// The OpenAPI 3.1 document of the HTTP API, generated from the route table: the same zod schemas
// that validate each request describe it (through zod 4's own JSON Schema conversion, which
// zod-openapi wraps), and the refusals every route shares are added here once.
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponseObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import type { z } from 'zod';
import { error_answer } from './answers.ts';
import type { Route } from './routes.ts';

const refusal = (description: string) => ({ description, content: { 'application/json': { schema: error_answer } } });

const shared_refusals = {
  400: 'bad input: the message names each field at fault and what it needs; nothing was written',
  401: 'a missing or wrong bearer token; nothing was written',
  404: 'something the call names does not exist (a member, seat, tool, plan, product or pack); the message says how to create it',
  409: 'a conflict with what is stored (no free pack, no active seat, a debit beyond what remains); nothing was written',
  413: 'the body is over 4 MiB; send at most 1,000 events per call',
  415: 'the body was not sent as JSON (Content-Type: application/json); nothing was applied',
  422: 'the ledger refused the call: it says what to fix (with two or more tools, a call that names no tool lists the tool keys)',
  503: 'the API is off (no API_TOKEN set), or the database is unavailable: send the same request again after Retry-After seconds',
} as const;

function responses(route: Route): ZodOpenApiResponsesObject {
  const answers: Record<string, ZodOpenApiResponseObject> = {};
  for (const [status, answer] of Object.entries(route.answers)) {
    const content: Record<string, { schema: z.ZodType | { type: 'string' } }> = {};
    if (answer.schema) content['application/json'] = { schema: answer.schema };
    if (answer.text) content[answer.text] = { schema: { type: 'string' } };
    answers[status] = { description: answer.description, ...(Object.keys(content).length > 0 ? { content } : {}) };
  }
  const statuses: (keyof typeof shared_refusals)[] = [
    ...(route.params || route.query || route.body ? [400 as const] : []),
    ...(route.open ? [] : [401 as const, 503 as const]),
    ...(route.body ? [413 as const, 415 as const] : []),
    ...(route.refusals ?? []),
  ];
  for (const status of statuses) answers[`${status}`] ??= refusal(shared_refusals[status]);
  return answers as ZodOpenApiResponsesObject;
}

function operation(route: Route): ZodOpenApiOperationObject {
  return {
    operationId: `${route.method}${route.path.replace(/[{}]/g, '').replace(/(^|[/.-])(\w)/g, (_, _sep: string, ch: string) => ch.toUpperCase())}`,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    ...(route.open ? { security: [] } : {}),
    requestParams: {
      ...(route.params ? { path: route.params as z.ZodObject } : {}),
      ...(route.query ? { query: route.query as z.ZodObject } : {}),
    },
    ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: route.body } } } } : {}),
    responses: responses(route),
  };
}

/** The OpenAPI document of `routes`: paths, parameters, bodies, answers and the bearer scheme. */
export function openApiDocument(routes: readonly Route[]) {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) paths[route.path] = { ...paths[route.path], [route.method]: operation(route) };
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'creditdesk API',
      version: '1',
      description:
        'Usage, balances, the catalog, seats, packs and reports of creditdesk. JSON in and out, whole credits. While an org has one tool no call needs to name it; with two or more, a call that cannot tell which tool it means is refused with a 4xx that lists the tool keys.',
    },
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer $API_TOKEN' } },
    },
    paths,
  });
}
