import { z } from 'zod';
import { LmsHttpError, LtiError } from './errors.ts';
import type { LmsHttpClient } from './http.ts';
import type { ToolSigner } from './tool-keys.ts';

/** What the token client needs to know about a platform registration. */
export interface TokenPlatform {
  readonly issuer: string;
  readonly clientId: string;
  readonly tokenEndpoint: string;
  /**
   * Some platforms want a different `aud` in the client assertion than the token endpoint URL
   * (Dynamic Registration's `authorization_server`). See `clientAssertionAudience`.
   */
  readonly tokenAudience?: string | undefined;
}

/**
 * The `aud` of a client assertion. A platform's `authorization_server` that is a URL is used as
 * it is. Canvas publishes a bare host there (`sso.canvaslms.com`) yet checks that `aud` holds its
 * token URL (canvas-lms `lib/canvas/oauth/client_credentials_provider.rb`: `expected_aud` is
 * `oauth2_token_url`), so a value that is not a URL travels beside the token endpoint, never alone.
 */
export function clientAssertionAudience(platform: TokenPlatform): string | string[] {
  const audience = platform.tokenAudience;
  if (audience === undefined || audience === '' || audience === platform.tokenEndpoint) {
    return platform.tokenEndpoint;
  }
  return /^https?:\/\//i.test(audience) ? audience : [platform.tokenEndpoint, audience];
}

export interface TokenClientOptions {
  readonly http: LmsHttpClient;
  readonly signer: ToolSigner;
  readonly now: () => Date;
  /** Unique `jti` per assertion (LTI Security Framework §4.1: the platform may reject reused jti). */
  readonly randomId: () => string;
  /** Tokens are reused until this long before they expire. */
  readonly refreshBeforeExpirySeconds?: number;
  /** Client assertion lifetime (the spec suggests about 5 minutes). */
  readonly assertionLifetimeSeconds?: number;
}

export interface AccessToken {
  readonly accessToken: string;
  readonly expiresAt: Date;
  readonly scopes: readonly string[];
}

export interface TokenClient {
  getAccessToken(platform: TokenPlatform, scopes: readonly string[]): Promise<AccessToken>;
}

const tokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string(),
  expires_in: z.coerce.number().positive().optional(),
  scope: z.string().optional(),
});

const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** When the platform does not say how long the token lives: the common one hour. */
const DEFAULT_EXPIRES_IN_SECONDS = 3600;

/**
 * OAuth 2.0 client credentials grant with a signed JWT assertion (RFC 7523; LTI Security Framework
 * §4.1). Tokens are cached per (platform, sorted scopes) inside this client instance, and concurrent
 * requests for the same key share one call so a class of 30 students does not cost 30 token requests.
 */
export function createTokenClient(options: TokenClientOptions): TokenClient {
  const refreshBeforeMs = (options.refreshBeforeExpirySeconds ?? 60) * 1000;
  const assertionLifetime = options.assertionLifetimeSeconds ?? 300;
  const cache = new Map<string, AccessToken>();
  const inFlight = new Map<string, Promise<AccessToken>>();

  async function requestToken(
    platform: TokenPlatform,
    scopes: readonly string[],
  ): Promise<AccessToken> {
    const issuedAt = Math.floor(options.now().getTime() / 1000);
    const assertion = await options.signer({
      iss: platform.clientId,
      sub: platform.clientId,
      aud: clientAssertionAudience(platform),
      iat: issuedAt,
      exp: issuedAt + assertionLifetime,
      jti: options.randomId(),
    });
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: assertion,
      scope: scopes.join(' '),
    });
    let body: string;
    try {
      const response = await options.http.request({
        method: 'POST',
        url: platform.tokenEndpoint,
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Accept: 'application/json',
        },
        body: form.toString(),
        // Asking again for a token has no side effect on the platform.
        idempotent: true,
      });
      body = response.body;
    } catch (error) {
      if (error instanceof LmsHttpError) {
        throw new LtiError('token_request_failed', {
          detail: `${platform.tokenEndpoint}: ${error.message} ${error.bodyExcerpt}`,
          cause: error,
        });
      }
      throw error;
    }
    let parsedJson: unknown;
    try {
      parsedJson = JSON.parse(body);
    } catch (error) {
      throw new LtiError('token_request_failed', {
        detail: 'token response is not JSON',
        cause: error,
      });
    }
    const parsed = tokenResponseSchema.safeParse(parsedJson);
    if (!parsed.success) {
      throw new LtiError('token_request_failed', {
        detail: parsed.error.message,
        cause: parsed.error,
      });
    }
    const expiresIn = parsed.data.expires_in ?? DEFAULT_EXPIRES_IN_SECONDS;
    return {
      accessToken: parsed.data.access_token,
      expiresAt: new Date(options.now().getTime() + expiresIn * 1000),
      scopes:
        parsed.data.scope === undefined ? scopes : parsed.data.scope.split(' ').filter(Boolean),
    };
  }

  return {
    async getAccessToken(platform, scopes) {
      const sortedScopes = [...new Set(scopes)].sort();
      const key = JSON.stringify([
        platform.issuer,
        platform.clientId,
        platform.tokenEndpoint,
        sortedScopes,
      ]);
      const cached = cache.get(key);
      if (
        cached !== undefined &&
        cached.expiresAt.getTime() - refreshBeforeMs > options.now().getTime()
      ) {
        return cached;
      }
      const pending = inFlight.get(key);
      if (pending !== undefined) return pending;
      const request = requestToken(platform, sortedScopes);
      inFlight.set(key, request);
      try {
        const token = await request;
        cache.set(key, token);
        return token;
      } finally {
        inFlight.delete(key);
      }
    },
  };
}
