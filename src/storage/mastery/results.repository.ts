import { sql, type Kysely, type Transaction } from 'kysely';
import type { Evidence, OrderBy } from '../../mastery/types.ts';
import type { Database } from '../schema.ts';
import type { StoredMasteryStatus } from './schema.ts';

/**
 * All SQL of computed mastery: what a recomputation reads (evidence, overrides, the standards'
 * ancestry, children's results) and what it writes (`mastery_results`), plus overrides.
 * Every query filters by `tenant_id`.
 *
 * `mastery_results` holds each cell's numbers only: `value`/`level_id`/`mastered` are what counts
 * (the override when there is one); `computed_value` is always what the calculation said;
 * `evidence_count` is the number of evidence records the method used (children used, for a
 * roll-up). The working behind a number is not stored: it is worked out again from the same
 * inputs when a page shows it (`src/policy/cell.ts`, ADR 0004).
 */

type Db = Kysely<Database> | Transaction<Database>;

/**
 * One cell's current evidence as the calculation reads it, in the calculation's order (oldest
 * first by the policy's ordering date, then date recorded, then id). Only what the methods read
 * is loaded: score and excused. Ids and dates are not: each evidence carries its place as a
 * fixed-width id that sorts the same way, and one shared date, so the calculation keeps the
 * order it arrived in.
 */
export interface EvidenceCell {
  readonly studentId: string;
  readonly itemId: string;
  readonly evidence: Evidence[];
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
}

/** What one recomputation reads, all in ONE statement (see `loadForRecompute`). */
export interface RecomputeInput {
  /** The standards to visit (touched ones and every ancestor) with their parents. */
  readonly items: readonly AncestryRow[];
  /** The touched standards: the given ones, or (full) those with evidence or overrides. */
  readonly touched: readonly string[];
  /** Current evidence per cell, each cell's oldest first. */
  readonly evidence: readonly EvidenceCell[];
  readonly overrides: readonly OverrideRow[];
  /** Stored results of the ancestors' children (incremental only; a full run computes them). */
  readonly children: readonly ChildResultRow[];
}

/**
 * A timestamp as epoch milliseconds, truncated as a JavaScript Date truncates microseconds (so the
 * order here is the order the views see): truncated exactly, then an exact whole number.
 */
const ms = (column: string) =>
  sql.raw(`round(date_part('epoch', date_trunc('milliseconds', ${column})) * 1000)::bigint`);

/**
 * The evidence columns each ordering reads, first present wins, then recorded_at: the same dates
 * in the same order as the calculation's `ORDER_DATES` (`src/mastery/calculate.ts`), so the
 * recomputation and "show your work" agree (ADR 0004).
 */
const ORDER_COLUMNS: Record<OrderBy, readonly string[]> = {
  submittedOrLastGraded: ['submitted_at', 'last_graded_at'],
  graded: ['graded_at'],
  due: ['due_at'],
  assessed: ['assessed_at'],
  recorded: [],
};

/** Fixed-width ids that sort as numbers do: a cell's evidence in the order it arrived. */
const PLACE_IDS = Array.from({ length: 64 }, (_, i) => String(i).padStart(8, '0'));
const placeId = (i: number): string => PLACE_IDS[i] ?? String(i).padStart(8, '0');

/**
 * The one date every evidence read for a recomputation carries: the evidence arrives in the
 * calculation's order, and no method reads dates beyond ordering (`src/mastery/methods.ts` sees
 * scores and weights only), so equal dates leave the order to the place ids.
 */
const ARRIVAL = new Date(0);

/**
 * Decodes the evidence text of `loadForRecompute`: cells split by ';', then by ',': student,
 * standard, then one field per evidence in order: the score, "x" before it when excused, empty
 * when unscored.
 */
