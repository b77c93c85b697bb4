import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { AppServices } from '../../app-services.ts';
import type { Logger } from '../../logger.ts';
import { LtiAdminError } from '../../lti-admin/errors.ts';
import { PLATFORM_PRESETS } from '../../lti-admin/platform-presets.ts';
import { addDeployment, addPlatform, removeDeployment } from '../../lti-admin/use-cases.ts';
import type { Platform } from '../../storage/lti/platforms.repository.ts';
import type { Tenant } from '../../storage/lti/tenants.repository.ts';
import type { Database } from '../../storage/schema.ts';
import { HttpError, notFound } from '../errors.ts';
import { csrfGuard } from '../middleware/csrf.ts';
import { LTI_PATHS } from '../routes/lti.routes.ts';
import type { AdminNavKey, AdminPageContext } from './admin-context.ts';
import { createAdminStore } from '../../storage/lti/admin-sessions.repository.ts';
import { classroomAdminPages } from './classroom-pages.ts';
import { districtAdminPages } from './district-pages.ts';
import { policyAdminPages } from './policy-pages.ts';
import { standardsAdminPages } from './standards-pages.ts';

/**
 * Who is using the admin pages. Reached two ways (an LTI launch with an Administrator role, or a
 * password sign-in), the pages themselves only see this.
 */
export interface AdminActor {
  /** Opaque id for audits and logs (`admin:<id>` or `lti:<user id>`), never a name. */
  readonly id: string;
  /** undefined: an operator, who manages every district. */
  readonly tenantId: string | undefined;
  readonly name: string;
  readonly roleLabel: string;
  /** Prefix of every admin link and form action: `/admin` or `/s/<token>/admin`. */
  readonly base: string;
  readonly csrf: string;
  /** Password sign-ins can sign out; launched admins leave through the LMS. */
  readonly canSignOut: boolean;
}

export interface AdminPagesDeps {
  readonly services: AppServices;
  readonly db: Kysely<Database>;
  readonly logger: Logger;
  readonly publicUrl: string;
}

const form = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 50 });

// The standards pages import the check from here.
export { checkCsrf } from '../middleware/csrf.ts';

/** Form fields are flat strings; anything else (arrays from repeated names) counts as missing. */
function field(req: Request, name: string): string | undefined {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null) return undefined;
  const value: unknown = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/** A route parameter as one string ('' when absent or repeated). */
