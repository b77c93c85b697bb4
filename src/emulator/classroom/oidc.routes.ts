import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { SignJWT } from 'jose';
import { z } from 'zod';
import { html, page, type SafeHtml } from '../html.ts';
import { SIGN_IN_SCOPES, type GoogleConsents } from './consent.ts';
import type { ClassroomContext } from './context.ts';
import { googleGuard } from './google-errors.ts';
import type { GoogleUser, OAuthClient, PendingAuthorization } from './types.ts';

/**
 * Google's OAuth 2.0 / OpenID Connect server, the parts a web-server app uses
 * (https://developers.google.com/identity/openid-connect/openid-connect): discovery, the
 * authorization endpoint with an account chooser, the token endpoint (authorization_code with PKCE,
 * refresh_token), JWKS, userinfo and revocation. Error bodies copy Google's.
 */

const SCOPE_ALIASES: Record<string, string> = {
  email: 'https://www.googleapis.com/auth/userinfo.email',
  profile: 'https://www.googleapis.com/auth/userinfo.profile',
};

/** Google reports `email`/`profile` back under their long names; the short ones also work. */
function normaliseScopes(raw: string): string[] {
  const scopes = raw.split(/[\s+]+/).filter((s) => s !== '');
  return [...new Set(scopes.map((s) => SCOPE_ALIASES[s] ?? s))];
}

function hasScope(scopes: readonly string[], short: 'email' | 'profile'): boolean {
  return scopes.includes(SCOPE_ALIASES[short] ?? short);
}

const authorizeQuery = z.object({
  client_id: z.string().optional(),
  redirect_uri: z.string().optional(),
  response_type: z.string().optional(),
  scope: z.string().optional(),
  state: z.string().optional(),
  nonce: z.string().optional(),
  login_hint: z.string().optional(),
  hd: z.string().optional(),
  prompt: z.string().optional(),
  code_challenge: z.string().optional(),
  code_challenge_method: z.string().optional(),
  access_type: z.string().optional(),
  include_granted_scopes: z.string().optional(),
});

const approveForm = z.object({
  request: z.string().min(1),
  user: z.string().optional(),
  decision: z.enum(['allow', 'deny']).default('allow'),
});

const consentForm = z.object({
  request: z.string().min(1),
  scope: z.union([z.string(), z.array(z.string())]).optional(),
  decision: z.enum(['allow', 'deny']).default('allow'),
});

/** Google's `prompt` values (space-delimited; `none` stands alone). */
const PROMPTS = ['none', 'consent', 'select_account'];

/** Where the account chooser posts its choice (used by `signIn()` in tests). */
export const APPROVE_PATH = '/o/oauth2/v2/auth/approve';
/** Where the consent screen posts the ticked scopes. */
export const CONSENT_PATH = '/o/oauth2/v2/auth/consent';

/** A pending authorization, with whether earlier grants join the new token. */
type Authorization = PendingAuthorization & { readonly includeGrantedScopes: boolean };

const tokenForm = z.object({
  grant_type: z.string().optional(),
  code: z.string().optional(),
  redirect_uri: z.string().optional(),
  code_verifier: z.string().optional(),
  refresh_token: z.string().optional(),
  client_id: z.string().optional(),
  client_secret: z.string().optional(),
});

