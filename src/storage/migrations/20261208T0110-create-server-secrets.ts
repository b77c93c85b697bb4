import { sql, type Kysely } from 'kysely';

/**
 * `server_secrets`: keys of the server itself (not of a district), sealed with the key-encryption
 * secret like the tool's private keys, so `keys reencrypt` can move them to a new secret. The first
 * is the key of the deletion records' hashes: it used to be derived from `KEY_ENCRYPTION_SECRET`
 * itself, so rotating that secret made every deletion record match nobody.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE server_secrets (
      name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 200),
      sealed jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE server_secrets`.execute(db);
}
