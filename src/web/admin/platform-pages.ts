import type { Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import {
  addPlatformFor,
  approveRegistration,
  findPendingRegistration,
  findVisiblePlatform,
  platformsOverview,
  rejectRegistration,
  saveFrameOrigins,
  type Platform,
} from '../../lti-admin/admin-area.ts';
import { LtiAdminError } from '../../lti-admin/errors.ts';
import { PLATFORM_PRESETS } from '../../lti-admin/platform-presets.ts';
import { HttpError, notFound } from '../errors.ts';
import { LTI_PATHS } from '../routes/lti.routes.ts';
import type { AdminPageContext } from './admin-context.ts';
import {
  adminForm as form,
  blankToUndefined,
  field,
  fieldErrors,
  notice,
  param,
  type FieldErrors,
} from './admin-forms.ts';

const platformFormSchema = z
  .object({
    preset: z.enum(PLATFORM_PRESETS, { error: 'Choose the kind of LMS.' }),
    clientId: z
      .string()
      .trim()
      .min(1, { error: 'Enter the client id the LMS gave the tool.' })
      .max(500, { error: 'The client id is at most 500 characters.' }),
    name: z.string().trim().max(200, { error: 'The name is at most 200 characters.' }).optional(),
    issuer: z.string().trim().optional(),
    authLoginUrl: z.string().trim().optional(),
    authTokenUrl: z.string().trim().optional(),
    jwksUrl: z.string().trim().optional(),
  })
  .superRefine((value, ctx) => {
    const needsIssuer = value.preset === 'moodle' || value.preset === 'generic';
    if (needsIssuer && value.issuer === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['issuer'],
        message:
          value.preset === 'moodle'
            ? 'Enter the Moodle site URL exactly as its wwwroot (e.g. https://moodle.district.org).'
            : 'Enter the issuer exactly as the LMS sends it.',
      });
    }
    if (value.preset === 'generic') {
      for (const [key, label] of [
        ['authLoginUrl', 'the OIDC authorization (login) URL'],
        ['authTokenUrl', 'the token URL'],
        ['jwksUrl', 'the JWKS (public keys) URL'],
      ] as const) {
        const url = value[key];
        if (url === undefined || !URL.canParse(url)) {
          ctx.addIssue({ code: 'custom', path: [key], message: `Enter ${label} (https://…).` });
        }
      }
    }
  });

type PlatformForm = z.infer<typeof platformFormSchema>;

const PLATFORM_FIELDS = [
  'preset',
  'clientId',
  'name',
  'issuer',
  'authLoginUrl',
  'authTokenUrl',
  'jwksUrl',
] as const;

const PRESET_CHOICES = [
  { value: 'canvas', label: 'Canvas (cloud, instructure.com)' },
  { value: 'canvas-beta', label: 'Canvas beta environment' },
  { value: 'canvas-test', label: 'Canvas test environment' },
  { value: 'schoology', label: 'Schoology' },
  { value: 'moodle', label: 'Moodle (site URL needed)' },
  { value: 'generic', label: 'Other LTI 1.3 platform (all URLs needed)' },
];

const LOOPBACK = (host: string): boolean =>
  host === 'localhost' || host === '[::1]' || host.startsWith('127.');

/** One origin per line; each must be an https origin (http only for loopback, for local testing). */
function parseOrigins(text: string): { origins: string[] } | { error: string } {
  const origins = new Set<string>();
  for (const line of text.split(/[\s,]+/)) {
    if (line === '') continue;
    if (!URL.canParse(line)) return { error: `"${line}" is not a web address.` };
    const url = new URL(line);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK(url.hostname))) {
      return { error: `"${line}" must start with https://.` };
    }
    origins.add(url.origin);
  }
  if (origins.size > 20) return { error: 'At most 20 frame origins per platform.' };
  return { origins: [...origins].sort() };
}

/** Presets that fix an endpoint refuse it when given; send only what the preset takes. */
function platformInput(input: PlatformForm) {
  const takesIssuer = input.preset === 'moodle' || input.preset === 'generic';
  const takesUrls = input.preset === 'generic';
  return {
    preset: input.preset,
    clientId: input.clientId,
    ...(input.name === undefined || input.name === '' ? {} : { name: input.name }),
    ...(takesIssuer ? { issuer: input.issuer } : {}),
    ...(takesUrls
      ? {
          authLoginUrl: input.authLoginUrl,
          authTokenUrl: input.authTokenUrl,
          jwksUrl: input.jwksUrl,
        }
      : {}),
  };
}

interface PlatformFormState {
  values: Record<string, string>;
  errors: FieldErrors;
  formError?: string;
}

async function renderPlatforms(
  ctx: AdminPageContext,
  req: Request,
  res: Response,
  formState: PlatformFormState = { values: { preset: 'canvas' }, errors: {} },
): Promise<void> {
  const actor = ctx.actorOf(req);
  const { platforms, tenants } = await platformsOverview(ctx.area, actor);
  const tenantName = new Map(tenants.map((t) => [t.id, t.name]));
  const view = (p: Platform) => ({
    id: p.id,
    name: p.name,
    issuer: p.issuer,
    clientId: p.clientId,
    flavour: p.flavour,
    status: p.status === 'active' ? 'Active' : 'Waiting for approval',
    authLoginUrl: p.authLoginUrl,
    frameOrigins: p.frameOrigins.join('\n'),
    capture:
      p.captureFirstDeployment && p.defaultTenantId !== undefined
        ? `Records its first launch's deployment for ${tenantName.get(p.defaultTenantId) ?? 'a district'}`
        : undefined,
  });
  res.status(Object.keys(formState.errors).length > 0 || formState.formError ? 400 : 200);
  res.render('admin/platforms', {
    ...ctx.layout(actor, 'platforms', 'Platforms'),
    notice: notice(req),
    active: platforms.filter((p) => p.status === 'active').map(view),
    pending:
      actor.tenantId === undefined ? platforms.filter((p) => p.status === 'pending').map(view) : [],
    tenants: tenants.map((t) => ({ id: t.id, slug: t.slug, name: t.name })),
    presets: PRESET_CHOICES,
    form: formState,
  });
}

