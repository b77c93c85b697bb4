import express, { type Request, type Router } from 'express';
import { z } from 'zod';
import type { Tenant } from '../../storage/lti/tenants.repository.ts';
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

/**
 * District settings: what the district decides about its own data. Storing email is off unless the
 * district turns it on (student data privacy: store only what is used); the grade passback audit
 * is kept as long as the district's policy says.
 */
export function districtAdminPages(router: Router, ctx: AdminPageContext): void {
  const { services, logger } = ctx.deps;

  /** The district being managed: a district admin's own; an operator picks one (`?tenant=`). */
  async function districtOf(req: Request): Promise<Tenant | undefined> {
    const actor = ctx.actorOf(req);
    const visible = await ctx.visibleTenants(actor);
    if (actor.tenantId !== undefined) return visible.find((t) => t.id === actor.tenantId);
    const wanted = typeof req.query.tenant === 'string' ? req.query.tenant : undefined;
    if (wanted === undefined) return undefined;
    const found = visible.find((t) => t.id === wanted);
    if (found === undefined) throw notFound('There is no such district.');
    return found;
  }

  /** The district's deletion records, dates only (nothing else is kept about the person). */
  const deletionRecordsOf = async (tenant: Tenant | undefined) =>
    tenant === undefined
      ? []
      : (await services.deletionRecords.list(tenant.id)).map((record) => ({
          id: record.id,
          date: record.deletedAt.toISOString().slice(0, 10),
        }));

  router.get('/district', async (req, res) => {
    const actor = ctx.actorOf(req);
    const tenant = await districtOf(req);
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
      deletionRecords: await deletionRecordsOf(tenant),
    });
  });

  // A district lifts a deletion record (its own decision under the privacy law, see docs/privacy.md).
  router.post(
    '/district/:tenantId/deletion-records/:recordId/lift',
    form,
    ctx.csrf,
    async (req, res) => {
      const actor = ctx.actorOf(req);
      const tenant = (await ctx.visibleTenants(actor)).find((t) => t.id === req.params.tenantId);
      if (tenant === undefined) throw notFound('There is no such district.');
      const recordId = String(req.params.recordId);
      if (!(await services.deletionRecords.liftById(tenant.id, recordId))) {
        throw notFound('There is no such deletion record in this district.');
      }
      logger.info({ tenantId: tenant.id, actor: actor.id, recordId }, 'deletion record lifted');
      const query = actor.tenantId === undefined ? `tenant=${tenant.id}&` : '';
      res.redirect(303, `${actor.base}/district?${query}done=lifted`);
    },
  );

  router.post('/district/:tenantId', form, ctx.csrf, async (req, res) => {
    const actor = ctx.actorOf(req);
    const tenant = (await ctx.visibleTenants(actor)).find((t) => t.id === req.params.tenantId);
    // Another district's settings answer exactly like a missing district.
    if (tenant === undefined) throw notFound('There is no such district.');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const parsed = settingsForm.safeParse({
      storeEmail: body.storeEmail,
      passbackAuditRetentionDays:
        typeof body.passbackAuditRetentionDays === 'string' ? body.passbackAuditRetentionDays : '',
    });
    if (!parsed.success) {
      const errors: Record<string, string> = {};
      for (const issue of parsed.error.issues) errors[String(issue.path[0])] ??= issue.message;
      res.status(422).render('admin/district', {
        ...ctx.layout(actor, 'district', 'District settings'),
        tenants: [],
        tenant,
        values: {
          storeEmail: body.storeEmail === 'yes',
          passbackAuditRetentionDays:
            typeof body.passbackAuditRetentionDays === 'string'
              ? body.passbackAuditRetentionDays
              : '',
        },
        errors,
        notice: undefined,
        deletionRecords: await deletionRecordsOf(tenant),
      });
      return;
    }
    const storeEmail = parsed.data.storeEmail === 'yes';
    await services.tenants.updateSettings(tenant.id, {
      ...tenant.settings,
      storeEmail,
      passbackAuditRetentionDays: parsed.data.passbackAuditRetentionDays,
    });
    // Off means off: the addresses already stored are deleted too.
    const emailsDeleted = storeEmail ? 0 : await services.tenants.forgetEmails(tenant.id);
    logger.info(
      {
        tenantId: tenant.id,
        actor: actor.id,
        storeEmail,
        emailsDeleted,
        passbackAuditRetentionDays: parsed.data.passbackAuditRetentionDays ?? null,
      },
      'district settings changed',
    );
    const query = actor.tenantId === undefined ? `tenant=${tenant.id}&` : '';
    res.redirect(303, `${actor.base}/district?${query}done=saved`);
  });
}
