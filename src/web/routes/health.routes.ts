import { Router } from 'express';
import type { Metrics } from '../../metrics.ts';
import type { Readiness } from '../../readiness.ts';

/**
 * Probes for orchestrators: /healthz says the process serves HTTP; /readyz says it can do its
 * work (database reachable, migrations applied, not shutting down); /metrics is for Prometheus.
 */
export function healthRoutes(deps: { readiness: Readiness; metrics: Metrics }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const report = await deps.readiness.report();
    res
      .status(report.ready ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json({ status: report.ready ? 'ready' : 'unavailable', checks: report.checks });
  });
  router.get('/metrics', async (_req, res) => {
    res
      .set('Content-Type', deps.metrics.registry.contentType)
      .set('Cache-Control', 'no-store')
      .send(await deps.metrics.registry.metrics());
  });
  return router;
}
