import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { isUuid } from '../../ids.ts';
import type { Database } from '../schema.ts';
import type { JobStatus, JobTable } from './schema.ts';

/**
 * All SQL of the background-job table. Claims, progress and outcomes are guarded by `claimed_by`:
 * a runner that lost its lease (it stalled past it and another runner took the job) can no longer
 * write to the job. Reads for pages filter by `tenant_id`; the claim is the one query across
 * districts (like the passback worker's), and each claimed job carries its district.
 */

type Db = Kysely<Database> | Transaction<Database>;

export interface JobRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly kind: string;
  readonly payload: unknown;
  readonly status: JobStatus;
  /** Starts so far, this one included while it runs. */
  readonly attempts: number;
  readonly maxAttempts: number;
  readonly runAt: Date;
  readonly done: number;
  readonly total: number;
  readonly note: string | null;
  /** The last failed attempt's error, for operators (never shown to people as is). */
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
}

function toJob(row: Selectable<JobTable>): JobRecord {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    kind: row.kind,
    payload: row.payload,
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    runAt: row.run_at,
    done: row.done,
    total: row.total,
    note: row.note,
    lastError: row.last_error,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

export interface NewJob {
  readonly tenantId: string;
  readonly kind: string;
  /** JSON-serialisable; keep people's names and ids out of it (it is exported with the district). */
  readonly payload?: unknown;
  /** Starts allowed before the job is failed (a crash counts as one). Default 5. */
  readonly maxAttempts?: number | undefined;
  /** Not before this time. Default now. */
  readonly runAt?: Date | undefined;
}

/**
 * Adds a job (inside the caller's transaction when given one, so the job exists exactly when the
 * change that needs it is committed). With `claim`, the job starts claimed by that runner: it runs
 * in this process at once, and is taken up by another runner only if this one dies.
 */
export async function insertJob(
  db: Db,
  input: NewJob & {
    readonly now: Date;
    readonly claim?: { readonly workerId: string; readonly until: Date } | undefined;
  },
): Promise<JobRecord> {
  const row = await db
    .insertInto('jobs')
    .values({
      tenant_id: input.tenantId,
      kind: input.kind,
      payload: JSON.stringify(input.payload ?? {}),
      status: input.claim === undefined ? 'queued' : 'running',
      attempts: input.claim === undefined ? 0 : 1,
      max_attempts: input.maxAttempts ?? 5,
      run_at: input.runAt ?? input.now,
      claimed_by: input.claim?.workerId ?? null,
      claimed_until: input.claim?.until ?? null,
      created_at: input.now,
      started_at: input.claim === undefined ? null : input.now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toJob(row);
}

/**
 * Claims up to `limit` jobs of the given kinds that are due (queued and `run_at` passed) or whose
 * runner's lease ran out (it died or stalled), oldest first. Locked rows are skipped, so two
 * runners never claim one job. Each claim counts as an attempt.
 */
export async function claimDueJobs(
  db: Db,
  input: {
    readonly workerId: string;
    readonly now: Date;
    readonly leaseMs: number;
    readonly kinds: readonly string[];
    readonly limit: number;
  },
): Promise<JobRecord[]> {
  if (input.kinds.length === 0) return [];
  const until = new Date(input.now.getTime() + input.leaseMs);
  const result = await sql<Selectable<JobTable>>`
    WITH due AS (
      SELECT id FROM jobs
      WHERE status IN ('queued', 'running')
        AND kind IN (${sql.join(input.kinds)})
        AND ((status = 'queued' AND run_at <= ${input.now})
          OR (status = 'running' AND claimed_until <= ${input.now}))
      ORDER BY run_at, created_at
      LIMIT ${input.limit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE jobs j
    SET status = 'running', claimed_by = ${input.workerId}, claimed_until = ${until},
      attempts = j.attempts + 1, started_at = COALESCE(j.started_at, ${input.now})
    FROM due
    WHERE j.id = due.id
    RETURNING j.*
  `.execute(db);
  return result.rows.map(toJob).sort((a, b) => a.runAt.getTime() - b.runAt.getTime());
}

/**
 * Stores a running job's progress and extends its lease. False when the runner no longer holds
 * the job (its lease ran out and another runner took it).
 */
export async function recordProgress(
  db: Db,
  input: {
    readonly jobId: string;
    readonly workerId: string;
    readonly done: number;
    readonly total: number;
    readonly note?: string | undefined;
    readonly leaseUntil: Date;
  },
): Promise<boolean> {
  const result = await db
    .updateTable('jobs')
    .set({
      done: input.done,
      total: input.total,
      note: input.note ?? null,
      claimed_until: input.leaseUntil,
    })
    .where('id', '=', input.jobId)
    .where('claimed_by', '=', input.workerId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** The job ran to its end. False when the runner no longer held it. */
export async function completeJob(
  db: Db,
  input: { readonly jobId: string; readonly workerId: string; readonly now: Date },
): Promise<boolean> {
  const result = await db
    .updateTable('jobs')
    .set({ status: 'succeeded', claimed_by: null, claimed_until: null, finished_at: input.now })
    .where('id', '=', input.jobId)
    .where('claimed_by', '=', input.workerId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * An attempt failed: with `retryAt` the job waits until then and is claimed again, without it the
 * job has failed for good. False when the runner no longer held it.
 */
export async function recordFailure(
  db: Db,
  input: {
    readonly jobId: string;
    readonly workerId: string;
    readonly now: Date;
    readonly error: string;
    readonly retryAt: Date | undefined;
  },
): Promise<boolean> {
  const result = await db
    .updateTable('jobs')
    .set(
      input.retryAt === undefined
        ? {
            status: 'failed',
            claimed_by: null,
            claimed_until: null,
            last_error: input.error,
            finished_at: input.now,
          }
        : {
            status: 'queued',
            claimed_by: null,
            claimed_until: null,
            last_error: input.error,
            run_at: input.retryAt,
          },
    )
    .where('id', '=', input.jobId)
    .where('claimed_by', '=', input.workerId)
    .where('status', '=', 'running')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Gives a claimed job back untouched (the runner is stopping): due at once for any runner, and
 * the interrupted start does not count as an attempt.
 */
export async function releaseJob(
  db: Db,
  input: { readonly jobId: string; readonly workerId: string; readonly now: Date },
): Promise<void> {
  await db
    .updateTable('jobs')
    .set((eb) => ({
      status: 'queued',
      claimed_by: null,
      claimed_until: null,
      run_at: input.now,
      attempts: eb('attempts', '-', 1),
    }))
    .where('id', '=', input.jobId)
    .where('claimed_by', '=', input.workerId)
    .where('status', '=', 'running')
    .execute();
}

/** One job of the district (status pages), or undefined for another district's or a bad id. */
export async function findJob(
  db: Db,
  tenantId: string,
  jobId: string,
): Promise<JobRecord | undefined> {
  if (!isUuid(jobId)) return undefined;
  const row = await db
    .selectFrom('jobs')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', jobId)
    .executeTakeFirst();
  return row === undefined ? undefined : toJob(row);
}

/** The district's newest jobs of one kind, newest first. */
export async function listJobs(
  db: Db,
  tenantId: string,
  kind: string,
  limit = 20,
): Promise<JobRecord[]> {
  const rows = await db
    .selectFrom('jobs')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('kind', '=', kind)
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toJob);
}
