import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../schema.ts';
import type { StoredMasteryStatus } from './schema.ts';

/**
 * All SQL of computed mastery: what a recomputation reads (evidence, overrides, the standards'
 * ancestry, children's results) and what it writes (`mastery_results`), plus overrides.
 * Every query filters by `tenant_id`.
 *
 * `mastery_results.explanation` holds one of (dates as ISO strings):
 *
 * ```
 * { "kind": "calculated", "result": MasteryResult }
 *     a standard with its own evidence (or with no children that have results): the output of
 *     calculateMastery, with applyOverride applied when a teacher overrode it (result.override
 *     then holds the override and the computed value/level).
 * { "kind": "rollup", "result": RollUpResult, "override"?: StoredOverrideNote }
 *     a parent standard (domain/cluster) WITHOUT its own evidence, rolled up from its children's
 *     results in the same course; `override` is present when a teacher overrode the roll-up
 *     (the row's value/level_id are then the override's, computed_value the roll-up's).
 * ```
 *
 * `value`/`level_id`/`mastered` are what counts (the override when there is one);
 * `computed_value` is always what the calculation said; `evidence_count` is the number of
 * evidence records the method used (children used, for a roll-up).
 */

type Db = Kysely<Database> | Transaction<Database>;

export interface StoredOverrideNote {
  readonly value: number;
  readonly levelId: string;
  readonly reason: string;
  readonly by: string;
  readonly at: string;
}

export type StoredExplanation =
  | { readonly kind: 'calculated'; readonly result: unknown }
  | { readonly kind: 'rollup'; readonly result: unknown; readonly override?: StoredOverrideNote };

export interface EvidenceForCalculation {
  readonly id: string;
  readonly studentId: string;
  readonly itemId: string;
  readonly score: number | null;
  readonly assessedAt: Date | null;
  readonly dueAt: Date | null;
  readonly gradedAt: Date | null;
  readonly recordedAt: Date;
  readonly excused: boolean;
  readonly label: string | null;
}

export interface OverrideRow {
  readonly studentId: string;
  readonly itemId: string;
  readonly value: number;
  readonly reason: string;
  readonly setBy: string;
  readonly setAt: Date;
}

export interface AncestryRow {
  readonly itemId: string;
  readonly parentId: string | null;
}

export interface ChildResultRow {
  readonly studentId: string;
  readonly itemId: string;
  readonly parentId: string;
  readonly status: StoredMasteryStatus;
  readonly value: number | null;
  readonly levelId: string | null;
  readonly overridden: boolean;
}

export interface ResultWrite {
  readonly studentId: string;
  readonly itemId: string;
  readonly status: StoredMasteryStatus;
  readonly value: number | null;
  readonly levelId: string | null;
  readonly mastered: boolean;
  readonly computedValue: number | null;
  readonly overridden: boolean;
  readonly evidenceCount: number;
  readonly explanation: StoredExplanation;
}

/** Rows per INSERT (one JSON parameter each). */
const WRITE_CHUNK = 2000;

