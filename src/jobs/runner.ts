import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Logger } from '../logger.ts';
import {
  claimDueJobs,
  completeJob,
  insertJob,
  recordFailure,
  recordProgress,
  releaseJob,
  type JobRecord,
  type NewJob,
} from '../storage/jobs/jobs.repository.ts';
import type { Database } from '../storage/schema.ts';

/**
 * The one runner of background jobs that must survive a restart: mastery recomputes, standards
 * imports, roster syncs. Jobs live in the `jobs` table, so they run on PGlite and PostgreSQL alike
 * (graphile-worker and pg-boss need a node-postgres pool and LISTEN/NOTIFY, which embedded PGlite
 * behind Kysely does not give them). A runner claims one due job at a time with
 * `FOR UPDATE SKIP LOCKED` and a lease, like the passback worker claims cells: several runners (in
 * one process or several) never run one job at once, and a job whose process died is claimed again
 * once its lease has run out. A failed attempt is retried with exponential backoff until the job's
 * `maxAttempts`. Every time comes from the injected clock.
 *
 * The grade passback reconciler stays its own loop (by ADR): it reconciles rows, not jobs.
 */

type Db = Kysely<Database> | Transaction<Database>;

export type { JobRecord, NewJob } from '../storage/jobs/jobs.repository.ts';

/** What a handler is given to do one job. */
export interface JobContext {
  /** The job as claimed: `payload` is what was enqueued, `attempts` counts this start. */
  readonly job: JobRecord;
  readonly now: () => Date;
  /**
   * Aborted when the runner stops. A long handler checks it between steps and throws (any error):
   * the job is then given back untouched, and the next runner starts it again.
   */
  readonly signal: AbortSignal;
  /**
   * Stores progress (shown on status pages) and extends the lease. Call it at least once per lease
   * (`leaseMs`, default 5 min). Throws `JobLeaseLostError` when another runner took the job over.
   */
  readonly progress: (done: number, total: number, note?: string) => Promise<void>;
}

/** Does one job; a throw is a failed attempt (retried with backoff until `maxAttempts`). */
export type JobHandler = (context: JobContext) => Promise<void>;

/** This runner no longer holds the job (it stalled past its lease; another runner took it). */
export class JobLeaseLostError extends Error {
  override readonly name = 'JobLeaseLostError';
  readonly jobId: string;
  constructor(jobId: string) {
    super(`job ${jobId} was taken over by another runner`);
    this.jobId = jobId;
  }
}

/**
 * How one run of a job ended: `lost` when another runner had taken it over (or an outcome could
 * not be stored: the lease runs out and the job is run again), `released` when the runner stopped.
 */
export type JobResult = 'succeeded' | 'retrying' | 'failed' | 'released' | 'lost';

export interface JobLimits {
  /** How long a claim lasts without progress; a dead runner's job waits this long. Default 5 min. */
  readonly leaseMs: number;
  /** First retry delay after a failed attempt; doubles per attempt. Default 30 s. */
  readonly baseBackoffMs: number;
  /** Longest retry delay. Default 1 h. */
  readonly maxBackoffMs: number;
  /** Wait between claims when nothing was due. Default 2 s. */
  readonly pollIntervalMs: number;
}

export const DEFAULT_JOB_LIMITS: JobLimits = Object.freeze({
  leaseMs: 5 * 60_000,
  baseBackoffMs: 30_000,
  maxBackoffMs: 60 * 60_000,
  pollIntervalMs: 2_000,
});

export interface JobRunnerOptions {
  readonly db: Kysely<Database>;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  readonly logger: Logger;
  readonly limits?: Partial<JobLimits> | undefined;
  /** Uniform in [0, 1), for backoff jitter. Default Math.random. */
  readonly random?: (() => number) | undefined;
  /** Names this runner in claims and logs. Default a random UUID. */
  readonly workerId?: string | undefined;
}

