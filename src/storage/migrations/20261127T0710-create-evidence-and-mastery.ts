import { sql, type Kysely } from 'kysely';

/**
 * Evidence of mastery and what the tool computes from it (issue 5). Every row carries `tenant_id`.
 *
 * - `mastery_policies`: the district default (course_id NULL) and course overrides, as JSON the
 *   mastery module parses; every change is kept in `mastery_policy_changes` (who, when, before/after).
 * - `evidence`: one current record per (assignment, student, standard), or free-standing evidence
 *   without an assignment; every edit bumps `version` and keeps the prior state in `evidence_history`.
 * - `mastery_results`: the computed level per (course, student, standard), with its explanation, so
 *   pages and grade passback read it without recomputing.
 * - `mastery_overrides`: a teacher's level with a reason, kept beside the computed value.
 * - `mentor_links`: which students a mentor/parent may see (LTI role_scope_mentor).
 * - `recompute_jobs`: a policy change's recomputation, with progress.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE mastery_policies (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      course_id uuid REFERENCES courses (id) ON DELETE CASCADE,
      policy jsonb NOT NULL,
      updated_by text NOT NULL,
      updated_at timestamptz NOT NULL
    )
  `.execute(db);
  await sql`CREATE UNIQUE INDEX mastery_policies_district_idx ON mastery_policies (tenant_id) WHERE course_id IS NULL`.execute(
    db,
  );
  await sql`CREATE UNIQUE INDEX mastery_policies_course_idx ON mastery_policies (tenant_id, course_id) WHERE course_id IS NOT NULL`.execute(
    db,
  );
  await sql`
    CREATE TABLE mastery_policy_changes (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      course_id uuid REFERENCES courses (id) ON DELETE CASCADE,
      before jsonb,
      after jsonb,
      changed_by text NOT NULL,
      changed_at timestamptz NOT NULL
    )
  `.execute(db);
  await sql`CREATE INDEX mastery_policy_changes_scope_idx ON mastery_policy_changes (tenant_id, course_id, changed_at)`.execute(
    db,
  );

  await sql`
    CREATE TABLE evidence (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      course_id uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
      student_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      item_id uuid NOT NULL REFERENCES standard_items (id),
      assignment_id uuid REFERENCES course_assignments (id) ON DELETE SET NULL,
      -- On the proficiency scale; NULL while not scored.
      score double precision,
      -- Points as given (converted to the scale through the alignment), when entered as points.
      points double precision,
      points_possible double precision CHECK (points_possible > 0),
      assessed_at timestamptz,
      due_at timestamptz,
      graded_at timestamptz,
      excused boolean NOT NULL DEFAULT false,
      comment text CHECK (length(comment) <= 5000),
      source text NOT NULL CHECK (source IN ('teacher', 'lms', 'csv')),
      recorded_by text NOT NULL,
      recorded_at timestamptz NOT NULL,
      version integer NOT NULL DEFAULT 1,
      -- Withdrawn evidence stays (with its history) but no longer counts.
      deleted_at timestamptz
    )
  `.execute(db);
  await sql`CREATE UNIQUE INDEX evidence_assignment_cell_idx ON evidence (assignment_id, student_id, item_id) WHERE assignment_id IS NOT NULL`.execute(
    db,
  );
  await sql`CREATE INDEX evidence_course_student_item_idx ON evidence (tenant_id, course_id, student_id, item_id)`.execute(
    db,
  );
  await sql`CREATE INDEX evidence_item_idx ON evidence (item_id)`.execute(db);

  await sql`
    CREATE TABLE evidence_history (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      evidence_id uuid NOT NULL REFERENCES evidence (id) ON DELETE CASCADE,
      version integer NOT NULL,
      -- The record as it was before the change.
      snapshot jsonb NOT NULL,
      changed_by text NOT NULL,
      changed_at timestamptz NOT NULL
    )
  `.execute(db);
  await sql`CREATE INDEX evidence_history_evidence_idx ON evidence_history (evidence_id, version)`.execute(
    db,
  );

  await sql`
    CREATE TABLE mastery_results (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      course_id uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
      student_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      item_id uuid NOT NULL REFERENCES standard_items (id),
      status text NOT NULL CHECK (status IN ('mastery', 'insufficientEvidence', 'noEvidence')),
      value double precision,
      level_id text,
      mastered boolean NOT NULL DEFAULT false,
      -- The computed value before a teacher's override (equal to value when there is none).
      computed_value double precision,
      overridden boolean NOT NULL DEFAULT false,
      evidence_count integer NOT NULL DEFAULT 0,
      explanation jsonb NOT NULL,
      computed_at timestamptz NOT NULL,
      PRIMARY KEY (course_id, student_id, item_id)
    )
  `.execute(db);
  await sql`CREATE INDEX mastery_results_tenant_course_idx ON mastery_results (tenant_id, course_id)`.execute(
    db,
  );

  await sql`
    CREATE TABLE mastery_overrides (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      course_id uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
      student_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      item_id uuid NOT NULL REFERENCES standard_items (id),
      value double precision NOT NULL,
      reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
      set_by text NOT NULL,
      set_at timestamptz NOT NULL,
      PRIMARY KEY (course_id, student_id, item_id)
    )
  `.execute(db);
  await sql`CREATE INDEX mastery_overrides_tenant_idx ON mastery_overrides (tenant_id, course_id)`.execute(
    db,
  );

  await sql`
    CREATE TABLE mentor_links (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      course_id uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
      mentor_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      student_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (course_id, mentor_id, student_id)
    )
  `.execute(db);
  await sql`CREATE INDEX mentor_links_tenant_idx ON mentor_links (tenant_id, course_id)`.execute(
    db,
  );

  await sql`
    CREATE TABLE recompute_jobs (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      -- NULL: every course of the district (a district policy change).
      course_id uuid REFERENCES courses (id) ON DELETE CASCADE,
      reason text NOT NULL,
      status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
      done integer NOT NULL DEFAULT 0,
      total integer NOT NULL DEFAULT 0,
      error text,
      requested_by text NOT NULL,
      created_at timestamptz NOT NULL,
      started_at timestamptz,
      finished_at timestamptz
    )
  `.execute(db);
  await sql`CREATE INDEX recompute_jobs_tenant_idx ON recompute_jobs (tenant_id, created_at)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'recompute_jobs',
    'mentor_links',
    'mastery_overrides',
    'mastery_results',
    'evidence_history',
    'evidence',
    'mastery_policy_changes',
    'mastery_policies',
  ]) {
    await sql`DROP TABLE ${sql.id(table)}`.execute(db);
  }
}
