import type { ColumnType, Generated } from 'kysely';

/** A person deleted on request, kept only as a keyed hash (see the migration). */
export interface DeletionRecordTable {
  id: Generated<string>;
  tenant_id: string;
  person_hash: string;
  deleted_at: ColumnType<Date, Date, Date>;
}

export interface PrivacyTables {
  deletion_records: DeletionRecordTable;
}
