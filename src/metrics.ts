// Prometheus metrics, served at /metrics. One registry per process (and per test app).
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export function createMetrics(options: { defaults?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaults) collectDefaultMetrics({ register: registry });
  return {
    registry,
    usageEvents: new Counter({
      name: 'creditdesk_usage_events_total',
      help: 'Usage events received, by outcome (applied, duplicate, rejected, refused)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    httpRequests: new Histogram({
      name: 'creditdesk_http_request_seconds',
      help: 'HTTP requests by route group and status',
      labelNames: ['group', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 3],
      registers: [registry],
    }),
    outboxSent: new Counter({
      name: 'creditdesk_outbox_messages_total',
      help: 'Outbox messages handled by the dispatcher, by result (sent, retried, failed)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
