import { sql, type Kysely } from 'kysely';
import { isTestUser, lmsRole } from '../../lms/lti/roles.ts';
import type { Database } from '../schema.ts';
import type { StoredMasteryStatus } from './schema.ts';
import { isUuid } from '../../ids.ts';

/**
 * Read queries of the mastery pages (heatmap, student detail, pathways, student progress).
 * Every statement filters by `tenant_id` AND `course_id`, both taken from the session by the caller,
 * never from a URL: an id from another course or district finds nothing.
 */

// The row shapes are declared once, shared with the presenters (`src/mastery-views/`).
export type * from '../../domain/mastery-rows.ts';
import type {
  CourseStudent,
  CourseStandard,
  AncestorStandard,
  ResultCell,
  StudentResult,
  EvidenceEntry,
  AlignedAssignment,
  EvidencedCell,
} from '../../domain/mastery-rows.ts';

/** A result as `resultCells` packs it: [item, status, value, level, mastered, overridden, count]. */
type PackedCell = [
  string,
  StoredMasteryStatus,
  number | null,
  string | null,
  boolean,
  boolean,
  number,
];

/** A uuid, so a tampered URL segment is "not found" instead of a database cast error. */

function displayName(row: {
  name: string | null;
  given_name: string | null;
  family_name: string | null;
}): string {
  const joined = [row.given_name, row.family_name].filter((part) => part !== null).join(' ');
  return row.name ?? (joined === '' ? 'Name not shared by the LMS' : joined);
}

const standardColumns = [
  's.id',
  's.code',
  's.full_statement',
  's.abbreviated_statement',
  's.parent_item_id',
  's.item_type',
] as const;

function toStandard(row: {
  id: string;
  code: string | null;
  full_statement: string;
  abbreviated_statement: string | null;
  parent_item_id: string | null;
  item_type: string | null;
}): CourseStandard {
  return {
    id: row.id,
    code: row.code ?? undefined,
    statement: row.abbreviated_statement ?? row.full_statement,
    fullStatement: row.full_statement,
    parentId: row.parent_item_id ?? undefined,
    itemType: row.item_type ?? undefined,
  };
}

function toCell(row: {
  student_id: string;
  item_id: string;
  status: StoredMasteryStatus;
  value: number | null;
  level_id: string | null;
  mastered: boolean;
  overridden: boolean;
  evidence_count: number;
}): ResultCell {
  return {
    studentId: row.student_id,
    itemId: row.item_id,
    status: row.status,
    value: row.value ?? undefined,
    levelId: row.level_id ?? undefined,
    mastered: row.mastered,
    overridden: row.overridden,
    evidenceCount: row.evidence_count,
  };
}

/**
 * The course's learners (by the one role rule), class-list order. Students who left the course
 * stay listed when they have results, so their record does not vanish from the heatmap.
 */
async function students(
  db: Kysely<Database>,
  tenantId: string,
  courseId: string,
): Promise<CourseStudent[]> {
  const rows = await db
    .selectFrom('enrollments as e')
    .innerJoin('users as u', (join) =>
      join.onRef('u.id', '=', 'e.user_id').onRef('u.tenant_id', '=', 'e.tenant_id'),
    )
    .select(['u.id', 'u.name', 'u.given_name', 'u.family_name', 'e.roles', 'e.status'])
    .where('e.tenant_id', '=', tenantId)
    .where('e.course_id', '=', courseId)
    .execute();
  const learners = rows.filter((row) => lmsRole(row.roles) === 'student');
  const inactive = learners.filter((row) => row.status !== 'active').map((row) => row.id);
  const withResults = new Set<string>();
  if (inactive.length > 0) {
    const found = await db
      .selectFrom('mastery_results')
      .select('student_id')
      .distinct()
      .where('tenant_id', '=', tenantId)
      .where('course_id', '=', courseId)
      .where('student_id', 'in', inactive)
      .execute();
    for (const row of found) withResults.add(row.student_id);
  }
  return learners
    .filter((row) => row.status === 'active' || withResults.has(row.id))
    .map((row) => ({
      id: row.id,
      name: displayName(row),
      sortKey: `${row.family_name ?? ''} ${row.given_name ?? ''} ${row.name ?? ''}`.toLowerCase(),
      active: row.status === 'active',
      testUser: isTestUser(row.roles),
    }))
    .sort((a, b) => a.sortKey.localeCompare(b.sortKey) || a.id.localeCompare(b.id));
}

