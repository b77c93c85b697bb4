import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { LtiError } from './errors.ts';

/** What the tool knows about one platform registration, keyed by `(issuer, clientId)`. */
export interface PlatformRegistration {
  readonly issuer: string;
  readonly clientId: string;
  /** OIDC authorization endpoint (Canvas: `https://sso.canvaslms.com/api/lti/authorize_redirect`). */
  readonly authorizationEndpoint: string;
  readonly jwksUrl: string;
  readonly tokenEndpoint: string;
  /** `aud` of our client assertions when the platform wants something other than the token endpoint. */
  readonly tokenAudience?: string | undefined;
}

/** Implemented by storage. Returns every registration of the issuer (empty when unknown). */
export interface PlatformLookup {
  findByIssuer(issuer: string): Promise<readonly PlatformRegistration[]>;
  /**
   * For a lookup that keeps answers: asks the store again, bypassing what it kept. Called when the
   * kept answer lacks the registration a request names (it may have been added since).
   */
  refresh?(issuer: string): Promise<readonly PlatformRegistration[]>;
}

/** The issuer's registrations, asked again (when the lookup keeps answers) if `found` says none fits. */
export async function findRegistrations(
  platforms: PlatformLookup,
  issuer: string,
  found: (registrations: readonly PlatformRegistration[]) => boolean,
): Promise<readonly PlatformRegistration[]> {
  const registrations = await platforms.findByIssuer(issuer);
  if (found(registrations) || platforms.refresh === undefined) return registrations;
  return platforms.refresh(issuer);
}

/** The server-side half of an OIDC login, waiting for the launch. */
export interface LoginState {
  readonly state: string;
  readonly nonce: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly deploymentId: string | undefined;
  readonly targetLinkUri: string;
  readonly expiresAt: Date;
  readonly storageTarget: string | undefined;
}

/** Implemented by storage. `take` must be single-use and atomic (DELETE ... RETURNING). */
export interface LoginStateStore {
  save(state: LoginState): Promise<void>;
  take(state: string): Promise<LoginState | undefined>;
}

/** Decides which launch targets are ours: same origin as the tool, and a path we serve launches on. */
export interface ToolEndpoints {
  /** e.g. `https://mastery.example.org` */
  readonly baseUrl: string;
  /** Where platforms POST the id_token (our registered redirect URI). */
  readonly redirectUri: string;
  /** Path prefixes that may be launched, e.g. `['/lti/launch']`. */
  readonly launchPaths: readonly string[];
}

export function isOwnTargetLinkUri(endpoints: ToolEndpoints, targetLinkUri: string): boolean {
  let target: URL;
  try {
    target = new URL(targetLinkUri);
  } catch {
    return false;
  }
  if (target.origin !== new URL(endpoints.baseUrl).origin) return false;
  if (target.username !== '' || target.password !== '') return false;
  return endpoints.launchPaths.some(
    (path) =>
      target.pathname === path ||
      target.pathname.startsWith(path.endsWith('/') ? path : `${path}/`),
  );
}

/** 32 random bytes, base64url: the default for state and nonce values. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

export const loginParametersSchema = z.object({
  iss: z.string().min(1),
  login_hint: z.string().min(1),
  target_link_uri: z.string().min(1),
  lti_message_hint: z.string().optional(),
  client_id: z.string().min(1).optional(),
  lti_deployment_id: z.string().min(1).optional(),
  lti_storage_target: z.string().min(1).optional(),
});

export type LoginParameters = z.infer<typeof loginParametersSchema>;

const REQUIRED_LOGIN_PARAMETERS = ['iss', 'login_hint', 'target_link_uri'] as const;

/** Reads login parameters from a GET query or a POST form (LTI Core 1.3 §5.1.1: platforms may use either). */
export function parseLoginParameters(input: Readonly<Record<string, unknown>>): LoginParameters {
  for (const name of REQUIRED_LOGIN_PARAMETERS) {
    const value = input[name];
    if (typeof value !== 'string' || value === '') {
      throw new LtiError('missing_parameter', { detail: `login parameter ${name}` });
    }
  }
  const parsed = loginParametersSchema.safeParse(input);
  if (!parsed.success) {
    throw new LtiError('invalid_parameter', { detail: parsed.error.message, cause: parsed.error });
  }
  return parsed.data;
}

