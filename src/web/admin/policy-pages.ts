import express, { type Request, type Response, type Router } from 'express';
import type { CoursePolicy } from '../../policy/course-policy.ts';
import type { StoredPolicy } from '../../policy/stored-policy.ts';
import { districtPolicyOverview } from '../../evidence/use-cases.ts';
import { listAdminUsers } from '../../lti-admin/use-cases.ts';
import { HttpError } from '../errors.ts';
import { formValues, policyFromForm, type FormBody } from '../policy-form.ts';
import {
  changedAtLabel,
  policyChoices,
  recalculationPage,
  savePolicyForm,
} from '../policy-page.ts';
import type { AdminPageContext } from './admin-context.ts';

const form = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 300 });

/** Rows offered for scale levels and conversion rows (blank ones are ignored). */
const LEVEL_ROWS = 8;
const CONVERSION_ROWS = 8;

/** A district the actor may manage, as the admin context lists them. */
type Tenant = Awaited<ReturnType<AdminPageContext['visibleTenants']>>[number];

interface PolicyFormState {
  status?: number;
  notice?: string;
  summary?: string;
  errors?: Readonly<Record<string, string>>;
  values?: Record<string, string>;
}

/**
 * The district mastery policy page of the admin area: method and parameters, minimum evidence,
 * ordering date, rounding, the proficiency scale, roll-up, the conversion table and passback
 * modes. Saving records who/when and recomputes every course of the district in the background.
 */
export function policyAdminPages(router: Router, ctx: AdminPageContext): void {
  router.get('/policy', (req, res) => showDistrictPolicy(ctx, req, res));
  router.post('/policy', form, ctx.csrf, (req, res) => saveDistrictPolicy(ctx, req, res));
  router.get('/policy/jobs/:jobId', (req, res) => showDistrictRecalculation(ctx, req, res));
}

function chosenTenant(tenants: readonly Tenant[], slug: unknown): Tenant | undefined {
  if (typeof slug === 'string') return tenants.find((t) => t.slug === slug);
  return tenants[0];
}

/** The form's values for the district's policy: its stored part, its scale and conversion rows. */
function districtFormValues(stored: StoredPolicy, effective: CoursePolicy): Record<string, string> {
  const values = formValues(stored, effective, true);
  values.scaleMin = String(effective.scale.min);
  values.scaleMax = String(effective.scale.max);
  effective.scale.levels.forEach((level, i) => {
    values[`level_${i}_id`] = level.id;
    values[`level_${i}_label`] = level.label;
    values[`level_${i}_value`] = String(level.value);
    values[`level_${i}_colour`] = level.colour;
    values[`level_${i}_mastered`] = level.mastered ? 'yes' : '';
  });
  values.interpolation = effective.conversion.interpolation;
  effective.conversion.rows.forEach((row, i) => {
    values[`conversion_${i}_value`] = String(row.value);
    values[`conversion_${i}_percent`] = String(row.percent);
  });
  return values;
}

/** The district's policy as the page shows it: values, latest recalculation, who changed it. */
async function districtPolicyModel(
  ctx: AdminPageContext,
  tenant: Tenant,
  values: Record<string, string> | undefined,
) {
  const { services } = ctx.deps;
  const overview = await districtPolicyOverview(services.mastery, tenant.id);
  const names = new Map(
    (await listAdminUsers({ db: ctx.deps.db, now: services.now })).map((u) => [
      `admin:${u.id}`,
      u.username,
    ]),
  );
  const changes = overview.changes.map((c) => ({
    at: changedAtLabel(c.changedAt),
    by:
      names.get(c.changedBy) ??
      (c.changedBy.startsWith('lti:') ? 'An administrator launched from the LMS' : 'Unknown'),
  }));
  return {
    values: values ?? districtFormValues(overview.stored.district ?? {}, overview.effective),
    job: overview.latestJob,
    changes,
  };
}

