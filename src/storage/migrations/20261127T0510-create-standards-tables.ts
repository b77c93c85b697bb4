import { sql, type Kysely } from 'kysely';

/**
 * Standards frameworks, items, associations, the authoring audit and the import log.
 *
 * Every row carries `tenant_id`. Child tables reference their framework through (framework_id,
 * tenant_id), so a row can never point at another district's framework even if a query forgets a filter.
 * Items are never deleted by an import (alignments and evidence point at item ids): a re-import
 * archives the items it no longer lists.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE standard_frameworks (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      case_guid text NOT NULL CHECK (length(case_guid) BETWEEN 1 AND 200),
      uri text NOT NULL,
      title text NOT NULL CHECK (length(title) BETWEEN 1 AND 1000),
      creator text NOT NULL,
      publisher text,
      version text,
      subjects text[] NOT NULL DEFAULT '{}',
      adoption_status text,
      language text,
      description text,
      licence jsonb,
      notes text,
      case_version text NOT NULL CHECK (case_version IN ('1.0', '1.1')),
      definitions jsonb NOT NULL,
      rubrics jsonb NOT NULL,
      extensions jsonb,
      extra jsonb NOT NULL DEFAULT '{}',
      source text NOT NULL CHECK (source IN ('case_file', 'case_server', 'csv', 'authored')),
      source_url text,
      revision integer NOT NULL DEFAULT 1,
      imported_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (tenant_id, case_guid),
      UNIQUE (id, tenant_id)
    )
  `.execute(db);

  await sql`
    CREATE TABLE standard_items (
      id uuid PRIMARY KEY,
      tenant_id uuid NOT NULL,
      framework_id uuid NOT NULL,
      guid text NOT NULL CHECK (length(guid) BETWEEN 1 AND 200),
      uri text NOT NULL,
      code text,
      full_statement text NOT NULL CHECK (length(full_statement) > 0),
      abbreviated_statement text,
      item_type text,
      education_levels text[] NOT NULL DEFAULT '{}',
      parent_item_id uuid,
      position integer NOT NULL,
      sequence integer NOT NULL,
      archived_at timestamptz,
      extra jsonb NOT NULL DEFAULT '{}',
      search text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (framework_id, guid),
      FOREIGN KEY (framework_id, tenant_id)
        REFERENCES standard_frameworks (id, tenant_id) ON DELETE CASCADE,
      -- Deferred: an import inserts items in chunks in file order, where a child may come before its parent.
      FOREIGN KEY (parent_item_id) REFERENCES standard_items (id) DEFERRABLE INITIALLY DEFERRED
    )
  `.execute(db);
  await sql`CREATE INDEX standard_items_tree ON standard_items (framework_id, parent_item_id, position)`.execute(
    db,
  );
  await sql`CREATE INDEX standard_items_tenant ON standard_items (tenant_id)`.execute(db);

  await sql`
    CREATE TABLE standard_associations (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL,
      framework_id uuid NOT NULL,
      guid text NOT NULL,
      association_type text NOT NULL,
      origin jsonb NOT NULL,
      destination jsonb NOT NULL,
      sequence_number integer,
      sequence integer NOT NULL,
      extra jsonb NOT NULL DEFAULT '{}',
      FOREIGN KEY (framework_id, tenant_id)
        REFERENCES standard_frameworks (id, tenant_id) ON DELETE CASCADE
    )
  `.execute(db);
  await sql`CREATE INDEX standard_associations_framework ON standard_associations (framework_id, sequence)`.execute(
    db,
  );

  await sql`
    CREATE TABLE standard_audit (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      tenant_id uuid NOT NULL,
      framework_id uuid NOT NULL,
      item_id uuid,
      actor text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
      action text NOT NULL,
      before jsonb,
      after jsonb,
      at timestamptz NOT NULL,
      FOREIGN KEY (framework_id, tenant_id)
        REFERENCES standard_frameworks (id, tenant_id) ON DELETE CASCADE
    )
  `.execute(db);
  await sql`CREATE INDEX standard_audit_framework ON standard_audit (tenant_id, framework_id, id)`.execute(
    db,
  );

  // The import log lives outside the import transaction: a failed import is recorded with its report.
  await sql`
    CREATE TABLE standard_imports (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      framework_id uuid,
      actor text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
      source text NOT NULL CHECK (source IN ('case_file', 'case_server', 'csv', 'authored')),
      source_url text,
      status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
      created_count integer NOT NULL DEFAULT 0,
      updated_count integer NOT NULL DEFAULT 0,
      archived_count integer NOT NULL DEFAULT 0,
      unchanged_count integer NOT NULL DEFAULT 0,
      errors jsonb,
      progress_done integer NOT NULL DEFAULT 0,
      progress_total integer NOT NULL DEFAULT 0,
      started_at timestamptz NOT NULL,
      finished_at timestamptz
    )
  `.execute(db);
  await sql`CREATE INDEX standard_imports_tenant ON standard_imports (tenant_id, started_at)`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE standard_imports`.execute(db);
  await sql`DROP TABLE standard_audit`.execute(db);
  await sql`DROP TABLE standard_associations`.execute(db);
  await sql`DROP TABLE standard_items`.execute(db);
  await sql`DROP TABLE standard_frameworks`.execute(db);
}