function param(req: Request, name: string): string {
  const value: unknown = (req.params as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
}

const blankToUndefined = (value: string | undefined): string | undefined => {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
};

/** Outcomes shown after a redirect (post/redirect/get), by a fixed code so the URL cannot inject text. */
const NOTICES: Readonly<Record<string, string>> = {
  'platform-added': 'The platform was added.',
  'platform-approved': 'The registration was approved. Its first launch records its deployment.',
  'platform-rejected': 'The pending registration was rejected and removed.',
  'origins-saved': 'The frame origins were saved. Pages allow the new origins within a minute.',
  'deployment-added': 'The deployment was added.',
  'deployment-removed': 'The deployment was removed.',
};

function notice(req: Request): string | undefined {
  const code = req.query.done;
  return typeof code === 'string' ? NOTICES[code] : undefined;
}

type FieldErrors = Partial<Record<string, string>>;

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

function fieldErrors(error: z.ZodError): FieldErrors {
  const errors: FieldErrors = {};
  for (const issue of error.issues) {
    const key = String(issue.path[0] ?? 'form');
    errors[key] ??= issue.message;
  }
  return errors;
}

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

/**
 * The admin pages, for one actor resolved by `resolveActor` (which runs first and may throw 401/403
 * or redirect). Mounted twice: under `/admin` (password sign-in) and `/s/:sessionToken/admin`
 * (launched LMS administrators).
 *
 * Tenant isolation: an operator sees every district; a district admin sees only platforms linked
 * to their district (a deployment there, or added by them) and only their district's deployments.
 * Pending Dynamic Registrations belong to no district yet, so only operators see and approve them:
 * anyone can start a registration, and letting any district claim one would let a district capture
 * another's LMS. Tool keys are shared by all districts, so only operators rotate them.
 */
export function adminPages(
  deps: AdminPagesDeps,
  resolveActor: (req: Request, res: Response) => Promise<AdminActor | undefined>,
): Router {
  const { services, db, logger, publicUrl } = deps;
  const store = createAdminStore(db, { now: services.now });
  const ctx = { db, now: services.now };
  const actors = new WeakMap<Request, AdminActor>();
  const actorOf = (req: Request): AdminActor => {
    const found = actors.get(req);
    if (found === undefined) throw new Error('admin actor missing');
    return found;
  };
  const router = Router({ mergeParams: true });

  router.use(async (req, res, next) => {
    const actor = await resolveActor(req, res);
    if (actor === undefined) return; // the resolver answered (e.g. a redirect to sign in)
    actors.set(req, actor);
    // Admin pages are personal and may carry a session token in the URL.
    res.set('Cache-Control', 'no-store').set('Referrer-Policy', 'same-origin');
    next();
  });

  const csrf = csrfGuard((req) => actorOf(req).csrf);
  const operatorOnly: RequestHandler = (req, _res, next) => {
    if (actorOf(req).tenantId !== undefined) {
      throw new HttpError(
        403,
        'forbidden',
        'Only the tool operator can do this; it affects every district.',
      );
    }
    next();
  };

  /**
   * The launch path keeps registrations for a few seconds; after an admin changes one, this app
   * forgets them so the change applies to the next launch (other processes within the TTL).
   */
  const forgetRegistrations = (): void => {
    services.platformLookup.forget();
    services.deployments.forget();
  };

  function layout(actor: AdminActor, current: AdminNavKey, title: string) {
    const items: { href: string; label: string; key: AdminNavKey }[] = [
      { href: actor.base, label: 'Overview', key: 'overview' },
      { href: `${actor.base}/platforms`, label: 'Platforms', key: 'platforms' },
      { href: `${actor.base}/deployments`, label: 'Deployments', key: 'deployments' },
      { href: `${actor.base}/standards`, label: 'Standards', key: 'standards' },
      { href: `${actor.base}/policy`, label: 'Mastery policy', key: 'policy' },
      { href: `${actor.base}/classroom`, label: 'Google Classroom', key: 'classroom' },
      { href: `${actor.base}/district`, label: 'District settings', key: 'district' },
      { href: `${actor.base}/keys`, label: 'Tool keys', key: 'keys' },
    ];
    const nav = items.map((item) => ({
      href: item.href,
      label: item.label,
      current: item.key === current,
    }));
    return {
      layout: 'tool',
      title,
      nav,
      viewer: { name: actor.name, roleLabel: actor.roleLabel },
      base: actor.base,
      csrf: actor.csrf,
      canSignOut: actor.canSignOut,
      isOperator: actor.tenantId === undefined,
    };
  }

  async function visibleTenants(actor: AdminActor): Promise<Tenant[]> {
    const tenants = await services.tenants.list();
    return actor.tenantId === undefined
      ? tenants
      : tenants.filter((tenant) => tenant.id === actor.tenantId);
  }

  async function visiblePlatforms(actor: AdminActor): Promise<Platform[]> {
    const platforms = await services.platforms.list();
    if (actor.tenantId === undefined) return platforms;
    const linked = new Set(
      (await services.deployments.list({ tenantId: actor.tenantId })).map((d) => d.platformId),
    );
    return platforms.filter(
      (p) => p.status === 'active' && (linked.has(p.id) || p.defaultTenantId === actor.tenantId),
    );
  }

  async function visiblePlatform(actor: AdminActor, id: string | undefined): Promise<Platform> {
    const found = (await visiblePlatforms(actor)).find((p) => p.id === id);
    // Another district's platform answers exactly like a missing one.
    if (found === undefined) throw notFound('There is no such platform.');
    return found;
  }

  async function findPendingPlatform(id: string): Promise<Platform | undefined> {
    if (!z.uuid().safeParse(id).success) return undefined;
    return services.platforms.findById(id);
  }

  // ---- Overview: what to paste into each LMS ----
  router.get('/', (req, res) => {
    const actor = actorOf(req);
    const url = (path: string) => `${publicUrl}${path}`;
    res.render('admin/overview', {
      ...layout(actor, 'overview', 'Administration'),
      urls: {
        jwks: url(LTI_PATHS.jwks),
        login: url(LTI_PATHS.login),
        launch: url(LTI_PATHS.launch),
        register: url(LTI_PATHS.register),
        canvasConfig: url(LTI_PATHS.canvasConfig),
        domain: new URL(publicUrl).host,
      },
    });
  });

  // ---- Platforms ----
  async function renderPlatforms(
    req: Request,
    res: Response,
    formState: { values: Record<string, string>; errors: FieldErrors; formError?: string } = {
      values: { preset: 'canvas' },
      errors: {},
    },
  ): Promise<void> {
    const actor = actorOf(req);
    const platforms = await visiblePlatforms(actor);
    const tenants = await visibleTenants(actor);
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
      ...layout(actor, 'platforms', 'Platforms'),
      notice: notice(req),
      active: platforms.filter((p) => p.status === 'active').map(view),
      pending:
        actor.tenantId === undefined
          ? platforms.filter((p) => p.status === 'pending').map(view)
          : [],
      tenants: tenants.map((t) => ({ id: t.id, slug: t.slug, name: t.name })),
      presets: [
        { value: 'canvas', label: 'Canvas (cloud, instructure.com)' },
        { value: 'canvas-beta', label: 'Canvas beta environment' },
        { value: 'canvas-test', label: 'Canvas test environment' },
        { value: 'schoology', label: 'Schoology' },
        { value: 'moodle', label: 'Moodle (site URL needed)' },
        { value: 'generic', label: 'Other LTI 1.3 platform (all URLs needed)' },
      ],
      form: formState,
    });
  }

  router.get('/platforms', (req, res) => renderPlatforms(req, res));

  router.post('/platforms', form, csrf, async (req, res) => {
    const actor = actorOf(req);
    const values = {
      preset: field(req, 'preset') ?? '',
      clientId: field(req, 'clientId') ?? '',
      name: field(req, 'name') ?? '',
      issuer: field(req, 'issuer') ?? '',
      authLoginUrl: field(req, 'authLoginUrl') ?? '',
      authTokenUrl: field(req, 'authTokenUrl') ?? '',
      jwksUrl: field(req, 'jwksUrl') ?? '',
    };
    const parsed = platformFormSchema.safeParse(
      Object.fromEntries(Object.entries(values).map(([k, v]) => [k, blankToUndefined(v)])),
    );
    if (!parsed.success) {
      await renderPlatforms(req, res, { values, errors: fieldErrors(parsed.error) });
      return;
    }
    const input = parsed.data;
    // Presets that fix an endpoint refuse it when given; send only what the preset takes.
    const takesIssuer = input.preset === 'moodle' || input.preset === 'generic';
    const takesUrls = input.preset === 'generic';
    try {
      const platform = await addPlatform(ctx, {
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
      });
      if (actor.tenantId !== undefined) {
        // Links the platform to the district that added it (without capturing deployments), so
        // the district admin sees it and can add its deployments.
        await services.platforms.update(platform.id, { defaultTenantId: actor.tenantId });
      }
      forgetRegistrations();
      logger.info({ platformId: platform.id, issuer: platform.issuer }, 'admin added a platform');
    } catch (error) {
      if (error instanceof LtiAdminError) {
        await renderPlatforms(req, res, { values, errors: {}, formError: error.message });
        return;
      }
      throw error;
    }
    res.redirect(303, `${actor.base}/platforms?done=platform-added`);
  });

  router.post('/platforms/:platformId/frame-origins', form, csrf, async (req, res) => {
    const actor = actorOf(req);
    const platform = await visiblePlatform(actor, param(req, 'platformId'));
    const parsed = parseOrigins(field(req, 'frameOrigins') ?? '');
    if ('error' in parsed) {
      throw new HttpError(400, 'bad_request', `Frame origins not saved: ${parsed.error}`);
    }
    await store.setFrameOrigins(platform.id, parsed.origins);
    res.redirect(303, `${actor.base}/platforms?done=origins-saved`);
  });

  router.post('/platforms/:platformId/approve', form, csrf, operatorOnly, async (req, res) => {
    const actor = actorOf(req);
    const platform = await findPendingPlatform(param(req, 'platformId'));
    if (platform?.status !== 'pending') throw notFound('There is no such pending registration.');
    const tenantId = field(req, 'tenantId');
    const tenant = (await visibleTenants(actor)).find((t) => t.id === tenantId);
    if (tenant === undefined) {
      throw new HttpError(400, 'bad_request', 'Choose the district this LMS registration is for.');
    }
    // The registration gave no deployment id we can trust per district (Canvas sends none), so
    // the first launch of this client id records its deployment for the chosen district.
    await services.platforms.update(platform.id, {
      status: 'active',
      captureFirstDeployment: true,
      defaultTenantId: tenant.id,
    });
    forgetRegistrations();
    logger.info({ platformId: platform.id, tenantId: tenant.id }, 'admin approved a registration');
    res.redirect(303, `${actor.base}/platforms?done=platform-approved`);
  });

  router.post('/platforms/:platformId/reject', form, csrf, operatorOnly, async (req, res) => {
    const actor = actorOf(req);
    const platform = await findPendingPlatform(param(req, 'platformId'));
    if (platform?.status !== 'pending') throw notFound('There is no such pending registration.');
    await services.platforms.remove(platform.id);
    forgetRegistrations();
    logger.info({ platformId: platform.id }, 'admin rejected a registration');
    res.redirect(303, `${actor.base}/platforms?done=platform-rejected`);
  });

  // ---- Deployments ----
  async function renderDeployments(
    req: Request,
    res: Response,
    formState: { values: Record<string, string>; error?: string; warnings?: readonly string[] } = {
      values: {},
    },
  ): Promise<void> {
    const actor = actorOf(req);
    const platforms = (await visiblePlatforms(actor)).filter((p) => p.status === 'active');
    const tenants = await visibleTenants(actor);
    const deployments = await services.deployments.list(
      actor.tenantId === undefined ? {} : { tenantId: actor.tenantId },
    );
    const platformName = new Map(platforms.map((p) => [p.id, `${p.name} (${p.clientId})`]));
    const tenantName = new Map(tenants.map((t) => [t.id, t.name]));
    res.status(formState.error === undefined ? 200 : 400);
    res.render('admin/deployments', {
      ...layout(actor, 'deployments', 'Deployments'),
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

  router.get('/deployments', (req, res) => renderDeployments(req, res));

  router.post('/deployments', form, csrf, async (req, res) => {
    const actor = actorOf(req);
    const values = {
      platformId: field(req, 'platformId') ?? '',
      deploymentId: field(req, 'deploymentId') ?? '',
      tenantSlug: field(req, 'tenantSlug') ?? '',
      label: field(req, 'label') ?? '',
    };
    const tenants = await visibleTenants(actor);
    const tenant =
      actor.tenantId === undefined ? tenants.find((t) => t.slug === values.tenantSlug) : tenants[0];
    const platformVisible = (await visiblePlatforms(actor)).some(
      (p) => p.id === values.platformId && p.status === 'active',
    );
    if (tenant === undefined || !platformVisible) {
      await renderDeployments(req, res, {
        values,
        error: tenant === undefined ? 'Choose the district.' : 'Choose a platform from the list.',
      });
      return;
    }
    try {
      const added = await addDeployment(ctx, {
        platformId: values.platformId,
        deploymentId: values.deploymentId,
        tenantSlug: tenant.slug,
        label: blankToUndefined(values.label),
      });
      forgetRegistrations();
      if (added.warnings.length > 0) {
        await renderDeployments(req, res, { values: {}, warnings: added.warnings });
        return;
      }
    } catch (error) {
      if (error instanceof LtiAdminError) {
        await renderDeployments(req, res, { values, error: error.message });
        return;
      }
      throw error;
    }
    res.redirect(303, `${actor.base}/deployments?done=deployment-added`);
  });

  router.post('/deployments/:deploymentRowId/remove', form, csrf, async (req, res) => {
    const actor = actorOf(req);
    const id = param(req, 'deploymentRowId');
    const deployment = z.uuid().safeParse(id).success
      ? await services.deployments.findById(id)
      : undefined;
    // Another district's deployment answers exactly like a missing one.
    if (
      deployment === undefined ||
      (actor.tenantId !== undefined && deployment.tenantId !== actor.tenantId)
    ) {
      throw notFound('There is no such deployment.');
    }
    try {
      await removeDeployment(ctx, deployment.id);
      forgetRegistrations();
    } catch (error) {
      if (error instanceof LtiAdminError) throw new HttpError(409, 'bad_request', error.message);
      throw error;
    }
    res.redirect(303, `${actor.base}/deployments?done=deployment-removed`);
  });

  // ---- Tool keys ----
  async function renderKeys(req: Request, res: Response, outcome?: string, error?: string) {
    const actor = actorOf(req);
    const keys = await services.toolKeys.list();
    const date = (d: Date | undefined) => (d === undefined ? '' : d.toISOString());
    res.status(error === undefined ? 200 : 409);
    res.render('admin/keys', {
      ...layout(actor, 'keys', 'Tool keys'),
      outcome,
      error,
      keys: keys
        .filter((k) => k.status !== 'retired')
        .map((k) => ({
          kid: k.kid,
          status: k.status,
          createdAt: date(k.createdAt),
          activatedAt: date(k.activatedAt),
        })),
      jwksUrl: `${publicUrl}${LTI_PATHS.jwks}`,
    });
  }

  router.get('/keys', (req, res) => renderKeys(req, res));

  router.post('/keys/rotate', form, csrf, operatorOnly, async (req, res) => {
    try {
      const outcome = await services.toolKeys.rotate();
      logger.info({ outcome }, 'admin rotated tool keys');
      const message =
        outcome.action === 'added-next'
          ? `A next key (${outcome.kid}) is now published. LMSs pick it up from the key set; it starts signing when you rotate again after ${outcome.usableFrom.toISOString()}.`
          : `Key ${outcome.kid} now signs${outcome.previousKid === undefined ? '' : `; key ${outcome.previousKid} stays published for a day, then is retired`}.`;
      await renderKeys(req, res, message);
    } catch (error) {
      if (error instanceof LtiAdminError) {
        await renderKeys(req, res, undefined, error.message);
        return;
      }
      throw error;
    }
  });

  const context: AdminPageContext = {
    deps,
    actorOf,
    layout,
    csrf,
    operatorOnly,
    visibleTenants,
  };
  standardsAdminPages(router, context);
  policyAdminPages(router, context);
  classroomAdminPages(router, context);
  districtAdminPages(router, context);

  return router;
}
