import type { Request, RequestHandler, Response, Router } from 'express';
import {
  addDeploymentFor,
  deploymentsOverview,
  removeDeploymentFor,
} from '../../lti-admin/admin-area.ts';
import { LtiAdminError } from '../../lti-admin/errors.ts';
import { notFound } from '../errors.ts';
import type { AdminPageContext } from './admin-context.ts';
import { adminForm as form, blankToUndefined, field, notice, param } from './admin-forms.ts';

interface DeploymentFormState {
  values: Record<string, string>;
  error?: string;
  warnings?: readonly string[];
}

async function renderDeployments(
  ctx: AdminPageContext,
  req: Request,
  res: Response,
  formState: DeploymentFormState = { values: {} },
): Promise<void> {
  const actor = ctx.actorOf(req);
  const { deployments, platforms, tenants } = await deploymentsOverview(ctx.area, actor);
  const platformName = new Map(platforms.map((p) => [p.id, `${p.name} (${p.clientId})`]));
  const tenantName = new Map(tenants.map((t) => [t.id, t.name]));
  res.status(formState.error === undefined ? 200 : 400);
  res.render('admin/deployments', {
    ...ctx.layout(actor, 'deployments', 'Deployments'),
    notice: notice(req),
    deployments: deployments.map((d) => ({
      id: d.id,
      deploymentId: d.deploymentId,
      label: d.label ?? '',
      platform: platformName.get(d.platformId) ?? 'Another platform',
      tenant: tenantName.get(d.tenantId) ?? '',
    })),
    platforms: platforms.map((p) => ({ id: p.id, label: `${p.name} (${p.clientId})` })),
    tenants: tenants.map((t) => ({ slug: t.slug, name: t.name })),
    form: formState,
  });
}

function deploymentsPage(ctx: AdminPageContext): RequestHandler {
  return function showDeployments(req, res) {
    return renderDeployments(ctx, req, res);
  };
}

const REFUSALS = {
  no_tenant: 'Choose the district.',
  no_platform: 'Choose a platform from the list.',
} as const;

function addDeployment(ctx: AdminPageContext): RequestHandler {
  return async function addDeploymentFromForm(req, res) {
    const actor = ctx.actorOf(req);
    const values = {
      platformId: field(req, 'platformId') ?? '',
      deploymentId: field(req, 'deploymentId') ?? '',
      tenantSlug: field(req, 'tenantSlug') ?? '',
      label: field(req, 'label') ?? '',
    };
    let result: Awaited<ReturnType<typeof addDeploymentFor>>;
    try {
      result = await addDeploymentFor(ctx.area, actor, {
        ...values,
        label: blankToUndefined(values.label),
      });
    } catch (error) {
      if (!(error instanceof LtiAdminError)) throw error;
      await renderDeployments(ctx, req, res, { values, error: error.message });
      return;
    }
    if (result.outcome !== 'added') {
      await renderDeployments(ctx, req, res, { values, error: REFUSALS[result.outcome] });
      return;
    }
    if (result.added.warnings.length > 0) {
      await renderDeployments(ctx, req, res, { values: {}, warnings: result.added.warnings });
      return;
    }
    res.redirect(303, `${actor.base}/deployments?done=deployment-added`);
  };
}

function removeDeployment(ctx: AdminPageContext): RequestHandler {
  return async function removeDeploymentRow(req, res) {
    const actor = ctx.actorOf(req);
    // Another district's deployment answers exactly like a missing one.
    if (!(await removeDeploymentFor(ctx.area, actor, param(req, 'deploymentRowId')))) {
      throw notFound('There is no such deployment.');
    }
    res.redirect(303, `${actor.base}/deployments?done=deployment-removed`);
  };
}

/** The deployments of the actor's districts: listed, added, removed. */
export function deploymentAdminPages(router: Router, ctx: AdminPageContext): void {
  router.get('/deployments', deploymentsPage(ctx));
  router.post('/deployments', form, ctx.csrf, addDeployment(ctx));
  router.post('/deployments/:deploymentRowId/remove', form, ctx.csrf, removeDeployment(ctx));
}
