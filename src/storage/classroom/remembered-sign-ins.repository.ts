import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';

/**
 * Browsers remembered after a Google sign-in to the Classroom add-on. Only the sha256 of the
 * browser's token is stored; a row answers only for its district, its Google account (`sub`, the
 * `login_hint` Classroom sends) and until it expires.
 */
export interface RememberedSignIn {
  readonly tenantId: string;
  readonly userId: string;
  readonly googleSub: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

export function createRememberedSignInRepository(db: Kysely<Database>, now: () => Date) {
  return {
    async remember(input: {
      tokenHash: string;
      tenantId: string;
      userId: string;
      googleSub: string;
      ttlMs: number;
    }): Promise<void> {
      const time = now();
      await db
        .insertInto('classroom_remembered_sign_ins')
        .values({
          token_hash: input.tokenHash,
          tenant_id: input.tenantId,
          user_id: input.userId,
          google_sub: input.googleSub,
          created_at: time,
          expires_at: new Date(time.getTime() + input.ttlMs),
        })
        .execute();
    },

    /** The live row for this token, district and Google account; nothing for any other. */
    async find(
      tenantId: string,
      tokenHash: string,
      googleSub: string,
    ): Promise<RememberedSignIn | undefined> {
      const row = await db
        .selectFrom('classroom_remembered_sign_ins')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('token_hash', '=', tokenHash)
        .where('google_sub', '=', googleSub)
        .where('expires_at', '>', now())
        .executeTakeFirst();
      return row === undefined
        ? undefined
        : {
            tenantId: row.tenant_id,
            userId: row.user_id,
            googleSub: row.google_sub,
            createdAt: row.created_at,
            expiresAt: row.expires_at,
          };
    },

    async forget(tenantId: string, tokenHash: string): Promise<void> {
      await db
        .deleteFrom('classroom_remembered_sign_ins')
        .where('tenant_id', '=', tenantId)
        .where('token_hash', '=', tokenHash)
        .execute();
    },

    async sweepExpired(): Promise<number> {
      const result = await db
        .deleteFrom('classroom_remembered_sign_ins')
        .where('expires_at', '<=', now())
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type RememberedSignInRepository = ReturnType<typeof createRememberedSignInRepository>;
