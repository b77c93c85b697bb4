import type { Kysely } from 'kysely';
import type { JobRunner } from '../jobs/runner.ts';
import type { Logger } from '../logger.ts';
import { createPolicyRepository, type RecomputeJob } from '../storage/mastery/policy.repository.ts';
import type { Database } from '../storage/schema.ts';
import { requireCourse } from './errors.ts';
import { RECOMPUTE_JOB_KIND, RECOMPUTE_MAX_ATTEMPTS, type RecomputePayload } from './recompute.ts';

export { RECOMPUTE_BATCH } from './recompute.ts';

/** What starting a recomputation needs; the logger hears of the failures nobody else sees. */
export interface RecomputeDeps {
  readonly db: Kysely<Database>;
  readonly now: () => Date;
  readonly logger: Logger | undefined;
  /** The app's job runner, with `recomputeJobHandler` registered for `RECOMPUTE_JOB_KIND`. */
  readonly jobs: JobRunner;
}

/**
 * Runs a recompute job in this process at once, claimed in the job runner: should the process die,
 * another runner takes it up after the lease. Settles when it is done; never rejects (a failure is
 * recorded on the job).
 */
async function runRecomputeHere(deps: RecomputeDeps, job: RecomputeJob): Promise<void> {
  const payload: RecomputePayload = { recomputeJobId: job.id };
  const started = await deps.jobs.runHere({
    tenantId: job.tenantId,
    kind: RECOMPUTE_JOB_KIND,
    payload,
    maxAttempts: RECOMPUTE_MAX_ATTEMPTS,
  });
  await started.finished;
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
  const job = await createPolicyRepository(db, now).createJob({ ...input, total: 0 });
  return { job, finished: runRecomputeHere(deps, job) };
}

/**
 * Reruns recomputations left unfinished with no job in the runner (the process stopped between
 * storing the two, or before the runner existed): call once at start-up, after migrations. The
 * runner itself takes up the others after their lease. Resolves when they are done; failures are
 * recorded on each job.
 */
export async function resumeInterruptedRecomputes(deps: RecomputeDeps): Promise<number> {
  const jobs = await createPolicyRepository(deps.db, deps.now).interruptedJobs(RECOMPUTE_JOB_KIND);
  for (const job of jobs) await runRecomputeHere(deps, job);
  return jobs.length;
}