function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Discovery document, shaped like https://accounts.google.com/.well-known/openid-configuration. */
export function googleOpenIdConfiguration(ctx: ClassroomContext): Record<string, unknown> {
  const { urls, options } = ctx;
  return {
    issuer: options.issuer,
    authorization_endpoint: urls.authorize,
    token_endpoint: urls.token,
    userinfo_endpoint: urls.userinfo,
    revocation_endpoint: urls.revoke,
    jwks_uri: urls.jwks,
    response_types_supported: [
      'code',
      'token',
      'id_token',
      'code token',
      'code id_token',
      'token id_token',
      'code token id_token',
      'none',
    ],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    scopes_supported: ['openid', 'email', 'profile'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    claims_supported: [
      'aud',
      'email',
      'email_verified',
      'exp',
      'family_name',
      'given_name',
      'hd',
      'iat',
      'iss',
      'name',
      'nonce',
      'picture',
      'sub',
    ],
    code_challenge_methods_supported: ['plain', 'S256'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
  };
}

export function oidcRoutes(ctx: ClassroomContext, consents: GoogleConsents): Router {
  const router = express.Router();
  const { state, options, keys } = ctx;
  /** Consent screens waiting for an answer: pending request id → the account it is for. */
  const pendingUsers = new Map<string, string>();
  const form = express.urlencoded({ extended: false });

  const errorPage = (res: Response, status: number, error: string, detail: string): void => {
    res
      .status(status)
      .type('html')
      .send(
        page(
          `Access blocked: ${error}`,
          html`<p>Error ${status}: <code>${error}</code></p>
            <p>${detail}</p>`,
          { flavour: 'classroom' },
        ),
      );
  };

  const redirectTo = (
    res: Response,
    redirectUri: string,
    params: Record<string, string | undefined>,
  ): void => {
    const target = new URL(redirectUri);
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined) target.searchParams.set(key, value);
    }
    res.redirect(302, target.toString());
  };

  /**
   * A code for the user. `consented`: the consent screen was shown in this authorization (only then
   * does Google add a refresh token). The code's scopes are what the user granted of the request,
   * plus every earlier grant with `include_granted_scopes=true`.
   */
  const issueCode = (
    request: Authorization,
    user: GoogleUser,
    grantedNow: readonly string[],
    consented: boolean,
  ): { code: string; scopes: string[] } => {
    const code = `4/0${state.opaque(36)}`;
    const all = consents.grant(user.id, request.clientId, grantedNow);
    const requested = new Set(request.scopes);
    const scopes = request.includeGrantedScopes
      ? [...all]
      : [...all].filter((scope) => requested.has(scope));
    state.codes.set(code, {
      code,
      clientId: request.clientId,
      userId: user.id,
      redirectUri: request.redirectUri,
      scopes,
      nonce: request.nonce,
      codeChallenge: request.codeChallenge,
      codeChallengeMethod: request.codeChallengeMethod,
      offline: request.offline,
      expiresAt: new Date(options.now().getTime() + options.codeLifetimeSeconds * 1000),
      used: false,
    });
    if (consented) consents.consentedCodes.add(code);
    return { code, scopes };
  };

  /** Back to the client with a code, as Google's redirect carries it. */
  const redirectWithCode = (
    res: Response,
    request: Authorization,
    user: GoogleUser,
    grantedNow: readonly string[],
    consented: boolean,
  ): void => {
    const { code, scopes } = issueCode(request, user, grantedNow, consented);
    redirectTo(res, request.redirectUri, {
      state: request.state,
      code,
      scope: scopes.join(' '),
      authuser: '0',
      ...(user.hostedDomain ? { hd: user.hostedDomain } : {}),
      prompt: consented ? 'consent' : 'none',
    });
  };

  /** Google's sign-in pages refuse framing: add-ons open them in a popup. */
  const refuseFraming = (res: Response): void => {
    if (options.allowFramedSignIn) return;
    res.set('X-Frame-Options', 'DENY');
    res.set('Content-Security-Policy', "frame-ancestors 'none'");
  };

  /**
   * The account is known: the consent screen when a requested scope is not granted yet or the
   * request says `prompt=consent`; otherwise straight back to the client, no screen at all.
   */
  const continueAs = (res: Response, request: Authorization, user: GoogleUser): void => {
    const needsConsent =
      request.prompt.includes('consent') ||
      !consents.covers(user.id, request.clientId, request.scopes);
    if (!needsConsent) {
      redirectWithCode(res, request, user, [], false);
      return;
    }
    const client = state.client(request.clientId);
    const pending: Authorization = { ...request, id: state.opaque(16) };
    pendingUsers.set(pending.id, user.id);
    state.pendingAuthorizations.set(pending.id, pending);
    const offered = request.scopes.filter((scope) => !SIGN_IN_SCOPES.includes(scope));
    consents.shown({ userId: user.id, clientId: client.clientId, offered });
    refuseFraming(res);
    res.type('html').send(consentPage(client, pending, user, offered, consents.takeDeclines()));
  };

  // ---- discovery and keys -------------------------------------------------------------------

  router.get('/.well-known/openid-configuration', (_req, res) => {
    res.json(googleOpenIdConfiguration(ctx));
  });

  router.get('/oauth2/v3/certs', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=21600');
    res.json({ keys: [keys.publicJwk] });
  });

  // ---- authorization endpoint ---------------------------------------------------------------

  const authorize = (req: Request, res: Response): void => {
    const source: unknown = req.method === 'POST' ? req.body : req.query;
    const parsed = authorizeQuery.safeParse(source ?? {});
    if (!parsed.success) {
      errorPage(res, 400, 'invalid_request', 'The request parameters are malformed.');
      return;
    }
    const q = parsed.data;
    const client = q.client_id === undefined ? undefined : state.clients.get(q.client_id);
    if (!client) {
      errorPage(res, 401, 'invalid_client', 'The OAuth client was not found.');
      return;
    }
    if (q.redirect_uri === undefined || !client.redirectUris.includes(q.redirect_uri)) {
      errorPage(
        res,
        400,
        'redirect_uri_mismatch',
        `You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. Request details: redirect_uri=${q.redirect_uri ?? ''}`,
      );
      return;
    }
    if (q.response_type !== 'code') {
      errorPage(res, 400, 'invalid_request', `Invalid response_type: ${q.response_type ?? ''}`);
      return;
    }
    if (!q.scope) {
      errorPage(res, 400, 'invalid_request', 'Missing required parameter: scope');
      return;
    }
    const method = q.code_challenge_method ?? (q.code_challenge ? 'plain' : undefined);
    if (method !== undefined && method !== 'S256' && method !== 'plain') {
      errorPage(res, 400, 'invalid_request', `Invalid code_challenge_method: ${method}`);
      return;
    }
    if (method !== undefined && !q.code_challenge) {
      errorPage(res, 400, 'invalid_request', 'Missing required parameter: code_challenge');
      return;
    }
    const prompt = (q.prompt ?? '').split(' ').filter((p) => p !== '');
    if (
      prompt.some((p) => !PROMPTS.includes(p)) ||
      (prompt.includes('none') && prompt.length > 1)
    ) {
      errorPage(
        res,
        400,
        'invalid_request',
        `Invalid parameter value for prompt: ${q.prompt ?? ''}`,
      );
      return;
    }
    const request: Authorization = {
      id: state.opaque(16),
      clientId: client.clientId,
      redirectUri: q.redirect_uri,
      scopes: normaliseScopes(q.scope),
      state: q.state,
      nonce: q.nonce,
      loginHint: q.login_hint,
      hostedDomain: q.hd,
      prompt,
      codeChallenge: q.code_challenge,
      codeChallengeMethod: method,
      offline: q.access_type === 'offline',
      includeGrantedScopes: q.include_granted_scopes === 'true',
      expiresAt: new Date(options.now().getTime() + 600 * 1000),
    };
    const hinted = q.login_hint === undefined ? undefined : state.findUser(q.login_hint);
    if (prompt.includes('none')) {
      // No UI allowed: succeed only for a hinted user who already granted every requested scope.
      if (!hinted) {
        redirectTo(res, request.redirectUri, { error: 'login_required', state: request.state });
        return;
      }
      if (!consents.covers(hinted.id, client.clientId, request.scopes)) {
        redirectTo(res, request.redirectUri, {
          error: 'interaction_required',
          state: request.state,
        });
        return;
      }
      redirectWithCode(res, request, hinted, [], false);
      return;
    }
    // A hinted account is taken as the one signed in to Google here (the emulator keeps no Google
    // session); `select_account`, or no hint, shows the account chooser first.
    if (hinted && !prompt.includes('select_account')) {
      continueAs(res, request, hinted);
      return;
    }
    state.pendingAuthorizations.set(request.id, request);
    refuseFraming(res);
    res.type('html').send(chooserPage(client, request));
  };

  const chooserPage = (client: OAuthClient, request: PendingAuthorization): string => {
    const hinted = request.loginHint === undefined ? undefined : state.findUser(request.loginHint);
    // `hd` only orders the chooser: other accounts stay selectable, as at Google.
    const users = [...state.users.values()].sort((a, b) => {
      const rank = (u: GoogleUser): number =>
        u === hinted ? 0 : request.hostedDomain && u.hostedDomain === request.hostedDomain ? 1 : 2;
      return rank(a) - rank(b);
    });
    const body: SafeHtml = html`<p>
        to continue to <strong>${client.name}</strong>${
          request.hostedDomain
            ? html` <span class="muted">(accounts of ${request.hostedDomain} first)</span>`
            : ''
        }
      </p>
      <form method="post" action="${APPROVE_PATH}">
        <input type="hidden" name="request" value="${request.id}" />
        <fieldset>
          <legend>Choose an account</legend>
          ${users.map(
            (u, i) =>
              html`<div>
                <input
                  type="radio"
                  name="user"
                  id="user-${u.id}"
                  value="${u.id}"
                  ${(hinted ? u === hinted : i === 0) ? html`checked` : ''}
                />
                <label for="user-${u.id}"
                  >${u.givenName} ${u.familyName}
                  &lt;${u.email}&gt;${
                    u.hostedDomain ? '' : html` <span class="muted">(personal account)</span>`
                  }</label
                >
              </div>`,
          )}
        </fieldset>
        <button type="submit" name="decision" value="allow">Continue</button>
        <button type="submit" name="decision" value="deny">Cancel</button>
      </form>`;
    return page('Sign in with Google', body, { flavour: 'classroom' });
  };

  /** Google's consent screen: Sign-In scopes as text, every other scope a checkbox of its own. */
  const consentPage = (
    client: OAuthClient,
    request: PendingAuthorization,
    user: GoogleUser,
    offered: readonly string[],
    declined: readonly string[],
  ): string => {
    const body: SafeHtml = html`<p id="consent-screen">
        <strong>${client.name}</strong> wants access to your Google Account (${user.email}).
      </p>
      <form method="post" action="${CONSENT_PATH}">
        <input type="hidden" name="request" value="${request.id}" />
        <p>It will know your name, email address and profile picture.</p>
        ${
          offered.length === 0
            ? ''
            : html`<fieldset>
                <legend>Select what ${client.name} can access</legend>
                ${offered.map(
                  (scope, i) =>
                    html`<div>
                      <input
                        type="checkbox"
                        name="scope"
                        id="scope-${i}"
                        value="${scope}"
                        ${declined.includes(scope) ? '' : html`checked`}
                      />
                      <label for="scope-${i}"><code>${scope}</code></label>
                    </div>`,
                )}
              </fieldset>`
        }
        <button type="submit" name="decision" value="allow">Allow</button>
        <button type="submit" name="decision" value="deny">Cancel</button>
      </form>`;
    return page('Sign in with Google', body, { flavour: 'classroom' });
  };

  router.get('/o/oauth2/v2/auth', authorize);
  router.post('/o/oauth2/v2/auth', form, authorize);

  /** A pending request from a form post, once (expired or unknown: Google's error page). */
  const takePending = (res: Response, id: string | undefined) => {
    const request = id === undefined ? undefined : state.pendingAuthorizations.get(id);
    if (!request || request.expiresAt.getTime() < options.now().getTime()) {
      errorPage(res, 400, 'invalid_request', 'This sign-in request has expired. Start again.');
      return undefined;
    }
    state.pendingAuthorizations.delete(request.id);
    // Every pending request was stored by this router, as an Authorization.
    return request as Authorization;
  };

  // The account chooser's answer.
  router.post(APPROVE_PATH, form, (req, res) => {
    const parsed = approveForm.safeParse(req.body ?? {});
    const request = takePending(res, parsed.success ? parsed.data.request : undefined);
    if (!request || !parsed.success) return;
    if (parsed.data.decision === 'deny') {
      redirectTo(res, request.redirectUri, { error: 'access_denied', state: request.state });
      return;
    }
    const user = parsed.data.user === undefined ? undefined : state.users.get(parsed.data.user);
    if (!user) {
      errorPage(res, 400, 'invalid_request', 'Choose an account.');
      return;
    }
    continueAs(res, request, user);
  });

  // The consent screen's answer: the ticked scopes (and the Sign-In scopes) are granted.
  router.post(CONSENT_PATH, form, (req, res) => {
    const parsed = consentForm.safeParse(req.body ?? {});
    const request = takePending(res, parsed.success ? parsed.data.request : undefined);
    if (!request || !parsed.success) return;
    const userId = pendingUsers.get(request.id);
    pendingUsers.delete(request.id);
    const user = userId === undefined ? undefined : state.users.get(userId);
    if (!user) {
      errorPage(res, 400, 'invalid_request', 'This sign-in request has expired. Start again.');
      return;
    }
    if (parsed.data.decision === 'deny') {
      redirectTo(res, request.redirectUri, { error: 'access_denied', state: request.state });
      return;
    }
    const raw = parsed.data.scope;
    const ticked = new Set(raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]);
    const granted = request.scopes.filter(
      (scope) => SIGN_IN_SCOPES.includes(scope) || ticked.has(scope),
    );
    redirectWithCode(res, request, user, granted, true);
  });

  // ---- token endpoint -----------------------------------------------------------------------

  const signIdToken = async (
    client: OAuthClient,
    user: GoogleUser,
    scopes: readonly string[],
    accessToken: string,
    nonce: string | undefined,
  ): Promise<string> => {
    const iat = Math.floor(options.now().getTime() / 1000);
    const digest = createHash('sha256').update(accessToken, 'ascii').digest();
    const claims: Record<string, unknown> = {
      iss: options.issuer,
      azp: client.clientId,
      aud: client.clientId,
      sub: user.id,
      ...(user.hostedDomain ? { hd: user.hostedDomain } : {}),
      ...(hasScope(scopes, 'email')
        ? { email: user.email, email_verified: user.emailVerified }
        : {}),
      at_hash: digest.subarray(0, digest.length / 2).toString('base64url'),
      ...(nonce === undefined ? {} : { nonce }),
      ...(hasScope(scopes, 'profile')
        ? {
            name: `${user.givenName} ${user.familyName}`,
            given_name: user.givenName,
            family_name: user.familyName,
          }
        : {}),
      iat,
      exp: iat + options.idTokenLifetimeSeconds,
    };
    state.issuedIdTokens.push(claims);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: keys.kid, typ: 'JWT' })
      .sign(keys.privateKey);
  };

  router.post('/token', googleGuard(ctx, 'token'), form, express.json(), async (req, res) => {
    state.counters.tokenRequests++;
    res.set('Cache-Control', 'no-cache, no-store, max-age=0, must-revalidate');
    const fail = (status: number, error: string, description: string): void => {
      res.status(status).json({ error, error_description: description });
    };
    const parsed = tokenForm.safeParse(req.body ?? {});
    if (!parsed.success) {
      fail(400, 'invalid_request', 'Invalid request parameters.');
      return;
    }
    const body = parsed.data;

    // Client authentication: client_secret_basic (RFC 6749 §2.3.1, form-encoded) or _post.
    let clientId = body.client_id;
    let clientSecret = body.client_secret;
    const basic = /^Basic\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (basic?.[1]) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) {
        fail(401, 'invalid_client', 'Unauthorized');
        return;
      }
      clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
      clientSecret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
    }
    const client = clientId === undefined ? undefined : state.clients.get(clientId);
    if (!client) {
      fail(401, 'invalid_client', 'The OAuth client was not found.');
      return;
    }
    if (clientSecret === undefined || !sameSecret(clientSecret, client.clientSecret)) {
      fail(401, 'invalid_client', 'Unauthorized');
      return;
    }

    const grantType = body.grant_type ?? '';
    switch (grantType) {
      case 'authorization_code': {
        if (!body.code) {
          fail(400, 'invalid_request', 'Missing required parameter: code');
          return;
        }
        const code = state.codes.get(body.code);
        if (
          !code ||
          code.used ||
          code.clientId !== client.clientId ||
          code.expiresAt.getTime() < options.now().getTime()
        ) {
          fail(400, 'invalid_grant', 'Bad Request');
          return;
        }
        if (body.redirect_uri !== code.redirectUri) {
          fail(400, 'redirect_uri_mismatch', 'Bad Request');
          return;
        }
        if (code.codeChallenge !== undefined) {
          if (!body.code_verifier) {
            fail(400, 'invalid_grant', 'Missing code verifier.');
            return;
          }
          const computed =
            code.codeChallengeMethod === 'S256' ? s256(body.code_verifier) : body.code_verifier;
          if (computed !== code.codeChallenge) {
            fail(400, 'invalid_grant', 'Invalid code verifier.');
            return;
          }
        }
        code.used = true;
        const user = state.users.get(code.userId);
        if (!user) {
          fail(400, 'invalid_grant', 'Account has been deleted');
          return;
        }
        // Google adds a refresh token only when this authorization showed the consent screen
        // (first consent, new scopes, or prompt=consent) and asked for offline access.
        const refresh =
          code.offline && consents.consentedCodes.delete(code.code)
            ? state.issueRefreshToken(client.clientId, user.id, code.scopes)
            : undefined;
        const access = state.issueAccessToken({
          clientId: client.clientId,
          userId: user.id,
          scopes: code.scopes,
          lifetimeSeconds: options.accessTokenLifetimeSeconds,
          refreshToken: refresh?.token,
        });
        res.json({
          access_token: access.token,
          expires_in: options.accessTokenLifetimeSeconds,
          ...(refresh ? { refresh_token: refresh.token } : {}),
          scope: code.scopes.join(' '),
          token_type: 'Bearer',
          ...(code.scopes.includes('openid')
            ? { id_token: await signIdToken(client, user, code.scopes, access.token, code.nonce) }
            : {}),
        });
        return;
      }
      case 'refresh_token': {
        if (!body.refresh_token) {
          fail(400, 'invalid_request', 'Missing required parameter: refresh_token');
          return;
        }
        const grant = state.refreshGrants.get(body.refresh_token);
        if (!grant || grant.revoked || !state.users.has(grant.userId)) {
          fail(400, 'invalid_grant', 'Token has been expired or revoked.');
          return;
        }
        if (grant.clientId !== client.clientId) {
          fail(401, 'unauthorized_client', 'Unauthorized');
          return;
        }
        const user = state.user(grant.userId);
        // Test hook: a rotated refresh token, answered without `scope`.
        const rotated = consents.rotateRefreshTokens
          ? state.issueRefreshToken(client.clientId, user.id, grant.scopes)
          : undefined;
        if (rotated) grant.revoked = true;
        const access = state.issueAccessToken({
          clientId: client.clientId,
          userId: user.id,
          scopes: grant.scopes,
          lifetimeSeconds: options.accessTokenLifetimeSeconds,
          refreshToken: rotated?.token ?? grant.token,
        });
        // Google keeps the refresh token (no rotation) and sends a fresh id_token without nonce.
        res.json({
          access_token: access.token,
          expires_in: options.accessTokenLifetimeSeconds,
          ...(rotated ? { refresh_token: rotated.token } : { scope: grant.scopes.join(' ') }),
          token_type: 'Bearer',
          ...(grant.scopes.includes('openid')
            ? { id_token: await signIdToken(client, user, grant.scopes, access.token, undefined) }
            : {}),
        });
        return;
      }
      default:
        fail(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType}`);
    }
  });

  // ---- userinfo and revocation --------------------------------------------------------------

  const userinfo = (req: Request, res: Response): void => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    const token = match?.[1] === undefined ? undefined : state.accessTokens.get(match[1]);
    const user = token ? state.users.get(token.userId) : undefined;
    if (!token || !user || token.revoked || token.expiresAt.getTime() <= options.now().getTime()) {
      res.set(
        'WWW-Authenticate',
        'Bearer realm="https://accounts.google.com/", error="invalid_token"',
      );
      res.status(401).json({ error: 'invalid_request', error_description: 'Invalid Credentials' });
      return;
    }
    res.json({
      sub: user.id,
      ...(hasScope(token.scopes, 'profile')
        ? {
            name: `${user.givenName} ${user.familyName}`,
            given_name: user.givenName,
            family_name: user.familyName,
          }
        : {}),
      ...(hasScope(token.scopes, 'email')
        ? { email: user.email, email_verified: user.emailVerified }
        : {}),
      ...(user.hostedDomain ? { hd: user.hostedDomain } : {}),
    });
  };
  router.get('/v1/userinfo', userinfo);
  router.post('/v1/userinfo', userinfo);
  router.get('/oauth2/v3/userinfo', userinfo);

  router.post('/revoke', form, (req, res) => {
    const fromBody: unknown = (req.body as Record<string, unknown> | undefined)?.token;
    const fromQuery: unknown = req.query.token;
    const token =
      typeof fromBody === 'string' ? fromBody : typeof fromQuery === 'string' ? fromQuery : '';
    const grant = state.refreshGrants.get(token);
    const access = state.accessTokens.get(token);
    // Revoking either token of a grant revokes the whole grant (Google's documented behaviour).
    const refreshToken = grant?.token ?? access?.refreshToken;
    if ((!grant || grant.revoked) && (!access || access.revoked)) {
      res
        .status(400)
        .json({ error: 'invalid_token', error_description: 'Token expired or revoked' });
      return;
    }
    if (access) access.revoked = true;
    if (refreshToken !== undefined) {
      const owner = state.refreshGrants.get(refreshToken);
      if (owner) {
        owner.revoked = true;
        for (const other of state.accessTokens.values()) {
          if (other.refreshToken === refreshToken) other.revoked = true;
        }
        state.consents.delete(`${owner.userId}|${owner.clientId}`);
      }
    }
    res.status(200).json({});
  });

  return router;
}
