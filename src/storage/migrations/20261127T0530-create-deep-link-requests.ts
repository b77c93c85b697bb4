import { sql, type Kysely } from 'kysely';

/**
 * A Deep Linking request waiting for the teacher's choice: its settings (return URL, accepted
 * types, the `data` to echo) belong to the session that received it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE deep_link_requests (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
      session_id text NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
      deployment_row_id uuid NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
      course_id uuid REFERENCES courses(id) ON DELETE CASCADE,
      settings jsonb NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL
    )
  `.execute(db);
  await sql`CREATE INDEX deep_link_requests_session ON deep_link_requests (session_id)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE deep_link_requests`.execute(db);
}
