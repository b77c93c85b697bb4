import { lookup } from 'node:dns/promises';
import { Router, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { USER_AGENT, type AppServices } from '../../app-services.ts';
import type { Logger } from '../../logger.ts';
import {
  registerDynamically,
  type DynamicRegistrationDeps,
} from '../../lti-admin/dynamic-registration.ts';
import type { Resolver } from '../../lti/dynamic-registration.ts';
import type { FetchFunction } from '../../lti/http.ts';
import { createPinnedFetch } from '../../net/pinned-fetch.ts';
import { LTI_PATHS } from './lti.routes.ts';

export interface RegistrationRoutesDeps {
  readonly services: AppServices;
  readonly logger: Logger;
  readonly publicUrl: string;
  /** `ALLOW_LOOPBACK_REGISTRATION`: http:// configuration URLs on this machine (demo, local LMS). */
  readonly allowLoopbackRegistration: boolean;
  readonly fetch?: FetchFunction;
  readonly resolve?: Resolver;
}

const querySchema = z.object({
  openid_configuration: z.string().min(1).max(2000),
  registration_token: z.string().max(4000).optional(),
});

/** Every way a registration can fail, each with words an LMS administrator can act on. */
const FAILURES = {
  missing_parameters: {
    status: 400,
    message:
      'This page is opened by your LMS during Dynamic Registration. Start the registration from the LMS (it adds the openid_configuration parameter).',
  },
  url_rejected: {
    status: 400,
    message:
      'The LMS configuration address is not allowed: it must be a public https:// address. Private network addresses and plain http:// are refused.',
  },
  issuer_mismatch: {
    status: 400,
    message:
      'The LMS configuration names an issuer on a different site than the one it was served from, so it cannot be trusted. Check the LMS address and try again.',
  },
  platform_error: {
    status: 502,
    message:
      'The LMS did not accept or answer the registration. Try again from the LMS; if it keeps failing, register the tool manually with the URLs on the admin page.',
  },
  already_registered: {
    status: 409,
    message:
      'This LMS registration is already known to Mastery Pathways. An administrator can find it on the Platforms page.',
  },
} as const;
type Failure = keyof typeof FAILURES;

const resolveHost: Resolver = async (hostname) => {
  try {
    return (await lookup(hostname, { all: true })).map((entry) => entry.address);
  } catch {
    // An unresolvable host is refused by validateRegistrationUrl ("does not resolve").
    return [];
  }
};

function fail(res: Response, failure: Failure): void {
  const { status, message } = FAILURES[failure];
  res.status(status).set('Cache-Control', 'no-store').render('registration/error', {
    layout: 'minimal',
    title: 'Registration not completed',
    message,
    code: failure,
  });
}

/**
 * The LMS opens this page in its own frame or popup BEFORE it is a registered platform, so its
 * origin cannot be in the frame-ancestors list yet. The page has no controls to click (the work
 * happens on load), so letting any site frame it gives clickjacking nothing.
 */
function allowAnyFrameAncestor(res: Response): void {
  const csp = res.getHeader('Content-Security-Policy');
  if (typeof csp === 'string') {
    res.setHeader(
      'Content-Security-Policy',
      csp.replace(/frame-ancestors [^;]*/, 'frame-ancestors *'),
    );
  }
}

function register(deps: DynamicRegistrationDeps): RequestHandler {
  return async function dynamicRegistration(req, res) {
    allowAnyFrameAncestor(res);
    const query = querySchema.safeParse(req.query);
    if (!query.success) {
      fail(res, 'missing_parameters');
      return;
    }
    const result = await registerDynamically(deps, {
      configurationUrl: query.data.openid_configuration,
      registrationToken: query.data.registration_token,
    });
    if (result.outcome === 'refused') {
      fail(res, result.failure);
      return;
    }
    res.set('Cache-Control', 'no-store').render('registration/done', {
      layout: 'minimal',
      title: 'Registration sent',
      platformHost: result.platformHost,
    });
  };
}

/**
 * LTI Dynamic Registration 1.0: the LMS opens `/lti/register?openid_configuration=…&registration_token=…`
 * (in a popup or frame). We fetch the platform's configuration, register ourselves at its
 * registration endpoint and keep the result as a PENDING platform: nothing launches until an
 * administrator approves it and picks the district, because anyone can make an LMS call this page.
 */
export function registrationRoutes(deps: RegistrationRoutesDeps): Router {
  const registrationDeps: DynamicRegistrationDeps = {
    platforms: deps.services.platforms,
    logger: deps.logger,
    fetchOptions: {
      // The address is checked again when the socket connects, so DNS rebinding cannot reach a
      // private address after validateRegistrationUrl's check.
      fetch: deps.fetch ?? createPinnedFetch({ allowLoopback: deps.allowLoopbackRegistration }),
      resolve: deps.resolve ?? resolveHost,
      userAgent: USER_AGENT,
    },
    allowLoopbackRegistration: deps.allowLoopbackRegistration,
    publicUrl: deps.publicUrl,
    paths: LTI_PATHS,
  };
  const router = Router();
  router.get(LTI_PATHS.register, register(registrationDeps));
  return router;
}