function decodeEvidence(text: string | null | undefined): EvidenceCell[] {
  if (text === null || text === undefined || text === '') return [];
  const records = text.split(';');
  const out = new Array<EvidenceCell>(records.length);
  for (let i = 0; i < records.length; i += 1) {
    const f = (records[i] as string).split(',');
    const evidence = new Array<Evidence>(f.length - 2);
    for (let j = 2; j < f.length; j += 1) {
      const field = f[j] as string;
      const excused = field.charCodeAt(0) === 120; // "x"
      const score = excused ? field.slice(1) : field;
      evidence[j - 2] = {
        id: placeId(j - 2),
        score: score === '' ? null : Number(score),
        recordedAt: ARRIVAL,
        excused,
      };
    }
    out[i] = { studentId: f[0] as string, itemId: f[1] as string, evidence };
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

/** pg parses json columns; PGlite may hand back text for a json expression. */
function jsonArray<T>(value: unknown): T[] {
  if (value === null || value === undefined) return [];
  return (typeof value === 'string' ? JSON.parse(value) : value) as T[];
}

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
async function loadForRecompute(
  db: Db,
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
    };
  }
  const students = sql`${[...studentIds]}::uuid[]`;
  const full = itemIds === undefined;
  // Each cell's evidence in the calculation's order (the ordering date, falling back to the
  // date recorded; then the date recorded; then id; at the millisecond, as a JavaScript Date
  // holds them), as the scores alone: ",3" per score, ",x3" when excused, "," when unscored.
  const orderDates = [...ORDER_COLUMNS[orderBy].map((column) => `e.${column}`), 'e.recorded_at'];
  const ordering = sql.raw(
    orderDates.length === 1
      ? `date_trunc('milliseconds', e.recorded_at)`
      : `date_trunc('milliseconds', coalesce(${orderDates.join(', ')}))`,
  );
  const cells = sql`
      SELECT e.student_id, e.item_id,
             string_agg(CASE WHEN e.excused THEN ',x' ELSE ',' END || coalesce(e.score::text, ''), ''
                        ORDER BY ${ordering}, date_trunc('milliseconds', e.recorded_at), e.id)
               AS scores
      FROM evidence e
      WHERE e.tenant_id = ${tenantId} AND e.course_id = ${courseId}
        AND e.student_id = ANY(${students}) AND e.deleted_at IS NULL
        ${full ? sql`` : sql`AND e.item_id IN (SELECT id FROM up)`}
      GROUP BY e.student_id, e.item_id`;
  // A full run reads the evidence once: the standards to visit come from its cells.
  const seed = full
    ? sql`
      SELECT item_id AS id FROM cells
      UNION
      SELECT item_id FROM mastery_overrides
      WHERE tenant_id = ${tenantId} AND course_id = ${courseId} AND student_id = ANY(${students})`
    : sql`SELECT unnest(${[...itemIds]}::uuid[]) AS id`;
  const up = sql`
      SELECT s.id, s.parent_item_id FROM standard_items s
      WHERE s.tenant_id = ${tenantId} AND s.id IN (SELECT id FROM seed)
      UNION
      SELECT s.id, s.parent_item_id FROM standard_items s
      JOIN up ON s.id = up.parent_item_id
      WHERE s.tenant_id = ${tenantId}`;
  const itemFilter = (column: string) =>
    full ? sql`` : sql`AND ${sql.ref(column)} IN (SELECT id FROM up)`;
  const result = await sql<{
    items: unknown;
    touched: unknown;
    evidence: string | null;
    overrides: unknown;
    children: unknown;
  }>`/* prepared */
    WITH RECURSIVE
    ${
      full
        ? sql`cells AS MATERIALIZED (${cells}), seed AS (${seed}), up AS (${up})`
        : sql`seed AS (${seed}), up AS (${up}), cells AS (${cells})`
    }
    SELECT
      (SELECT json_agg(json_build_array(id, parent_item_id)) FROM up) AS items,
      (SELECT json_agg(id) FROM seed WHERE id IN (SELECT id FROM up)) AS touched,
      (SELECT string_agg(student_id || ',' || item_id || scores, ';') FROM cells) AS evidence,
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
      } AS children
  `.execute(db);
  const row = result.rows[0];
  return {
    items: jsonArray<[string, string | null]>(row?.items).map(([itemId, parentId]) => ({
      itemId,
      parentId,
    })),
    touched: jsonArray<string>(row?.touched),
    evidence: decodeEvidence(row?.evidence),
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
  };
}

/**
 * Inserts or updates results; a stored row equal in every column is left alone, so
 * recomputing unchanged cells writes nothing (`computed_at` is then the time the result last
 * changed). All rows travel as ONE JSON parameter unpacked by `json_to_recordset` (binding 11
 * parameters per row costs more than the rows themselves), in one statement: callers bound
 * the rows (a full recomputation runs in batches of students).
 *
 * `replaceStudents` (a full recomputation): afterwards, every other stored result of those
 * students in the course is deleted, so the given rows become their whole set.
 */
