import { createHmac } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../schema.ts';
import { insertServerSecretIfAbsent, readServerSecret } from './server-secrets.repository.ts';
import { isUuid } from '../../ids.ts';

/**
 * Deletion records: the people a district deleted on request (Connecticut's student data privacy
 * law, C.G.S. § 10-234bb, requires deletion on request). The LMS keeps listing them, so without a
 * record the next roster sync or launch would make them again. A record holds no name and no LMS
 * id: only an HMAC of the LMS issuer and user id, under the server's hash key, and the date. Nobody
 * can read who it was; the tool can still tell when the same person comes back. A district
 * administrator may lift a record (see docs/privacy.md).
 *
 * The hash key is a server secret of its own (`server_secrets`, sealed with `KEY_ENCRYPTION_SECRET`),
 * so `keys reencrypt` moves it to a new secret and every record keeps matching. Its first value is
 * the key earlier versions derived from the secret, so records made before it existed still match.
 */

/** Keyed hash of one LMS person (issuer + user id); the same in every district of this server. */
export type PersonHasher = (issuer: string, sub: string) => Promise<string>;

/** The name of the hash key in `server_secrets`, also the label its envelope is bound to. */
export const PERSON_HASH_KEY = 'deletion-records-hash-key';

/** The key earlier versions derived from the server secret (the secret itself never hashes data). */
export function derivedPersonHashKey(serverSecret: string): Buffer {
  return createHmac('sha256', serverSecret).update('mastery-pathways/deletion-records/v1').digest();
}

/** Hashes one person under a hash key. */
export function hashPersonWith(key: Buffer, issuer: string, sub: string): string {
  return createHmac('sha256', key)
    .update(`${issuer.length}:${issuer}|${sub}`, 'utf8')
    .digest('base64url');
}

/** A hasher with a key in hand (tests, and tools that already hold the key). */
export function keyedPersonHasher(key: Buffer): PersonHasher {
  return (issuer, sub) => Promise.resolve(hashPersonWith(key, issuer, sub));
}

/**
 * The hasher of this server: it reads the sealed hash key once (creating it from the derived key on
 * first use) and keeps it in memory. A failed read is tried again on the next call.
 */
export function createPersonHasher(db: Kysely<Database>, serverSecret: string): PersonHasher {
  let key: Promise<Buffer> | undefined;
  const load = async (): Promise<Buffer> => {
    const stored = await readServerSecret(db, PERSON_HASH_KEY, serverSecret);
    if (stored !== undefined) return Buffer.from(stored, 'base64url');
    const derived = derivedPersonHashKey(serverSecret).toString('base64url');
    await insertServerSecretIfAbsent(db, PERSON_HASH_KEY, derived, serverSecret);
    // Another process may have stored its key first: the stored one is the key.
    const winner = await readServerSecret(db, PERSON_HASH_KEY, serverSecret);
    return Buffer.from(winner ?? derived, 'base64url');
  };
  return async (issuer, sub) => {
    key ??= load().catch((error: unknown) => {
      key = undefined;
      throw error;
    });
    return hashPersonWith(await key, issuer, sub);
  };
}

export interface DeletionRecord {
  readonly id: string;
  readonly deletedAt: Date;
}

type Db = Kysely<Database> | Transaction<Database>;

/** Records a deletion request for one person (again: keeps the first date). */
export async function recordDeletion(
  db: Db,
  tenantId: string,
  personHash: string,
  deletedAt: Date,
): Promise<void> {
  await db
    .insertInto('deletion_records')
    .values({ tenant_id: tenantId, person_hash: personHash, deleted_at: deletedAt })
    .onConflict((oc) => oc.columns(['tenant_id', 'person_hash']).doNothing())
    .execute();
}

export function createDeletionRecordRepository(db: Kysely<Database>, hashPerson: PersonHasher) {
  return {
    hashPerson,

    /**
     * Of these LMS user ids (one issuer), the ones deleted on request in this district, each with
     * the date of its request.
     */
    async deletedAmong(
      tenantId: string,
      issuer: string,
      subs: readonly string[],
    ): Promise<Map<string, Date>> {
      const found = new Map<string, Date>();
      if (subs.length === 0) return found;
      const hashes = await Promise.all(subs.map((sub) => hashPerson(issuer, sub)));
      const bySub = new Map(hashes.map((hash, i) => [hash, subs[i] ?? '']));
      const rows = await db
        .selectFrom('deletion_records')
        .select(['person_hash', 'deleted_at'])
        .where('tenant_id', '=', tenantId)
        .where('person_hash', 'in', [...bySub.keys()])
        .execute();
      for (const row of rows) {
        const sub = bySub.get(row.person_hash);
        if (sub !== undefined) found.set(sub, row.deleted_at);
      }
      return found;
    },

    /** The district's records, oldest first: ids and dates only. */
    async list(tenantId: string): Promise<DeletionRecord[]> {
      const rows = await db
        .selectFrom('deletion_records')
        .select(['id', 'deleted_at'])
        .where('tenant_id', '=', tenantId)
        .orderBy('deleted_at')
        .orderBy('id')
        .execute();
      return rows.map((row) => ({ id: row.id, deletedAt: row.deleted_at }));
    },

    /** Lifts one record by its id: the person may come back with the next sync or launch. */
    async liftById(tenantId: string, id: string): Promise<boolean> {
      if (!isUuid(id)) return false;
      const result = await db
        .deleteFrom('deletion_records')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    /** Lifts the record of the person with this LMS user id (of one of the given issuers). */
    async liftPerson(tenantId: string, issuers: readonly string[], sub: string): Promise<boolean> {
      if (issuers.length === 0) return false;
      const result = await db
        .deleteFrom('deletion_records')
        .where('tenant_id', '=', tenantId)
        .where(
          'person_hash',
          'in',
          await Promise.all(issuers.map((issuer) => hashPerson(issuer, sub))),
        )
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

export type DeletionRecordRepository = ReturnType<typeof createDeletionRecordRepository>;
