import type { ColumnType, Generated } from 'kysely';

/** A person deleted on request, kept only as a keyed hash (see the migration). */
export interface DeletionRecordTable {
  id: Generated<string>;
  tenant_id: string;
  person_hash: string;
  deleted_at: ColumnType<Date, Date, Date>;
}

/** A key of the server itself, sealed with the key-encryption secret (see the migration). */
export interface ServerSecretTable {
  name: string;
  /** The AES-256-GCM envelope (src/lti/tool-keys.ts), jsonb: read as a value, written as JSON text. */
  sealed: ColumnType<Record<string, unknown>, string, string>;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export interface PrivacyTables {
  deletion_records: DeletionRecordTable;
  server_secrets: ServerSecretTable;
}
