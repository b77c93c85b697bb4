import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';

/** Which cells of a course changed, so their desired grades are brought up to date. */
export interface MasteryChange {
  readonly tenantId: string;
  readonly courseId: string;
  /** Students whose mastery results changed (all of the course's students when omitted). */
  readonly studentIds?: readonly string[] | undefined;
}

/**
 * Brings `desired_grades` up to date with `mastery_results` for the changed students, per the
 * course's passback policy. Called INSIDE the transaction that wrote the evidence and the mastery
 * results, so a grade change and its evidence commit together.
 *
 * PLACEHOLDER: implemented by the passback work (issue 6); until then it changes nothing.
 */
export async function updateDesiredGrades(
  _trx: Kysely<Database>,
  _change: MasteryChange,
  _now: Date,
): Promise<void> {
  // Implemented in issue 6.
}