/** One learner of the course, or undefined (unknown id, another course, not a learner). */
async function student(
  db: Kysely<Database>,
  tenantId: string,
  courseId: string,
  studentId: string,
): Promise<CourseStudent | undefined> {
  if (!isUuid(studentId)) return undefined;
  const learners = await students(db, tenantId, courseId);
  return learners.find((learner) => learner.id === studentId);
}

/**
 * The course's standards: those aligned to a (not archived) assignment, and those with current
 * evidence. Framework order.
 */
async function standards(
  db: Kysely<Database>,
  tenantId: string,
  courseId: string,
): Promise<CourseStandard[]> {
  const rows = await db
    .selectFrom('standard_items as s')
    .select([...standardColumns, 's.framework_id', 's.sequence'])
    .where('s.tenant_id', '=', tenantId)
    .where((eb) =>
      eb.or([
        eb(
          's.id',
          'in',
          eb
            .selectFrom('assignment_alignments as al')
            .innerJoin('course_assignments as a', (join) =>
              join.onRef('a.id', '=', 'al.assignment_id').on('a.tenant_id', '=', tenantId),
            )
            .select('al.item_id')
            .where('al.tenant_id', '=', tenantId)
            .where('al.course_id', '=', courseId)
            .where('a.archived_at', 'is', null),
        ),
        eb(
          's.id',
          'in',
          eb
            .selectFrom('evidence as ev')
            .select('ev.item_id')
            .where('ev.tenant_id', '=', tenantId)
            .where('ev.course_id', '=', courseId)
            .where('ev.deleted_at', 'is', null),
        ),
      ]),
    )
    .orderBy('s.framework_id')
    .orderBy('s.sequence')
    .orderBy('s.id')
    .execute();
  return rows.map(toStandard);
}

/** Every ancestor of the given standards (not the standards themselves), with its depth. */
async function ancestors(
  db: Kysely<Database>,
  tenantId: string,
  itemIds: readonly string[],
): Promise<AncestorStandard[]> {
  if (itemIds.length === 0) return [];
  const ids = sql.join(itemIds.map((id) => sql`${id}::uuid`));
  const result = await sql<{
    id: string;
    code: string | null;
    full_statement: string;
    abbreviated_statement: string | null;
    parent_item_id: string | null;
    item_type: string | null;
    framework_id: string;
    sequence: number;
  }>`
    WITH RECURSIVE up AS (
      SELECT s.parent_item_id AS id FROM standard_items s
      WHERE s.tenant_id = ${tenantId} AND s.id IN (${ids}) AND s.parent_item_id IS NOT NULL
      UNION
      SELECT p.parent_item_id FROM standard_items p
      JOIN up ON p.id = up.id
      WHERE p.tenant_id = ${tenantId} AND p.parent_item_id IS NOT NULL
    )
    SELECT s.id, s.code, s.full_statement, s.abbreviated_statement, s.parent_item_id,
           s.item_type, s.framework_id, s.sequence
    FROM standard_items s
    WHERE s.tenant_id = ${tenantId} AND s.id IN (SELECT id FROM up)
    ORDER BY s.framework_id, s.sequence, s.id
  `.execute(db);
  const byId = new Map(result.rows.map((row) => [row.id, row]));
  const depthOf = (id: string): number => {
    let depth = 0;
    let parent = byId.get(id)?.parent_item_id ?? null;
    while (parent !== null && byId.has(parent) && depth < 50) {
      depth += 1;
      parent = byId.get(parent)?.parent_item_id ?? null;
    }
    return depth;
  };
  return result.rows.map((row) => ({ ...toStandard(row), depth: depthOf(row.id) }));
}

