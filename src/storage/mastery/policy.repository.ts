import { sql, type ExpressionBuilder, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../schema.ts';
import type { RecomputeStatus } from './schema.ts';
import { isUuid } from '../../ids.ts';

/**
 * All SQL of mastery policies (district default: course_id NULL; course overrides), their change
 * log, recompute jobs and mentor links. Every query filters by `tenant_id`.
 */

type Db = Kysely<Database> | Transaction<Database>;

export interface PolicyChange {
  readonly before: unknown;
  readonly after: unknown;
  readonly changedBy: string;
  readonly changedAt: Date;
}

export interface RecomputeJob {
  readonly id: string;
  readonly tenantId: string;
  readonly courseId: string | null;
  readonly reason: string;
  readonly status: RecomputeStatus;
  readonly done: number;
  readonly total: number;
  readonly error: string | null;
  readonly requestedBy: string;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
}

function toJob(row: {
  id: string;
  tenant_id: string;
  course_id: string | null;
  reason: string;
  status: RecomputeStatus;
  done: number;
  total: number;
  error: string | null;
  requested_by: string;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}): RecomputeJob {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    courseId: row.course_id,
    reason: row.reason,
    status: row.status,
    done: row.done,
    total: row.total,
    error: row.error,
    requestedBy: row.requested_by,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

/** A stored policy part as read: course_id null is the district's. */
export interface PolicyRow {
  readonly course_id: string | null;
  readonly policy: unknown;
}

/** The district's policy row and, when a course is named, the course's. */
export async function readPolicyRows(
  db: Db,
  tenantId: string,
  courseId: string | null,
): Promise<PolicyRow[]> {
  return db
    .selectFrom('mastery_policies')
    .select(['course_id', 'policy'])
    .where('tenant_id', '=', tenantId)
    .where((eb) =>
      courseId === null
        ? eb('course_id', 'is', null)
        : eb.or([eb('course_id', 'is', null), eb('course_id', '=', courseId)]),
    )
    .execute();
}

/** Every course's own policy row of a district (a district change must keep them usable). */
export async function readCoursePolicyRows(db: Db, tenantId: string): Promise<PolicyRow[]> {
  return db
    .selectFrom('mastery_policies')
    .select(['course_id', 'policy'])
    .where('tenant_id', '=', tenantId)
    .where('course_id', 'is not', null)
    .execute();
}

/**
 * The district's own policy row (courseId null) or the course's own, never both: the filter every
 * read and write of one policy part shares.
 */
function ownPolicyRow(courseId: string | null) {
  return (eb: ExpressionBuilder<Database, 'mastery_policies'>) =>
    courseId === null ? eb('course_id', 'is', null) : eb('course_id', '=', courseId);
}

/** The stored policy JSON of the district (courseId null) or a course, if any. */
export async function findPolicy(db: Db, tenantId: string, courseId: string | null) {
  return db
    .selectFrom('mastery_policies')
    .select(['policy', 'updated_by', 'updated_at'])
    .where('tenant_id', '=', tenantId)
    .where(ownPolicyRow(courseId))
    .executeTakeFirst();
}

/**
 * Replaces the district's or a course's policy (null: remove the course's override) and logs
 * the change with before/after. A course of another district is refused (returns false).
 */
export async function savePolicy(
  db: Db,
  now: () => Date,
  input: {
    tenantId: string;
    courseId: string | null;
    policy: unknown;
    actor: string;
  },
): Promise<boolean> {
  const at = now();
  if (input.courseId !== null) {
    const course = await db
      .selectFrom('courses')
      .select('id')
      .where('tenant_id', '=', input.tenantId)
      .where('id', '=', input.courseId)
      .executeTakeFirst();
    if (course === undefined) return false;
  }
  const before = await findPolicy(db, input.tenantId, input.courseId);
  if (input.policy === null) {
    await db
      .deleteFrom('mastery_policies')
      .where('tenant_id', '=', input.tenantId)
      .where(ownPolicyRow(input.courseId))
      .execute();
  } else if (before === undefined) {
    await db
      .insertInto('mastery_policies')
      .values({
        tenant_id: input.tenantId,
        course_id: input.courseId,
        policy: JSON.stringify(input.policy),
        updated_by: input.actor,
        updated_at: at,
      })
      .execute();
  } else {
    await db
      .updateTable('mastery_policies')
      .set({ policy: JSON.stringify(input.policy), updated_by: input.actor, updated_at: at })
      .where('tenant_id', '=', input.tenantId)
      .where(ownPolicyRow(input.courseId))
      .execute();
  }
  await db
    .insertInto('mastery_policy_changes')
    .values({
      tenant_id: input.tenantId,
      course_id: input.courseId,
      before: before === undefined ? null : JSON.stringify(before.policy),
      after: input.policy === null ? null : JSON.stringify(input.policy),
      changed_by: input.actor,
      changed_at: at,
    })
    .execute();
  return true;
}

export async function policyChanges(
  db: Db,
  tenantId: string,
  courseId: string | null,
  limit = 20,
): Promise<PolicyChange[]> {
  const rows = await db
    .selectFrom('mastery_policy_changes')
    .select(['before', 'after', 'changed_by', 'changed_at'])
    .where('tenant_id', '=', tenantId)
    .where((eb) =>
      courseId === null ? eb('course_id', 'is', null) : eb('course_id', '=', courseId),
    )
    .orderBy('changed_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    before: row.before,
    after: row.after,
    changedBy: row.changed_by,
    changedAt: row.changed_at,
  }));
}

