import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { JobContext, JobRecord, JobRunner } from '../jobs/runner.ts';
import type { Logger } from '../logger.ts';
import { findJob } from '../storage/jobs/jobs.repository.ts';
import type { Database } from '../storage/schema.ts';
import type { ImportPhase, ImportReport } from './import.ts';

/**
 * Standards imports run as jobs of the durable job runner (`src/jobs/runner.ts`), started here at
 * once (`runHere`: the admin waits on the progress page) and recorded in `jobs`, so their outcome
 * outlives the process. The payload names what is imported (the file's name and size, or the CASE
 * server address); the file's text (up to 40 MB) and a CASE server's access token stay in this
 * instance's memory, never in the database. Imports run once (`maxAttempts: 1`): should the
 * process die mid-import, the runner that takes the job up after its lease fails it, and the page
 * says nothing was imported.
 *
 * Live progress stays in memory per app instance (`createImportJobs` is called once per app, never
 * at module level): the import reports progress synchronously inside its transaction, and on
 * PGlite (one connection) nothing can be written or read meanwhile. Once the job has ended (or in
 * another instance), its `jobs` row answers; a finished job's note names its `standard_imports`
 * record. Imports are not retried on their own: an import is one transaction, a failed one changed
 * nothing, and the admin is told to start it again (as before the runner).
 */

export const STANDARDS_IMPORT_JOB = 'standards.import';

/** Where a job is: reading or fetching its package, then the import's own phases. */
export type ImportJobPhase = 'reading' | 'fetching' | ImportPhase;

const payloadSchema = z.discriminatedUnion('source', [
  z.object({
    source: z.literal('file'),
    actor: z.string(),
    filename: z.string(),
    /** The file's size in bytes (its text waits in the instance's memory, under `ref`). */
    bytes: z.number().int().nonnegative(),
    ref: z.string(),
    /** For a CSV file: the framework it makes or updates. Absent: a CASE package. */
    csv: z
      .object({ title: z.string(), creator: z.string(), caseGuid: z.string().optional() })
      .optional(),
  }),
  z.object({
    source: z.literal('case_server'),
    actor: z.string(),
    url: z.string(),
    /** Names this start in the instance's memory, where the access token waits (if any). */
    ref: z.string(),
  }),
]);

/** What a standards import job reads and imports (stored with the job). */
export type ImportJobPayload = z.infer<typeof payloadSchema>;

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

/** What a start names: the payload, less the reference the instance adds for the token. */
export type ImportJobStart =
  | (Omit<Extract<ImportJobPayload, { source: 'file' }>, 'ref' | 'bytes'> & {
      /** The file's text: kept in memory for the run, never stored. */
      readonly text: string;
    })
  | (Omit<Extract<ImportJobPayload, { source: 'case_server' }>, 'ref'> & {
      /** The CASE server's access token ('' for none): kept in memory, never stored. */
      readonly token: string;
    });

/** Reads and imports what a job names, reporting into `progress`. */
export type ImportWork = (
  tenantId: string,
  payload: ImportJobPayload,
  progress: ImportJobProgress,
  secrets: { readonly token: string | undefined; readonly text: string | undefined },
) => Promise<ImportReport>;

export interface ImportJobsDeps {
  readonly db: Kysely<Database>;
  readonly runner: JobRunner;
  readonly now: () => Date;
  readonly newId: () => string;
  readonly logger: Logger;
  readonly work: ImportWork;
}

export interface ImportJobs {
  /** Records the job and starts it at once; answers its id. */
  start(tenantId: string, what: ImportJobStart): Promise<string>;
  /** A job of the district (another district's job is not found). */
  find(tenantId: string, jobId: string): Promise<ImportJobState | undefined>;
}

/** Finished jobs stay in memory this long (their `jobs` row answers after that). */
const LIVE_RETENTION_MS = 30 * 60 * 1000;
const MAX_LIVE_JOBS = 200;

export const IMPORT_CRASHED_MESSAGE =
  'The import failed for a reason on our side; nothing was imported. Try again later.';

const IMPORT_NOTE = /^import:([0-9a-f-]{36})$/i;

interface LiveJob extends ImportJobProgress {
  readonly id: string;
  readonly tenantId: string;
  readonly label: string;
  finishedAt: number | undefined;
  importId: string | undefined;
  failure: string | undefined;
}

const labelOf = (payload: ImportJobPayload): string =>
  payload.source === 'file' ? payload.filename : payload.url;

