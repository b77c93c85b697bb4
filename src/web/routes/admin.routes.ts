import { createHmac, randomBytes } from 'node:crypto';
import express, { Router, type CookieOptions, type Request, type Response } from 'express';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { AppServices } from '../../app-services.ts';
import type { Logger } from '../../logger.ts';
import { hashPassword, verifyPassword } from '../../lti-admin/password.ts';
import { createAdminUserRepository } from '../../storage/lti/admin-users.repository.ts';
import type { Database } from '../../storage/schema.ts';
import { adminPages, type AdminActor } from '../admin/admin-pages.ts';
import { checkCsrf } from '../middleware/csrf.ts';
import {
  ADMIN_SESSION_TTL_MS,
  createAdminStore,
} from '../../storage/lti/admin-sessions.repository.ts';
import { createLoginThrottle } from '../admin/login-throttle.ts';
import { HttpError } from '../errors.ts';
import { readCookie } from '../cookies.ts';
import { roleLabel, sessionMiddleware, viewer } from '../middleware/session.ts';
import { requestContext } from '../request-context.ts';

export interface AdminRoutesDeps {
  readonly services: AppServices;
  readonly db: Kysely<Database>;
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

/**
 * `/admin/login`, `/admin/logout` and the admin pages for password sign-ins (operators and district
 * admins created with `mastery-pathways admin create`). There is no default account.
 */
export function adminRoutes(deps: AdminRoutesDeps): Router {
  const { services, db, logger } = deps;
  const random = deps.random ?? randomBytes;
  const store = createAdminStore(db, { now: services.now, random });
  const admins = createAdminUserRepository(db, services.now);
  // Per app instance, inside this closure: two apps in one process never share counters.
  const throttle = createLoginThrottle({ now: services.now });
  // Unknown usernames are checked against this hash, so timing does not reveal which ones exist.
  const dummyHash = hashPassword(random(18).toString('base64url'));
  const router = Router();

  // Per process: a hash in the log cannot be matched against a list of addresses elsewhere.
  const logKey = random(32);
  const usernameKey = (username: string): string =>
    createHmac('sha256', logKey)
      .update(username.toLowerCase(), 'utf8')
      .digest('base64url')
      .slice(0, 16);
  const renderSignIn = (res: Response, status: number, error?: string, username = ''): void => {
    const token = random(24).toString('base64url');
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
  };

  router.get(`${ADMIN_PATH}/login`, (_req, res) => {
    renderSignIn(res, 200);
  });

  router.post(`${ADMIN_PATH}/login`, form, async (req, res) => {
    checkCsrf(req, readCookie(req, LOGIN_CSRF_COOKIE) ?? random(24).toString('base64url'));
    const parsed = signInSchema.safeParse(req.body);
    if (!parsed.success) {
      renderSignIn(res, 400, 'Enter your username and password.');
      return;
    }
    const { username, password } = parsed.data;
    const ip = req.ip ?? 'unknown';
    // A typed username is often an email: logs get the request id and a keyed hash that tells
    // repeated attempts at one username apart, never the name (nor the password).
    const attempt = {
      requestId: requestContext(req).requestId,
      usernameKey: usernameKey(username),
    };
    if (throttle.isBlocked(username, ip)) {
      logger.warn(attempt, 'admin sign-in throttled');
      renderSignIn(res, 429, THROTTLED_MESSAGE, username);
      return;
    }
    const admin = await admins.findByUsername(username);
    const valid = await verifyPassword(password, admin?.passwordHash ?? (await dummyHash));
    if (admin === undefined || !valid || admin.disabledAt !== undefined) {
      throttle.recordFailure(username, ip);
      logger.info(attempt, 'admin sign-in failed');
      renderSignIn(res, 401, FAILED_MESSAGE, username);
      return;
    }
    throttle.recordSuccess(username, ip);
    const session = await store.createSession(admin.id);
    logger.info({ adminUserId: admin.id }, 'admin signed in');
    res
      .cookie(ADMIN_COOKIE, session.token, adminCookie(ADMIN_SESSION_TTL_MS / 1000))
      .cookie(LOGIN_CSRF_COOKIE, '', adminCookie(0))
      .redirect(303, ADMIN_PATH);
  });

  router.post(`${ADMIN_PATH}/logout`, form, async (req, res) => {
    const token = readCookie(req, ADMIN_COOKIE);
    const session = token === undefined ? undefined : await store.findSession(token);
    if (token !== undefined && session !== undefined) {
      checkCsrf(req, session.csrfSecret);
      await store.removeSession(token);
    }
    res.cookie(ADMIN_COOKIE, '', adminCookie(0)).redirect(303, `${ADMIN_PATH}/login`);
  });

  const resolvePasswordActor = async (
    req: Request,
    res: Response,
  ): Promise<AdminActor | undefined> => {
    const token = readCookie(req, ADMIN_COOKIE);
    const session = token === undefined ? undefined : await store.findSession(token);
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
  router.use(ADMIN_PATH, adminPages(deps, resolvePasswordActor));
  return router;
}

/**
 * The admin pages for a user launched from a registered LMS with an institution or system
 * Administrator role, limited to the district (tenant) the launch resolved to. Mount at
 * `/s/:sessionToken/admin`.
 */
export function launchedAdminRoutes(deps: AdminRoutesDeps): Router {
  const router = Router({ mergeParams: true });
  router.use(sessionMiddleware(deps.services));
  router.use(
    adminPages(deps, (req) => {
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
    }),
  );
  return router;
}
