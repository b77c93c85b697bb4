import {
  JobFailedError,
  type JobContext,
  type JobHandler,
  type JobRecord,
  type JobResult,
  type JobRunner,
} from '../jobs/runner.ts';
import { findJob } from '../storage/jobs/jobs.repository.ts';
import { CourseServiceError } from './lms-for-course.ts';
import { syncCourseRoster, type RosterSyncDeps } from './roster.ts';

/** What running a roster sync job needs: the sync's dependencies and the app's job runner. */
export type RosterJobDeps = RosterSyncDeps & { readonly jobs: JobRunner };

/** The job runner's kind for one course's roster sync (see `rosterSyncJobHandler`). */
export const ROSTER_SYNC_JOB_KIND = 'courses.roster-sync';

/** A roster read from the LMS that failed (rate limit, LMS down) is tried again this often. */
export const ROSTER_SYNC_MAX_ATTEMPTS = 3;

export interface RosterSyncPayload {
  readonly courseId: string;
}

/** What a finished sync stores as the job's result (JSON), for the roster page. */
export interface RosterSyncJobResult {
  readonly upserted: number;
  readonly markedInactive: number;
  /** ISO dates of deletion requests of people the LMS still lists (who they were is not known). */
  readonly removedOnRequest: readonly string[];
}

/**
 * Queues a sync of one course's roster from the LMS. The web queues it (a POST), redirects to the
 * roster page, and reads the job with `findJob` for its status and result.
 */
export function enqueueRosterSync(
  jobs: JobRunner,
  input: { readonly tenantId: string; readonly courseId: string },
): Promise<JobRecord> {
  const payload: RosterSyncPayload = { courseId: input.courseId };
  return jobs.enqueue({
    tenantId: input.tenantId,
    kind: ROSTER_SYNC_JOB_KIND,
    payload,
    maxAttempts: ROSTER_SYNC_MAX_ATTEMPTS,
  });
}

/**
 * Runs a roster sync in this process at once, as a job claimed by this runner (a teacher's "Sync
 * now" waits for it, as before): should the process die, another runner finishes it. Resolves with
 * how the run ended and the stored job (its `result` a `RosterSyncJobResult` when it succeeded; a
 * `retrying` job is finished later by the runner).
 */
export async function syncRosterHere(
  services: RosterJobDeps,
  input: { readonly tenantId: string; readonly courseId: string },
): Promise<{ readonly outcome: JobResult; readonly job: JobRecord | undefined }> {
  const payload: RosterSyncPayload = { courseId: input.courseId };
  const started = await services.jobs.runHere({
    tenantId: input.tenantId,
    kind: ROSTER_SYNC_JOB_KIND,
    payload,
    maxAttempts: ROSTER_SYNC_MAX_ATTEMPTS,
  });
  const outcome = await started.finished;
  return { outcome, job: await findJob(services.db, input.tenantId, started.job.id) };
}

/** The runner's handler of `ROSTER_SYNC_JOB_KIND`: `syncCourseRoster`, as a durable job. */
export function rosterSyncJobHandler(services: RosterJobDeps): JobHandler {
  return async function rosterSync(context: JobContext): Promise<RosterSyncJobResult> {
    const { courseId } = context.job.payload as RosterSyncPayload;
    await context.progress(0, 1, 'reading the roster from the LMS');
    try {
      const synced = await syncCourseRoster(services, context.job.tenantId, courseId);
      await context.progress(1, 1);
      return {
        upserted: synced.upserted,
        markedInactive: synced.markedInactive,
        removedOnRequest: synced.removedOnRequest.map((date) => date.toISOString().slice(0, 10)),
      };
    } catch (error) {
      // The course or its LMS registration is gone: trying again cannot help.
      if (error instanceof CourseServiceError) {
        throw new JobFailedError(error.message, { cause: error });
      }
      throw error;
    }
  };
}
