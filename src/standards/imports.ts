import type { Kysely } from 'kysely';
import { isUuid } from '../ids.ts';
import type { Resolver } from '../lti/dynamic-registration.ts';
import type { FetchFunction } from '../lti/http.ts';
import type { Logger } from '../logger.ts';
import type { Database } from '../storage/schema.ts';
import { findFramework } from '../storage/standards/standards.repository.ts';
import {
  CaseServerError,
  caseServerProblem,
  checkCasePackageUrl,
  fetchCasePackage,
} from './case-server.ts';
import { parseCasePackage } from './formats/case-import.ts';
import { parseStandardsCsv } from './formats/csv-import.ts';
import type { ImportError, ImportResult } from '../domain/standards-model.ts';
import { importFramework, type ImportFrameworkInput, type ImportReport } from './import.ts';
import type {
  ImportJobPayload,
  ImportJobProgress,
  ImportJobs,
  ImportJobState,
} from './import-jobs.ts';
import { findImportRecord, type FrameworkRow, type ImportHistoryEntry } from './library.ts';

/**
 * Starting a standards import into a district, from an uploaded file or a CASE server. The checks a
 * person can fix at once (an empty file, a file that is not UTF-8, a framework not in the list, a
 * CASE server address refused) answer before anything starts; the import itself runs as a job
 * of the job runner (`import-jobs.ts`, `runImportJob`) and records its outcome in `standard_imports`.
 */

/** How this instance reaches CASE servers (pinned fetch, DNS, whether loopback http is allowed). */
export interface CaseServerAccess {
  readonly fetch: FetchFunction;
  readonly resolve: Resolver;
  readonly allowLoopbackHttp: boolean;
  readonly userAgent: string;
  readonly timeoutMs: number;
}

export interface StandardsImportDeps {
  readonly db: Kysely<Database>;
  readonly now: () => Date;
  readonly newId: () => string;
  readonly logger: Logger;
  readonly jobs: ImportJobs;
  readonly caseServer: CaseServerAccess;
  /** Largest package or file imported (bytes). */
  readonly maxBytes: number;
}

/** Started (the job to follow), or refused with a problem for the import form. */
export type StartedImport =
  | { readonly ok: true; readonly jobId: string }
  | { readonly ok: false; readonly problem: ImportError };

export interface FileImportInput {
  readonly tenantId: string;
  /** The district's name: the creator of a CSV framework that names none. */
  readonly tenantName: string;
  /** Opaque id of who started the import. */
  readonly actor: string;
  readonly file: { readonly filename: string; readonly data: Buffer } | undefined;
  /** The framework to update ('' for a new one). */
  readonly framework: string;
  readonly title: string;
}

/** A problem with one field of the upload form. */
export function invalidValue(field: 'file' | 'framework', message: string): ImportError {
  return { code: 'invalid_value', field, message };
}

type DetectedFormat = 'case' | 'csv';

/** A CASE package is a JSON object; anything else is read as CSV (whose header names the form). */
function detectFormat(filename: string, text: string): DetectedFormat {
  const first = text.replace(/^\uFEFF/, '').trimStart()[0];
  if (first === '{' || first === '[') return 'case';
  if (/\.json$/i.test(filename)) return 'case';
  return 'csv';
}

function decodeUtf8(data: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    return undefined;
  }
}

/** Imports what a job read into the district; its progress counts the parsed standards. */
function importParsed(
  deps: Pick<StandardsImportDeps, 'db' | 'now' | 'newId'>,
  progress: ImportJobProgress,
  input: { readonly tenantId: string; readonly actor: string },
  parsed: ImportResult,
  origin: Pick<ImportFrameworkInput, 'source' | 'sourceUrl'>,
): Promise<ImportReport> {
  progress.total = parsed.ok ? parsed.framework.items.length : 0;
  return importFramework(
    deps.db,
    {
      tenantId: input.tenantId,
      actor: input.actor,
      framework: parsed,
      ...origin,
      onProgress: (report) => {
        progress.phase = report.phase;
        // Archive and association phases count other things; the page counts standards.
        if (report.phase === 'prepare' || report.phase === 'items' || report.phase === 'done') {
          progress.done = report.done;
          progress.total = report.total;
        }
      },
    },
    { now: deps.now, newId: deps.newId },
  );
}

/**
 * What a standards import job does (`import-jobs.ts` runs it): parses the file or fetches the
 * CASE server's package, then imports it into the district.
 */
