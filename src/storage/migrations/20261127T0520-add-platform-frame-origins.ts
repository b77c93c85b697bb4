import { sql, type Kysely } from 'kysely';

/**
 * The web origins an LMS frames the tool from. They differ from the issuer on hosted platforms
 * (Canvas: issuer canvas.instructure.com, pages on district.instructure.com), and CSP
 * frame-ancestors must name them exactly.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE platforms ADD COLUMN frame_origins text[] NOT NULL DEFAULT '{}'`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE platforms DROP COLUMN frame_origins`.execute(db);
}
