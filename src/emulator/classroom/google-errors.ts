import type { NextFunction, Request, Response } from 'express';
import type { ClassroomContext } from './context.ts';
import type { GoogleAccessToken } from './types.ts';

/** google.rpc.Code names with their HTTP status (https://cloud.google.com/apis/design/errors). */
export type GoogleStatus =
  | 'INVALID_ARGUMENT'
  | 'FAILED_PRECONDITION'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'RESOURCE_EXHAUSTED'
  | 'INTERNAL'
  | 'UNAVAILABLE';

const HTTP_STATUS: Record<GoogleStatus, number> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

function statusFor(httpStatus: number): GoogleStatus {
  const found = (Object.entries(HTTP_STATUS) as [GoogleStatus, number][]).find(
    ([, code]) => code === httpStatus,
  );
  return found?.[0] ?? 'INTERNAL';
}

/** Messages Google sends, word for word where known. */
export const GOOGLE_MESSAGE = {
  notFound: 'Requested entity was not found.',
  missingCredential:
    'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
  invalidCredential:
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
  insufficientScopes: 'Request had insufficient authentication scopes.',
  callerNoPermission: 'The caller does not have permission',
  courseNotModifiable: '@CourseNotModifiable The course is not in a modifiable state.',
  projectPermissionDenied:
    '@ProjectPermissionDenied The Developer Console project is not permitted to make this request.',
  quota:
    "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute per user' of service 'classroom.googleapis.com'.",
} as const;

/** Google's JSON error body: `{"error":{"code":403,"message":"...","status":"PERMISSION_DENIED"}}`. */
export function sendGoogleError(res: Response, status: GoogleStatus, message: string): void {
  const code = HTTP_STATUS[status];
  res.status(code).json({ error: { code, message, status } });
}

/**
 * Runs before token and Classroom API endpoints: request log, then injected faults. A `status`
 * fault answers in Google's error shape (429 = RESOURCE_EXHAUSTED with the quota message).
 */
export function googleGuard(ctx: ClassroomContext, kind: 'token' | 'api') {
  const { state, options } = ctx;
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    state.requestLog.push({
      method: req.method,
      path: req.originalUrl,
      userAgent: req.get('user-agent'),
      at: options.now(),
    });
    if (kind === 'api') state.counters.apiRequests++;
    const fault = state.pendingFaults.shift();
    if (fault) {
      switch (fault.kind) {
        case 'status': {
          if (fault.retryAfterSeconds !== undefined) {
            res.set('Retry-After', String(fault.retryAfterSeconds));
          }
          const status = statusFor(fault.status);
          if (kind === 'token') {
            res.status(fault.status).json({
              error: status === 'RESOURCE_EXHAUSTED' ? 'rate_limit_exceeded' : 'internal_failure',
              error_description: `Injected fault ${fault.status}`,
            });
            return;
          }
          sendGoogleError(
            res,
            status,
            status === 'RESOURCE_EXHAUSTED'
              ? GOOGLE_MESSAGE.quota
              : `Injected fault ${fault.status}`,
          );
          return;
        }
        case 'delay':
          await options.sleep(fault.ms);
          break;
      }
    }
    next();
  };
}

/**
 * Bearer access token check as Google does it: 401 UNAUTHENTICATED for a missing, unknown, expired
 * or revoked token; 403 PERMISSION_DENIED "insufficient authentication scopes" when none of
 * `anyOfScopes` was granted.
 */
export function requireGoogleToken(
  ctx: ClassroomContext,
  req: Request,
  res: Response,
  anyOfScopes: readonly string[],
): GoogleAccessToken | undefined {
  const header = req.get('authorization');
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) {
    res.set('WWW-Authenticate', `Bearer realm="https://accounts.google.com/"`);
    sendGoogleError(res, 'UNAUTHENTICATED', GOOGLE_MESSAGE.missingCredential);
    return undefined;
  }
  const token = ctx.state.accessTokens.get(match[1]);
  if (
    !token ||
    token.revoked ||
    token.expiresAt.getTime() <= ctx.options.now().getTime() ||
    !ctx.state.users.has(token.userId)
  ) {
    res.set(
      'WWW-Authenticate',
      `Bearer realm="https://accounts.google.com/", error="invalid_token"`,
    );
    sendGoogleError(res, 'UNAUTHENTICATED', GOOGLE_MESSAGE.invalidCredential);
    return undefined;
  }
  if (!anyOfScopes.some((scope) => token.scopes.includes(scope))) {
    res.set(
      'WWW-Authenticate',
      `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="${anyOfScopes.join(' ')}"`,
    );
    sendGoogleError(res, 'PERMISSION_DENIED', GOOGLE_MESSAGE.insufficientScopes);
    return undefined;
  }
  return token;
}
