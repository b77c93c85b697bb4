import type { Kysely, Selectable } from 'kysely';
import type { PlatformLookup, PlatformRegistration } from '../../lti/login.ts';
import type { Database } from '../schema.ts';
import type { PlatformFlavour, PlatformStatus, PlatformTable } from './schema.ts';

/** Operator-level: platforms hold no district data, so they carry no tenant_id. */
export interface Platform {
  readonly id: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly name: string;
  readonly flavour: PlatformFlavour;
  readonly authLoginUrl: string;
  readonly authTokenUrl: string;
  readonly tokenAudience: string | undefined;
  readonly jwksUrl: string;
  readonly status: PlatformStatus;
  readonly captureFirstDeployment: boolean;
  readonly defaultTenantId: string | undefined;
  /** Web origins the LMS frames the tool from (Canvas: https://district.instructure.com). */
  readonly frameOrigins: readonly string[];
  readonly createdAt: Date;
}

export interface NewPlatform {
  readonly issuer: string;
  readonly clientId: string;
  readonly name: string;
  readonly flavour: PlatformFlavour;
  readonly authLoginUrl: string;
  readonly authTokenUrl: string;
  readonly tokenAudience?: string | undefined;
  readonly jwksUrl: string;
  readonly status?: PlatformStatus;
  readonly captureFirstDeployment?: boolean;
  readonly defaultTenantId?: string | undefined;
}

function toPlatform(row: Selectable<PlatformTable>): Platform {
  return {
    id: row.id,
    issuer: row.issuer,
    clientId: row.client_id,
    name: row.name,
    flavour: row.flavour,
    authLoginUrl: row.auth_login_url,
    authTokenUrl: row.auth_token_url,
    tokenAudience: row.token_audience ?? undefined,
    jwksUrl: row.jwks_url,
    status: row.status,
    captureFirstDeployment: row.capture_first_deployment,
    defaultTenantId: row.default_tenant_id ?? undefined,
    frameOrigins: row.frame_origins,
    createdAt: row.created_at,
  };
}

export function toRegistration(platform: Platform): PlatformRegistration {
  return {
    issuer: platform.issuer,
    clientId: platform.clientId,
    authorizationEndpoint: platform.authLoginUrl,
    tokenEndpoint: platform.authTokenUrl,
    jwksUrl: platform.jwksUrl,
    tokenAudience: platform.tokenAudience,
  };
}

