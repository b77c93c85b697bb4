import type { Request, Response } from 'express';
import type { ImportJobPhase, ImportJobState } from '../../../standards/import-jobs.ts';
import { findImportProgress } from '../../../standards/imports.ts';
import type { ImportHistoryEntry } from '../../../standards/library.ts';
import { notFound } from '../../errors.ts';
import { page, param, scopeOf, SOURCE_LABELS, type StandardsPages } from './context.ts';
import { problemRows } from './problems.ts';

/**
 * An import's progress page and the status JSON its script polls. A job this instance runs shows
 * its live progress; once it has a stored record (or after a restart), the record is shown.
 */

const PHASE_LABELS: Readonly<Record<ImportJobPhase, string>> = {
  reading: 'Reading the file',
  fetching: 'Fetching the package from the CASE server',
  prepare: 'Preparing',
  items: 'Saving standards',
  archive: 'Archiving standards no longer listed',
  associations: 'Saving associations',
  done: 'Finishing',
};

function jobStatus(job: ImportJobState) {
  return {
    status: job.running ? 'running' : 'finished',
    phase: PHASE_LABELS[job.phase],
    done: job.done,
    total: job.total,
  };
}

function recordStatus(record: ImportHistoryEntry) {
  return {
    status: record.status === 'running' ? 'running' : 'finished',
    phase: record.status === 'running' ? PHASE_LABELS.items : PHASE_LABELS.done,
    done: record.progressDone,
    total: record.progressTotal,
  };
}

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

export async function showImportStatusJson(
  pages: StandardsPages,
  req: Request,
  res: Response,
): Promise<void> {
  const scope = await scopeOf(pages, req);
  const found = await findImportProgress(pages.imports, scope.tenant.id, param(req, 'importId'));
  if (found === undefined) throw notFound('There is no such import.');
  res.json('job' in found ? jobStatus(found.job) : recordStatus(found.record));
}

export async function showImportStatus(
  pages: StandardsPages,
  req: Request,
  res: Response,
): Promise<void> {
  const scope = await scopeOf(pages, req);
  const found = await findImportProgress(pages.imports, scope.tenant.id, param(req, 'importId'));
  if (found === undefined) throw notFound('There is no such import.');
  if ('job' in found) {
    const job = found.job;
    if (job.importId !== undefined) {
      res.redirect(303, `${scope.root}/imports/${job.importId}`);
      return;
    }
    const status = jobStatus(job);
    res.status(job.failure === undefined ? 200 : 500);
    res.render('admin/standards/import-status', {
      ...page(pages, scope, job.failure === undefined ? 'Import in progress' : 'Import failed'),
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
  const { record, framework } = found;
  const status = recordStatus(record);
  res.render('admin/standards/import-status', {
    ...page(
      pages,
      scope,
      record.status === 'succeeded'
        ? 'Import finished'
        : record.status === 'failed'
          ? 'Import refused'
          : 'Import in progress',
    ),
    scripts: record.status === 'running' ? ['standards-import-progress'] : [],
    running: record.status === 'running',
    statusUrl: `${scope.root}/imports/${record.id}/status`,
    label: record.sourceUrl ?? SOURCE_LABELS[record.source],
    phase: status.phase,
    done: status.done,
    total: status.total,
    failure: undefined,
    entry: importView(record),
    framework:
      framework === undefined
        ? undefined
        : { title: framework.title, href: `${scope.root}/frameworks/${framework.id}` },
  });
}
