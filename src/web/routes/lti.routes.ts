import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import type { AppServices } from '../../app-services.ts';
import type { Logger } from '../../logger.ts';
import { acceptLtiLaunch } from '../../launch/accept-launch.ts';
import type { LaunchDeps } from '../../launch/deps.ts';
import { startLtiLogin } from '../../launch/start-login.ts';
import { findUnboundLaunchHelp, type UnboundLaunch } from '../../launch/unbound-launch.ts';
import { canvasDeveloperKeyConfig } from '../../lti/canvas-config.ts';
import { LtiError } from '../../lti/errors.ts';
import type { ToolEndpoints } from '../../lti/login.ts';
import { readCookie } from '../cookies.ts';
import { logRefusedLaunch } from '../launch-refusals.ts';
import {
  bindingCookieName,
  clearBindingCookie,
  setBindingCookie,
  storageKey,
} from '../lti-binding.ts';
import { isTopLevelNavigation, restartUrl } from '../lti-restart.ts';
import { allowFrameAncestors } from '../middleware/security.ts';
import { requestContext } from '../request-context.ts';

export const LTI_PATHS = {
  jwks: '/.well-known/jwks.json',
  login: '/lti/login',
  launch: '/lti/launch',
  register: '/lti/register',
  canvasConfig: '/lti/canvas.json',
} as const;

export function toolEndpoints(publicUrl: string): ToolEndpoints {
  return {
    baseUrl: publicUrl,
    redirectUri: `${publicUrl}${LTI_PATHS.launch}`,
    launchPaths: [LTI_PATHS.launch],
  };
}

const form = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 50 });

/** Express 5 gives `req.body` as undefined without a body; LTI parameters are flat strings. */
function parameters(req: Request): Record<string, unknown> {
  const source: unknown = req.method === 'GET' ? req.query : req.body;
  return typeof source === 'object' && source !== null ? { ...source } : {};
}

export interface LtiRoutesDeps {
  readonly services: AppServices;
  readonly publicUrl: string;
  readonly logger: Logger;
}

/**
 * The LMS-facing endpoints. Their paths are what admins paste into LMS registrations, so they are
 * stable (LTI_PATHS) and shown on the admin page.
 */
export function ltiRoutes(deps: LtiRoutesDeps): Router {
  const launchDeps: LaunchDeps = {
    ...deps.services,
    logger: deps.logger,
    publicUrl: deps.publicUrl,
    endpoints: toolEndpoints(deps.publicUrl),
  };
  const router = Router();
  router.get(LTI_PATHS.jwks, jwks(deps.services));
  router.get(LTI_PATHS.canvasConfig, canvasConfig(deps.publicUrl));
  router.get(LTI_PATHS.login, login(launchDeps));
  router.post(LTI_PATHS.login, form, login(launchDeps));
  router.post(LTI_PATHS.launch, form, launch(launchDeps));
  return router;
}

function jwks(services: AppServices): RequestHandler {
  return async function toolKeySet(_req, res) {
    res.set('Cache-Control', 'public, max-age=300').json(await services.toolKeys.jwks());
  };
}

function canvasConfig(publicUrl: string): RequestHandler {
  return function canvasDeveloperKey(_req, res) {
    res.json(
      canvasDeveloperKeyConfig({
        baseUrl: publicUrl,
        title: 'Mastery Pathways',
        description:
          'Standards-based mastery: evidence by standard, transparent mastery levels, and mastery grades in the gradebook.',
        paths: {
          login: LTI_PATHS.login,
          launch: LTI_PATHS.launch,
          // Deep Linking requests arrive at the same redirect URI as resource link launches.
          deepLinking: LTI_PATHS.launch,
          jwks: LTI_PATHS.jwks,
        },
      }),
    );
  };
}

