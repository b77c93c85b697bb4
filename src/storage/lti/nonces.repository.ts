import { sql, type Kysely } from 'kysely';
import type { NonceStore } from '../../lti/launch.ts';
import type { Database } from '../schema.ts';

export interface NonceRepository extends NonceStore {
  /** Deletes nonces whose id_token has expired (a replay would fail `exp` anyway); returns how many. */
  sweepExpired(): Promise<number>;
}

/**
 * Used id_token nonces. `claim` is one INSERT ... ON CONFLICT DO NOTHING RETURNING: never
 * find-then-insert, which lets two concurrent replays both pass (STYLE anti-patterns).
 */
export function createNonceRepository(db: Kysely<Database>, now: () => Date): NonceRepository {
  return {
    async claim(issuer, nonce, expiresAt) {
      const result = await sql<{ nonce: string }>`
        INSERT INTO used_nonces (issuer, nonce, expires_at) VALUES (${issuer}, ${nonce}, ${expiresAt})
        ON CONFLICT (issuer, nonce) DO NOTHING
        RETURNING nonce
      `.execute(db);
      return result.rows.length === 1;
    },

    async sweepExpired() {
      const result = await db
        .deleteFrom('used_nonces')
        .where('expires_at', '<=', now())
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
