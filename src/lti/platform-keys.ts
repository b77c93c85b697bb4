import { importJWK } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { LmsHttpError, LtiError } from './errors.ts';
import type { LmsHttpClient } from './http.ts';

/**
 * Platform public keys, fetched by URL and cached per key set URL (one per platform). Platforms rotate
 * keys (Schoology's change), so an unknown `kid` refetches the key set at once, however recently it
 * was fetched, and only then is the launch refused. Those refetches are rate-limited per key set
 * (`refreshCooldownMs` between two of them): otherwise anyone could make us hammer an LMS by sending
 * tokens with random kids, while another platform's rotation is never held up by it. A key set that
 * could not be fetched is not asked for again within that same cooldown: launches meanwhile use the
 * keys already held, or are refused at once, so an LMS whose key set is down is not hit per launch.
 */
export interface PlatformKeysOptions {
  readonly http: LmsHttpClient;
  readonly now: () => Date;
  readonly ttlMs?: number;
  /** Least time between two refetches of one key set forced by unknown kids. Default 10 s. */
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

/** The caches and settings of one `createPlatformKeys`, passed to its named steps below. */
interface KeysState {
  readonly options: PlatformKeysOptions;
  readonly ttlMs: number;
  readonly refreshCooldownMs: number;
  readonly cache: Map<string, CachedKeySet>;
  /** When an unknown kid last made us refetch each key set. */
  readonly forcedAt: Map<string, number>;
  readonly inFlight: Map<string, Promise<CachedKeySet>>;
  /** The last failed fetch of each key set, while it is recent enough to answer for a new one. */
  readonly failed: Map<string, { readonly at: number; readonly error: LtiError }>;
}

/** A fetch of this key set failed under `refreshCooldownMs` ago: its error, to reuse. */
function recentFailure(state: KeysState, jwksUrl: string, now: number): LtiError | undefined {
  const last = state.failed.get(jwksUrl);
  return last !== undefined && now - last.at < state.refreshCooldownMs ? last.error : undefined;
}

async function download(state: KeysState, jwksUrl: string): Promise<CachedKeySet> {
  let body: string;
  try {
    // No retries: a launch is waiting, and the user can simply relaunch.
    body = (
      await state.options.http.request({
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
  return { fetchedAt: state.options.now().getTime(), keys, imported: new Map() };
}

/** Concurrent launches that miss the cache share one download. */
async function refresh(state: KeysState, jwksUrl: string): Promise<CachedKeySet> {
  const pending = state.inFlight.get(jwksUrl);
  if (pending !== undefined) return pending;
  const download$ = download(state, jwksUrl).then(
    (keySet) => {
      state.cache.set(jwksUrl, keySet);
      state.failed.delete(jwksUrl);
      return keySet;
    },
    (error: unknown) => {
      if (error instanceof LtiError) {
        state.failed.set(jwksUrl, { at: state.options.now().getTime(), error });
      }
      throw error;
    },
  );
  state.inFlight.set(jwksUrl, download$);
  try {
    return await download$;
  } finally {
    state.inFlight.delete(jwksUrl);
  }
}

function find(keySet: CachedKeySet, kid: string): PlatformJwk | undefined {
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

/** The key set to look a kid up in: the cached one, refreshed when stale or absent. */
async function currentKeySet(
  state: KeysState,
  jwksUrl: string,
  now: number,
): Promise<{ readonly keySet: CachedKeySet; readonly fresh: boolean }> {
  const cached = state.cache.get(jwksUrl);
  const failure = recentFailure(state, jwksUrl, now);
  if (cached === undefined) {
    if (failure !== undefined) throw failure;
    return { keySet: await refresh(state, jwksUrl), fresh: true };
  }
  if (failure !== undefined) return { keySet: cached, fresh: false };
  if (now - cached.fetchedAt >= state.ttlMs) {
    try {
      return { keySet: await refresh(state, jwksUrl), fresh: true };
    } catch (error) {
      // A platform JWKS outage should not stop launches signed with keys we already hold.
      if (!(error instanceof LtiError)) throw error;
      return { keySet: cached, fresh: false };
    }
  }
  return { keySet: cached, fresh: false };
}

async function getKey(
  state: KeysState,
  jwksUrl: string,
  kid: string | undefined,
): Promise<CryptoKey> {
  // No guessing "the only key": the kid is required (LTI Security Framework §6.3; LMS-NOTES).
  if (kid === undefined || kid === '') {
    throw new LtiError('missing_kid', { detail: `JWT header without kid (${jwksUrl})` });
  }
  const now = state.options.now().getTime();
  const current = await currentKeySet(state, jwksUrl, now);
  let keySet = current.keySet;
  const fresh = current.fresh;
  let jwk = find(keySet, kid);
  let refetched = fresh;
  const lastForced = state.forcedAt.get(jwksUrl);
  // A launch that misses while another's refetch is in flight waits for that one.
  const inFlightNow = state.inFlight.has(jwksUrl);
  if (
    jwk === undefined &&
    !fresh &&
    (inFlightNow || lastForced === undefined || now - lastForced >= state.refreshCooldownMs)
  ) {
    if (!inFlightNow) state.forcedAt.set(jwksUrl, now);
    keySet = await refresh(state, jwksUrl);
    refetched = true;
    jwk = find(keySet, kid);
  }
  if (jwk === undefined) {
    throw new LtiError('unknown_kid', {
      detail: refetched
        ? `kid ${kid} not in ${jwksUrl}, fetched just now`
        : `kid ${kid} not in ${jwksUrl}; not refetched, the last unknown kid made us refetch under ${state.refreshCooldownMs} ms ago`,
      diagnostics: { kid },
    });
  }
  return importKey(keySet, jwk);
}

export function createPlatformKeys(options: PlatformKeysOptions): PlatformKeys {
  const state: KeysState = {
    options,
    ttlMs: options.ttlMs ?? 10 * 60_000,
    refreshCooldownMs: options.refreshCooldownMs ?? 10_000,
    cache: new Map(),
    forcedAt: new Map(),
    inFlight: new Map(),
    failed: new Map(),
  };
  return {
    getKey: (jwksUrl, kid) => getKey(state, jwksUrl, kid),
    resolverFor(jwksUrl) {
      return async (header) => getKey(state, jwksUrl, header.kid);
    },
  };
}
