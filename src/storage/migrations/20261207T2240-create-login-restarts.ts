import { sql, type Kysely } from 'kysely';

/**
 * `login_restarts`: what restarting an OIDC login at top level needs, for a login made without LTI
 * platform storage (Moodle, Schoology). When the launch then finds no cookie (Safari and iPads keep
 * none in an LMS frame), the tool offers to open itself in a new window and log in there again with
 * the LMS's own hints; the LMS re-authenticates its user. One row per login state, removed with
 * it (the hints are as short-lived as the state: ten minutes). Platform-level like `login_states`:
 * no district data, no tenant_id; `login_hint` is the LMS's opaque user id.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE login_restarts (
      state text PRIMARY KEY REFERENCES login_states (state) ON DELETE CASCADE,
      login_hint text NOT NULL CHECK (length(login_hint) <= 2000),
      lti_message_hint text CHECK (length(lti_message_hint) <= 8000)
    )
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE login_restarts`.execute(db);
}
