import { createHash, createHmac, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as oidc from 'openid-client';
import type { AreaDeps } from '../area-deps.ts';
import type { FetchFunction } from '../lti/http.ts';
import { createPinnedFetch } from '../net/pinned-fetch.ts';
import { createPeopleRepository, type PeopleRepository } from '../storage/lti/people.repository.ts';
import {
  createDeletionRecordRepository,
  createPersonHasher,
  type DeletionRecordRepository,
} from '../storage/privacy/deletion-records.repository.ts';
import {
  createTenantRepository,
  type TenantRepository,
} from '../storage/lti/tenants.repository.ts';
import {
  createRememberedSignInRepository,
  type RememberedSignInRepository,
} from '../storage/classroom/remembered-sign-ins.repository.ts';
import {
  createClassroomRepository,
  type ClassroomInstall,
  type ClassroomRepository,
} from '../storage/classroom/classroom.repository.ts';
import { createClassroomApi, type ClassroomApi } from './api.ts';
import { ClassroomError } from './errors.ts';
import { createGoogleHttp, type GoogleHttp } from './google-http.ts';
import { clientSecretLabel, openSecret, refreshTokenLabel, sealSecret } from './secrets.ts';
import {
  CLASSROOM_API_BASE,
  discover,
  GOOGLE_ISSUER,
  isLoopbackHttp,
  refreshAccess,
  RefreshTokenRevoked,
} from './sign-in.ts';

/**
 * What every Classroom use case shares, built once per services instance: the stores, the fetch for
 * each Google address, the key that signs launch parameters, and the caches of OIDC configurations
 * and access tokens. Also the Google access built on them (configuration, access token, API per
 * user), as plain functions of the context.
 */

export const CLASSROOM_USER_AGENT = 'MasteryPathways/0.1 (+https://github.com/mastery-pathways)';

/** LIS roles recorded for Classroom people, so sessions and enrollments read as for LTI. */
export const CLASSROOM_ROLE_URIS = {
  teacher: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor',
  student: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner',
} as const;

export const NEEDS_SIGN_IN_REASON =
  'Google refused the stored teacher sign-in (revoked or expired).';

export const token = (): string => randomBytes(32).toString('base64url');

export const completionHash = (completion: string): string =>
  createHash('sha256').update(completion, 'utf8').digest('hex');

export const TOKEN_SHAPE = /^[A-Za-z0-9_-]{20,200}$/;

export interface ClassroomContext {
  readonly now: () => Date;
  readonly keyEncryptionSecret: string;
  readonly repository: ClassroomRepository;
  readonly remembered: RememberedSignInRepository;
  readonly people: PeopleRepository;
  readonly tenants: TenantRepository;
  /** People the district deleted on request are not made again by a Google sign-in. */
  readonly deletionRecords: DeletionRecordRepository;
  /** The deployment's fetch, for Google's own addresses. */
  readonly fetch: FetchFunction;
  /** For configured addresses: never a private address. */
  readonly pinnedPublic: FetchFunction;
  /** For a configured loopback http URL (accepted only when the tool itself runs there). */
  readonly pinnedLoopback: FetchFunction;
  /** One Google HTTP client per fetch. */
  readonly googleHttps: Map<FetchFunction, GoogleHttp>;
  /** Signs the launch parameters carried between the entry page and the start of sign-in. */
  readonly launchKey: Buffer;
  /** OIDC configuration per install (and its settings' version). */
  readonly configurations: Map<string, Promise<oidc.Configuration>>;
  /** Access tokens per district and user. */
  readonly accessTokens: Map<string, { token: string; expiresAt: Date }>;
}

function httpFor(now: () => Date, fetchImpl: FetchFunction): GoogleHttp {
  return createGoogleHttp({
    fetch: fetchImpl,
    userAgent: CLASSROOM_USER_AGENT,
    sleep: (ms) => sleep(ms),
    random: Math.random,
    now,
  });
}

export function createClassroomContext(deps: AreaDeps): ClassroomContext {
  const { db, now } = deps;
  // Google's own addresses use the deployment's fetch. A configured (operator-set) address goes
  // through the pinned fetch: never a private address, loopback only for a loopback http URL
  // (which the admin page accepts only when the tool itself runs on loopback http).
  const pinnedPublic = createPinnedFetch({ allowLoopback: false });
  const pinnedLoopback = createPinnedFetch({ allowLoopback: true });
  return {
    now,
    keyEncryptionSecret: deps.keyEncryptionSecret,
    repository: createClassroomRepository(db, now),
    remembered: createRememberedSignInRepository(db, now),
    people: createPeopleRepository(db, now),
    tenants: createTenantRepository(db),
    // People the district deleted on request are not made again by a Google sign-in (docs/privacy.md).
    deletionRecords: createDeletionRecordRepository(
      db,
      createPersonHasher(deps.db, deps.keyEncryptionSecret),
    ),
    fetch: deps.fetch,
    pinnedPublic,
    pinnedLoopback,
    googleHttps: new Map(
      [deps.fetch, pinnedPublic, pinnedLoopback].map((f) => [f, httpFor(now, f)]),
    ),
    launchKey: createHmac('sha256', deps.keyEncryptionSecret)
      .update('mastery-pathways:classroom-launch:v1')
      .digest(),
    // Per services instance (never module state).
    configurations: new Map(),
    accessTokens: new Map(),
  };
}

export function fetchFor(ctx: ClassroomContext, url: string, googleDefault: string): FetchFunction {
  if (url === googleDefault) return ctx.fetch;
  return isLoopbackHttp(url) ? ctx.pinnedLoopback : ctx.pinnedPublic;
}

export function googleHttpFor(ctx: ClassroomContext, apiBaseUrl: string): GoogleHttp {
  const fetchImpl = fetchFor(ctx, apiBaseUrl, CLASSROOM_API_BASE);
  return ctx.googleHttps.get(fetchImpl) ?? httpFor(ctx.now, fetchImpl);
}

export function configurationFor(
  ctx: ClassroomContext,
  install: ClassroomInstall,
): Promise<oidc.Configuration> {
  const key = `${install.id}|${install.updatedAt.toISOString()}`;
  let found = ctx.configurations.get(key);
  if (found === undefined) {
    found = discover({
      issuer: install.issuer,
      clientId: install.clientId,
      clientSecret: openSecret(
        install.encryptedClientSecret,
        clientSecretLabel(install.tenantId),
        ctx.keyEncryptionSecret,
      ),
      fetch: fetchFor(ctx, install.issuer, GOOGLE_ISSUER),
    });
    // A failed discovery is not cached: the next request tries again.
    found.catch(() => ctx.configurations.delete(key));
    ctx.configurations.set(key, found);
  }
  return found;
}

export async function installFor(
  ctx: ClassroomContext,
  tenantId: string,
): Promise<ClassroomInstall> {
  const install = await ctx.repository.findInstall(tenantId);
  if (install === undefined) throw new ClassroomError('not_configured');
  return install;
}

/** Google's token endpoint answered `invalid_client` (RFC 6749 §5.2): the client secret is wrong. */
function isInvalidClient(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'error' in error &&
    error.error === 'invalid_client'
  );
}

