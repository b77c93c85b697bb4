import type { Request } from 'express';

/**
 * What the app knows about one request, typed in one place instead of ad-hoc properties on `req`
 * or `res.locals`. Later layers add the launched user and course here.
 */
export interface RequestContext {
  readonly requestId: string;
}

const contexts = new WeakMap<Request, RequestContext>();

export function setRequestContext(req: Request, context: RequestContext): void {
  contexts.set(req, context);
}

export function requestContext(req: Request): RequestContext {
  const context = contexts.get(req);
  if (!context) throw new Error('request context used before the request-context middleware ran');
  return context;
}
