import type { Logger } from '../logger.ts';
import type { ImportPhase, ImportReport } from './import.ts';

/**
 * Standards imports run in the background, after the answer that starts them. Their progress lives
 * in memory per app instance (`createImportJobs` is called once per app, never at module level, so
 * two apps in one process never share jobs): on PGlite (one connection) the import's own progress
 * row is not readable until its transaction commits, so the progress page reads this state first
 * and falls back to `standard_imports` once the job is done or the process restarted.
 *
 * Times come from the injected clock, like everything else the app records.
 */

/** Where a job is: reading or fetching its package, then the import's own phases. */
export type ImportJobPhase = 'reading' | 'fetching' | ImportPhase;

/** What a running job may report while it works. */
export interface ImportJobProgress {
  phase: ImportJobPhase;
  /** Standards saved so far, of `total`. */
  done: number;
  total: number;
}

/** A job as the progress page sees it. */
export interface ImportJobState {
  readonly id: string;
  readonly tenantId: string;
  /** The file name or the CASE server address. */
  readonly label: string;
  readonly phase: ImportJobPhase;
  readonly done: number;
  readonly total: number;
  readonly running: boolean;
  /** The stored import record, once the job finished with one. */
  readonly importId: string | undefined;
  /** Set when the job crashed (nothing was imported): a message for people. */
  readonly failure: string | undefined;
}

export interface ImportJobsDeps {
  readonly now: () => Date;
  readonly newId: () => string;
  readonly logger: Logger;
  /** Runs `task` after the current answer is sent (default `setImmediate`). */
  readonly defer?: (task: () => void) => void;
}

export interface ImportJobs {
  /** Starts `work` after the answer; it reports progress into the job and returns the report. */
  start(
    job: { readonly tenantId: string; readonly label: string; readonly phase: ImportJobPhase },
    work: (progress: ImportJobProgress) => Promise<ImportReport>,
  ): string;
  /** A job of the district, while it is remembered (another district's job is not found). */
  find(tenantId: string, jobId: string): ImportJobState | undefined;
}

/** Finished jobs stay in memory this long (the page redirects to the stored record anyway). */
const JOB_RETENTION_MS = 30 * 60 * 1000;
const MAX_TRACKED_JOBS = 200;

export const IMPORT_CRASHED_MESSAGE =
  'The import failed for a reason on our side; nothing was imported. Try again later.';

interface TrackedJob extends ImportJobProgress {
  readonly id: string;
  readonly tenantId: string;
  readonly label: string;
  finishedAt: number | undefined;
  importId: string | undefined;
  failure: string | undefined;
}

export function createImportJobs(deps: ImportJobsDeps): ImportJobs {
  const jobs = new Map<string, TrackedJob>();
  const defer = deps.defer ?? ((task: () => void) => void setImmediate(task));

  function prune(): void {
    const cutoff = deps.now().getTime() - JOB_RETENTION_MS;
    for (const [id, job] of jobs) {
      if (job.finishedAt !== undefined && job.finishedAt < cutoff) jobs.delete(id);
    }
    if (jobs.size >= MAX_TRACKED_JOBS) {
      for (const [id, job] of jobs) {
        if (job.finishedAt !== undefined) jobs.delete(id);
        if (jobs.size < MAX_TRACKED_JOBS / 2) break;
      }
    }
  }

  function run(job: TrackedJob, work: (progress: ImportJobProgress) => Promise<ImportReport>) {
    const { logger } = deps;
    // A job that throws before its first await still ends as a crashed job, never unhandled.
    Promise.resolve()
      .then(() => work(job))
      .then((report) => {
        job.importId = report.importId;
        logger.info(
          { tenantId: job.tenantId, importId: report.importId, ok: report.ok, jobId: job.id },
          'standards import finished',
        );
      })
      .catch((error: unknown) => {
        job.failure = IMPORT_CRASHED_MESSAGE;
        logger.error(
          { err: error, tenantId: job.tenantId, jobId: job.id },
          'standards import crashed',
        );
      })
      .finally(() => {
        job.finishedAt = deps.now().getTime();
      });
  }

  return {
    start(start, work) {
      prune();
      const job: TrackedJob = {
        id: deps.newId(),
        tenantId: start.tenantId,
        label: start.label,
        phase: start.phase,
        done: 0,
        total: 0,
        finishedAt: undefined,
        importId: undefined,
        failure: undefined,
      };
      jobs.set(job.id, job);
      defer(() => {
        run(job, work);
      });
      return job.id;
    },
    find(tenantId, jobId) {
      const job = jobs.get(jobId);
      if (job?.tenantId !== tenantId) return undefined;
      return {
        id: job.id,
        tenantId: job.tenantId,
        label: job.label,
        phase: job.phase,
        done: job.done,
        total: job.total,
        running: job.finishedAt === undefined,
        importId: job.importId,
        failure: job.failure,
      };
    },
  };
}
