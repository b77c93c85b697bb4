import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type Request } from 'express';
import type { Metrics } from '../../metrics.ts';
import type { Readiness } from '../../readiness.ts';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * Whether the request carries `Authorization: Bearer <token>`. Both sides are hashed first so the
 * comparison takes the same time whatever was sent, its length included.
 */
function bearerMatches(req: Request, token: string): boolean {
  const header = req.get('authorization') ?? '';
  const match = /^Bearer (.+)$/i.exec(header.trim());
  return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), digest(token));
}

/**
 * Probes for orchestrators: /healthz says the process serves HTTP; /readyz says it can do its
 * work (database reachable, migrations applied, not shutting down); /metrics is for Prometheus,
 * with the bearer token of `METRICS_TOKEN` (without the setting, nobody may read it).
 */
export function healthRoutes(deps: {
  readiness: Readiness;
  metrics: Metrics;
  metricsToken: string | undefined;
}): Router {
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
  router.get('/metrics', async (req, res) => {
    const token = deps.metricsToken;
    if (token === undefined || !bearerMatches(req, token)) {
      res
        .status(401)
        .set('WWW-Authenticate', 'Bearer realm="metrics"')
        .set('Cache-Control', 'no-store')
        .type('text/plain')
        .send(
          token === undefined
            ? 'Metrics are off: set METRICS_TOKEN and scrape with "Authorization: Bearer <token>".\n'
            : 'Send the METRICS_TOKEN as "Authorization: Bearer <token>".\n',
        );
      return;
    }
    res
      .set('Content-Type', deps.metrics.registry.contentType)
      .set('Cache-Control', 'no-store')
      .send(await deps.metrics.registry.metrics());
  });
  return router;
}
