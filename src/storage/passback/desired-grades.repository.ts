import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../schema.ts';
import type { StoredMasteryStatus } from '../mastery/schema.ts';
import { columnResourceId, courseNotInTenant, PASSBACK_TAG } from './passback.repository.ts';
import type { GradebookColumnKind, GradebookColumnStatus } from './schema.ts';

/**
 * The SQL of `updateDesiredGrades`. It runs inside the evidence-write transaction, so it is built
 * for few round trips whatever the number of students and standards: the policy, the students'
 * results (with their LMS ids), the aligned standards and the course's columns in one read (plus
 * one for the assignments and their evidence scores when assignment scores are on), then one
 * multi-row write per table. Lists travel as array parameters (`unnest`), so a batch of any size is
 * one statement. Every query is scoped by tenant and course.
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
  /** The student's LMS user id (`sub`); undefined when the student is not a user of the tenant. */
  readonly lmsUserId: string | undefined;
}

export interface AssignmentEvidenceScore {
  readonly studentId: string;
  readonly assignmentId: string;
  readonly itemId: string;
  readonly score: number;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** What `updateDesiredGrades` reads about a course before it works anything out, in one round trip. */
export interface CourseSnapshot {
  /** The stored policy parts (JSON as stored): the district's and the course's, when set. */
  readonly policies: { readonly district: unknown; readonly course: unknown };
  /** The students' results (all of the course's when `studentIds` is omitted), by student and item. */
  readonly results: readonly StoredResult[];
  readonly standards: readonly AlignedStandard[];
  readonly columns: ReadonlyMap<string, CourseColumn>;
}

type ResultTuple = [
  string,
  string,
  StoredMasteryStatus,
  number | null,
  string | null,
  boolean,
  string | null,
];
type StandardTuple = [string, string | null, string];
type ColumnTuple = [
  string,
  GradebookColumnKind,
  string,
  string,
  number,
  string | null,
  GradebookColumnStatus,
];

/** json(b) arrives parsed from pg; parse it here when a driver hands it over as text. */
function json(value: unknown): unknown {
  return typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
}

/**
 * The course's stored policy rows, the students' mastery results with their LMS ids, the aligned
 * standards and the course's gradebook columns, in ONE statement (each part a JSON array), so the
 * evidence write pays one round trip for all of them.
 */
export async function courseSnapshot(
  db: Db,
  tenantId: string,
  courseId: string,
  studentIds: readonly string[] | undefined,
): Promise<CourseSnapshot> {
  const students =
    studentIds === undefined
      ? sql`true`
      : sql`r.student_id = ANY(${sql.val([...new Set(studentIds)])}::uuid[])`;
  const result = await sql<{
    policies: unknown;
    results: unknown;
    standards: unknown;
    columns: unknown;
  }>`/* prepared */
    SELECT
      (SELECT coalesce(json_agg(json_build_array(p.course_id, p.policy)), '[]')
        FROM mastery_policies p
        WHERE p.tenant_id = ${tenantId} AND (p.course_id IS NULL OR p.course_id = ${courseId})
      ) AS policies,
      (SELECT coalesce(json_agg(json_build_array(r.student_id, r.item_id, r.status, r.value,
                r.level_id, r.overridden, u.sub) ORDER BY r.student_id, r.item_id), '[]')
        FROM mastery_results r
        LEFT JOIN users u ON u.id = r.student_id AND u.tenant_id = r.tenant_id
        WHERE r.tenant_id = ${tenantId} AND r.course_id = ${courseId} AND ${students}
          -- The platform's test user (Canvas Student View, role TestUser) gets no gradebook cell.
          AND NOT EXISTS (
            SELECT 1 FROM enrollments e
            WHERE e.tenant_id = r.tenant_id AND e.course_id = r.course_id
              AND e.user_id = r.student_id
              AND e.roles && ARRAY['http://purl.imsglobal.org/vocab/lti/system/person#TestUser', 'TestUser']::text[]
          )
      ) AS results,
      (SELECT coalesce(json_agg(json_build_array(s.id, s.code,
                coalesce(s.abbreviated_statement, s.full_statement)) ORDER BY s.id), '[]')
        FROM standard_items s
        WHERE s.tenant_id = ${tenantId} AND s.id IN (
          SELECT al.item_id
          FROM assignment_alignments al
          JOIN course_assignments a ON a.id = al.assignment_id AND a.tenant_id = al.tenant_id
          WHERE al.tenant_id = ${tenantId} AND al.course_id = ${courseId} AND a.archived_at IS NULL
        )
      ) AS standards,
      (SELECT coalesce(json_agg(json_build_array(g.id, g.kind, g.key, g.label, g.score_maximum,
                g.lms_column_id, g.status)), '[]')
        FROM gradebook_columns g
        WHERE g.tenant_id = ${tenantId} AND g.course_id = ${courseId}
      ) AS columns
  `.execute(db);
  const row = result.rows[0];
  let district: unknown;
  let course: unknown;
  for (const [policyCourse, policy] of json(row?.policies ?? []) as [string | null, unknown][]) {
    if (policyCourse === null) district = policy;
    else course = policy;
  }
  return {
    policies: { district, course },
    results: (json(row?.results ?? []) as ResultTuple[]).map(
      ([studentId, itemId, status, value, levelId, overridden, sub]) => ({
        studentId,
        itemId,
        status,
        value: value ?? undefined,
        levelId: levelId ?? undefined,
        overridden,
        lmsUserId: sub ?? undefined,
      }),
    ),
    standards: (json(row?.standards ?? []) as StandardTuple[]).map(([itemId, code, statement]) => ({
      itemId,
      code: code ?? undefined,
      statement,
    })),
    columns: new Map(
      (json(row?.columns ?? []) as ColumnTuple[]).map(
        ([id, kind, key, label, scoreMaximum, lmsColumnId, status]) => [
          columnKey(kind, key),
          { id, kind, key, label, scoreMaximum, lmsColumnId: lmsColumnId ?? undefined, status },
        ],
      ),
    ),
  };
}

/**
 * What assignment scores are made of, in one statement: the live assignments with an LMS column of
 * their own and a maximum (alignments in position order), and each student's latest scored, not
 * excused, not deleted evidence per assignment and standard.
 */
export async function assignmentScoreInputs(
  db: Db,
  tenantId: string,
  courseId: string,
  studentIds: readonly string[] | undefined,
): Promise<{ assignments: PassbackAssignment[]; scores: AssignmentEvidenceScore[] }> {
  const students =
    studentIds === undefined
      ? sql`true`
      : sql`e.student_id = ANY(${sql.val([...new Set(studentIds)])}::uuid[])`;
  const result = await sql<{ assignments: unknown; scores: unknown }>`
    SELECT
      (SELECT coalesce(json_agg(json_build_array(a.id, a.title, a.line_item_url, a.score_maximum,
                al.item_id, al.weight) ORDER BY a.id, al.position), '[]')
        FROM course_assignments a
        JOIN assignment_alignments al ON al.assignment_id = a.id AND al.tenant_id = a.tenant_id
        WHERE a.tenant_id = ${tenantId} AND a.course_id = ${courseId} AND a.archived_at IS NULL
          AND a.line_item_url IS NOT NULL AND a.score_maximum > 0
      ) AS assignments,
      (SELECT coalesce(json_agg(json_build_array(l.student_id, l.assignment_id, l.item_id,
                l.score)), '[]')
        FROM (
          SELECT DISTINCT ON (e.student_id, e.assignment_id, e.item_id)
            e.student_id, e.assignment_id, e.item_id, e.score
          FROM evidence e
          WHERE e.tenant_id = ${tenantId} AND e.course_id = ${courseId}
            AND e.assignment_id IS NOT NULL AND e.score IS NOT NULL
            AND NOT e.excused AND e.deleted_at IS NULL AND ${students}
          ORDER BY e.student_id, e.assignment_id, e.item_id,
            COALESCE(e.assessed_at, e.recorded_at) DESC, e.recorded_at DESC, e.id DESC
        ) l
      ) AS scores
  `.execute(db);
  const row = result.rows[0];
  const byId = new Map<
    string,
    PassbackAssignment & { alignments: { itemId: string; weight: number }[] }
  >();
  const assignmentRows = json(row?.assignments ?? []) as [
    string,
    string,
    string,
    number,
    string,
    number,
  ][];
  for (const [id, title, lineItemUrl, scoreMaximum, itemId, weight] of assignmentRows) {
    let assignment = byId.get(id);
    if (assignment === undefined) {
      assignment = { id, title, lineItemUrl, scoreMaximum, alignments: [] };
      byId.set(id, assignment);
    }
    assignment.alignments.push({ itemId, weight });
  }
  const scoreRows = json(row?.scores ?? []) as [string, string, string, number][];
  return {
    assignments: [...byId.values()],
    scores: scoreRows.map(([studentId, assignmentId, itemId, score]) => ({
      studentId,
      assignmentId,
      itemId,
      score,
    })),
  };
}

/** A gradebook column of the course as the tool records it. */
export interface CourseColumn {
  readonly id: string;
  readonly kind: GradebookColumnKind;
  readonly key: string;
  readonly label: string;
  readonly scoreMaximum: number;
  readonly lmsColumnId: string | undefined;
  readonly status: GradebookColumnStatus;
}

/** `kind|key`: how a column is found among the course's columns. */
export function columnKey(kind: GradebookColumnKind, key: string): string {
  return `${kind}|${key}`;
}

/**
 * A column `updateDesiredGrades` needs. A standard or course column is the tool's own: created
 * 'pending' (the worker creates the LMS line item) and found again by kind and key. An assignment's
 * column is the assignment's own LMS column: already known by its line item URL, so 'ready' at once.
 */
export type WantedColumn =
  | {
      readonly kind: 'standard' | 'course';
      readonly key: string;
      readonly label: string;
      readonly scoreMaximum: number;
    }
  | {
      readonly kind: 'assignment';
      readonly key: string;
      readonly label: string;
      readonly scoreMaximum: number;
      readonly lineItemUrl: string;
    };

/** True when the stored column already is what the upsert would leave it as. */
export function columnUpToDate(existing: CourseColumn, wanted: WantedColumn): boolean {
  if (existing.label !== wanted.label) return false;
  if (wanted.kind !== 'assignment') return true;
  return (
    existing.scoreMaximum === wanted.scoreMaximum &&
    (existing.status === 'deleted_in_lms' || existing.lmsColumnId === wanted.lineItemUrl)
  );
}

/**
 * Creates the missing columns and brings labels (and an assignment column's maximum and line item)
 * up to date, in one statement; returns each column's id by `columnKey`. A standard or course
 * column keeps its maximum; an assignment column the LMS deleted keeps its dead line item URL
 * until the teacher asks to recreate it.
 */
export async function upsertColumns(
  tx: Db,
  input: {
    tenantId: string;
    courseId: string;
    columns: readonly WantedColumn[];
    now: Date;
  },
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  if (input.columns.length === 0) return ids;
  const columns = [
    ...new Map(input.columns.map((c) => [columnKey(c.kind, c.key), c])).values(),
  ].sort((a, b) => byString(a.kind, b.kind) || byString(a.key, b.key));
  const kinds = columns.map((c) => c.kind);
  const keys = columns.map((c) => c.key);
  const labels = columns.map((c) => c.label);
  const maxima = columns.map((c) => c.scoreMaximum);
  const resourceIds = columns.map((c) => columnResourceId(c.kind, c.key));
  const lmsColumnIds = columns.map((c) => (c.kind === 'assignment' ? c.lineItemUrl : null));
  const statuses = columns.map((c) => (c.kind === 'assignment' ? 'ready' : 'pending'));
  // INSERT … SELECT from courses: a course of another tenant inserts nothing.
  const result = await sql<{ id: string; kind: GradebookColumnKind; key: string }>`
    INSERT INTO gradebook_columns
      (tenant_id, course_id, kind, key, label, score_maximum, tag, resource_id, lms_column_id,
       status, created_at)
    SELECT ${input.tenantId}, c.id, v.kind, v.key, v.label, v.score_maximum, ${PASSBACK_TAG},
           v.resource_id, v.lms_column_id, v.status, ${input.now}
    FROM courses c
    CROSS JOIN unnest(
      ${sql.val(kinds)}::text[], ${sql.val(keys)}::text[], ${sql.val(labels)}::text[],
      ${sql.val(maxima)}::float8[], ${sql.val(resourceIds)}::text[],
      ${sql.val(lmsColumnIds)}::text[], ${sql.val(statuses)}::text[]
    ) AS v(kind, key, label, score_maximum, resource_id, lms_column_id, status)
    WHERE c.id = ${input.courseId} AND c.tenant_id = ${input.tenantId}
    ON CONFLICT (course_id, kind, key) DO UPDATE SET
      label = excluded.label,
      score_maximum = CASE WHEN excluded.kind = 'assignment'
        THEN excluded.score_maximum ELSE gradebook_columns.score_maximum END,
      lms_column_id = CASE
        WHEN excluded.kind = 'assignment' AND gradebook_columns.status <> 'deleted_in_lms'
        THEN excluded.lms_column_id ELSE gradebook_columns.lms_column_id END
      WHERE gradebook_columns.tenant_id = excluded.tenant_id
    RETURNING id, kind, key
  `.execute(tx);
  for (const row of result.rows) ids.set(columnKey(row.kind, row.key), row.id);
  if (ids.size !== columns.length) {
    throw courseNotInTenant(input);
  }
  return ids;
}

/** One cell's desired grade. */
export interface DesiredCell {
  readonly columnId: string;
  readonly userId: string;
  readonly lmsUserId: string;
  readonly value: number;
  readonly comment: string | null;
}

/**
 * Writes desired grades in one statement. A new cell starts at version 1; an existing cell moves
 * (value, comment, LMS user id, version + 1) only when its value or comment changed, so an
 * unchanged grade is never posted again. Returns how many cells were written.
 */
export async function upsertDesiredGrades(
  tx: Db,
  input: { tenantId: string; courseId: string; cells: readonly DesiredCell[]; now: Date },
): Promise<number> {
  if (input.cells.length === 0) return 0;
  // One row per cell (the last wins), in key order, so concurrent writers lock rows in one order.
  const cells = [
    ...new Map(input.cells.map((c) => [`${c.columnId}|${c.userId}`, c])).values(),
  ].sort((a, b) => byString(a.columnId, b.columnId) || byString(a.userId, b.userId));
  const result = await sql<{ version: string }>`
    INSERT INTO desired_grades
      (tenant_id, course_id, column_id, user_id, lms_user_id, value, comment, version, updated_at)
    SELECT ${input.tenantId}, ${input.courseId}, v.column_id, v.user_id, v.lms_user_id, v.value,
           v.comment, 1, ${input.now}
    FROM unnest(
      ${sql.val(cells.map((c) => c.columnId))}::uuid[],
      ${sql.val(cells.map((c) => c.userId))}::uuid[],
      ${sql.val(cells.map((c) => c.lmsUserId))}::text[],
      ${sql.val(cells.map((c) => c.value))}::float8[],
      ${sql.val(cells.map((c) => c.comment))}::text[]
    ) AS v(column_id, user_id, lms_user_id, value, comment)
    ON CONFLICT (column_id, user_id) DO UPDATE SET
      value = excluded.value,
      comment = excluded.comment,
      lms_user_id = excluded.lms_user_id,
      version = desired_grades.version + 1,
      updated_at = excluded.updated_at
    WHERE desired_grades.tenant_id = excluded.tenant_id
      AND (desired_grades.value, desired_grades.comment)
        IS DISTINCT FROM (excluded.value, excluded.comment)
    RETURNING version
  `.execute(tx);
  return result.rows.length;
}
