import { sql, type Kysely } from 'kysely';

/**
 * A gradebook cell a teacher changed by hand in the LMS: before each post the worker reads the
 * LMS's result and compares it with the value it last confirmed; when they differ, the teacher's
 * grade stays and the cell is held (`held_at`, with the value the teacher left, `held_value`)
 * until a teacher lets the tool take the cell over again. Replaces Canvas's
 * `prioritize_non_tool_grade`, which also blocks the tool's own later grades.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE confirmed_grades
      ADD COLUMN held_at timestamptz,
      ADD COLUMN held_value double precision
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE confirmed_grades DROP COLUMN held_at, DROP COLUMN held_value
  `.execute(db);
}