/** A fresh access token for a user: cached, else refreshed with their stored refresh token. */
export async function accessTokenFor(
  ctx: ClassroomContext,
  install: ClassroomInstall,
  userId: string,
): Promise<string> {
  const { repository } = ctx;
  const key = `${install.tenantId}|${userId}`;
  const cached = ctx.accessTokens.get(key);
  // A minute of margin: a token must not expire between here and Google.
  if (cached !== undefined && cached.expiresAt.getTime() - 60_000 > ctx.now().getTime()) {
    return cached.token;
  }
  // Google refused the client secret before: no call with it until a new one is saved.
  if (install.clientRejectedAt !== undefined) throw new ClassroomError('client_secret_rejected');
  const stored = await repository.findRefreshToken(install.tenantId, userId);
  if (stored === undefined || stored.revoked) {
    throw new ClassroomError('needs_teacher_sign_in', { detail: 'no usable refresh token' });
  }
  const label = refreshTokenLabel(install.tenantId, userId);
  const refreshToken = openSecret(stored.encrypted, label, ctx.keyEncryptionSecret);
  try {
    const refreshed = await refreshAccess(
      await configurationFor(ctx, install),
      refreshToken,
      ctx.now(),
    );
    if (refreshed.refreshToken !== undefined && refreshed.refreshToken !== refreshToken) {
      await repository.saveRefreshToken({
        tenantId: install.tenantId,
        userId,
        encrypted: sealSecret(refreshed.refreshToken, label, ctx.keyEncryptionSecret),
        // A rotated token keeps the grant: Google's answer may leave `scope` out.
        scopes: refreshed.scopes ?? stored.scopes,
      });
    }
    ctx.accessTokens.set(key, { token: refreshed.accessToken, expiresAt: refreshed.expiresAt });
    return refreshed.accessToken;
  } catch (error) {
    if (error instanceof RefreshTokenRevoked) {
      // Nothing is lost: grades stay queued; the course asks a teacher to sign in again.
      ctx.accessTokens.delete(key);
      await repository.markTokenRevoked(install.tenantId, userId, NEEDS_SIGN_IN_REASON);
      throw new ClassroomError('needs_teacher_sign_in', { cause: error });
    }
    if (isInvalidClient(error)) {
      // An expired or deleted client secret: retrying cannot help, only an administrator can.
      ctx.accessTokens.delete(key);
      await repository.markClientRejected(install.tenantId);
      throw new ClassroomError('client_secret_rejected', { cause: error });
    }
    throw error;
  }
}

/** The Classroom API acting as a user, with their cached or refreshed access token. */
export function apiFor(
  ctx: ClassroomContext,
  install: ClassroomInstall,
  userId: string,
): ClassroomApi {
  return createClassroomApi({
    http: googleHttpFor(ctx, install.apiBaseUrl),
    baseUrl: install.apiBaseUrl,
    accessToken: () => accessTokenFor(ctx, install, userId),
    onUnauthorized: () => ctx.accessTokens.delete(`${install.tenantId}|${userId}`),
  });
}
