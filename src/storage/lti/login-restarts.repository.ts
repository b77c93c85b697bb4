import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.ts';

/** What the LMS sent to start a login, kept to start it again at top level (`login_restarts`). */
export interface LoginRestart {
  readonly state: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly deploymentId: string | undefined;
  readonly targetLinkUri: string;
  readonly loginHint: string;
  readonly messageHint: string | undefined;
}

/**
 * The hints of logins made without platform storage. A row lives and dies with its login state
 * (foreign key, ON DELETE CASCADE): taken at the launch, swept when expired.
 */
export function createLoginRestartRepository(db: Kysely<Database>, now: () => Date) {
  return {
    async save(input: {
      state: string;
      loginHint: string;
      messageHint: string | undefined;
    }): Promise<void> {
      await sql`/* prepared */
        INSERT INTO login_restarts (state, login_hint, lti_message_hint)
        VALUES (${input.state}, ${input.loginHint}, ${input.messageHint ?? null})
      `.execute(db);
    },

    /** Without consuming the login: its hints, while the login state is still valid. */
    async peek(state: string): Promise<LoginRestart | undefined> {
      const result = await sql<{
        state: string;
        issuer: string;
        client_id: string;
        deployment_id: string | null;
        target_link_uri: string;
        login_hint: string;
        lti_message_hint: string | null;
      }>`
        SELECT s.state, p.issuer, p.client_id, s.deployment_id, s.target_link_uri,
          r.login_hint, r.lti_message_hint
        FROM login_restarts r
        JOIN login_states s ON s.state = r.state
        JOIN platforms p ON p.id = s.platform_id
        WHERE r.state = ${state} AND s.expires_at > ${now()}
      `.execute(db);
      const row = result.rows[0];
      if (row === undefined) return undefined;
      return {
        state: row.state,
        issuer: row.issuer,
        clientId: row.client_id,
        deploymentId: row.deployment_id ?? undefined,
        targetLinkUri: row.target_link_uri,
        loginHint: row.login_hint,
        messageHint: row.lti_message_hint ?? undefined,
      };
    },
  };
}

export type LoginRestartRepository = ReturnType<typeof createLoginRestartRepository>;