async function writeResults(
  db: Db,
  now: () => Date,
  tenantId: string,
  courseId: string,
  results: readonly ResultWrite[],
  options: {
    /** A full recomputation of these students: their other results are deleted. */
    readonly replaceStudents?: readonly string[] | undefined;
  } = {},
): Promise<number> {
  const at = now();
  const { replaceStudents } = options;
  const replacing = replaceStudents !== undefined && replaceStudents.length > 0;
  if (results.length === 0 && !replacing) return 0;
  const rows = JSON.stringify(
    results.map((r) => ({
      s: r.studentId,
      i: r.itemId,
      st: r.status,
      v: r.value,
      l: r.levelId,
      m: r.mastered,
      c: r.computedValue,
      o: r.overridden,
      n: r.evidenceCount,
    })),
  );
  const upsert = sql`
      INSERT INTO mastery_results AS t
        (tenant_id, course_id, student_id, item_id, status, value, level_id, mastered,
         computed_value, overridden, evidence_count, computed_at)
      SELECT ${tenantId}::uuid, ${courseId}::uuid, r.s, r.i, r.st, r.v, r.l, r.m, r.c, r.o, r.n,
             ${at}::timestamptz
      FROM rows r
      ON CONFLICT (course_id, student_id, item_id) DO UPDATE SET
        status = excluded.status, value = excluded.value, level_id = excluded.level_id,
        mastered = excluded.mastered, computed_value = excluded.computed_value,
        overridden = excluded.overridden, evidence_count = excluded.evidence_count,
        computed_at = excluded.computed_at
      WHERE t.tenant_id = excluded.tenant_id
        AND (t.status, t.value, t.level_id, t.mastered, t.computed_value, t.overridden,
             t.evidence_count)
          IS DISTINCT FROM
            (excluded.status, excluded.value, excluded.level_id, excluded.mastered,
             excluded.computed_value, excluded.overridden, excluded.evidence_count)`;
  // Upsert and (full recomputation) delete the students' other results: one statement, so
  // one round trip. The two touch different rows (the delete spares every row given).
  await sql`
    WITH rows AS (
      SELECT * FROM json_to_recordset(${rows}::json) AS r(
        s uuid, i uuid, st text, v double precision, l text, m boolean,
        c double precision, o boolean, n integer)
    )
    ${
      replacing
        ? sql`, upserted AS (${upsert})
      DELETE FROM mastery_results d
      WHERE d.tenant_id = ${tenantId} AND d.course_id = ${courseId}
        AND d.student_id = ANY(${[...replaceStudents]}::uuid[])
        AND (d.student_id, d.item_id) NOT IN (SELECT r.s, r.i FROM rows r)`
        : upsert
    }
  `.execute(db);
  return results.length;
}

/** Everyone with evidence, an override or a result in the course, sorted (batching order). */
async function studentsToRecompute(db: Db, tenantId: string, courseId: string): Promise<string[]> {
  const result = await sql<{ student_id: string }>`
    SELECT student_id FROM evidence WHERE tenant_id = ${tenantId} AND course_id = ${courseId}
    UNION
    SELECT student_id FROM mastery_overrides WHERE tenant_id = ${tenantId} AND course_id = ${courseId}
    UNION
    SELECT student_id FROM mastery_results WHERE tenant_id = ${tenantId} AND course_id = ${courseId}
    ORDER BY student_id
  `.execute(db);
  return result.rows.map((row) => row.student_id);
}

async function findResult(
  db: Db,
  tenantId: string,
  courseId: string,
  studentId: string,
  itemId: string,
) {
  return db
    .selectFrom('mastery_results')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('course_id', '=', courseId)
    .where('student_id', '=', studentId)
    .where('item_id', '=', itemId)
    .executeTakeFirst();
}

async function setOverride(
  db: Db,
  now: () => Date,
  input: {
    tenantId: string;
    courseId: string;
    studentId: string;
    itemId: string;
    value: number;
    reason: string;
    setBy: string;
  },
): Promise<void> {
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
}

async function clearOverride(
  db: Db,
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
}

export function createMasteryResultsRepository(db: Db, now: () => Date) {
  // Each method is one of the functions above, given this database and clock.
  return {
    loadForRecompute: loadForRecompute.bind(undefined, db),
    write: writeResults.bind(undefined, db, now),
    studentsToRecompute: studentsToRecompute.bind(undefined, db),
    findResult: findResult.bind(undefined, db),
    setOverride: setOverride.bind(undefined, db, now),
    clearOverride: clearOverride.bind(undefined, db),
  };
}

export type MasteryResultsRepository = ReturnType<typeof createMasteryResultsRepository>;
