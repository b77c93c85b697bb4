import type { ColumnType, Generated } from 'kysely';
import type { ClassroomTables } from './classroom/schema.ts';
import type { CourseTables } from './courses/schema.ts';
import type { JobTables } from './jobs/schema.ts';
import type { LtiTables } from './lti/schema.ts';
import type { MasteryTables } from './mastery/schema.ts';
import type { PassbackTables } from './passback/schema.ts';
import type { PrivacyTables } from './privacy/schema.ts';
import type { StandardsTables } from './standards/schema.ts';

/**
 * Table types for Kysely. Every table that holds district data carries `tenant_id`, so a district
 * can be exported or deleted whole and every query can be scoped to one district. Each area keeps
 * its tables in its own schema file; this interface joins them.
 */
export interface TenantTable {
  id: Generated<string>;
  slug: string;
  name: string;
  /** Per-district switches (`TenantSettings`), jsonb: read as a value, written as JSON text. */
  settings: ColumnType<unknown, string | undefined, string>;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export interface CoreTables {
  tenants: TenantTable;
}

export interface Database
  extends
    CoreTables,
    LtiTables,
    StandardsTables,
    CourseTables,
    MasteryTables,
    PassbackTables,
    ClassroomTables,
    PrivacyTables,
    JobTables {}
