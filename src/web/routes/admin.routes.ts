import { randomBytes } from 'node:crypto';
import express, {
  Router,
  type CookieOptions,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { z } from 'zod';
import type { AppServices } from '../../app-services.ts';
import type { Logger } from '../../logger.ts';
import {
  ADMIN_SESSION_TTL_MS,
  createAdminSignIns,
  type AdminSignIns,
} from '../../lti-admin/admin-sign-in.ts';
import type { AdminDatabase } from '../../lti-admin/admin-area.ts';
import { adminPages, type AdminActor } from '../admin/admin-pages.ts';
import { readCookie } from '../cookies.ts';
import { HttpError } from '../errors.ts';
import { checkCsrf } from '../middleware/csrf.ts';
import { roleLabel, sessionMiddleware, viewer } from '../middleware/session.ts';
import { requestContext } from '../request-context.ts';

export interface AdminRoutesDeps {
  readonly services: AppServices;
  readonly db: AdminDatabase;
  readonly logger: Logger;
  readonly publicUrl: string;
  readonly random?: (size: number) => Buffer;
}

/**
 * The admin sign-in is opened top-level (never inside an LMS frame), so a first-party cookie works:
 * `SameSite=Lax` keeps it off cross-site POSTs, `HttpOnly` away from scripts. It holds a random
 * token whose hash is the session's key.
 */
export const ADMIN_COOKIE = 'mp_admin';
/** Double-submit token of the sign-in form: there is no session yet to hold a CSRF secret. */
export const LOGIN_CSRF_COOKIE = 'mp_admin_login';
const ADMIN_PATH = '/admin';

const FAILED_MESSAGE = 'The username or password is not right, or the account is disabled.';
const THROTTLED_MESSAGE =
  'Too many failed sign-ins for this username. Wait 15 minutes and try again.';

const form = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 10 });

const signInSchema = z.object({
  username: z.string().trim().min(1).max(100),
  password: z.string().min(1).max(1000),
});

function adminCookie(maxAgeSeconds: number): CookieOptions {
  return {
    path: ADMIN_PATH,
    maxAge: maxAgeSeconds * 1000,
    httpOnly: true,
    secure: true,
    sameSite: 'lax',
  };
}

interface SignInPages {
  readonly signIns: AdminSignIns;
  readonly random: (size: number) => Buffer;
}

/** The sign-in form, with a fresh double-submit token in its cookie and its field. */
function renderSignIn(
  pages: SignInPages,
  res: Response,
  status: number,
  error?: string,
  username = '',
): void {
  const token = pages.random(24).toString('base64url');
  res
    .status(status)
    .set('Cache-Control', 'no-store')
    .cookie(LOGIN_CSRF_COOKIE, token, adminCookie(60 * 60))
    .render('admin/login', {
      layout: 'main',
      title: 'Administrator sign-in',
      csrf: token,
      error,
      username,
    });
}

function signInPage(pages: SignInPages): RequestHandler {
  return function showSignIn(_req, res) {
    renderSignIn(pages, res, 200);
  };
}

function signIn(pages: SignInPages): RequestHandler {
  return async function passwordSignIn(req, res) {
    checkCsrf(req, readCookie(req, LOGIN_CSRF_COOKIE) ?? pages.random(24).toString('base64url'));
    const parsed = signInSchema.safeParse(req.body);
    if (!parsed.success) {
      renderSignIn(pages, res, 400, 'Enter your username and password.');
      return;
    }
    const { username, password } = parsed.data;
    const result = await pages.signIns.signIn({
      username,
      password,
      ip: req.ip ?? 'unknown',
      requestId: requestContext(req).requestId,
    });
    switch (result.outcome) {
      case 'throttled':
        renderSignIn(pages, res, 429, THROTTLED_MESSAGE, username);
        return;
      case 'failed':
        renderSignIn(pages, res, 401, FAILED_MESSAGE, username);
        return;
      case 'signed-in':
        res
          .cookie(ADMIN_COOKIE, result.token, adminCookie(ADMIN_SESSION_TTL_MS / 1000))
          .cookie(LOGIN_CSRF_COOKIE, '', adminCookie(0))
          .redirect(303, ADMIN_PATH);
    }
  };
}

function signOut(signIns: AdminSignIns): RequestHandler {
  return async function passwordSignOut(req, res) {
    const token = readCookie(req, ADMIN_COOKIE);
    const session = token === undefined ? undefined : await signIns.findSession(token);
    if (token !== undefined && session !== undefined) {
      checkCsrf(req, session.csrfSecret);
      await signIns.signOut(token);
    }
    res.cookie(ADMIN_COOKIE, '', adminCookie(0)).redirect(303, `${ADMIN_PATH}/login`);
  };
}

/** The actor of a password sign-in; a GET without one is sent to sign in. */
function passwordActor(signIns: AdminSignIns) {
  return async function resolvePasswordActor(
    req: Request,
    res: Response,
  ): Promise<AdminActor | undefined> {
    const token = readCookie(req, ADMIN_COOKIE);
    const session = token === undefined ? undefined : await signIns.findSession(token);
    if (session === undefined) {
      if (req.method === 'GET') {
        res.set('Cache-Control', 'no-store').redirect(303, `${ADMIN_PATH}/login`);
        return undefined;
      }
      throw new HttpError(401, 'unauthorized', 'Your admin session has ended. Sign in again.');
    }
    return {
      id: `admin:${session.adminUserId}`,
      tenantId: session.tenantId,
      name: session.username,
      roleLabel: session.tenantId === undefined ? 'Operator' : 'District administrator',
      base: ADMIN_PATH,
      csrf: session.csrfSecret,
      canSignOut: true,
    };
  };
}

/**
 * `/admin/login`, `/admin/logout` and the admin pages for password sign-ins (operators and district
 * admins created with `mastery-pathways admin create`). There is no default account.
 */
export function adminRoutes(deps: AdminRoutesDeps): Router {
  const random = deps.random ?? randomBytes;
  const signIns = createAdminSignIns({
    db: deps.db,
    now: deps.services.now,
    logger: deps.logger,
    random,
  });
  const pages: SignInPages = { signIns, random };
  const router = Router();
  router.get(`${ADMIN_PATH}/login`, signInPage(pages));
  router.post(`${ADMIN_PATH}/login`, form, signIn(pages));
  router.post(`${ADMIN_PATH}/logout`, form, signOut(signIns));
  router.use(ADMIN_PATH, adminPages(deps, passwordActor(signIns)));
  return router;
}

/** The actor of a launched LMS administrator, limited to the district the launch resolved to. */
function launchedActor(req: Request): Promise<AdminActor> {
  const v = viewer(req);
  if (!v.isAdministrator) {
    throw new HttpError(
      403,
      'forbidden',
      'Only LMS administrators can open the Mastery Pathways administration.',
    );
  }
  return Promise.resolve({
    id: `lti:${v.user.id}`,
    tenantId: v.tenantId,
    name: v.user.name ?? 'Administrator',
    roleLabel: roleLabel(v),
    base: `${v.base}/admin`,
    csrf: v.session.csrfSecret,
    canSignOut: false,
  });
}

/**
 * The admin pages for a user launched from a registered LMS with an institution or system
 * Administrator role, limited to the district (tenant) the launch resolved to. Mount at
 * `/s/:sessionToken/admin`.
 */
export function launchedAdminRoutes(deps: AdminRoutesDeps): Router {
  const router = Router({ mergeParams: true });
  router.use(sessionMiddleware(deps.services));
  router.use(adminPages(deps, launchedActor));
  return router;
}
