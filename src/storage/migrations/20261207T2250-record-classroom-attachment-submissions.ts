import { sql, type Kysely } from 'kysely';

/**
 * Google Classroom (issue 19).
 *
 * - `classroom_attachment_submissions`: Google gives a student's submission on an add-on attachment
 *   its own id (AddOnAttachmentStudentSubmission.id, separate from the CourseWork submission id) and
 *   publishes no method to list them: the id comes from getAddOnContext's
 *   `studentContext.submissionId` when the student opens the attachment, and is kept here so grades
 *   reach the attachment's own submission.
 * - `classroom_installs.client_rejected_at`: Google answered `invalid_client` (the OAuth client
 *   secret expired or was deleted): no call is made with it until an administrator saves a new one.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE classroom_attachment_submissions (
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      course_id uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
      course_work_id text NOT NULL CHECK (length(course_work_id) BETWEEN 1 AND 200),
      attachment_id text NOT NULL CHECK (length(attachment_id) BETWEEN 1 AND 200),
      -- Google's user id (the OIDC sub), as the LMS port names students.
      google_user_id text NOT NULL CHECK (length(google_user_id) BETWEEN 1 AND 200),
      submission_id text NOT NULL CHECK (length(submission_id) BETWEEN 1 AND 200),
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (tenant_id, course_id, course_work_id, attachment_id, google_user_id)
    )
  `.execute(db);
  await sql`
    CREATE INDEX classroom_attachment_submissions_course_idx
      ON classroom_attachment_submissions (course_id)
  `.execute(db);
  await sql`ALTER TABLE classroom_installs ADD COLUMN client_rejected_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE classroom_installs DROP COLUMN client_rejected_at`.execute(db);
  await sql`DROP TABLE classroom_attachment_submissions`.execute(db);
}
