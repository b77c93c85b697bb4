import { sql, type Kysely, type Selectable } from 'kysely';
import {
  encryptedPrivateKeySchema,
  type EncryptedPrivateKey,
  type ToolKey,
} from '../../lti/tool-keys.ts';
import type { Database } from '../schema.ts';
import type { StoredToolKeyStatus, ToolKeyTable } from './schema.ts';

/** A stored key: the protocol's `ToolKey`, or a retired one kept for the audit trail. */
export interface StoredToolKey extends Omit<ToolKey, 'status'> {
  readonly status: StoredToolKeyStatus;
}

function toStoredKey(row: Selectable<ToolKeyTable>): StoredToolKey {
  return {
    kid: row.kid,
    status: row.status,
    createdAt: new Date(row.created_at),
    activatedAt: row.activated_at === null ? undefined : new Date(row.activated_at),
    retiredAt: row.retired_at === null ? undefined : new Date(row.retired_at),
    publicJwk: row.public_jwk,
    // Parsed: a hand-edited row must fail here, not deep inside decryption.
    encryptedPrivateKey: encryptedPrivateKeySchema.parse(row.encrypted_private_key),
  };
}

export function isPublishedKey(key: StoredToolKey): key is ToolKey {
  return key.status !== 'retired';
}

export function createToolKeyRepository(db: Kysely<Database>) {
  return {
    async list(): Promise<StoredToolKey[]> {
      const rows = await db.selectFrom('tool_keys').selectAll().orderBy('created_at').execute();
      return rows.map(toStoredKey);
    },

    /** Keys a platform may see a signature from: next, current and retiring. */
    async listPublished(): Promise<ToolKey[]> {
      return (await this.list()).filter(isPublishedKey);
    },

    /**
     * Writes the outcome of one rotation step in a single transaction: keys in `keys` are inserted or
     * updated, published keys missing from it are marked 'retired' (never deleted: audit trail).
     */
    async saveRotation(keys: readonly ToolKey[], now: Date): Promise<void> {
      await db.transaction().execute(async (tx) => {
        // Lock the set so two processes rotating together serialise.
        await sql`LOCK TABLE tool_keys IN SHARE ROW EXCLUSIVE MODE`.execute(tx);
        const kept = keys.map((key) => key.kid);
        let retire = tx
          .updateTable('tool_keys')
          .set({ status: 'retired', retired_at: sql`coalesce(retired_at, ${now})` })
          .where('status', '!=', 'retired');
        if (kept.length > 0) retire = retire.where('kid', 'not in', kept);
        await retire.execute();
        // Demote first, then promote: the partial unique index allows one current and one next.
        const ordered = [...keys].sort((a, b) => statusOrder(a.status) - statusOrder(b.status));
        for (const key of ordered) {
          await tx
            .insertInto('tool_keys')
            .values({
              kid: key.kid,
              status: key.status,
              public_jwk: JSON.stringify(key.publicJwk),
              encrypted_private_key: JSON.stringify(key.encryptedPrivateKey),
              created_at: key.createdAt,
              activated_at: key.activatedAt ?? null,
              retired_at: key.retiredAt ?? null,
            })
            .onConflict((oc) =>
              oc.column('kid').doUpdateSet({
                status: key.status,
                activated_at: key.activatedAt ?? null,
                retired_at: key.retiredAt ?? null,
              }),
            )
            .execute();
        }
      });
    },

    /** Replaces every envelope (re-encryption under a new secret) in one transaction. */
    async replaceEnvelopes(envelopes: ReadonlyMap<string, EncryptedPrivateKey>): Promise<void> {
      await db.transaction().execute(async (tx) => {
        for (const [kid, envelope] of envelopes) {
          await tx
            .updateTable('tool_keys')
            .set({ encrypted_private_key: JSON.stringify(envelope) })
            .where('kid', '=', kid)
            .execute();
        }
      });
    },
  };
}

function statusOrder(status: ToolKey['status']): number {
  switch (status) {
    case 'retiring':
      return 0;
    case 'current':
      return 1;
    case 'next':
      return 2;
  }
}

export type ToolKeyRepository = ReturnType<typeof createToolKeyRepository>;
