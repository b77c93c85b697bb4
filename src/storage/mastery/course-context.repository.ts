import type { Kysely, Transaction } from 'kysely';
import { isLearner } from '../../lti/claims.ts';
import type { Database } from '../schema.ts';

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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids from URLs and forms: anything that is not a uuid cannot exist (and must not reach SQL casts). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export function createCourseContextRepository(db: Db) {
  return {
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

export type CourseContextRepository = ReturnType<typeof createCourseContextRepository>;
