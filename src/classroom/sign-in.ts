import * as oidc from 'openid-client';
import type { FetchFunction } from '../lti/http.ts';
import { ClassroomError } from './errors.ts';

/**
 * Google sign-in (OpenID Connect) for the add-on, with openid-client: discovery, authorization code
 * + PKCE (S256), nonce, `login_hint` from Classroom, `hd` when the district has one domain, and
 * `access_type=offline` so Google returns a refresh token for background passback.
 */

export const GOOGLE_ISSUER = 'https://accounts.google.com';
export const CLASSROOM_API_BASE = 'https://classroom.googleapis.com';
export const CLASSROOM_FRAME_ORIGIN = 'https://classroom.google.com';

/** Scopes of the add-on (Classroom add-ons guide: teacher and student add-on scopes, rosters, grades). */
export const CLASSROOM_SCOPES: readonly string[] = [
  'openid',
  'email',
  'profile',
  'https://www.googleapis.com/auth/classroom.addons.teacher',
  'https://www.googleapis.com/auth/classroom.addons.student',
  'https://www.googleapis.com/auth/classroom.courses.readonly',
  'https://www.googleapis.com/auth/classroom.rosters.readonly',
  'https://www.googleapis.com/auth/classroom.profile.emails',
  'https://www.googleapis.com/auth/classroom.coursework.students',
];

const SCOPE = 'https://www.googleapis.com/auth/';

/** Google answers `email` and `profile` under their long names. */
const LONG_NAMES: Readonly<Record<string, string>> = {
  email: `${SCOPE}userinfo.email`,
  profile: `${SCOPE}userinfo.profile`,
};

/** One granted scope under the name Google reports it with. */
export const longScopeName = (scope: string): string => LONG_NAMES[scope] ?? scope;

/**
 * Google lets a user untick each non-Sign-In scope (granular permissions). What a role cannot work
 * without, described in plain words (Google's own consent wording is not reproduced here) so a
 * person knows which box to tick: a teacher creates attachments and grades (add-on teacher,
 * coursework), a student opens the attachment (add-on student). Rosters, course names and emails
 * make pages richer, not possible.
 */
export const REQUIRED_SCOPES: Readonly<
  Record<'teacher' | 'student', readonly { scope: string; words: string }[]>
> = {
  teacher: [
    {
      scope: `${SCOPE}classroom.addons.teacher`,
      words: 'Add and update its own attachments on posts in the classes you teach',
    },
    {
      scope: `${SCOPE}classroom.coursework.students`,
      words: 'Manage course work and grades of the students in the classes you teach',
    },
  ],
  student: [
    {
      scope: `${SCOPE}classroom.addons.student`,
      words: 'See and update its own attachments on posts in your classes',
    },
  ],
};

/** The permissions a role needs that are not among the granted scopes (long names). */
export function missingScopes(
  granted: readonly string[],
  role: 'teacher' | 'student',
): { scope: string; words: string }[] {
  const have = new Set(granted.map(longScopeName));
  return REQUIRED_SCOPES[role].filter((required) => !have.has(required.scope));
}

/**
 * Plain-http OIDC is allowed only for a loopback issuer (the emulator in tests and local
 * development); any other issuer must be https, whatever the environment.
 */
export function isLoopbackHttp(issuer: string): boolean {
  if (!URL.canParse(issuer)) return false;
  const url = new URL(issuer);
  return (
    url.protocol === 'http:' &&
    (url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]')
  );
}

export interface OidcClientSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly fetch: FetchFunction;
}

export async function discover(settings: OidcClientSettings): Promise<oidc.Configuration> {
  const fetchImpl = settings.fetch;
  // Token requests carry a URLSearchParams body; send it as a string (the pinned fetch, used for
  // configured issuers, sends string bodies only).
  const customFetch: oidc.CustomFetch = (url, options) =>
    fetchImpl(url, {
      ...(options as RequestInit),
      body: options.body instanceof URLSearchParams ? options.body.toString() : options.body,
    } as RequestInit);
  try {
    return await oidc.discovery(
      new URL(settings.issuer),
      settings.clientId,
      undefined,
      oidc.ClientSecretPost(settings.clientSecret),
      {
        [oidc.customFetch]: customFetch,
        // Deliberate: plain http only for a loopback issuer (the emulator), see isLoopbackHttp.
        // eslint-disable-next-line @typescript-eslint/no-deprecated
        ...(isLoopbackHttp(settings.issuer) ? { execute: [oidc.allowInsecureRequests] } : {}),
      },
    );
  } catch (error) {
    throw new ClassroomError('sign_in_failed', { detail: 'OIDC discovery failed', cause: error });
  }
}

