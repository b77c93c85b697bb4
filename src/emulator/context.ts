import type { JWK, CryptoKey } from 'jose';
import type { IdFactory, RandomBytes } from './ids.ts';
import type { EmulatorState } from './state.ts';
import type { Flavour } from './types.ts';

export interface EmulatorOptions {
  flavour: Flavour;
  /** Public base URL of the emulator, without a trailing slash (e.g. http://127.0.0.1:4000). */
  baseUrl: string;
  /** Defaults to baseUrl (Moodle: the site's wwwroot exactly). */
  issuer?: string;
  now?: () => Date;
  randomBytes?: RandomBytes;
  /** Used to fetch tool JWKS. */
  fetch?: typeof fetch;
  /** Used by the `delay` fault. */
  sleep?: (ms: number) => Promise<void>;
  platformName?: string;
  /** id_token `exp` - `iat`. Default 300 s. */
  idTokenLifetimeSeconds?: number;
  /** Access token lifetime. Default 3600 s. */
  accessTokenLifetimeSeconds?: number;
  /** How long an `lti_message_hint` stays valid. Default 600 s. */
  launchHintLifetimeSeconds?: number;
  /** `aud` values accepted in client assertions. Default: [token endpoint URL]. */
  tokenAudiences?: string[];
  /** Canvas quirk: line item URLs carry a query string, e.g. "?foo=bar". Default none. */
  lineItemUrlQuery?: string;
  /** NRPS page size cap. Default: Schoology 100, Canvas 50, Moodle 1000. */
  nrpsMaxPageSize?: number;
  /** Line items container page size cap. Default 50. */
  lineItemsMaxPageSize?: number;
  /** Requests per second on service endpoints before 429 + Retry-After. Default: unlimited. */
  rateLimit?: { requestsPerSecond: number };
  /** Send `lti_storage_target` and answer Platform Storage postMessages. Default: Canvas only. */
  platformStorage?: boolean;
  /** Name of the frame answering postMessages. Default "post_message_forwarding" (Canvas). */
  storageTarget?: string;
  /** Refuse service calls without a User-Agent header. Default: Canvas only. */
  requireUserAgent?: boolean;
  /** Canvas answers AGS calls on a concluded course with 404 (newer flag: 422). Default 404. */
  concludedCourseStatus?: 404 | 422;
  /** Offer Dynamic Registration. Default: Canvas and Moodle, never Schoology. */
  dynamicRegistration?: boolean;
  /** Clock skew accepted on tool JWTs. Default 60 s. */
  clockToleranceSeconds?: number;
}

export type ResolvedOptions = Required<
  Omit<EmulatorOptions, 'issuer' | 'rateLimit' | 'tokenAudiences' | 'lineItemUrlQuery'>
> & {
  issuer: string;
  rateLimit: { requestsPerSecond: number } | undefined;
  tokenAudiences: string[];
  lineItemUrlQuery: string;
};

export interface EmulatorUrls {
  readonly jwks: string;
  readonly authorize: string;
  readonly token: string;
  readonly launch: string;
  readonly openidConfiguration: string;
  readonly registration: string;
  readonly dynamicRegistrationPage: string;
  lineItems(courseId: string): string;
  lineItem(courseId: string, lineItemId: string): string;
  memberships(courseId: string): string;
  deepLinkingReturn(sessionId: string): string;
  course(courseId: string): string;
}

/** The platform's signing key; a key rotation (`rotatePlatformKey`) replaces it in place. */
export interface PlatformKeys {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  /** Keys rotated out but still published, as platforms do for a while after a rotation. */
  retiredJwks?: JWK[];
}

export interface EmulatorContext {
  readonly state: EmulatorState;
  readonly options: ResolvedOptions;
  readonly urls: EmulatorUrls;
  readonly keys: PlatformKeys;
  readonly ids: IdFactory;
}

export function buildUrls(baseUrl: string, lineItemUrlQuery: string): EmulatorUrls {
  const base = baseUrl.replace(/\/+$/, '');
  const lineItems = (courseId: string): string => `${base}/api/lti/courses/${courseId}/line_items`;
  return {
    jwks: `${base}/api/lti/security/jwks`,
    authorize: `${base}/api/lti/authorize_redirect`,
    token: `${base}/login/oauth2/token`,
    launch: `${base}/launch`,
    openidConfiguration: `${base}/api/lti/registration/openid-configuration`,
    registration: `${base}/api/lti/registrations`,
    dynamicRegistrationPage: `${base}/ui/dynamic-registration`,
    lineItems,
    lineItem: (courseId, lineItemId) => `${lineItems(courseId)}/${lineItemId}${lineItemUrlQuery}`,
    memberships: (courseId) => `${base}/api/lti/courses/${courseId}/names_and_roles`,
    deepLinkingReturn: (sessionId) => `${base}/api/lti/deep_linking/${sessionId}/return`,
    course: (courseId) => `${base}/ui/courses/${courseId}`,
  };
}
