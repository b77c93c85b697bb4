import { sql, type Kysely } from 'kysely';

/**
 * `mentor_scopes`: the students a mentor's (parent's) own launch names in its `role_scope_mentor`
 * claim, kept as the LMS's opaque user ids (`sub`s of the launch's issuer). The views join them
 * with the district's users when a page is shown, so a student the tool meets after the parent's
 * launch (their own launch, a roster sync) is visible without the parent launching again, and no
 * row is made for a student the tool has not met.
 *
 * Existing `mentor_links` rows are carried over. The table itself stays for one release, still
 * written, so instances of the previous version keep working during a rolling upgrade.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE mentor_scopes (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      course_id uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
      mentor_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      issuer text NOT NULL,
      student_subs text[] NOT NULL CHECK (cardinality(student_subs) <= 500),
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (course_id, mentor_id)
    )
  `.execute(db);
  await sql`CREATE INDEX mentor_scopes_tenant_idx ON mentor_scopes (tenant_id, course_id)`.execute(
    db,
  );
  await sql`
    INSERT INTO mentor_scopes (tenant_id, course_id, mentor_id, issuer, student_subs, updated_at)
    SELECT l.tenant_id, l.course_id, l.mentor_id, m.issuer, array_agg(s.sub ORDER BY s.sub),
           max(l.updated_at)
    FROM mentor_links l
    JOIN users m ON m.id = l.mentor_id AND m.tenant_id = l.tenant_id
    JOIN users s ON s.id = l.student_id AND s.tenant_id = l.tenant_id AND s.issuer = m.issuer
    GROUP BY l.tenant_id, l.course_id, l.mentor_id, m.issuer
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE mentor_scopes`.execute(db);
}