export interface AuthorizationStart {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

export function newAuthorizationStart(): AuthorizationStart {
  return {
    state: oidc.randomState(),
    nonce: oidc.randomNonce(),
    codeVerifier: oidc.randomPKCECodeVerifier(),
  };
}

export async function authorizationUrl(
  config: oidc.Configuration,
  input: {
    start: AuthorizationStart;
    redirectUri: string;
    loginHint: string | undefined;
    allowedDomains: readonly string[];
    /**
     * `prompt=consent`: only for a teacher who needs a refresh token (Google returns one only with
     * a consent screen) and has none on file. Never for students.
     */
    askConsent: boolean;
  },
): Promise<URL> {
  const parameters: Record<string, string> = {
    redirect_uri: input.redirectUri,
    scope: CLASSROOM_SCOPES.join(' '),
    response_type: 'code',
    state: input.start.state,
    nonce: input.start.nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(input.start.codeVerifier),
    code_challenge_method: 'S256',
    access_type: 'offline',
    include_granted_scopes: 'true',
  };
  // Without login_hint (Classroom sends none before the first sign-in), let the person choose the
  // account; with it, Google signs that account in and asks nothing it was already granted.
  const prompt = [
    ...(input.loginHint === undefined ? ['select_account'] : []),
    ...(input.askConsent ? ['consent'] : []),
  ];
  if (prompt.length > 0) parameters.prompt = prompt.join(' ');
  if (input.loginHint !== undefined) parameters.login_hint = input.loginHint;
  // `hd` only narrows Google's account chooser; the id token's hd claim is checked after sign-in.
  const [onlyDomain] = input.allowedDomains;
  if (input.allowedDomains.length === 1 && onlyDomain !== undefined) parameters.hd = onlyDomain;
  return oidc.buildAuthorizationUrl(config, parameters);
}

export interface SignedInUser {
  readonly sub: string;
  readonly name: string | undefined;
  readonly givenName: string | undefined;
  readonly familyName: string | undefined;
  readonly email: string | undefined;
  readonly hostedDomain: string | undefined;
  readonly accessToken: string;
  readonly accessTokenExpiresAt: Date;
  readonly refreshToken: string | undefined;
  readonly scopes: readonly string[];
}

const optionalString = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** Exchanges the code (PKCE, state and nonce checked by openid-client) and reads the id token. */
export async function finishAuthorization(
  config: oidc.Configuration,
  input: { currentUrl: URL; start: AuthorizationStart; now: Date },
): Promise<SignedInUser> {
  let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
  try {
    tokens = await oidc.authorizationCodeGrant(config, input.currentUrl, {
      pkceCodeVerifier: input.start.codeVerifier,
      expectedState: input.start.state,
      expectedNonce: input.start.nonce,
      idTokenExpected: true,
    });
  } catch (error) {
    throw new ClassroomError('sign_in_failed', { detail: 'code exchange failed', cause: error });
  }
  const claims = tokens.claims();
  if (claims === undefined) {
    throw new ClassroomError('sign_in_failed', { detail: 'no id token' });
  }
  const expiresIn = tokens.expiresIn() ?? 3600;
  return {
    sub: claims.sub,
    name: optionalString(claims.name),
    givenName: optionalString(claims.given_name),
    familyName: optionalString(claims.family_name),
    email: claims.email_verified === true ? optionalString(claims.email) : undefined,
    hostedDomain: optionalString(claims.hd),
    accessToken: tokens.access_token,
    accessTokenExpiresAt: new Date(input.now.getTime() + expiresIn * 1000),
    refreshToken: tokens.refresh_token,
    // RFC 6749 §5.1: an absent `scope` means what was asked for (Google always sends it).
    scopes: scopeList(tokens.scope) ?? CLASSROOM_SCOPES.map(longScopeName),
  };
}

function scopeList(scope: string | undefined): string[] | undefined {
  if (scope === undefined) return undefined;
  return scope
    .split(' ')
    .filter((s) => s !== '')
    .map(longScopeName);
}

/**
 * The account must belong to one of the district's Workspace domains: the `hd` claim (only Workspace
 * accounts have one) and the verified email's domain must both be on the list.
 */
export function isAllowedAccount(user: SignedInUser, allowedDomains: readonly string[]): boolean {
  const allowed = new Set(allowedDomains.map((domain) => domain.toLowerCase()));
  const hd = user.hostedDomain?.toLowerCase();
  if (hd === undefined || !allowed.has(hd)) return false;
  if (user.email === undefined) return false;
  const emailDomain = user.email.slice(user.email.lastIndexOf('@') + 1).toLowerCase();
  return allowed.has(emailDomain);
}

export interface RefreshedAccess {
  readonly accessToken: string;
  readonly expiresAt: Date;
  /** Google may rotate the refresh token. */
  readonly refreshToken: string | undefined;
  /** The scopes Google reports for the grant; undefined when the answer has no `scope`. */
  readonly scopes: readonly string[] | undefined;
}

/** `invalid_grant`: the refresh token was revoked or expired; only a new sign-in helps. */
export class RefreshTokenRevoked extends Error {
  constructor(cause: unknown) {
    super('refresh token revoked or expired', { cause });
    this.name = 'RefreshTokenRevoked';
  }
}

export async function refreshAccess(
  config: oidc.Configuration,
  refreshToken: string,
  now: Date,
): Promise<RefreshedAccess> {
  try {
    const tokens = await oidc.refreshTokenGrant(config, refreshToken);
    return {
      accessToken: tokens.access_token,
      expiresAt: new Date(now.getTime() + (tokens.expiresIn() ?? 3600) * 1000),
      refreshToken: tokens.refresh_token,
      scopes: scopeList(tokens.scope),
    };
  } catch (error) {
    if (error instanceof oidc.ResponseBodyError && error.error === 'invalid_grant') {
      throw new RefreshTokenRevoked(error);
    }
    throw error;
  }
}
