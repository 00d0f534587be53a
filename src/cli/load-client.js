// The bench's load generator, in a worker thread so the clients do not share the server's event
// loop (real clients live elsewhere). Plain JavaScript: workers do not inherit the TS loader.
import { Agent, request } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

const { port, token, clients, calls, timed } = workerData;
const agent = new Agent({ keepAlive: true, maxSockets: clients });

function call(method, path, payload) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1', port, path, method, agent,
        headers: {
          authorization: `Bearer ${token}`,
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

// calls: [{method, path, body}] built by the bench; statuses are counted and returned.
const statuses = {};
// Events answered 200 but rejected inside (a usage batch's results): a throughput figure must not count them.
let rejected = 0;
const latencies = timed ? [] : undefined;
let next = 0;
// Bodies are written before the clock starts: a client elsewhere would pay for its own JSON.
const payloads = calls.map(({ body }) => (body === undefined ? undefined : JSON.stringify(body)));
const started = performance.now();
await Promise.all(
  Array.from({ length: clients }, async () => {
    while (next < calls.length) {
      const k = next++;
      const { method, path } = calls[k];
      const sent = performance.now();
      const res = await call(method, path, payloads[k]);
      latencies?.push(performance.now() - sent);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (res.status === 200 && res.body.includes('"rejected"')) {
        for (const r of JSON.parse(res.body).results ?? []) if (r.status === 'rejected') rejected++;
      }
      if (res.status >= 500) parentPort.postMessage({ error: `${method} ${path} answered ${res.status}: ${res.body.slice(0, 300)}` });
    }
  }),
);
agent.destroy();
parentPort.postMessage({ seconds: (performance.now() - started) / 1000, statuses, rejected, latencies });