/** Overview: what to paste into each LMS. */
function overview(ctx: AdminPageContext): RequestHandler {
  const { publicUrl } = ctx.deps;
  const url = (path: string) => `${publicUrl}${path}`;
  return function adminOverview(req, res) {
    res.render('admin/overview', {
      ...ctx.layout(ctx.actorOf(req), 'overview', 'Administration'),
      urls: {
        jwks: url(LTI_PATHS.jwks),
        login: url(LTI_PATHS.login),
        launch: url(LTI_PATHS.launch),
        register: url(LTI_PATHS.register),
        canvasConfig: url(LTI_PATHS.canvasConfig),
        domain: new URL(publicUrl).host,
      },
    });
  };
}

function platformsPage(ctx: AdminPageContext): RequestHandler {
  return function showPlatforms(req, res) {
    return renderPlatforms(ctx, req, res);
  };
}

function addPlatform(ctx: AdminPageContext): RequestHandler {
  return async function addPlatformFromForm(req, res) {
    const actor = ctx.actorOf(req);
    const values = Object.fromEntries(
      PLATFORM_FIELDS.map((name) => [name, field(req, name) ?? '']),
    );
    const parsed = platformFormSchema.safeParse(
      Object.fromEntries(Object.entries(values).map(([k, v]) => [k, blankToUndefined(v)])),
    );
    if (!parsed.success) {
      await renderPlatforms(ctx, req, res, { values, errors: fieldErrors(parsed.error) });
      return;
    }
    try {
      await addPlatformFor(ctx.area, actor, platformInput(parsed.data));
    } catch (error) {
      if (!(error instanceof LtiAdminError)) throw error;
      await renderPlatforms(ctx, req, res, { values, errors: {}, formError: error.message });
      return;
    }
    res.redirect(303, `${actor.base}/platforms?done=platform-added`);
  };
}

function saveOrigins(ctx: AdminPageContext): RequestHandler {
  return async function saveFrameOriginsFromForm(req, res) {
    const actor = ctx.actorOf(req);
    const platform = await findVisiblePlatform(ctx.area, actor, param(req, 'platformId'));
    // Another district's platform answers exactly like a missing one.
    if (platform === undefined) throw notFound('There is no such platform.');
    const parsed = parseOrigins(field(req, 'frameOrigins') ?? '');
    if ('error' in parsed) {
      throw new HttpError(400, 'bad_request', `Frame origins not saved: ${parsed.error}`);
    }
    await saveFrameOrigins(ctx.area, platform, parsed.origins);
    res.redirect(303, `${actor.base}/platforms?done=origins-saved`);
  };
}

async function pendingOrNotFound(ctx: AdminPageContext, req: Request): Promise<Platform> {
  const platform = await findPendingRegistration(ctx.area, param(req, 'platformId'));
  if (platform === undefined) throw notFound('There is no such pending registration.');
  return platform;
}

function approve(ctx: AdminPageContext): RequestHandler {
  return async function approvePendingRegistration(req, res) {
    const actor = ctx.actorOf(req);
    const platform = await pendingOrNotFound(ctx, req);
    const tenantId = field(req, 'tenantId');
    const tenant = (await ctx.visibleTenants(actor)).find((t) => t.id === tenantId);
    if (tenant === undefined) {
      throw new HttpError(400, 'bad_request', 'Choose the district this LMS registration is for.');
    }
    await approveRegistration(ctx.area, platform, tenant);
    res.redirect(303, `${actor.base}/platforms?done=platform-approved`);
  };
}

function reject(ctx: AdminPageContext): RequestHandler {
  return async function rejectPendingRegistration(req, res) {
    const actor = ctx.actorOf(req);
    await rejectRegistration(ctx.area, await pendingOrNotFound(ctx, req));
    res.redirect(303, `${actor.base}/platforms?done=platform-rejected`);
  };
}

/**
 * The overview and the platforms. Pending Dynamic Registrations belong to no district yet, so only
 * operators see and approve them: anyone can start a registration, and letting any district claim
 * one would let a district capture another's LMS.
 */
export function platformAdminPages(router: Router, ctx: AdminPageContext): void {
  router.get('/', overview(ctx));
  router.get('/platforms', platformsPage(ctx));
  router.post('/platforms', form, ctx.csrf, addPlatform(ctx));
  router.post('/platforms/:platformId/frame-origins', form, ctx.csrf, saveOrigins(ctx));
  router.post('/platforms/:platformId/approve', form, ctx.csrf, ctx.operatorOnly, approve(ctx));
  router.post('/platforms/:platformId/reject', form, ctx.csrf, ctx.operatorOnly, reject(ctx));
}
