import type { Kysely } from 'kysely';
import type { CoursePolicy } from '../evidence/course-policy.ts';
import { loadCoursePolicy } from '../evidence/policy-store.ts';
import {
  assignmentMasteryScore,
  courseMasteryGrade,
  describeMethod,
  findLevel,
  levelForValue,
  roundValue,
  type AlignedStandardScore,
  type Explanation,
  type MasteryResult,
  type ProficiencyLevel,
  type StandardResultEntry,
} from '../mastery/index.ts';
import {
  alignedStandards,
  assignmentEvidenceScores,
  assignmentsWithColumns,
  ensureAssignmentColumn,
  lmsUserIds,
  masteryResultsFor,
  type AlignedStandard,
  type StoredResult,
} from '../storage/passback/desired-grades.repository.ts';
import { ensureGradebookColumn, setDesiredGrade } from '../storage/passback/passback.repository.ts';
import type { Database } from '../storage/schema.ts';

/** Which cells of a course changed, so their desired grades are brought up to date. */
export interface MasteryChange {
  readonly tenantId: string;
  readonly courseId: string;
  /** Students whose mastery results changed (all of the course's students when omitted). */
  readonly studentIds?: readonly string[] | undefined;
}

/** What one call changed: cells whose value or comment moved (the worker will post those). */
export interface DesiredGradesUpdate {
  readonly considered: number;
  readonly changed: number;
}

/** Gradebook labels stay short: Canvas shows about 40 characters of a column title. */
const STATEMENT_CHARS = 40;

/** "6.RP.A.1 Ratios (mastery)": the standard's code and short statement. */
export function standardColumnLabel(standard: AlignedStandard): string {
  const statement = standard.statement.replace(/\s+/g, ' ').trim();
  const short =
    statement.length <= STATEMENT_CHARS
      ? statement
      : `${statement.slice(0, STATEMENT_CHARS - 1).trimEnd()}…`;
  const head = [standard.code, short].filter((part) => part !== undefined && part !== '').join(' ');
  return `${head} (mastery)`;
}

function formatNumber(value: number): string {
  return String(roundValue(value, { mode: 'halfUp', decimals: 2 }));
}

function levelOf(result: StoredResult, policy: CoursePolicy): ProficiencyLevel | undefined {
  if (result.value === undefined) return undefined;
  if (result.levelId !== undefined) {
    try {
      return findLevel(result.levelId, policy.scale);
    } catch {
      // A level of an older scale: place the value on the current one.
    }
  }
  return levelForValue(result.value, policy.scale);
}

/**
 * The one line a student and teacher read beside the grade in the LMS. It names the level, the
 * value and how it was found, but not the evidence count: a new piece of evidence that leaves the
 * value unchanged must not change the comment, or the grade would be posted again (Schoology clears
 * a teacher's Missing flag on every post).
 */
function standardComment(
  result: StoredResult,
  level: ProficiencyLevel,
  policy: CoursePolicy,
): string {
  const value = `${formatNumber(result.value ?? 0)} of ${formatNumber(policy.scale.max)}`;
  if (result.overridden) return `${level.label} (${value}), set by your teacher.`;
  const method = describeMethod(policy.calculation.method).toLowerCase();
  return `${level.label} (${value}), by ${method} of your evidence.`;
}

/** The calculation's explanation is not needed by the course grade; only the level is. */
function asMasteryResult(
  level: ProficiencyLevel,
  value: number,
  policy: CoursePolicy,
): MasteryResult {
  const explanation: Explanation = {
    method: policy.calculation.method,
    orderBy: policy.calculation.orderBy,
    minEvidence: policy.calculation.minEvidence,
    rounding: policy.calculation.rounding,
    used: [],
    ignored: [],
    intermediates: {},
    steps: [],
    studentSummary: '',
  };
  return { status: 'mastery', value, level, explanation };
}

/**
 * Brings `desired_grades` up to date with `mastery_results` for the changed students, per the
 * course's passback policy. Called INSIDE the transaction that wrote the evidence and the mastery
 * results, so a grade change and its evidence commit together.
 *
 * A student without a mastery level on a column gets no desired grade there (never a zero for "no
 * evidence"); a desired grade already sent stays as it is, since AGS cannot take a grade back.
 * An unchanged value and comment does not move the cell's version, so nothing is re-posted.
 */
