import type { Request, Response } from 'express';
import { createFramework } from '../../../standards/authoring.ts';
import { standardsOverview } from '../../../standards/library.ts';
import { notFound } from '../../errors.ts';
import {
  actorNames,
  authoringFailure,
  formOf,
  notice,
  page,
  scopeOf,
  SOURCE_LABELS,
  textFields,
  type Scope,
  type StandardsPages,
} from './context.ts';
import { levelsOf } from './tree.ts';

/** The district list (operators) and a district's frameworks with its latest imports. */

async function renderFrameworks(
  pages: StandardsPages,
  req: Request,
  res: Response,
  scope: Scope,
  formState: { values: Record<string, string>; error?: string } = { values: {} },
): Promise<void> {
  const [overview, nameOf] = await Promise.all([
    standardsOverview(pages.db, scope.tenant.id, 10),
    actorNames(pages),
  ]);
  const titles = new Map(overview.frameworks.map((f) => [f.id, f.title]));
  res.status(formState.error === undefined ? 200 : 400);
  res.render('admin/standards/index', {
    ...page(pages, scope, 'Standards'),
    notice: notice(req),
    frameworks: overview.frameworks.map((f) => ({
      href: `${scope.root}/frameworks/${f.id}`,
      title: f.title,
      version: f.version ?? '',
      itemCount: f.itemCount,
      source: SOURCE_LABELS[f.source],
      lastImport: overview.lastImports.get(f.id)?.toISOString() ?? '',
    })),
    imports: overview.recentImports.map((entry) => ({
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

/** A district admin goes to their district; an operator picks one. */
export async function showStandardsHome(
  pages: StandardsPages,
  req: Request,
  res: Response,
): Promise<void> {
  const actor = pages.ctx.actorOf(req);
  const tenants = await pages.ctx.visibleTenants(actor);
  if (actor.tenantId !== undefined) {
    const own = tenants[0];
    if (own === undefined) throw notFound('Your district is not set up yet.');
    res.redirect(303, `${actor.base}/standards/district/${own.id}`);
    return;
  }
  res.render('admin/standards/districts', {
    ...pages.ctx.layout(actor, 'standards', 'Standards'),
    styles: ['standards-admin'],
    districts: tenants.map((t) => ({
      name: t.name,
      slug: t.slug,
      href: `${actor.base}/standards/district/${t.id}`,
    })),
  });
}

export async function showFrameworks(
  pages: StandardsPages,
  req: Request,
  res: Response,
): Promise<void> {
  await renderFrameworks(pages, req, res, await scopeOf(pages, req));
}

const newFrameworkForm = textFields(['title', 'creator', 'version', 'subjects', 'description']);

/** Creates an empty framework written here; a refused one shows the list again with why. */
export async function createFrameworkHere(
  pages: StandardsPages,
  req: Request,
  res: Response,
): Promise<void> {
  const values = formOf(newFrameworkForm, req);
  const scope = await scopeOf(pages, req);
  const actor = scope.actor.id;
  let frameworkId: string;
  try {
    frameworkId = await createFramework(
      pages.db,
      {
        tenantId: scope.tenant.id,
        actor,
        title: values.title,
        creator: values.creator.trim() === '' ? scope.tenant.name : values.creator,
        version: values.version,
        description: values.description,
        subjects: levelsOf(values.subjects),
      },
      pages.authoring,
    );
  } catch (error) {
    await renderFrameworks(pages, req, res, scope, { values, error: authoringFailure(error) });
    return;
  }
  pages.logger.info({ tenantId: scope.tenant.id, frameworkId, actor }, 'admin created a framework');
  res.redirect(303, `${scope.root}/frameworks/${frameworkId}?done=framework-created`);
}
