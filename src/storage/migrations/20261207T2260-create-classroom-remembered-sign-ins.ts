import { sql, type Kysely } from 'kysely';

/**
 * Google Classroom sign-in once (issue 19): a browser that signed in to the add-on is remembered
 * for the Google user Classroom names in `login_hint`, so opening the add-on again needs no
 * sign-in window. The browser holds a random token in a partitioned cookie; the row keeps only its
 * sha256 (hex), bound to the district, the tool's user and the Google account id (`sub`), and
 * expires.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE classroom_remembered_sign_ins (
      token_hash text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      -- The Google account id (OIDC sub) that Classroom sends back as login_hint.
      google_sub text NOT NULL CHECK (length(google_sub) BETWEEN 1 AND 255),
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL
    )
  `.execute(db);
  await sql`
    CREATE INDEX classroom_remembered_sign_ins_tenant_user_idx
      ON classroom_remembered_sign_ins (tenant_id, user_id)
  `.execute(db);
  await sql`
    CREATE INDEX classroom_remembered_sign_ins_expires_idx
      ON classroom_remembered_sign_ins (expires_at)
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE classroom_remembered_sign_ins`.execute(db);
}
