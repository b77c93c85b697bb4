import { createHash, timingSafeEqual } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import type { JWTPayload, ProtectedHeaderParameters } from 'jose';
import type { z } from 'zod';
import {
  deepLinkingLaunchClaimsSchema,
  LTI_CLAIM,
  LTI_VERSION,
  MESSAGE_TYPE,
  resourceLinkLaunchClaimsSchema,
  toLaunchContext,
} from './claims.ts';
import type { LaunchContext, LaunchMessageType, ParsedLaunchClaims } from './claims.ts';
import { LtiError } from './errors.ts';
import type { LtiDiagnostics } from './errors.ts';
import { findRegistrations, isOwnTargetLinkUri } from './login.ts';
import type {
  LoginState,
  LoginStateStore,
  PlatformLookup,
  PlatformRegistration,
  ToolEndpoints,
} from './login.ts';
import type { PlatformKeys } from './platform-keys.ts';

/** Implemented by storage with `INSERT ... ON CONFLICT DO NOTHING RETURNING`: true only for the first claim. */
export interface NonceStore {
  claim(issuer: string, nonce: string, expiresAt: Date): Promise<boolean>;
}

/** Implemented by storage: the allow-list of deployment ids per registration (LMS-NOTES: tenants). */
export interface DeploymentLookup {
  isAllowed(issuer: string, clientId: string, deploymentId: string): Promise<boolean>;
}

export interface LaunchDependencies {
  readonly platforms: PlatformLookup;
  readonly states: LoginStateStore;
  readonly nonces: NonceStore;
  readonly deployments: DeploymentLookup;
  readonly platformKeys: PlatformKeys;
  readonly endpoints: ToolEndpoints;
  readonly now: () => Date;
  /** Small: platform clocks drift a little, not minutes. */
  readonly clockToleranceSeconds?: number;
  /** Oldest `iat` accepted; also makes jose reject an `iat` in the future. */
  readonly maxTokenAgeSeconds?: number;
  readonly acceptedMessageTypes?: readonly LaunchMessageType[];
}

export interface LaunchInput {
  /** The POSTed form (`id_token`, `state`), as parsed by the web layer. */
  readonly params: Readonly<Record<string, unknown>>;
  /**
   * Evidence that this browser started the login: the state cookie value, or the state returned by
   * platform storage (`lti.get_data`) in a cookieless launch. Must equal the posted `state`.
   */
  readonly browserBinding: string | undefined;
}

// ---------------------------------------------------------------------------------------------------
// The checklist. Each step does one check and throws one LtiError code. Nothing reads a claim before
// `verifySignature`; the issuer and client used to pick keys come from our own stored login state.

interface LaunchParameters {
  readonly idToken: string;
  readonly state: string;
}

export function readParameters(params: Readonly<Record<string, unknown>>): LaunchParameters {
  const platformError = params['error'];
  if (typeof platformError === 'string') {
    // OIDC error response (e.g. Canvas `login_required` when the user's LMS session ended).
    // Only the error code: the description is the LMS's free text and may name the person.
    throw new LtiError('invalid_parameter', {
      detail: `platform error ${platformError.slice(0, 100)}`,
      diagnostics: { claim: 'error' },
    });
  }
  const idToken = params['id_token'];
  const state = params['state'];
  if (typeof idToken !== 'string' || idToken === '') {
    throw new LtiError('missing_parameter', { detail: 'launch parameter id_token' });
  }
  if (typeof state !== 'string' || state === '') {
    throw new LtiError('missing_parameter', { detail: 'launch parameter state' });
  }
  return { idToken, state };
}

export function decodeHeader(idToken: string): ProtectedHeaderParameters {
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(idToken);
  } catch (error) {
    throw new LtiError('invalid_token', { detail: 'undecodable JOSE header', cause: error });
  }
  // LTI Security Framework §5.1.3: RS256 only. Rejects `none` and HS256 keyed with our public key early.
  if (header.alg !== 'RS256')
    throw new LtiError('unsupported_alg', { detail: `alg ${String(header.alg)}` });
  // The kid names the platform key (LTI Security Framework §6.3). Guessing "the only key" would
  // accept what the 1EdTech certification suite expects refused, and would break at the first
  // key rotation, when the platform publishes two keys (LMS-NOTES).
  if (typeof header.kid !== 'string' || header.kid === '') {
    throw new LtiError('missing_kid', { detail: 'JWT header without kid' });
  }
  return header;
}

function sameSecret(a: string, b: string): boolean {
  // Hash first so the comparison is constant-time regardless of lengths.
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
}

/** Checked before touching the store, so a forged POST cannot burn a victim's login state. */
export function checkBrowserBinding(state: string, browserBinding: string | undefined): void {
  if (browserBinding === undefined || browserBinding === '' || !sameSecret(state, browserBinding)) {
    throw new LtiError('state_mismatch', { detail: 'state does not match the browser binding' });
  }
}

