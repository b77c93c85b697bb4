import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from '../logger.ts';
import {
  ADMIN_SESSION_TTL_MS,
  createAdminStore,
  type AdminSignIn,
} from '../storage/lti/admin-sessions.repository.ts';
import { createAdminUserRepository } from '../storage/lti/admin-users.repository.ts';
import type { Database } from '../storage/schema.ts';
import { createLoginThrottle } from './login-throttle.ts';
import { hashPassword, verifyPassword } from './password.ts';

export { ADMIN_SESSION_TTL_MS, type AdminSignIn };

export interface AdminSignInDeps {
  readonly db: Kysely<Database>;
  readonly now: () => Date;
  readonly logger: Logger;
  readonly random: (size: number) => Buffer;
}

export type SignInOutcome =
  | { readonly outcome: 'signed-in'; readonly token: string }
  | { readonly outcome: 'failed' }
  | { readonly outcome: 'throttled' };

/**
 * Password sign-ins of operators and district admins (created with `mastery-pathways admin
 * create`; there is no default account). One per app: the throttle's counters, the dummy hash and
 * the log key live in this object, so two apps in one process never share them.
 */
export function createAdminSignIns(deps: AdminSignInDeps) {
  const store = createAdminStore(deps.db, { now: deps.now, random: deps.random });
  const admins = createAdminUserRepository(deps.db, deps.now);
  const throttle = createLoginThrottle({ now: deps.now });
  // Unknown usernames are checked against this hash, so timing does not reveal which ones exist.
  const dummyHash = hashPassword(deps.random(18).toString('base64url'));
  // Per process: a hash in the log cannot be matched against a list of addresses elsewhere.
  const logKey = deps.random(32);
  const usernameKey = (username: string): string =>
    createHmac('sha256', logKey)
      .update(username.toLowerCase(), 'utf8')
      .digest('base64url')
      .slice(0, 16);

  /**
   * Checks a username and password from one address. A typed username is often an email: logs
   * get the request id and a keyed hash that tells repeated attempts at one username apart,
   * never the name (nor the password).
   */
  async function signIn(input: {
    username: string;
    password: string;
    ip: string;
    requestId: string;
  }): Promise<SignInOutcome> {
    const { username, password, ip } = input;
    const attempt = { requestId: input.requestId, usernameKey: usernameKey(username) };
    if (throttle.isBlocked(username, ip)) {
      deps.logger.warn(attempt, 'admin sign-in throttled');
      return { outcome: 'throttled' };
    }
    const admin = await admins.findByUsername(username);
    const valid = await verifyPassword(password, admin?.passwordHash ?? (await dummyHash));
    if (admin === undefined || !valid || admin.disabledAt !== undefined) {
      throttle.recordFailure(username, ip);
      deps.logger.info(attempt, 'admin sign-in failed');
      return { outcome: 'failed' };
    }
    throttle.recordSuccess(username, ip);
    const session = await store.createSession(admin.id);
    deps.logger.info({ adminUserId: admin.id }, 'admin signed in');
    return { outcome: 'signed-in', token: session.token };
  }

  return {
    signIn,
    /** The live session of a cookie token; disabled admins lose their sessions at once. */
    findSession: (token: string): Promise<AdminSignIn | undefined> => store.findSession(token),
    signOut: (token: string): Promise<void> => store.removeSession(token),
  };
}

export type AdminSignIns = ReturnType<typeof createAdminSignIns>;
