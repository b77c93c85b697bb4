import type { Kysely, Transaction } from 'kysely';
import {
  JobFailedError,
  JobLeaseLostError,
  type JobContext,
  type JobHandler,
} from '../jobs/runner.ts';
import type { Logger } from '../logger.ts';
import type { Evidence } from '../mastery/index.ts';
import { updateDesiredGrades } from '../passback/desired-grades.ts';
import { createPolicyRepository, type RecomputeJob } from '../storage/mastery/policy.repository.ts';
import {
  createMasteryResultsRepository,
  type OverrideRow,
  type ResultWrite,
} from '../storage/mastery/results.repository.ts';
import type { Database } from '../storage/schema.ts';
import { cellNumbers, computeCell, outcomeOf, type CellOutcome } from '../policy/cell.ts';
import type { CoursePolicy } from '../policy/course-policy.ts';
import { loadCoursePolicy } from '../policy/store.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface RecomputeScope {
  readonly tenantId: string;
  readonly courseId: string;
  readonly studentIds: readonly string[];
  /**
   * The standards whose evidence or override changed (incremental), or `undefined` for every
   * standard the students have evidence or overrides on (full: their results are rewritten).
   */
  readonly itemIds?: readonly string[] | undefined;
}

const key = (studentId: string, itemId: string): string => `${studentId}|${itemId}`;

/**
 * Recomputes the mastery results of some cells inside the caller's transaction, then the roll-ups
 * of every ancestor of those standards (deepest first, so a domain sees its clusters' new values).
 *
 * A standard with its own (current) evidence is calculated from it; a standard without any but
 * with children that have results in the course is rolled up from them; overrides are applied on
 * top of either. Returns the number of result rows written.
 */
export async function recomputeCells(
  db: Db,
  policy: CoursePolicy,
  scope: RecomputeScope,
  now: () => Date,
): Promise<number> {
  const { tenantId, courseId, studentIds } = scope;
  if (studentIds.length === 0) return 0;
  const repo = createMasteryResultsRepository(db, now);
  const full = scope.itemIds === undefined;
  if (!full && scope.itemIds.length === 0) return 0;
  // One round trip: standards to visit, evidence, overrides, siblings' stored results.
  const input = await repo.loadForRecompute(
    tenantId,
    courseId,
    studentIds,
    scope.itemIds,
    policy.calculation.orderBy,
  );
  const { touched, evidence, overrides } = input;
  if (touched.length === 0) {
    // Nothing left to compute: a full recomputation leaves these students no results.
    if (full) await repo.write(tenantId, courseId, [], { replaceStudents: studentIds });
    return 0;
  }

  // Ancestry: every touched standard and its ancestors, with depth for bottom-up processing.
  const parentOf = new Map<string, string | null>();
  for (const row of input.items) parentOf.set(row.itemId, row.parentId);
  const depthOf = (itemId: string): number => {
    let depth = 0;
    let current = parentOf.get(itemId);
    while (current !== undefined && current !== null && depth < 50) {
      depth += 1;
      current = parentOf.get(current);
    }
    return depth;
  };
  const ancestors = new Set<string>();
  for (const itemId of touched) {
    let current = parentOf.get(itemId);
    while (current !== undefined && current !== null && !ancestors.has(current)) {
      ancestors.add(current);
      current = parentOf.get(current);
    }
  }
  // Children's stored results (siblings of what changed); none for a full recomputation.
  const stored = input.children;

  const evidenceByCell = new Map<string, Evidence[]>();
  for (const cell of evidence) evidenceByCell.set(key(cell.studentId, cell.itemId), cell.evidence);
  const overrideByCell = new Map<string, OverrideRow>();
  for (const row of overrides) overrideByCell.set(key(row.studentId, row.itemId), row);

  // Children per parent: stored results first, fresh ones replace them as they are computed.
  const childrenOf = new Map<string, Map<string, Map<string, CellOutcome>>>(); // parent → student → child
  const setChild = (studentId: string, itemId: string, outcome: CellOutcome): void => {
    const parent = parentOf.get(itemId);
    if (parent === undefined || parent === null) return;
    let byStudent = childrenOf.get(parent);
    if (byStudent === undefined) {
      byStudent = new Map<string, Map<string, CellOutcome>>();
      childrenOf.set(parent, byStudent);
    }
    let children = byStudent.get(studentId);
    if (children === undefined) {
      children = new Map<string, CellOutcome>();
      byStudent.set(studentId, children);
    }
    children.set(itemId, outcome);
  };
  for (const row of stored) {
    parentOf.set(row.itemId, row.parentId);
    setChild(row.studentId, row.itemId, {
      status: row.status,
      value: row.value ?? undefined,
      levelId: row.levelId ?? undefined,
      overridden: row.overridden,
    });
  }

  const touchedSet = new Set(touched);
  const order = [...new Set([...touched, ...ancestors])].sort((a, b) => depthOf(b) - depthOf(a));
  const writes: ResultWrite[] = [];
  for (const itemId of order) {
    const isTouched = touchedSet.has(itemId);
    for (const studentId of studentIds) {
      const k = key(studentId, itemId);
      const own = evidenceByCell.get(k);
      const override = overrideByCell.get(k);
      const children = childrenOf.get(itemId)?.get(studentId);
      if (own === undefined && override === undefined && (children?.size ?? 0) === 0) {
        // Nothing to calculate or roll up. Incremental recomputes still rewrite a touched cell
        // (a withdrawn last evidence leaves a noEvidence row); full ones and untouched
        // ancestors skip it.
        if (!isTouched || full) continue;
      }
      const numbers = cellNumbers(computeCell({ own, override, children }, policy), policy);
      writes.push({ studentId, itemId, ...numbers });
      setChild(studentId, itemId, outcomeOf(numbers));
    }
  }
  await repo.write(tenantId, courseId, writes, {
    replaceStudents: full ? studentIds : undefined,
  });
  return writes.length;
}

