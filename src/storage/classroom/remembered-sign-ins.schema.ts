import type { ColumnType } from 'kysely';

/** A browser remembered after a Google sign-in to the add-on (migration 20261207T2260). */
export interface ClassroomRememberedSignInTable {
  /** sha256 (hex) of the token in the browser's partitioned cookie. */
  token_hash: string;
  tenant_id: string;
  user_id: string;
  google_sub: string;
  created_at: ColumnType<Date, Date, Date>;
  expires_at: ColumnType<Date, Date, Date>;
}
