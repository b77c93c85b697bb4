import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { LTI_SCOPE, MESSAGE_TYPE } from './claims.ts';
import { LtiError } from './errors.ts';
import { readBodyLimited } from './http.ts';
import type { FetchFunction } from './http.ts';

/**
 * LTI Dynamic Registration 1.0. The `openid_configuration` URL arrives in a browser request anyone can
 * forge, so fetching it is an SSRF risk: only public https addresses are fetched (plain http only for
 * loopback, and only when `allowLoopbackHttp` is set for local development and tests), redirects are
 * refused, and bodies are size-limited.
 *
 * Limit: the address is checked by resolving DNS before the fetch; the fetch resolves again, so a DNS
 * rebinding attacker with a very short TTL could still slip through. Pinning the address needs a
 * custom dispatcher, which the injected `fetch` leaves to the composition root.
 */
export type Resolver = (hostname: string) => Promise<readonly string[]>;

export interface RegistrationFetchOptions {
  readonly fetch: FetchFunction;
  readonly resolve: Resolver;
  readonly userAgent: string;
  readonly allowLoopbackHttp?: boolean;
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
}

function blockedAddresses(): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ] as const) {
    list.addSubnet(network, prefix, 'ipv4');
  }
  for (const [network, prefix] of [
    ['::', 128],
    ['::1', 128],
    ['fc00::', 7],
    ['fe80::', 10],
    ['ff00::', 8],
    ['2001:db8::', 32],
    ['64:ff9b:1::', 48],
  ] as const) {
    list.addSubnet(network, prefix, 'ipv6');
  }
  return list;
}

// node:net BlockList matches IPv4-mapped IPv6 addresses (::ffff:7f00:1) against the IPv4 rules too.

export function isLoopbackAddress(address: string): boolean {
  const list = new BlockList();
  list.addSubnet('127.0.0.0', 8, 'ipv4');
  list.addAddress('::1', 'ipv6');
  const family = isIP(address);
  if (family === 4) return list.check(address, 'ipv4');
  if (family === 6) return list.check(address, 'ipv6');
  return false;
}

/** Private, loopback, link-local, CGNAT, multicast, documentation and unspecified ranges. */
export function isNonPublicAddress(address: string): boolean {
  const list = blockedAddresses();
  const family = isIP(address);
  if (family === 4) return list.check(address, 'ipv4');
  if (family === 6) return list.check(address, 'ipv6');
  return true;
}

function reject(detail: string): LtiError {
  return new LtiError('registration_url_rejected', { detail });
}

/** A platform's JSON answer checked against its schema; `what` names it in the error. */
function parseJson<T>(body: string, schema: z.ZodType<T>, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new LtiError('registration_failed', { detail: `${what} is not JSON`, cause: error });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new LtiError('registration_failed', {
      detail: parsed.error.message,
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/** Checks a URL we are about to fetch during registration; returns it parsed. */
export async function validateRegistrationUrl(
  raw: string,
  options: Pick<RegistrationFetchOptions, 'resolve' | 'allowLoopbackHttp'>,
): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw reject(`not a URL: ${raw}`);
  }
  if (url.username !== '' || url.password !== '') throw reject('credentials in URL');
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw reject(`scheme ${url.protocol}`);
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const addresses = isIP(hostname) === 0 ? await options.resolve(hostname) : [hostname];
  if (addresses.length === 0) throw reject(`${hostname} does not resolve`);
  const allLoopback = addresses.every(isLoopbackAddress);
  const loopbackAllowed = options.allowLoopbackHttp === true && allLoopback;
  if (url.protocol === 'http:' && !loopbackAllowed) throw reject(`plain http to ${hostname}`);
  if (!loopbackAllowed && addresses.some(isNonPublicAddress)) {
    throw reject(`${hostname} resolves to a non-public address`);
  }
  return url;
}

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  const { text, truncated } = await readBodyLimited(response, maxBytes);
  if (truncated)
    throw new LtiError('registration_failed', { detail: `response larger than ${maxBytes} bytes` });
  return text;
}

