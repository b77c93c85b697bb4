import { sql, type Kysely, type Transaction } from 'kysely';
import { isLearner } from '../../lti/claims.ts';
import type { Database } from '../schema.ts';
import type { EvidenceRow } from './evidence.repository.ts';
import { isUuid } from '../../ids.ts';

/**
 * Read-only SQL over the course tables that evidence needs: the course's learners, its
 * assignments with their aligned standards, standards of the district. Every query filters by
 * `tenant_id` (tenant = district), so an id from another district simply is not found.
 */

type Db = Kysely<Database> | Transaction<Database>;

export interface CourseLearner {
  readonly userId: string;
  readonly sub: string;
  readonly name: string | null;
  readonly familyName: string | null;
  readonly givenName: string | null;
  readonly active: boolean;
}

export interface AlignedStandard {
  readonly itemId: string;
  readonly code: string | null;
  readonly statement: string;
  readonly weight: number;
  /** Points this standard is worth on the assignment, if the alignment gives them. */
  readonly points: number | null;
  readonly position: number;
}

export interface AssignmentWithStandards {
  readonly id: string;
  readonly title: string;
  readonly dueAt: Date | null;
  readonly scoreMaximum: number | null;
  readonly lineItemUrl: string | null;
  readonly archived: boolean;
  readonly standards: readonly AlignedStandard[];
}

/** Everything an evidence write checks and reads before it writes (see `writeContext`). */
export interface EvidenceWriteContext {
  readonly courseExists: boolean;
  /** The district's (course_id null) and the course's stored policy rows. */
  readonly policies: readonly { course_id: string | null; policy: unknown }[];
  /** Of the asked ids, those enrolled in the course as learners. */
  readonly learnerIds: ReadonlySet<string>;
  /** Of the asked ids, the course's assignments with their aligned standards. */
  readonly assignments: readonly AssignmentWithStandards[];
  /** Of the asked free-standing standard ids, the district's (not archived) standards. */
  readonly existingItems: ReadonlySet<string>;
  /** Current rows of the asked assignments for the asked students, locked until commit. */
  readonly cells: readonly EvidenceRow[];
}

const dateOrNull = (value: string | null): Date | null => (value === null ? null : new Date(value));