export async function updateDesiredGrades(
  trx: Kysely<Database>,
  change: MasteryChange,
  now: Date,
): Promise<DesiredGradesUpdate> {
  const { tenantId, courseId } = change;
  const policy = await loadCoursePolicy(trx, tenantId, courseId);
  const { passback } = policy;
  const counts = { considered: 0, changed: 0 };
  if (!passback.standardColumns && !passback.courseColumn && !passback.assignmentScores) {
    return counts;
  }
  const standards = await alignedStandards(trx, tenantId, courseId);
  const results = await masteryResultsFor(trx, tenantId, courseId, change.studentIds);
  const students = [...new Set(results.map((r) => r.studentId))];
  const subs = await lmsUserIds(trx, tenantId, students);

  // Per student: the level of each aligned standard that has a mastery value.
  const aligned = new Set(standards.map((s) => s.itemId));
  const levels = new Map<string, Map<string, { result: StoredResult; level: ProficiencyLevel }>>();
  for (const result of results) {
    if (!aligned.has(result.itemId) || result.status !== 'mastery') continue;
    const level = levelOf(result, policy);
    if (level === undefined) continue;
    let byItem = levels.get(result.studentId);
    if (byItem === undefined) {
      byItem = new Map<string, { result: StoredResult; level: ProficiencyLevel }>();
      levels.set(result.studentId, byItem);
    }
    byItem.set(result.itemId, { result, level });
  }

  const desire = async (
    columnId: string,
    studentId: string,
    value: number,
    comment: string,
  ): Promise<void> => {
    const lmsUserId = subs.get(studentId);
    if (lmsUserId === undefined) return;
    counts.considered += 1;
    const written = await setDesiredGrade(trx, {
      tenantId,
      courseId,
      columnId,
      userId: studentId,
      lmsUserId,
      value,
      comment,
      now,
    });
    if (written.changed) counts.changed += 1;
  };

  if (passback.standardColumns) {
    for (const standard of standards) {
      const withLevel = students.filter((s) => levels.get(s)?.has(standard.itemId) === true);
      if (withLevel.length === 0) continue;
      const columnId = await ensureGradebookColumn(trx, {
        tenantId,
        courseId,
        kind: 'standard',
        key: standard.itemId,
        label: standardColumnLabel(standard),
        scoreMaximum: policy.scale.max,
        now,
      });
      for (const studentId of withLevel) {
        const entry = levels.get(studentId)?.get(standard.itemId);
        if (entry === undefined) continue;
        await desire(
          columnId,
          studentId,
          entry.result.value ?? 0,
          standardComment(entry.result, entry.level, policy),
        );
      }
    }
  }

  if (passback.courseColumn && standards.length > 0) {
    const power =
      policy.powerStandardIds.length > 0 ? policy.powerStandardIds : standards.map((s) => s.itemId);
    let columnId: string | undefined;
    for (const studentId of students) {
      const byItem = levels.get(studentId);
      const entries: StandardResultEntry[] = standards.map((standard) => {
        const entry = byItem?.get(standard.itemId);
        return {
          standardId: standard.itemId,
          result:
            entry === undefined
              ? undefined
              : asMasteryResult(entry.level, entry.result.value ?? 0, policy),
        };
      });
      const grade = courseMasteryGrade(entries, power, policy.conversion);
      if (grade.status !== 'graded' || grade.percent === undefined) continue;
      columnId ??= await ensureGradebookColumn(trx, {
        tenantId,
        courseId,
        kind: 'course',
        key: 'course',
        label: 'Course mastery',
        scoreMaximum: 100,
        now,
      });
      await desire(columnId, studentId, grade.percent, grade.explanation.studentSummary);
    }
  }

  if (passback.assignmentScores) {
    const assignments = await assignmentsWithColumns(trx, tenantId, courseId);
    if (assignments.length > 0) {
      const scores = await assignmentEvidenceScores(trx, tenantId, courseId, change.studentIds);
      const scoreOf = new Map<string, number>();
      for (const s of scores) scoreOf.set(`${s.studentId}|${s.assignmentId}|${s.itemId}`, s.score);
      for (const assignment of assignments) {
        let columnId: string | undefined;
        for (const studentId of students) {
          const alignments: AlignedStandardScore[] = assignment.alignments.map((al) => ({
            standardId: al.itemId,
            weight: al.weight,
            score: scoreOf.get(`${studentId}|${assignment.id}|${al.itemId}`),
          }));
          const grade = assignmentMasteryScore(alignments, policy.conversion, policy.scale);
          if (grade.status !== 'graded' || grade.percent === undefined) continue;
          columnId ??= await ensureAssignmentColumn(trx, {
            tenantId,
            courseId,
            assignmentId: assignment.id,
            label: assignment.title,
            lineItemUrl: assignment.lineItemUrl,
            scoreMaximum: assignment.scoreMaximum,
            now,
          });
          const value = roundValue((grade.percent * assignment.scoreMaximum) / 100, {
            mode: 'halfUp',
            decimals: 2,
          });
          await desire(columnId, studentId, value, grade.explanation.studentSummary);
        }
      }
    }
  }
  return counts;
}