/**
 * Every stored result of the course, without explanations (the heatmap's cells). One row per
 * student with its cells as one JSON array: drivers (PGlite especially) parse 200 JSON
 * documents far faster than 12,000 protocol rows (bench/heatmap.ts: ~400 ms → ~80 ms).
 */
async function resultCells(
  db: Kysely<Database>,
  tenantId: string,
  courseId: string,
): Promise<ResultCell[]> {
  const result = await sql<{ student_id: string; cells: unknown }>`
    SELECT student_id,
           json_agg(json_build_array(item_id, status, value, level_id, mastered, overridden,
                                     evidence_count)) AS cells
    FROM mastery_results
    WHERE tenant_id = ${tenantId} AND course_id = ${courseId}
    GROUP BY student_id
  `.execute(db);
  const cells: ResultCell[] = [];
  for (const row of result.rows) {
    const list: unknown = typeof row.cells === 'string' ? JSON.parse(row.cells) : row.cells;
    if (!Array.isArray(list)) continue;
    for (const entry of list as PackedCell[]) {
      cells.push({
        studentId: row.student_id,
        itemId: entry[0],
        status: entry[1],
        value: entry[2] ?? undefined,
        levelId: entry[3] ?? undefined,
        mastered: entry[4],
        overridden: entry[5],
        evidenceCount: entry[6],
      });
    }
  }
  return cells;
}

/** One student's results, with their standards' parents and the overrides. */
async function studentResults(
  db: Kysely<Database>,
  tenantId: string,
  courseId: string,
  studentId: string,
): Promise<StudentResult[]> {
  const rows = await db
    .selectFrom('mastery_results as r')
    .innerJoin('standard_items as s', (join) =>
      join.onRef('s.id', '=', 'r.item_id').on('s.tenant_id', '=', tenantId),
    )
    .leftJoin('mastery_overrides as o', (join) =>
      join
        .onRef('o.course_id', '=', 'r.course_id')
        .onRef('o.student_id', '=', 'r.student_id')
        .onRef('o.item_id', '=', 'r.item_id')
        .on('o.tenant_id', '=', tenantId),
    )
    .selectAll('r')
    .select([
      's.parent_item_id',
      'o.value as override_value',
      'o.reason as override_reason',
      'o.set_by as override_set_by',
      'o.set_at as override_set_at',
    ])
    .where('r.tenant_id', '=', tenantId)
    .where('r.course_id', '=', courseId)
    .where('r.student_id', '=', studentId)
    .execute();
  return rows.map((row) => ({
    ...toCell(row),
    computedValue: row.computed_value ?? undefined,
    computedAt: row.computed_at,
    parentId: row.parent_item_id ?? undefined,
    override:
      row.override_value === null ||
      row.override_reason === null ||
      row.override_set_by === null ||
      row.override_set_at === null
        ? undefined
        : {
            value: row.override_value,
            reason: row.override_reason,
            setBy: row.override_set_by,
            setAt: row.override_set_at,
          },
  }));
}

/** One student's current (not withdrawn) evidence, oldest first by date assessed/recorded. */
async function studentEvidence(
  db: Kysely<Database>,
  tenantId: string,
  courseId: string,
  studentId: string,
): Promise<EvidenceEntry[]> {
  const rows = await db
    .selectFrom('evidence as e')
    .leftJoin('course_assignments as a', (join) =>
      join.onRef('a.id', '=', 'e.assignment_id').on('a.tenant_id', '=', tenantId),
    )
    .select([
      'e.id',
      'e.item_id',
      'e.assignment_id',
      'a.title',
      'e.score',
      'e.points',
      'e.points_possible',
      'e.assessed_at',
      'e.due_at',
      'e.graded_at',
      'e.last_graded_at',
      'e.submitted_at',
      'e.recorded_at',
      'e.excused',
      'e.comment',
      'e.source',
    ])
    .where('e.tenant_id', '=', tenantId)
    .where('e.course_id', '=', courseId)
    .where('e.student_id', '=', studentId)
    .where('e.deleted_at', 'is', null)
    .orderBy(sql`coalesce(e.assessed_at, e.recorded_at)`)
    .orderBy('e.recorded_at')
    .orderBy('e.id')
    .execute();
  return rows.map((row) => ({
    id: row.id,
    itemId: row.item_id,
    assignmentId: row.assignment_id ?? undefined,
    assignmentTitle: row.title ?? undefined,
    score: row.score,
    points: row.points,
    pointsPossible: row.points_possible,
    assessedAt: row.assessed_at,
    dueAt: row.due_at,
    gradedAt: row.graded_at,
    lastGradedAt: row.last_graded_at,
    submittedAt: row.submitted_at,
    recordedAt: row.recorded_at,
    excused: row.excused,
    comment: row.comment ?? undefined,
    source: row.source,
  }));
}

