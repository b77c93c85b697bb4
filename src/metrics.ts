import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** Grade passback (the worker finds these by name and updates them). */
  readonly passbackPosts: Counter<'result'>;
  readonly passbackQueueDepth: Gauge;
  readonly passbackOldestPending: Gauge;
}

/**
 * One registry per app instance (never prom-client's global one), so several apps can run in one
 * process, as the tests do.
 */
export function createMetrics(options: { defaultMetrics: boolean }): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests handled, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration in seconds, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    passbackPosts: new Counter({
      name: 'passback_posts_total',
      help: 'Score posts to LMS gradebooks, by result (sent, retrying, failed)',
      labelNames: ['result'],
      registers: [registry],
    }),
    passbackQueueDepth: new Gauge({
      name: 'passback_queue_depth',
      help: 'Gradebook cells whose desired grade the LMS has not confirmed yet (failed cells excluded)',
      registers: [registry],
    }),
    passbackOldestPending: new Gauge({
      name: 'passback_oldest_pending_seconds',
      help: 'Age of the oldest unconfirmed grade change, in seconds',
      registers: [registry],
    }),
  };
}
