import express, { type RequestHandler, type Router } from 'express';
import { z } from 'zod';
import { ClassroomError, CLASSROOM_ERROR_MESSAGES } from '../../classroom/errors.ts';
import {
  CLASSROOM_API_BASE,
  CLASSROOM_FRAME_ORIGIN,
  CLASSROOM_SCOPES,
  GOOGLE_ISSUER,
  isLoopbackHttp,
} from '../../classroom/sign-in.ts';
import { classroomInstallOverview } from '../../classroom/install-settings.ts';
import { NEEDS_SIGN_IN_REASON } from '../../classroom/services.ts';
import type { Tenant } from '../../lti-admin/admin-area.ts';
import { HttpError } from '../errors.ts';
import { classroomUrls } from '../routes/classroom.routes.ts';
import type { AdminPageContext } from './admin-context.ts';

const form = express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 20 });

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/**
 * A Google address an operator may set: https, or plain http on loopback only when the tool itself
 * runs on loopback http (local development, the emulator in tests). No credentials in the URL.
 */
const googleUrl = (what: string, allowLoopbackHttp: boolean) =>
  z
    .string()
    .trim()
    .min(1, `Enter the ${what}.`)
    .max(2000)
    .refine(
      (value) => {
        if (!URL.canParse(value)) return false;
        const url = new URL(value);
        if (url.username !== '' || url.password !== '') return false;
        return url.protocol === 'https:' || (allowLoopbackHttp && isLoopbackHttp(value));
      },
      { error: `The ${what} must be a web address starting with https://.` },
    );

const baseSettingsSchema = z.object({
  tenantSlug: z.string().trim().min(1).max(100),
  clientId: z
    .string()
    .trim()
    .min(1, 'Enter the OAuth client id from Google Cloud.')
    .max(500)
    .regex(/^\S+$/, 'The client id has no spaces.'),
  clientSecret: z.string().trim().max(500).optional(),
  allowedDomains: z
    .string()
    .trim()
    .min(1, 'Enter at least one Workspace domain (for example district.org).')
    .max(5000)
    .transform((value) => [
      ...new Set(
        value
          .split(/[\s,]+/)
          .map((d) => d.toLowerCase())
          .filter((d) => d !== ''),
      ),
    ])
    .refine((domains) => domains.length >= 1 && domains.length <= 50, {
      error: 'Enter between 1 and 50 domains.',
    })
    .refine((domains) => domains.every((d) => DOMAIN.test(d)), {
      error: 'Enter domains only, like district.org, separated by commas or new lines.',
    }),
});

const addressesSchema = (allowLoopbackHttp: boolean) =>
  z.object({
    issuer: googleUrl('sign-in issuer', allowLoopbackHttp),
    apiBaseUrl: googleUrl('Classroom API address', allowLoopbackHttp),
    frameOrigin: googleUrl('Classroom web address', allowLoopbackHttp),
  });

/**
 * The Google addresses a save uses. A district admin cannot change them (they decide where users'
 * Google tokens are sent and which issuer becomes an LTI platform): the district keeps what an
 * operator set, else Google's own addresses.
 */
function districtAddresses(
  install: { issuer: string; apiBaseUrl: string; frameOrigin: string } | undefined,
) {
  return {
    issuer: install?.issuer ?? GOOGLE_ISSUER,
    apiBaseUrl: install?.apiBaseUrl ?? CLASSROOM_API_BASE,
    frameOrigin: install?.frameOrigin ?? CLASSROOM_FRAME_ORIGIN,
  };
}

function chosenTenant(tenants: readonly Tenant[], slug: unknown): Tenant | undefined {
  if (typeof slug === 'string') return tenants.find((t) => t.slug === slug);
  return tenants[0];
}

