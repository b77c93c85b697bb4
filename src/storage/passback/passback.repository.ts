import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../schema.ts';
import type { ConfirmedStatus, GradebookColumnKind } from './schema.ts';

/**
 * The platform's test user (Canvas Student View carries the LTI system role TestUser in launches
 * and NRPS, and its roles are kept on the enrollment): never posted, never counted. `d` is the
 * desired_grades row. Written out (not a parameter) so the statements stay the same text.
 */
const IS_TEST_USER = sql`EXISTS (
  SELECT 1 FROM enrollments e
  WHERE e.tenant_id = d.tenant_id AND e.course_id = d.course_id AND e.user_id = d.user_id
    AND e.roles && ARRAY['http://purl.imsglobal.org/vocab/lti/system/person#TestUser', 'TestUser']::text[]
)`;

/**
 * All SQL of grade passback. Every query that reads or changes one district's data filters by
 * `tenant_id`; the worker's claim is the one cross-tenant query (it serves every district) and hands
 * each cell back with its tenant.
 */

type Db = Kysely<Database> | Transaction<Database>;

/** Tag written on every line item the tool creates, so a teacher (and the tool) can tell them apart. */
export const PASSBACK_TAG = 'mastery-pathways';

/**
 * The line item `resourceId` of a column. It is derived from the column's kind and key, not its row id,
 * so a copied course (Canvas copies line items with their resourceId) finds the copy instead of
 * creating a duplicate column.
 */
export function columnResourceId(kind: GradebookColumnKind, key: string): string {
  return `mp:${kind}:${key}`;
}

export class PassbackStorageError extends Error {
  override readonly name = 'PassbackStorageError';
  readonly code: 'course_not_in_tenant' | 'column_not_in_tenant';

