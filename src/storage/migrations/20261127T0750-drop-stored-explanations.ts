import { sql, type Kysely } from 'kysely';

/**
 * Mastery results keep their numbers only. The working behind each number ("show your work") is
 * worked out again from the same stored inputs when a page shows it (ADR 0004): writing it with
 * every result was most of the cost of a recomputation. Nothing is lost: the inputs (evidence,
 * overrides, policy, the children's results) are all still stored.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE mastery_results DROP COLUMN explanation`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE mastery_results ADD COLUMN explanation jsonb NOT NULL DEFAULT '{}'::jsonb`.execute(
    db,
  );
}