export interface JobRunner {
  readonly workerId: string;
  /** Registers the handler of one kind of job; this runner claims only registered kinds. */
  register(kind: string, handler: JobHandler): void;
  /**
   * Queues a job for any runner. Pass the caller's transaction as `db` so the job is committed
   * with the change that needs it.
   */
  enqueue(job: NewJob, db?: Db): Promise<JobRecord>;
  /**
   * Queues a job already claimed by this runner and runs it here at once (a person waits for it).
   * Should this process die, another runner takes it up after the lease. `finished` never rejects.
   */
  runHere(job: NewJob): Promise<{ job: JobRecord; finished: Promise<JobResult> }>;
  /** Claims one due job and runs it; undefined when nothing was due. */
  runOnce(): Promise<JobResult | undefined>;
  /** Runs jobs until none is due now (tests, the demo); returns how many ran. */
  runUntilIdle(maxJobs?: number): Promise<number>;
  start(): void;
  /** Stops claiming, signals the running job to stop and waits for it (given back if it throws). */
  stop(): Promise<void>;
}

/** Short text of an error for the job row (operators read it; people never see it as is). */
function errorText(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.slice(0, 2000);
}

/** What the steps of one job run need; built once per runner. */
interface RunnerParts {
  readonly db: Kysely<Database>;
  readonly logger: Logger;
  readonly now: () => Date;
  readonly workerId: string;
  readonly limits: JobLimits;
  readonly random: () => number;
}

const leaseUntil = (parts: RunnerParts): Date =>
  new Date(parts.now().getTime() + parts.limits.leaseMs);

/** Half the exponential ceiling plus jitter: retries of many failed jobs spread out. */
function backoffMs(parts: RunnerParts, attempts: number): number {
  const { baseBackoffMs, maxBackoffMs } = parts.limits;
  const ceiling = Math.min(
    maxBackoffMs,
    baseBackoffMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30),
  );
  return Math.floor(ceiling / 2 + (parts.random() * ceiling) / 2);
}

function contextFor(parts: RunnerParts, job: JobRecord, signal: AbortSignal): JobContext {
  return {
    job,
    now: parts.now,
    signal,
    async progress(done: number, total: number, note?: string): Promise<void> {
      const held = await recordProgress(parts.db, {
        jobId: job.id,
        workerId: parts.workerId,
        done,
        total,
        note,
        leaseUntil: leaseUntil(parts),
      });
      if (!held) throw new JobLeaseLostError(job.id);
    },
  };
}

/** Records a failed attempt: retried after a backoff while attempts remain, else failed. */
async function fail(parts: RunnerParts, job: JobRecord, error: unknown): Promise<JobResult> {
  const { now, logger } = parts;
  const retry = job.attempts < job.maxAttempts;
  const retryAt = retry ? new Date(now().getTime() + backoffMs(parts, job.attempts)) : undefined;
  const held = await recordFailure(parts.db, {
    jobId: job.id,
    workerId: parts.workerId,
    now: now(),
    error: errorText(error),
    retryAt,
  });
  if (!held) return 'lost';
  const fields = { err: error, jobId: job.id, kind: job.kind, tenantId: job.tenantId };
  if (retry) {
    logger.warn({ ...fields, attempts: job.attempts, retryAt }, 'job failed; will retry');
    return 'retrying';
  }
  logger.error({ ...fields, attempts: job.attempts }, 'job failed; no attempts left');
  return 'failed';
}

/** Runs one claimed job to an outcome that is stored. */
async function execute(
  parts: RunnerParts,
  handler: JobHandler | undefined,
  job: JobRecord,
  signal: AbortSignal,
): Promise<JobResult> {
  const { db, logger, workerId, now } = parts;
  if (handler === undefined)
    return fail(parts, job, new Error(`no handler for job kind ${job.kind}`));
  if (job.attempts > job.maxAttempts) {
    // Claimed again after its lease ran out each time: the process died while running it.
    return fail(parts, job, new Error(`stopped ${job.maxAttempts} times while running`));
  }
  try {
    await handler(contextFor(parts, job, signal));
  } catch (error) {
    if (error instanceof JobLeaseLostError) {
      logger.warn({ jobId: job.id, kind: job.kind, workerId }, 'job taken over by another runner');
      return 'lost';
    }
    if (signal.aborted) {
      await releaseJob(db, { jobId: job.id, workerId, now: now() });
      logger.info({ jobId: job.id, kind: job.kind }, 'job given back: the runner is stopping');
      return 'released';
    }
    return fail(parts, job, error);
  }
  const held = await completeJob(db, { jobId: job.id, workerId, now: now() });
  return held ? 'succeeded' : 'lost';
}

