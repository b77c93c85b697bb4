import { sql, type Kysely } from 'kysely';

/**
 * `desired_grades.claimed_value`: the value a worker claimed to post. A worker that dies mid-post
 * leaves its claim behind; the next worker finds the LMS showing that value, which is the tool's own
 * post landing, not a teacher's change, and must not hold the cell as "changed by a teacher".
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE desired_grades ADD COLUMN claimed_value double precision`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE desired_grades DROP COLUMN claimed_value`.execute(db);
}
