import type { Kysely, Transaction } from 'kysely';
import { createCourseContextRepository } from '../storage/mastery/course-context.repository.ts';
import type { Database } from '../storage/schema.ts';

/** What is wrong with one entry: its index in `entries`, the field, words for people. */
export interface EntryProblem {
  readonly index: number;
  readonly field: 'studentId' | 'itemId' | 'assignmentId' | 'score' | 'points' | 'comment';
  readonly message: string;
}

export type EvidenceErrorCode =
  'course_not_found' | 'invalid_entries' | 'invalid_override' | 'invalid_policy' | 'not_found';

export class EvidenceError extends Error {
  override readonly name = 'EvidenceError';
  readonly code: EvidenceErrorCode;
  readonly problems: readonly EntryProblem[];

  constructor(
    code: EvidenceErrorCode,
    message: string,
    problems: readonly EntryProblem[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.code = code;
    this.problems = problems;
  }
}

/** A score a teacher reads: 3 → "3", 2.5 → "2.5". */
export const shown = (n: number): string => String(Math.round(n * 10_000) / 10_000);

/** Refuses a course that is not the district's, before anything is written for it. */
export async function requireCourse(
  tx: Kysely<Database> | Transaction<Database>,
  tenantId: string,
  courseId: string,
): Promise<void> {
  if (!(await createCourseContextRepository(tx).courseExists(tenantId, courseId))) {
    throw new EvidenceError('course_not_found', 'This course is not part of this district.');
  }
}
