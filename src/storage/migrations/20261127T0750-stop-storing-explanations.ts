import { sql, type Kysely } from 'kysely';

/**
 * Mastery results keep their numbers only. The working behind each number ("show your work") is
 * worked out again from the same stored inputs when a page shows it (ADR 0004): writing it with
 * every result was most of the cost of a recomputation.
 *
 * The column stays for one release, nullable and no longer written, so that during a rolling
 * upgrade the instances of the previous version (which still write and read it) keep working. A
 * later migration drops it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE mastery_results ALTER COLUMN explanation DROP NOT NULL`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // The previous version shows "not available yet" for these rows until it recomputes them.
  await sql`UPDATE mastery_results SET explanation = '{}'::jsonb WHERE explanation IS NULL`.execute(
    db,
  );
  await sql`ALTER TABLE mastery_results ALTER COLUMN explanation SET NOT NULL`.execute(db);
}
