import type { Request, Response } from 'express';
import type { StandardsCsvForm } from '../../../standards/formats/csv-import.ts';
import { frameworkAudit, frameworkTree, type FrameworkRow } from '../../../standards/library.ts';
import {
  exportFrameworkAsCase,
  exportFrameworkAsCsv,
  searchStandards,
} from '../../../standards/queries.ts';
import { notFound } from '../../errors.ts';
import {
  actorNames,
  frameworkOf,
  notice,
  page,
  query,
  scopeOf,
  SOURCE_LABELS,
  type Scope,
  type StandardsPages,
} from './context.ts';
import { AUDIT_ACTIONS, auditChanges } from './audit.ts';
import { itemLabel, TREE_NODE_LIMIT, treeEvents } from './tree.ts';

/** A framework: its tree and search, its audit trail, and its exports (CASE JSON, CSV). */

/** The framework page; a refused new standard shows it again (400) with the form and why. */
export async function renderFramework(
  pages: StandardsPages,
  req: Request,
  res: Response,
  scope: Scope,
  framework: FrameworkRow,
  formState: { values: Record<string, string>; error?: string } = { values: {} },
): Promise<void> {
  const includeArchived = query(req, 'archived') === '1';
  const items = await frameworkTree(pages.db, scope.tenant.id, framework.id, { includeArchived });
  const q = (query(req, 'q') ?? '').trim().slice(0, 200);
  const byId = new Map(items.map((item) => [item.id, item]));
  const frameworkHref = `${scope.root}/frameworks/${framework.id}`;
  const hits =
    q === ''
      ? undefined
      : (
          await searchStandards(pages.db, pages.searchCache, {
            tenantId: scope.tenant.id,
            frameworkId: framework.id,
            query: q,
            limit: 50,
          })
        ).map((hit) => ({
          href: `${frameworkHref}/items/${hit.stored.id}`,
          code: hit.stored.item.code ?? '',
          statement: hit.stored.item.fullStatement,
          type: hit.stored.item.itemType ?? '',
          parent: hit.stored.parentId === null ? '' : itemLabel(byId.get(hit.stored.parentId)),
        }));
  res.status(formState.error === undefined ? 200 : 400);
  res.render('admin/standards/framework', {
    ...page(pages, scope, framework.title),
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

export async function showFramework(
  pages: StandardsPages,
  req: Request,
  res: Response,
): Promise<void> {
  const scope = await scopeOf(pages, req);
  await renderFramework(pages, req, res, scope, await frameworkOf(pages, scope, req));
}

export async function showAudit(pages: StandardsPages, req: Request, res: Response): Promise<void> {
  const scope = await scopeOf(pages, req);
  const framework = await frameworkOf(pages, scope, req);
  const [{ entries, items }, nameOf] = await Promise.all([
    frameworkAudit(pages.db, scope.tenant.id, framework.id),
    actorNames(pages),
  ]);
  const byId = new Map(items.map((item) => [item.id, item]));
  const labelOf = (id: string | null): string =>
    id === null ? 'Top level' : itemLabel(byId.get(id));
  res.render('admin/standards/audit', {
    ...page(pages, scope, `Changes to ${framework.title}`),
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

export async function exportCase(
  pages: StandardsPages,
  req: Request,
  res: Response,
): Promise<void> {
  const scope = await scopeOf(pages, req);
  const framework = await frameworkOf(pages, scope, req);
  const pkg = await exportFrameworkAsCase(pages.db, scope.tenant.id, framework.id);
  if (pkg === undefined) throw notFound('There is no such framework in this district.');
  res
    .type('application/json')
    .attachment(`${fileSlug(framework.title)}.case.json`)
    .send(JSON.stringify(pkg, null, 2));
}

export async function exportCsv(pages: StandardsPages, req: Request, res: Response): Promise<void> {
  const csvForm: StandardsCsvForm = query(req, 'form') === 'canvas' ? 'canvas' : 'simple';
  const scope = await scopeOf(pages, req);
  const framework = await frameworkOf(pages, scope, req);
  const csv = await exportFrameworkAsCsv(pages.db, scope.tenant.id, framework.id, csvForm);
  if (csv === undefined) throw notFound('There is no such framework in this district.');
  res
    .type('text/csv; charset=utf-8')
    .attachment(`${fileSlug(framework.title)}${csvForm === 'canvas' ? '.canvas' : ''}.csv`)
    .send(csv);
}
