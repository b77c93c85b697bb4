import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import type { IncomingMessage } from 'node:http';
import express, { type Request, type Response, type Router } from 'express';
import { USER_AGENT } from '../../app-services.ts';
import type { Resolver } from '../../lti/dynamic-registration.ts';
import { createPinnedFetch } from '../../net/pinned-fetch.ts';
import {
  addItem,
  archiveItem,
  createFramework,
  editItem,
  listAudit,
  moveItem,
  restoreItem,
  StandardsAuthoringError,
  type AuditEntry,
  type ItemSnapshot,
} from '../../standards/authoring.ts';
import {
  CaseServerError,
  checkCasePackageUrl,
  fetchCasePackage,
  type CaseServerErrorCode,
} from '../../standards/case-server.ts';
import { parseCasePackage } from '../../standards/formats/case-import.ts';
import { parseStandardsCsv, type StandardsCsvForm } from '../../standards/formats/csv-import.ts';
import type { ImportError, ImportErrorCode, ImportResult } from '../../standards/formats/model.ts';
import { fileTooLarge } from '../../standards/formats/problems.ts';
import {
  importFramework,
  type ImportFrameworkInput,
  type ImportPhase,
  type ImportReport,
} from '../../standards/import.ts';
import {
  createStandardsSearchCache,
  exportFrameworkAsCase,
  exportFrameworkAsCsv,
  listFrameworks,
  searchStandards,
} from '../../standards/queries.ts';
import { createAdminUserRepository } from '../../storage/lti/admin-users.repository.ts';
import type { Tenant } from '../../storage/lti/tenants.repository.ts';
import {
  findImport,
  lastImportByFramework,
  listRecentImports,
  type ImportHistoryEntry,
} from '../../storage/standards/import-history.repository.ts';
import type { FrameworkSource } from '../../storage/standards/schema.ts';
import { listTreeRows, type TreeRow } from '../../storage/standards/tree-view.repository.ts';
import {
  findFramework,
  findItem,
  type FrameworkRow,
} from '../../storage/standards/standards.repository.ts';
import { HttpError, notFound } from '../errors.ts';
import type { AdminPageContext } from './admin-context.ts';
import { checkCsrf, type AdminActor } from './admin-pages.ts';
import { isUuid } from '../../ids.ts';

/**
 * The district standards library in the admin area: frameworks, import (file upload or CASE server),
 * the tree with authoring, the audit trail and export.
 *
 * Uploads are plain `multipart/form-data` forms (they work without JavaScript). Express has no
 * multipart parser here, so this module reads the body itself with a byte limit and takes one file
 * field plus a few short text fields (see `readUpload`).
 *
 * Imports run in the background. Progress lives in memory per app instance (in this factory's
 * closure): on PGlite (one connection) the import's own progress row is not readable until its
 * transaction commits, so the progress page reads this state first and falls back to
 * `standard_imports` once the job is done or the process restarted.
 */

/** Uploads and CASE server answers: a 20,000-item CASE package is about 30 MB. */
export const MAX_IMPORT_BYTES = 40 * 1024 * 1024;
/** Room for the multipart framing and the short text fields around the file. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
/** A too-large upload is read to its end (so the browser sees the answer) up to this, then cut. */
const DRAIN_LIMIT_BYTES = 4 * MAX_IMPORT_BYTES;
/** Uploads read at the same time by one instance (each is held in memory while it is parsed). */
const MAX_CONCURRENT_UPLOADS = 2;
const CASE_SERVER_TIMEOUT_MS = 30_000;
/** Finished jobs stay in memory this long (the page redirects to the stored record anyway). */
const JOB_RETENTION_MS = 30 * 60 * 1000;
const MAX_TRACKED_JOBS = 200;

const form = express.urlencoded({ extended: false, limit: '256kb', parameterLimit: 50 });

function param(req: Request, name: string): string {
  const value: unknown = (req.params as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
}

function field(req: Request, name: string): string | undefined {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null) return undefined;
  const value: unknown = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/** The named text fields of a form, each '' when absent. */
function fields<const Name extends string>(
  req: Request,
  names: readonly Name[],
): Record<Name, string> {
  const values = {} as Record<Name, string>;
  for (const name of names) values[name] = field(req, name) ?? '';
  return values;
}

function query(req: Request, name: string): string | undefined {
  const value: unknown = (req.query as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

const SOURCE_LABELS: Readonly<Record<FrameworkSource, string>> = {
  case_file: 'CASE package file',
  case_server: 'CASE server',
  csv: 'CSV file',
  authored: 'Written here',
};

const NOTICES: Readonly<Record<string, string>> = {
  'framework-created': 'The framework was created. Add its first standards below.',
  'item-added': 'The standard was added.',
  'item-saved': 'The changes were saved.',
  'item-moved': 'The standard was moved.',
  'item-archived':
    'The standard (and its sub-standards) was archived. Teachers no longer see it; evidence is kept.',
  'item-restored': 'The standard was restored.',
};

function notice(req: Request): string | undefined {
  const code = query(req, 'done');
  return code === undefined ? undefined : NOTICES[code];
}

// ---------------------------------------------------------------- upload (multipart/form-data)

interface UploadedFile {
  readonly filename: string;
  readonly data: Buffer;
}

type Upload =
  | {
      readonly ok: true;
      readonly fields: Readonly<Record<string, string>>;
      readonly file: UploadedFile | undefined;
    }
  | { readonly ok: false; readonly status: number; readonly problem: ImportError };

/** Reads at most `limit` bytes; a longer body is drained (not kept) so the answer can be sent. */
async function readBodyLimited(
  req: IncomingMessage,
  limit: number,
): Promise<{ data: Buffer } | { tooLarge: number }> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  // Declared far beyond the limit: answer at once instead of reading it (the connection closes).
  if (Number.isFinite(declared) && declared > DRAIN_LIMIT_BYTES) return { tooLarge: declared };
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total <= limit) chunks.push(chunk);
    else if (total > DRAIN_LIMIT_BYTES) break;
  }
  if (total > limit) return { tooLarge: Number.isFinite(declared) ? declared : total };
  return { data: Buffer.concat(chunks) };
}

function boundaryOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined || !/^multipart\/form-data\s*;/i.test(contentType)) {
    return undefined;
  }
  const match = /boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return match?.[1] ?? match?.[2];
}

function dispositionParam(header: string, name: string): string | undefined {
  const match = new RegExp(`;\\s*${name}="((?:[^"\\\\]|\\\\.)*)"`, 'i').exec(header);
  return match?.[1]?.replace(/\\(.)/g, '$1');
}

