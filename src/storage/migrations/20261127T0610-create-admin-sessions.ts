import { sql, type Kysely } from 'kysely';

/**
 * Sign-in sessions of admin users (the `/admin` pages, opened top-level, not in an LMS frame).
 * Only the SHA-256 of the cookie token is stored, so a database dump cannot be replayed as a
 * session. Sessions die with their admin user.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE admin_sessions (
      token_hash text PRIMARY KEY,
      admin_user_id uuid NOT NULL REFERENCES admin_users (id) ON DELETE CASCADE,
      csrf_secret text NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL
    )
  `.execute(db);
  await sql`CREATE INDEX admin_sessions_expires_at ON admin_sessions (expires_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE admin_sessions`.execute(db);
}