export async function takeLoginState(
  store: LoginStateStore,
  state: string,
  now: Date,
): Promise<LoginState> {
  const loginState = await store.take(state);
  if (loginState === undefined) throw new LtiError('state_not_found');
  if (loginState.expiresAt.getTime() <= now.getTime()) throw new LtiError('state_expired');
  return loginState;
}

export async function findRegistration(
  platforms: PlatformLookup,
  loginState: LoginState,
): Promise<PlatformRegistration> {
  const registrations = await findRegistrations(platforms, loginState.issuer, (candidates) =>
    candidates.some((candidate) => candidate.clientId === loginState.clientId),
  );
  const registration = registrations.find(
    (candidate) => candidate.clientId === loginState.clientId,
  );
  if (registration === undefined) {
    throw new LtiError('unknown_issuer', {
      detail: `iss ${loginState.issuer} client_id ${loginState.clientId}`,
    });
  }
  return registration;
}

function mapJoseError(error: unknown): LtiError {
  if (error instanceof LtiError) return error;
  if (error instanceof joseErrors.JWTExpired) {
    return new LtiError('token_expired', { detail: error.message, cause: error });
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    const byClaim: Readonly<Record<string, LtiError['code']>> = {
      iss: 'issuer_mismatch',
      aud: 'audience_mismatch',
      iat: 'iat_in_future',
      nbf: 'token_not_yet_valid',
    };
    const code =
      error.reason === 'missing' ? 'missing_claim' : (byClaim[error.claim] ?? 'invalid_token');
    return new LtiError(code, { detail: error.message, cause: error });
  }
  if (
    error instanceof joseErrors.JOSEAlgNotAllowed ||
    error instanceof joseErrors.JOSENotSupported
  ) {
    return new LtiError('unsupported_alg', { detail: error.message, cause: error });
  }
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new LtiError('signature_invalid', { cause: error });
  }
  if (error instanceof joseErrors.JOSEError) {
    return new LtiError('invalid_token', { detail: error.message, cause: error });
  }
  return new LtiError('invalid_token', { cause: error });
}

export async function verifySignature(
  idToken: string,
  registration: PlatformRegistration,
  deps: Pick<
    LaunchDependencies,
    'platformKeys' | 'now' | 'clockToleranceSeconds' | 'maxTokenAgeSeconds'
  >,
): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(
      idToken,
      deps.platformKeys.resolverFor(registration.jwksUrl),
      {
        algorithms: ['RS256'],
        issuer: registration.issuer,
        audience: registration.clientId,
        clockTolerance: deps.clockToleranceSeconds ?? 5,
        maxTokenAge: deps.maxTokenAgeSeconds ?? 3600,
        currentDate: deps.now(),
        requiredClaims: ['exp', 'iat', 'nonce', 'sub'],
      },
    );
    return payload;
  } catch (error) {
    throw mapJoseError(error);
  }
}

/** OIDC Core §3.1.3.7 items 4–5, as LTI Security Framework §5.1.3 restates them. */
export function checkAuthorizedParty(payload: JWTPayload, clientId: string): void {
  const azp = payload['azp'];
  if (Array.isArray(payload.aud) && payload.aud.length > 1 && azp === undefined) {
    throw new LtiError('azp_mismatch', { detail: 'several audiences and no azp' });
  }
  if (azp !== undefined && azp !== clientId) {
    throw new LtiError('azp_mismatch', { detail: `azp ${JSON.stringify(azp)}` });
  }
}

/** What claiming a launch's nonce needs: it stays claimed for the token's whole life (its `exp`). */
export interface NonceClaim {
  readonly issuer: string;
  readonly nonce: string;
  readonly expiresAt: Date;
}

/** The nonce must EQUAL the one issued with this login's state (OIDC Core §3.1.3.7 item 11). */
export function checkNonceMatches(
  payload: JWTPayload,
  loginState: LoginState,
  issuer: string,
): NonceClaim {
  const nonce = payload['nonce'];
  if (typeof nonce !== 'string' || !sameSecret(nonce, loginState.nonce)) {
    throw new LtiError('nonce_mismatch');
  }
  // exp is present: verifySignature required it. The nonce stays claimed for the token's whole life.
  return { issuer, nonce, expiresAt: new Date((payload.exp ?? 0) * 1000) };
}

export async function checkNonce(
  payload: JWTPayload,
  loginState: LoginState,
  nonces: NonceStore,
  issuer: string,
): Promise<void> {
  const claim = checkNonceMatches(payload, loginState, issuer);
  if (!(await nonces.claim(claim.issuer, claim.nonce, claim.expiresAt))) {
    throw new LtiError('nonce_replay');
  }
}

