import { sql, type Kysely } from 'kysely';

/**
 * Two evidence dates the orderings of the LMSs need (`OrderBy` in `src/mastery/types.ts`):
 *
 * - `last_graded_at`: the latest grading time, when the current score was given. Canvas orders
 *   outcome results by the submission time, else this date, which moves on a regrade
 *   (instructure/canvas-lms `app/helpers/rollup_score_aggregator_helper.rb`, `result_time`).
 *   `graded_at` stays what it always held: the original score's time (Schoology's order).
 * - `submitted_at`: the student's submission time, where the source knows it.
 *
 * Nothing is lost or rewritten: the columns are added, and `last_graded_at` is filled from the
 * edit history. It is the time the current score was first entered after the last edit that held
 * a different score (each `evidence_history` snapshot keeps its score and the time that version
 * was recorded); a score that never changed keeps `graded_at` (else the date recorded). Instances
 * of the previous version leave the new columns empty during a rolling upgrade; the Canvas order
 * then falls back to the date recorded, as it does for any missing date.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE evidence
      ADD COLUMN last_graded_at timestamptz,
      ADD COLUMN submitted_at timestamptz
  `.execute(db);
  await sql`
    WITH versions AS (
      SELECT h.evidence_id, h.version,
             (h.snapshot ->> 'score')::double precision AS score,
             (h.snapshot ->> 'recordedAt')::timestamptz AS recorded_at
      FROM evidence_history h
    ),
    last_change AS (
      SELECT e.id, max(v.version) AS version
      FROM evidence e
      JOIN versions v ON v.evidence_id = e.id
      WHERE v.score IS DISTINCT FROM e.score
      GROUP BY e.id
    ),
    regraded AS (
      SELECT lc.id,
             coalesce(
               (SELECT min(v.recorded_at) FROM versions v
                WHERE v.evidence_id = lc.id AND v.version > lc.version),
               e.recorded_at) AS at
      FROM last_change lc
      JOIN evidence e ON e.id = lc.id
    )
    UPDATE evidence e SET last_graded_at = r.at
    FROM regraded r
    WHERE r.id = e.id AND (e.score IS NOT NULL OR e.points IS NOT NULL)
  `.execute(db);
  await sql`
    UPDATE evidence SET last_graded_at = coalesce(graded_at, recorded_at)
    WHERE last_graded_at IS NULL AND (score IS NOT NULL OR points IS NOT NULL)
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE evidence DROP COLUMN submitted_at, DROP COLUMN last_graded_at`.execute(db);
}
