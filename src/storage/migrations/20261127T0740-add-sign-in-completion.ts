import { sql, type Kysely } from 'kysely';

/**
 * Binds a Google sign-in to the browser that finished it: the OAuth callback hands that browser a
 * random completion secret and the row keeps only its sha256 (hex). "Continue" must present the
 * secret; the flow id alone (shown on the public entry page) no longer yields a session.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE classroom_sign_in_flows
      ADD COLUMN completion_hash text CHECK (completion_hash ~ '^[0-9a-f]{64}$')
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE classroom_sign_in_flows DROP COLUMN completion_hash`.execute(db);
}
