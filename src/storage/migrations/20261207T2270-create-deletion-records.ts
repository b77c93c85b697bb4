import { sql, type Kysely } from 'kysely';

/**
 * `deletion_records`: the people a district deleted on request (`tenant delete-person`), so the
 * next roster sync, launch or parent's launch does not bring them back while the LMS still lists
 * them. Nothing readable is kept: `person_hash` is an HMAC, under a key derived from the server's
 * secret, of the person's LMS issuer and user id; only the date of the request is in clear.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE deletion_records (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      person_hash text NOT NULL,
      deleted_at timestamptz NOT NULL,
      UNIQUE (tenant_id, person_hash)
    )
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE deletion_records`.execute(db);
}
