import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../../logger.ts';
import type { Metrics } from '../../metrics.ts';
import { setRequestContext } from '../request-context.ts';

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/**
 * Request ids (taken from a proxy's X-Request-Id when well formed, else generated) and one log
 * line per request. Only the path is logged: query strings can carry LMS hints and tokens.
 */
export function requestLogging(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    genReqId: (req, res) => {
      const incoming = req.headers['x-request-id'];
      const id =
        typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel: (_req, res, error) =>
      error !== undefined || res.statusCode >= 500 ? 'error' : 'info',
    serializers: {
      req: (req: { id: string; method: string; url: string }) => ({
        id: req.id,
        method: req.method,
        path: loggedPath(req.url),
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
    },
    autoLogging: {
      // Probes every few seconds would drown the log.
      ignore: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url.split('?')[0] ?? ''),
    },
  });
}

/**
 * The request path as logged: secrets that travel in paths are replaced. Session tokens
 * (`/s/<token>/…`) and Google Classroom sign-in flow ids (`/classroom/<district>/sign-in/<flow>`,
 * `…/continue/<flow>`) would let a log reader act as someone. Query strings are never logged.
 */
export function loggedPath(url: string): string {
  return (url.split('?')[0] ?? '')
    .replace(/^\/s\/[^/]+/, '/s/:session')
    .replace(/^(\/classroom\/[^/]+\/(?:sign-in|continue))\/[^/]+/, '$1/:flow');
}

export const requestContextMiddleware: RequestHandler = (req, _res, next) => {
  const id = req.id;
  setRequestContext(req, { requestId: typeof id === 'string' ? id : JSON.stringify(id) });
  next();
};

/** Counts and times requests by route pattern (never by raw URL, which would explode the labels). */
export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const stop = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const routePath: unknown = (req.route as { path?: unknown } | undefined)?.path;
      const route = typeof routePath === 'string' ? req.baseUrl + routePath : 'unmatched';
      const labels = { method: req.method, route, status: String(res.statusCode) };
      stop(labels);
      metrics.httpRequests.inc(labels);
    });
    next();
  };
}
