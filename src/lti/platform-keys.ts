import { importJWK } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { LmsHttpError, LtiError } from './errors.ts';
import type { LmsHttpClient } from './http.ts';

/**
 * Platform public keys, fetched by URL and cached per key set URL. Platforms rotate keys (Schoology's
 * change), so an unknown `kid` forces one refetch, but at most once per cooldown per key set: otherwise
 * anyone could make us hammer the LMS by sending tokens with random kids.
 */
export interface PlatformKeysOptions {
  readonly http: LmsHttpClient;
  readonly now: () => Date;
  readonly ttlMs?: number;
  readonly refreshCooldownMs?: number;
}

export interface PlatformKeys {
  /** A jose key resolver for one platform's key set URL, for `jwtVerify`. */
  resolverFor(jwksUrl: string): JWTVerifyGetKey;
  /** Finds the RS256 verification key for a kid, refreshing once when the kid is unknown. */
  getKey(jwksUrl: string, kid: string | undefined): Promise<CryptoKey>;
}

const jwkSchema = z.looseObject({
  kty: z.string(),
  kid: z.string().optional(),
  alg: z.string().optional(),
  use: z.string().optional(),
  n: z.string().optional(),
  e: z.string().optional(),
});

const jwksSchema = z.looseObject({ keys: z.array(z.unknown()) });

type PlatformJwk = z.infer<typeof jwkSchema>;

interface CachedKeySet {
  readonly fetchedAt: number;
  /** Only keys usable for RS256 signatures; others (EC, encryption keys) are left out on purpose. */
  readonly keys: readonly PlatformJwk[];
  readonly imported: Map<string, Promise<CryptoKey>>;
}

function usableForRs256(jwk: PlatformJwk): boolean {
  return (
    jwk.kty === 'RSA' &&
    (jwk.alg === undefined || jwk.alg === 'RS256') &&
    (jwk.use === undefined || jwk.use === 'sig') &&
    jwk.n !== undefined &&
    jwk.e !== undefined
  );
}

export function createPlatformKeys(options: PlatformKeysOptions): PlatformKeys {
  const ttlMs = options.ttlMs ?? 10 * 60_000;
  const refreshCooldownMs = options.refreshCooldownMs ?? 60_000;
  const cache = new Map<string, CachedKeySet>();
  const inFlight = new Map<string, Promise<CachedKeySet>>();

  async function download(jwksUrl: string): Promise<CachedKeySet> {
    let body: string;
    try {
      // No retries: a launch is waiting, and the user can simply relaunch.
      body = (
        await options.http.request({
          url: jwksUrl,
          headers: { Accept: 'application/json' },
          maxRetries: 0,
        })
      ).body;
    } catch (error) {
      if (error instanceof LmsHttpError) {
        throw new LtiError('jwks_unavailable', {
          detail: `${jwksUrl}: ${error.message}`,
          cause: error,
        });
      }
      throw error;
    }
    let parsedJson: unknown;
    try {
      parsedJson = JSON.parse(body);
    } catch (error) {
      throw new LtiError('jwks_unavailable', {
        detail: `${jwksUrl} did not return JSON`,
        cause: error,
      });
    }
    const parsed = jwksSchema.safeParse(parsedJson);
    if (!parsed.success) {
      throw new LtiError('jwks_unavailable', {
        detail: `${jwksUrl} is not a JWKS`,
        cause: parsed.error,
      });
    }
    const keys = parsed.data.keys.flatMap((candidate) => {
      const jwk = jwkSchema.safeParse(candidate);
      return jwk.success && usableForRs256(jwk.data) ? [jwk.data] : [];
    });
    return { fetchedAt: options.now().getTime(), keys, imported: new Map() };
  }

  /** Concurrent launches that miss the cache share one download. */
  async function refresh(jwksUrl: string): Promise<CachedKeySet> {
    const pending = inFlight.get(jwksUrl);
    if (pending !== undefined) return pending;
    const download$ = download(jwksUrl).then((keySet) => {
      cache.set(jwksUrl, keySet);
      return keySet;
    });
    inFlight.set(jwksUrl, download$);
    try {
      return await download$;
    } finally {
      inFlight.delete(jwksUrl);
    }
  }

  function find(keySet: CachedKeySet, kid: string | undefined): PlatformJwk | undefined {
    // A token without kid is acceptable only when the key set leaves no doubt which key is meant.
    if (kid === undefined) return keySet.keys.length === 1 ? keySet.keys[0] : undefined;
    return keySet.keys.find((key) => key.kid === kid);
  }

  function importKey(keySet: CachedKeySet, jwk: PlatformJwk): Promise<CryptoKey> {
    const cacheKey = jwk.kid ?? '';
    let imported = keySet.imported.get(cacheKey);
    if (imported === undefined) {
      imported = importJWK({ ...jwk, alg: 'RS256' }, 'RS256').then((key) => {
        if (key instanceof Uint8Array)
          throw new LtiError('unsupported_alg', { detail: 'symmetric key in JWKS' });
        return key;
      });
      keySet.imported.set(cacheKey, imported);
    }
    return imported;
  }

  async function getKey(jwksUrl: string, kid: string | undefined): Promise<CryptoKey> {
    const now = options.now().getTime();
    const cached = cache.get(jwksUrl);
    let keySet: CachedKeySet;
    let fresh = false;
    if (cached === undefined) {
      keySet = await refresh(jwksUrl);
      fresh = true;
    } else if (now - cached.fetchedAt >= ttlMs) {
      try {
        keySet = await refresh(jwksUrl);
        fresh = true;
      } catch (error) {
        // A platform JWKS outage should not stop launches signed with keys we already hold.
        if (!(error instanceof LtiError)) throw error;
        keySet = cached;
      }
    } else {
      keySet = cached;
    }
    let jwk = find(keySet, kid);
    if (jwk === undefined && !fresh && now - keySet.fetchedAt >= refreshCooldownMs) {
      keySet = await refresh(jwksUrl);
      jwk = find(keySet, kid);
    }
    if (jwk === undefined) {
      throw new LtiError('unknown_kid', { detail: `kid ${kid ?? '(none)'} not in ${jwksUrl}` });
    }
    return importKey(keySet, jwk);
  }

  return {
    getKey,
    resolverFor(jwksUrl) {
      return async (header) => getKey(jwksUrl, header.kid);
    },
  };
}
