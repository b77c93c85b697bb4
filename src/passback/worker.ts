import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../logger.ts';
import type { GradebookColumn, LmsPort } from '../lms/port.ts';
import type { Database } from '../storage/schema.ts';
import {
  claimDueCells,
  findLmsColumnId,
  leaseColumnEnsure,
  markColumnDeleted,
  markColumnReady,
  recordCourseRun,
  recordHeld,
  recordPostOutcome,
  releaseClaim,
  releaseClaims,
  releaseColumnEnsure,
  queueStats,
  withPlatformLock,
  type ClaimedCell,
  type PostOutcome,
} from '../storage/passback/passback.repository.ts';
import {
  classifyPassbackError,
  PASSBACK_ERROR_MESSAGES,
  type PassbackErrorClass,
  type PermanentPassbackCode,
} from './errors.ts';
import { PLATFORM_PACING } from '../lms/platforms/index.ts';
import type { PlatformFlavour } from '../storage/lti/schema.ts';
import { createTokenBucket, type TokenBucket } from './token-bucket.ts';

export type ResolveLms = (tenantId: string, courseId: string) => Promise<LmsPort>;

export interface PassbackLimits {
  /** Cells claimed per statement; small, so one claim never holds many rows. Default 20. */
  readonly batchSize: number;
  /** How long a claim lasts; must exceed the time one batch takes. Default 5 min. */
  readonly leaseMs: number;
  /**
   * Calls per second to one platform (posts, result reads, column look-ups and creations). Default
   * 10. When not given, a platform whose flavour has a preset (`PLATFORM_PACING`: Canvas) uses it.
   */
  readonly requestsPerSecond: number;
  /** Largest burst of calls to one platform. Default 1 (calls evenly spaced). */
  readonly burst: number;
  /** First retry delay after a transient error; doubles per attempt. Default 30 s. */
  readonly baseBackoffMs: number;
  /** Longest retry delay. Default 1 h. */
  readonly maxBackoffMs: number;
  /** Wait between runs when nothing was due. Default 2 s. */
  readonly pollIntervalMs: number;
}

export const DEFAULT_PASSBACK_LIMITS: PassbackLimits = Object.freeze({
  batchSize: 20,
  leaseMs: 5 * 60_000,
  requestsPerSecond: 10,
  burst: 1,
  baseBackoffMs: 30_000,
  maxBackoffMs: 60 * 60_000,
  pollIntervalMs: 2_000,
});

export interface PassbackWorkerOptions {
  readonly db: Kysely<Database>;
  readonly resolveLms: ResolveLms;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  readonly logger: Logger;
  /** The app's prom-client registry (never the global one). */
  readonly metrics?: Registry;
  readonly limits?: Partial<PassbackLimits>;
  /** Uniform in [0, 1), for backoff jitter. Default Math.random. */
  readonly random?: () => number;
  /** Names this worker in claims and logs. Default a random UUID. */
  readonly workerId?: string;
  /**
   * Serialise each platform's calls across processes with a PostgreSQL advisory lock, so several
   * app instances together stay within one platform's limit (one holder at a time, paced by its
   * token bucket). Needs a connection pool: PGlite has one connection and one process, so leave it
   * off there. Default false.
   */
  readonly platformLocks?: boolean;
}

export interface PassbackRunResult {
  readonly claimed: number;
  readonly sent: number;
  readonly retrying: number;
  readonly failed: number;
  /** Given back untouched (another worker was creating the column). */
  readonly skipped: number;
  /** Not posted: a teacher had changed the grade in the LMS, and it stays (see `recordHeld`). */
  readonly held: number;
}

export interface PassbackWorker {
  readonly workerId: string;
  /** Claims one batch of due cells and posts them. */
  runOnce(): Promise<PassbackRunResult>;
  /** Runs batches until nothing is due now (tests and the benchmark). */
  drain(maxRuns?: number): Promise<PassbackRunResult>;
  start(): void;
  /**
   * Lets the post in flight finish and its outcome be stored, gives the rest of the batch back
   * (another worker, or this one after a restart, claims it at once), then stops.
   */
  stop(): Promise<void>;
}

type CellResult = 'sent' | 'retrying' | 'failed' | 'skipped' | 'held';

