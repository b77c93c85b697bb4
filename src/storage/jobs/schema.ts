import type { ColumnType, Generated } from 'kysely';

/** The background-job table (migration 20261208T0300). */

type Timestamp = ColumnType<Date, Date, Date>;
/** jsonb: read as a value, written as JSON text. */
type Json = ColumnType<unknown, string | undefined, string>;
type Counter = ColumnType<number, number | undefined, number>;

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface JobTable {
  id: Generated<string>;
  tenant_id: string;
  kind: string;
  payload: Json;
  status: JobStatus;
  attempts: Counter;
  max_attempts: Counter;
  run_at: Timestamp;
  claimed_by: string | null;
  claimed_until: Date | null;
  done: Counter;
  total: Counter;
  note: string | null;
  last_error: string | null;
  created_at: Timestamp;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface JobTables {
  jobs: JobTable;
}
