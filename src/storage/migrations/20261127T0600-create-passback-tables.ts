import { sql, type Kysely } from 'kysely';

/**
 * Grade passback as reconciliation: what the tool wants the gradebook to show (desired_grades, bumped
 * `version` on every change) against what the LMS confirmed (confirmed_grades). A worker posts the
 * difference. Every row carries `tenant_id`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE gradebook_columns (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      course_id uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
      kind text NOT NULL CHECK (kind IN ('standard', 'course', 'assignment')),
      key text NOT NULL CHECK (length(key) BETWEEN 1 AND 500),
      label text NOT NULL CHECK (length(label) BETWEEN 1 AND 500),
      score_maximum double precision NOT NULL CHECK (score_maximum > 0),
      tag text NOT NULL,
      resource_id text NOT NULL,
      lms_column_id text,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready', 'deleted_in_lms')),
      -- A short lease while one worker looks the column up or creates it, so two workers never both create it.
      ensuring_until timestamptz,
      created_at timestamptz NOT NULL,
      UNIQUE (course_id, kind, key)
    )
  `.execute(db);
  await sql`CREATE INDEX gradebook_columns_tenant_course_idx ON gradebook_columns (tenant_id, course_id)`.execute(
    db,
  );

  await sql`
    CREATE TABLE desired_grades (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      course_id uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
      column_id uuid NOT NULL REFERENCES gradebook_columns (id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      lms_user_id text NOT NULL,
      value double precision NOT NULL,
      comment text,
      version bigint NOT NULL DEFAULT 1,
      updated_at timestamptz NOT NULL,
      -- The claim lease: a worker that crashes mid-post loses the cell when the lease runs out.
      claimed_by text,
      claimed_until timestamptz,
      PRIMARY KEY (column_id, user_id)
    )
  `.execute(db);
  await sql`CREATE INDEX desired_grades_tenant_course_idx ON desired_grades (tenant_id, course_id)`.execute(
    db,
  );

  await sql`
    CREATE TABLE confirmed_grades (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      course_id uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
      column_id uuid NOT NULL,
      user_id uuid NOT NULL,
      value double precision,
      comment text,
      -- The desired version the LMS confirmed (0: never).
      version bigint NOT NULL DEFAULT 0,
      confirmed_at timestamptz,
      -- 'retrying': a transient error, tried again at next_attempt_at; 'failed': permanent at failed_version.
      status text NOT NULL CHECK (status IN ('sent', 'retrying', 'failed')),
      failed_version bigint,
      error_code text,
      error_message text,
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz,
      -- Canvas rejects a score timestamp older than the stored one: remember the last one sent.
      last_timestamp timestamptz,
      PRIMARY KEY (column_id, user_id),
      FOREIGN KEY (column_id, user_id) REFERENCES desired_grades (column_id, user_id) ON DELETE CASCADE
    )
  `.execute(db);
  await sql`CREATE INDEX confirmed_grades_tenant_course_idx ON confirmed_grades (tenant_id, course_id)`.execute(
    db,
  );

  await sql`
    CREATE TABLE passback_audit (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      course_id uuid NOT NULL,
      column_id uuid NOT NULL,
      user_id uuid NOT NULL,
      value double precision,
      version bigint NOT NULL,
      result text NOT NULL CHECK (result IN ('sent', 'retrying', 'failed')),
      http_status integer,
      error_code text,
      at timestamptz NOT NULL
    )
  `.execute(db);
  await sql`CREATE INDEX passback_audit_tenant_course_idx ON passback_audit (tenant_id, course_id, at)`.execute(
    db,
  );

  await sql`
    CREATE TABLE passback_course_state (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      course_id uuid PRIMARY KEY REFERENCES courses (id) ON DELETE CASCADE,
      paused boolean NOT NULL DEFAULT false,
      last_run_at timestamptz
    )
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'passback_course_state',
    'passback_audit',
    'confirmed_grades',
    'desired_grades',
    'gradebook_columns',
  ]) {
    await sql`DROP TABLE ${sql.id(table)}`.execute(db);
  }
}
