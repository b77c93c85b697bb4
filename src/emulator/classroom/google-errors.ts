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
  // Word for word from the "Handle API errors" guide (developers.google.com/classroom/guides/errors).
  classroomApiDisabled:
    '@ClassroomApiDisabled The user is not permitted to access the Classroom API.',
  // The add-on errors page names the reasons; the sentence after them is ours (not published).
  invalidAddOnToken: '@InvalidAddOnToken The add-on token is not valid for this request.',
  expiredAddOnToken: '@ExpiredAddOnToken The add-on token has expired.',
  quota:
    "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute per user' of service 'classroom.googleapis.com'.",
} as const;

/**
 * google.rpc.ErrorInfo, as Google APIs add it to `error.details` (cloud.google.com/apis/design/errors:
 * "ErrorInfo"): the machine-readable reason, its domain and metadata.
 */
export interface GoogleErrorInfo {
  readonly reason: string;
  readonly domain: string;
  readonly metadata?: Readonly<Record<string, string>>;
}

const SERVICE = 'classroom.googleapis.com';

/**
 * Google's JSON error body: `{"error":{"code":403,"message":"...","status":"PERMISSION_DENIED",
 * "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":...}]}}`. The legacy
 * `errors` list is sent too, as the Classroom errors guide shows it.
 */
export function sendGoogleError(
  res: Response,
  status: GoogleStatus,
  message: string,
  info?: GoogleErrorInfo,
): void {
  const code = HTTP_STATUS[status];
  res.status(code).json({
    error: {
      code,
      message,
      errors: [
        { message, domain: 'global', reason: code === 403 ? 'forbidden' : status.toLowerCase() },
      ],
      status,
      ...(info === undefined
        ? {}
        : { details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', ...info }] }),
    },
  });
}

/** The Classroom API is not enabled in the caller's Cloud project (Google APIs' SERVICE_DISABLED). */
export function sendServiceDisabled(res: Response, projectNumber: string): void {
  sendGoogleError(
    res,
    'PERMISSION_DENIED',
    `Google Classroom API has not been used in project ${projectNumber} before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/${SERVICE}/overview?project=${projectNumber} then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.`,
    {
      reason: 'SERVICE_DISABLED',
      domain: 'googleapis.com',
      metadata: { service: SERVICE, consumer: `projects/${projectNumber}` },
    },
  );
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
  // The API must be enabled in the calling client's project before anything else is looked at.
  const project = ctx.state.clients.get(token.clientId)?.projectNumber;
  if (project !== undefined && ctx.state.apiDisabledProjects.has(project)) {
    sendServiceDisabled(res, project);
    return undefined;
  }
  if (!anyOfScopes.some((scope) => token.scopes.includes(scope))) {
    res.set(
      'WWW-Authenticate',
      `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="${anyOfScopes.join(' ')}"`,
    );
    sendGoogleError(res, 'PERMISSION_DENIED', GOOGLE_MESSAGE.insufficientScopes, {
      reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT',
      domain: 'googleapis.com',
      metadata: { service: SERVICE },
    });
    return undefined;
  }
  // Access Errors: the district turned Classroom data access off for this user.
  if (ctx.state.users.get(token.userId)?.classroomApiDisabled === true) {
    sendGoogleError(res, 'PERMISSION_DENIED', GOOGLE_MESSAGE.classroomApiDisabled);
    return undefined;
  }
  return token;
}