export async function createJob(
  db: Db,
  now: () => Date,
  input: {
    tenantId: string;
    courseId: string | null;
    reason: string;
    requestedBy: string;
    total: number;
  },
): Promise<RecomputeJob> {
  const row = await db
    .insertInto('recompute_jobs')
    .values({
      tenant_id: input.tenantId,
      course_id: input.courseId,
      reason: input.reason,
      status: 'queued',
      total: input.total,
      requested_by: input.requestedBy,
      created_at: now(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toJob(row);
}

export async function findJob(
  db: Db,
  tenantId: string,
  jobId: string,
): Promise<RecomputeJob | undefined> {
  if (!isUuid(jobId)) return undefined;
  const row = await db
    .selectFrom('recompute_jobs')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', jobId)
    .executeTakeFirst();
  return row === undefined ? undefined : toJob(row);
}

/** The newest job touching a course (its own, or a district-wide one). */
export async function latestJob(
  db: Db,
  tenantId: string,
  courseId: string | null,
): Promise<RecomputeJob | undefined> {
  const row = await db
    .selectFrom('recompute_jobs')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where((eb) =>
      courseId === null
        ? eb('course_id', 'is', null)
        : eb.or([eb('course_id', 'is', null), eb('course_id', '=', courseId)]),
    )
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? undefined : toJob(row);
}

export async function startJob(
  db: Db,
  now: () => Date,
  tenantId: string,
  jobId: string,
  total: number,
): Promise<void> {
  await db
    .updateTable('recompute_jobs')
    .set({ status: 'running', started_at: now(), total, done: 0, error: null })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', jobId)
    .execute();
}

export async function addProgress(
  db: Db,
  tenantId: string,
  jobId: string,
  count: number,
): Promise<void> {
  await db
    .updateTable('recompute_jobs')
    .set((eb) => ({ done: eb('done', '+', count) }))
    .where('tenant_id', '=', tenantId)
    .where('id', '=', jobId)
    .execute();
}

export async function finishJob(
  db: Db,
  now: () => Date,
  tenantId: string,
  jobId: string,
  error: string | null,
): Promise<void> {
  await db
    .updateTable('recompute_jobs')
    .set({ status: error === null ? 'succeeded' : 'failed', error, finished_at: now() })
    .where('tenant_id', '=', tenantId)
    .where('id', '=', jobId)
    .execute();
}

/**
 * Jobs a stopped process left queued or running with no unfinished job of `runnerKind` in the
 * job runner naming them (`payload.recomputeJobId`), in every district: the one query that is
 * not scoped to a tenant (run at start-up, like the passback worker's claim). Each job
 * carries its tenant and is rerun from the start. Those the runner holds, it takes up itself.
 */
export async function interruptedJobs(db: Db, runnerKind: string): Promise<RecomputeJob[]> {
  const rows = await db
    .selectFrom('recompute_jobs')
    .selectAll()
    .where('status', 'in', ['queued', 'running'])
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('jobs')
            .select('jobs.id')
            .where('jobs.kind', '=', runnerKind)
            .where('jobs.status', 'in', ['queued', 'running'])
            .whereRef('jobs.tenant_id', '=', 'recompute_jobs.tenant_id')
            .where(
              sql<string>`jobs.payload->>'recomputeJobId'`,
              '=',
              sql<string>`recompute_jobs.id::text`,
            ),
        ),
      ),
    )
    .orderBy('created_at')
    .execute();
  return rows.map(toJob);
}