/** Students per transaction of a full recomputation (each batch also updates desired grades). */
export const RECOMPUTE_BATCH = 100;

/** The job runner's kind for a course's or district's recomputation (see `recomputeJobHandler`). */
export const RECOMPUTE_JOB_KIND = 'mastery.recompute';

/**
 * A crash (the process died mid-run) is retried this often; an error is not (see
 * `runRecomputeJob`). A recompute starts from the stored evidence, so a rerun is harmless.
 */
export const RECOMPUTE_MAX_ATTEMPTS = 3;

/**
 * The runner's payload: the `recompute_jobs` row. That row stays the record people see (status,
 * progress written in the same transaction as each batch's results, the error text, who asked and
 * why); the `jobs` row only schedules it (claim, lease, attempts).
 */
export interface RecomputePayload {
  readonly recomputeJobId: string;
}

export interface RecomputeJobDeps {
  readonly db: Kysely<Database>;
  readonly now: () => Date;
  readonly logger: Logger | undefined;
}

/** One course's students, in batches: results, desired grades and progress commit together. */
async function recomputeCourseBatches(
  deps: RecomputeJobDeps,
  job: RecomputeJob,
  courseId: string,
  report: (batchSize: number) => Promise<void>,
): Promise<void> {
  const { db, now } = deps;
  const students = await createMasteryResultsRepository(db, now).studentsToRecompute(
    job.tenantId,
    courseId,
  );
  for (let start = 0; start < students.length; start += RECOMPUTE_BATCH) {
    const batch = students.slice(start, start + RECOMPUTE_BATCH);
    await db.transaction().execute(async (tx) => {
      const policy = await loadCoursePolicy(tx, job.tenantId, courseId);
      await recomputeCells(
        tx,
        policy,
        { tenantId: job.tenantId, courseId, studentIds: batch },
        now,
      );
      await updateDesiredGrades(
        tx,
        { tenantId: job.tenantId, courseId, studentIds: batch, policy },
        now(),
      );
      await createPolicyRepository(tx, now).addProgress(job.tenantId, job.id, batch.length);
    });
    await report(batch.length);
  }
}

/**
 * Runs a recompute job from the start (its course, or every course of the district). An error is
 * recorded on the job in words for people and fails the runner's job for good (they save the
 * policy again to retry); a stop or a lost lease leaves the job running for the next runner.
 */
export async function runRecomputeJob(
  deps: RecomputeJobDeps,
  job: RecomputeJob,
  context?: Pick<JobContext, 'progress' | 'signal'>,
): Promise<void> {
  const policies = createPolicyRepository(deps.db, deps.now);
  try {
    const courseIds =
      job.courseId === null ? await policies.courseIds(job.tenantId) : [job.courseId];
    const total = await policies.studentCount(job.tenantId, job.courseId);
    await policies.startJob(job.tenantId, job.id, total);
    let done = 0;
    const report = async (batchSize: number): Promise<void> => {
      done += batchSize;
      // Between batches: extends the runner's lease, and lets a stopping runner give the job back.
      await context?.progress(done, total);
      context?.signal.throwIfAborted();
    };
    for (const courseId of courseIds) await recomputeCourseBatches(deps, job, courseId, report);
    await policies.finishJob(job.tenantId, job.id, null);
  } catch (error) {
    if (error instanceof JobLeaseLostError || context?.signal.aborted === true) throw error;
    // The detail (database or internal text) goes to the operators' log; people read what to do.
    deps.logger?.error(
      { err: error, tenantId: job.tenantId, courseId: job.courseId, jobId: job.id },
      'mastery recompute failed',
    );
    await policies.finishJob(
      job.tenantId,
      job.id,
      `The recalculation stopped because of an unexpected error (reference ${job.id}). The stored evidence is unchanged. Save the policy again to retry; if it fails again, tell your district administrator the reference.`,
    );
    throw new JobFailedError('mastery recompute failed', { cause: error });
  }
}

/** The runner's handler of `RECOMPUTE_JOB_KIND`. */
export function recomputeJobHandler(deps: RecomputeJobDeps): JobHandler {
  return async function recomputeJob(context: JobContext): Promise<void> {
    const { recomputeJobId } = context.job.payload as RecomputePayload;
    const job = await createPolicyRepository(deps.db, deps.now).findJob(
      context.job.tenantId,
      recomputeJobId,
    );
    // Gone with its course or district: nothing is left to recompute.
    if (job === undefined) return;
    await runRecomputeJob(deps, job, context);
  };
}
