import { DEFAULT_CONVERSION_TABLE, DEFAULT_PROFICIENCY_SCALE } from '../mastery/index.ts';
import type { MasteryPolicy } from '../mastery/types.ts';
import type { CoursePolicy, PassbackPolicy } from './course-policy.ts';

/**
 * The district's defaults when it has not set a part of the policy.
 *
 * Method: **most recent score**. Mastery-based grading asks "what can the student do now?", the
 * most recent score answers it without parameters a district must first agree on, and every LMS
 * offers it (Canvas "most recent", Schoology "most recent", Moodle "last grade"). A district that
 * prefers a decaying average or power law sets it on the policy page; the change recomputes.
 * Ordered by the date assessed (falls back to the date recorded when absent), at least one scored
 * piece of evidence, rounded half-up to 2 decimals. Parents roll up with the mean of children.
 */
export const DEFAULT_CALCULATION: MasteryPolicy = Object.freeze({
  method: Object.freeze({ kind: 'mostRecent' as const }),
  minEvidence: 1,
  orderBy: 'assessed' as const,
  rounding: Object.freeze({ mode: 'halfUp' as const, decimals: 2 }),
});

export const DEFAULT_PASSBACK: PassbackPolicy = Object.freeze({
  standardColumns: true,
  courseColumn: false,
  assignmentScores: false,
  prioritizeNonToolGrade: true,
  classroomAssignGrades: false,
});

export const DEFAULT_COURSE_POLICY: CoursePolicy = Object.freeze({
  calculation: DEFAULT_CALCULATION,
  scale: DEFAULT_PROFICIENCY_SCALE,
  rollup: Object.freeze({ method: 'mean' as const }),
  conversion: DEFAULT_CONVERSION_TABLE,
  powerStandardIds: Object.freeze([]),
  passback: DEFAULT_PASSBACK,
});