/** The platform's addresses are web addresses: `javascript:` or `data:` is never a login URL. */
const webUrl = () => z.url({ protocol: /^https?$/ });

export const platformConfigurationSchema = z.looseObject({
  issuer: webUrl(),
  authorization_endpoint: webUrl(),
  token_endpoint: webUrl(),
  jwks_uri: webUrl(),
  registration_endpoint: webUrl(),
  scopes_supported: z.array(z.string()).optional(),
  response_types_supported: z.array(z.string()).optional(),
  id_token_signing_alg_values_supported: z.array(z.string()).optional(),
  claims_supported: z.array(z.string()).optional(),
  authorization_server: z.string().optional(),
  'https://purl.imsglobal.org/spec/lti-platform-configuration': z.looseObject({
    product_family_code: z.string(),
    version: z.string().optional(),
    messages_supported: z
      .array(z.looseObject({ type: z.string(), placements: z.array(z.string()).optional() }))
      .optional(),
    variables: z.array(z.string()).optional(),
  }),
});

export type PlatformConfiguration = z.infer<typeof platformConfigurationSchema>;

/** Fetches and checks the platform's OpenID configuration (Dynamic Registration 1.0 §3.4–3.5). */
export async function fetchPlatformConfiguration(
  openidConfigurationUrl: string,
  options: RegistrationFetchOptions,
): Promise<PlatformConfiguration> {
  const url = await validateRegistrationUrl(openidConfigurationUrl, options);
  let body: string;
  try {
    const response = await options.fetch(url, {
      headers: { Accept: 'application/json', 'User-Agent': options.userAgent },
      redirect: 'error',
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    if (!response.ok)
      throw new LtiError('registration_failed', {
        detail: `configuration HTTP ${response.status}`,
      });
    body = await readLimited(response, options.maxBytes ?? 256 * 1024);
  } catch (error) {
    if (error instanceof LtiError) throw error;
    throw new LtiError('registration_failed', {
      detail: `fetching ${url.toString()}`,
      cause: error,
    });
  }
  const configuration = parseJson(body, platformConfigurationSchema, 'configuration');
  // The issuer must live where the configuration came from, or anyone could claim any issuer.
  if (new URL(configuration.issuer).origin !== url.origin) {
    throw new LtiError('issuer_mismatch', {
      detail: `issuer ${configuration.issuer} served from ${url.origin}`,
    });
  }
  return configuration;
}

export const TOOL_CONFIGURATION_CLAIM = 'https://purl.imsglobal.org/spec/lti-tool-configuration';
export const CANVAS_PRIVACY_LEVEL = 'https://canvas.instructure.com/lti/privacy_level';
export const CANVAS_COURSE_NAVIGATION_DEFAULT_ENABLED =
  'https://canvas.instructure.com/lti/course_navigation/default_enabled';

export interface ToolRegistrationOptions {
  /** e.g. `https://mastery.example.org` */
  readonly baseUrl: string;
  readonly clientName: string;
  readonly description: string;
  readonly logoUri?: string;
  readonly paths: {
    readonly login: string;
    readonly launch: string;
    readonly deepLinking: string;
    readonly jwks: string;
  };
  readonly scopes?: readonly string[];
  readonly customParameters?: Readonly<Record<string, string>>;
}

export const DEFAULT_TOOL_SCOPES: readonly string[] = [
  LTI_SCOPE.lineItem,
  LTI_SCOPE.lineItemReadonly,
  LTI_SCOPE.resultReadonly,
  LTI_SCOPE.score,
  LTI_SCOPE.membershipReadonly,
];

/** Our client registration request (Dynamic Registration 1.0 §3.6, OIDC Dynamic Client Registration). */
export function buildToolRegistration(
  options: ToolRegistrationOptions,
  platform: PlatformConfiguration,
): Record<string, unknown> {
  const base = new URL(options.baseUrl);
  const at = (path: string) => new URL(path, base).toString();
  const platformConfiguration =
    platform['https://purl.imsglobal.org/spec/lti-platform-configuration'];
  const supported = platformConfiguration.messages_supported;
  const canvas = platformConfiguration.product_family_code.toLowerCase() === 'canvas';
  const supports = (type: string) =>
    supported === undefined || supported.some((message) => message.type === type);
  const messages: Record<string, unknown>[] = [];
  if (supports(MESSAGE_TYPE.deepLinking)) {
    messages.push({
      type: MESSAGE_TYPE.deepLinking,
      target_link_uri: at(options.paths.deepLinking),
      label: options.clientName,
      // `ContentArea` is Moodle's name for where Deep Linking happens; Canvas knows only its own
      // placements and would be asked for one it does not have.
      placements: canvas
        ? ['assignment_selection', 'link_selection']
        : ['assignment_selection', 'link_selection', 'ContentArea'],
    });
  }
  if (supports(MESSAGE_TYPE.resourceLink)) {
    messages.push({
      type: MESSAGE_TYPE.resourceLink,
      target_link_uri: at(options.paths.launch),
      label: options.clientName,
      placements: ['course_navigation'],
      [CANVAS_COURSE_NAVIGATION_DEFAULT_ENABLED]: true,
    });
  }
  const registration: Record<string, unknown> = {
    application_type: 'web',
    response_types: ['id_token'],
    grant_types: ['implicit', 'client_credentials'],
    initiate_login_uri: at(options.paths.login),
    // Each once: Deep Linking usually returns to the launch URL, and Moodle lists every entry it
    // is sent in the tool's "Redirection URI(s)".
    redirect_uris: [...new Set([at(options.paths.launch), at(options.paths.deepLinking)])],
    client_name: options.clientName,
    jwks_uri: at(options.paths.jwks),
    token_endpoint_auth_method: 'private_key_jwt',
    scope: (options.scopes ?? DEFAULT_TOOL_SCOPES).join(' '),
    [TOOL_CONFIGURATION_CLAIM]: {
      domain: base.host,
      target_link_uri: at(options.paths.launch),
      description: options.description,
      custom_parameters: options.customParameters ?? {},
      claims: ['iss', 'sub', 'name', 'given_name', 'family_name', 'email'],
      messages,
      [CANVAS_PRIVACY_LEVEL]: 'public',
    },
  };
  if (options.logoUri !== undefined) registration['logo_uri'] = options.logoUri;
  return registration;
}

const registrationResponseSchema = z.looseObject({
  client_id: z.string().min(1),
  [TOOL_CONFIGURATION_CLAIM]: z.looseObject({ deployment_id: z.string().optional() }).optional(),
});

export interface RegistrationResult {
  readonly clientId: string;
  /** Canvas sends none: capture it at the first launch of this registration (LMS-NOTES). */
  readonly deploymentId: string | undefined;
}

/** POSTs our registration to the platform's registration endpoint with the one-time registration token. */
export async function registerTool(
  platform: PlatformConfiguration,
  registration: Record<string, unknown>,
  registrationToken: string | undefined,
  options: RegistrationFetchOptions,
): Promise<RegistrationResult> {
  const url = await validateRegistrationUrl(platform.registration_endpoint, options);
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Accept: 'application/json',
    'User-Agent': options.userAgent,
  };
  if (registrationToken !== undefined && registrationToken !== '') {
    headers['Authorization'] = `Bearer ${registrationToken}`;
  }
  let body: string;
  try {
    const response = await options.fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify(registration),
      redirect: 'error',
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    body = await readLimited(response, options.maxBytes ?? 256 * 1024);
    if (!response.ok) {
      throw new LtiError('registration_failed', {
        detail: `HTTP ${response.status}: ${body.slice(0, 500)}`,
      });
    }
  } catch (error) {
    if (error instanceof LtiError) throw error;
    throw new LtiError('registration_failed', {
      detail: `posting to ${url.toString()}`,
      cause: error,
    });
  }
  const registered = parseJson(body, registrationResponseSchema, 'registration response');
  return {
    clientId: registered.client_id,
    deploymentId: registered[TOOL_CONFIGURATION_CLAIM]?.deployment_id,
  };
}
