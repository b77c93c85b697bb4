import { sql, type Kysely } from 'kysely';

/**
 * Google Classroom add-on (issue 7). A district's install is its Workspace domain(s) plus the tool's
 * Google Cloud project (OAuth client). It reuses a `platforms` row (flavour 'classroom', issuer =
 * Google's issuer, client_id = the OAuth client id) and a `deployments` row bound to the tenant, so
 * courses, users, enrollments and sessions work unchanged. Secrets are encrypted at rest like the
 * tool private keys (AES-256-GCM envelope as jsonb).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE platforms DROP CONSTRAINT IF EXISTS platforms_flavour_check`.execute(db);
  await sql`
    ALTER TABLE platforms ADD CONSTRAINT platforms_flavour_check
      CHECK (flavour IN ('canvas', 'schoology', 'moodle', 'generic', 'classroom'))
  `.execute(db);

  await sql`
    CREATE TABLE classroom_installs (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL UNIQUE REFERENCES tenants (id) ON DELETE CASCADE,
      platform_id uuid NOT NULL REFERENCES platforms (id) ON DELETE RESTRICT,
      deployment_row_id uuid NOT NULL REFERENCES deployments (id) ON DELETE RESTRICT,
      issuer text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 2000),
      client_id text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 500),
      encrypted_client_secret jsonb NOT NULL,
      -- Lower-case Workspace domains whose people may sign in (the hd claim and the email domain).
      allowed_domains text[] NOT NULL CHECK (cardinality(allowed_domains) BETWEEN 1 AND 50),
      api_base_url text NOT NULL CHECK (length(api_base_url) BETWEEN 1 AND 2000),
      -- The origin of the Classroom pages that frame the add-on (CSP frame-ancestors).
      frame_origin text NOT NULL CHECK (length(frame_origin) BETWEEN 1 AND 2000),
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    )
  `.execute(db);

  // One per (tenant, user): the latest refresh token Google gave that user, for background passback.
  await sql`
    CREATE TABLE classroom_user_tokens (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      encrypted_refresh_token jsonb NOT NULL,
      scopes text[] NOT NULL DEFAULT '{}',
      revoked_at timestamptz,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, user_id)
    )
  `.execute(db);

  await sql`
    CREATE TABLE classroom_courses (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      course_id uuid PRIMARY KEY REFERENCES courses (id) ON DELETE CASCADE,
      classroom_course_id text NOT NULL,
      -- The teacher whose refresh token background passback and roster sync use.
      grading_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
      -- Set when Google answered invalid_grant (revoked or expired): a teacher must sign in again.
      needs_teacher_sign_in boolean NOT NULL DEFAULT false,
      needs_sign_in_reason text,
      updated_at timestamptz NOT NULL
    )
  `.execute(db);
  await sql`CREATE INDEX classroom_courses_tenant_idx ON classroom_courses (tenant_id)`.execute(db);

  // Classroom items the tool created: an add-on attachment on a CourseWork, or a plain CourseWork
  // with a link (teacher without the add-on licence). The gradebook column id the port hands out.
  await sql`
    CREATE TABLE classroom_columns (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      course_id uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
      kind text NOT NULL CHECK (kind IN ('attachment', 'coursework')),
      course_work_id text NOT NULL,
      attachment_id text,
      assignment_id uuid REFERENCES course_assignments (id) ON DELETE SET NULL,
      title text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
      max_points double precision NOT NULL CHECK (max_points > 0),
      tag text,
      resource_id text,
      created_at timestamptz NOT NULL,
      CHECK ((kind = 'attachment') = (attachment_id IS NOT NULL))
    )
  `.execute(db);
  await sql`CREATE UNIQUE INDEX classroom_columns_item_idx ON classroom_columns (course_id, course_work_id, coalesce(attachment_id, ''))`.execute(
    db,
  );
  await sql`CREATE INDEX classroom_columns_tenant_course_idx ON classroom_columns (tenant_id, course_id)`.execute(
    db,
  );

  // Sign-in in progress. Third-party cookies are blocked in the add-on iframe, so the PKCE verifier,
  // nonce and the Classroom parameters are kept here, keyed by the OAuth state. The iframe holds the
  // flow id (a second secret) and exchanges a completed flow for a tool session once.
  await sql`
    CREATE TABLE classroom_sign_in_flows (
      state text PRIMARY KEY CHECK (length(state) BETWEEN 20 AND 200),
      flow_id text NOT NULL UNIQUE CHECK (length(flow_id) BETWEEN 20 AND 200),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      nonce text NOT NULL,
      code_verifier text NOT NULL,
      launch jsonb NOT NULL,
      user_id uuid REFERENCES users (id) ON DELETE CASCADE,
      course_id uuid REFERENCES courses (id) ON DELETE CASCADE,
      role text CHECK (role IN ('teacher', 'student')),
      completed_at timestamptz,
      expires_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL
    )
  `.execute(db);
  await sql`CREATE INDEX classroom_sign_in_flows_expires_idx ON classroom_sign_in_flows (expires_at)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE classroom_sign_in_flows`.execute(db);
  await sql`DROP TABLE classroom_columns`.execute(db);
  await sql`DROP TABLE classroom_courses`.execute(db);
  await sql`DROP TABLE classroom_user_tokens`.execute(db);
  await sql`DROP TABLE classroom_installs`.execute(db);
  // NOT VALID: classroom platform rows may still be referenced by courses; new rows are checked.
  await sql`ALTER TABLE platforms DROP CONSTRAINT platforms_flavour_check`.execute(db);
  await sql`
    ALTER TABLE platforms ADD CONSTRAINT platforms_flavour_check
      CHECK (flavour IN ('canvas', 'schoology', 'moodle', 'generic')) NOT VALID
  `.execute(db);
}