export interface LoginDependencies {
  readonly platforms: PlatformLookup;
  readonly states: LoginStateStore;
  readonly endpoints: ToolEndpoints;
  readonly now: () => Date;
  /** Crypto-random, URL-safe token; `randomToken` in production. */
  readonly randomToken: () => string;
  readonly stateTtlSeconds?: number;
}

export interface LoginResult {
  /** Where to send the browser (HTTP 302). */
  readonly authRequestUrl: URL;
  readonly state: string;
  readonly nonce: string;
  readonly expiresAt: Date;
  /**
   * Present when the platform supports platform storage: the web layer must also `lti.put_data` the
   * state (and nonce) into that frame before redirecting, and keep the cookie as the fallback.
   */
  readonly storageTarget: string | undefined;
  readonly registration: PlatformRegistration;
  /**
   * The LMS's hints, for starting the same login again at top level when the browser cannot be
   * bound in the LMS frame (no cookie, no platform storage). Not secrets: the LMS re-authenticates
   * its user at its authorization endpoint and refuses a `login_hint` that is not that user.
   */
  readonly loginHint: string;
  readonly messageHint: string | undefined;
}

function selectRegistration(
  registrations: readonly PlatformRegistration[],
  params: LoginParameters,
): PlatformRegistration {
  if (registrations.length === 0)
    throw new LtiError('unknown_issuer', { detail: `iss ${params.iss}` });
  if (params.client_id !== undefined) {
    const match = registrations.find((registration) => registration.clientId === params.client_id);
    if (match === undefined) {
      throw new LtiError('unknown_client', {
        detail: `iss ${params.iss} client_id ${params.client_id}`,
      });
    }
    return match;
  }
  // client_id is optional in the login request; without it the issuer must be unambiguous.
  const [only, ...others] = registrations;
  if (only === undefined || others.length > 0) {
    throw new LtiError('missing_parameter', {
      detail: `login parameter client_id (issuer ${params.iss} has several registrations)`,
    });
  }
  return only;
}

/** Third-party initiated login (LTI Core 1.3 §5.1.1, OIDC Core §4) → the authentication request URL. */
export async function handleLogin(
  input: Readonly<Record<string, unknown>>,
  deps: LoginDependencies,
): Promise<LoginResult> {
  const params = parseLoginParameters(input);
  const registrations = await findRegistrations(deps.platforms, params.iss, (candidates) =>
    params.client_id === undefined
      ? candidates.length === 1
      : candidates.some((candidate) => candidate.clientId === params.client_id),
  );
  const registration = selectRegistration(registrations, params);
  if (!isOwnTargetLinkUri(deps.endpoints, params.target_link_uri)) {
    throw new LtiError('foreign_target_link_uri', { detail: params.target_link_uri });
  }
  const state = deps.randomToken();
  const nonce = deps.randomToken();
  const expiresAt = new Date(deps.now().getTime() + (deps.stateTtlSeconds ?? 600) * 1000);
  await deps.states.save({
    state,
    nonce,
    issuer: registration.issuer,
    clientId: registration.clientId,
    deploymentId: params.lti_deployment_id,
    targetLinkUri: params.target_link_uri,
    expiresAt,
    storageTarget: params.lti_storage_target,
  });
  const authRequestUrl = new URL(registration.authorizationEndpoint);
  const query: Record<string, string | undefined> = {
    scope: 'openid',
    response_type: 'id_token',
    response_mode: 'form_post',
    prompt: 'none',
    client_id: registration.clientId,
    redirect_uri: deps.endpoints.redirectUri,
    login_hint: params.login_hint,
    lti_message_hint: params.lti_message_hint,
    state,
    nonce,
  };
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) authRequestUrl.searchParams.set(name, value);
  }
  return {
    authRequestUrl,
    state,
    nonce,
    expiresAt,
    storageTarget: params.lti_storage_target,
    registration,
    loginHint: params.login_hint,
    messageHint: params.lti_message_hint,
  };
}
