import type { Request, Response } from 'express';
import type { ImportError } from '../../../domain/standards-model.ts';
import {
  invalidValue,
  startCaseServerImport,
  startFileImport,
} from '../../../standards/imports.ts';
import { listFrameworks } from '../../../standards/queries.ts';
import { checkCsrf } from '../admin-pages.ts';
import { formOf, page, scopeOf, textFields, type Scope, type StandardsPages } from './context.ts';
import { problemRows, type ProblemRow } from './problems.ts';
import { MAX_IMPORT_BYTES } from './upload.ts';

/** The import page: a file upload or a CASE server address; either starts a background import. */

async function renderImport(
  pages: StandardsPages,
  res: Response,
  scope: Scope,
  state: {
    status?: number;
    problems?: ProblemRow[];
    values?: Record<string, string> | undefined;
    failedForm?: 'file' | 'url';
  } = {},
): Promise<void> {
  const frameworks = await listFrameworks(pages.db, scope.tenant.id);
  res.status(state.status ?? 200);
  res.render('admin/standards/import', {
    ...page(pages, scope, 'Import standards'),
    frameworks: frameworks.map((f) => ({ id: f.id, title: f.title })),
    maxMb: (MAX_IMPORT_BYTES / 1_048_576).toFixed(0),
    problems: state.problems ?? [],
    failedForm: state.failedForm,
    values: state.values ?? {},
  });
}

/** The import page again, the file form open, with why this upload was not imported. */
function refuseUpload(
  pages: StandardsPages,
  res: Response,
  scope: Scope,
  refusal: { status: number; problem: ImportError; values?: Record<string, string> },
): Promise<void> {
  return renderImport(pages, res, scope, {
    status: refusal.status,
    values: refusal.values,
    failedForm: 'file',
    problems: problemRows([refusal.problem]),
  });
}

export async function showImport(
  pages: StandardsPages,
  req: Request,
  res: Response,
): Promise<void> {
  await renderImport(pages, res, await scopeOf(pages, req));
}

/**
 * An uploaded file. The district is checked before the body is read; the CSRF field travels in the
 * multipart body, so it is checked once the body is read.
 */
export async function importFile(
  pages: StandardsPages,
  req: Request,
  res: Response,
): Promise<void> {
  const scope = await scopeOf(pages, req);
  const upload = await pages.uploads.read(req);
  if (upload === undefined) {
    // Each upload holds up to 40 MB in memory: a few at a time per instance.
    res.set('Connection', 'close').set('Retry-After', '30');
    await refuseUpload(pages, res, scope, {
      status: 429,
      problem: invalidValue(
        'file',
        'Other standards files are being uploaded right now. Wait a minute, then import this file again.',
      ),
    });
    return;
  }
  if (!upload.ok) {
    // A body we did not read to the end: close the connection after this answer.
    if (upload.status === 413) res.set('Connection', 'close');
    await refuseUpload(pages, res, scope, upload);
    return;
  }
  req.body = upload.fields;
  checkCsrf(req, scope.actor.csrf);
  const values = {
    framework: upload.fields.framework ?? '',
    title: upload.fields.title ?? '',
  };
  const started = await startFileImport(pages.imports, {
    tenantId: scope.tenant.id,
    tenantName: scope.tenant.name,
    actor: scope.actor.id,
    file: upload.file,
    ...values,
  });
  if (!started.ok) {
    await refuseUpload(pages, res, scope, { status: 400, values, problem: started.problem });
    return;
  }
  res.redirect(303, `${scope.root}/imports/${started.jobId}`);
}

const caseServerForm = textFields(['url', 'token']);

/** A CASE server address (and its token): a refused address shows the form again with why. */
export async function importFromCaseServer(
  pages: StandardsPages,
  req: Request,
  res: Response,
): Promise<void> {
  const form = formOf(caseServerForm, req);
  const scope = await scopeOf(pages, req);
  const url = form.url.trim();
  const started = await startCaseServerImport(pages.imports, {
    tenantId: scope.tenant.id,
    actor: scope.actor.id,
    url,
    token: form.token.trim(),
  });
  if (!started.ok) {
    await renderImport(pages, res, scope, {
      status: 400,
      values: { url },
      failedForm: 'url',
      problems: problemRows([started.problem]),
    });
    return;
  }
  res.redirect(303, `${scope.root}/imports/${started.jobId}`);
}
