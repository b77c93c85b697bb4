import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';

/**
 * Admin sign-in sessions (password sign-ins; launched admins use LTI sessions) and the frame origins
 * an admin sets on a platform. Only the SHA-256 of a session's cookie token is stored.
 */

/** Who signed in with a password, as the admin pages need it. */
export interface AdminSignIn {
  readonly adminUserId: string;
  readonly username: string;
  /** undefined: an operator, who acts for every district. */
  readonly tenantId: string | undefined;
  readonly csrfSecret: string;
}

/** An admin works in one sitting; a stolen cookie should not outlive the working day. */
export const ADMIN_SESSION_TTL_MS = 8 * 60 * 60 * 1000;

const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export function createAdminStore(
  db: Kysely<Database>,
  options: { now: () => Date; random?: (size: number) => Buffer },
) {
  const random = options.random ?? randomBytes;
  const { now } = options;
  return {
    /** Starts a session; returns the cookie token (shown once, stored only as its hash). */
    async createSession(adminUserId: string): Promise<{ token: string; csrfSecret: string }> {
      const token = random(32).toString('base64url');
      const csrfSecret = random(32).toString('base64url');
      const time = now();
      // Expired sessions of anyone are dropped on the way: no background job needed.
      await db.deleteFrom('admin_sessions').where('expires_at', '<=', time).execute();
      await db
        .insertInto('admin_sessions')
        .values({
          token_hash: hashToken(token),
          admin_user_id: adminUserId,
          csrf_secret: csrfSecret,
          created_at: time,
          expires_at: new Date(time.getTime() + ADMIN_SESSION_TTL_MS),
        })
        .execute();
      return { token, csrfSecret };
    },

    /** The live session of a cookie token; disabled admins lose their sessions at once. */
    async findSession(token: string): Promise<AdminSignIn | undefined> {
      const row = await db
        .selectFrom('admin_sessions as s')
        .innerJoin('admin_users as u', 'u.id', 's.admin_user_id')
        .select(['u.id', 'u.username', 'u.tenant_id', 's.csrf_secret'])
        .where('s.token_hash', '=', hashToken(token))
        .where('s.expires_at', '>', now())
        .where('u.disabled_at', 'is', null)
        .executeTakeFirst();
      if (row === undefined) return undefined;
      return {
        adminUserId: row.id,
        username: row.username,
        tenantId: row.tenant_id ?? undefined,
        csrfSecret: row.csrf_secret,
      };
    },

    async removeSession(token: string): Promise<void> {
      await db.deleteFrom('admin_sessions').where('token_hash', '=', hashToken(token)).execute();
    },

    async setFrameOrigins(platformId: string, origins: readonly string[]): Promise<boolean> {
      const result = await db
        .updateTable('platforms')
        .set({ frame_origins: [...origins] })
        .where('id', '=', platformId)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
  };
}

export type AdminStore = ReturnType<typeof createAdminStore>;
