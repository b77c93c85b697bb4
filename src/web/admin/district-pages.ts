import express, { type Request, type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import type { Tenant } from '../../lti-admin/admin-area.ts';
import {
  listDeletionRecords,
  liftDeletionRecord,
  saveDistrictSettings,
  type DistrictSettingsDeps,
} from '../../lti-admin/district-settings.ts';
import { notFound } from '../errors.ts';
import type { AdminPageContext } from './admin-context.ts';

const form = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 10 });

const settingsForm = z.object({
  storeEmail: z.literal('yes').optional(),
  passbackAuditRetentionDays: z
    .string()
    .trim()
    .refine((value) => value === '' || /^\d{1,4}$/.test(value), 'Enter a whole number of days.')
    .transform((value) => (value === '' ? undefined : Number(value)))
    .refine(
      (value) => value === undefined || (value >= 1 && value <= 3650),
      'Enter between 1 and 3650 days, or leave it empty for the default.',
    ),
});

const NOTICES: Readonly<Record<string, string>> = {
  saved: 'The district settings were saved.',
  lifted:
    'The deletion record was lifted: the person is added again at their next launch or roster sync, with no earlier data.',
};

const districtDeps = (ctx: AdminPageContext): DistrictSettingsDeps => ({
  deletionRecords: ctx.deps.services.deletionRecords,
  tenants: ctx.deps.services.tenants,
  logger: ctx.deps.logger,
});

/** The district being managed: a district admin's own; an operator picks one (`?tenant=`). */
async function districtOf(ctx: AdminPageContext, req: Request): Promise<Tenant | undefined> {
  const actor = ctx.actorOf(req);
  const visible = await ctx.visibleTenants(actor);
  if (actor.tenantId !== undefined) return visible.find((t) => t.id === actor.tenantId);
  const wanted = typeof req.query.tenant === 'string' ? req.query.tenant : undefined;
  if (wanted === undefined) return undefined;
  const found = visible.find((t) => t.id === wanted);
  if (found === undefined) throw notFound('There is no such district.');
  return found;
}

/** The district named in the path; another district's answers exactly like a missing one. */
async function pathDistrict(ctx: AdminPageContext, req: Request): Promise<Tenant> {
  const tenant = (await ctx.visibleTenants(ctx.actorOf(req))).find(
    (t) => t.id === req.params.tenantId,
  );
  if (tenant === undefined) throw notFound('There is no such district.');
  return tenant;
}

function districtPage(ctx: AdminPageContext): RequestHandler {
  return async function showDistrictSettings(req, res) {
    const actor = ctx.actorOf(req);
    const tenant = await districtOf(ctx, req);
    const notice = typeof req.query.done === 'string' ? NOTICES[req.query.done] : undefined;
    res.render('admin/district', {
      ...ctx.layout(actor, 'district', 'District settings'),
      tenants: tenant === undefined ? await ctx.visibleTenants(actor) : [],
      tenant,
      values: {
        storeEmail: tenant?.settings.storeEmail ?? false,
        passbackAuditRetentionDays: String(tenant?.settings.passbackAuditRetentionDays ?? ''),
      },
      errors: {},
      notice,
      deletionRecords: await listDeletionRecords(districtDeps(ctx), tenant),
    });
  };
}

function liftRecord(ctx: AdminPageContext): RequestHandler {
  return async function liftDeletionRecordForm(req, res) {
    const actor = ctx.actorOf(req);
    const tenant = await pathDistrict(ctx, req);
    const recordId = String(req.params.recordId);
    if (!(await liftDeletionRecord(districtDeps(ctx), { tenant, recordId, actorId: actor.id }))) {
      throw notFound('There is no such deletion record in this district.');
    }
    const query = actor.tenantId === undefined ? `tenant=${tenant.id}&` : '';
    res.redirect(303, `${actor.base}/district?${query}done=lifted`);
  };
}

function saveSettings(ctx: AdminPageContext): RequestHandler {
  return async function saveDistrictSettingsForm(req, res) {
    const actor = ctx.actorOf(req);
    const tenant = await pathDistrict(ctx, req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const typedDays =
      typeof body.passbackAuditRetentionDays === 'string' ? body.passbackAuditRetentionDays : '';
    const parsed = settingsForm.safeParse({
      storeEmail: body.storeEmail,
      passbackAuditRetentionDays: typedDays,
    });
    if (!parsed.success) {
      const errors: Record<string, string> = {};
      for (const issue of parsed.error.issues) errors[String(issue.path[0])] ??= issue.message;
      res.status(422).render('admin/district', {
        ...ctx.layout(actor, 'district', 'District settings'),
        tenants: [],
        tenant,
        values: { storeEmail: body.storeEmail === 'yes', passbackAuditRetentionDays: typedDays },
        errors,
        notice: undefined,
        deletionRecords: await listDeletionRecords(districtDeps(ctx), tenant),
      });
      return;
    }
    await saveDistrictSettings(districtDeps(ctx), {
      tenant,
      actorId: actor.id,
      storeEmail: parsed.data.storeEmail === 'yes',
      passbackAuditRetentionDays: parsed.data.passbackAuditRetentionDays,
    });
    const query = actor.tenantId === undefined ? `tenant=${tenant.id}&` : '';
    res.redirect(303, `${actor.base}/district?${query}done=saved`);
  };
}

/**
 * District settings: what the district decides about its own data (`lti-admin/district-settings.ts`).
 * A district lifts a deletion record here (its own decision under the privacy law, see docs/privacy.md).
 */
export function districtAdminPages(router: Router, ctx: AdminPageContext): void {
  router.get('/district', districtPage(ctx));
  router.post(
    '/district/:tenantId/deletion-records/:recordId/lift',
    form,
    ctx.csrf,
    liftRecord(ctx),
  );
  router.post('/district/:tenantId', form, ctx.csrf, saveSettings(ctx));
}