  constructor(code: PassbackStorageError['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/** The error a write names when the course it was given is not one of the district's. */
export function courseNotInTenant(input: {
  readonly tenantId: string;
  readonly courseId: string;
}): PassbackStorageError {
  return new PassbackStorageError(
    'course_not_in_tenant',
    `course ${input.courseId} is not in tenant ${input.tenantId}`,
  );
}

export interface EnsureColumnInput {
  readonly tenantId: string;
  readonly courseId: string;
  readonly kind: GradebookColumnKind;
  readonly key: string;
  readonly label: string;
  readonly scoreMaximum: number;
  readonly now: Date;
}

/** The tool-side record of a gradebook column (one per course, kind and key); the LMS column follows later. */
export async function ensureGradebookColumn(tx: Db, input: EnsureColumnInput): Promise<string> {
  // INSERT … SELECT from courses: a course of another tenant inserts nothing.
  const row = await sql<{ id: string }>`
    INSERT INTO gradebook_columns
      (tenant_id, course_id, kind, key, label, score_maximum, tag, resource_id, created_at)
    SELECT ${input.tenantId}, c.id, ${input.kind}, ${input.key}, ${input.label}, ${input.scoreMaximum},
           ${PASSBACK_TAG}, ${columnResourceId(input.kind, input.key)}, ${input.now}
    FROM courses c WHERE c.id = ${input.courseId} AND c.tenant_id = ${input.tenantId}
    ON CONFLICT (course_id, kind, key) DO UPDATE SET label = excluded.label
      WHERE gradebook_columns.tenant_id = excluded.tenant_id
    RETURNING id
  `.execute(tx);
  const id = row.rows[0]?.id;
  if (id === undefined) {
    throw courseNotInTenant(input);
  }
  return id;
}

export interface DesiredGradeInput {
  readonly tenantId: string;
  readonly courseId: string;
  readonly columnId: string;
  /** The tool's user id. */
  readonly userId: string;
  /** The LTI `sub` the LMS knows the student by. */
  readonly lmsUserId: string;
  readonly value: number;
  readonly comment?: string | undefined;
  readonly now: Date;
}

/**
 * Records what the gradebook should show, inside the caller's transaction (the evidence write), so a
 * grade and its cause commit together. `version` moves only when the value or comment changed: an
 * unchanged grade is not posted again (Schoology clears the teacher's Missing flag on every re-post).
 */
export async function setDesiredGrade(
  tx: Db,
  input: DesiredGradeInput,
): Promise<{ changed: boolean; version: number }> {
  const comment = input.comment ?? null;
  const result = await sql<{ version: string }>`
    INSERT INTO desired_grades
      (tenant_id, course_id, column_id, user_id, lms_user_id, value, comment, version, updated_at)
    SELECT ${input.tenantId}, g.course_id, g.id, ${input.userId}, ${input.lmsUserId}, ${input.value},
           ${comment}, 1, ${input.now}
    FROM gradebook_columns g
    WHERE g.id = ${input.columnId} AND g.tenant_id = ${input.tenantId} AND g.course_id = ${input.courseId}
    ON CONFLICT (column_id, user_id) DO UPDATE SET
      value = excluded.value,
      comment = excluded.comment,
      lms_user_id = excluded.lms_user_id,
      version = desired_grades.version + 1,
      updated_at = excluded.updated_at
    WHERE desired_grades.tenant_id = excluded.tenant_id
      AND (desired_grades.value IS DISTINCT FROM excluded.value
        OR desired_grades.comment IS DISTINCT FROM excluded.comment)
    RETURNING version
  `.execute(tx);
  const written = result.rows[0];
  if (written !== undefined) return { changed: true, version: Number(written.version) };
  const existing = await tx
    .selectFrom('desired_grades')
    .select('version')
    .where('tenant_id', '=', input.tenantId)
    .where('column_id', '=', input.columnId)
    .where('user_id', '=', input.userId)
    .executeTakeFirst();
  if (existing === undefined) {
    throw new PassbackStorageError(
      'column_not_in_tenant',
      `column ${input.columnId} is not in course ${input.courseId} of tenant ${input.tenantId}`,
    );
  }
  return { changed: false, version: Number(existing.version) };
}

/** A cell handed to one worker until `claimedUntil`: the latest desired value at claim time. */
export interface ClaimedCell {
  readonly tenantId: string;
  readonly courseId: string;
  readonly platformId: string;
  /** The platform's flavour ('canvas', …): its calls are paced by its preset (platform-presets.ts). */
  readonly platformFlavour: string;
  readonly columnId: string;
  readonly userId: string;
  readonly lmsUserId: string;
  readonly value: number;
  readonly comment: string | undefined;
  readonly version: number;
  readonly attempts: number;
  readonly lastTimestamp: Date | undefined;
  /** The value the LMS last confirmed for this cell (undefined: never sent). */
  readonly confirmedValue: number | undefined;
  /** The comment sent with it (a comment goes out again only when its text changed). */
  readonly confirmedComment: string | undefined;
  /**
   * The value an earlier worker claimed and may have posted before it died (its lease ran out with
   * no outcome stored); undefined when the last claim ended normally. The LMS showing this value is
   * the tool's own post, not a teacher's change.
   */
  readonly inFlightValue: number | undefined;
  readonly column: {
    readonly label: string;
    readonly scoreMaximum: number;
    readonly tag: string;
    readonly resourceId: string;
    readonly lmsColumnId: string | undefined;
  };
}

interface ClaimRow {
  tenant_id: string;
  course_id: string;
  platform_id: string;
  platform_flavour: string;
  column_id: string;
  user_id: string;
  lms_user_id: string;
  value: number;
  comment: string | null;
  version: string;
  attempts: number | null;
  last_timestamp: Date | null;
  confirmed_value: number | null;
  confirmed_comment: string | null;
  in_flight_value: number | null;
  label: string;
  score_maximum: number;
  tag: string;
  resource_id: string;
  lms_column_id: string | null;
}

/**
 * Claims up to `limit` due cells in one statement (its own short transaction): desired ahead of
 * confirmed, course not paused, column not deleted in the LMS, not failed for good at this version,
 * retry time reached, no live lease. `SKIP LOCKED` lets several workers claim side by side without
 * waiting for or double-taking each other's rows; the lease (`claimed_until`) hands a crashed
 * worker's cells to another after it runs out.
 */
export async function claimDueCells(
  db: Db,
  input: { workerId: string; now: Date; leaseMs: number; limit: number },
): Promise<ClaimedCell[]> {
  const until = new Date(input.now.getTime() + input.leaseMs);
  const result = await sql<ClaimRow>`
    WITH due AS (
      SELECT d.column_id, d.user_id, c.attempts, c.last_timestamp,
        c.value AS confirmed_value, c.comment AS confirmed_comment,
        CASE WHEN d.claimed_by IS NOT NULL THEN d.claimed_value END AS in_flight_value
      FROM desired_grades d
      JOIN gradebook_columns g ON g.id = d.column_id
      LEFT JOIN confirmed_grades c ON c.column_id = d.column_id AND c.user_id = d.user_id
      LEFT JOIN passback_course_state s ON s.course_id = d.course_id
      WHERE d.version > COALESCE(c.version, 0)
        AND g.status <> 'deleted_in_lms'
        AND NOT COALESCE(s.paused, false)
        AND NOT (COALESCE(c.status, 'retrying') = 'failed' AND c.failed_version = d.version)
        AND (c.next_attempt_at IS NULL OR c.next_attempt_at <= ${input.now})
        AND (d.claimed_until IS NULL OR d.claimed_until <= ${input.now})
        AND c.held_at IS NULL
        AND NOT ${IS_TEST_USER}
      ORDER BY d.updated_at
      LIMIT ${input.limit}
      FOR UPDATE OF d SKIP LOCKED
    )
    UPDATE desired_grades d
    SET claimed_by = ${input.workerId}, claimed_until = ${until}, claimed_value = d.value
    FROM due, gradebook_columns g, courses co, deployments dep, platforms p
    WHERE d.column_id = due.column_id AND d.user_id = due.user_id
      AND g.id = d.column_id AND co.id = d.course_id AND dep.id = co.deployment_row_id
      AND p.id = dep.platform_id
    RETURNING d.tenant_id, d.course_id, dep.platform_id, p.flavour AS platform_flavour, d.column_id, d.user_id, d.lms_user_id,
      d.value, d.comment, d.version, due.attempts, due.last_timestamp,
      due.confirmed_value, due.confirmed_comment, due.in_flight_value, g.label, g.score_maximum, g.tag, g.resource_id, g.lms_column_id
  `.execute(db);
  return result.rows.map((row) => ({
    tenantId: row.tenant_id,
    courseId: row.course_id,
    platformId: row.platform_id,
    platformFlavour: row.platform_flavour,
    columnId: row.column_id,
    userId: row.user_id,
    lmsUserId: row.lms_user_id,
    value: row.value,
    comment: row.comment ?? undefined,
    version: Number(row.version),
    attempts: row.attempts ?? 0,
    lastTimestamp: row.last_timestamp ?? undefined,
    confirmedValue: row.confirmed_value ?? undefined,
    confirmedComment: row.confirmed_comment ?? undefined,
    inFlightValue: row.in_flight_value ?? undefined,
    column: {
      label: row.label,
      scoreMaximum: row.score_maximum,
      tag: row.tag,
      resourceId: row.resource_id,
      lmsColumnId: row.lms_column_id ?? undefined,
    },
  }));
}

/** Gives a claimed cell back untouched (e.g. another worker is creating its column). */
export async function releaseClaim(db: Db, cell: ClaimedCell, workerId: string): Promise<void> {
  await db
    .updateTable('desired_grades')
    .set({ claimed_by: null, claimed_until: null })
    .where('tenant_id', '=', cell.tenantId)
    .where('column_id', '=', cell.columnId)
    .where('user_id', '=', cell.userId)
    .where('claimed_by', '=', workerId)
    .execute();
}

/** Gives several claimed cells back in one statement (another worker holds their platform). */
export async function releaseClaims(
  db: Db,
  cells: readonly ClaimedCell[],
  workerId: string,
): Promise<void> {
  if (cells.length === 0) return;
  const keys = sql.join(cells.map((cell) => sql`(${cell.columnId}::uuid, ${cell.userId}::uuid)`));
  await sql`
    UPDATE desired_grades SET claimed_by = NULL, claimed_until = NULL
    WHERE claimed_by = ${workerId} AND (column_id, user_id) IN (${keys})
  `.execute(db);
}

/** The current LMS column id of a tool column (another worker may have resolved it since the claim). */
export async function findLmsColumnId(
  db: Db,
  tenantId: string,
  columnId: string,
): Promise<{ lmsColumnId: string | undefined; status: string } | undefined> {
  const row = await db
    .selectFrom('gradebook_columns')
    .select(['lms_column_id', 'status'])
    .where('tenant_id', '=', tenantId)
    .where('id', '=', columnId)
    .executeTakeFirst();
  return row === undefined
    ? undefined
    : { lmsColumnId: row.lms_column_id ?? undefined, status: row.status };
}

/**
 * Takes the short lease for looking up or creating a column in the LMS. Only the holder may create
 * it, so two workers never both create the same column.
 */
export async function leaseColumnEnsure(
  db: Db,
  input: { tenantId: string; columnId: string; now: Date; leaseMs: number },
): Promise<boolean> {
  const result = await db
    .updateTable('gradebook_columns')
    .set({ ensuring_until: new Date(input.now.getTime() + input.leaseMs) })
    .where('tenant_id', '=', input.tenantId)
    .where('id', '=', input.columnId)
    .where('lms_column_id', 'is', null)
    .where('status', '=', 'pending')
    .where((eb) => eb.or([eb('ensuring_until', 'is', null), eb('ensuring_until', '<=', input.now)]))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Gives the column lease back after a failed look-up or creation, so the next run tries again. */
export async function releaseColumnEnsure(
  db: Db,
  tenantId: string,
  columnId: string,
): Promise<void> {
  await db
    .updateTable('gradebook_columns')
    .set({ ensuring_until: null })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', columnId)
    .where('lms_column_id', 'is', null)
    .execute();
}

export async function markColumnReady(
  db: Db,
  input: { tenantId: string; columnId: string; lmsColumnId: string },
): Promise<void> {
  await db
    .updateTable('gradebook_columns')
    .set({ lms_column_id: input.lmsColumnId, status: 'ready', ensuring_until: null })
    .where('tenant_id', '=', input.tenantId)
    .where('id', '=', input.columnId)
    .execute();
}

export async function markColumnDeleted(db: Db, tenantId: string, columnId: string): Promise<void> {
  await db
    .updateTable('gradebook_columns')
    .set({ status: 'deleted_in_lms', ensuring_until: null })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', columnId)
    .execute();
}

export type PostOutcome =
  | { readonly result: 'sent'; readonly timestamp: Date }
  | {
      readonly result: 'retrying';
      readonly timestamp: Date | undefined;
      readonly nextAttemptAt: Date;
      readonly code: string;
      readonly message: string;
      readonly httpStatus: number | undefined;
    }
  | {
      readonly result: 'failed';
      readonly timestamp: Date | undefined;
      readonly code: string;
      readonly message: string;
      readonly httpStatus: number | undefined;
    };

/**
 * Records what happened to one post: the confirmed row, the audit line, and the end of the claim,
 * in ONE statement (data-modifying CTEs run exactly once, atomically), so the worker waits a single
 * round trip before its next post. A confirmed version only moves forward (GREATEST), so a slow
 * worker whose lease ran out cannot roll back a newer confirmation.
 */
export async function recordPostOutcome(
  db: Db,
  input: { cell: ClaimedCell; workerId: string; now: Date; outcome: PostOutcome },
): Promise<void> {
  const { cell, outcome, now } = input;
  const sent = outcome.result === 'sent';
  const timestamp = outcome.timestamp ?? null;
  const nextAttemptAt = outcome.result === 'retrying' ? outcome.nextAttemptAt : null;
  const code = outcome.result === 'sent' ? null : outcome.code;
  const message = outcome.result === 'sent' ? null : outcome.message;
  const failedVersion = outcome.result === 'failed' ? cell.version : null;
  const httpStatus = outcome.result === 'sent' ? null : (outcome.httpStatus ?? null);
  await sql`
    WITH confirmed AS (
      INSERT INTO confirmed_grades AS c
        (tenant_id, course_id, column_id, user_id, value, comment, version, confirmed_at, status,
         failed_version, error_code, error_message, attempts, next_attempt_at, last_timestamp)
      VALUES (${cell.tenantId}, ${cell.courseId}, ${cell.columnId}, ${cell.userId},
        ${sent ? cell.value : null}, ${sent ? (cell.comment ?? null) : null}, ${sent ? cell.version : 0},
        ${sent ? now : null}, ${outcome.result}, ${failedVersion}, ${code}, ${message},
        ${sent ? 0 : 1}, ${nextAttemptAt}, ${timestamp})
      ON CONFLICT (column_id, user_id) DO UPDATE SET
        value = CASE WHEN ${sent} AND ${cell.version} >= c.version THEN excluded.value ELSE c.value END,
        comment = CASE WHEN ${sent} AND ${cell.version} >= c.version THEN excluded.comment ELSE c.comment END,
        confirmed_at = CASE WHEN ${sent} THEN excluded.confirmed_at ELSE c.confirmed_at END,
        version = GREATEST(c.version, excluded.version),
        status = excluded.status,
        failed_version = excluded.failed_version,
        error_code = excluded.error_code,
        error_message = excluded.error_message,
        attempts = CASE WHEN ${sent} THEN 0 ELSE c.attempts + 1 END,
        next_attempt_at = excluded.next_attempt_at,
        last_timestamp = GREATEST(c.last_timestamp, excluded.last_timestamp)
      WHERE c.tenant_id = excluded.tenant_id
      RETURNING 1
    ), audit AS (
      INSERT INTO passback_audit
        (tenant_id, course_id, column_id, user_id, value, version, result, http_status, error_code, at)
      VALUES (${cell.tenantId}, ${cell.courseId}, ${cell.columnId}, ${cell.userId}, ${cell.value},
        ${cell.version}, ${outcome.result}, ${httpStatus}, ${code}, ${now})
      RETURNING 1
    )
    UPDATE desired_grades SET claimed_by = NULL, claimed_until = NULL
    WHERE tenant_id = ${cell.tenantId} AND column_id = ${cell.columnId} AND user_id = ${cell.userId}
      AND claimed_by = ${input.workerId}
  `.execute(db);
}

/**
 * The worker found a grade in the LMS that is not the one it last confirmed: a teacher changed the
 * cell by hand. The teacher's grade stays: the cell is held (not claimed again) until a teacher
 * lets the tool take it over (`releaseHeldCell`), and the claim ends, in one statement.
 */
export async function recordHeld(
  db: Db,
  input: { cell: ClaimedCell; workerId: string; now: Date; lmsValue: number | undefined },
): Promise<void> {
  const { cell, now } = input;
  const heldValue = input.lmsValue ?? null;
  await sql`
    WITH held AS (
      INSERT INTO confirmed_grades AS c
        (tenant_id, course_id, column_id, user_id, value, comment, version, confirmed_at, status,
         attempts, held_at, held_value)
      VALUES (${cell.tenantId}, ${cell.courseId}, ${cell.columnId}, ${cell.userId}, NULL, NULL, 0,
        NULL, 'retrying', 0, ${now}, ${heldValue})
      ON CONFLICT (column_id, user_id) DO UPDATE SET
        held_at = excluded.held_at, held_value = excluded.held_value,
        error_code = NULL, error_message = NULL, next_attempt_at = NULL, attempts = 0
      WHERE c.tenant_id = excluded.tenant_id
      RETURNING 1
    )
    UPDATE desired_grades SET claimed_by = NULL, claimed_until = NULL
    WHERE tenant_id = ${cell.tenantId} AND column_id = ${cell.columnId} AND user_id = ${cell.userId}
      AND claimed_by = ${input.workerId}
  `.execute(db);
}

/**
 * "Let Mastery Pathways update this grade again": the teacher's value becomes the last confirmed
 * one, so the next post compares equal and replaces it with the tool's grade. Held cells of one
 * student and column, or of the whole course. Returns how many cells were released.
 */
export async function releaseHeldCells(
  db: Db,
  input: {
    tenantId: string;
    courseId: string;
    columnId?: string | undefined;
    userId?: string | undefined;
  },
): Promise<number> {
  let query = db
    .updateTable('confirmed_grades')
    .set((eb) => ({
      value: eb.ref('held_value'),
      held_at: null,
      held_value: null,
      next_attempt_at: null,
    }))
    .where('tenant_id', '=', input.tenantId)
    .where('course_id', '=', input.courseId)
    .where('held_at', 'is not', null);
  if (input.columnId !== undefined) query = query.where('column_id', '=', input.columnId);
  if (input.userId !== undefined) query = query.where('user_id', '=', input.userId);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function recordCourseRun(
  db: Db,
  input: { tenantId: string; courseId: string; now: Date },
): Promise<void> {
  await db
    .insertInto('passback_course_state')
    .values({ tenant_id: input.tenantId, course_id: input.courseId, last_run_at: input.now })
    .onConflict((oc) =>
      oc
        .column('course_id')
        .doUpdateSet({ last_run_at: input.now })
        .where('passback_course_state.tenant_id', '=', input.tenantId),
    )
    .execute();
}

// ---- read models (course sync page) -------------------------------------------------------------

/** 'held': a teacher changed the grade in the LMS; the tool leaves it until told otherwise. */
export type CellSyncStatus = 'pending' | 'sent' | 'failed' | 'held';

export interface StudentSyncStatus {
  readonly userId: string;
  readonly lmsUserId: string;
  readonly pending: number;
  readonly sent: number;
  readonly failed: number;
  readonly held: number;
}

/** A cell whose grade a teacher changed in the LMS; the tool left it there. */
export interface HeldCell {
  readonly columnId: string;
  readonly columnLabel: string;
  readonly userId: string;
  readonly lmsUserId: string;
  readonly heldAt: Date;
  /** What the teacher left in the gradebook (null: they cleared it). */
  readonly heldValue: number | null;
  /** What the tool would send. */
  readonly desiredValue: number;
  readonly scoreMaximum: number;
}

export interface ErrorCause {
  readonly code: string;
  readonly message: string;
  /** Cells with this error that are still waiting ('retrying') or stopped ('failed'). */
  readonly count: number;
  readonly status: 'retrying' | 'failed';
}

export interface CourseSyncSummary {
  readonly paused: boolean;
  readonly lastRunAt: Date | undefined;
  readonly pending: number;
  readonly sent: number;
  readonly failed: number;
  readonly held: number;
  readonly heldCells: readonly HeldCell[];
  readonly errorsByCause: readonly ErrorCause[];
  readonly students: readonly StudentSyncStatus[];
  readonly deletedColumns: readonly { id: string; label: string; kind: GradebookColumnKind }[];
}

// A cell is 'held' while a teacher's own grade in the LMS is kept, 'sent' when the LMS confirmed its current version, 'failed' when it failed for good at that
// version, 'pending' otherwise (waiting, retrying or paused).
const CELL_STATUS = sql<CellSyncStatus>`CASE
  WHEN c.held_at IS NOT NULL THEN 'held'
  WHEN c.version >= d.version THEN 'sent'
  WHEN c.status = 'failed' AND c.failed_version = d.version THEN 'failed'
  ELSE 'pending' END`;

export async function courseSyncSummary(
  db: Db,
  tenantId: string,
  courseId: string,
): Promise<CourseSyncSummary> {
  const students = await sql<{
    user_id: string;
    lms_user_id: string;
    pending: string;
    sent: string;
    failed: string;
    held: string;
  }>`
    SELECT user_id, lms_user_id,
      count(*) FILTER (WHERE status = 'pending') AS pending,
      count(*) FILTER (WHERE status = 'sent') AS sent,
      count(*) FILTER (WHERE status = 'failed') AS failed,
      count(*) FILTER (WHERE status = 'held') AS held
    FROM (
      SELECT d.user_id, d.lms_user_id, ${CELL_STATUS} AS status
      FROM desired_grades d
      LEFT JOIN confirmed_grades c
        ON c.column_id = d.column_id AND c.user_id = d.user_id AND c.tenant_id = d.tenant_id
      WHERE d.tenant_id = ${tenantId} AND d.course_id = ${courseId} AND NOT ${IS_TEST_USER}
    ) cells
    GROUP BY user_id, lms_user_id
    ORDER BY lms_user_id
  `.execute(db);
  const errors = await sql<{
    code: string;
    message: string;
    status: 'retrying' | 'failed';
    count: string;
  }>`
    SELECT c.error_code AS code, min(c.error_message) AS message, c.status, count(*) AS count
    FROM confirmed_grades c
    JOIN desired_grades d ON d.column_id = c.column_id AND d.user_id = c.user_id
    WHERE c.tenant_id = ${tenantId} AND c.course_id = ${courseId}
      AND c.status IN ('retrying', 'failed') AND c.error_code IS NOT NULL AND d.version > c.version
      AND c.held_at IS NULL AND NOT ${IS_TEST_USER}
    GROUP BY c.error_code, c.status
    ORDER BY count(*) DESC, c.error_code
  `.execute(db);
  const state = await db
    .selectFrom('passback_course_state')
    .select(['paused', 'last_run_at'])
    .where('tenant_id', '=', tenantId)
    .where('course_id', '=', courseId)
    .executeTakeFirst();
  const deletedColumns = await db
    .selectFrom('gradebook_columns')
    .select(['id', 'label', 'kind'])
    .where('tenant_id', '=', tenantId)
    .where('course_id', '=', courseId)
    .where('status', '=', 'deleted_in_lms')
    .orderBy('label')
    .execute();
  const held = await sql<{
    column_id: string;
    label: string;
    user_id: string;
    lms_user_id: string;
    held_at: Date;
    held_value: number | null;
    value: number;
    score_maximum: number;
  }>`
    SELECT d.column_id, g.label, d.user_id, d.lms_user_id, c.held_at, c.held_value, d.value,
      g.score_maximum
    FROM confirmed_grades c
    JOIN desired_grades d ON d.column_id = c.column_id AND d.user_id = c.user_id
      AND d.tenant_id = c.tenant_id
    JOIN gradebook_columns g ON g.id = d.column_id AND g.tenant_id = d.tenant_id
    WHERE c.tenant_id = ${tenantId} AND c.course_id = ${courseId} AND c.held_at IS NOT NULL
      AND NOT ${IS_TEST_USER}
    ORDER BY c.held_at DESC, g.label
    LIMIT 500
  `.execute(db);
  const studentRows = students.rows.map((row) => ({
    userId: row.user_id,
    lmsUserId: row.lms_user_id,
    pending: Number(row.pending),
    sent: Number(row.sent),
    failed: Number(row.failed),
    held: Number(row.held),
  }));
  const total = (field: 'pending' | 'sent' | 'failed' | 'held') =>
    studentRows.reduce((sum, row) => sum + row[field], 0);
  return {
    paused: state?.paused ?? false,
    lastRunAt: state?.last_run_at ?? undefined,
    pending: total('pending'),
    sent: total('sent'),
    failed: total('failed'),
    held: total('held'),
    heldCells: held.rows.map((row) => ({
      columnId: row.column_id,
      columnLabel: row.label,
      userId: row.user_id,
      lmsUserId: row.lms_user_id,
      heldAt: row.held_at,
      heldValue: row.held_value,
      desiredValue: row.value,
      scoreMaximum: row.score_maximum,
    })),
    errorsByCause: errors.rows.map((row) => ({
      code: row.code,
      message: row.message,
      status: row.status,
      count: Number(row.count),
    })),
    students: studentRows,
    deletedColumns,
  };
}

export interface CellSyncDetail {
  readonly status: CellSyncStatus;
  readonly desiredVersion: number;
  readonly confirmedVersion: number;
  readonly confirmedStatus: ConfirmedStatus | undefined;
  readonly errorCode: string | undefined;
  readonly errorMessage: string | undefined;
  readonly attempts: number;
  readonly nextAttemptAt: Date | undefined;
}

export async function cellSyncDetail(
  db: Db,
  tenantId: string,
  columnId: string,
  userId: string,
): Promise<CellSyncDetail | undefined> {
  const result = await sql<{
    status: CellSyncStatus;
    desired_version: string;
    confirmed_version: string | null;
    confirmed_status: ConfirmedStatus | null;
    error_code: string | null;
    error_message: string | null;
    attempts: number | null;
    next_attempt_at: Date | null;
  }>`
    SELECT ${CELL_STATUS} AS status, d.version AS desired_version, c.version AS confirmed_version,
      c.status AS confirmed_status, c.error_code, c.error_message, c.attempts, c.next_attempt_at
    FROM desired_grades d
    LEFT JOIN confirmed_grades c
      ON c.column_id = d.column_id AND c.user_id = d.user_id AND c.tenant_id = d.tenant_id
    WHERE d.tenant_id = ${tenantId} AND d.column_id = ${columnId} AND d.user_id = ${userId}
  `.execute(db);
  const row = result.rows[0];
  if (row === undefined) return undefined;
  return {
    status: row.status,
    desiredVersion: Number(row.desired_version),
    confirmedVersion: Number(row.confirmed_version ?? 0),
    confirmedStatus: row.confirmed_status ?? undefined,
    errorCode: row.error_code ?? undefined,
    errorMessage: row.error_message ?? undefined,
    attempts: row.attempts ?? 0,
    nextAttemptAt: row.next_attempt_at ?? undefined,
  };
}

/** Operator-level gauges: cells waiting in every district, and how long the oldest has waited. */
export async function queueStats(
  db: Db,
  now: Date,
): Promise<{ depth: number; oldestPendingSeconds: number }> {
  const result = await sql<{ depth: string; oldest: Date | null }>`
    SELECT count(*) AS depth, min(d.updated_at) AS oldest
    FROM desired_grades d
    LEFT JOIN confirmed_grades c ON c.column_id = d.column_id AND c.user_id = d.user_id
    WHERE d.version > COALESCE(c.version, 0)
      AND NOT (COALESCE(c.status, 'retrying') = 'failed' AND c.failed_version = d.version)
      AND c.held_at IS NULL AND NOT ${IS_TEST_USER}
  `.execute(db);
  const row = result.rows[0];
  const oldest = row?.oldest ?? null;
  return {
    depth: Number(row?.depth ?? 0),
    oldestPendingSeconds:
      oldest === null ? 0 : Math.max(0, (now.getTime() - oldest.getTime()) / 1000),
  };
}

// ---- controls (teacher actions on the sync page) ------------------------------------------------

export async function setCoursePaused(
  db: Db,
  input: { tenantId: string; courseId: string; paused: boolean },
): Promise<void> {
  await sql`
    INSERT INTO passback_course_state (tenant_id, course_id, paused)
    SELECT c.tenant_id, c.id, ${input.paused} FROM courses c
    WHERE c.id = ${input.courseId} AND c.tenant_id = ${input.tenantId}
    ON CONFLICT (course_id) DO UPDATE SET paused = excluded.paused
      WHERE passback_course_state.tenant_id = excluded.tenant_id
  `.execute(db);
}

/** "Sync now": cells waiting out a transient-error backoff become due at once. */
export async function syncCourseNow(db: Db, tenantId: string, courseId: string): Promise<number> {
  const result = await db
    .updateTable('confirmed_grades')
    .set({ next_attempt_at: null })
    .where('tenant_id', '=', tenantId)
    .where('course_id', '=', courseId)
    .where('status', '=', 'retrying')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** "Retry now" for cells that failed for good (after the teacher fixed the cause). */
export async function retryFailed(
  db: Db,
  input: {
    tenantId: string;
    courseId: string;
    columnId?: string | undefined;
    userId?: string | undefined;
    /** Only the cells that failed for this cause. */
    errorCode?: string | undefined;
  },
): Promise<number> {
  let query = db
    .updateTable('confirmed_grades')
    .set({ status: 'retrying', failed_version: null, next_attempt_at: null, attempts: 0 })
    .where('tenant_id', '=', input.tenantId)
    .where('course_id', '=', input.courseId)
    .where('status', '=', 'failed');
  if (input.columnId !== undefined) query = query.where('column_id', '=', input.columnId);
  if (input.userId !== undefined) query = query.where('user_id', '=', input.userId);
  if (input.errorCode !== undefined) query = query.where('error_code', '=', input.errorCode);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** "Resync everything": every cell of the course is posted again once (its version moves on). */
export async function resyncCourse(db: Db, tenantId: string, courseId: string): Promise<number> {
  const result = await db
    .updateTable('desired_grades')
    .set({ version: sql<string>`version + 1` })
    .where('tenant_id', '=', tenantId)
    .where('course_id', '=', courseId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * The teacher asked to recreate a column deleted in the LMS: it is looked up or created again on the
 * next run, and its failed cells become due.
 */
export async function recreateColumn(
  db: Kysely<Database>,
  input: { tenantId: string; courseId: string; columnId: string },
): Promise<boolean> {
  return db.transaction().execute(async (tx) => {
    const column = await tx
      .updateTable('gradebook_columns')
      .set({ status: 'pending', lms_column_id: null, ensuring_until: null })
      .where('tenant_id', '=', input.tenantId)
      .where('course_id', '=', input.courseId)
      .where('id', '=', input.columnId)
      .where('status', '=', 'deleted_in_lms')
      .returning('course_id')
      .executeTakeFirst();
    if (column === undefined) return false;
    // The values confirmed in the deleted column are gone with it: the new column starts empty,
    // so an empty cell there is not a teacher's change.
    await tx
      .updateTable('confirmed_grades')
      .set({ value: null })
      .where('tenant_id', '=', input.tenantId)
      .where('column_id', '=', input.columnId)
      .execute();
    await retryFailed(tx, {
      tenantId: input.tenantId,
      courseId: column.course_id,
      columnId: input.columnId,
    });
    return true;
  });
}

// ---- cross-process limits ---------------------------------------------------------------------

/** First key of the passback platform locks (the second is a hash of the platform id). */
const PLATFORM_LOCK_CLASS = 604_711;

/**
 * Runs `run` while holding the platform's session-level advisory lock, on a connection of its own,
 * or returns `{ locked: false }` at once when another worker (in any process) holds it. One holder
 * per platform makes that holder's token bucket the platform's limit across every app instance.
 * A crashed holder's connection closes, and PostgreSQL releases the lock with it. `run` uses the
 * ordinary pool for its queries: the locking connection only holds the lock.
 */
export async function withPlatformLock<T>(
  db: Kysely<Database>,
  platformId: string,
  run: () => Promise<T>,
): Promise<{ locked: true; value: T } | { locked: false }> {
  return db.connection().execute(async (connection) => {
    const attempt = await sql<{ locked: boolean }>`
      SELECT pg_try_advisory_lock(${PLATFORM_LOCK_CLASS}, hashtext(${platformId})) AS locked
    `.execute(connection);
    if (attempt.rows[0]?.locked !== true) return { locked: false as const };
    try {
      return { locked: true as const, value: await run() };
    } finally {
      await sql`SELECT pg_advisory_unlock(${PLATFORM_LOCK_CLASS}, hashtext(${platformId}))`.execute(
        connection,
      );
    }
  });
}

/**
 * Retention: each district's audit lines older than its `passbackAuditRetentionDays` (tenant
 * settings), or than `defaultDays` when the district has not set one, are deleted. An
 * operator-level sweep over every district, in one statement.
 */
export async function deleteExpiredAudit(db: Db, now: Date, defaultDays: number): Promise<number> {
  const result = await sql`
    DELETE FROM passback_audit a
    USING tenants t
    WHERE a.tenant_id = t.id
      AND a.at < ${now}::timestamptz - make_interval(
        days => COALESCE((t.settings ->> 'passbackAuditRetentionDays')::int, ${defaultDays}::int)
      )
  `.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

// ---- sync page read models -------------------------------------------------------------------------

/** Names of the course's students as the tool knows them (null when the LMS did not share one). */
export async function studentNames(
  db: Db,
  tenantId: string,
  userIds: readonly string[],
): Promise<Map<string, string | null>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('users')
    .select(['id', 'name'])
    .where('tenant_id', '=', tenantId)
    .where('id', 'in', [...userIds])
    .execute();
  return new Map(rows.map((row) => [row.id, row.name]));
}

export interface AuditLine {
  readonly at: Date;
  readonly columnLabel: string;
  readonly studentName: string | null;
  readonly lmsUserId: string | null;
  readonly value: number | null;
  readonly result: ConfirmedStatus;
  readonly httpStatus: number | null;
  readonly errorCode: string | null;
}

/** The newest posts of a course, newest first (the audit log view). */
export async function courseAudit(
  db: Db,
  input: { tenantId: string; courseId: string; limit: number; offset: number },
): Promise<AuditLine[]> {
  const rows = await db
    .selectFrom('passback_audit as a')
    .innerJoin('gradebook_columns as g', (join) =>
      join.onRef('g.id', '=', 'a.column_id').onRef('g.tenant_id', '=', 'a.tenant_id'),
    )
    .leftJoin('users as u', (join) =>
      join.onRef('u.id', '=', 'a.user_id').onRef('u.tenant_id', '=', 'a.tenant_id'),
    )
    .select([
      'a.at',
      'g.label',
      'u.name',
      'u.sub',
      'a.value',
      'a.result',
      'a.http_status',
      'a.error_code',
    ])
    .where('a.tenant_id', '=', input.tenantId)
    .where('a.course_id', '=', input.courseId)
    .orderBy('a.at', 'desc')
    .orderBy('a.id', 'desc')
    .limit(input.limit)
    .offset(input.offset)
    .execute();
  return rows.map((row) => ({
    at: row.at,
    columnLabel: row.label,
    studentName: row.name,
    lmsUserId: row.sub,
    value: row.value,
    result: row.result,
    httpStatus: row.http_status,
    errorCode: row.error_code,
  }));
}

/** A column of the course, or undefined (another course or district). */
export async function findCourseColumn(
  db: Db,
  input: { tenantId: string; courseId: string; columnId: string },
): Promise<{ id: string; label: string; status: string; kind: GradebookColumnKind } | undefined> {
  return db
    .selectFrom('gradebook_columns')
    .select(['id', 'label', 'status', 'kind'])
    .where('tenant_id', '=', input.tenantId)
    .where('course_id', '=', input.courseId)
    .where('id', '=', input.columnId)
    .executeTakeFirst();
}

export interface StudentCell {
  readonly columnId: string;
  readonly columnLabel: string;
  readonly status: CellSyncStatus;
  readonly desiredValue: number;
  readonly scoreMaximum: number;
  readonly comment: string | null;
  readonly confirmedValue: number | null;
  readonly confirmedAt: Date | null;
  readonly errorCode: string | null;
  readonly nextAttemptAt: Date | null;
}

/** Every gradebook cell of one student in one course, with its sync state (per-student status). */
export async function studentCells(
  db: Db,
  input: { tenantId: string; courseId: string; userId: string },
): Promise<StudentCell[]> {
  const result = await sql<{
    column_id: string;
    label: string;
    status: CellSyncStatus;
    value: number;
    score_maximum: number;
    comment: string | null;
    confirmed_value: number | null;
    confirmed_at: Date | null;
    error_code: string | null;
    next_attempt_at: Date | null;
  }>`
    SELECT d.column_id, g.label, ${CELL_STATUS} AS status, d.value, g.score_maximum, d.comment,
      c.value AS confirmed_value, c.confirmed_at, c.error_code, c.next_attempt_at
    FROM desired_grades d
    JOIN gradebook_columns g ON g.id = d.column_id AND g.tenant_id = d.tenant_id
    LEFT JOIN confirmed_grades c
      ON c.column_id = d.column_id AND c.user_id = d.user_id AND c.tenant_id = d.tenant_id
    WHERE d.tenant_id = ${input.tenantId} AND d.course_id = ${input.courseId}
      AND d.user_id = ${input.userId}
    ORDER BY g.kind, g.label
  `.execute(db);
  return result.rows.map((row) => ({
    columnId: row.column_id,
    columnLabel: row.label,
    status: row.status,
    desiredValue: row.value,
    scoreMaximum: row.score_maximum,
    comment: row.comment,
    confirmedValue: row.confirmed_value,
    confirmedAt: row.confirmed_at,
    errorCode: row.error_code,
    nextAttemptAt: row.next_attempt_at,
  }));
}