/**
 * A small multipart/form-data parser for this form only: text fields (at most 20, each at most
 * 8 KB) and at most one file field named `file`. Returns undefined for a malformed body.
 */
export function parseMultipart(
  body: Buffer,
  boundary: string,
): { fields: Record<string, string>; file: UploadedFile | undefined } | undefined {
  const delimiter = Buffer.from(`--${boundary}`);
  const separator = Buffer.from(`\r\n--${boundary}`);
  const fields: Record<string, string> = {};
  let file: UploadedFile | undefined;
  let pos = body.indexOf(delimiter);
  if (pos !== 0) return undefined;
  for (let parts = 0; parts < 22; parts++) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString('latin1') === '--') return { fields, file };
    if (body.subarray(pos, pos + 2).toString('latin1') !== '\r\n') return undefined;
    pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos, 'latin1');
    if (headerEnd === -1 || headerEnd - pos > 4096) return undefined;
    const headers = body.toString('utf8', pos, headerEnd);
    const start = headerEnd + 4;
    const end = body.indexOf(separator, start);
    if (end === -1) return undefined;
    const disposition = /^content-disposition:\s*form-data(.*)$/im.exec(headers)?.[1];
    const name = disposition === undefined ? undefined : dispositionParam(disposition, 'name');
    if (disposition === undefined || name === undefined) return undefined;
    const filename = dispositionParam(disposition, 'filename');
    if (filename !== undefined) {
      if (name !== 'file' || file !== undefined) return undefined;
      file = { filename, data: body.subarray(start, end) };
    } else {
      if (end - start > 8192 || Object.keys(fields).length >= 20) return undefined;
      fields[name] = body.toString('utf8', start, end);
    }
    pos = end + 2;
  }
  return undefined;
}

/** A problem with one field of the upload form. */
function invalidValue(field: 'file' | 'framework', message: string): ImportError {
  return { code: 'invalid_value', field, message };
}

async function readUpload(req: Request): Promise<Upload> {
  const boundary = boundaryOf(req.headers['content-type']);
  if (boundary === undefined) {
    return {
      ok: false,
      status: 415,
      problem: invalidValue(
        'file',
        'Send the file with the upload form on this page (multipart/form-data).',
      ),
    };
  }
  const read = await readBodyLimited(req, MAX_IMPORT_BYTES + MULTIPART_OVERHEAD_BYTES);
  if ('tooLarge' in read) {
    return {
      ok: false,
      status: 413,
      problem: { ...fileTooLarge(read.tooLarge, MAX_IMPORT_BYTES), field: 'file' },
    };
  }
  const parsed = parseMultipart(read.data, boundary);
  if (parsed === undefined) {
    return {
      ok: false,
      status: 400,
      problem: invalidValue(
        'file',
        'The upload did not arrive complete. Choose the file again and import it.',
      ),
    };
  }
  if (parsed.file !== undefined && parsed.file.data.length > MAX_IMPORT_BYTES) {
    return {
      ok: false,
      status: 413,
      problem: { ...fileTooLarge(parsed.file.data.length, MAX_IMPORT_BYTES), field: 'file' },
    };
  }
  return { ok: true, fields: parsed.fields, file: parsed.file };
}

type DetectedFormat = 'case' | 'csv';

/** A CASE package is a JSON object; anything else is read as CSV (whose header names the form). */
function detectFormat(filename: string, text: string): DetectedFormat {
  const first = text.replace(/^\uFEFF/, '').trimStart()[0];
  if (first === '{' || first === '[') return 'case';
  if (/\.json$/i.test(filename)) return 'case';
  return 'csv';
}

// ---------------------------------------------------------------- problems as table rows

interface ProblemRow {
  readonly where: string;
  readonly field: string;
  readonly message: string;
}

function problemRows(errors: unknown): ProblemRow[] {
  if (!Array.isArray(errors)) return [];
  return errors.map((raw: unknown) => {
    const e = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<ImportError>;
    const where =
      e.line !== undefined
        ? `Line ${e.line}`
        : e.path !== undefined
          ? e.path
          : e.itemGuid !== undefined
            ? `Item ${e.itemGuid}`
            : 'The whole file';
    const field =
      e.field ?? (e.path !== undefined && e.path.includes('.') ? e.path.split('.').at(-1) : '');
    return {
      where:
        e.itemGuid !== undefined && e.line !== undefined ? `${where} (item ${e.itemGuid})` : where,
      field: field ?? '',
      message: typeof e.message === 'string' ? e.message : 'A problem without a description.',
    };
  });
}

function caseServerProblem(error: CaseServerError): ImportError {
  const codes: Partial<Record<CaseServerErrorCode, ImportErrorCode>> = {
    too_large: 'file_too_large',
    not_json: 'invalid_json',
    not_a_case_package: 'not_a_case_package',
  };
  return { code: codes[error.code] ?? 'invalid_value', field: 'url', message: error.message };
}

// ---------------------------------------------------------------- background jobs

type JobPhase = 'reading' | 'fetching' | ImportPhase;

const PHASE_LABELS: Readonly<Record<JobPhase, string>> = {
  reading: 'Reading the file',
  fetching: 'Fetching the package from the CASE server',
  prepare: 'Preparing',
  items: 'Saving standards',
  archive: 'Archiving standards no longer listed',
  associations: 'Saving associations',
  done: 'Finishing',
};

interface ImportJob {
  readonly id: string;
  readonly tenantId: string;
  readonly label: string;
  readonly startedAt: number;
  phase: JobPhase;
  done: number;
  total: number;
  finishedAt: number | undefined;
  importId: string | undefined;
  failure: string | undefined;
}

function jobStatus(job: ImportJob) {
  return {
    status: job.finishedAt === undefined ? 'running' : 'finished',
    phase: PHASE_LABELS[job.phase],
    done: job.done,
    total: job.total,
  };
}

// ---------------------------------------------------------------- tree view model

interface TreeNode {
  readonly id: string;
  readonly code: string;
  readonly statement: string;
  readonly type: string;
  readonly levels: string;
  readonly archived: boolean;
  readonly childCount: number;
}

/**
 * The tree as a flat list the view renders in one loop: `branch` opens a node with children (a
 * `<details>` and a nested list), `end` closes it, `leaf` is a node without children. Rendering
 * nested lists by recursive includes would compile the partial once per branch.
 */
