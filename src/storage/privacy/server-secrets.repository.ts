import type { Kysely, Transaction } from 'kysely';
import {
  decryptPrivateKeyPem,
  encryptedPrivateKeySchema,
  encryptPrivateKey,
} from '../../lti/tool-keys.ts';
import type { Database } from '../schema.ts';

/**
 * Keys of the server itself in `server_secrets`, sealed with the key-encryption secret in the same
 * AES-256-GCM envelope as the tool's private keys, bound to their name (an envelope copied to another
 * row does not open).
 */

type Db = Kysely<Database> | Transaction<Database>;

/** The secret's value, or undefined when none is stored. A wrong secret fails to open. */
export async function readServerSecret(
  db: Db,
  name: string,
  keyEncryptionSecret: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('server_secrets')
    .select('sealed')
    .where('name', '=', name)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  return openServerSecret(name, row.sealed, keyEncryptionSecret);
}

export function openServerSecret(
  name: string,
  sealed: unknown,
  keyEncryptionSecret: string,
): string {
  const envelope = encryptedPrivateKeySchema.parse(sealed);
  if (envelope.kid !== name) throw new Error(`the sealed value of ${name} belongs to another row`);
  return decryptPrivateKeyPem(envelope, keyEncryptionSecret);
}

export function sealServerSecret(name: string, value: string, keyEncryptionSecret: string): string {
  return JSON.stringify(encryptPrivateKey(value, name, keyEncryptionSecret));
}

/** Stores the secret unless one of that name exists (the first writer wins). */
export async function insertServerSecretIfAbsent(
  db: Db,
  name: string,
  value: string,
  keyEncryptionSecret: string,
): Promise<void> {
  await db
    .insertInto('server_secrets')
    .values({ name, sealed: sealServerSecret(name, value, keyEncryptionSecret) })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
}