/** The login initiation: binds the browser to the login, then sends it to the LMS. */
function login(deps: LaunchDeps): RequestHandler {
  return async function loginInitiation(req, res) {
    const started = await startLtiLogin(deps, {
      params: parameters(req),
      topLevel: isTopLevelNavigation(req),
    });
    res.set('Cache-Control', 'no-store');
    if (started.outcome === 'pending') {
      // Registered (Dynamic Registration) but not approved yet: say so, inside the LMS's frame.
      allowFrameAncestors(res, started.pending.frameOrigins);
      res.status(403).render('lti/pending', {
        layout: 'minimal',
        title: 'Waiting for approval',
        platformHost: started.pending.platformHost,
        approver: started.pending.approver,
        requestId: requestContext(req).requestId,
      });
      return;
    }
    const { login: result, binding } = started;
    // The cookie is the fallback binding; platform storage is the primary one where offered.
    setBindingCookie(res, result.state);
    const page = {
      layout: 'minimal',
      title: 'Opening Mastery Pathways',
      key: storageKey(result.state),
      value: result.state,
      next: result.authRequestUrl.toString(),
    };
    switch (binding) {
      case 'window':
        // The tool's own window: its sessionStorage binds the login, with or without cookies.
        res.render('lti/window-put', page);
        return;
      case 'cookie':
        res.redirect(302, result.authRequestUrl.toString());
        return;
      case 'platform-storage':
        res.render('lti/storage-put', {
          ...page,
          storageTarget: result.storageTarget,
          platformOrigin: new URL(result.registration.authorizationEndpoint).origin,
        });
    }
  };
}

/**
 * The state the browser proves it started the login with: the login's cookie, else the value the
 * platform-storage page read from the LMS frame.
 */
function browserBindingOf(
  req: Request,
  params: Record<string, unknown>,
  publicUrl: string,
): string | undefined {
  const state = typeof params.state === 'string' ? params.state : undefined;
  const cookie = state === undefined ? undefined : readCookie(req, bindingCookieName(state));
  if (cookie !== undefined) return cookie;
  const storageBinding = params.lti_storage_binding;
  if (typeof storageBinding !== 'string' || storageBinding === '') return undefined;
  // The platform-storage page is served by us and posts back to us: a cross-site form posting a
  // made-up binding (login CSRF) carries a foreign Origin and is refused.
  if (req.get('origin') !== publicUrl) {
    throw new LtiError('state_mismatch', {
      detail: `storage binding from origin ${req.get('origin') ?? 'none'}`,
    });
  }
  return storageBinding;
}

/** The launch (the login's redirect URI): bound to the browser, verified, recorded, redirected. */
function launch(deps: LaunchDeps): RequestHandler {
  return async function ltiLaunch(req, res) {
    const params = parameters(req);
    const state = typeof params.state === 'string' ? params.state : undefined;
    const browserBinding = browserBindingOf(req, params, deps.publicUrl);
    if (browserBinding === undefined && state !== undefined && !('lti_storage_binding' in params)) {
      const help = await findUnboundLaunchHelp(deps, {
        state,
        topLevel: isTopLevelNavigation(req),
      });
      if (help !== undefined) {
        renderUnboundLaunch(req, res, deps, { state, params, help });
        return;
      }
    }
    const accepted = await acceptLtiLaunch(deps, { params, browserBinding }).catch(
      (error: unknown) => {
        logRefusedLaunch(deps.logger, req, error);
        throw error;
      },
    );
    if (state !== undefined) clearBindingCookie(res, state);
    res.set('Cache-Control', 'no-store').redirect(303, `/s/${accepted.token}/${accepted.next}`);
  };
}

/** The pages that bind an unbound launch after all: from platform storage, the window, or anew. */
function renderUnboundLaunch(
  req: Request,
  res: Response,
  deps: LaunchDeps,
  input: {
    state: string;
    params: Record<string, unknown>;
    help: UnboundLaunch;
  },
): void {
  const { state, params, help } = input;
  const idToken = typeof params.id_token === 'string' ? params.id_token : '';
  const page = { layout: 'minimal', title: 'Opening Mastery Pathways', key: storageKey(state) };
  res.set('Cache-Control', 'no-store');
  switch (help.kind) {
    case 'platform-storage':
      res.render('lti/storage-get', {
        ...page,
        storageTarget: help.storageTarget,
        platformOrigin: help.platformOrigin,
        idToken,
        state,
      });
      return;
    case 'window':
      res.render('lti/window-get', { ...page, idToken, state });
      return;
    case 'restart': {
      const requestId = requestContext(req).requestId;
      deps.logger.info(
        { requestId, code: 'state_mismatch', issuer: help.restart.issuer },
        'launch without a browser binding in a frame; offered a new window',
      );
      res.status(400).render('lti/restart', {
        layout: 'minimal',
        title: 'Open Mastery Pathways in a new window',
        restartUrl: restartUrl(deps.publicUrl, LTI_PATHS.login, help.restart),
        requestId,
      });
    }
  }
}