export async function runImportJob(
  deps: Omit<StandardsImportDeps, 'jobs' | 'logger'>,
  tenantId: string,
  payload: ImportJobPayload,
  progress: ImportJobProgress,
  secrets: { readonly token: string | undefined; readonly text: string | undefined },
): Promise<ImportReport> {
  const who = { tenantId, actor: payload.actor };
  if (payload.source === 'file') {
    // The text lives only in the memory of the instance the file was uploaded to.
    if (secrets.text === undefined) throw new Error('the uploaded file is no longer in memory');
    if (payload.csv === undefined) {
      const parsed = parseCasePackage(secrets.text, { maxBytes: deps.maxBytes });
      return importParsed(deps, progress, who, parsed, { source: 'case_file' });
    }
    const parsed = parseStandardsCsv(secrets.text, { maxBytes: deps.maxBytes, ...payload.csv });
    return importParsed(deps, progress, who, parsed, { source: 'csv' });
  }
  const { caseServer } = deps;
  let parsed: ImportResult;
  let sourceUrl = payload.url;
  try {
    const fetched = await fetchCasePackage(payload.url, {
      fetch: caseServer.fetch,
      resolve: caseServer.resolve,
      maxBytes: deps.maxBytes,
      timeoutMs: caseServer.timeoutMs,
      allowLoopbackHttp: caseServer.allowLoopbackHttp,
      userAgent: caseServer.userAgent,
      ...(secrets.token === undefined ? {} : { bearerToken: secrets.token }),
    });
    parsed = fetched.result;
    sourceUrl = fetched.url;
  } catch (error) {
    if (!(error instanceof CaseServerError)) throw error;
    parsed = { ok: false, errors: [caseServerProblem(error)] };
  }
  progress.phase = 'prepare';
  return importParsed(deps, progress, who, parsed, { source: 'case_server', sourceUrl });
}

/** Checks an uploaded file and starts importing it (a CASE package or a CSV file). */
export async function startFileImport(
  deps: StandardsImportDeps,
  input: FileImportInput,
): Promise<StartedImport> {
  const file = input.file;
  if (file === undefined || file.data.length === 0) {
    return refused(
      'file',
      'Choose a file to import: a CASE package (.json) or a CSV file (.csv). The chosen file is empty or no file was chosen.',
    );
  }
  const text = decodeUtf8(file.data);
  if (text === undefined) {
    return refused(
      'file',
      'The file is not UTF-8 text. In a spreadsheet program, save it again as "CSV UTF-8"; CASE packages are always UTF-8.',
    );
  }
  const target =
    input.framework === '' || !isUuid(input.framework)
      ? undefined
      : await findFramework(deps.db, input.tenantId, input.framework);
  if (input.framework !== '' && target === undefined) {
    return refused('framework', 'Choose a framework from the list, or “A new framework”.');
  }
  const format = detectFormat(file.filename, text);
  const title =
    input.title.trim() !== ''
      ? input.title.trim()
      : (target?.title ?? file.filename.replace(/\.[^.]*$/, '').trim());
  const jobId = await deps.jobs.start(input.tenantId, {
    source: 'file',
    actor: input.actor,
    filename: file.filename,
    text,
    ...(format === 'case'
      ? {}
      : {
          csv: {
            title: title === '' ? 'Imported standards' : title,
            creator: target?.creator ?? input.tenantName,
            ...(target === undefined ? {} : { caseGuid: target.case_guid }),
          },
        }),
  });
  deps.logger.info(
    { tenantId: input.tenantId, jobId, actor: input.actor, format, bytes: file.data.length },
    'standards import started',
  );
  return { ok: true, jobId };
}

function refused(field: 'file' | 'framework', message: string): StartedImport {
  return { ok: false, problem: invalidValue(field, message) };
}

/** Checks a CASE server address and starts fetching and importing its package. */
export async function startCaseServerImport(
  deps: StandardsImportDeps,
  input: {
    readonly tenantId: string;
    readonly actor: string;
    readonly url: string;
    /** A bearer token for the CASE server ('' for none). */
    readonly token: string;
  },
): Promise<StartedImport> {
  const { caseServer } = deps;
  const { url, token } = input;
  try {
    await checkCasePackageUrl(url, {
      resolve: caseServer.resolve,
      allowLoopbackHttp: caseServer.allowLoopbackHttp,
    });
  } catch (error) {
    if (!(error instanceof CaseServerError)) throw error;
    return { ok: false, problem: caseServerProblem(error) };
  }
  const jobId = await deps.jobs.start(input.tenantId, {
    source: 'case_server',
    actor: input.actor,
    url,
    token,
  });
  // The URL may name a private framework; its host is enough to trace the request.
  deps.logger.info(
    { tenantId: input.tenantId, jobId, actor: input.actor, host: new URL(url).host },
    'standards import from a CASE server started',
  );
  return { ok: true, jobId };
}

/**
 * Where an import is: its job (live in this instance, or its `jobs` row), else the district's record
 * (with the framework it imported into, if any). undefined: no such import in the district.
 */
export async function findImportProgress(
  deps: Pick<StandardsImportDeps, 'db' | 'jobs'>,
  tenantId: string,
  id: string,
): Promise<
  | { readonly job: ImportJobState }
  | { readonly record: ImportHistoryEntry; readonly framework: FrameworkRow | undefined }
  | undefined
> {
  const job = await deps.jobs.find(tenantId, id);
  if (job !== undefined) return { job };
  const record = await findImportRecord(deps.db, tenantId, id);
  if (record === undefined) return undefined;
  const framework =
    record.frameworkId === null
      ? undefined
      : await findFramework(deps.db, tenantId, record.frameworkId);
  return { record, framework };
}
