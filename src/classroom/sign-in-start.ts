import { createHmac, timingSafeEqual } from 'node:crypto';
import type {
  ClassroomInstall,
  ClassroomLaunchParams,
} from '../storage/classroom/classroom.repository.ts';
import { configurationFor, token, type ClassroomContext } from './context.ts';
import { ClassroomError } from './errors.ts';
import { authorizationUrl, missingScopes, newAuthorizationStart } from './sign-in.ts';

/**
 * The start of a Classroom sign-in: an entry page prepares it (signed launch parameters, nothing
 * stored), the sign-in window creates the flow and sends the browser to Google.
 */

/** How long a started sign-in waits for Google and for the "Continue" step. */
export const SIGN_IN_TTL_MS = 15 * 60 * 1000;

/** Views a teacher opens: signing in there may need a refresh token for grading. */
const TEACHER_VIEWS: ReadonlySet<ClassroomLaunchParams['view']> = new Set([
  'setup',
  'teacher',
  'review',
]);

/** A sign-in prepared for an entry page: nothing is stored until sign-in starts. */
export interface PreparedSignIn {
  readonly flowId: string;
  /** The launch parameters with the flow id, tenant and expiry, HMAC-signed (carried in links). */
  readonly launchToken: string;
}

function launchMac(ctx: ClassroomContext, payload: string): Buffer {
  return createHmac('sha256', ctx.launchKey).update(payload).digest();
}

/** The launch parameters of a launch token, when it is this district's, for this flow, and live. */
export function verifyLaunchToken(
  ctx: ClassroomContext,
  launchToken: string,
  tenantId: string,
  flowId: string,
): ClassroomLaunchParams | undefined {
  if (launchToken.length > 12_000) return undefined;
  const [payload, mac, extra] = launchToken.split('.');
  if (payload === undefined || mac === undefined || extra !== undefined) return undefined;
  const expected = launchMac(ctx, payload);
  const given = Buffer.from(mac, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      f?: unknown;
      t?: unknown;
      e?: unknown;
      l?: ClassroomLaunchParams;
    };
    if (body.f !== flowId || body.t !== tenantId || typeof body.e !== 'number') return undefined;
    if (body.e <= ctx.now().getTime() || body.l === undefined) return undefined;
    return body.l;
  } catch {
    return undefined;
  }
}

/**
 * Prepares a sign-in for an add-on page without storing anything (anyone may open an entry
 * page): a fresh flow id and the launch parameters, signed, for the sign-in link.
 */
export function prepareSignIn(
  ctx: ClassroomContext,
  install: ClassroomInstall,
  launch: ClassroomLaunchParams,
): PreparedSignIn {
  const flowId = token();
  const payload = Buffer.from(
    JSON.stringify({
      f: flowId,
      t: install.tenantId,
      e: ctx.now().getTime() + SIGN_IN_TTL_MS,
      l: launch,
    }),
    'utf8',
  ).toString('base64url');
  return { flowId, launchToken: `${payload}.${launchMac(ctx, payload).toString('base64url')}` };
}

/**
 * Starts sign-in (the sign-in window): the flow row is created now, from the signed launch
 * parameters, then Google gets the state.
 */
export async function authorizationRedirect(
  ctx: ClassroomContext,
  install: ClassroomInstall,
  flowId: string,
  launchToken: string | undefined,
  redirectUri: string,
): Promise<URL> {
  const { repository } = ctx;
  let flow = await repository.findFlow(install.tenantId, flowId);
  if (flow === undefined) {
    const launch =
      launchToken === undefined
        ? undefined
        : verifyLaunchToken(ctx, launchToken, install.tenantId, flowId);
    if (launch === undefined) throw new ClassroomError('sign_in_expired');
    const start = newAuthorizationStart();
    await repository.createFlow({
      state: start.state,
      flowId,
      tenantId: install.tenantId,
      nonce: start.nonce,
      codeVerifier: start.codeVerifier,
      launch,
      ttlMs: SIGN_IN_TTL_MS,
    });
    flow = await repository.findFlow(install.tenantId, flowId);
  }
  if (flow === undefined || flow.completedAt !== undefined) {
    throw new ClassroomError('sign_in_expired');
  }
  // Classroom's login_hint is the Google user id (= sub): a known user with a live refresh
  // token needs no consent screen again.
  const known =
    flow.launch.loginHint === undefined
      ? undefined
      : await ctx.people.findUser(install.tenantId, install.issuer, flow.launch.loginHint);
  const stored =
    known === undefined ? undefined : await repository.findRefreshToken(install.tenantId, known.id);
  // Google returns a refresh token only with a consent screen: force one only for a teacher
  // view whose user has no live refresh token with the grading scopes. Never for students.
  const needsRefreshToken =
    stored === undefined || stored.revoked || missingScopes(stored.scopes, 'teacher').length > 0;
  return authorizationUrl(await configurationFor(ctx, install), {
    start: { state: flow.state, nonce: flow.nonce, codeVerifier: flow.codeVerifier },
    redirectUri,
    loginHint: flow.launch.loginHint,
    allowedDomains: install.allowedDomains,
    askConsent: TEACHER_VIEWS.has(flow.launch.view) && needsRefreshToken,
  });
}
