import { isIP } from 'node:net';
import type { Logger } from '../logger.ts';
import {
  buildToolRegistration,
  fetchPlatformConfiguration,
  isLoopbackAddress,
  registerTool,
  type PlatformConfiguration,
  type RegistrationFetchOptions,
  type Resolver,
} from '../lti/dynamic-registration.ts';
import { LtiError } from '../lti/errors.ts';
import type { PlatformRepository } from '../storage/lti/platforms.repository.ts';
import type { PlatformFlavour } from '../storage/lti/schema.ts';
import { isUniqueViolation } from './errors.ts';

const PLATFORM_CONFIGURATION = 'https://purl.imsglobal.org/spec/lti-platform-configuration';
const CANVAS_ACCOUNT_NAME = 'https://canvas.instructure.com/lti/account_name';

export interface DynamicRegistrationDeps {
  readonly platforms: Pick<PlatformRepository, 'create'>;
  readonly logger: Logger;
  /** How the platform's addresses are fetched (pinned to the address checked at connect time). */
  readonly fetchOptions: RegistrationFetchOptions;
  /** `ALLOW_LOOPBACK_REGISTRATION`: http:// configuration URLs on this machine (demo, local LMS). */
  readonly allowLoopbackRegistration: boolean;
  /** The tool's public URL and the paths an LMS registers. */
  readonly publicUrl: string;
  readonly paths: { login: string; launch: string; jwks: string };
}

/** Every way a registration can fail, named for the page that explains it. */
export type RegistrationFailure =
  'url_rejected' | 'issuer_mismatch' | 'platform_error' | 'already_registered';

export type RegistrationOutcome =
  | { readonly outcome: 'registered'; readonly platformHost: string }
  | { readonly outcome: 'refused'; readonly failure: RegistrationFailure };

function failureOf(error: LtiError): RegistrationFailure {
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

/** Fetches the platform's configuration and registers the tool there; returns what it learned. */
async function registerAtPlatform(
  deps: DynamicRegistrationDeps,
  input: { configurationUrl: string; registrationToken: string | undefined },
): Promise<{ configuration: PlatformConfiguration; clientId: string }> {
  // Loopback http is for the emulator and local LMS installs only, and only when the operator
  // says so (ALLOW_LOOPBACK_REGISTRATION), never because of NODE_ENV alone.
  const loopbackAllowed =
    deps.allowLoopbackRegistration &&
    (await isLoopbackHost(input.configurationUrl, deps.fetchOptions.resolve));
  const options = { ...deps.fetchOptions, allowLoopbackHttp: loopbackAllowed };
  const configuration = await fetchPlatformConfiguration(input.configurationUrl, options);
  const registration = buildToolRegistration(
    {
      baseUrl: deps.publicUrl,
      clientName: 'Mastery Pathways',
      description:
        'Standards-based mastery: evidence by standard, transparent mastery levels, and mastery grades in the gradebook.',
      paths: {
        login: deps.paths.login,
        launch: deps.paths.launch,
        // Deep Linking requests arrive at the same redirect URI as resource link launches.
        deepLinking: deps.paths.launch,
        jwks: deps.paths.jwks,
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
  const { clientId } = await registerTool(
    configuration,
    registration,
    input.registrationToken,
    options,
  );
  return { configuration, clientId };
}

/**
 * LTI Dynamic Registration 1.0, as named steps: register at the platform, then keep the result as
 * a PENDING platform. Nothing launches until an administrator approves it and picks the district,
 * because anyone can make an LMS call the registration page.
 */
export async function registerDynamically(
  deps: DynamicRegistrationDeps,
  input: { configurationUrl: string; registrationToken: string | undefined },
): Promise<RegistrationOutcome> {
  let registered: { configuration: PlatformConfiguration; clientId: string };
  try {
    registered = await registerAtPlatform(deps, input);
  } catch (error) {
    if (!(error instanceof LtiError)) throw error;
    deps.logger.warn(
      { code: error.code, detail: error.detail, err: error.cause },
      'dynamic registration refused',
    );
    return { outcome: 'refused', failure: failureOf(error) };
  }
  const { configuration, clientId } = registered;
  const flavour = flavourOf(configuration);
  try {
    const platform = await deps.platforms.create({
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
    deps.logger.info(
      { platformId: platform.id, issuer: platform.issuer, flavour },
      'dynamic registration stored; waiting for approval',
    );
  } catch (error) {
    if (isUniqueViolation(error)) return { outcome: 'refused', failure: 'already_registered' };
    throw error;
  }
  return { outcome: 'registered', platformHost: new URL(configuration.issuer).host };
}
