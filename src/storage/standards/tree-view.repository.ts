import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';

/**
 * The columns the admin tree shows, for every item of one framework: lighter than the full rows
 * (no search text, no CASE extras), which matters for frameworks of 20,000 standards.
 */
export interface TreeRow {
  readonly id: string;
  readonly guid: string;
  readonly parentId: string | null;
  readonly code: string | null;
  readonly fullStatement: string;
  readonly abbreviatedStatement: string | null;
  readonly itemType: string | null;
  readonly educationLevels: readonly string[];
  readonly position: number;
  readonly sequence: number;
  readonly archivedAt: Date | null;
}

/** Items of a framework, siblings in order (position, then file order); scoped by tenant. */
export async function listTreeRows(
  db: Kysely<Database>,
  tenantId: string,
  frameworkId: string,
  options: { readonly includeArchived: boolean },
): Promise<TreeRow[]> {
  let query = db
    .selectFrom('standard_items')
    .select([
      'id',
      'guid',
      'parent_item_id',
      'code',
      'full_statement',
      'abbreviated_statement',
      'item_type',
      'education_levels',
      'position',
      'sequence',
      'archived_at',
    ])
    .where('tenant_id', '=', tenantId)
    .where('framework_id', '=', frameworkId);
  if (!options.includeArchived) query = query.where('archived_at', 'is', null);
  const rows = await query.orderBy('position').orderBy('sequence').orderBy('id').execute();
  return rows.map((row) => ({
    id: row.id,
    guid: row.guid,
    parentId: row.parent_item_id,
    code: row.code,
    fullStatement: row.full_statement,
    abbreviatedStatement: row.abbreviated_statement,
    itemType: row.item_type,
    educationLevels: row.education_levels,
    position: row.position,
    sequence: row.sequence,
    archivedAt: row.archived_at,
  }));
}