export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const parts: RunnerParts = {
    db: options.db,
    logger: options.logger,
    now: options.now,
    workerId: options.workerId ?? randomUUID(),
    limits: { ...DEFAULT_JOB_LIMITS, ...options.limits },
    random: options.random ?? Math.random,
  };
  const { db, logger, now, workerId, limits } = parts;
  // Per runner instance, never per module: two runners in one process register their own.
  const handlers = new Map<string, JobHandler>();
  let stopping = new AbortController();
  let running = false;
  let loop: Promise<void> | undefined;
  // Resolves the idle wait early: on stop, and when this process queues a job.
  let wake: (() => void) | undefined;
  const inFlight = new Set<Promise<JobResult>>();
  const isRunning = (): boolean => running;

  /** `execute`, never rejecting: an outcome that cannot be stored leaves the lease to run out. */
  function track(job: JobRecord): Promise<JobResult> {
    const run = execute(parts, handlers.get(job.kind), job, stopping.signal).catch(
      (error: unknown) => {
        logger.error({ err: error, jobId: job.id, kind: job.kind }, 'job outcome not stored');
        return 'lost' as const;
      },
    );
    inFlight.add(run);
    void run.finally(() => inFlight.delete(run));
    return run;
  }

  async function runOnce(): Promise<JobResult | undefined> {
    const [job] = await claimDueJobs(db, {
      workerId,
      now: now(),
      leaseMs: limits.leaseMs,
      kinds: [...handlers.keys()],
      limit: 1,
    });
    if (job === undefined) return undefined;
    return track(job);
  }

  async function runUntilIdle(maxJobs = 10_000): Promise<number> {
    let ran = 0;
    while (ran < maxJobs && (await runOnce()) !== undefined) ran += 1;
    return ran;
  }

  async function idleWait(): Promise<void> {
    const woken = new Promise<void>((resolve) => {
      wake = resolve;
    });
    await Promise.race([options.sleep(limits.pollIntervalMs), woken]);
    wake = undefined;
  }

  async function runLoop(): Promise<void> {
    while (isRunning()) {
      let idle = true;
      try {
        idle = (await runOnce()) === undefined;
      } catch (error) {
        logger.error({ err: error, workerId }, 'job claim failed');
      }
      if (isRunning() && idle) await idleWait();
    }
  }

  return {
    workerId,
    register(kind: string, handler: JobHandler): void {
      if (handlers.has(kind)) throw new Error(`a handler for job kind ${kind} is registered`);
      handlers.set(kind, handler);
    },
    async enqueue(job: NewJob, into: Db = db): Promise<JobRecord> {
      const queued = await insertJob(into, { ...job, now: now() });
      wake?.();
      return queued;
    },
    async runHere(job: NewJob): Promise<{ job: JobRecord; finished: Promise<JobResult> }> {
      if (!handlers.has(job.kind)) throw new Error(`no handler for job kind ${job.kind}`);
      const claimed = await insertJob(db, {
        ...job,
        now: now(),
        claim: { workerId, until: leaseUntil(parts) },
      });
      return { job: claimed, finished: track(claimed) };
    },
    runOnce,
    runUntilIdle,
    start(): void {
      if (running) return;
      running = true;
      if (stopping.signal.aborted) stopping = new AbortController();
      loop = runLoop();
    },
    async stop(): Promise<void> {
      running = false;
      stopping.abort();
      wake?.();
      await loop;
      await Promise.allSettled([...inFlight]);
      loop = undefined;
    },
  };
}