function jsonValue<T>(value: unknown, empty: T): T {
  if (value === null || value === undefined) return empty;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

interface CellJson extends Omit<
  EvidenceRow,
  | 'assessed_at'
  | 'due_at'
  | 'graded_at'
  | 'last_graded_at'
  | 'submitted_at'
  | 'recorded_at'
  | 'deleted_at'
> {
  assessed_at: string | null;
  due_at: string | null;
  graded_at: string | null;
  last_graded_at: string | null;
  submitted_at: string | null;
  recorded_at: string;
  deleted_at: string | null;
}

/** What an evidence write checks, in one read. */
function writeContextQueries(db: Db) {
  return {
    /**
     * What `recordEvidence` needs before it writes, in ONE round trip: whether the course is the
     * district's, the policy rows, which students are the course's learners, the asked
     * assignments with their aligned standards, which free-standing standard ids exist, and the
     * current evidence cells of those assignments for those students, locked (`FOR UPDATE`) so
     * concurrent saves of the same cells serialise.
     */
    async writeContext(
      tenantId: string,
      courseId: string,
      input: {
        studentIds: readonly string[];
        assignmentIds: readonly string[];
        freeItemIds: readonly string[];
      },
    ): Promise<EvidenceWriteContext> {
      const empty: EvidenceWriteContext = {
        courseExists: false,
        policies: [],
        learnerIds: new Set(),
        assignments: [],
        existingItems: new Set(),
        cells: [],
      };
      if (!isUuid(courseId)) return empty;
      const students = input.studentIds.filter(isUuid);
      const assignments = input.assignmentIds.filter(isUuid);
      const items = input.freeItemIds.filter(isUuid);
      const result = await sql<{
        course: string | null;
        policies: unknown;
        learners: unknown;
        assignments: unknown;
        alignments: unknown;
        items: unknown;
        cells: unknown;
      }>`/* prepared */
        WITH cells AS (
          SELECT * FROM evidence
          WHERE tenant_id = ${tenantId} AND assignment_id = ANY(${assignments}::uuid[])
            AND student_id = ANY(${students}::uuid[])
          ORDER BY id
          FOR UPDATE
        )
        SELECT
          (SELECT id FROM courses WHERE tenant_id = ${tenantId} AND id = ${courseId}) AS course,
          (SELECT json_agg(json_build_array(course_id, policy)) FROM mastery_policies
            WHERE tenant_id = ${tenantId} AND (course_id IS NULL OR course_id = ${courseId})
          ) AS policies,
          (SELECT json_agg(json_build_array(u.id, e.roles))
            FROM enrollments e JOIN users u ON u.id = e.user_id
            WHERE e.tenant_id = ${tenantId} AND u.tenant_id = ${tenantId}
              AND e.course_id = ${courseId} AND u.id = ANY(${students}::uuid[])
          ) AS learners,
          (SELECT json_agg(json_build_array(id, title, due_at, score_maximum, line_item_url,
                                            archived_at IS NOT NULL))
            FROM course_assignments
            WHERE tenant_id = ${tenantId} AND course_id = ${courseId}
              AND id = ANY(${assignments}::uuid[])
          ) AS assignments,
          (SELECT json_agg(json_build_array(a.assignment_id, a.item_id, s.code,
                    coalesce(s.abbreviated_statement, s.full_statement), a.weight, a.points,
                    a.position) ORDER BY a.position, s.code)
            FROM assignment_alignments a JOIN standard_items s ON s.id = a.item_id
            WHERE a.tenant_id = ${tenantId} AND s.tenant_id = ${tenantId}
              AND a.course_id = ${courseId} AND a.assignment_id = ANY(${assignments}::uuid[])
          ) AS alignments,
          (SELECT json_agg(id) FROM standard_items
            WHERE tenant_id = ${tenantId} AND id = ANY(${items}::uuid[]) AND archived_at IS NULL
          ) AS items,
          (SELECT json_agg(c) FROM cells c) AS cells
      `.execute(db);
      const row = result.rows[0];
      if (row === undefined || row.course === null) return empty;
      const standards = new Map<string, AlignedStandard[]>();
      for (const [assignmentId, itemId, code, statement, weight, points, position] of jsonValue<
        [string, string, string | null, string, number, number | null, number][]
      >(row.alignments, [])) {
        const list = standards.get(assignmentId) ?? [];
        list.push({ itemId, code, statement, weight, points, position });
        standards.set(assignmentId, list);
      }
      return {
        courseExists: true,
        policies: jsonValue<[string | null, unknown][]>(row.policies, []).map(
          ([course_id, policy]) => ({ course_id, policy }),
        ),
        learnerIds: new Set(
          jsonValue<[string, string[]][]>(row.learners, [])
            .filter(([, roles]) => isLearner(roles))
            .map(([id]) => id),
        ),
        assignments: jsonValue<
          [string, string, string | null, number | null, string | null, boolean][]
        >(row.assignments, []).map(([id, title, dueAt, scoreMaximum, lineItemUrl, archived]) => ({
          id,
          title,
          dueAt: dateOrNull(dueAt),
          scoreMaximum,
          lineItemUrl,
          archived,
          standards: standards.get(id) ?? [],
        })),
        existingItems: new Set(jsonValue<string[]>(row.items, [])),
        cells: jsonValue<CellJson[]>(row.cells, []).map((c) => ({
          ...c,
          assessed_at: dateOrNull(c.assessed_at),
          due_at: dateOrNull(c.due_at),
          graded_at: dateOrNull(c.graded_at),
          last_graded_at: dateOrNull(c.last_graded_at),
          submitted_at: dateOrNull(c.submitted_at),
          recorded_at: new Date(c.recorded_at),
          deleted_at: dateOrNull(c.deleted_at),
        })),
      };
    },

    async courseExists(tenantId: string, courseId: string): Promise<boolean> {
      if (!isUuid(courseId)) return false;
      const row = await db
        .selectFrom('courses')
        .select('id')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', courseId)
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}

/** The course's learners, assignments and standards. */
function courseQueries(db: Db) {
  return {
    /** Learners enrolled in the course (optionally only the given user ids), by family name. */
    async learners(
      tenantId: string,
      courseId: string,
      userIds?: readonly string[],
    ): Promise<CourseLearner[]> {
      const ids = userIds?.filter(isUuid);
      if (ids?.length === 0) return [];
      let query = db
        .selectFrom('enrollments as e')
        .innerJoin('users as u', 'u.id', 'e.user_id')
        .select(['u.id', 'u.sub', 'u.name', 'u.family_name', 'u.given_name', 'e.roles', 'e.status'])
        .where('e.tenant_id', '=', tenantId)
        .where('u.tenant_id', '=', tenantId)
        .where('e.course_id', '=', courseId);
      if (ids !== undefined) query = query.where('u.id', 'in', ids);
      const rows = await query.execute();
      return rows
        .filter((row) => isLearner(row.roles))
        .map((row) => ({
          userId: row.id,
          sub: row.sub,
          name: row.name,
          familyName: row.family_name,
          givenName: row.given_name,
          active: row.status === 'active',
        }))
        .sort(
          (a, b) =>
            (a.familyName ?? a.name ?? a.sub).localeCompare(b.familyName ?? b.name ?? b.sub) ||
            (a.givenName ?? '').localeCompare(b.givenName ?? '') ||
            a.userId.localeCompare(b.userId),
        );
    },

    /** The course's assignments (not archived first), each with its aligned standards in order. */
    async assignments(
      tenantId: string,
      courseId: string,
      assignmentIds?: readonly string[],
    ): Promise<AssignmentWithStandards[]> {
      const ids = assignmentIds?.filter(isUuid);
      if (ids?.length === 0) return [];
      let query = db
        .selectFrom('course_assignments')
        .select(['id', 'title', 'due_at', 'score_maximum', 'line_item_url', 'archived_at'])
        .where('tenant_id', '=', tenantId)
        .where('course_id', '=', courseId);
      if (ids !== undefined) query = query.where('id', 'in', ids);
      const rows = await query.orderBy('title').orderBy('id').execute();
      if (rows.length === 0) return [];
      const alignments = await db
        .selectFrom('assignment_alignments as a')
        .innerJoin('standard_items as s', 's.id', 'a.item_id')
        .select([
          'a.assignment_id',
          'a.item_id',
          'a.weight',
          'a.points',
          'a.position',
          's.code',
          's.full_statement',
          's.abbreviated_statement',
        ])
        .where('a.tenant_id', '=', tenantId)
        .where('s.tenant_id', '=', tenantId)
        .where('a.course_id', '=', courseId)
        .where(
          'a.assignment_id',
          'in',
          rows.map((row) => row.id),
        )
        .orderBy('a.position')
        .orderBy('s.code')
        .execute();
      const byAssignment = new Map<string, AlignedStandard[]>();
      for (const row of alignments) {
        const list = byAssignment.get(row.assignment_id) ?? [];
        list.push({
          itemId: row.item_id,
          code: row.code,
          statement: row.abbreviated_statement ?? row.full_statement,
          weight: row.weight,
          points: row.points,
          position: row.position,
        });
        byAssignment.set(row.assignment_id, list);
      }
      return rows
        .map((row) => ({
          id: row.id,
          title: row.title,
          dueAt: row.due_at,
          scoreMaximum: row.score_maximum,
          lineItemUrl: row.line_item_url,
          archived: row.archived_at !== null,
          standards: byAssignment.get(row.id) ?? [],
        }))
        .sort((a, b) => Number(a.archived) - Number(b.archived));
    },

    /** Which of these ids are standards of the district (not archived). */
    async existingItems(tenantId: string, itemIds: readonly string[]): Promise<Set<string>> {
      const ids = itemIds.filter(isUuid);
      if (ids.length === 0) return new Set();
      const rows = await db
        .selectFrom('standard_items')
        .select('id')
        .where('tenant_id', '=', tenantId)
        .where('id', 'in', ids)
        .where('archived_at', 'is', null)
        .execute();
      return new Set(rows.map((row) => row.id));
    },

    async item(tenantId: string, itemId: string) {
      if (!isUuid(itemId)) return undefined;
      return db
        .selectFrom('standard_items')
        .select(['id', 'code', 'full_statement', 'abbreviated_statement'])
        .where('tenant_id', '=', tenantId)
        .where('id', '=', itemId)
        .executeTakeFirst();
    },

    /** District users by issuer and LTI `sub` (mentor links). */
    async usersBySub(
      tenantId: string,
      issuer: string,
      subs: readonly string[],
    ): Promise<{ id: string; sub: string }[]> {
      if (subs.length === 0) return [];
      return db
        .selectFrom('users')
        .select(['id', 'sub'])
        .where('tenant_id', '=', tenantId)
        .where('issuer', '=', issuer)
        .where('sub', 'in', [...subs])
        .execute();
    },
  };
}

export function createCourseContextRepository(db: Db) {
  return {
    ...writeContextQueries(db),
    ...courseQueries(db),
  };
}

export type CourseContextRepository = ReturnType<typeof createCourseContextRepository>;
