// One HTTP server for everything: Slack's requests at /slack/*, the API, /healthz and /metrics.
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Metrics } from './metrics.ts';

/**
 * How far a Slack request's timestamp may be from our clock, either way. Slack's "Verifying
 * requests from Slack" refuses one over five minutes old; Bolt checks only that direction, so a
 * request stamped in the future, signed with a leaked secret, could be replayed for as long as
 * it lies ahead. Refusing both directions bounds every replay to the window.
 */
const slack_timestamp_skew_s_max = 5 * 60;

/**
 * Whether a request's `x-slack-request-timestamp` (Unix seconds) lies outside the window around
 * `nowMs`. A missing or unreadable header is left to Bolt, which refuses it unless the request
 * needs no signature (Slack's ssl_check).
 */
export function slackTimestampOutsideWindow(header: string | string[] | undefined, nowMs: number): boolean {
  if (typeof header !== 'string' || !/^\d+$/.test(header)) return false;
  return Math.abs(Number(header) - nowMs / 1000) > slack_timestamp_skew_s_max;
}

export function createHttpServer(api: Hono, metrics: Metrics, slackListener?: RequestListener): Server {
  const apiListener = getRequestListener(api.fetch);
  return createServer((req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    const isSlack = req.url?.startsWith('/slack/') ?? false;
    res.on('finish', () => {
      const group = isSlack ? 'slack' : (req.url ?? '').startsWith('/api/') ? 'api' : 'ops';
      metrics.httpRequests.observe({ group, status: String(res.statusCode) }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    if (isSlack) {
      if (slackListener && slackTimestampOutsideWindow(req.headers['x-slack-request-timestamp'], Date.now())) {
        // As Bolt answers a request it cannot verify: 401, no body.
        res.writeHead(401).end();
        return;
      }
      if (slackListener) return slackListener(req, res);
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Slack is off on this server"}');
      return;
    }
    void apiListener(req, res);
  });
}

export function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