const firstPhase = (payload: ImportJobPayload): ImportJobPhase =>
  payload.source === 'file' ? 'reading' : 'fetching';

function liveState(job: LiveJob): ImportJobState {
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
}

/** A job of another instance, or of this one before a restart, from its `jobs` row. */
function storedState(record: JobRecord): ImportJobState | undefined {
  const payload = payloadSchema.safeParse(record.payload);
  if (!payload.success) return undefined;
  const running = record.status === 'queued' || record.status === 'running';
  return {
    id: record.id,
    tenantId: record.tenantId,
    label: labelOf(payload.data),
    phase: running ? firstPhase(payload.data) : 'done',
    done: record.done,
    total: record.total,
    running,
    importId: IMPORT_NOTE.exec(record.note ?? '')?.[1],
    failure: record.status === 'failed' ? IMPORT_CRASHED_MESSAGE : undefined,
  };
}

export function createImportJobs(deps: ImportJobsDeps): ImportJobs {
  const live = new Map<string, LiveJob>();
  // What a job started here needs but must not store (a CASE server's token, an uploaded file's
  // text), by the start's `ref`: memory only, held until the job runs.
  const tokens = new Map<string, string>();
  const texts = new Map<string, string>();

  function liveEntry(job: JobRecord, payload: ImportJobPayload): LiveJob {
    const known = live.get(job.id);
    if (known !== undefined) return known;
    const entry: LiveJob = {
      id: job.id,
      tenantId: job.tenantId,
      label: labelOf(payload),
      phase: firstPhase(payload),
      done: 0,
      total: 0,
      finishedAt: undefined,
      importId: undefined,
      failure: undefined,
    };
    live.set(job.id, entry);
    return entry;
  }

  function prune(): void {
    const cutoff = deps.now().getTime() - LIVE_RETENTION_MS;
    for (const [id, job] of live) {
      if (job.finishedAt !== undefined && job.finishedAt < cutoff) live.delete(id);
    }
    if (live.size >= MAX_LIVE_JOBS) {
      for (const [id, job] of live) {
        if (job.finishedAt !== undefined) live.delete(id);
        if (live.size < MAX_LIVE_JOBS / 2) break;
      }
    }
  }

  async function run(context: JobContext): Promise<void> {
    const { job } = context;
    const payload = payloadSchema.parse(job.payload);
    // Also a job taken up after another instance died: this one shows its progress from now on.
    const entry = liveEntry(job, payload);
    const token = tokens.get(payload.ref);
    const text = texts.get(payload.ref);
    tokens.delete(payload.ref);
    texts.delete(payload.ref);
    const fields = { tenantId: job.tenantId, jobId: job.id };
    try {
      const report = await deps.work(job.tenantId, payload, entry, { token, text });
      entry.importId = report.importId;
      // The note names the import record, for pages that read the job after this instance.
      await context.progress(entry.done, entry.total, `import:${report.importId}`);
      deps.logger.info(
        { ...fields, importId: report.importId, ok: report.ok },
        'standards import finished',
      );
    } catch (error) {
      entry.failure = IMPORT_CRASHED_MESSAGE;
      deps.logger.error({ ...fields, err: error }, 'standards import crashed');
      throw error;
    } finally {
      entry.finishedAt = deps.now().getTime();
    }
  }

  deps.runner.register(STANDARDS_IMPORT_JOB, run);

  return {
    async start(tenantId, what) {
      prune();
      let payload: ImportJobPayload;
      if (what.source === 'case_server') {
        const { token, ...rest } = what;
        payload = { ...rest, ref: deps.newId() };
        if (token !== '') tokens.set(payload.ref, token);
      } else {
        const { text, ...rest } = what;
        payload = { ...rest, bytes: Buffer.byteLength(text, 'utf8'), ref: deps.newId() };
        texts.set(payload.ref, text);
      }
      // One attempt: a failed import changed nothing and the admin starts it again (see above).
      const { job } = await deps.runner.runHere({
        tenantId,
        kind: STANDARDS_IMPORT_JOB,
        payload,
        maxAttempts: 1,
      });
      liveEntry(job, payload);
      return job.id;
    },
    async find(tenantId, jobId) {
      const entry = live.get(jobId);
      if (entry !== undefined) return entry.tenantId === tenantId ? liveState(entry) : undefined;
      const record = await findJob(deps.db, tenantId, jobId);
      return record?.kind === STANDARDS_IMPORT_JOB ? storedState(record) : undefined;
    },
  };
}
