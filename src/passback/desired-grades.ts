import type { Kysely } from 'kysely';
import type { CoursePolicy } from '../policy/course-policy.ts';
import { resolvePolicy } from '../policy/resolve.ts';
import { parseStoredPolicy } from '../policy/stored-policy.ts';
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
  assignmentScoreInputs,
  columnKey,
  columnUpToDate,
  courseSnapshot,
  upsertColumns,
  upsertDesiredGrades,
  type AlignedStandard,
  type DesiredCell,
  type StoredResult,
  type WantedColumn,
} from '../storage/passback/desired-grades.repository.ts';
import type { Database } from '../storage/schema.ts';

/** Which cells of a course changed, so their desired grades are brought up to date. */
export interface MasteryChange {
  readonly tenantId: string;
  readonly courseId: string;
  /** Students whose mastery results changed (all of the course's students when omitted). */
  readonly studentIds?: readonly string[] | undefined;
  /**
   * The course's policy when the caller has already loaded it in this transaction (saves parsing
   * it again); taken from the stored policy rows when omitted.
   */
  readonly policy?: CoursePolicy | undefined;
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

/**
 * The course's policy from its stored parts, as `loadCoursePolicy` merges them (defaults, then the
 * district's part, then the course's); read with the rest of the snapshot to save a round trip.
 */
function policyOf(stored: { district: unknown; course: unknown }): CoursePolicy {
  const district = stored.district === undefined ? {} : parseStoredPolicy(stored.district);
  const course = stored.course === undefined ? {} : parseStoredPolicy(stored.course);
  return resolvePolicy(district, course);
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
 *
 * It sits on the evidence write's hot path, so its round trips do not grow with the number of
 * students or standards: the policy, the students' results, the aligned standards and the course's
 * columns are read in one statement (for assignment scores, the assignments and the evidence
 * scores in one more); grades are worked out in memory; missing columns are created in one
 * statement (only when a column is new or renamed) and every desired grade is written in one more.
 */
export async function updateDesiredGrades(
  trx: Kysely<Database>,
  change: MasteryChange,
  now: Date,
): Promise<DesiredGradesUpdate> {
  const { tenantId, courseId } = change;
  const none = { considered: 0, changed: 0 };
  if (change.studentIds?.length === 0) return none;
  const snapshot = await courseSnapshot(trx, tenantId, courseId, change.studentIds);
  const policy = change.policy ?? policyOf(snapshot.policies);
  const { passback } = policy;
  if (!passback.standardColumns && !passback.courseColumn && !passback.assignmentScores) {
    return none;
  }
  const { results, standards } = snapshot;
  if (results.length === 0) return none;
  const students = [...new Set(results.map((r) => r.studentId))];
  const subs = new Map<string, string>();
  for (const r of results) if (r.lmsUserId !== undefined) subs.set(r.studentId, r.lmsUserId);

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

  // Every grade of every column, worked out in memory before anything is written.
  const grades: WantedGrade[] = [];

  if (passback.standardColumns) {
    for (const standard of standards) {
      const column: WantedColumn = {
        kind: 'standard',
        key: standard.itemId,
        label: standardColumnLabel(standard),
        scoreMaximum: policy.scale.max,
      };
      for (const studentId of students) {
        const entry = levels.get(studentId)?.get(standard.itemId);
        if (entry === undefined) continue;
        grades.push({
          column,
          studentId,
          value: entry.result.value ?? 0,
          comment: standardComment(entry.result, entry.level, policy),
        });
      }
    }
  }

  if (passback.courseColumn && standards.length > 0) {
    grades.push(...courseGrades(standards, students, levels, policy));
  }
  if (passback.assignmentScores) {
    grades.push(...(await assignmentGrades(trx, change, students, policy)));
  }
  if (grades.length === 0) return none;

  // The columns these grades land in: found among the course's columns, the rest created.
  const existing = snapshot.columns;
  const columnIds = new Map<string, string>();
  const toWrite = new Map<string, WantedColumn>();
  for (const { column } of grades) {
    const key = columnKey(column.kind, column.key);
    if (columnIds.has(key) || toWrite.has(key)) continue;
    const stored = existing.get(key);
    if (stored !== undefined && columnUpToDate(stored, column)) columnIds.set(key, stored.id);
    else toWrite.set(key, column);
  }
  const written = await upsertColumns(trx, {
    tenantId,
    courseId,
    columns: [...toWrite.values()],
    now,
  });
  for (const [key, id] of written) columnIds.set(key, id);

  // A student the tenant does not know by an LMS id has no gradebook cell.
  const cells: DesiredCell[] = [];
  for (const grade of grades) {
    const lmsUserId = subs.get(grade.studentId);
    const columnId = columnIds.get(columnKey(grade.column.kind, grade.column.key));
    if (lmsUserId === undefined || columnId === undefined) continue;
    cells.push({
      columnId,
      userId: grade.studentId,
      lmsUserId,
      value: grade.value,
      comment: grade.comment,
    });
  }
  const changed = await upsertDesiredGrades(trx, { tenantId, courseId, cells, now });
  return { considered: cells.length, changed };
}

/** One grade of one column, worked out in memory before anything is written. */
interface WantedGrade {
  readonly column: WantedColumn;
  readonly studentId: string;
  readonly value: number;
  readonly comment: string;
}

type LevelsByStudent = ReadonlyMap<
  string,
  ReadonlyMap<string, { result: StoredResult; level: ProficiencyLevel }>
>;

/** The overall course-mastery column: a percentage from the (power) standards' levels. */
function courseGrades(
  standards: readonly { itemId: string }[],
  students: readonly string[],
  levels: LevelsByStudent,
  policy: CoursePolicy,
): WantedGrade[] {
  const grades: WantedGrade[] = [];
  const power =
    policy.powerStandardIds.length > 0 ? policy.powerStandardIds : standards.map((s) => s.itemId);
  const column: WantedColumn = {
    kind: 'course',
    key: 'course',
    label: 'Course mastery',
    scoreMaximum: 100,
  };
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
    grades.push({
      column,
      studentId,
      value: grade.percent,
      comment: grade.explanation.studentSummary,
    });
  }
  return grades;
}

/** Each assignment's own LMS column: the mastery-based score, scaled to the column's maximum. */
async function assignmentGrades(
  trx: Kysely<Database>,
  change: MasteryChange,
  students: readonly string[],
  policy: CoursePolicy,
): Promise<WantedGrade[]> {
  const grades: WantedGrade[] = [];
  const { assignments, scores } = await assignmentScoreInputs(
    trx,
    change.tenantId,
    change.courseId,
    change.studentIds,
  );
  const scoreOf = new Map<string, number>();
  for (const s of scores) scoreOf.set(`${s.studentId}|${s.assignmentId}|${s.itemId}`, s.score);
  for (const assignment of assignments) {
    const column: WantedColumn = {
      kind: 'assignment',
      key: assignment.id,
      label: assignment.title,
      scoreMaximum: assignment.scoreMaximum,
      lineItemUrl: assignment.lineItemUrl,
    };
    for (const studentId of students) {
      const alignments: AlignedStandardScore[] = assignment.alignments.map((al) => ({
        standardId: al.itemId,
        weight: al.weight,
        score: scoreOf.get(`${studentId}|${assignment.id}|${al.itemId}`),
      }));
      const grade = assignmentMasteryScore(alignments, policy.conversion, policy.scale);
      if (grade.status !== 'graded' || grade.percent === undefined) continue;
      const value = roundValue((grade.percent * assignment.scoreMaximum) / 100, {
        mode: 'halfUp',
        decimals: 2,
      });
      grades.push({ column, studentId, value, comment: grade.explanation.studentSummary });
    }
  }
  return grades;
}