export function createPlatformRepository(db: Kysely<Database>) {
  return {
    async create(input: NewPlatform): Promise<Platform> {
      const row = await db
        .insertInto('platforms')
        .values({
          issuer: input.issuer,
          client_id: input.clientId,
          name: input.name,
          flavour: input.flavour,
          auth_login_url: input.authLoginUrl,
          auth_token_url: input.authTokenUrl,
          token_audience: input.tokenAudience ?? null,
          jwks_url: input.jwksUrl,
          status: input.status ?? 'active',
          capture_first_deployment: input.captureFirstDeployment ?? false,
          default_tenant_id: input.defaultTenantId ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toPlatform(row);
    },

    async list(): Promise<Platform[]> {
      const rows = await db
        .selectFrom('platforms')
        .selectAll()
        .orderBy('issuer')
        .orderBy('client_id')
        .execute();
      return rows.map(toPlatform);
    },

    async findById(id: string): Promise<Platform | undefined> {
      const row = await db
        .selectFrom('platforms')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row === undefined ? undefined : toPlatform(row);
    },

    async findByIssuerAndClient(issuer: string, clientId: string): Promise<Platform | undefined> {
      const row = await db
        .selectFrom('platforms')
        .selectAll()
        .where('issuer', '=', issuer)
        .where('client_id', '=', clientId)
        .executeTakeFirst();
      return row === undefined ? undefined : toPlatform(row);
    },

    /**
     * Registrations of an issuer waiting for approval (at most `limit`): a login without
     * `client_id` names only its issuer, and one waiting registration is enough to answer it.
     */
    async listPendingByIssuer(issuer: string, limit: number): Promise<Platform[]> {
      const rows = await db
        .selectFrom('platforms')
        .selectAll()
        .where('issuer', '=', issuer)
        .where('status', '=', 'pending')
        .orderBy('client_id')
        .limit(limit)
        .execute();
      return rows.map(toPlatform);
    },

    /** Approves a dynamic registration (or sets the capture policy). */
    async update(
      id: string,
      changes: {
        status?: PlatformStatus;
        captureFirstDeployment?: boolean;
        defaultTenantId?: string | null;
      },
    ): Promise<boolean> {
      const result = await db
        .updateTable('platforms')
        .set({
          ...(changes.status === undefined ? {} : { status: changes.status }),
          ...(changes.captureFirstDeployment === undefined
            ? {}
            : { capture_first_deployment: changes.captureFirstDeployment }),
          ...(changes.defaultTenantId === undefined
            ? {}
            : { default_tenant_id: changes.defaultTenantId }),
        })
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /** Refuses (foreign key) while deployments still point at the platform: remove those first. */
    async remove(id: string): Promise<boolean> {
      const result = await db.deleteFrom('platforms').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async countDeployments(id: string): Promise<number> {
      const row = await db
        .selectFrom('deployments')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('platform_id', '=', id)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

export type PlatformRepository = ReturnType<typeof createPlatformRepository>;

/** How long a found registration is reused before the database is asked again. */
export const REGISTRATION_CACHE_TTL_MS = 5_000;

/**
 * `PlatformLookup` for the login and launch checklists: pending registrations never launch.
 *
 * Every login and launch needs its platform, so found registrations are kept for a few seconds per
 * lookup object (one per app: no module state). Only registrations that exist are kept: an unknown
 * issuer, or a client id the kept list lacks (`refresh`), asks the database, so a platform added or
 * approved is usable at once. A registration removed or set to pending may still be found for up to
 * the TTL; it cannot launch anyway: the login state insert needs its row and the launch record
 * re-checks that the platform is active in the same statement.
 */
export function createPlatformLookup(
  db: Kysely<Database>,
  options: { ttlMs?: number; clock?: () => number } = {},
): PlatformLookup & {
  refresh(issuer: string): Promise<readonly PlatformRegistration[]>;
  /** Drops everything kept: call after an admin changes or removes a registration in this app. */
  forget(): void;
} {
  const ttlMs = options.ttlMs ?? REGISTRATION_CACHE_TTL_MS;
  const clock = options.clock ?? (() => performance.now());
  const kept = new Map<
    string,
    { readonly until: number; readonly registrations: Promise<readonly PlatformRegistration[]> }
  >();
  const query = async (issuer: string): Promise<readonly PlatformRegistration[]> => {
    const rows = await db
      .selectFrom('platforms')
      .selectAll()
      .where('issuer', '=', issuer)
      .where('status', '=', 'active')
      .orderBy('created_at')
      .execute();
    return rows.map((row) => toRegistration(toPlatform(row)));
  };
  const refresh = (issuer: string): Promise<readonly PlatformRegistration[]> => {
    // Concurrent requests for one issuer share one query.
    const registrations = query(issuer);
    kept.set(issuer, { until: clock() + ttlMs, registrations });
    registrations.then(
      (found) => {
        if (found.length === 0 && kept.get(issuer)?.registrations === registrations) {
          kept.delete(issuer);
        }
      },
      () => {
        if (kept.get(issuer)?.registrations === registrations) kept.delete(issuer);
      },
    );
    return registrations;
  };
  return {
    findByIssuer(issuer) {
      const entry = kept.get(issuer);
      if (entry !== undefined && entry.until > clock()) return entry.registrations;
      if (entry !== undefined) kept.delete(issuer);
      return refresh(issuer);
    },
    refresh,
    forget() {
      kept.clear();
    },
  };
}