type TreeEvent =
  | { readonly kind: 'branch'; readonly node: TreeNode }
  | { readonly kind: 'leaf'; readonly node: TreeNode }
  | { readonly kind: 'end' };

/** Above this many standards, the tree shows only as many levels as fit (open a node for more). */
export const TREE_NODE_LIMIT = 1500;

/**
 * Events for the subtree under `rootId` (null: the whole framework), as deep as fits in
 * TREE_NODE_LIMIT nodes: deeper nodes are left out and their parent shows how many it has.
 */
function treeEvents(items: readonly TreeRow[], rootId: string | null): TreeEvent[] {
  const children = new Map<string | null, TreeRow[]>();
  const ids = new Set(items.map((item) => item.id));
  for (const stored of items) {
    // Rows come siblings in order (position, then file order).
    const key = stored.parentId !== null && ids.has(stored.parentId) ? stored.parentId : null;
    const list = children.get(key);
    if (list) list.push(stored);
    else children.set(key, [stored]);
  }
  // The deepest level such that every node down to it fits in the limit (at least one level).
  let maxDepth = 0;
  let shown = 0;
  for (let level = children.get(rootId) ?? []; level.length > 0; maxDepth++) {
    shown += level.length;
    if (shown > TREE_NODE_LIMIT && maxDepth > 0) break;
    level = level.flatMap((stored) => children.get(stored.id) ?? []);
  }
  const events: TreeEvent[] = [];
  const visit = (parentId: string | null, depth: number): void => {
    for (const stored of children.get(parentId) ?? []) {
      const kids = children.get(stored.id)?.length ?? 0;
      const node: TreeNode = {
        id: stored.id,
        code: stored.code ?? '',
        statement: stored.fullStatement,
        type: stored.itemType ?? '',
        levels: stored.educationLevels.join(', '),
        archived: stored.archivedAt !== null,
        childCount: kids,
      };
      if (kids === 0 || depth + 1 >= maxDepth) {
        events.push({ kind: 'leaf', node });
        continue;
      }
      events.push({ kind: 'branch', node });
      visit(stored.id, depth + 1);
      events.push({ kind: 'end' });
    }
  };
  visit(rootId, 0);
  return events;
}

const shorten = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

function itemLabel(item: TreeRow | undefined): string {
  if (item === undefined) return 'a standard no longer in the framework';
  const code = item.code;
  return code === null
    ? `“${shorten(item.fullStatement, 60)}”`
    : `${code} “${shorten(item.fullStatement, 40)}”`;
}

function levelsOf(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((level) => level.trim())
    .filter((level) => level !== '');
}

function positionOf(text: string | undefined): number | undefined {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return undefined;
  const n = Number(trimmed);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) {
    throw new HttpError(400, 'bad_request', 'The position is a whole number from 1 (first).');
  }
  return n;
}

// ---------------------------------------------------------------- audit view model

const AUDIT_ACTIONS: Readonly<Record<string, string>> = {
  framework_created: 'Created the framework',
  item_added: 'Added a standard',
  item_edited: 'Edited a standard',
  item_moved: 'Moved a standard',
  item_archived: 'Archived a standard',
  item_restored: 'Restored a standard',
};

const SNAPSHOT_FIELDS: readonly [keyof ItemSnapshot, string][] = [
  ['code', 'Code'],
  ['fullStatement', 'Statement'],
  ['abbreviatedStatement', 'Short statement'],
  ['itemType', 'Type'],
  ['educationLevels', 'Grades'],
  ['parentId', 'Parent'],
  ['position', 'Position'],
];

function auditChanges(
  entry: AuditEntry,
  labelOfItem: (id: string | null) => string,
): { field: string; before: string; after: string }[] {
  const before = (entry.before ?? {}) as Partial<ItemSnapshot>;
  const after = (entry.after ?? {}) as Partial<ItemSnapshot>;
  const show = (key: keyof ItemSnapshot, value: unknown): string => {
    if (value === undefined || value === null || value === '') return '(none)';
    if (key === 'parentId') return labelOfItem(value as string);
    if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.join(', ');
    return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  };
  if (entry.action === 'framework_created') {
    const created = (entry.after ?? {}) as { title?: string };
    return [{ field: 'Title', before: '', after: created.title ?? '' }];
  }
  if (entry.action === 'item_archived' || entry.action === 'item_restored') return [];
  const out: { field: string; before: string; after: string }[] = [];
  for (const [key, label] of SNAPSHOT_FIELDS) {
    const a = JSON.stringify(before[key] ?? null);
    const b = JSON.stringify(after[key] ?? null);
    if (entry.action === 'item_added' ? b !== 'null' && b !== '[]' : a !== b) {
      out.push({
        field: label,
        before: entry.action === 'item_added' ? '' : show(key, before[key]),
        after: show(key, after[key]),
      });
    }
  }
  return out;
}

// ---------------------------------------------------------------- pages

const resolveHost: Resolver = async (hostname) => {
  try {
    return (await lookup(hostname, { all: true })).map((entry) => entry.address);
  } catch {
    return [];
  }
};

function isLoopbackHttp(publicUrl: string): boolean {
  const url = new URL(publicUrl);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return (
    url.protocol === 'http:' && (host === 'localhost' || host === '::1' || host.startsWith('127.'))
  );
}

interface Scope {
  readonly actor: AdminActor;
  readonly tenant: Tenant;
  /** Prefix of every link of the district's standards pages. */
  readonly root: string;
}