/** Course ids of the district (a district-wide recomputation walks them). */
export async function courseIds(db: Db, tenantId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('courses')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .orderBy('id')
    .execute();
  return rows.map((row) => row.id);
}

/** How many students a course's recomputation will visit (its progress total). */
export async function studentCount(
  db: Db,
  tenantId: string,
  courseId: string | null,
): Promise<number> {
  const result = await sql<{ n: number | string }>`
        SELECT count(*) AS n FROM (
          SELECT course_id, student_id FROM evidence
          WHERE tenant_id = ${tenantId} ${courseId === null ? sql`` : sql`AND course_id = ${courseId}`}
          UNION
          SELECT course_id, student_id FROM mastery_overrides
          WHERE tenant_id = ${tenantId} ${courseId === null ? sql`` : sql`AND course_id = ${courseId}`}
          UNION
          SELECT course_id, student_id FROM mastery_results
          WHERE tenant_id = ${tenantId} ${courseId === null ? sql`` : sql`AND course_id = ${courseId}`}
        ) AS cells
      `.execute(db);
  return Number(result.rows[0]?.n ?? 0);
}

/**
 * Replaces a mentor's links in a course with the given students (user ids of the district,
 * resolved from the launch's role_scope_mentor subs by the caller). Kept for one release so
 * instances of the previous version read current links during a rolling upgrade; this
 * version reads `mentor_scopes`.
 */
export async function replaceMentorLinks(
  db: Db,
  now: () => Date,
  input: {
    tenantId: string;
    courseId: string;
    mentorId: string;
    studentIds: readonly string[];
  },
): Promise<void> {
  await db
    .deleteFrom('mentor_links')
    .where('tenant_id', '=', input.tenantId)
    .where('course_id', '=', input.courseId)
    .where('mentor_id', '=', input.mentorId)
    .execute();
  if (input.studentIds.length === 0) return;
  const at = now();
  await db
    .insertInto('mentor_links')
    .values(
      input.studentIds.map((studentId) => ({
        tenant_id: input.tenantId,
        course_id: input.courseId,
        mentor_id: input.mentorId,
        student_id: studentId,
        updated_at: at,
      })),
    )
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/** Replaces the students a mentor's launch names in a course (LTI subs of its issuer). */
export async function replaceMentorScope(
  db: Db,
  now: () => Date,
  input: {
    tenantId: string;
    courseId: string;
    mentorId: string;
    issuer: string;
    studentSubs: readonly string[];
  },
): Promise<void> {
  const subs = [...new Set(input.studentSubs)].sort();
  await db
    .insertInto('mentor_scopes')
    .values({
      tenant_id: input.tenantId,
      course_id: input.courseId,
      mentor_id: input.mentorId,
      issuer: input.issuer,
      student_subs: subs,
      updated_at: now(),
    })
    .onConflict((oc) =>
      oc
        .columns(['course_id', 'mentor_id'])
        .doUpdateSet((eb) => ({
          issuer: eb.ref('excluded.issuer'),
          student_subs: eb.ref('excluded.student_subs'),
          updated_at: eb.ref('excluded.updated_at'),
        }))
        .where('mentor_scopes.tenant_id', '=', input.tenantId),
    )
    .execute();
}

export function createPolicyRepository(db: Db, now: () => Date) {
  // Each method is one of the functions above, given this database and clock.
  return {
    find: findPolicy.bind(undefined, db),
    save: savePolicy.bind(undefined, db, now),
    changes: policyChanges.bind(undefined, db),
    createJob: createJob.bind(undefined, db, now),
    findJob: findJob.bind(undefined, db),
    latestJob: latestJob.bind(undefined, db),
    startJob: startJob.bind(undefined, db, now),
    addProgress: addProgress.bind(undefined, db),
    finishJob: finishJob.bind(undefined, db, now),
    interruptedJobs: interruptedJobs.bind(undefined, db),
    courseIds: courseIds.bind(undefined, db),
    studentCount: studentCount.bind(undefined, db),
    replaceMentorLinks: replaceMentorLinks.bind(undefined, db, now),
    replaceMentorScope: replaceMentorScope.bind(undefined, db, now),
  };
}

export type PolicyRepository = ReturnType<typeof createPolicyRepository>;
