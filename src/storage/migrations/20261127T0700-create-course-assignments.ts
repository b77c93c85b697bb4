import { sql, type Kysely } from 'kysely';

/**
 * A course's assignments and their alignment to standards (issue 4). An assignment comes from an
 * AGS line item, a Deep Linking link the tool created, or a teacher's own entry. Alignments are
 * keyed by the assignment, and the assignment carries the line item's `resource_id`/`tag` and the
 * resource link id, so a copied course finds its alignments again. Every row carries `tenant_id`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE course_assignments (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      course_id uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
      title text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
      description text CHECK (length(description) <= 10000),
      source text NOT NULL CHECK (source IN ('lms_line_item', 'deep_link', 'teacher')),
      -- The AGS line item URL (its id) in this course, when the assignment has a gradebook column.
      line_item_url text,
      -- LTI resource link id of a link the tool created (Deep Linking), when there is one.
      resource_link_id text,
      -- AGS resourceId and tag; the tool sets resourceId to 'mp-assignment:<id>' on columns it creates,
      -- and an LMS copies both with the course.
      resource_id text,
      tag text,
      score_maximum double precision CHECK (score_maximum > 0),
      due_at timestamptz,
      -- The assignment of another course this one was recognised as a copy of.
      copied_from uuid REFERENCES course_assignments (id) ON DELETE SET NULL,
      archived_at timestamptz,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    )
  `.execute(db);
  await sql`CREATE UNIQUE INDEX course_assignments_line_item_idx ON course_assignments (course_id, line_item_url) WHERE line_item_url IS NOT NULL`.execute(
    db,
  );
  await sql`CREATE UNIQUE INDEX course_assignments_resource_link_idx ON course_assignments (course_id, resource_link_id) WHERE resource_link_id IS NOT NULL`.execute(
    db,
  );
  await sql`CREATE INDEX course_assignments_tenant_course_idx ON course_assignments (tenant_id, course_id)`.execute(
    db,
  );
  await sql`CREATE INDEX course_assignments_resource_id_idx ON course_assignments (tenant_id, resource_id) WHERE resource_id IS NOT NULL`.execute(
    db,
  );

  await sql`
    CREATE TABLE assignment_alignments (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      course_id uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
      assignment_id uuid NOT NULL REFERENCES course_assignments (id) ON DELETE CASCADE,
      -- Never ON DELETE CASCADE: an item with alignments is archived, not deleted.
      item_id uuid NOT NULL REFERENCES standard_items (id),
      -- Relative weight of this standard within the assignment (mastery-based assignment score).
      weight double precision NOT NULL DEFAULT 1 CHECK (weight > 0),
      -- Points of the assignment that assess this standard (a test whose parts assess different
      -- standards); evidence in points converts to the scale through them.
      points double precision CHECK (points > 0),
      rubric_criterion text CHECK (length(rubric_criterion) <= 500),
      position integer NOT NULL DEFAULT 0,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (assignment_id, item_id)
    )
  `.execute(db);
  await sql`CREATE INDEX assignment_alignments_tenant_course_idx ON assignment_alignments (tenant_id, course_id)`.execute(
    db,
  );
  await sql`CREATE INDEX assignment_alignments_item_idx ON assignment_alignments (item_id)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE assignment_alignments`.execute(db);
  await sql`DROP TABLE course_assignments`.execute(db);
}
