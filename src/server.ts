// One HTTP server for everything: Slack's requests at /slack/*, the API, /healthz and /metrics.
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Metrics } from './metrics.ts';

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
