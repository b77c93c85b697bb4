import express, { type Request, type Response, type Router } from 'express';
import { DEFAULT_COURSE_POLICY } from '../../policy/defaults.ts';
import { createAdminUserRepository } from '../../storage/lti/admin-users.repository.ts';
import type { Tenant } from '../../storage/lti/tenants.repository.ts';
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

/**
 * The district mastery policy page of the admin area: method and parameters, minimum evidence,
 * ordering date, rounding, the proficiency scale, roll-up, the conversion table and passback
 * modes. Saving records who/when and recomputes every course of the district in the background.
 */
export function policyAdminPages(router: Router, ctx: AdminPageContext): void {
  const { services, logger } = ctx.deps;
  const mastery = services.mastery;

  function chosenTenant(tenants: readonly Tenant[], slug: unknown): Tenant | undefined {
    if (typeof slug === 'string') return tenants.find((t) => t.slug === slug);
    return tenants[0];
  }

  async function render(
    req: Request,
    res: Response,
    tenant: Tenant | undefined,
    options: {
      status?: number;
      notice?: string;
      summary?: string;
      errors?: Record<string, string>;
      values?: Record<string, string>;
    } = {},
  ) {
    const actor = ctx.actorOf(req);
    const tenants = await ctx.visibleTenants(actor);
    let values = options.values;
    let job;
    let changes: { at: string; by: string }[] = [];
    if (tenant !== undefined) {
      const [stored, effective, latest, log] = await Promise.all([
        mastery.storedPolicies(tenant.id, null),
        mastery.loadCoursePolicy(tenant.id, null).catch(() => DEFAULT_COURSE_POLICY),
        mastery.latestJob(tenant.id, null),
        mastery.policyChanges(tenant.id, null),
      ]);
      job = latest;
      const names = new Map(
        (await createAdminUserRepository(ctx.deps.db, ctx.deps.services.now).list()).map((u) => [
          `admin:${u.id}`,
          u.username,
        ]),
      );
      changes = log.map((c) => ({
        at: changedAtLabel(c.changedAt),
        by:
          names.get(c.changedBy) ??
          (c.changedBy.startsWith('lti:') ? 'An administrator launched from the LMS' : 'Unknown'),
      }));
      if (values === undefined) {
        values = formValues(stored.district ?? {}, effective, true);
        values.scaleMin = String(effective.scale.min);
        values.scaleMax = String(effective.scale.max);
        effective.scale.levels.forEach((level, i) => {
          if (values === undefined) return;
          values[`level_${i}_id`] = level.id;
          values[`level_${i}_label`] = level.label;
          values[`level_${i}_value`] = String(level.value);
          values[`level_${i}_colour`] = level.colour;
          values[`level_${i}_mastered`] = level.mastered ? 'yes' : '';
        });
        values.interpolation = effective.conversion.interpolation;
        effective.conversion.rows.forEach((row, i) => {
          if (values === undefined) return;
          values[`conversion_${i}_value`] = String(row.value);
          values[`conversion_${i}_percent`] = String(row.percent);
        });
      }
    }
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
      changes,
    });
  }

  router.get('/policy', async (req, res) => {
    const tenants = await ctx.visibleTenants(ctx.actorOf(req));
    const tenant = chosenTenant(tenants, req.query.district);
    if (typeof req.query.district === 'string' && tenant === undefined) {
      throw new HttpError(404, 'not_found', 'There is no such district here.');
    }
    await render(req, res, tenant);
  });

  router.post('/policy', form, ctx.csrf, async (req, res) => {
    const actor = ctx.actorOf(req);
    const tenants = await ctx.visibleTenants(actor);
    const body = (req.body ?? {}) as FormBody;
    const tenant = chosenTenant(tenants, body.tenantSlug);
    if (tenant === undefined)
      throw new HttpError(404, 'not_found', 'There is no such district here.');
    const { policy, errors } = policyFromForm(body, { district: true });
    const job = await savePolicyForm(
      mastery,
      // An opaque id (admin:<id> or lti:<user id>), never a name: names are not unique and are personal data.
      { tenantId: tenant.id, courseId: null, actor: actor.id },
      { body, policy, errors },
      (refused) => render(req, res, tenant, refused),
    );
    if (job === undefined) return;
    logger.info({ tenantId: tenant.id, jobId: job.id }, 'district mastery policy changed');
    res.redirect(
      303,
      `${actor.base}/policy/jobs/${job.id}?district=${encodeURIComponent(tenant.slug)}`,
    );
  });

  router.get('/policy/jobs/:jobId', async (req, res) => {
    const actor = ctx.actorOf(req);
    const tenants = await ctx.visibleTenants(actor);
    const tenant = chosenTenant(tenants, req.query.district);
    const jobId = typeof req.params.jobId === 'string' ? req.params.jobId : '';
    const job = tenant === undefined ? undefined : await mastery.job(tenant.id, jobId);
    if (tenant === undefined || job === undefined) {
      throw new HttpError(404, 'not_found', 'There is no such recalculation here.');
    }
    res.render('evidence/job', {
      ...ctx.layout(actor, 'policy', 'Recalculating mastery'),
      ...recalculationPage(job),
      backHref: `${actor.base}/policy?district=${encodeURIComponent(tenant.slug)}`,
    });
  });
}
