import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Router, type Response } from 'express';
import { z } from 'zod';
import { USER_AGENT, type AppServices } from '../../app-services.ts';
import type { Logger } from '../../logger.ts';
import { isUniqueViolation } from '../../lti-admin/errors.ts';
import {
  buildToolRegistration,
  fetchPlatformConfiguration,
  isLoopbackAddress,
  registerTool,
  type PlatformConfiguration,
  type RegistrationFetchOptions,
  type Resolver,
} from '../../lti/dynamic-registration.ts';
import type { FetchFunction } from '../../lti/http.ts';
import { LtiError } from '../../lti/errors.ts';
import type { PlatformFlavour } from '../../storage/lti/schema.ts';
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

const PLATFORM_CONFIGURATION = 'https://purl.imsglobal.org/spec/lti-platform-configuration';
const CANVAS_ACCOUNT_NAME = 'https://canvas.instructure.com/lti/account_name';

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

function failureOf(error: LtiError): Failure {
  if (error.code === 'registration_url_rejected') return 'url_rejected';
  if (error.code === 'issuer_mismatch') return 'issuer_mismatch';
  // registration_failed, and anything else the platform's answers lead to.
  return 'platform_error';
}

function flavourOf(configuration: PlatformConfiguration): PlatformFlavour {
  const family = configuration[PLATFORM_CONFIGURATION].product_family_code.toLowerCase();
  if (family === 'canvas' || family === 'moodle' || family === 'schoology') return family;
  return 'generic';
}

function platformName(configuration: PlatformConfiguration, flavour: PlatformFlavour): string {
  const accountName: unknown = configuration[PLATFORM_CONFIGURATION][CANVAS_ACCOUNT_NAME];
  const host = new URL(configuration.issuer).host;
  if (typeof accountName === 'string' && accountName.trim() !== '') {
    return `${accountName.trim().slice(0, 150)} (${host})`;
  }
  const labels: Partial<Record<PlatformFlavour, string>> = {
    canvas: 'Canvas',
    moodle: 'Moodle',
    schoology: 'Schoology',
  };
  const label = labels[flavour] ?? 'LTI platform';
  return `${label} ${host}`;
}

async function isLoopbackHost(raw: string, resolve: Resolver): Promise<boolean> {
  if (!URL.canParse(raw)) return false;
  const host = new URL(raw).hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') return false;
  const addresses = isIP(host) === 0 ? await resolve(host) : [host];
  return addresses.length > 0 && addresses.every(isLoopbackAddress);
}

const resolveHost: Resolver = async (hostname) => {
  try {
    return (await lookup(hostname, { all: true })).map((entry) => entry.address);
  } catch {
    // An unresolvable host is refused by validateRegistrationUrl ("does not resolve").
    return [];
  }
};

/**
 * LTI Dynamic Registration 1.0: the LMS opens `/lti/register?openid_configuration=…&registration_token=…`
 * (in a popup or frame). We fetch the platform's configuration, register ourselves at its
 * registration endpoint and keep the result as a PENDING platform: nothing launches until an
 * administrator approves it and picks the district, because anyone can make an LMS call this page.
 */
export function registrationRoutes(deps: RegistrationRoutesDeps): Router {
  const { services, logger, publicUrl } = deps;
  const router = Router();
  const fetchOptions: RegistrationFetchOptions = {
    // The address is checked again when the socket connects, so DNS rebinding cannot reach a
    // private address after validateRegistrationUrl's check.
    fetch: deps.fetch ?? createPinnedFetch({ allowLoopback: deps.allowLoopbackRegistration }),
    resolve: deps.resolve ?? resolveHost,
    userAgent: USER_AGENT,
  };

  const fail = (res: Response, failure: Failure): void => {
    const { status, message } = FAILURES[failure];
    res.status(status).set('Cache-Control', 'no-store').render('registration/error', {
      layout: 'minimal',
      title: 'Registration not completed',
      message,
      code: failure,
    });
  };

  router.get(LTI_PATHS.register, async (req, res) => {
    // The LMS opens this page in its own frame or popup BEFORE it is a registered platform, so
    // its origin cannot be in the frame-ancestors list yet. The page has no controls to click
    // (the work happens on load), so letting any site frame it gives clickjacking nothing.
    const csp = res.getHeader('Content-Security-Policy');
    if (typeof csp === 'string') {
      res.setHeader(
        'Content-Security-Policy',
        csp.replace(/frame-ancestors [^;]*/, 'frame-ancestors *'),
      );
    }
    const query = querySchema.safeParse(req.query);
    if (!query.success) {
      fail(res, 'missing_parameters');
      return;
    }
    const configurationUrl = query.data.openid_configuration;
    // Loopback http is for the emulator and local LMS installs only, and only when the operator
    // says so (ALLOW_LOOPBACK_REGISTRATION), never because of NODE_ENV alone.
    const loopbackAllowed =
      deps.allowLoopbackRegistration &&
      (await isLoopbackHost(configurationUrl, fetchOptions.resolve));
    const options = { ...fetchOptions, allowLoopbackHttp: loopbackAllowed };
    let configuration: PlatformConfiguration;
    let clientId: string;
    try {
      configuration = await fetchPlatformConfiguration(configurationUrl, options);
      const registration = buildToolRegistration(
        {
          baseUrl: publicUrl,
          clientName: 'Mastery Pathways',
          description:
            'Standards-based mastery: evidence by standard, transparent mastery levels, and mastery grades in the gradebook.',
          paths: {
            login: LTI_PATHS.login,
            launch: LTI_PATHS.launch,
            // Deep Linking requests arrive at the same redirect URI as resource link launches.
            deepLinking: LTI_PATHS.launch,
            jwks: LTI_PATHS.jwks,
          },
          // The ids a copied link had before, as a hint for a copied course. Canvas fills it only
          // for asset-processor tools, so it is not asked for there; course copies are recognised
          // by their columns' resourceId in any case (src/alignment/discovery.ts).
          customParameters:
            flavourOf(configuration) === 'canvas'
              ? {}
              : { resource_link_history: '$ResourceLink.id.history' },
        },
        configuration,
      );
      ({ clientId } = await registerTool(
        configuration,
        registration,
        query.data.registration_token,
        options,
      ));
    } catch (error) {
      if (error instanceof LtiError) {
        logger.warn(
          { code: error.code, detail: error.detail, err: error.cause },
          'dynamic registration refused',
        );
        fail(res, failureOf(error));
        return;
      }
      throw error;
    }

    const flavour = flavourOf(configuration);
    try {
      const platform = await services.platforms.create({
        issuer: configuration.issuer,
        clientId,
        name: platformName(configuration, flavour),
        flavour,
        authLoginUrl: configuration.authorization_endpoint,
        authTokenUrl: configuration.token_endpoint,
        jwksUrl: configuration.jwks_uri,
        // Dynamic Registration §3.4: the audience of our client assertions, when it differs.
        tokenAudience: configuration.authorization_server,
        status: 'pending',
      });
      logger.info(
        { platformId: platform.id, issuer: platform.issuer, flavour },
        'dynamic registration stored; waiting for approval',
      );
    } catch (error) {
      if (isUniqueViolation(error)) {
        fail(res, 'already_registered');
        return;
      }
      throw error;
    }
    res.set('Cache-Control', 'no-store').render('registration/done', {
      layout: 'minimal',
      title: 'Registration sent',
      platformHost: new URL(configuration.issuer).host,
    });
  });

  return router;
}