/**
 * Whether the LMS still shows what the tool last confirmed. Scores travel as floats and Canvas
 * keeps two decimals of points, so a difference under half a hundredth is the same grade.
 */
function sameScore(lms: number | undefined, confirmed: number | undefined): boolean {
  if (lms === undefined || confirmed === undefined) return lms === confirmed;
  return Math.abs(lms - confirmed) < 0.005;
}

/** How often an idle worker refreshes the queue gauges (a count over every district's cells). */
const STATS_INTERVAL_MS = 15_000;

interface PassbackMetrics {
  readonly posts: Counter<'result'>;
  readonly queueDepth: Gauge;
  readonly oldestPending: Gauge;
}

function passbackMetrics(registry: Registry): PassbackMetrics {
  // Several workers may share one app registry: register each metric once, reuse it after.
  const posts = registry.getSingleMetric('passback_posts_total');
  const queueDepth = registry.getSingleMetric('passback_queue_depth');
  const oldestPending = registry.getSingleMetric('passback_oldest_pending_seconds');
  return {
    posts:
      posts instanceof Counter
        ? posts
        : new Counter({
            name: 'passback_posts_total',
            help: 'Score posts to LMS gradebooks, by result (sent, retrying, failed, held)',
            labelNames: ['result'],
            registers: [registry],
          }),
    queueDepth:
      queueDepth instanceof Gauge
        ? queueDepth
        : new Gauge({
            name: 'passback_queue_depth',
            help: 'Gradebook cells whose desired grade the LMS has not confirmed yet (failed cells excluded)',
            registers: [registry],
          }),
    oldestPending:
      oldestPending instanceof Gauge
        ? oldestPending
        : new Gauge({
            name: 'passback_oldest_pending_seconds',
            help: 'Age of the oldest unconfirmed grade change, in seconds',
            registers: [registry],
          }),
  };
}

/**
 * The passback reconciler: posts the difference between desired and confirmed grades. Posts go out
 * of any transaction (a slow LMS must not hold row locks); the claim lease keeps other workers off
 * the cells meanwhile. Calls to one platform run one at a time and through a token bucket.
 */