export async function checkDeployment(
  payload: JWTPayload,
  loginState: LoginState,
  registration: PlatformRegistration,
  deployments: DeploymentLookup,
): Promise<string> {
  const deploymentId = payload[LTI_CLAIM.deploymentId];
  if (typeof deploymentId !== 'string' || deploymentId === '') {
    throw new LtiError('missing_claim', { detail: LTI_CLAIM.deploymentId });
  }
  if (loginState.deploymentId !== undefined && loginState.deploymentId !== deploymentId) {
    throw new LtiError('deployment_mismatch', {
      detail: `${loginState.deploymentId} then ${deploymentId}`,
    });
  }
  if (!(await deployments.isAllowed(registration.issuer, registration.clientId, deploymentId))) {
    throw new LtiError('unknown_deployment', { detail: `deployment_id ${deploymentId}` });
  }
  return deploymentId;
}

export function checkVersion(payload: JWTPayload): void {
  const version = payload[LTI_CLAIM.version];
  if (version === undefined) throw new LtiError('missing_claim', { detail: LTI_CLAIM.version });
  if (version !== LTI_VERSION)
    throw new LtiError('wrong_version', { detail: `version ${JSON.stringify(version)}` });
}

export function checkMessageType(
  payload: JWTPayload,
  accepted: readonly LaunchMessageType[],
): LaunchMessageType {
  const messageType = payload[LTI_CLAIM.messageType];
  if (messageType === undefined)
    throw new LtiError('missing_claim', { detail: LTI_CLAIM.messageType });
  const match = accepted.find((type) => type === messageType);
  if (match === undefined) {
    throw new LtiError('wrong_message_type', {
      detail: `message_type ${JSON.stringify(messageType)}`,
    });
  }
  return match;
}

const REQUIRED_CLAIMS: Readonly<Record<LaunchMessageType, readonly string[]>> = {
  [MESSAGE_TYPE.resourceLink]: [LTI_CLAIM.roles, LTI_CLAIM.targetLinkUri, LTI_CLAIM.resourceLink],
  // No target_link_uri: the certification suite's valid Deep Linking request has none (LMS-NOTES).
  [MESSAGE_TYPE.deepLinking]: [LTI_CLAIM.roles, LTI_CLAIM.deepLinkingSettings],
};

function claimError(error: z.ZodError): LtiError {
  const path = error.issues[0]?.path.map(String).join('.') ?? '';
  return new LtiError('invalid_claim', {
    detail: `${path}: ${error.issues[0]?.message ?? ''}`,
    cause: error,
    diagnostics: { claim: path },
  });
}

export function parseClaims(
  payload: JWTPayload,
  messageType: LaunchMessageType,
): ParsedLaunchClaims {
  for (const claim of REQUIRED_CLAIMS[messageType]) {
    if (payload[claim] === undefined) {
      throw new LtiError('missing_claim', { detail: claim, diagnostics: { claim } });
    }
  }
  if (messageType === MESSAGE_TYPE.resourceLink) {
    const parsed = resourceLinkLaunchClaimsSchema.safeParse(payload);
    if (!parsed.success) throw claimError(parsed.error);
    return { messageType, claims: parsed.data };
  }
  const parsed = deepLinkingLaunchClaimsSchema.safeParse(payload);
  if (!parsed.success) throw claimError(parsed.error);
  return { messageType, claims: parsed.data };
}

export function checkTargetLinkUri(launch: LaunchContext, endpoints: ToolEndpoints): void {
  // A Deep Linking request may leave it out: the tool answers it at its own Deep Linking page.
  if (launch.targetLinkUri === undefined) return;
  if (!isOwnTargetLinkUri(endpoints, launch.targetLinkUri)) {
    throw new LtiError('foreign_target_link_uri', { detail: launch.targetLinkUri });
  }
}

/**
 * Every page a resource link opens belongs to a course, so a launch without a `context` claim (from
 * an account or user menu) is refused here, with a message that says where to launch from, rather
 * than accepted into a session whose first page cannot be shown. A Deep Linking request may come
 * without one: its page adds an activity without standards.
 */
export function checkCourseContext(launch: LaunchContext): void {
  if (launch.messageType === MESSAGE_TYPE.resourceLink && launch.context === undefined) {
    throw new LtiError('no_course_context', {
      detail: `resource link launch without ${LTI_CLAIM.context}`,
      diagnostics: { claim: LTI_CLAIM.context },
    });
  }
}

/**
 * The checklist. With `nonces`, the nonce is claimed where it is checked; without, the caller gets
 * the claim to make (and must make it: `acceptLaunch`).
 */
