import type { NextFunction, Request, Response } from 'express';
import type { EmulatorContext } from '../context.ts';
import type { AccessToken } from '../types.ts';

/** Canvas-style error body: `{"errors":{"type":"...","message":"..."}}`. */
export function sendApiError(res: Response, status: number, type: string, message: string): void {
  res.status(status).json({ errors: { type, message } });
}

/**
 * Runs before every service endpoint (token, AGS, NRPS): request log, the Canvas User-Agent rule,
 * the optional per-platform rate limit and injected faults, in that order.
 */
export function serviceGuard(ctx: EmulatorContext) {
  const { state, options } = ctx;
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const now = options.now();
    const userAgent = req.get('user-agent');
    state.requestLog.push({ method: req.method, path: req.originalUrl, userAgent, at: now });
    state.counters.serviceRequests++;
    if (options.requireUserAgent && !userAgent) {
      // Canvas refuses API calls that carry no User-Agent.
      sendApiError(res, 403, 'forbidden', 'A User-Agent header is required for API requests');
      return;
    }
    if (options.rateLimit) {
      const windowMs = 1000;
      const nowMs = now.getTime();
      if (nowMs - state.rateWindow.startedAtMs >= windowMs) {
        state.rateWindow.startedAtMs = nowMs;
        state.rateWindow.count = 0;
      }
      state.rateWindow.count++;
      if (state.rateWindow.count > options.rateLimit.requestsPerSecond) {
        const waitMs = state.rateWindow.startedAtMs + windowMs - nowMs;
        res.set('Retry-After', String(Math.max(1, Math.ceil(waitMs / 1000))));
        sendApiError(res, 429, 'rate_limited', 'Rate limit exceeded');
        return;
      }
    }
    const fault = state.pendingFaults.shift();
    if (fault) {
      switch (fault.kind) {
        case 'status':
          if (fault.retryAfterSeconds !== undefined) {
            res.set('Retry-After', String(fault.retryAfterSeconds));
          }
          sendApiError(res, fault.status, 'injected_fault', `Injected fault ${fault.status}`);
          return;
        case 'delay':
          await options.sleep(fault.ms);
          break;
      }
    }
    next();
  };
}

/**
 * Bearer token check (RFC 6750): 401 for a missing, unknown or expired token, 403 when none of
 * `anyOfScopes` was granted.
 */
export function requireToken(
  ctx: EmulatorContext,
  req: Request,
  res: Response,
  anyOfScopes: readonly string[],
): AccessToken | undefined {
  const header = req.get('authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  const token = match?.[1] === undefined ? undefined : ctx.state.accessTokens.get(match[1]);
  if (!token) {
    res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
    sendApiError(res, 401, 'unauthorized', 'Invalid access token');
    return undefined;
  }
  if (token.expiresAt.getTime() <= ctx.options.now().getTime()) {
    res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
    sendApiError(res, 401, 'unauthorized', 'Invalid access token field/s: the JWT has expired');
    return undefined;
  }
  if (!anyOfScopes.some((s) => token.scopes.includes(s))) {
    res.set(
      'WWW-Authenticate',
      `Bearer error="insufficient_scope", scope="${anyOfScopes.join(' ')}"`,
    );
    sendApiError(res, 403, 'forbidden', 'Insufficient scopes on access token');
    return undefined;
  }
  return token;
}

/** Insert a path segment before the query string (Canvas line item URLs may carry one). */
export function appendPath(url: string, suffix: string): string {
  const q = url.indexOf('?');
  return q < 0 ? `${url}${suffix}` : `${url.slice(0, q)}${suffix}${url.slice(q)}`;
}

/** RFC 8288 `Link` header for the next page, keeping every other query parameter. */
export function nextPageLink(baseUrl: string, req: Request, page: number): string {
  const url = new URL(req.originalUrl, baseUrl);
  url.searchParams.set('page', String(page + 1));
  return `<${url.toString()}>; rel="next"`;
}
