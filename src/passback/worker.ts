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
import { classifyPassbackError, type PassbackErrorClass } from './errors.ts';
import { PLATFORM_PACING } from '../lms/platforms/index.ts';
import type { PlatformFlavour } from '../storage/lti/schema.ts';
import { createTokenBucket, type TokenBucket } from './token-bucket.ts';
import { changedByTeacher, failureOutcome, freshTimestamp } from './outcome.ts';

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

/** What one worker's loop changes as it runs. */
interface WorkerState {
  running: boolean;
  /** Set by stop(): cells of the current batch not yet posted are given back, not posted. */
  stopRequested: boolean;
  /** When the queue gauges were last refreshed (ms). */
  statsAt: number;
  loop: Promise<void> | undefined;
}

/** One worker: its settings and state, passed to each step explicitly. */
interface WorkerContext {
  readonly options: PassbackWorkerOptions;
  readonly db: Kysely<Database>;
  readonly logger: Logger;
  readonly workerId: string;
  readonly limits: PassbackLimits;
  readonly now: () => Date;
  readonly random: () => number;
  readonly metrics: PassbackMetrics | undefined;
  /** Per worker instance, never per module: two workers in one process have their own buckets. */
  readonly buckets: Map<string, TokenBucket>;
  readonly state: WorkerState;
}

/** One claimed batch: what its cells share while they are posted. */
interface Batch {
  readonly counts: { -readonly [K in keyof PassbackRunResult]: number };
  /** One LMS port per course, resolved once per batch. */
  readonly lmsByCourse: Map<string, Promise<LmsPort>>;
  /** LMS column ids found or created during the batch, by column id. */
  readonly known: Map<string, string>;
  /** Outcome writes still running; the batch ends only after all of them. */
  readonly writes: Promise<unknown>[];
}

/** An ensured cell: the LMS to call, its bucket, and the LMS column to post to. */
interface CellTarget {
  readonly lms: LmsPort;
  readonly bucket: TokenBucket;
  readonly column: GradebookColumn;
}

function bucketFor(ctx: WorkerContext, platformId: string, flavour: string): TokenBucket {
  let bucket = ctx.buckets.get(platformId);
  if (bucket === undefined) {
    // An explicit rate (configuration, tests) wins; else the flavour's preset; else the default.
    const preset =
      ctx.options.limits?.requestsPerSecond === undefined
        ? PLATFORM_PACING[flavour as PlatformFlavour]
        : undefined;
    bucket = createTokenBucket({
      requestsPerSecond: preset?.requestsPerSecond ?? ctx.limits.requestsPerSecond,
      burst: preset?.burst ?? ctx.limits.burst,
      now: ctx.options.now,
      sleep: ctx.options.sleep,
    });
    ctx.buckets.set(platformId, bucket);
  }
  return bucket;
}

function lmsForCell(ctx: WorkerContext, batch: Batch, cell: ClaimedCell): Promise<LmsPort> {
  const key = `${cell.tenantId}|${cell.courseId}`;
  let lms = batch.lmsByCourse.get(key);
  if (lms === undefined) {
    lms = ctx.options.resolveLms(cell.tenantId, cell.courseId);
    batch.lmsByCourse.set(key, lms);
  }
  return lms;
}

/**
 * Records the outcome without holding up the next post to the platform: the write runs while the
 * next request is in flight, and the batch waits for all of its writes before it ends (so a claim
 * is never released before its outcome is stored).
 */
function recordOutcome(
  ctx: WorkerContext,
  batch: Batch,
  cell: ClaimedCell,
  outcome: PostOutcome,
): CellResult {
  const write = recordPostOutcome(ctx.db, {
    cell,
    workerId: ctx.workerId,
    now: ctx.now(),
    outcome,
  });
  // Handled here so a failed write is not an unhandled rejection; runOnce rethrows it.
  write.catch(() => undefined);
  batch.writes.push(write);
  ctx.metrics?.posts.inc({ result: outcome.result });
  if (outcome.result === 'failed') {
    ctx.logger.warn(
      {
        tenantId: cell.tenantId,
        courseId: cell.courseId,
        columnId: cell.columnId,
        code: outcome.code,
      },
      'grade passback failed; waiting for the teacher',
    );
  } else if (outcome.result === 'retrying') {
    ctx.logger.info(
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
  ctx: WorkerContext,
  cell: ClaimedCell,
  lms: LmsPort,
  bucket: TokenBucket,
  known: Map<string, string>,
): Promise<GradebookColumn | 'skip'> {
  const { db } = ctx;
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
    now: ctx.now(),
    leaseMs: ctx.limits.leaseMs,
  });
  if (!leased) return 'skip';
  const found = await findOrCreateColumn(ctx, cell, lms, bucket);
  await markColumnReady(db, {
    tenantId: cell.tenantId,
    columnId: cell.columnId,
    lmsColumnId: found.id,
  });
  known.set(cell.columnId, found.id);
  return toColumn(found.id);
}

