import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database } from '../schema.ts';
import type { EvidenceSource, EvidenceTable } from './schema.ts';

/**
 * All SQL of evidence records and their history. Every query filters by `tenant_id`.
 *
 * An evidence row is the CURRENT state of one (assignment, student, standard) cell, or a
 * free-standing record without an assignment. Each edit first copies the prior row into
 * `evidence_history` (as JSON, dates as ISO strings, with its version) and then bumps `version`;
 * withdrawing sets `deleted_at` the same way, so nothing a teacher entered is ever lost.
 */

type Db = Kysely<Database> | Transaction<Database>;

export type EvidenceRow = Selectable<EvidenceTable>;

/** The fields an edit may change (what "unchanged" compares). */
export interface EvidenceFields {
  readonly score: number | null;
  readonly points: number | null;
  readonly pointsPossible: number | null;
  readonly assessedAt: Date | null;
  readonly dueAt: Date | null;
  /** The original score's time (kept on a regrade; `last_graded_at` follows regrades). */
  readonly gradedAt: Date | null;
  /** The student's submission time; `undefined` keeps the stored one. */
  readonly submittedAt?: Date | null | undefined;
  readonly excused: boolean;
  readonly comment: string | null;
  /** Withdrawn evidence (a cleared cell) stays with its history but no longer counts. */
  readonly deleted: boolean;
}

export interface NewEvidence extends EvidenceFields {
  readonly tenantId: string;
  readonly courseId: string;
  readonly studentId: string;
  readonly itemId: string;
  readonly assignmentId: string | null;
  readonly source: EvidenceSource;
  readonly recordedBy: string;
}

const sameTime = (a: Date | null, b: Date | null): boolean =>
  a === null || b === null ? a === b : a.getTime() === b.getTime();

/** True when writing `next` over `row` would change nothing a person could see. */
export function evidenceUnchanged(row: EvidenceRow, next: EvidenceFields): boolean {
  return (
    row.score === next.score &&
    row.points === next.points &&
    row.points_possible === next.pointsPossible &&
    sameTime(row.assessed_at, next.assessedAt) &&
    sameTime(row.due_at, next.dueAt) &&
    sameTime(row.graded_at, next.gradedAt) &&
    (next.submittedAt === undefined || sameTime(row.submitted_at, next.submittedAt)) &&
    row.excused === next.excused &&
    row.comment === next.comment &&
    (row.deleted_at !== null) === next.deleted
  );
}

/** The JSON kept in `evidence_history.snapshot` (and shown on the history page). */
export function snapshotOf(row: EvidenceRow) {
  return {
    score: row.score,
    points: row.points,
    pointsPossible: row.points_possible,
    assessedAt: row.assessed_at?.toISOString() ?? null,
    dueAt: row.due_at?.toISOString() ?? null,
    gradedAt: row.graded_at?.toISOString() ?? null,
    lastGradedAt: row.last_graded_at?.toISOString() ?? null,
    submittedAt: row.submitted_at?.toISOString() ?? null,
    excused: row.excused,
    comment: row.comment,
    source: row.source,
    recordedBy: row.recorded_by,
    recordedAt: row.recorded_at.toISOString(),
    deletedAt: row.deleted_at?.toISOString() ?? null,
  };
}

export type EvidenceSnapshot = ReturnType<typeof snapshotOf>;

/**
 * The latest grading time after an edit (Canvas orders by it when a result has no submission
 * time): a regrade, i.e. a new score, moves it to the edit's graded date when the edit names a new
 * one, else to now. An unchanged score keeps it; so does clearing the score (it was last graded
 * then).
 */
function lastGradedAfter(prior: EvidenceRow, next: EvidenceFields, at: Date): Date | null {
  if (next.score === null && next.points === null) return prior.last_graded_at;
  if (prior.score === next.score && prior.points === next.points) {
    return prior.last_graded_at ?? next.gradedAt ?? at;
  }
  if (next.gradedAt !== null && !sameTime(next.gradedAt, prior.graded_at)) return next.gradedAt;
  return at;
}

