import type { ColumnType, Generated, JSONColumnType } from 'kysely';

/** Tables of the standards area (frameworks, items, associations, authoring audit, import log). */

export type FrameworkSource = 'case_file' | 'case_server' | 'csv' | 'authored';
export type ImportStatus = 'running' | 'succeeded' | 'failed';

type Json = ColumnType<unknown, string, string>;
type JsonObject = JSONColumnType<Record<string, unknown>>;
type CreatedAt = ColumnType<Date, Date | undefined, never>;
type Timestamp = ColumnType<Date, Date | undefined, Date>;

export interface StandardFrameworkTable {
  id: Generated<string>;
  tenant_id: string;
  case_guid: string;
  uri: string;
  title: string;
  creator: string;
  publisher: string | null;
  version: string | null;
  subjects: string[];
  adoption_status: string | null;
  language: string | null;
  description: string | null;
  /** CASE licenseURI (a LinkURI). */
  licence: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
  notes: string | null;
  case_version: '1.0' | '1.1';
  definitions: Json;
  rubrics: Json;
  extensions: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
  /** The rest of the CFDocument fields the model keeps (subjectURI, dates, package link, …). */
  extra: JsonObject;
  source: FrameworkSource;
  source_url: string | null;
  /** Bumped on every change, so a search index cache knows when it is stale. */
  revision: Generated<number>;
  imported_at: Date | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface StandardItemTable {
  id: string;
  tenant_id: string;
  framework_id: string;
  guid: string;
  uri: string;
  code: string | null;
  full_statement: string;
  abbreviated_statement: string | null;
  item_type: string | null;
  education_levels: string[];
  parent_item_id: string | null;
  /** 1-based among siblings (CASE sequenceNumber order). */
  position: number;
  /** Order of the item in the package it came from, so an export lists items as they were given. */
  sequence: number;
  archived_at: Date | null;
  extra: JsonObject;
  /** Code and statements in one string, for SQL-side filtering later. */
  search: string;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface StandardAssociationTable {
  id: Generated<string>;
  tenant_id: string;
  framework_id: string;
  guid: string;
  association_type: string;
  origin: JsonObject;
  destination: JsonObject;
  sequence_number: number | null;
  sequence: number;
  extra: JsonObject;
}

export interface StandardAuditTable {
  /** bigint identity: drivers return it as a string (pg) or a bigint (PGlite). */
  id: Generated<string | bigint>;
  tenant_id: string;
  framework_id: string;
  item_id: string | null;
  /** An opaque id of who acted (a user id, "system"), never a name. */
  actor: string;
  action: string;
  before: ColumnType<unknown, string | null, string | null>;
  after: ColumnType<unknown, string | null, string | null>;
  at: Date;
}

export interface StandardImportTable {
  id: Generated<string>;
  tenant_id: string;
  framework_id: string | null;
  actor: string;
  source: FrameworkSource;
  source_url: string | null;
  status: ImportStatus;
  created_count: Generated<number>;
  updated_count: Generated<number>;
  archived_count: Generated<number>;
  unchanged_count: Generated<number>;
  errors: ColumnType<unknown, string | null, string | null>;
  progress_done: Generated<number>;
  progress_total: Generated<number>;
  started_at: Date;
  finished_at: Date | null;
}

export interface StandardsTables {
  standard_frameworks: StandardFrameworkTable;
  standard_items: StandardItemTable;
  standard_associations: StandardAssociationTable;
  standard_audit: StandardAuditTable;
  standard_imports: StandardImportTable;
}
