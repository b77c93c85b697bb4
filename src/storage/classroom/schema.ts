import type { ColumnType, Generated } from 'kysely';
import type { ClassroomRememberedSignInTable } from './remembered-sign-ins.schema.ts';

/** Tables of the Google Classroom add-on (migration 20261127T0720). Every row carries tenant_id. */

type Timestamp = ColumnType<Date, Date, Date>;
type Json<T> = ColumnType<T, string, string>;

/** The encrypted-secret envelope (see src/lti/tool-keys.ts `EncryptedPrivateKey`). */
export type EncryptedSecretJson = Record<string, unknown>;

export interface ClassroomInstallTable {
  id: Generated<string>;
  tenant_id: string;
  platform_id: string;
  deployment_row_id: string;
  issuer: string;
  client_id: string;
  encrypted_client_secret: Json<EncryptedSecretJson>;
  allowed_domains: string[];
  api_base_url: string;
  frame_origin: string;
  /** Google answered `invalid_client` with the stored secret (migration 20261207T2250). */
  client_rejected_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ClassroomUserTokenTable {
  tenant_id: string;
  user_id: string;
  encrypted_refresh_token: Json<EncryptedSecretJson>;
  scopes: string[];
  revoked_at: Date | null;
  updated_at: Timestamp;
}

export interface ClassroomCourseTable {
  tenant_id: string;
  course_id: string;
  classroom_course_id: string;
  grading_user_id: string | null;
  needs_teacher_sign_in: Generated<boolean>;
  needs_sign_in_reason: string | null;
  updated_at: Timestamp;
}

export type ClassroomColumnKind = 'attachment' | 'coursework';

export interface ClassroomColumnTable {
  id: Generated<string>;
  tenant_id: string;
  course_id: string;
  kind: ClassroomColumnKind;
  course_work_id: string;
  attachment_id: string | null;
  assignment_id: string | null;
  title: string;
  max_points: number;
  tag: string | null;
  resource_id: string | null;
  created_at: Timestamp;
}

/** A student's own submission id on an add-on attachment (migration 20261207T2250). */
export interface ClassroomAttachmentSubmissionTable {
  tenant_id: string;
  course_id: string;
  course_work_id: string;
  attachment_id: string;
  google_user_id: string;
  submission_id: string;
  updated_at: Timestamp;
}

export interface ClassroomSignInFlowTable {
  state: string;
  flow_id: string;
  tenant_id: string;
  nonce: string;
  code_verifier: string;
  launch: Json<Record<string, unknown>>;
  user_id: string | null;
  course_id: string | null;
  role: 'teacher' | 'student' | null;
  completed_at: Date | null;
  /** sha256 (hex) of the completion secret the callback handed out (migration 20261127T0740). */
  completion_hash: ColumnType<string | null, string | null | undefined, string | null>;
  expires_at: Timestamp;
  created_at: Timestamp;
}

export interface ClassroomTables {
  classroom_installs: ClassroomInstallTable;
  classroom_user_tokens: ClassroomUserTokenTable;
  classroom_courses: ClassroomCourseTable;
  classroom_columns: ClassroomColumnTable;
  classroom_sign_in_flows: ClassroomSignInFlowTable;
  classroom_remembered_sign_ins: ClassroomRememberedSignInTable;
  classroom_attachment_submissions: ClassroomAttachmentSubmissionTable;
}
