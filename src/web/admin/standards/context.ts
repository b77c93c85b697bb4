import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { USER_AGENT } from '../../../app-services.ts';
import type { Logger } from '../../../logger.ts';
import { listAdminUsers } from '../../../lti-admin/use-cases.ts';
import type { Resolver } from '../../../lti/dynamic-registration.ts';
import { createPinnedFetch } from '../../../net/pinned-fetch.ts';
import { StandardsAuthoringError, type AuthoringDeps } from '../../../standards/authoring.ts';
import type { JobRunner } from '../../../jobs/runner.ts';
import { createImportJobs, type ImportJobs } from '../../../standards/import-jobs.ts';
import { runImportJob, type StandardsImportDeps } from '../../../standards/imports.ts';
import {
  findDistrictFramework,
  type FrameworkRow,
  type FrameworkSource,
} from '../../../standards/library.ts';
import { createStandardsSearchCache } from '../../../standards/queries.ts';
import { notFound } from '../../errors.ts';
import type { AdminPageContext } from '../admin-context.ts';
import type { AdminActor } from '../admin-pages.ts';
import { createUploadGate, MAX_IMPORT_BYTES, type UploadGate } from './upload.ts';

/**
 * What the standards library pages share, built once per app by `createStandardsPages` (never module
 * state: two apps in one process share nothing): the admin context, the standards use cases'
 * dependencies, the search cache, the import jobs and the upload gate of this instance.
 */
export interface StandardsPages {
  readonly ctx: AdminPageContext;
  readonly db: AdminPageContext['deps']['db'];
  readonly logger: Logger;
  readonly now: () => Date;
  readonly authoring: AuthoringDeps;
  readonly imports: StandardsImportDeps;
  readonly searchCache: ReturnType<typeof createStandardsSearchCache>;
  readonly uploads: UploadGate;
}

const CASE_SERVER_TIMEOUT_MS = 30_000;

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

/**
 * The import jobs of each job runner (one per app's services), as node-oidc-provider keeps
 * per-instance state: a WeakMap keyed by the instance, never a module-level singleton.
 */
const importJobsByRunner = new WeakMap<JobRunner, ImportJobs>();

export function createStandardsPages(ctx: AdminPageContext): StandardsPages {
  const { db, logger, services, publicUrl } = ctx.deps;
  const now = services.now;
  // Loopback http CASE servers only when the tool itself runs on loopback http (development, tests).
  const allowLoopbackHttp = isLoopbackHttp(publicUrl);
  const work = {
    db,
    now,
    newId: randomUUID,
    caseServer: {
      fetch: createPinnedFetch({ allowLoopback: allowLoopbackHttp }),
      resolve: resolveHost,
      allowLoopbackHttp,
      userAgent: USER_AGENT,
      timeoutMs: CASE_SERVER_TIMEOUT_MS,
    },
    maxBytes: MAX_IMPORT_BYTES,
  };
  // Imports start at once on the app's runner (`runHere`); the service's started runner is the
  // same one, so it also fails an import whose process died (see import-jobs.ts). The pages are
  // mounted twice (signed-in and launched admins): one set of import jobs per runner.
  let jobs = importJobsByRunner.get(services.jobs);
  if (jobs === undefined) {
    jobs = createImportJobs({
      db,
      runner: services.jobs,
      now,
      newId: randomUUID,
      logger,
      work: (tenantId, payload, progress, secrets) =>
        runImportJob(work, tenantId, payload, progress, secrets),
    });
    importJobsByRunner.set(services.jobs, jobs);
  }
  return {
    ctx,
    db,
    logger,
    now,
    authoring: { now, newId: randomUUID },
    imports: { ...work, logger, jobs },
    searchCache: createStandardsSearchCache(),
    uploads: createUploadGate(),
  };
}

/** A district the actor may manage, and the prefix of every link of its standards pages. */
export interface Scope {
  readonly actor: AdminActor;
  readonly tenant: { readonly id: string; readonly name: string };
  readonly root: string;
}

export function param(req: Request, name: string): string {
  const value: unknown = (req.params as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
}

export function query(req: Request, name: string): string | undefined {
  const value: unknown = (req.query as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/** A form's named text fields, each '' when absent or not a single string. */
export function textFields<const Name extends string>(
  names: readonly Name[],
): z.ZodType<Record<Name, string>> {
  const shape = Object.fromEntries(names.map((name) => [name, z.string().catch('')]));
  return z.object(shape) as unknown as z.ZodType<Record<Name, string>>;
}

/** Parses the form body with `schema` (a missing body reads as an empty form). */
export function formOf<T>(schema: z.ZodType<T>, req: Request): T {
  const body: unknown = req.body;
  return schema.parse(typeof body === 'object' && body !== null ? body : {});
}

/** The district the path names, if the actor may manage it; another answers like a missing one. */
export async function scopeOf(pages: StandardsPages, req: Request): Promise<Scope> {
  const actor = pages.ctx.actorOf(req);
  const tenantId = param(req, 'tenantId');
  const tenant = (await pages.ctx.visibleTenants(actor)).find((t) => t.id === tenantId);
  if (tenant === undefined) throw notFound('There is no such district.');
  return { actor, tenant, root: `${actor.base}/standards/district/${tenant.id}` };
}

/** The district's framework the path names, or a 404. */
export async function frameworkOf(
  pages: StandardsPages,
  scope: Scope,
  req: Request,
): Promise<FrameworkRow> {
  const framework = await findDistrictFramework(
    pages.db,
    scope.tenant.id,
    param(req, 'frameworkId'),
  );
  if (framework === undefined) throw notFound('There is no such framework in this district.');
  return framework;
}

/** The model every standards page starts from: layout, district, links. */
export function page(
  pages: StandardsPages,
  scope: Scope,
  title: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    ...pages.ctx.layout(scope.actor, 'standards', title),
    styles: ['standards-admin'],
    root: scope.root,
    district: scope.tenant.name,
    isOperator: scope.actor.tenantId === undefined,
    standardsHome: `${scope.actor.base}/standards`,
    ...extra,
  };
}

export const SOURCE_LABELS: Readonly<Record<FrameworkSource, string>> = {
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

/** What the last change did (`?done=`), as the page says it. */
export function notice(req: Request): string | undefined {
  const code = query(req, 'done');
  return code === undefined ? undefined : NOTICES[code];
}

/** Names for the opaque actor ids of audits and imports (never shown as ids). */
export async function actorNames(pages: StandardsPages): Promise<(actor: string) => string> {
  const users = await listAdminUsers({ db: pages.db, now: pages.now });
  const names = new Map(users.map((u) => [`admin:${u.id}`, u.username]));
  return (actor) =>
    names.get(actor) ??
    (actor.startsWith('lti:')
      ? 'LTI admin'
      : actor.startsWith('admin:')
        ? 'A removed admin'
        : 'System');
}

/** A named handler with the pages' dependencies, as Express calls it. */
export function handle(
  pages: StandardsPages,
  handler: (pages: StandardsPages, req: Request, res: Response) => Promise<void>,
): (req: Request, res: Response) => Promise<void> {
  return (req, res) => handler(pages, req, res);
}

/**
 * Why the authoring rules refused a change, for the form shown again. A framework or standard that
 * is not in the district is a 404 page instead (thrown), like any other missing one.
 */
export function authoringFailure(error: unknown): string {
  if (error instanceof StandardsAuthoringError) {
    if (error.code === 'framework_not_found' || error.code === 'item_not_found') {
      throw notFound(error.message);
    }
    return error.message;
  }
  throw error;
}
