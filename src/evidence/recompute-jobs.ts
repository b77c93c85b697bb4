import type { Kysely } from 'kysely';
import type { Logger } from '../logger.ts';
import { updateDesiredGrades } from '../passback/desired-grades.ts';
import { loadCoursePolicy } from '../policy/store.ts';
import { createPolicyRepository, type RecomputeJob } from '../storage/mastery/policy.repository.ts';
import { createMasteryResultsRepository } from '../storage/mastery/results.repository.ts';
import type { Database } from '../storage/schema.ts';
import { requireCourse } from './errors.ts';
import { recomputeCells } from './recompute.ts';

/** Students per transaction of a full recomputation (each batch also updates desired grades). */
export const RECOMPUTE_BATCH = 100;

/** What a recomputation job runs on; the logger hears of the failures nobody else sees. */
export interface RecomputeDeps {
  readonly db: Kysely<Database>;
  readonly now: () => Date;
  readonly logger: Logger | undefined;
}

/** Runs a job's batches; each batch is its own transaction (results + desired grades + progress). */
export async function runRecomputeJob(deps: RecomputeDeps, job: RecomputeJob): Promise<void> {
  const { db, now } = deps;
  const policies = createPolicyRepository(db, now);
  try {
    const courseIds =
      job.courseId === null ? await policies.courseIds(job.tenantId) : [job.courseId];
    await policies.startJob(
      job.tenantId,
      job.id,
      await policies.studentCount(job.tenantId, job.courseId),
    );
    for (const courseId of courseIds) {
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
      }
    }
    await policies.finishJob(job.tenantId, job.id, null);
  } catch (error) {
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
  }
}

/**
 * Queues a recomputation of one course (or, with courseId null, every course of the district)
 * from the stored evidence and starts it in the background. `finished` settles when it is done
 * (it never rejects: a failure is recorded on the job).
 */
export async function recomputeCourse(
  deps: RecomputeDeps,
  input: {
    tenantId: string;
    courseId: string | null;
    reason: string;
    requestedBy: string;
  },
): Promise<{ job: RecomputeJob; finished: Promise<void> }> {
  const { db, now } = deps;
  if (input.courseId !== null) await requireCourse(db, input.tenantId, input.courseId);
  const policies = createPolicyRepository(db, now);
  const job = await policies.createJob({ ...input, total: 0 });
  const finished = runRecomputeJob(deps, job);
  return { job, finished };
}

/**
 * Reruns recomputations a stopped process left unfinished (call once at start-up, after
 * migrations). Resolves when they are done; failures are recorded on each job.
 */
export async function resumeInterruptedRecomputes(deps: RecomputeDeps): Promise<number> {
  const jobs = await createPolicyRepository(deps.db, deps.now).interruptedJobs();
  for (const job of jobs) await runRecomputeJob(deps, job);
  return jobs.length;
}
