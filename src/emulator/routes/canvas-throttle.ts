import type { NextFunction, Request, Response } from 'express';
import type { EmulatorContext } from '../context.ts';
import type { ThrottleBucket } from '../types.ts';

/**
 * Canvas's request throttle, as `app/middleware/request_throttle.rb` does it, for the AGS and NRPS
 * routes of the canvas flavour (`state.canvasThrottle`; Canvas's own numbers by default, switched
 * off with `state.setCanvasThrottle(undefined)`):
 *
 * - one leaky bucket per LTI Advantage client id (Canvas: `lti_advantage:<client_id>-<cluster>`);
 * - a request first adds the up-front cost (`reserve_capacity`), then is refused when the bucket
 *   is at or above the high-water mark (`full?`, checked with its own up-front cost in);
 * - when it ends, its cost replaces the up-front cost (Canvas: CPU + database seconds);
 * - the bucket leaks `outflow` units a second and never holds more than `maximum`;
 * - a refusal is `403`, `Content-Type: text/plain`, body `403 Forbidden (Rate Limit Exceeded)`,
 *   `X-Rate-Limit-Remaining: 0.0`, no `Retry-After` (`rate_limit_exceeded`); other answers carry
 *   `X-Rate-Limit-Remaining` (high-water mark minus level).
 */
export function canvasThrottle(ctx: EmulatorContext) {
  const { state, options } = ctx;
  return (req: Request, res: Response, next: NextFunction): void => {
    const config = state.canvasThrottle;
    if (config === undefined) {
      next();
      return;
    }
    const key = clientKey(ctx, req);
    let bucket = state.throttleBuckets.get(key);
    if (bucket === undefined) {
      bucket = { count: 0, touchedAtMs: options.now().getTime() };
      state.throttleBuckets.set(key, bucket);
    }
    const held: ThrottleBucket = bucket;
    // The Lua `increment_bucket`: leak since the last touch, then add, within [0, maximum].
    const increment = (amount: number): void => {
      const at = options.now().getTime();
      const leaked = ((at - held.touchedAtMs) / 1000) * config.outflow;
      held.count = Math.min(config.maximum, Math.max(0, held.count - leaked + amount));
      held.touchedAtMs = at;
    };
    const startedAt = options.now().getTime();
    increment(config.upFrontCost);
    if (held.count >= config.highWater) {
      increment(-config.upFrontCost);
      state.throttled++;
      res
        .status(403)
        .set('X-Rate-Limit-Remaining', '0.0')
        .type('text/plain; charset=utf-8')
        .send('403 Forbidden (Rate Limit Exceeded)\n');
      return;
    }
    res.set('X-Rate-Limit-Remaining', (config.highWater - held.count).toFixed(1));
    res.on('finish', () => {
      const cost = config.requestCost ?? (options.now().getTime() - startedAt) / 1000;
      increment(cost - config.upFrontCost);
    });
    next();
  };
}

/** The bucket's owner: the bearer token's client id, else the caller's address (as Canvas falls back). */
function clientKey(ctx: EmulatorContext, req: Request): string {
  const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
  const token = match?.[1] === undefined ? undefined : ctx.state.accessTokens.get(match[1]);
  return token === undefined ? `ip:${req.ip ?? ''}` : `lti_advantage:${token.clientId}`;
}