export function standardsAdminPages(router: Router, ctx: AdminPageContext): void {
  const { db, logger, services, publicUrl } = ctx.deps;
  const now = services.now;
  const authoringDeps = { now, newId: randomUUID };
  const searchCache = createStandardsSearchCache();
  const adminUsers = createAdminUserRepository(db, now);
  // Loopback http CASE servers only when the tool itself runs on loopback http (development, tests).
  const allowLoopbackHttp = isLoopbackHttp(publicUrl);
  const caseFetch = createPinnedFetch({ allowLoopback: allowLoopbackHttp });
  // Per app instance, in this closure (never module state): two apps in one process never share jobs.
  const jobs = new Map<string, ImportJob>();
  let uploadsInProgress = 0;

  /** The opaque id recorded in audits and import logs: never a name. */
  function actorId(req: Request): Promise<string> {
    return Promise.resolve(ctx.actorOf(req).id);
  }

  async function actorNames(): Promise<(actor: string) => string> {
    const names = new Map((await adminUsers.list()).map((u) => [`admin:${u.id}`, u.username]));
    return (actor) =>
      names.get(actor) ??
      (actor.startsWith('lti:')
        ? 'LTI admin'
        : actor.startsWith('admin:')
          ? 'A removed admin'
          : 'System');
  }

  async function scopeOf(req: Request): Promise<Scope> {
    const actor = ctx.actorOf(req);
    const tenantId = param(req, 'tenantId');
    const tenant = (await ctx.visibleTenants(actor)).find((t) => t.id === tenantId);
    // Another district answers exactly like a missing one.
    if (tenant === undefined) throw notFound('There is no such district.');
    return { actor, tenant, root: `${actor.base}/standards/district/${tenant.id}` };
  }

  async function frameworkOf(scope: Scope, req: Request): Promise<FrameworkRow> {
    const id = param(req, 'frameworkId');
    const framework = isUuid(id) ? await findFramework(db, scope.tenant.id, id) : undefined;
    if (framework === undefined) throw notFound('There is no such framework in this district.');
    return framework;
  }

  function page(scope: Scope, title: string, extra: Record<string, unknown> = {}) {
    return {
      ...ctx.layout(scope.actor, 'standards', title),
      styles: ['standards-admin'],
      root: scope.root,
      district: scope.tenant.name,
      isOperator: scope.actor.tenantId === undefined,
      standardsHome: `${scope.actor.base}/standards`,
      ...extra,
    };
  }

  function authoringFailure(error: unknown): string {
    if (error instanceof StandardsAuthoringError) {
      if (error.code === 'framework_not_found' || error.code === 'item_not_found') {
        throw notFound(error.message);
      }
      return error.message;
    }
    throw error;
  }

  // ---- the district list (operators) or the district's frameworks ----

  async function renderFrameworks(
    req: Request,
    res: Response,
    scope: Scope,
    formState: { values: Record<string, string>; error?: string } = { values: {} },
  ): Promise<void> {
    const [frameworks, lastImports, recent, nameOf] = await Promise.all([
      listFrameworks(db, scope.tenant.id),
      lastImportByFramework(db, scope.tenant.id),
      listRecentImports(db, scope.tenant.id, 10),
      actorNames(),
    ]);
    const titles = new Map(frameworks.map((f) => [f.id, f.title]));
    res.status(formState.error === undefined ? 200 : 400);
    res.render('admin/standards/index', {
      ...page(scope, 'Standards'),
      notice: notice(req),
      frameworks: frameworks.map((f) => ({
        href: `${scope.root}/frameworks/${f.id}`,
        title: f.title,
        version: f.version ?? '',
        itemCount: f.itemCount,
        source: SOURCE_LABELS[f.source],
        lastImport: lastImports.get(f.id)?.toISOString() ?? '',
      })),
      imports: recent.map((entry) => ({
        href: `${scope.root}/imports/${entry.id}`,
        startedAt: entry.startedAt.toISOString(),
        source: SOURCE_LABELS[entry.source],
        status: entry.status,
        framework: entry.frameworkId === null ? '' : (titles.get(entry.frameworkId) ?? ''),
        by: nameOf(entry.actor),
      })),
      form: formState,
    });
  }

  router.get('/standards', async (req, res) => {
    const actor = ctx.actorOf(req);
    const tenants = await ctx.visibleTenants(actor);
    if (actor.tenantId !== undefined) {
      const own = tenants[0];
      if (own === undefined) throw notFound('Your district is not set up yet.');
      res.redirect(303, `${actor.base}/standards/district/${own.id}`);
      return;
    }
    res.render('admin/standards/districts', {
      ...ctx.layout(actor, 'standards', 'Standards'),
      styles: ['standards-admin'],
      districts: tenants.map((t) => ({
        name: t.name,
        slug: t.slug,
        href: `${actor.base}/standards/district/${t.id}`,
      })),
    });
  });

  router.get('/standards/district/:tenantId', async (req, res) => {
    await renderFrameworks(req, res, await scopeOf(req));
  });

  router.post('/standards/district/:tenantId/frameworks', form, ctx.csrf, async (req, res) => {
    const scope = await scopeOf(req);
    const values = fields(req, ['title', 'creator', 'version', 'subjects', 'description']);
    const actor = await actorId(req);
    let frameworkId: string;
    try {
      frameworkId = await createFramework(
        db,
        {
          tenantId: scope.tenant.id,
          actor,
          title: values.title,
          creator: values.creator.trim() === '' ? scope.tenant.name : values.creator,
          version: values.version,
          description: values.description,
          subjects: levelsOf(values.subjects),
        },
        authoringDeps,
      );
    } catch (error) {
      await renderFrameworks(req, res, scope, { values, error: authoringFailure(error) });
      return;
    }
    logger.info({ tenantId: scope.tenant.id, frameworkId, actor }, 'admin created a framework');
    res.redirect(303, `${scope.root}/frameworks/${frameworkId}?done=framework-created`);
  });

  // ---- import ----

  async function renderImport(
    res: Response,
    scope: Scope,
    state: {
      status?: number;
      problems?: ProblemRow[];
      values?: Record<string, string>;
      failedForm?: 'file' | 'url';
    } = {},
  ): Promise<void> {
    const frameworks = await listFrameworks(db, scope.tenant.id);
    res.status(state.status ?? 200);
    res.render('admin/standards/import', {
      ...page(scope, 'Import standards'),
      frameworks: frameworks.map((f) => ({ id: f.id, title: f.title })),
      maxMb: (MAX_IMPORT_BYTES / 1_048_576).toFixed(0),
      problems: state.problems ?? [],
      failedForm: state.failedForm,
      values: state.values ?? {},
    });
  }

  router.get('/standards/district/:tenantId/import', async (req, res) => {
    await renderImport(res, await scopeOf(req));
  });

  function pruneJobs(): void {
    const cutoff = Date.now() - JOB_RETENTION_MS;
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

  /** Starts `work` after the response; it reports progress into the job and returns the report. */
  function startJob(
    tenantId: string,
    label: string,
    phase: JobPhase,
    work: (job: ImportJob) => Promise<ImportReport>,
  ): ImportJob {
    pruneJobs();
    const job: ImportJob = {
      id: randomUUID(),
      tenantId,
      label,
      startedAt: Date.now(),
      phase,
      done: 0,
      total: 0,
      finishedAt: undefined,
      importId: undefined,
      failure: undefined,
    };
    jobs.set(job.id, job);
    setImmediate(() => {
      work(job)
        .then((report) => {
          job.importId = report.importId;
          logger.info(
            { tenantId, importId: report.importId, ok: report.ok, jobId: job.id },
            'standards import finished',
          );
        })
        .catch((error: unknown) => {
          job.failure =
            'The import failed for a reason on our side; nothing was imported. Try again later.';
          logger.error({ err: error, tenantId, jobId: job.id }, 'standards import crashed');
        })
        .finally(() => {
          job.finishedAt = Date.now();
        });
    });
    return job;
  }

  function progressInto(job: ImportJob) {
    return (progress: { phase: ImportPhase; done: number; total: number }): void => {
      job.phase = progress.phase;
      // Archive and association phases count other things; the page counts standards.
      if (progress.phase === 'prepare' || progress.phase === 'items' || progress.phase === 'done') {
        job.done = progress.done;
        job.total = progress.total;
      }
    };
  }

  /** The import page again, the file form open, with why this upload was not imported. */
  function refuseUpload(
    res: Response,
    scope: Scope,
    refusal: { status: number; problem: ImportError; values?: Record<string, string> },
  ): Promise<void> {
    return renderImport(res, scope, {
      status: refusal.status,
      values: refusal.values,
      failedForm: 'file',
      problems: problemRows([refusal.problem]),
    });
  }

  /** Imports what a job read into the district; its progress counts the parsed standards. */
  function importParsed(
    job: ImportJob,
    scope: Scope,
    actor: string,
    parsed: ImportResult,
    origin: Pick<ImportFrameworkInput, 'source' | 'sourceUrl'>,
  ): Promise<ImportReport> {
    job.total = parsed.ok ? parsed.framework.items.length : 0;
    return importFramework(
      db,
      {
        tenantId: scope.tenant.id,
        actor,
        framework: parsed,
        ...origin,
        onProgress: progressInto(job),
      },
      { now, newId: randomUUID },
    );
  }

  router.post('/standards/district/:tenantId/import/file', async (req, res) => {
    const scope = await scopeOf(req);
    if (uploadsInProgress >= MAX_CONCURRENT_UPLOADS) {
      // Each upload holds up to 40 MB in memory: a few at a time per instance.
      res.set('Connection', 'close').set('Retry-After', '30');
      await refuseUpload(res, scope, {
        status: 429,
        problem: invalidValue(
          'file',
          'Other standards files are being uploaded right now. Wait a minute, then import this file again.',
        ),
      });
      return;
    }
    uploadsInProgress += 1;
    let upload: Upload;
    try {
      upload = await readUpload(req);
    } finally {
      uploadsInProgress -= 1;
    }
    if (!upload.ok) {
      // A body we did not read to the end: close the connection after this answer.
      if (upload.status === 413) res.set('Connection', 'close');
      await refuseUpload(res, scope, upload);
      return;
    }
    // The CSRF field travels in the multipart body, so it is checked once the body is read.
    req.body = upload.fields;
    checkCsrf(req, scope.actor.csrf);
    const values = {
      framework: upload.fields.framework ?? '',
      title: upload.fields.title ?? '',
    };
    const file = upload.file;
    if (file === undefined || file.data.length === 0) {
      await refuseUpload(res, scope, {
        status: 400,
        values,
        problem: invalidValue(
          'file',
          'Choose a file to import: a CASE package (.json) or a CSV file (.csv). The chosen file is empty or no file was chosen.',
        ),
      });
      return;
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(file.data);
    } catch {
      await refuseUpload(res, scope, {
        status: 400,
        values,
        problem: invalidValue(
          'file',
          'The file is not UTF-8 text. In a spreadsheet program, save it again as "CSV UTF-8"; CASE packages are always UTF-8.',
        ),
      });
      return;
    }
    const target =
      values.framework === '' || !isUuid(values.framework)
        ? undefined
        : await findFramework(db, scope.tenant.id, values.framework);
    if (values.framework !== '' && target === undefined) {
      await refuseUpload(res, scope, {
        status: 400,
        values,
        problem: invalidValue(
          'framework',
          'Choose a framework from the list, or “A new framework”.',
        ),
      });
      return;
    }
    const format = detectFormat(file.filename, text);
    const actor = await actorId(req);
    const title =
      values.title.trim() !== ''
        ? values.title.trim()
        : (target?.title ?? file.filename.replace(/\.[^.]*$/, '').trim());
    const job = startJob(scope.tenant.id, file.filename, 'reading', async (job) => {
      let parsed: ImportResult;
      let source: 'case_file' | 'csv';
      if (format === 'case') {
        parsed = parseCasePackage(text, { maxBytes: MAX_IMPORT_BYTES });
        source = 'case_file';
      } else {
        parsed = parseStandardsCsv(text, {
          maxBytes: MAX_IMPORT_BYTES,
          title: title === '' ? 'Imported standards' : title,
          creator: target?.creator ?? scope.tenant.name,
          ...(target === undefined ? {} : { caseGuid: target.case_guid }),
        });
        source = 'csv';
      }
      return importParsed(job, scope, actor, parsed, { source });
    });
    logger.info(
      { tenantId: scope.tenant.id, jobId: job.id, actor, format, bytes: file.data.length },
      'standards import started',
    );
    res.redirect(303, `${scope.root}/imports/${job.id}`);
  });

  router.post('/standards/district/:tenantId/import/url', form, ctx.csrf, async (req, res) => {
    const scope = await scopeOf(req);
    const url = (field(req, 'url') ?? '').trim();
    const token = (field(req, 'token') ?? '').trim();
    try {
      await checkCasePackageUrl(url, { resolve: resolveHost, allowLoopbackHttp });
    } catch (error) {
      if (!(error instanceof CaseServerError)) throw error;
      await renderImport(res, scope, {
        status: 400,
        values: { url },
        failedForm: 'url',
        problems: problemRows([caseServerProblem(error)]),
      });
      return;
    }
    const actor = await actorId(req);
    const job = startJob(scope.tenant.id, url, 'fetching', async (job) => {
      let parsed: ImportResult;
      let sourceUrl = url;
      try {
        const fetched = await fetchCasePackage(url, {
          fetch: caseFetch,
          resolve: resolveHost,
          maxBytes: MAX_IMPORT_BYTES,
          timeoutMs: CASE_SERVER_TIMEOUT_MS,
          allowLoopbackHttp,
          userAgent: USER_AGENT,
          ...(token === '' ? {} : { bearerToken: token }),
        });
        parsed = fetched.result;
        sourceUrl = fetched.url;
      } catch (error) {
        if (!(error instanceof CaseServerError)) throw error;
        parsed = { ok: false, errors: [caseServerProblem(error)] };
      }
      job.phase = 'prepare';
      return importParsed(job, scope, actor, parsed, { source: 'case_server', sourceUrl });
    });
    // The URL may name a private framework; its host is enough to trace the request.
    logger.info(
      { tenantId: scope.tenant.id, jobId: job.id, actor, host: new URL(url).host },
      'standards import from a CASE server started',
    );
    res.redirect(303, `${scope.root}/imports/${job.id}`);
  });

  function trackedJob(scope: Scope, id: string): ImportJob | undefined {
    const job = jobs.get(id);
    return job?.tenantId === scope.tenant.id ? job : undefined;
  }

  /** The district's record of a finished (or restarted-away) import, or a 404. */
  async function storedImport(scope: Scope, id: string): Promise<ImportHistoryEntry> {
    const stored = isUuid(id) ? await findImport(db, scope.tenant.id, id) : undefined;
    if (stored === undefined) throw notFound('There is no such import.');
    return stored;
  }

  router.get('/standards/district/:tenantId/imports/:importId/status', async (req, res) => {
    const scope = await scopeOf(req);
    const id = param(req, 'importId');
    const job = trackedJob(scope, id);
    if (job !== undefined) {
      res.json(jobStatus(job));
      return;
    }
    const stored = await storedImport(scope, id);
    res.json({
      status: stored.status === 'running' ? 'running' : 'finished',
      phase: stored.status === 'running' ? PHASE_LABELS.items : PHASE_LABELS.done,
      done: stored.progressDone,
      total: stored.progressTotal,
    });
  });

  router.get('/standards/district/:tenantId/imports/:importId', async (req, res) => {
    const scope = await scopeOf(req);
    const id = param(req, 'importId');
    const job = trackedJob(scope, id);
    if (job?.importId !== undefined) {
      res.redirect(303, `${scope.root}/imports/${job.importId}`);
      return;
    }
    if (job !== undefined) {
      const status = jobStatus(job);
      res.status(job.failure === undefined ? 200 : 500);
      res.render('admin/standards/import-status', {
        ...page(scope, job.failure === undefined ? 'Import in progress' : 'Import failed'),
        scripts: job.failure === undefined ? ['standards-import-progress'] : [],
        running: job.failure === undefined,
        statusUrl: `${scope.root}/imports/${job.id}/status`,
        label: job.label,
        phase: status.phase,
        done: status.done,
        total: status.total,
        failure: job.failure,
        entry: undefined,
      });
      return;
    }
    const stored = await storedImport(scope, id);
    const framework =
      stored.frameworkId === null
        ? undefined
        : await findFramework(db, scope.tenant.id, stored.frameworkId);
    res.render('admin/standards/import-status', {
      ...page(
        scope,
        stored.status === 'succeeded'
          ? 'Import finished'
          : stored.status === 'failed'
            ? 'Import refused'
            : 'Import in progress',
      ),
      scripts: stored.status === 'running' ? ['standards-import-progress'] : [],
      running: stored.status === 'running',
      statusUrl: `${scope.root}/imports/${stored.id}/status`,
      label: stored.sourceUrl ?? SOURCE_LABELS[stored.source],
      phase: stored.status === 'running' ? PHASE_LABELS.items : PHASE_LABELS.done,
      done: stored.progressDone,
      total: stored.progressTotal,
      failure: undefined,
      entry: importView(stored),
      framework:
        framework === undefined
          ? undefined
          : { title: framework.title, href: `${scope.root}/frameworks/${framework.id}` },
    });
  });

  function importView(entry: ImportHistoryEntry) {
    return {
      status: entry.status,
      source: SOURCE_LABELS[entry.source],
      startedAt: entry.startedAt.toISOString(),
      finishedAt: entry.finishedAt?.toISOString() ?? '',
      counts: entry.counts,
      problems: problemRows(entry.errors),
    };
  }

  // ---- a framework: tree, search, authoring ----

  async function renderFramework(
    req: Request,
    res: Response,
    scope: Scope,
    framework: FrameworkRow,
    formState: { values: Record<string, string>; error?: string } = { values: {} },
  ): Promise<void> {
    const includeArchived = query(req, 'archived') === '1';
    const items = await listTreeRows(db, scope.tenant.id, framework.id, { includeArchived });
    const q = (query(req, 'q') ?? '').trim().slice(0, 200);
    const byId = new Map(items.map((item) => [item.id, item]));
    const hits =
      q === ''
        ? undefined
        : (
            await searchStandards(db, searchCache, {
              tenantId: scope.tenant.id,
              frameworkId: framework.id,
              query: q,
              limit: 50,
            })
          ).map((hit) => ({
            href: `${scope.root}/frameworks/${framework.id}/items/${hit.stored.id}`,
            code: hit.stored.item.code ?? '',
            statement: hit.stored.item.fullStatement,
            type: hit.stored.item.itemType ?? '',
            parent: hit.stored.parentId === null ? '' : itemLabel(byId.get(hit.stored.parentId)),
          }));
    const frameworkHref = `${scope.root}/frameworks/${framework.id}`;
    res.status(formState.error === undefined ? 200 : 400);
    res.render('admin/standards/framework', {
      ...page(scope, framework.title),
      notice: notice(req),
      framework: {
        href: frameworkHref,
        title: framework.title,
        creator: framework.creator,
        version: framework.version ?? '',
        subjects: framework.subjects.join(', '),
        adoptionStatus: framework.adoption_status ?? '',
        caseGuid: framework.case_guid,
        source: SOURCE_LABELS[framework.source],
        sourceUrl: framework.source_url ?? '',
        updatedAt: framework.updated_at.toISOString(),
        itemCount: items.filter((item) => item.archivedAt === null).length,
      },
      itemHref: (id: string) => `${frameworkHref}/items/${id}`,
      tree: treeEvents(items, null),
      treeCut: items.length > TREE_NODE_LIMIT,
      includeArchived,
      q,
      hits,
      form: formState,
    });
  }

  router.get('/standards/district/:tenantId/frameworks/:frameworkId', async (req, res) => {
    const scope = await scopeOf(req);
    await renderFramework(req, res, scope, await frameworkOf(scope, req));
  });

  router.get('/standards/district/:tenantId/frameworks/:frameworkId/audit', async (req, res) => {
    const scope = await scopeOf(req);
    const framework = await frameworkOf(scope, req);
    const [entries, items, nameOf] = await Promise.all([
      listAudit(db, scope.tenant.id, framework.id),
      listTreeRows(db, scope.tenant.id, framework.id, { includeArchived: true }),
      actorNames(),
    ]);
    const byId = new Map(items.map((item) => [item.id, item]));
    const labelOf = (id: string | null): string =>
      id === null ? 'Top level' : itemLabel(byId.get(id));
    res.render('admin/standards/audit', {
      ...page(scope, `Changes to ${framework.title}`),
      framework: { title: framework.title, href: `${scope.root}/frameworks/${framework.id}` },
      entries: entries
        .slice()
        .reverse()
        .map((entry) => ({
          at: entry.at.toISOString(),
          who: nameOf(entry.actor),
          action: AUDIT_ACTIONS[entry.action] ?? entry.action,
          item: entry.itemId === null ? '' : labelOf(entry.itemId),
          itemHref:
            entry.itemId !== null && byId.has(entry.itemId)
              ? `${scope.root}/frameworks/${framework.id}/items/${entry.itemId}`
              : '',
          changes: auditChanges(entry, labelOf),
        })),
    });
  });

  router.get(
    '/standards/district/:tenantId/frameworks/:frameworkId/export/case',
    async (req, res) => {
      const scope = await scopeOf(req);
      const framework = await frameworkOf(scope, req);
      const pkg = await exportFrameworkAsCase(db, scope.tenant.id, framework.id);
      if (pkg === undefined) throw notFound('There is no such framework in this district.');
      res
        .type('application/json')
        .attachment(`${fileSlug(framework.title)}.case.json`)
        .send(JSON.stringify(pkg, null, 2));
    },
  );

  router.get(
    '/standards/district/:tenantId/frameworks/:frameworkId/export/csv',
    async (req, res) => {
      const scope = await scopeOf(req);
      const framework = await frameworkOf(scope, req);
      const csvForm: StandardsCsvForm = query(req, 'form') === 'canvas' ? 'canvas' : 'simple';
      const csv = await exportFrameworkAsCsv(db, scope.tenant.id, framework.id, csvForm);
      if (csv === undefined) throw notFound('There is no such framework in this district.');
      res
        .type('text/csv; charset=utf-8')
        .attachment(`${fileSlug(framework.title)}${csvForm === 'canvas' ? '.canvas' : ''}.csv`)
        .send(csv);
    },
  );

  async function renderItem(
    req: Request,
    res: Response,
    scope: Scope,
    framework: FrameworkRow,
    itemId: string,
    formState: {
      form?: 'edit' | 'child' | 'move' | 'archive';
      error?: string;
      values?: Record<string, string>;
    } = {},
  ): Promise<void> {
    const items = await listTreeRows(db, scope.tenant.id, framework.id, {
      includeArchived: true,
    });
    const item = items.find((candidate) => candidate.id === itemId);
    if (item === undefined) throw notFound('This standard is not in the framework.');
    const byId = new Map(items.map((candidate) => [candidate.id, candidate]));
    const childrenOf = new Map<string, TreeRow[]>();
    for (const candidate of items) {
      if (candidate.parentId === null) continue;
      const list = childrenOf.get(candidate.parentId);
      if (list) list.push(candidate);
      else childrenOf.set(candidate.parentId, [candidate]);
    }
    // A standard cannot move under itself or its own sub-standards.
    const excluded = new Set<string>();
    for (const stack = [item]; stack.length > 0;) {
      const next = stack.pop();
      if (next === undefined || excluded.has(next.id)) continue;
      excluded.add(next.id);
      stack.push(...(childrenOf.get(next.id) ?? []));
    }
    const frameworkHref = `${scope.root}/frameworks/${framework.id}`;
    const children = (childrenOf.get(item.id) ?? []).filter((c) => c.archivedAt === null);
    const siblings = items.filter((c) => c.parentId === item.parentId && c.archivedAt === null);
    const ancestors: { label: string; href: string }[] = [];
    for (let at = item.parentId; at !== null; at = byId.get(at)?.parentId ?? null) {
      ancestors.unshift({ label: itemLabel(byId.get(at)), href: `${frameworkHref}/items/${at}` });
      if (ancestors.length > 50) break;
    }
    const parents = items.filter(
      (candidate) => !excluded.has(candidate.id) && candidate.archivedAt === null,
    );
    const values = formState.values ?? {};
    res.status(formState.error === undefined ? 200 : 400);
    res.render('admin/standards/item', {
      ...page(scope, item.code ?? shorten(item.fullStatement, 40)),
      notice: notice(req),
      framework: { title: framework.title, href: frameworkHref },
      ancestors,
      item: {
        id: item.id,
        href: `${frameworkHref}/items/${item.id}`,
        heading: item.code ?? shorten(item.fullStatement, 60),
        code: item.code ?? '',
        fullStatement: item.fullStatement,
        abbreviatedStatement: item.abbreviatedStatement ?? '',
        itemType: item.itemType ?? '',
        levels: item.educationLevels.join(', '),
        guid: item.guid,
        archived: item.archivedAt !== null,
        parentId: item.parentId ?? '',
        parentCode: item.parentId === null ? '' : (byId.get(item.parentId)?.code ?? ''),
        position: siblings.findIndex((c) => c.id === item.id) + 1,
        childCount: children.length,
      },
      subtree: treeEvents(
        items.filter((candidate) => candidate.archivedAt === null || item.archivedAt !== null),
        item.id,
      ),
      itemHref: (id: string) => `${frameworkHref}/items/${id}`,
      // A list of 20,000 options helps nobody: large frameworks take the new parent's code instead.
      parents:
        parents.length <= TREE_NODE_LIMIT
          ? parents.map((candidate) => ({ id: candidate.id, label: itemLabel(candidate) }))
          : undefined,
      form: formState.form,
      error: formState.error,
      values,
    });
  }

  const ITEM = '/standards/district/:tenantId/frameworks/:frameworkId/items/:itemId';

  /** The standard an item route names; an id that is not a UUID answers like a missing standard. */
  function itemIdOf(req: Request): string {
    const itemId = param(req, 'itemId');
    if (!isUuid(itemId)) throw notFound('This standard is not in the framework.');
    return itemId;
  }

  router.get(ITEM, async (req, res) => {
    const scope = await scopeOf(req);
    const framework = await frameworkOf(scope, req);
    await renderItem(req, res, scope, framework, itemIdOf(req));
  });

  async function authoringContext(req: Request) {
    const scope = await scopeOf(req);
    const framework = await frameworkOf(scope, req);
    const actor = await actorId(req);
    return {
      scope,
      framework,
      actor,
      context: { tenantId: scope.tenant.id, actor, frameworkId: framework.id },
      frameworkHref: `${scope.root}/frameworks/${framework.id}`,
    };
  }

  type Authoring = Awaited<ReturnType<typeof authoringContext>>;

  function itemFields(req: Request) {
    return fields(req, [
      'code',
      'fullStatement',
      'abbreviatedStatement',
      'itemType',
      'educationLevels',
      'parentId',
      'parentCode',
      'position',
    ]);
  }

  /** A standard's text fields as the add and edit use cases take them. */
  function itemContent(values: ReturnType<typeof itemFields>) {
    return {
      code: values.code,
      fullStatement: values.fullStatement,
      abbreviatedStatement: values.abbreviatedStatement,
      itemType: values.itemType,
      educationLevels: levelsOf(values.educationLevels),
    };
  }

  /** After a change: log who changed which standard, then show it with what was done. */
  function changed(
    res: Response,
    authoring: Authoring,
    itemId: string,
    done: { notice: string; log: string },
  ): void {
    logger.info({ tenantId: authoring.scope.tenant.id, itemId, actor: authoring.actor }, done.log);
    res.redirect(303, `${authoring.frameworkHref}/items/${itemId}?done=${done.notice}`);
  }

  /**
   * Runs a change to one standard of the framework. A change the authoring rules refuse shows the
   * standard's page again (400) with the form that was sent open and why; a done one is logged and
   * the standard's page says what was done.
   */
  async function changeItem(
    req: Request,
    res: Response,
    authoring: Authoring,
    itemId: string,
    formState: { form: 'edit' | 'move' | 'archive'; values?: Record<string, string> },
    change: () => Promise<void>,
    done: { notice: string; log: string },
  ): Promise<void> {
    try {
      await change();
    } catch (error) {
      const message = authoringFailure(error);
      await renderItem(req, res, authoring.scope, authoring.framework, itemId, {
        ...formState,
        error: message,
      });
      return;
    }
    changed(res, authoring, itemId, done);
  }

  function parentOf(value: string): string | null {
    if (value === '') return null;
    // An id that is not a UUID cannot be a standard; the use case answers "not in this framework".
    return isUuid(value) ? value : '00000000-0000-0000-0000-000000000000';
  }

  // Add a standard: at the top level (from the framework page) or as a child (from a standard's page).
  router.post(
    '/standards/district/:tenantId/frameworks/:frameworkId/items',
    form,
    ctx.csrf,
    async (req, res) => {
      const authoring = await authoringContext(req);
      const { scope, framework, context } = authoring;
      const values = itemFields(req);
      const parentId = parentOf(values.parentId);
      let itemId: string;
      try {
        itemId = await addItem(
          db,
          context,
          { parentId, position: positionOf(values.position), ...itemContent(values) },
          authoringDeps,
        );
      } catch (error) {
        const message = authoringFailure(error);
        if (parentId !== null && isUuid(values.parentId)) {
          const exists =
            (await findItem(db, scope.tenant.id, framework.id, parentId)) !== undefined;
          if (exists) {
            await renderItem(req, res, scope, framework, parentId, {
              form: 'child',
              error: message,
              values,
            });
            return;
          }
        }
        await renderFramework(req, res, scope, framework, { values, error: message });
        return;
      }
      changed(res, authoring, itemId, { notice: 'item-added', log: 'admin added a standard' });
    },
  );

  router.post(ITEM, form, ctx.csrf, async (req, res) => {
    const authoring = await authoringContext(req);
    const itemId = itemIdOf(req);
    const values = itemFields(req);
    await changeItem(
      req,
      res,
      authoring,
      itemId,
      { form: 'edit', values },
      () => editItem(db, authoring.context, itemId, itemContent(values), authoringDeps),
      { notice: 'item-saved', log: 'admin edited a standard' },
    );
  });

  router.post(`${ITEM}/move`, form, ctx.csrf, async (req, res) => {
    const authoring = await authoringContext(req);
    const { scope, framework } = authoring;
    const itemId = itemIdOf(req);
    const values = itemFields(req);
    const parentCode = field(req, 'parentCode')?.trim();
    let parentId = parentOf(values.parentId);
    if (parentCode !== undefined && parentCode !== '') {
      // Large frameworks name the new parent by its code (see renderItem).
      const wanted = parentCode.toLowerCase();
      const matches = (
        await listTreeRows(db, scope.tenant.id, framework.id, { includeArchived: false })
      ).filter((row) => row.code?.toLowerCase() === wanted);
      const match = matches[0];
      if (match === undefined || matches.length > 1) {
        await renderItem(req, res, scope, framework, itemId, {
          form: 'move',
          error:
            match === undefined
              ? `No standard of this framework has the code "${parentCode}". Check the code in the tree, or search for it.`
              : `Several standards have the code "${parentCode}"; give them distinct codes first, then move this standard.`,
          values,
        });
        return;
      }
      parentId = match.id;
    } else if (parentCode !== undefined) {
      parentId = null;
    }
    await changeItem(
      req,
      res,
      authoring,
      itemId,
      { form: 'move', values },
      () =>
        moveItem(
          db,
          authoring.context,
          itemId,
          { parentId, position: positionOf(values.position) },
          authoringDeps,
        ),
      { notice: 'item-moved', log: 'admin moved a standard' },
    );
  });

  for (const action of ['archive', 'restore'] as const) {
    router.post(`${ITEM}/${action}`, form, ctx.csrf, async (req, res) => {
      const authoring = await authoringContext(req);
      const itemId = itemIdOf(req);
      await changeItem(
        req,
        res,
        authoring,
        itemId,
        { form: 'archive' },
        () =>
          action === 'archive'
            ? archiveItem(db, authoring.context, itemId, authoringDeps)
            : restoreItem(db, authoring.context, itemId, authoringDeps),
        {
          notice: action === 'archive' ? 'item-archived' : 'item-restored',
          log: `admin ${action}d a standard`,
        },
      );
    });
  }
}

/** A file name from a title: letters, digits and dashes only (safe in Content-Disposition). */
function fileSlug(title: string): string {
  const slug = title
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .toLowerCase()
    .slice(0, 80);
  return slug === '' ? 'framework' : slug;
}
