import type { Kysely } from 'kysely';
import {
  clientSecretLabel,
  openSecret,
  refreshTokenLabel,
  sealSecret,
} from '../classroom/secrets.ts';
import type { Database } from '../storage/schema.ts';
import {
  derivedPersonHashKey,
  PERSON_HASH_KEY,
} from '../storage/privacy/deletion-records.repository.ts';
import { sealServerSecret } from '../storage/privacy/server-secrets.repository.ts';
import { LtiAdminError } from './errors.ts';

/** What `keys reencrypt` moved to the new secret. */
export interface ReencryptedCounts {
  readonly toolKeys: number;
  readonly classroomClientSecrets: number;
  readonly classroomRefreshTokens: number;
  readonly serverSecrets: number;
}

/** One sealed value: where it is, the label its envelope is bound to, and how to write it back. */
interface SealedValue {
  readonly what: string;
  readonly label: string;
  readonly sealed: unknown;
  readonly write: (db: Kysely<Database>, resealed: Record<string, unknown>) => Promise<unknown>;
}

async function sealedValues(
  db: Kysely<Database>,
): Promise<Record<keyof ReencryptedCounts, SealedValue[]>> {
  const toolKeys = await db
    .selectFrom('tool_keys')
    .select(['kid', 'encrypted_private_key'])
    .execute();
  const installs = await db
    .selectFrom('classroom_installs')
    .select(['id', 'tenant_id', 'encrypted_client_secret'])
    .execute();
  const tokens = await db
    .selectFrom('classroom_user_tokens')
    .select(['tenant_id', 'user_id', 'encrypted_refresh_token'])
    .execute();
  const server = await db.selectFrom('server_secrets').select(['name', 'sealed']).execute();
  return {
    toolKeys: toolKeys.map((row) => ({
      what: `tool key ${row.kid}`,
      label: row.kid,
      sealed: row.encrypted_private_key,
      write: (tx, resealed) =>
        tx
          .updateTable('tool_keys')
          .set({ encrypted_private_key: JSON.stringify(resealed) })
          .where('kid', '=', row.kid)
          .execute(),
    })),
    classroomClientSecrets: installs.map((row) => ({
      what: `the Google Classroom client secret of district ${row.tenant_id}`,
      label: clientSecretLabel(row.tenant_id),
      sealed: row.encrypted_client_secret,
      write: (tx, resealed) =>
        tx
          .updateTable('classroom_installs')
          .set({ encrypted_client_secret: JSON.stringify(resealed) })
          .where('id', '=', row.id)
          .where('tenant_id', '=', row.tenant_id)
          .execute(),
    })),
    classroomRefreshTokens: tokens.map((row) => ({
      what: `a Google refresh token of district ${row.tenant_id}`,
      label: refreshTokenLabel(row.tenant_id, row.user_id),
      sealed: row.encrypted_refresh_token,
      write: (tx, resealed) =>
        tx
          .updateTable('classroom_user_tokens')
          .set({ encrypted_refresh_token: JSON.stringify(resealed) })
          .where('tenant_id', '=', row.tenant_id)
          .where('user_id', '=', row.user_id)
          .execute(),
    })),
    serverSecrets: server.map((row) => ({
      what: `the server secret ${row.name}`,
      label: row.name,
      sealed: row.sealed,
      write: (tx, resealed) =>
        tx
          .updateTable('server_secrets')
          .set({ sealed: JSON.stringify(resealed) })
          .where('name', '=', row.name)
          .execute(),
    })),
  };
}

/**
 * Moves everything sealed with the key-encryption secret from `oldSecret` to `newSecret`: the tool's
 * private keys (retired ones too), each district's Google Classroom client secret and its users'
 * refresh tokens, and the server's own keys (the deletion records' hash key, so records keep
 * matching). Everything is opened first, so a wrong old secret changes nothing; then all is written
 * in one transaction.
 */
export async function reencryptSealedSecrets(
  db: Kysely<Database>,
  secrets: { readonly oldSecret: string; readonly newSecret: string },
): Promise<ReencryptedCounts> {
  const found = await sealedValues(db);
  const opened: { value: SealedValue; plain: string }[] = [];
  for (const value of Object.values(found).flat()) {
    try {
      opened.push({ value, plain: openSecret(value.sealed, value.label, secrets.oldSecret) });
    } catch (error) {
      throw new LtiAdminError(
        'invalid_input',
        `The old secret does not open ${value.what}. Nothing was changed: check the variable named by --from-secret-env.`,
        { cause: error },
      );
    }
  }
  // Deletion records made before the hash key was stored were hashed under the key derived from the
  // old secret: that key is stored now, so they keep matching under the new secret.
  const seedHashKey = !found.serverSecrets.some((value) => value.label === PERSON_HASH_KEY);
  await db.transaction().execute(async (tx) => {
    for (const { value, plain } of opened) {
      await value.write(tx, sealSecret(plain, value.label, secrets.newSecret));
    }
    if (seedHashKey) {
      await tx
        .insertInto('server_secrets')
        .values({
          name: PERSON_HASH_KEY,
          sealed: sealServerSecret(
            PERSON_HASH_KEY,
            derivedPersonHashKey(secrets.oldSecret).toString('base64url'),
            secrets.newSecret,
          ),
        })
        .execute();
    }
  });
  return {
    toolKeys: found.toolKeys.length,
    classroomClientSecrets: found.classroomClientSecrets.length,
    classroomRefreshTokens: found.classroomRefreshTokens.length,
    serverSecrets: found.serverSecrets.length + (seedHashKey ? 1 : 0),
  };
}
