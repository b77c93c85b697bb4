import { hash } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { OrderBy } from '../../mastery/types.ts';
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
 *     then holds the override and the computed value/level). Stored lean (recompute.ts,
 *     `storedCalculated`): levels as { id, label, value, mastered } (no colour: the scale has
 *     it), evidence in `used`/`ignored` WITHOUT `label` (the views name it by id from the
 *     evidence list: the assignment's current title), and no `explanation.level` (the same as
 *     `result.level`). Everything else (method, parameters, ordering, intermediates, raw and
 *     rounded value, steps, student summary) is kept as calculated.
 * { "kind": "rollup", "result": RollUpResult, "override"?: StoredOverrideNote }
 *     a parent standard (domain/cluster) WITHOUT its own evidence, rolled up from its children's
 *     results in the same course; `override` is present when a teacher overrode the roll-up
 *     (the row's value/level_id are then the override's, computed_value the roll-up's). Levels
 *     are stored lean as above.
 * ```
 *
 * Either also carries `"h"`: a fingerprint of the whole row as written (scalars and explanation),
 * which a full recomputation compares to skip rows that did not change. Readers ignore it.
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

/**
 * One piece of evidence as the calculation reads it. Only the date the policy orders by is read
 * (`loadForRecompute`'s `orderBy`); the other two of assessed/due/graded are null.
 */
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

/** What one recomputation reads, all in ONE statement (see `loadForRecompute`). */
export interface RecomputeInput {
  /** The standards to visit (touched ones and every ancestor) with their parents. */
  readonly items: readonly AncestryRow[];
  /** The touched standards: the given ones, or (full) those with evidence or overrides. */
  readonly touched: readonly string[];
  readonly evidence: readonly EvidenceForCalculation[];
  readonly overrides: readonly OverrideRow[];
  /** Stored results of the ancestors' children (incremental only; a full run computes them). */
  readonly children: readonly ChildResultRow[];
  /** Full only: "student|item" → the stored row's fingerprint (`write` skips equal rows). */
  readonly storedHashes: ReadonlyMap<string, string>;
}

/** Epoch milliseconds of a timestamptz (exact: every stored time comes from a JS clock). */
const ms = (column: string) => sql.raw(`round(date_part('epoch', ${column}) * 1000)`);

/** The evidence column each ordering reads (`recorded` needs none beyond recorded_at). */
const ORDER_COLUMN: Record<OrderBy, string | undefined> = {
  assessed: 'assessed_at',
  due: 'due_at',
  graded: 'graded_at',
  recorded: undefined,
};

/**
 * Decodes the evidence text of `loadForRecompute`: records split by ';', fields by ',' (uuids,
 * numbers and 0/1 never hold either), an empty field for NULL.
 */
function decodeEvidence(
  text: string | null | undefined,
  orderBy: OrderBy,
): EvidenceForCalculation[] {
  if (text === null || text === undefined || text === '') return [];
  const records = text.split(';');
  const out = new Array<EvidenceForCalculation>(records.length);
  const dates = new Map<string, Date>();
  const dateOfText = (field: string): Date | null => {
    if (field === '') return null;
    let date = dates.get(field);
    if (date === undefined) {
      date = new Date(Number(field));
      dates.set(field, date);
    }
    return date;
  };
  for (let i = 0; i < records.length; i += 1) {
    const f = (records[i] as string).split(',');
    const ordered = orderBy === 'recorded' ? null : dateOfText(f[4] as string);
    out[i] = {
      studentId: f[0] as string,
      itemId: f[1] as string,
      id: f[2] as string,
      score: f[3] === '' ? null : Number(f[3]),
      assessedAt: orderBy === 'assessed' ? ordered : null,
      dueAt: orderBy === 'due' ? ordered : null,
      gradedAt: orderBy === 'graded' ? ordered : null,
      recordedAt: dateOfText(f[5] as string) as Date,
      excused: f[6] === '1',
    };
  }
  return out;
}

type OverrideTuple = [string, string, number, string, string, number];
type ChildTuple = [
  string,
  string,
  string,
  StoredMasteryStatus,
  number | null,
  string | null,
  boolean,
];

/** Fingerprint of a result row's JSON: 128 bits, base64 (22 characters). */
function fingerprint(text: string): string {
  return hash('md5', text, 'base64').slice(0, 22);
}

/** "student,item,hash;..." → "student|item" → hash. */
function decodeHashes(text: string | null | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (text === null || text === undefined || text === '') return out;
  for (const record of text.split(';')) {
    const [studentId, itemId, h] = record.split(',');
    if (h !== undefined) out.set(`${studentId}|${itemId}`, h);
  }
  return out;
}

/** pg parses json columns; PGlite may hand back text for a json expression. */
function jsonArray<T>(value: unknown): T[] {
  if (value === null || value === undefined) return [];
  return (typeof value === 'string' ? JSON.parse(value) : value) as T[];
}

export function createMasteryResultsRepository(db: Db, now: () => Date) {
  return {
    /**
     * Everything a recomputation of some students' cells reads, in ONE round trip: the standards
     * to visit (the touched ones with all their ancestors, walking `parent_item_id` up inside the
     * district), the students' current (not withdrawn) evidence and overrides on them, and the
     * stored results of the ancestors' children (incremental; siblings of what changed).
     *
     * With `itemIds` undefined (full), the touched standards are every standard the students
     * have current evidence or an override on, and all their evidence and overrides are read.
     * Only the evidence date `orderBy` names is read (the calculation needs no other). Evidence
     * travels as one delimited text (dates as epoch milliseconds), the rest as JSON arrays of
     * tuples: far cheaper to build and decode than a driver row object (or a JSON array) per
     * evidence record.
     */
    async loadForRecompute(
      tenantId: string,
      courseId: string,
      studentIds: readonly string[],
      itemIds: readonly string[] | undefined,
      orderBy: OrderBy,
    ): Promise<RecomputeInput> {
      if (studentIds.length === 0 || itemIds?.length === 0) {
        return {
          items: [],
          touched: [],
          evidence: [],
          overrides: [],
          children: [],
          storedHashes: new Map(),
        };
      }
      const students = sql`${[...studentIds]}::uuid[]`;
      const full = itemIds === undefined;
      const seed = full
        ? sql`
          SELECT item_id AS id FROM evidence
          WHERE tenant_id = ${tenantId} AND course_id = ${courseId} AND student_id = ANY(${students})
            AND deleted_at IS NULL
          UNION
          SELECT item_id FROM mastery_overrides
          WHERE tenant_id = ${tenantId} AND course_id = ${courseId} AND student_id = ANY(${students})`
        : sql`SELECT unnest(${[...itemIds]}::uuid[]) AS id`;
      const itemFilter = (column: string) =>
        full ? sql`` : sql`AND ${sql.ref(column)} IN (SELECT id FROM up)`;
      const result = await sql<{
        items: unknown;
        touched: unknown;
        evidence: string | null;
        overrides: unknown;
        children: unknown;
        hashes: string | null;
      }>`
        WITH RECURSIVE seed AS (${seed}),
        up AS (
          SELECT s.id, s.parent_item_id FROM standard_items s
          WHERE s.tenant_id = ${tenantId} AND s.id IN (SELECT id FROM seed)
          UNION
          SELECT s.id, s.parent_item_id FROM standard_items s
          JOIN up ON s.id = up.parent_item_id
          WHERE s.tenant_id = ${tenantId}
        )
        SELECT
          (SELECT json_agg(json_build_array(id, parent_item_id)) FROM up) AS items,
          (SELECT json_agg(id) FROM seed WHERE id IN (SELECT id FROM up)) AS touched,
          (SELECT string_agg(concat_ws(',', e.student_id, e.item_id, e.id,
              coalesce(e.score::text, ''), coalesce(${ms(`e.${ORDER_COLUMN[orderBy] ?? 'recorded_at'}`)}::text, ''),
              ${ms('e.recorded_at')}::text, e.excused::int), ';')
            FROM evidence e
            WHERE e.tenant_id = ${tenantId} AND e.course_id = ${courseId}
              AND e.student_id = ANY(${students}) AND e.deleted_at IS NULL
              ${itemFilter('e.item_id')}) AS evidence,
          (SELECT json_agg(json_build_array(
              o.student_id, o.item_id, o.value, o.reason, o.set_by, ${ms('o.set_at')}))
            FROM mastery_overrides o
            WHERE o.tenant_id = ${tenantId} AND o.course_id = ${courseId}
              AND o.student_id = ANY(${students})
              ${itemFilter('o.item_id')}) AS overrides,
          ${
            full
              ? sql`NULL::json`
              : sql`(SELECT json_agg(json_build_array(
              r.student_id, r.item_id, s.parent_item_id, r.status, r.value, r.level_id,
              r.overridden))
            FROM mastery_results r
            JOIN standard_items s ON s.id = r.item_id AND s.tenant_id = ${tenantId}
            WHERE r.tenant_id = ${tenantId} AND r.course_id = ${courseId}
              AND r.student_id = ANY(${students})
              AND s.parent_item_id IN (SELECT parent_item_id FROM up))`
          } AS children,
          ${
            full
              ? sql`(SELECT string_agg(student_id || ',' || item_id || ',' || (explanation->>'h'), ';')
            FROM mastery_results
            WHERE tenant_id = ${tenantId} AND course_id = ${courseId}
              AND student_id = ANY(${students}) AND explanation ? 'h')`
              : sql`NULL::text`
          } AS hashes
      `.execute(db);
      const row = result.rows[0];
      return {
        items: jsonArray<[string, string | null]>(row?.items).map(([itemId, parentId]) => ({
          itemId,
          parentId,
        })),
        touched: jsonArray<string>(row?.touched),
        evidence: decodeEvidence(row?.evidence, orderBy),
        overrides: jsonArray<OverrideTuple>(row?.overrides).map((o) => ({
          studentId: o[0],
          itemId: o[1],
          value: o[2],
          reason: o[3],
          setBy: o[4],
          setAt: new Date(o[5]),
        })),
        children: jsonArray<ChildTuple>(row?.children).map((c) => ({
          studentId: c[0],
          itemId: c[1],
          parentId: c[2],
          status: c[3],
          value: c[4],
          levelId: c[5],
          overridden: c[6],
        })),
        storedHashes: decodeHashes(row?.hashes),
      };
    },

    /**
     * Inserts or updates results; a stored row equal in every column (explanation included) is
     * left alone, so recomputing unchanged cells writes nothing (`computed_at` is then the time
     * the result last changed). All rows travel as ONE JSON parameter unpacked by
     * `json_to_recordset` (binding 13 parameters per row costs more than the rows themselves),
     * in chunks of 2,000 rows.
     *
     * `replaceStudents` (a full recomputation): afterwards, every other stored result of those
     * students in the course is deleted, so the given rows become their whole set.
     */
    async write(
      tenantId: string,
      courseId: string,
      results: readonly ResultWrite[],
      options: {
        /** A full recomputation of these students: their other results are deleted. */
        readonly replaceStudents?: readonly string[] | undefined;
        /** Fingerprints of the stored rows (`loadForRecompute`): equal rows are not sent. */
        readonly storedHashes?: ReadonlyMap<string, string> | undefined;
      } = {},
    ): Promise<number> {
      const at = now();
      const { replaceStudents, storedHashes } = options;
      // Each row's JSON is built once; its fingerprint (scalars + explanation) rides inside the
      // explanation as "h", so the next full recomputation can skip rows that did not change.
      const texts: string[] = [];
      for (const r of results) {
        const scalars = JSON.stringify({
          s: r.studentId,
          i: r.itemId,
          st: r.status,
          v: r.value,
          l: r.levelId,
          m: r.mastered,
          c: r.computedValue,
          o: r.overridden,
          n: r.evidenceCount,
        });
        const explanation = JSON.stringify(r.explanation);
        const h = fingerprint(`${scalars}${explanation}`);
        if (storedHashes?.get(`${r.studentId}|${r.itemId}`) === h) continue;
        texts.push(`${scalars.slice(0, -1)},"e":{"h":"${h}",${explanation.slice(1)}}`);
      }
      for (let start = 0; start < texts.length; start += WRITE_CHUNK) {
        const rows = `[${texts.slice(start, start + WRITE_CHUNK).join(',')}]`;
        await sql`
          INSERT INTO mastery_results AS t
            (tenant_id, course_id, student_id, item_id, status, value, level_id, mastered,
             computed_value, overridden, evidence_count, explanation, computed_at)
          SELECT ${tenantId}::uuid, ${courseId}::uuid, r.s, r.i, r.st, r.v, r.l, r.m, r.c, r.o, r.n, r.e,
                 ${at}::timestamptz
          FROM json_to_recordset(${rows}::json) AS r(
            s uuid, i uuid, st text, v double precision, l text, m boolean,
            c double precision, o boolean, n integer, e jsonb)
          ON CONFLICT (course_id, student_id, item_id) DO UPDATE SET
            status = excluded.status, value = excluded.value, level_id = excluded.level_id,
            mastered = excluded.mastered, computed_value = excluded.computed_value,
            overridden = excluded.overridden, evidence_count = excluded.evidence_count,
            explanation = excluded.explanation, computed_at = excluded.computed_at
          WHERE t.tenant_id = excluded.tenant_id
            AND (t.status, t.value, t.level_id, t.mastered, t.computed_value, t.overridden,
                 t.evidence_count, t.explanation)
              IS DISTINCT FROM
                (excluded.status, excluded.value, excluded.level_id, excluded.mastered,
                 excluded.computed_value, excluded.overridden, excluded.evidence_count,
                 excluded.explanation)
        `.execute(db);
      }
      if (replaceStudents !== undefined && replaceStudents.length > 0) {
        await sql`
          DELETE FROM mastery_results
          WHERE tenant_id = ${tenantId} AND course_id = ${courseId}
            AND student_id = ANY(${[...replaceStudents]}::uuid[])
            AND (student_id, item_id) NOT IN (
              SELECT * FROM unnest(${results.map((r) => r.studentId)}::uuid[],
                                   ${results.map((r) => r.itemId)}::uuid[]))
        `.execute(db);
      }
      return texts.length;
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