async function render(
  ctx: AdminPageContext,
  req: express.Request,
  res: express.Response,
  tenant: Tenant | undefined,
  options: {
    status?: number;
    notice?: string;
    errors?: Record<string, string>;
    values?: Record<string, string>;
  },
) {
  const { services, publicUrl } = ctx.deps;
  const actor = ctx.actorOf(req);
  const tenants = await ctx.visibleTenants(actor);
  // What stops grading, in words: a refused client secret, and classes Google refused.
  const { install, pausedCourses } = await classroomInstallOverview(services.classroom, tenant?.id);
  const errors = options.errors ?? {};
  const operator = actor.tenantId === undefined;
  const addresses = districtAddresses(install);
  const values = {
    ...(options.values ?? {
      clientId: install?.clientId ?? '',
      allowedDomains: install?.allowedDomains.join(', ') ?? '',
      ...addresses,
    }),
    // A district admin sees the addresses in use, never a posted value.
    ...(operator ? {} : addresses),
  };
  res.status(options.status ?? 200).render('admin/classroom', {
    clientRejected:
      install?.clientRejectedAt === undefined
        ? undefined
        : {
            at: `${install.clientRejectedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
            message: CLASSROOM_ERROR_MESSAGES.client_secret_rejected,
          },
    pausedCourses: pausedCourses.map((course) => ({
      title: course.title ?? 'A Classroom class',
      reason:
        course.reason === undefined || course.reason === NEEDS_SIGN_IN_REASON
          ? CLASSROOM_ERROR_MESSAGES.needs_teacher_sign_in
          : course.reason,
    })),
    ...ctx.layout(actor, 'classroom', 'Google Classroom'),
    tenants: tenants.map((t) => ({ slug: t.slug, name: t.name, current: t.id === tenant?.id })),
    tenant: tenant === undefined ? undefined : { slug: tenant.slug, name: tenant.name },
    configured: install !== undefined,
    storeEmail: tenant?.settings.storeEmail ?? false,
    urls: tenant === undefined ? undefined : classroomUrls(publicUrl, tenant.slug),
    scopes: CLASSROOM_SCOPES,
    notice: options.notice,
    errors,
    errorList: Object.entries(errors).map(([field, message]) => ({ field, message })),
    values,
    canEditAddresses: operator,
  });
}

function classroomSettingsPage(ctx: AdminPageContext): RequestHandler {
  return async function showClassroomSettings(req, res) {
    const tenants = await ctx.visibleTenants(ctx.actorOf(req));
    const tenant = chosenTenant(tenants, req.query.district);
    if (typeof req.query.district === 'string' && tenant === undefined) {
      throw new HttpError(404, 'not_found', 'There is no such district here.');
    }
    await render(ctx, req, res, tenant, {
      ...(req.query.saved === '1' ? { notice: 'Google Classroom settings saved.' } : {}),
    });
  };
}

function saveClassroomSettings(ctx: AdminPageContext): RequestHandler {
  const { services, publicUrl, logger } = ctx.deps;
  const operatorAddresses = addressesSchema(isLoopbackHttp(new URL(publicUrl).origin));
  return async function saveClassroomSettingsForm(req, res) {
    const actor = ctx.actorOf(req);
    const tenants = await ctx.visibleTenants(actor);
    const body = req.body as Record<string, unknown>;
    const tenant = chosenTenant(tenants, body.tenantSlug);
    if (tenant === undefined) {
      throw new HttpError(404, 'not_found', 'There is no such district here.');
    }
    const values: Record<string, string> = {};
    for (const key of ['clientId', 'allowedDomains', 'issuer', 'apiBaseUrl', 'frameOrigin']) {
      values[key] = typeof body[key] === 'string' ? body[key] : '';
    }
    const existing = await services.classroom.findInstall(tenant.id);
    const operator = actor.tenantId === undefined;
    const parsed = baseSettingsSchema.safeParse(body);
    // Posted addresses count only from an operator; a district admin's are ignored.
    const addresses = operator
      ? operatorAddresses.safeParse(body)
      : { success: true as const, data: districtAddresses(existing) };
    const errors: Record<string, string> = {};
    for (const result of [parsed, addresses]) {
      if (result.success) continue;
      for (const issue of result.error.issues) errors[String(issue.path[0])] ??= issue.message;
    }
    const secret =
      parsed.success && parsed.data.clientSecret ? parsed.data.clientSecret : undefined;
    if (existing === undefined && secret === undefined) {
      errors.clientSecret = 'Enter the OAuth client secret from Google Cloud.';
    }
    if (!parsed.success || !addresses.success || Object.keys(errors).length > 0) {
      await render(ctx, req, res, tenant, { status: 400, errors, values });
      return;
    }
    try {
      await services.classroom.saveInstall(tenant.id, {
        issuer: addresses.data.issuer,
        clientId: parsed.data.clientId,
        clientSecret: secret,
        allowedDomains: parsed.data.allowedDomains,
        apiBaseUrl: addresses.data.apiBaseUrl,
        frameOrigin: new URL(addresses.data.frameOrigin).origin,
      });
    } catch (error) {
      if (!(error instanceof ClassroomError)) throw error;
      logger.warn({ tenantId: tenant.id, code: error.code }, 'classroom settings not saved');
      await render(ctx, req, res, tenant, {
        status: 400,
        values,
        errors: {
          issuer: `Mastery Pathways could not read the sign-in settings from ${addresses.data.issuer} (its /.well-known/openid-configuration). Check the address; nothing was saved.`,
        },
      });
      return;
    }
    logger.info({ tenantId: tenant.id }, 'classroom settings saved');
    res.redirect(
      303,
      `${actor.base}/classroom?district=${encodeURIComponent(tenant.slug)}&saved=1`,
    );
  };
}

/** The Google Classroom page of the admin area: the district's install and the URLs for Google. */
export function classroomAdminPages(router: Router, ctx: AdminPageContext): void {
  router.get('/classroom', classroomSettingsPage(ctx));
  router.post('/classroom', form, ctx.csrf, saveClassroomSettings(ctx));
}