/** The course's (not archived) assignments with the standards each is aligned to. */
async function alignedAssignments(
  db: Kysely<Database>,
  tenantId: string,
  courseId: string,
): Promise<AlignedAssignment[]> {
  const rows = await db
    .selectFrom('assignment_alignments as al')
    .innerJoin('course_assignments as a', (join) =>
      join.onRef('a.id', '=', 'al.assignment_id').on('a.tenant_id', '=', tenantId),
    )
    .select(['a.id', 'a.title', 'a.due_at', 'al.item_id'])
    .where('al.tenant_id', '=', tenantId)
    .where('al.course_id', '=', courseId)
    .where('a.course_id', '=', courseId)
    .where('a.archived_at', 'is', null)
    .orderBy(sql`a.due_at IS NULL`)
    .orderBy('a.due_at')
    .orderBy('a.title')
    .orderBy('al.position')
    .execute();
  return rows.map((row) => ({
    assignmentId: row.id,
    title: row.title,
    dueAt: row.due_at ?? undefined,
    itemId: row.item_id,
  }));
}

/** (student, assignment, standard) cells that already hold current evidence. */
async function evidencedCells(
  db: Kysely<Database>,
  tenantId: string,
  courseId: string,
  studentId?: string,
): Promise<EvidencedCell[]> {
  let query = db
    .selectFrom('evidence')
    .select(['student_id', 'assignment_id', 'item_id'])
    .where('tenant_id', '=', tenantId)
    .where('course_id', '=', courseId)
    .where('deleted_at', 'is', null)
    .where('assignment_id', 'is not', null);
  if (studentId !== undefined) query = query.where('student_id', '=', studentId);
  const rows = await query.execute();
  return rows.map((row) => ({
    studentId: row.student_id,
    assignmentId: row.assignment_id as string,
    itemId: row.item_id,
  }));
}

/**
 * The students a mentor/parent is linked to in this course: the district's users among the
 * subs the mentor's last launch named (`mentor_scopes`), never the mentor themself.
 */
async function mentorStudentIds(
  db: Kysely<Database>,
  tenantId: string,
  courseId: string,
  mentorId: string,
) {
  const result = await sql<{ id: string }>`
    SELECT u.id
    FROM mentor_scopes m
    JOIN users u
      ON u.tenant_id = m.tenant_id AND u.issuer = m.issuer AND u.sub = ANY(m.student_subs)
    WHERE m.tenant_id = ${tenantId} AND m.course_id = ${courseId}
      AND m.mentor_id = ${mentorId} AND u.id <> m.mentor_id
    ORDER BY u.id
  `.execute(db);
  return result.rows.map((row) => row.id);
}

export function createMasteryViewsRepository(db: Kysely<Database>) {
  // Each method is one of the functions above, given this database.
  return {
    students: students.bind(undefined, db),
    student: student.bind(undefined, db),
    standards: standards.bind(undefined, db),
    ancestors: ancestors.bind(undefined, db),
    resultCells: resultCells.bind(undefined, db),
    studentResults: studentResults.bind(undefined, db),
    studentEvidence: studentEvidence.bind(undefined, db),
    alignedAssignments: alignedAssignments.bind(undefined, db),
    evidencedCells: evidencedCells.bind(undefined, db),
    mentorStudentIds: mentorStudentIds.bind(undefined, db),
  };
}

export type MasteryViewsRepository = ReturnType<typeof createMasteryViewsRepository>;
