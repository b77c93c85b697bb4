import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../schema.ts';
import type { StoredMasteryStatus } from '../mastery/schema.ts';
import { columnResourceId, PASSBACK_TAG, PassbackStorageError } from './passback.repository.ts';

/**
 * The reads `updateDesiredGrades` needs (aligned standards, assignments, mastery results, evidence
 * scores per assignment, the students' LMS ids) and the assignment-column upsert. Every query is
 * scoped by tenant and course, and runs on the caller's handle (the evidence-write transaction).
 */

type Db = Kysely<Database> | Transaction<Database>;

export interface AlignedStandard {
  readonly itemId: string;
  readonly code: string | undefined;
  readonly statement: string;
}

export interface PassbackAssignment {
  readonly id: string;
  readonly title: string;
  readonly lineItemUrl: string;
  readonly scoreMaximum: number;
  readonly alignments: readonly { readonly itemId: string; readonly weight: number }[];
}

export interface StoredResult {
  readonly studentId: string;
  readonly itemId: string;
  readonly status: StoredMasteryStatus;
  readonly value: number | undefined;
  readonly levelId: string | undefined;
  readonly overridden: boolean;
  readonly evidenceCount: number;
}

export interface AssignmentEvidenceScore {
  readonly studentId: string;
  readonly assignmentId: string;
  readonly itemId: string;
  readonly score: number;
}

/** Standards aligned to a live assignment of the course, in a stable order. */
export async function alignedStandards(
  db: Db,
  tenantId: string,
  courseId: string,
): Promise<AlignedStandard[]> {
  const rows = await db
    .selectFrom('assignment_alignments as al')
    .innerJoin('course_assignments as a', (join) =>
      join.onRef('a.id', '=', 'al.assignment_id').onRef('a.tenant_id', '=', 'al.tenant_id'),
    )
    .innerJoin('standard_items as s', (join) =>
      join.onRef('s.id', '=', 'al.item_id').onRef('s.tenant_id', '=', 'al.tenant_id'),
    )
    .select(['s.id', 's.code', 's.abbreviated_statement', 's.full_statement'])
    .distinct()
    .where('al.tenant_id', '=', tenantId)
    .where('al.course_id', '=', courseId)
    .where('a.archived_at', 'is', null)
    .orderBy('s.id')
    .execute();
  return rows.map((row) => ({
    itemId: row.id,
    code: row.code ?? undefined,
    statement: row.abbreviated_statement ?? row.full_statement,
  }));
}

/** Live assignments with an LMS column of their own and a maximum, with their alignments. */
export async function assignmentsWithColumns(
  db: Db,
  tenantId: string,
  courseId: string,
): Promise<PassbackAssignment[]> {
  const rows = await db
    .selectFrom('course_assignments as a')
    .innerJoin('assignment_alignments as al', (join) =>
      join.onRef('al.assignment_id', '=', 'a.id').onRef('al.tenant_id', '=', 'a.tenant_id'),
    )
    .select(['a.id', 'a.title', 'a.line_item_url', 'a.score_maximum', 'al.item_id', 'al.weight'])
    .where('a.tenant_id', '=', tenantId)
    .where('a.course_id', '=', courseId)
    .where('a.archived_at', 'is', null)
    .where('a.line_item_url', 'is not', null)
    .where('a.score_maximum', '>', 0)
    .orderBy('a.id')
    .orderBy('al.position')
    .execute();
  const byId = new Map<
    string,
    PassbackAssignment & { alignments: { itemId: string; weight: number }[] }
  >();
  for (const row of rows) {
    if (row.line_item_url === null || row.score_maximum === null) continue;
    let assignment = byId.get(row.id);
    if (assignment === undefined) {
      assignment = {
        id: row.id,
        title: row.title,
        lineItemUrl: row.line_item_url,
        scoreMaximum: row.score_maximum,
        alignments: [],
      };
      byId.set(row.id, assignment);
    }
    assignment.alignments.push({ itemId: row.item_id, weight: row.weight });
  }
  return [...byId.values()];
}