async function renderPolicy(
  ctx: AdminPageContext,
  req: Request,
  res: Response,
  tenant: Tenant | undefined,
  options: PolicyFormState = {},
): Promise<void> {
  const actor = ctx.actorOf(req);
  const tenants = await ctx.visibleTenants(actor);
  const district =
    tenant === undefined ? undefined : await districtPolicyModel(ctx, tenant, options.values);
  const values = district?.values ?? options.values;
  const job = district?.job;
  const errors = options.errors ?? {};
  res.status(options.status ?? 200).render('admin/policy', {
    ...ctx.layout(actor, 'policy', 'Mastery policy'),
    tenants: tenants.map((t) => ({ slug: t.slug, name: t.name, current: t.id === tenant?.id })),
    tenant: tenant === undefined ? undefined : { slug: tenant.slug, name: tenant.name },
    values: values ?? {},
    errors,
    errorList: Object.entries(errors).map(([name, message]) => ({ name, message })),
    notice: options.notice,
    summary: options.summary,
    ...policyChoices(),
    levelRows: Array.from({ length: LEVEL_ROWS }, (_, i) => i),
    conversionRows: Array.from({ length: CONVERSION_ROWS }, (_, i) => i),
    job:
      job === undefined
        ? undefined
        : { id: job.id, status: job.status, done: job.done, total: job.total },
    changes: district?.changes ?? [],
  });
}

/** GET the policy of the chosen district (`?district=<slug>`, else the first the actor sees). */
async function showDistrictPolicy(
  ctx: AdminPageContext,
  req: Request,
  res: Response,
): Promise<void> {
  const tenants = await ctx.visibleTenants(ctx.actorOf(req));
  const tenant = chosenTenant(tenants, req.query.district);
  if (typeof req.query.district === 'string' && tenant === undefined) {
    throw new HttpError(404, 'not_found', 'There is no such district here.');
  }
  await renderPolicy(ctx, req, res, tenant);
}

/** POST a district's policy; then watch the recalculation of its courses. */
async function saveDistrictPolicy(
  ctx: AdminPageContext,
  req: Request,
  res: Response,
): Promise<void> {
  const actor = ctx.actorOf(req);
  const tenants = await ctx.visibleTenants(actor);
  const body = (req.body ?? {}) as FormBody;
  const tenant = chosenTenant(tenants, body.tenantSlug);
  if (tenant === undefined)
    throw new HttpError(404, 'not_found', 'There is no such district here.');
  const { policy, errors } = policyFromForm(body, { district: true });
  const job = await savePolicyForm(
    ctx.deps.services.mastery,
    // An opaque id (admin:<id> or lti:<user id>), never a name: names are not unique and are personal data.
    { tenantId: tenant.id, courseId: null, actor: actor.id },
    { body, policy, errors },
    (refused) => renderPolicy(ctx, req, res, tenant, refused),
  );
  if (job === undefined) return;
  ctx.deps.logger.info({ tenantId: tenant.id, jobId: job.id }, 'district mastery policy changed');
  res.redirect(
    303,
    `${actor.base}/policy/jobs/${job.id}?district=${encodeURIComponent(tenant.slug)}`,
  );
}

/** GET the progress of a district-wide recalculation. */
async function showDistrictRecalculation(
  ctx: AdminPageContext,
  req: Request,
  res: Response,
): Promise<void> {
  const actor = ctx.actorOf(req);
  const tenants = await ctx.visibleTenants(actor);
  const tenant = chosenTenant(tenants, req.query.district);
  const jobId = typeof req.params.jobId === 'string' ? req.params.jobId : '';
  const job =
    tenant === undefined ? undefined : await ctx.deps.services.mastery.job(tenant.id, jobId);
  if (tenant === undefined || job === undefined) {
    throw new HttpError(404, 'not_found', 'There is no such recalculation here.');
  }
  res.render('evidence/job', {
    ...ctx.layout(actor, 'policy', 'Recalculating mastery'),
    ...recalculationPage(job),
    backHref: `${actor.base}/policy?district=${encodeURIComponent(tenant.slug)}`,
  });
}