async function runChecks(
  input: LaunchInput,
  deps: Omit<LaunchDependencies, 'nonces'>,
  nonces: NonceStore | undefined,
): Promise<{ launch: LaunchContext; nonce: NonceClaim }> {
  // What support needs to know if a check fails: the step, and the ids known by then.
  const known: { -readonly [K in keyof LtiDiagnostics]: LtiDiagnostics[K] } = {};
  const step = <T>(check: string, run: () => T): T => {
    known.check = check;
    return run();
  };
  try {
    const params = step('readParameters', () => readParameters(input.params));
    known.kid = kidOf(params.idToken);
    step('decodeHeader', () => decodeHeader(params.idToken));
    step('checkBrowserBinding', () => {
      checkBrowserBinding(params.state, input.browserBinding);
    });
    const loginState = await step('takeLoginState', () =>
      takeLoginState(deps.states, params.state, deps.now()),
    );
    known.issuer = loginState.issuer;
    known.clientId = loginState.clientId;
    const registration = await step('findRegistration', () =>
      findRegistration(deps.platforms, loginState),
    );
    const payload = await step('verifySignature', () =>
      verifySignature(params.idToken, registration, deps),
    );
    const deploymentId = payload[LTI_CLAIM.deploymentId];
    if (typeof deploymentId === 'string') known.deploymentId = deploymentId;
    const messageTypeClaim = payload[LTI_CLAIM.messageType];
    if (typeof messageTypeClaim === 'string') known.messageType = messageTypeClaim;
    step('checkAuthorizedParty', () => {
      checkAuthorizedParty(payload, registration.clientId);
    });
    const nonce = step('checkNonce', () =>
      checkNonceMatches(payload, loginState, registration.issuer),
    );
    if (nonces !== undefined && !(await nonces.claim(nonce.issuer, nonce.nonce, nonce.expiresAt))) {
      throw new LtiError('nonce_replay');
    }
    await step('checkDeployment', () =>
      checkDeployment(payload, loginState, registration, deps.deployments),
    );
    step('checkVersion', () => {
      checkVersion(payload);
    });
    const messageType = step('checkMessageType', () =>
      checkMessageType(
        payload,
        deps.acceptedMessageTypes ?? [MESSAGE_TYPE.resourceLink, MESSAGE_TYPE.deepLinking],
      ),
    );
    const launch = step('parseClaims', () =>
      toLaunchContext(parseClaims(payload, messageType), registration.clientId),
    );
    step('checkTargetLinkUri', () => {
      checkTargetLinkUri(launch, deps.endpoints);
    });
    step('checkCourseContext', () => {
      checkCourseContext(launch);
    });
    return { launch, nonce };
  } catch (error) {
    throw error instanceof LtiError ? error.withDiagnostics(known) : error;
  }
}

/** The header's `kid` for the log, read without trusting anything else in the token. */
function kidOf(idToken: string): string | undefined {
  try {
    const kid = decodeProtectedHeader(idToken).kid;
    return typeof kid === 'string' ? kid.slice(0, 200) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies an LTI 1.3 launch (LTI Core 1.3 §5.1.2–5.1.3, Security Framework §5.1.3) and returns the
 * normalized launch, or throws an `LtiError` naming the first check that failed.
 */
export async function verifyLaunch(
  input: LaunchInput,
  deps: LaunchDependencies,
): Promise<LaunchContext> {
  return (await runChecks(input, deps, deps.nonces)).launch;
}

/**
 * Claims the nonce TOGETHER with the caller's writes (one atomic statement): returns `undefined`
 * when the nonce was already used, and must then have written nothing.
 */
export type ClaimNonceAndRecord<T> = (
  launch: LaunchContext,
  nonce: NonceClaim,
) => Promise<T | undefined>;

/**
 * `verifyLaunch` for a caller that records the launch: every check of `verifyLaunch` runs, in the
 * same order, except that the nonce's single use is enforced by `record`, which claims it in the
 * same statement as the launch record, so an accepted launch costs one round trip instead of two.
 * A replayed nonce is refused as `nonce_replay` (after the other checks rather than before them).
 */
export async function acceptLaunch<T>(
  input: LaunchInput,
  deps: Omit<LaunchDependencies, 'nonces'>,
  record: ClaimNonceAndRecord<T>,
): Promise<{ launch: LaunchContext; recorded: T }> {
  const { launch, nonce } = await runChecks(input, deps, undefined);
  const recorded = await record(launch, nonce);
  if (recorded === undefined) {
    throw new LtiError('nonce_replay', {
      diagnostics: {
        check: 'checkNonce',
        issuer: launch.issuer,
        clientId: launch.clientId,
        deploymentId: launch.deploymentId,
        messageType: launch.messageType,
      },
    });
  }
  return { launch, recorded };
}
