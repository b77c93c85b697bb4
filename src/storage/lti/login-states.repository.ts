import { sql, type Kysely } from 'kysely';
import type { LoginState, LoginStateStore } from '../../lti/login.ts';
import type { Database } from '../schema.ts';

interface TakenRow {
  state: string;
  nonce: string;
  issuer: string;
  client_id: string;
  deployment_id: string | null;
  target_link_uri: string;
  storage_target: string | null;
  expires_at: Date;
}

export class UnknownPlatformError extends Error {
  readonly code = 'unknown_platform';

  constructor(issuer: string, clientId: string) {
    super(`No platform is registered for issuer ${issuer} and client_id ${clientId}.`);
    this.name = 'UnknownPlatformError';
  }
}

export interface LoginStateRepository extends LoginStateStore {
  /**
   * Without consuming it: where a pending login keeps its browser binding in platform storage
   * (LTI Client Side postMessages), so the launch can ask the LMS frame for it.
   */
  peekStorage(
    state: string,
  ): Promise<{ storageTarget: string; authorizationEndpoint: string } | undefined>;
  /** Deletes expired states (a login that never came back); returns how many. */
  sweepExpired(): Promise<number>;
}

/**
 * OIDC login states, saved and taken once per launch. Both statements start with the
 * `/* prepared *\/` marker: their SQL text never varies, so a pool that names marked statements can
 * have PostgreSQL parse and plan them once per connection (see `acceptLaunch` in the people
 * repository). `take` is one DELETE ... RETURNING, so a state is used at most once even when
 * the same launch is posted twice at the same moment; an expired state is never returned.
 */
export function createLoginStateRepository(
  db: Kysely<Database>,
  now: () => Date,
): LoginStateRepository {
  return {
    async save(state: LoginState) {
      const result = await sql`/* prepared */
        INSERT INTO login_states
          (state, nonce, platform_id, deployment_id, target_link_uri, storage_target, expires_at, created_at)
        SELECT ${state.state}, ${state.nonce}, p.id, ${state.deploymentId ?? null},
          ${state.targetLinkUri}, ${state.storageTarget ?? null}, ${state.expiresAt}, ${now()}
        FROM platforms p WHERE p.issuer = ${state.issuer} AND p.client_id = ${state.clientId}
      `.execute(db);
      if (result.numAffectedRows === 0n)
        throw new UnknownPlatformError(state.issuer, state.clientId);
    },

    async take(state: string) {
      const result = await sql<TakenRow>`/* prepared */
        WITH taken AS (
          DELETE FROM login_states WHERE state = ${state} AND expires_at > ${now()} RETURNING *
        )
        SELECT taken.state, taken.nonce, p.issuer, p.client_id, taken.deployment_id,
          taken.target_link_uri, taken.storage_target, taken.expires_at
        FROM taken JOIN platforms p ON p.id = taken.platform_id
      `.execute(db);
      const row = result.rows[0];
      if (row === undefined) return undefined;
      return {
        state: row.state,
        nonce: row.nonce,
        issuer: row.issuer,
        clientId: row.client_id,
        deploymentId: row.deployment_id ?? undefined,
        targetLinkUri: row.target_link_uri,
        storageTarget: row.storage_target ?? undefined,
        expiresAt: new Date(row.expires_at),
      };
    },

    async peekStorage(state: string) {
      const row = await db
        .selectFrom('login_states as s')
        .innerJoin('platforms as p', 'p.id', 's.platform_id')
        .select(['s.storage_target', 'p.auth_login_url'])
        .where('s.state', '=', state)
        .where('s.expires_at', '>', now())
        .executeTakeFirst();
      if (row === undefined || row.storage_target === null) return undefined;
      return { storageTarget: row.storage_target, authorizationEndpoint: row.auth_login_url };
    },

    async sweepExpired() {
      const result = await db
        .deleteFrom('login_states')
        .where('expires_at', '<=', now())
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
