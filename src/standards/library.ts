import type { Kysely } from 'kysely';
import { isUuid } from '../ids.ts';
import type { Database } from '../storage/schema.ts';
import {
  findImport,
  lastImportByFramework,
  listRecentImports,
  type ImportHistoryEntry,
} from '../storage/standards/import-history.repository.ts';
import {
  findFramework,
  findItem,
  listAudit,
  listFrameworks,
  type AuditEntry,
  type FrameworkRow,
  type FrameworkSummary,
} from '../storage/standards/standards.repository.ts';
import { listTreeRows, type TreeRow } from '../storage/standards/tree-view.repository.ts';

/**
 * What the district standards library pages read: a district's frameworks and imports, one
 * framework's tree and audit. Every read takes the district (tenant) and finds nothing of another;
 * an id that is not a UUID finds nothing, like a missing one.
 */

export type { FrameworkSource } from '../storage/standards/schema.ts';
export type { AuditEntry, FrameworkRow, ImportHistoryEntry, TreeRow };

type Db = Kysely<Database>;

/** The district's frameworks with the date each was last imported, and its latest imports. */
export async function standardsOverview(
  db: Db,
  tenantId: string,
  recentImports: number,
): Promise<{
  frameworks: FrameworkSummary[];
  lastImports: Map<string, Date>;
  recentImports: ImportHistoryEntry[];
}> {
  const [frameworks, lastImports, recent] = await Promise.all([
    listFrameworks(db, tenantId),
    lastImportByFramework(db, tenantId),
    listRecentImports(db, tenantId, recentImports),
  ]);
  return { frameworks, lastImports, recentImports: recent };
}

export function findDistrictFramework(
  db: Db,
  tenantId: string,
  frameworkId: string,
): Promise<FrameworkRow | undefined> {
  return isUuid(frameworkId)
    ? findFramework(db, tenantId, frameworkId)
    : Promise.resolve(undefined);
}

/** Whether the framework has this standard (archived or not). */
export async function frameworkHasItem(
  db: Db,
  tenantId: string,
  frameworkId: string,
  itemId: string,
): Promise<boolean> {
  return isUuid(itemId) && (await findItem(db, tenantId, frameworkId, itemId)) !== undefined;
}

/** The framework's standards as the tree shows them, siblings in order. */
export function frameworkTree(
  db: Db,
  tenantId: string,
  frameworkId: string,
  options: { readonly includeArchived: boolean },
): Promise<TreeRow[]> {
  return listTreeRows(db, tenantId, frameworkId, options);
}

/** Current standards whose code is `code` (ignoring case): large frameworks name parents by code. */
export async function findItemsByCode(
  db: Db,
  tenantId: string,
  frameworkId: string,
  code: string,
): Promise<TreeRow[]> {
  const wanted = code.toLowerCase();
  return (await listTreeRows(db, tenantId, frameworkId, { includeArchived: false })).filter(
    (row) => row.code?.toLowerCase() === wanted,
  );
}

/** The framework's audit trail and every standard it names (archived ones too). */
export async function frameworkAudit(
  db: Db,
  tenantId: string,
  frameworkId: string,
): Promise<{ entries: AuditEntry[]; items: TreeRow[] }> {
  const [entries, items] = await Promise.all([
    listAudit(db, tenantId, frameworkId),
    listTreeRows(db, tenantId, frameworkId, { includeArchived: true }),
  ]);
  return { entries, items };
}

export function findImportRecord(
  db: Db,
  tenantId: string,
  importId: string,
): Promise<ImportHistoryEntry | undefined> {
  return isUuid(importId) ? findImport(db, tenantId, importId) : Promise.resolve(undefined);
}