export function createPassbackWorker(options: PassbackWorkerOptions): PassbackWorker {
  const limits: PassbackLimits = { ...DEFAULT_PASSBACK_LIMITS, ...options.limits };
  const workerId = options.workerId ?? randomUUID();
  const random = options.random ?? Math.random;
  const { db, logger } = options;
  const metrics = options.metrics === undefined ? undefined : passbackMetrics(options.metrics);
  // Per worker instance, never per module: two workers in one process have their own buckets.
  const buckets = new Map<string, TokenBucket>();
  let loop: Promise<void> | undefined;
  let running = false;
  // Set by stop(): cells of the current batch not yet posted are given back, not posted.
  let stopRequested = false;
  let statsAt = Number.NEGATIVE_INFINITY;
  const isStopping = (): boolean => stopRequested;
  // A call, not the variable: stop() flips `running` while the loop awaits.
  const isRunning = (): boolean => running;

  const bucketFor = (platformId: string, flavour: string): TokenBucket => {
    let bucket = buckets.get(platformId);
    if (bucket === undefined) {
      // An explicit rate (configuration, tests) wins; else the flavour's preset; else the default.
      const preset =
        options.limits?.requestsPerSecond === undefined
          ? PLATFORM_PACING[flavour as PlatformFlavour]
          : undefined;
      bucket = createTokenBucket({
        requestsPerSecond: preset?.requestsPerSecond ?? limits.requestsPerSecond,
        burst: preset?.burst ?? limits.burst,
        now: options.now,
        sleep: options.sleep,
      });
      buckets.set(platformId, bucket);
    }
    return bucket;
  };

  /** Half the exponential ceiling plus jitter, never below the LMS's Retry-After. */
  const backoffMs = (attempts: number, retryAfterMs: number | undefined): number => {
    const ceiling = Math.min(
      limits.maxBackoffMs,
      limits.baseBackoffMs * 2 ** Math.min(attempts, 30),
    );
    const jittered = Math.floor(ceiling / 2 + (random() * ceiling) / 2);
    return Math.max(retryAfterMs ?? 0, jittered);
  };

  /** Canvas rejects a score older than the stored one: strictly after the last one sent. */
  const freshTimestamp = (cell: ClaimedCell): Date => {
    const now = options.now().getTime();
    const last = cell.lastTimestamp?.getTime() ?? Number.NEGATIVE_INFINITY;
    return new Date(Math.max(now, last + 1));
  };

  const failureOutcome = (
    cell: ClaimedCell,
    error: PassbackErrorClass,
    timestamp: Date | undefined,
  ): PostOutcome => {
    if (error.kind === 'transient') {
      const delay = backoffMs(cell.attempts, error.retryAfterMs);
      return {
        result: 'retrying',
        timestamp,
        nextAttemptAt: new Date(options.now().getTime() + delay),
        code: error.code,
        message: PASSBACK_ERROR_MESSAGES[error.code],
        httpStatus: error.httpStatus,
      };
    }
    const code: PermanentPassbackCode = error.kind === 'permanent' ? error.code : 'rejected';
    return {
      result: 'failed',
      timestamp,
      code,
      message: PASSBACK_ERROR_MESSAGES[code],
      httpStatus: error.httpStatus,
    };
  };

  /**
   * Records the outcome without holding up the next post to the platform: the write runs while the
   * next request is in flight, and the batch waits for all of its writes before it ends (so a claim
   * is never released before its outcome is stored).
   */
  function finish(cell: ClaimedCell, outcome: PostOutcome, writes: Promise<unknown>[]): CellResult {
    const write = recordPostOutcome(db, { cell, workerId, now: options.now(), outcome });
    // Handled here so a failed write is not an unhandled rejection; runOnce rethrows it.
    write.catch(() => undefined);
    writes.push(write);
    metrics?.posts.inc({ result: outcome.result });
    if (outcome.result === 'failed') {
      logger.warn(
        {
          tenantId: cell.tenantId,
          courseId: cell.courseId,
          columnId: cell.columnId,
          code: outcome.code,
        },
        'grade passback failed; waiting for the teacher',
      );
    } else if (outcome.result === 'retrying') {
      logger.info(
        {
          tenantId: cell.tenantId,
          columnId: cell.columnId,
          code: outcome.code,
          nextAttemptAt: outcome.nextAttemptAt,
        },
        'grade passback will be retried',
      );
    }
    return outcome.result;
  }

  /**
   * The LMS column of a cell: stored, or looked up by tag and resourceId, or created. Only the holder
   * of the column lease looks up or creates, so a column is never created twice.
   */
  async function ensureColumn(
    cell: ClaimedCell,
    lms: LmsPort,
    bucket: TokenBucket,
    known: Map<string, string>,
  ): Promise<GradebookColumn | 'skip'> {
    const toColumn = (id: string): GradebookColumn => ({
      id,
      label: cell.column.label,
      scoreMaximum: cell.column.scoreMaximum,
      tag: cell.column.tag,
      resourceId: cell.column.resourceId,
    });
    const cached = known.get(cell.columnId) ?? cell.column.lmsColumnId;
    if (cached !== undefined) return toColumn(cached);
    const current = await findLmsColumnId(db, cell.tenantId, cell.columnId);
    if (current?.lmsColumnId !== undefined) {
      known.set(cell.columnId, current.lmsColumnId);
      return toColumn(current.lmsColumnId);
    }
    const leased = await leaseColumnEnsure(db, {
      tenantId: cell.tenantId,
      columnId: cell.columnId,
      now: options.now(),
      leaseMs: limits.leaseMs,
    });
    if (!leased) return 'skip';
    const query = { tag: cell.column.tag, resourceId: cell.column.resourceId };
    let found: GradebookColumn | undefined;
    try {
      await bucket.take();
      found = await lms.findGradebookColumn(query);
      if (found === undefined) {
        await bucket.take();
        found = await lms.createGradebookColumn({
          label: cell.column.label,
          scoreMaximum: cell.column.scoreMaximum,
          ...query,
        });
        logger.info(
          { tenantId: cell.tenantId, columnId: cell.columnId },
          'gradebook column created',
        );
      }
    } catch (error) {
      // A creation that timed out may still have happened: the next look-up by tag and resourceId
      // finds it, so giving the lease back cannot duplicate the column.
      await releaseColumnEnsure(db, cell.tenantId, cell.columnId);
      throw error;
    }
    await markColumnReady(db, {
      tenantId: cell.tenantId,
      columnId: cell.columnId,
      lmsColumnId: found.id,
    });
    known.set(cell.columnId, found.id);
    return toColumn(found.id);
  }

  /** A 404 on a score post: the column was deleted in the LMS, or the course is gone (concluded). */
  async function explainNotFound(
    cell: ClaimedCell,
    lms: LmsPort,
    bucket: TokenBucket,
    column: GradebookColumn,
  ): Promise<PassbackErrorClass> {
    try {
      await bucket.take();
      const found = await lms.findGradebookColumn({
        tag: cell.column.tag,
        resourceId: cell.column.resourceId,
      });
      if (found === undefined) {
        await markColumnDeleted(db, cell.tenantId, cell.columnId);
        return { kind: 'permanent', code: 'column_deleted', httpStatus: 404 };
      }
      if (found.id !== column.id) {
        // The column exists under another URL (e.g. the LMS moved it): use it from now on.
        await markColumnReady(db, {
          tenantId: cell.tenantId,
          columnId: cell.columnId,
          lmsColumnId: found.id,
        });
        return { kind: 'transient', code: 'lms_unavailable', retryAfterMs: 0, httpStatus: 404 };
      }
      return { kind: 'permanent', code: 'rejected', httpStatus: 404 };
    } catch (error) {
      const cause = classifyPassbackError(error);
      // The line items of the course are gone too: Canvas answers 404 for a concluded course.
      if (cause.kind === 'not_found')
        return { kind: 'permanent', code: 'course_concluded', httpStatus: 404 };
      return cause;
    }
  }

  async function processCell(
    cell: ClaimedCell,
    lmsFor: (cell: ClaimedCell) => Promise<LmsPort>,
    known: Map<string, string>,
    writes: Promise<unknown>[],
  ): Promise<CellResult> {
    const bucket = bucketFor(cell.platformId, cell.platformFlavour);
    let column: GradebookColumn | 'skip';
    let lms: LmsPort;
    try {
      lms = await lmsFor(cell);
      column = await ensureColumn(cell, lms, bucket, known);
    } catch (error) {
      const cause = classifyPassbackError(error);
      logger.debug(
        { err: error, columnId: cell.columnId },
        'could not ensure the gradebook column',
      );
      return finish(cell, failureOutcome(cell, cause, undefined), writes);
    }
    if (column === 'skip') {
      await releaseClaim(db, cell, workerId);
      return 'skipped';
    }
    const timestamp = freshTimestamp(cell);
    try {
      if (lms.readScore !== undefined) {
        // A teacher's manual grade is kept: the LMS must still show what we last confirmed, or a
        // value of ours whose post a dead worker left unrecorded, or already the value wanted.
        await bucket.take();
        const shown = await lms.readScore(column, cell.lmsUserId);
        const isOurs = (value: number | undefined): boolean =>
          value !== undefined && sameScore(shown, value);
        const changedByTeacher =
          !sameScore(shown, cell.confirmedValue) &&
          !isOurs(cell.inFlightValue) &&
          !isOurs(cell.value);
        if (changedByTeacher) {
          await Promise.allSettled(writes);
          await recordHeld(db, { cell, workerId, now: options.now(), lmsValue: shown });
          metrics?.posts.inc({ result: 'held' });
          logger.info(
            { tenantId: cell.tenantId, columnId: cell.columnId },
            'grade changed by a teacher in the LMS; not overwritten',
          );
          return 'held';
        }
      }
      await bucket.take();
      // The previous outcome is stored before the next post leaves (the write overlapped the
      // bucket's wait), so a crash can leave at most the one post in flight unrecorded.
      await Promise.allSettled(writes);
      await lms.postScore(column, {
        userId: cell.lmsUserId,
        scoreGiven: cell.value,
        scoreMaximum: cell.column.scoreMaximum,
        // Canvas adds a new submission comment on every post that carries one: only a changed text.
        comment: cell.comment === cell.confirmedComment ? undefined : cell.comment,
        timestamp,
      });
      return finish(cell, { result: 'sent', timestamp }, writes);
    } catch (error) {
      let cause = classifyPassbackError(error);
      if (cause.kind === 'not_found') cause = await explainNotFound(cell, lms, bucket, column);
      logger.debug({ err: error, columnId: cell.columnId }, 'score post failed');
      return finish(cell, failureOutcome(cell, cause, timestamp), writes);
    }
  }

  async function runOnce(): Promise<PassbackRunResult> {
    const cells = await claimDueCells(db, {
      workerId,
      now: options.now(),
      leaseMs: limits.leaseMs,
      limit: limits.batchSize,
    });
    const counts = {
      claimed: cells.length,
      sent: 0,
      retrying: 0,
      failed: 0,
      skipped: 0,
      held: 0,
    };
    const lmsByCourse = new Map<string, Promise<LmsPort>>();
    const lmsFor = (cell: ClaimedCell): Promise<LmsPort> => {
      const key = `${cell.tenantId}|${cell.courseId}`;
      let lms = lmsByCourse.get(key);
      if (lms === undefined) {
        lms = options.resolveLms(cell.tenantId, cell.courseId);
        lmsByCourse.set(key, lms);
      }
      return lms;
    };
    const known = new Map<string, string>();
    const writes: Promise<unknown>[] = [];
    // One chain per platform: calls to a platform never overlap (Canvas limits per installation).
    const byPlatform = new Map<string, ClaimedCell[]>();
    for (const cell of cells) {
      const list = byPlatform.get(cell.platformId) ?? [];
      list.push(cell);
      byPlatform.set(cell.platformId, list);
    }
    const postAll = async (platformCells: readonly ClaimedCell[]): Promise<void> => {
      for (const cell of platformCells) {
        if (isStopping()) {
          await releaseClaim(db, cell, workerId);
          counts.skipped += 1;
          continue;
        }
        const result = await processCell(cell, lmsFor, known, writes);
        counts[result] += 1;
      }
    };
    await Promise.all(
      [...byPlatform.entries()].map(async ([platformId, platformCells]) => {
        if (options.platformLocks !== true) return postAll(platformCells);
        const held = await withPlatformLock(db, platformId, () => postAll(platformCells));
        if (held.locked) return;
        // Another worker is calling this platform: give the cells back for a later run.
        await releaseClaims(db, platformCells, workerId);
        counts.skipped += platformCells.length;
      }),
    ).finally(() => Promise.allSettled(writes));
    const failedWrite = (await Promise.allSettled(writes)).find((w) => w.status === 'rejected');
    if (failedWrite !== undefined) throw failedWrite.reason;
    const courses = new Map(cells.map((cell) => [cell.courseId, cell.tenantId]));
    for (const [courseId, tenantId] of courses) {
      await recordCourseRun(db, { tenantId, courseId, now: options.now() });
    }
    // The gauges count every district's queue: refreshed at most every STATS_INTERVAL_MS.
    const at = options.now().getTime();
    if (metrics !== undefined && (cells.length > 0 || at - statsAt >= STATS_INTERVAL_MS)) {
      statsAt = at;
      const stats = await queueStats(db, options.now());
      metrics.queueDepth.set(stats.depth);
      metrics.oldestPending.set(stats.oldestPendingSeconds);
    }
    return counts;
  }

  async function drain(maxRuns = 10_000): Promise<PassbackRunResult> {
    const total = { claimed: 0, sent: 0, retrying: 0, failed: 0, skipped: 0, held: 0 };
    for (let run = 0; run < maxRuns; run += 1) {
      const result = await runOnce();
      for (const key of Object.keys(total) as (keyof PassbackRunResult)[])
        total[key] += result[key];
      // Nothing due, or only cells whose column another worker is creating right now.
      if (result.claimed === 0 || result.skipped === result.claimed) break;
    }
    return total;
  }

  async function runLoop(): Promise<void> {
    while (isRunning()) {
      let idle = true;
      try {
        const result = await runOnce();
        idle = result.claimed === 0 || result.skipped === result.claimed;
      } catch (error) {
        logger.error({ err: error, workerId }, 'passback run failed');
      }
      if (isRunning() && idle) await options.sleep(limits.pollIntervalMs);
    }
  }

  return {
    workerId,
    runOnce,
    drain,
    start() {
      if (running) return;
      running = true;
      stopRequested = false;
      loop = runLoop();
    },
    async stop() {
      running = false;
      stopRequested = true;
      await loop;
      loop = undefined;
      stopRequested = false;
    },
  };
}