/** Under the column lease: the LMS's column by tag and resourceId, created when there is none. */
async function findOrCreateColumn(
  ctx: WorkerContext,
  cell: ClaimedCell,
  lms: LmsPort,
  bucket: TokenBucket,
): Promise<GradebookColumn> {
  const query = { tag: cell.column.tag, resourceId: cell.column.resourceId };
  try {
    await bucket.take();
    const found = await lms.findGradebookColumn(query);
    if (found !== undefined) return found;
    await bucket.take();
    const created = await lms.createGradebookColumn({
      label: cell.column.label,
      scoreMaximum: cell.column.scoreMaximum,
      ...query,
    });
    ctx.logger.info(
      { tenantId: cell.tenantId, columnId: cell.columnId },
      'gradebook column created',
    );
    return created;
  } catch (error) {
    // A creation that timed out may still have happened: the next look-up by tag and resourceId
    // finds it, so giving the lease back cannot duplicate the column.
    await releaseColumnEnsure(ctx.db, cell.tenantId, cell.columnId);
    throw error;
  }
}

/** A 404 on a score post: the column was deleted in the LMS, or the course is gone (concluded). */
async function explainNotFound(
  ctx: WorkerContext,
  cell: ClaimedCell,
  { lms, bucket, column }: CellTarget,
): Promise<PassbackErrorClass> {
  try {
    await bucket.take();
    const found = await lms.findGradebookColumn({
      tag: cell.column.tag,
      resourceId: cell.column.resourceId,
    });
    if (found === undefined) {
      await markColumnDeleted(ctx.db, cell.tenantId, cell.columnId);
      return { kind: 'permanent', code: 'column_deleted', httpStatus: 404 };
    }
    if (found.id !== column.id) {
      // The column exists under another URL (e.g. the LMS moved it): use it from now on.
      await markColumnReady(ctx.db, {
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

/**
 * Step 1, ensure the column: the course's LMS and the cell's column in it. A failure is recorded
 * as the cell's outcome; a column another worker is creating gives the cell back.
 */
async function ensureCellColumn(
  ctx: WorkerContext,
  batch: Batch,
  cell: ClaimedCell,
  bucket: TokenBucket,
): Promise<CellTarget | CellResult> {
  let column: GradebookColumn | 'skip';
  let lms: LmsPort;
  try {
    lms = await lmsForCell(ctx, batch, cell);
    column = await ensureColumn(ctx, cell, lms, bucket, batch.known);
  } catch (error) {
    const cause = classifyPassbackError(error);
    ctx.logger.debug(
      { err: error, columnId: cell.columnId },
      'could not ensure the gradebook column',
    );
    return recordOutcome(ctx, batch, cell, failureOutcome(ctx, cell, cause, undefined));
  }
  if (column === 'skip') {
    await releaseClaim(ctx.db, cell, ctx.workerId);
    return 'skipped';
  }
  return { lms, bucket, column };
}

/**
 * Step 2, read the result: when the LMS can tell, a grade a teacher changed there is held (stored
 * as held, not posted over). Answers whether the cell was held.
 */
async function holdTeacherGrade(
  ctx: WorkerContext,
  batch: Batch,
  cell: ClaimedCell,
  { lms, bucket, column }: CellTarget,
): Promise<boolean> {
  if (lms.readScore === undefined) return false;
  await bucket.take();
  const shown = await lms.readScore(column, cell.lmsUserId);
  if (!changedByTeacher(cell, shown)) return false;
  await Promise.allSettled(batch.writes);
  await recordHeld(ctx.db, { cell, workerId: ctx.workerId, now: ctx.now(), lmsValue: shown });
  ctx.metrics?.posts.inc({ result: 'held' });
  ctx.logger.info(
    { tenantId: cell.tenantId, columnId: cell.columnId },
    'grade changed by a teacher in the LMS; not overwritten',
  );
  return true;
}

/** Step 3, post: the score, once the previous outcome is stored. */
async function postCellScore(
  batch: Batch,
  cell: ClaimedCell,
  { lms, bucket, column }: CellTarget,
  timestamp: Date,
): Promise<void> {
  await bucket.take();
  // The previous outcome is stored before the next post leaves (the write overlapped the
  // bucket's wait), so a crash can leave at most the one post in flight unrecorded.
  await Promise.allSettled(batch.writes);
  await lms.postScore(column, {
    userId: cell.lmsUserId,
    scoreGiven: cell.value,
    scoreMaximum: cell.column.scoreMaximum,
    // Canvas adds a new submission comment on every post that carries one: only a changed text.
    comment: cell.comment === cell.confirmedComment ? undefined : cell.comment,
    timestamp,
  });
}

/**
 * One cell, as a chain of named steps: ensure the column → read the result (a teacher's change is
 * held) → post → record the outcome (sent, or the failure explained).
 */
async function processCell(
  ctx: WorkerContext,
  batch: Batch,
  cell: ClaimedCell,
): Promise<CellResult> {
  const bucket = bucketFor(ctx, cell.platformId, cell.platformFlavour);
  const target = await ensureCellColumn(ctx, batch, cell, bucket);
  if (typeof target === 'string') return target;
  const timestamp = freshTimestamp(ctx.now, cell);
  try {
    if (await holdTeacherGrade(ctx, batch, cell, target)) return 'held';
    await postCellScore(batch, cell, target, timestamp);
    return recordOutcome(ctx, batch, cell, { result: 'sent', timestamp });
  } catch (error) {
    let cause = classifyPassbackError(error);
    if (cause.kind === 'not_found') cause = await explainNotFound(ctx, cell, target);
    ctx.logger.debug({ err: error, columnId: cell.columnId }, 'score post failed');
    return recordOutcome(ctx, batch, cell, failureOutcome(ctx, cell, cause, timestamp));
  }
}

/** One platform's cells, one after another: calls to a platform never overlap. */
async function postCells(
  ctx: WorkerContext,
  batch: Batch,
  platformCells: readonly ClaimedCell[],
): Promise<void> {
  for (const cell of platformCells) {
    if (ctx.state.stopRequested) {
      await releaseClaim(ctx.db, cell, ctx.workerId);
      batch.counts.skipped += 1;
      continue;
    }
    const result = await processCell(ctx, batch, cell);
    batch.counts[result] += 1;
  }
}

/** With platform locks, only the lock's holder posts; another worker's platform waits a run. */
async function postPlatform(
  ctx: WorkerContext,
  batch: Batch,
  platformId: string,
  platformCells: readonly ClaimedCell[],
): Promise<void> {
  if (ctx.options.platformLocks !== true) return postCells(ctx, batch, platformCells);
  const held = await withPlatformLock(ctx.db, platformId, () =>
    postCells(ctx, batch, platformCells),
  );
  if (held.locked) return;
  // Another worker is calling this platform: give the cells back for a later run.
  await releaseClaims(ctx.db, platformCells, ctx.workerId);
  batch.counts.skipped += platformCells.length;
}

function byPlatform(cells: readonly ClaimedCell[]): Map<string, ClaimedCell[]> {
  const groups = new Map<string, ClaimedCell[]>();
  for (const cell of cells) {
    const list = groups.get(cell.platformId) ?? [];
    list.push(cell);
    groups.set(cell.platformId, list);
  }
  return groups;
}

/** The gauges count every district's queue: refreshed at most every STATS_INTERVAL_MS. */
async function refreshGauges(ctx: WorkerContext, claimed: number): Promise<void> {
  const at = ctx.now().getTime();
  if (ctx.metrics !== undefined && (claimed > 0 || at - ctx.state.statsAt >= STATS_INTERVAL_MS)) {
    ctx.state.statsAt = at;
    const stats = await queueStats(ctx.db, ctx.now());
    ctx.metrics.queueDepth.set(stats.depth);
    ctx.metrics.oldestPending.set(stats.oldestPendingSeconds);
  }
}

async function runOnce(ctx: WorkerContext): Promise<PassbackRunResult> {
  const cells = await claimDueCells(ctx.db, {
    workerId: ctx.workerId,
    now: ctx.now(),
    leaseMs: ctx.limits.leaseMs,
    limit: ctx.limits.batchSize,
  });
  const batch: Batch = {
    counts: { claimed: cells.length, sent: 0, retrying: 0, failed: 0, skipped: 0, held: 0 },
    lmsByCourse: new Map(),
    known: new Map(),
    writes: [],
  };
  // One chain per platform: calls to a platform never overlap (Canvas limits per installation).
  await Promise.all(
    [...byPlatform(cells).entries()].map(([platformId, platformCells]) =>
      postPlatform(ctx, batch, platformId, platformCells),
    ),
  ).finally(() => Promise.allSettled(batch.writes));
  const failedWrite = (await Promise.allSettled(batch.writes)).find((w) => w.status === 'rejected');
  if (failedWrite !== undefined) throw failedWrite.reason;
  const courses = new Map(cells.map((cell) => [cell.courseId, cell.tenantId]));
  for (const [courseId, tenantId] of courses) {
    await recordCourseRun(ctx.db, { tenantId, courseId, now: ctx.now() });
  }
  await refreshGauges(ctx, cells.length);
  return batch.counts;
}

async function drain(ctx: WorkerContext, maxRuns = 10_000): Promise<PassbackRunResult> {
  const total = { claimed: 0, sent: 0, retrying: 0, failed: 0, skipped: 0, held: 0 };
  for (let run = 0; run < maxRuns; run += 1) {
    const result = await runOnce(ctx);
    for (const key of Object.keys(total) as (keyof PassbackRunResult)[]) total[key] += result[key];
    // Nothing due, or only cells whose column another worker is creating right now.
    if (result.claimed === 0 || result.skipped === result.claimed) break;
  }
  return total;
}

// A call, not the field: stop() flips `running` while the loop awaits.
function isRunning(state: WorkerState): boolean {
  return state.running;
}

async function runLoop(ctx: WorkerContext): Promise<void> {
  while (isRunning(ctx.state)) {
    let idle = true;
    try {
      const result = await runOnce(ctx);
      idle = result.claimed === 0 || result.skipped === result.claimed;
    } catch (error) {
      ctx.logger.error({ err: error, workerId: ctx.workerId }, 'passback run failed');
    }
    if (isRunning(ctx.state) && idle) await ctx.options.sleep(ctx.limits.pollIntervalMs);
  }
}

function start(ctx: WorkerContext): void {
  if (ctx.state.running) return;
  ctx.state.running = true;
  ctx.state.stopRequested = false;
  ctx.state.loop = runLoop(ctx);
}

async function stop(ctx: WorkerContext): Promise<void> {
  ctx.state.running = false;
  ctx.state.stopRequested = true;
  await ctx.state.loop;
  ctx.state.loop = undefined;
  ctx.state.stopRequested = false;
}

/**
 * The passback reconciler: posts the difference between desired and confirmed grades. Posts go out
 * of any transaction (a slow LMS must not hold row locks); the claim lease keeps other workers off
 * the cells meanwhile. Calls to one platform run one at a time and through a token bucket.
 */
export function createPassbackWorker(options: PassbackWorkerOptions): PassbackWorker {
  const ctx: WorkerContext = {
    options,
    db: options.db,
    logger: options.logger,
    workerId: options.workerId ?? randomUUID(),
    limits: { ...DEFAULT_PASSBACK_LIMITS, ...options.limits },
    now: options.now,
    random: options.random ?? Math.random,
    metrics: options.metrics === undefined ? undefined : passbackMetrics(options.metrics),
    buckets: new Map(),
    state: {
      running: false,
      stopRequested: false,
      statsAt: Number.NEGATIVE_INFINITY,
      loop: undefined,
    },
  };
  return {
    workerId: ctx.workerId,
    runOnce: () => runOnce(ctx),
    drain: (maxRuns?: number) => drain(ctx, maxRuns),
    start: () => {
      start(ctx);
    },
    stop: () => stop(ctx),
  };
}
