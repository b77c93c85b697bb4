import type { ColumnType, Generated } from 'kysely';

/** Tables of evidence and computed mastery (migrations 20261127T0710, 20261207T2220). */

type Timestamp = ColumnType<Date, Date, Date>;
/** jsonb: read as a value, written as JSON text. */
type Json = ColumnType<unknown, string, string>;
type NullableJson = ColumnType<unknown, string | null, string | null>;
/** bigint identity: pg returns a string, PGlite a bigint. */
type Identity = Generated<string | bigint>;

export type EvidenceSource = 'teacher' | 'lms' | 'csv';
export type StoredMasteryStatus = 'mastery' | 'insufficientEvidence' | 'noEvidence';
export type RecomputeStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface MasteryPolicyTable {
  id: Generated<string>;
  tenant_id: string;
  course_id: string | null;
  policy: Json;
  updated_by: string;
  updated_at: Timestamp;
}

export interface MasteryPolicyChangeTable {
  id: Identity;
  tenant_id: string;
  course_id: string | null;
  before: NullableJson;
  after: NullableJson;
  changed_by: string;
  changed_at: Date;
}

export interface EvidenceTable {
  id: Generated<string>;
  tenant_id: string;
  course_id: string;
  student_id: string;
  item_id: string;
  assignment_id: string | null;
  score: number | null;
  points: number | null;
  points_possible: number | null;
  assessed_at: Date | null;
  due_at: Date | null;
  /** The original score's time: set when the work is first scored; a regrade keeps it. */
  graded_at: Date | null;
  /** The latest grading time: when the current score was given; moves on every regrade. */
  last_graded_at: Date | null;
  /** The student's submission time, where the source says (Canvas's `submitted_at`). */
  submitted_at: Date | null;
  excused: ColumnType<boolean, boolean | undefined, boolean>;
  comment: string | null;
  source: EvidenceSource;
  recorded_by: string;
  recorded_at: Timestamp;
  version: ColumnType<number, number | undefined, number>;
  deleted_at: Date | null;
}

export interface EvidenceHistoryTable {
  id: Identity;
  tenant_id: string;
  evidence_id: string;
  version: number;
  snapshot: Json;
  changed_by: string;
  changed_at: Date;
}

export interface MasteryResultTable {
  tenant_id: string;
  course_id: string;
  student_id: string;
  item_id: string;
  status: StoredMasteryStatus;
  value: number | null;
  level_id: string | null;
  mastered: ColumnType<boolean, boolean | undefined, boolean>;
  computed_value: number | null;
  overridden: ColumnType<boolean, boolean | undefined, boolean>;
  evidence_count: ColumnType<number, number | undefined, number>;
  // `explanation` (jsonb, nullable) is no longer written or read: see migration 0750.
  computed_at: Timestamp;
}

export interface MasteryOverrideTable {
  tenant_id: string;
  course_id: string;
  student_id: string;
  item_id: string;
  value: number;
  reason: string;
  set_by: string;
  set_at: Timestamp;
}

/** The students a mentor's own launch names (role_scope_mentor), as LTI subs of its issuer. */
export interface MentorScopeTable {
  tenant_id: string;
  course_id: string;
  mentor_id: string;
  issuer: string;
  student_subs: string[];
  updated_at: Timestamp;
}

export interface MentorLinkTable {
  tenant_id: string;
  course_id: string;
  mentor_id: string;
  student_id: string;
  updated_at: Timestamp;
}

export interface RecomputeJobTable {
  id: Generated<string>;
  tenant_id: string;
  course_id: string | null;
  reason: string;
  status: RecomputeStatus;
  done: ColumnType<number, number | undefined, number>;
  total: ColumnType<number, number | undefined, number>;
  error: string | null;
  requested_by: string;
  created_at: Timestamp;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface MasteryTables {
  mastery_policies: MasteryPolicyTable;
  mastery_policy_changes: MasteryPolicyChangeTable;
  evidence: EvidenceTable;
  evidence_history: EvidenceHistoryTable;
  mastery_results: MasteryResultTable;
  mastery_overrides: MasteryOverrideTable;
  mentor_links: MentorLinkTable;
  mentor_scopes: MentorScopeTable;
  recompute_jobs: RecomputeJobTable;
}
