import type { ConversionTable } from '../mastery/conversion.ts';
import type { RollUpRule } from '../mastery/rollup.ts';
import type { MasteryPolicy, ProficiencyScale } from '../mastery/types.ts';

/**
 * The policy in force for one course: the district default (`mastery_policies` row with
 * course_id NULL) with the course's override on top. Stored as JSON in `mastery_policies.policy`;
 * `src/policy/store.ts` reads it, `resolve.ts` merges it (zod at the edge), with defaults for what a
 * district has not set.
 */
export interface CoursePolicy {
  /** How evidence becomes a value (method, minimum evidence, ordering date, rounding). */
  readonly calculation: MasteryPolicy;
  readonly scale: ProficiencyScale;
  /** How a parent standard (domain/cluster) rolls up from its children. */
  readonly rollup: RollUpRule;
  /** Mastery level → percentage, for course and assignment grades. */
  readonly conversion: ConversionTable;
  /** Standards (item ids) whose levels make the overall course grade; empty: every aligned standard. */
  readonly powerStandardIds: readonly string[];
  readonly passback: PassbackPolicy;
}

/** What the tool writes to the LMS gradebook (district policy, course override). */
export interface PassbackPolicy {
  /** One column per aligned standard, scored with the standard's mastery value (0..top of scale). */
  readonly standardColumns: boolean;
  /** One overall course-mastery column, scored as a percentage (scoreMaximum 100). */
  readonly courseColumn: boolean;
  /** The mastery-based score written to each assignment's own LMS column (percentage of its maximum). */
  readonly assignmentScores: boolean;
  /**
   * Canvas: keep a grade a teacher changed in the gradebook. The worker reads the result before
   * each post and leaves a cell whose grade is not the one it last sent (the key keeps its old
   * name; Canvas's own `prioritize_non_tool_grade` is no longer sent: it froze the tool's grades).
   */
  readonly prioritizeNonToolGrade: boolean;
  /** Google Classroom: also assign grades (true) or only draft them (false). */
  readonly classroomAssignGrades: boolean;
}
