import type { ColumnType, Generated } from 'kysely';
import type { PlatformFlavour } from '../../lms/platforms/index.ts';

/**
 * Tables of the LTI area (platforms, deployments, login state, nonces, keys, courses, people).
 * Timestamps are written from the injected clock, never the database's `now()`, so expiry is testable
 * and one clock rules a request. jsonb columns are written as JSON text (`sql\`...::jsonb\``): the pg
 * driver would turn a JS array into a PostgreSQL array literal.
 */

type Timestamp = ColumnType<Date, Date, Date>;
type CreatedAt = ColumnType<Date, Date | undefined, never>;
type Json<T> = ColumnType<T, string, string>;

/** The flavours are the LMS platform profiles' (src/lms/platforms/index.ts). */
export type { PlatformFlavour };
export type PlatformStatus = 'active' | 'pending';

/** Operator-level: one LMS registration, keyed by `(issuer, client_id)`. Holds no district data. */
export interface PlatformTable {
  id: Generated<string>;
  issuer: string;
  client_id: string;
  name: string;
  flavour: PlatformFlavour;
  auth_login_url: string;
  auth_token_url: string;
  token_audience: string | null;
  jwks_url: string;
  /** 'pending': created by dynamic registration, waiting for an admin decision; never launches. */
  status: PlatformStatus;
  /** Canvas Dynamic Registration returns no deployment id: record the first launch's one. */
  capture_first_deployment: Generated<boolean>;
  /** The tenant a captured deployment is bound to. */
  default_tenant_id: string | null;
  /** Web origins the LMS frames the tool from (CSP frame-ancestors), besides the issuer's. */
  frame_origins: Generated<string[]>;
  created_at: CreatedAt;
}

/** A tenant (district) is `(issuer, client_id, deployment_id)`: the allow-list of deployments. */
export interface DeploymentTable {
  id: Generated<string>;
  platform_id: string;
  deployment_id: string;
  tenant_id: string;
  label: string | null;
  created_at: CreatedAt;
}

export interface LoginStateTable {
  state: string;
  nonce: string;
  platform_id: string;
  deployment_id: string | null;
  target_link_uri: string;
  storage_target: string | null;
  expires_at: Timestamp;
  created_at: CreatedAt;
}

export interface UsedNonceTable {
  issuer: string;
  nonce: string;
  expires_at: Timestamp;
}

/** 'retired': no longer published, kept for the audit trail. */
export type StoredToolKeyStatus = 'next' | 'current' | 'retiring' | 'retired';

export interface ToolKeyTable {
  kid: string;
  status: StoredToolKeyStatus;
  public_jwk: Json<Record<string, unknown>>;
  encrypted_private_key: Json<Record<string, unknown>>;
  created_at: Timestamp;
  activated_at: Date | null;
  /** When the key stopped signing (`ToolKey.retiredAt`). */
  retired_at: Date | null;
}

export interface UserTable {
  id: Generated<string>;
  tenant_id: string;
  issuer: string;
  sub: string;
  name: string | null;
  given_name: string | null;
  family_name: string | null;
  /** Stored only when the tenant turned `storeEmail` on. */
  email: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface CourseTable {
  id: Generated<string>;
  tenant_id: string;
  deployment_row_id: string;
  context_id: string;
  title: string | null;
  label: string | null;
  ags_line_items_url: string | null;
  ags_scopes: string[];
  nrps_memberships_url: string | null;
  nrps_service_versions: string[];
  updated_at: Timestamp;
}

export type EnrollmentStatus = 'active' | 'inactive';
export type EnrollmentSource = 'launch' | 'roster';

export interface EnrollmentTable {
  tenant_id: string;
  course_id: string;
  user_id: string;
  roles: string[];
  status: EnrollmentStatus;
  source: EnrollmentSource;
  updated_at: Timestamp;
}

export interface ResourceLinkTable {
  id: Generated<string>;
  tenant_id: string;
  course_id: string;
  resource_link_id: string;
  title: string | null;
  line_item_url: string | null;
  created_via: 'launch' | 'deep_link';
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface SessionTable {
  /** SHA-256 (hex) of the session token: a leaked table does not hand out sessions. */
  id: string;
  tenant_id: string;
  user_id: string;
  course_id: string | null;
  roles: string[];
  csrf_secret: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  last_seen_at: Timestamp;
}

export interface DeepLinkRequestTable {
  id: Generated<string>;
  tenant_id: string;
  /** The session (token hash) that received the Deep Linking request. */
  session_id: string;
  deployment_row_id: string;
  course_id: string | null;
  settings: ColumnType<DeepLinkingSettingsJson, string, string>;
  created_at: Timestamp;
  expires_at: Timestamp;
}

/** The stored form of the deep linking settings claim (camelCase, as the LTI core normalizes it). */
export interface DeepLinkingSettingsJson {
  returnUrl: string;
  acceptTypes: string[];
  acceptPresentationDocumentTargets: string[];
  acceptMediaTypes: string | null;
  acceptMultiple: boolean;
  /** null: the platform did not say (unknown, not "no"). */
  acceptLineItem: boolean | null;
  autoCreate: boolean;
  title: string | null;
  text: string | null;
  data: string | null;
}

export interface AdminUserTable {
  id: Generated<string>;
  /** null: an operator who may act for every district. */
  tenant_id: string | null;
  username: string;
  password_hash: string;
  created_at: Timestamp;
  disabled_at: Date | null;
}

export interface AdminSessionTable {
  /** SHA-256 (hex) of the cookie token. */
  token_hash: string;
  admin_user_id: string;
  csrf_secret: string;
  created_at: Date;
  expires_at: Date;
}

export interface LtiTables {
  admin_sessions: AdminSessionTable;
  deep_link_requests: DeepLinkRequestTable;
  platforms: PlatformTable;
  deployments: DeploymentTable;
  login_states: LoginStateTable;
  used_nonces: UsedNonceTable;
  tool_keys: ToolKeyTable;
  users: UserTable;
  courses: CourseTable;
  enrollments: EnrollmentTable;
  resource_links: ResourceLinkTable;
  sessions: SessionTable;
  admin_users: AdminUserTable;
}