export function createMasteryResultsRepository(db: Db, now: () => Date) {
  return {
    /**
     * Current (not withdrawn) evidence of the given students in a course, optionally only for
     * some standards, with the assignment title as label.
     */
    async evidenceFor(
      tenantId: string,
      courseId: string,
      studentIds: readonly string[],
      itemIds: readonly string[] | undefined,
    ): Promise<EvidenceForCalculation[]> {
      if (studentIds.length === 0 || itemIds?.length === 0) return [];
      let query = db
        .selectFrom('evidence as e')
        .leftJoin('course_assignments as a', 'a.id', 'e.assignment_id')
        .select([
          'e.id',
          'e.student_id',
          'e.item_id',
          'e.score',
          'e.assessed_at',
          'e.due_at',
          'e.graded_at',
          'e.recorded_at',
          'e.excused',
          'a.title',
        ])
        .where('e.tenant_id', '=', tenantId)
        .where('e.course_id', '=', courseId)
        .where('e.student_id', 'in', [...studentIds])
        .where('e.deleted_at', 'is', null);
      if (itemIds !== undefined) query = query.where('e.item_id', 'in', [...itemIds]);
      const rows = await query.execute();
      return rows.map((row) => ({
        id: row.id,
        studentId: row.student_id,
        itemId: row.item_id,
        score: row.score,
        assessedAt: row.assessed_at,
        dueAt: row.due_at,
        gradedAt: row.graded_at,
        recordedAt: row.recorded_at,
        excused: row.excused,
        label: row.title,
      }));
    },

    async overridesFor(
      tenantId: string,
      courseId: string,
      studentIds: readonly string[],
      itemIds: readonly string[] | undefined,
    ): Promise<OverrideRow[]> {
      if (studentIds.length === 0 || itemIds?.length === 0) return [];
      let query = db
        .selectFrom('mastery_overrides')
        .select(['student_id', 'item_id', 'value', 'reason', 'set_by', 'set_at'])
        .where('tenant_id', '=', tenantId)
        .where('course_id', '=', courseId)
        .where('student_id', 'in', [...studentIds]);
      if (itemIds !== undefined) query = query.where('item_id', 'in', [...itemIds]);
      const rows = await query.execute();
      return rows.map((row) => ({
        studentId: row.student_id,
        itemId: row.item_id,
        value: row.value,
        reason: row.reason,
        setBy: row.set_by,
        setAt: row.set_at,
      }));
    },

    /** The given standards and all their ancestors (walks `parent_item_id` up, in the district). */
    async ancestry(tenantId: string, itemIds: readonly string[]): Promise<AncestryRow[]> {
      if (itemIds.length === 0) return [];
      const ids = sql.join(itemIds.map((id) => sql`${id}::uuid`));
      const result = await sql<{ id: string; parent_item_id: string | null }>`
        WITH RECURSIVE up AS (
          SELECT id, parent_item_id FROM standard_items
          WHERE tenant_id = ${tenantId} AND id IN (${ids})
          UNION
          SELECT s.id, s.parent_item_id FROM standard_items s
          JOIN up ON s.id = up.parent_item_id
          WHERE s.tenant_id = ${tenantId}
        )
        SELECT id, parent_item_id FROM up
      `.execute(db);
      return result.rows.map((row) => ({ itemId: row.id, parentId: row.parent_item_id }));
    },

    /** Stored results of the children of `parentIds` for the given students (for roll-ups). */
    async childResults(
      tenantId: string,
      courseId: string,
      studentIds: readonly string[],
      parentIds: readonly string[],
    ): Promise<ChildResultRow[]> {
      if (studentIds.length === 0 || parentIds.length === 0) return [];
      const rows = await db
        .selectFrom('mastery_results as r')
        .innerJoin('standard_items as s', 's.id', 'r.item_id')
        .select([
          'r.student_id',
          'r.item_id',
          's.parent_item_id',
          'r.status',
          'r.value',
          'r.level_id',
          'r.overridden',
        ])
        .where('r.tenant_id', '=', tenantId)
        .where('r.course_id', '=', courseId)
        .where('s.tenant_id', '=', tenantId)
        .where('r.student_id', 'in', [...studentIds])
        .where('s.parent_item_id', 'in', [...parentIds])
        .execute();
      return rows.map((row) => ({
        studentId: row.student_id,
        itemId: row.item_id,
        parentId: row.parent_item_id as string,
        status: row.status,
        value: row.value,
        levelId: row.level_id,
        overridden: row.overridden,
      }));
    },

    /**
     * Inserts or replaces results. All rows travel as ONE JSON parameter unpacked by
     * `jsonb_to_recordset` (binding 13 parameters per row costs more than the rows themselves),
     * in chunks of 2,000 rows.
     */
    async write(
      tenantId: string,
      courseId: string,
      results: readonly ResultWrite[],
    ): Promise<void> {
      const at = now();
      for (let start = 0; start < results.length; start += WRITE_CHUNK) {
        const chunk = results.slice(start, start + WRITE_CHUNK);
        const rows = JSON.stringify(
          chunk.map((r) => ({
            s: r.studentId,
            i: r.itemId,
            st: r.status,
            v: r.value,
            l: r.levelId,
            m: r.mastered,
            c: r.computedValue,
            o: r.overridden,
            n: r.evidenceCount,
            e: r.explanation,
          })),
        );
        await sql`
          INSERT INTO mastery_results
            (tenant_id, course_id, student_id, item_id, status, value, level_id, mastered,
             computed_value, overridden, evidence_count, explanation, computed_at)
          SELECT ${tenantId}::uuid, ${courseId}::uuid, r.s, r.i, r.st, r.v, r.l, r.m, r.c, r.o, r.n, r.e,
                 ${at}::timestamptz
          FROM jsonb_to_recordset(${rows}::jsonb) AS r(
            s uuid, i uuid, st text, v double precision, l text, m boolean,
            c double precision, o boolean, n integer, e jsonb)
          ON CONFLICT (course_id, student_id, item_id) DO UPDATE SET
            status = excluded.status, value = excluded.value, level_id = excluded.level_id,
            mastered = excluded.mastered, computed_value = excluded.computed_value,
            overridden = excluded.overridden, evidence_count = excluded.evidence_count,
            explanation = excluded.explanation, computed_at = excluded.computed_at
          WHERE mastery_results.tenant_id = excluded.tenant_id
        `.execute(db);
      }
    },

    /** Drops the students' results in a course (a full recomputation writes them afresh). */
    async deleteFor(tenantId: string, courseId: string, studentIds: readonly string[]) {
      if (studentIds.length === 0) return;
      await db
        .deleteFrom('mastery_results')
        .where('tenant_id', '=', tenantId)
        .where('course_id', '=', courseId)
        .where('student_id', 'in', [...studentIds])
        .execute();
    },

    /** Everyone with evidence, an override or a result in the course, sorted (batching order). */
    async studentsToRecompute(tenantId: string, courseId: string): Promise<string[]> {
      const result = await sql<{ student_id: string }>`
        SELECT student_id FROM evidence WHERE tenant_id = ${tenantId} AND course_id = ${courseId}
        UNION
        SELECT student_id FROM mastery_overrides WHERE tenant_id = ${tenantId} AND course_id = ${courseId}
        UNION
        SELECT student_id FROM mastery_results WHERE tenant_id = ${tenantId} AND course_id = ${courseId}
        ORDER BY student_id
      `.execute(db);
      return result.rows.map((row) => row.student_id);
    },

    /** Standards with evidence or overrides for these students in the course. */
    async itemsFor(
      tenantId: string,
      courseId: string,
      studentIds: readonly string[],
    ): Promise<string[]> {
      if (studentIds.length === 0) return [];
      const students = sql.join(studentIds.map((id) => sql`${id}::uuid`));
      const result = await sql<{ item_id: string }>`
        SELECT item_id FROM evidence
        WHERE tenant_id = ${tenantId} AND course_id = ${courseId} AND student_id IN (${students})
          AND deleted_at IS NULL
        UNION
        SELECT item_id FROM mastery_overrides
        WHERE tenant_id = ${tenantId} AND course_id = ${courseId} AND student_id IN (${students})
      `.execute(db);
      return result.rows.map((row) => row.item_id);
    },

    async findResult(tenantId: string, courseId: string, studentId: string, itemId: string) {
      return db
        .selectFrom('mastery_results')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('course_id', '=', courseId)
        .where('student_id', '=', studentId)
        .where('item_id', '=', itemId)
        .executeTakeFirst();
    },

    async setOverride(input: {
      tenantId: string;
      courseId: string;
      studentId: string;
      itemId: string;
      value: number;
      reason: string;
      setBy: string;
    }): Promise<void> {
      await db
        .insertInto('mastery_overrides')
        .values({
          tenant_id: input.tenantId,
          course_id: input.courseId,
          student_id: input.studentId,
          item_id: input.itemId,
          value: input.value,
          reason: input.reason,
          set_by: input.setBy,
          set_at: now(),
        })
        .onConflict((oc) =>
          oc.columns(['course_id', 'student_id', 'item_id']).doUpdateSet((eb) => ({
            value: eb.ref('excluded.value'),
            reason: eb.ref('excluded.reason'),
            set_by: eb.ref('excluded.set_by'),
            set_at: eb.ref('excluded.set_at'),
          })),
        )
        .execute();
    },

    async clearOverride(
      tenantId: string,
      courseId: string,
      studentId: string,
      itemId: string,
    ): Promise<boolean> {
      const result = await db
        .deleteFrom('mastery_overrides')
        .where('tenant_id', '=', tenantId)
        .where('course_id', '=', courseId)
        .where('student_id', '=', studentId)
        .where('item_id', '=', itemId)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

export type MasteryResultsRepository = ReturnType<typeof createMasteryResultsRepository>;
