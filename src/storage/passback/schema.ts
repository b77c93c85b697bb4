import type { ColumnType, Generated } from 'kysely';

/** Tables of grade passback (see migration 20261127T0600). Timestamps come from the injected clock. */

type Timestamp = ColumnType<Date, Date, Date>;
/** bigint comes back from pg as a string; written as a number. */
type BigIntColumn = ColumnType<string, number | string | undefined, number | string>;

export type GradebookColumnKind = 'standard' | 'course' | 'assignment';
export type GradebookColumnStatus = 'pending' | 'ready' | 'deleted_in_lms';
export type ConfirmedStatus = 'sent' | 'retrying' | 'failed';

export interface GradebookColumnTable {
  id: Generated<string>;
  tenant_id: string;
  course_id: string;
  kind: GradebookColumnKind;
  key: string;
  label: string;
  score_maximum: number;
  tag: string;
  resource_id: string;
  lms_column_id: string | null;
  status: ColumnType<
    GradebookColumnStatus,
    GradebookColumnStatus | undefined,
    GradebookColumnStatus
  >;
  ensuring_until: Date | null;
  created_at: Timestamp;
}

export interface DesiredGradeTable {
  tenant_id: string;
  course_id: string;
  column_id: string;
  user_id: string;
  lms_user_id: string;
  value: number;
  comment: string | null;
  version: BigIntColumn;
  updated_at: Timestamp;
  claimed_by: string | null;
  claimed_until: Date | null;
  /** The value the claiming worker is posting (see `ClaimedCell.inFlightValue`). */
  claimed_value: number | null;
}

export interface ConfirmedGradeTable {
  tenant_id: string;
  course_id: string;
  column_id: string;
  user_id: string;
  value: number | null;
  comment: string | null;
  version: BigIntColumn;
  confirmed_at: Date | null;
  status: ConfirmedStatus;
  failed_version: BigIntColumn | null;
  error_code: string | null;
  error_message: string | null;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Date | null;
  last_timestamp: Date | null;
  /** When the worker found a teacher's own grade in the LMS and left it (migration 20261207T2210). */
  held_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** The score the teacher left in the LMS (null: the teacher cleared it). */
  held_value: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface PassbackAuditTable {
  id: Generated<string>;
  tenant_id: string;
  course_id: string;
  column_id: string;
  user_id: string;
  value: number | null;
  version: number | string;
  result: ConfirmedStatus;
  http_status: number | null;
  error_code: string | null;
  at: Timestamp;
}

export interface PassbackCourseStateTable {
  tenant_id: string;
  course_id: string;
  paused: ColumnType<boolean, boolean | undefined, boolean>;
  last_run_at: Date | null;
}

export interface PassbackTables {
  gradebook_columns: GradebookColumnTable;
  desired_grades: DesiredGradeTable;
  confirmed_grades: ConfirmedGradeTable;
  passback_audit: PassbackAuditTable;
  passback_course_state: PassbackCourseStateTable;
}