/** Finding, inserting and updating evidence cells (history kept). */
function evidenceWrites(db: Db, now: () => Date) {
  return {
    /**
     * Current rows of one assignment for the given students (all aligned standards); `lock`
     * (inside a transaction) holds them until it commits, so concurrent saves serialise.
     */
    async findAssignmentCells(
      tenantId: string,
      assignmentId: string,
      studentIds: readonly string[],
      lock = true,
    ): Promise<EvidenceRow[]> {
      if (studentIds.length === 0) return [];
      const query = db
        .selectFrom('evidence')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('assignment_id', '=', assignmentId)
        .where('student_id', 'in', [...studentIds])
        .orderBy('id');
      return (lock ? query.forUpdate() : query).execute();
    },

    /**
     * Inserts a new record. For an assignment cell another request may have inserted it first
     * (two autosaves racing): then nothing is inserted and `undefined` comes back.
     */
    async insert(input: NewEvidence): Promise<EvidenceRow | undefined> {
      const at = now();
      return db
        .insertInto('evidence')
        .values({
          tenant_id: input.tenantId,
          course_id: input.courseId,
          student_id: input.studentId,
          item_id: input.itemId,
          assignment_id: input.assignmentId,
          score: input.score,
          points: input.points,
          points_possible: input.pointsPossible,
          assessed_at: input.assessedAt,
          due_at: input.dueAt,
          graded_at: input.gradedAt,
          last_graded_at:
            input.score === null && input.points === null ? null : (input.gradedAt ?? at),
          submitted_at: input.submittedAt ?? null,
          excused: input.excused,
          comment: input.comment,
          source: input.source,
          recorded_by: input.recordedBy,
          recorded_at: at,
          deleted_at: input.deleted ? at : null,
        })
        .onConflict((oc) =>
          oc
            .columns(['assignment_id', 'student_id', 'item_id'])
            .where('assignment_id', 'is not', null)
            .doNothing(),
        )
        .returningAll()
        .executeTakeFirst();
    },

    /**
     * Keeps `prior` in the history and writes `next` with the version bumped, in ONE statement
     * (the history insert rides in a data-modifying WITH).
     */
    async update(
      prior: EvidenceRow,
      next: EvidenceFields,
      source: EvidenceSource,
      actor: string,
    ): Promise<EvidenceRow> {
      const at = now();
      return db
        .with('kept', (qb) =>
          qb
            .insertInto('evidence_history')
            .values({
              tenant_id: prior.tenant_id,
              evidence_id: prior.id,
              version: prior.version,
              snapshot: JSON.stringify(snapshotOf(prior)),
              changed_by: actor,
              changed_at: at,
            })
            .returning('id'),
        )
        .updateTable('evidence')
        .set({
          score: next.score,
          points: next.points,
          points_possible: next.pointsPossible,
          assessed_at: next.assessedAt,
          due_at: next.dueAt,
          graded_at: next.gradedAt,
          last_graded_at: lastGradedAfter(prior, next, at),
          submitted_at: next.submittedAt === undefined ? prior.submitted_at : next.submittedAt,
          excused: next.excused,
          comment: next.comment,
          source,
          recorded_by: actor,
          recorded_at: at,
          version: prior.version + 1,
          deleted_at: next.deleted ? (prior.deleted_at ?? at) : null,
        })
        .where('tenant_id', '=', prior.tenant_id)
        .where('id', '=', prior.id)
        .where('version', '=', prior.version)
        .returningAll('evidence')
        .executeTakeFirstOrThrow();
    },
  };
}

/** Reading a student's evidence and a record's history. */
function evidenceReads(db: Db) {
  return {
    /** One student's current evidence in a course, newest first, with assignment titles. */
    async listForStudent(tenantId: string, courseId: string, studentId: string) {
      return db
        .selectFrom('evidence as e')
        .leftJoin('course_assignments as a', (join) =>
          join.onRef('a.id', '=', 'e.assignment_id').on('a.tenant_id', '=', tenantId),
        )
        .selectAll('e')
        .select('a.title as assignment_title')
        .where('e.tenant_id', '=', tenantId)
        .where('e.course_id', '=', courseId)
        .where('e.student_id', '=', studentId)
        .where('e.deleted_at', 'is', null)
        .orderBy('e.assessed_at', 'desc')
        .orderBy('e.recorded_at', 'desc')
        .execute();
    },

    async findById(tenantId: string, evidenceId: string): Promise<EvidenceRow | undefined> {
      return db
        .selectFrom('evidence')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', evidenceId)
        .executeTakeFirst();
    },

    /** Prior versions of one evidence record, oldest first. */
    async history(tenantId: string, evidenceId: string) {
      const rows = await db
        .selectFrom('evidence_history')
        .select(['version', 'snapshot', 'changed_by', 'changed_at'])
        .where('tenant_id', '=', tenantId)
        .where('evidence_id', '=', evidenceId)
        .orderBy('version')
        .execute();
      return rows.map((row) => ({
        version: row.version,
        snapshot: row.snapshot as EvidenceSnapshot,
        changedBy: row.changed_by,
        changedAt: row.changed_at,
      }));
    },
  };
}

export function createEvidenceRepository(db: Db, now: () => Date) {
  return {
    ...evidenceWrites(db, now),
    ...evidenceReads(db),
  };
}

export type EvidenceRepository = ReturnType<typeof createEvidenceRepository>;