/** Stored mastery results of the course (of some students, or of all when `studentIds` is omitted). */
export async function masteryResultsFor(
  db: Db,
  tenantId: string,
  courseId: string,
  studentIds: readonly string[] | undefined,
): Promise<StoredResult[]> {
  if (studentIds !== undefined && studentIds.length === 0) return [];
  let query = db
    .selectFrom('mastery_results')
    .select([
      'student_id',
      'item_id',
      'status',
      'value',
      'level_id',
      'overridden',
      'evidence_count',
    ])
    .where('tenant_id', '=', tenantId)
    .where('course_id', '=', courseId);
  if (studentIds !== undefined) query = query.where('student_id', 'in', [...studentIds]);
  const rows = await query.orderBy('student_id').orderBy('item_id').execute();
  return rows.map((row) => ({
    studentId: row.student_id,
    itemId: row.item_id,
    status: row.status,
    value: row.value ?? undefined,
    levelId: row.level_id ?? undefined,
    overridden: row.overridden,
    evidenceCount: row.evidence_count,
  }));
}

/**
 * Each student's latest scored, not excused, not deleted evidence per assignment and standard: what
 * an assignment's mastery score is made of.
 */
export async function assignmentEvidenceScores(
  db: Db,
  tenantId: string,
  courseId: string,
  studentIds: readonly string[] | undefined,
): Promise<AssignmentEvidenceScore[]> {
  if (studentIds !== undefined && studentIds.length === 0) return [];
  const students =
    studentIds === undefined
      ? sql`true`
      : sql`e.student_id IN (${sql.join(studentIds.map((id) => sql`${id}`))})`;
  const result = await sql<{
    student_id: string;
    assignment_id: string;
    item_id: string;
    score: number;
  }>`
    SELECT DISTINCT ON (e.student_id, e.assignment_id, e.item_id)
      e.student_id, e.assignment_id, e.item_id, e.score
    FROM evidence e
    WHERE e.tenant_id = ${tenantId} AND e.course_id = ${courseId}
      AND e.assignment_id IS NOT NULL AND e.score IS NOT NULL
      AND NOT e.excused AND e.deleted_at IS NULL AND ${students}
    ORDER BY e.student_id, e.assignment_id, e.item_id,
      COALESCE(e.assessed_at, e.recorded_at) DESC, e.recorded_at DESC, e.id DESC
  `.execute(db);
  return result.rows.map((row) => ({
    studentId: row.student_id,
    assignmentId: row.assignment_id,
    itemId: row.item_id,
    score: row.score,
  }));
}

/** The LMS user id (`sub`) of each student, by tool user id. */
export async function lmsUserIds(
  db: Db,
  tenantId: string,
  userIds: readonly string[],
): Promise<Map<string, string>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('users')
    .select(['id', 'sub'])
    .where('tenant_id', '=', tenantId)
    .where('id', 'in', [...userIds])
    .execute();
  return new Map(rows.map((row) => [row.id, row.sub]));
}

/**
 * The tool-side record of an assignment's OWN LMS column: already known to the LMS (its line item
 * URL), so it is ready at once and never created by the worker. A column the LMS deleted stays
 * marked until the teacher asks to recreate it.
 */
export async function ensureAssignmentColumn(
  tx: Db,
  input: {
    tenantId: string;
    courseId: string;
    assignmentId: string;
    label: string;
    lineItemUrl: string;
    scoreMaximum: number;
    now: Date;
  },
): Promise<string> {
  const row = await sql<{ id: string }>`
    INSERT INTO gradebook_columns
      (tenant_id, course_id, kind, key, label, score_maximum, tag, resource_id, lms_column_id,
       status, created_at)
    SELECT ${input.tenantId}, c.id, 'assignment', ${input.assignmentId}, ${input.label},
           ${input.scoreMaximum}, ${PASSBACK_TAG}, ${columnResourceId('assignment', input.assignmentId)},
           ${input.lineItemUrl}, 'ready', ${input.now}
    FROM courses c WHERE c.id = ${input.courseId} AND c.tenant_id = ${input.tenantId}
    ON CONFLICT (course_id, kind, key) DO UPDATE SET
      label = excluded.label,
      score_maximum = excluded.score_maximum,
      lms_column_id = CASE WHEN gradebook_columns.status = 'deleted_in_lms'
        THEN gradebook_columns.lms_column_id ELSE excluded.lms_column_id END
      WHERE gradebook_columns.tenant_id = excluded.tenant_id
    RETURNING id
  `.execute(tx);
  const id = row.rows[0]?.id;
  if (id === undefined) {
    throw new PassbackStorageError(
      'course_not_in_tenant',
      `course ${input.courseId} is not in tenant ${input.tenantId}`,
    );
  }
  return id;
}
