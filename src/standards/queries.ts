import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import { contentToFramework, frameworkRowContent, rowToAssociation, rowToItem } from './rows.ts';
import {
  findFramework,
  findItemsByIds as findItemRowsByIds,
  frameworkRevision,
  listAssociations,
  listItems,
  type ItemRow,
} from '../storage/standards/standards.repository.ts';
import { exportCasePackage, type CasePackageJson } from './formats/case-export.ts';
import { exportStandardsCsv } from './formats/csv-export.ts';
import type { StandardsCsvForm } from './formats/csv-import.ts';
import type { Framework, Item } from '../domain/standards-model.ts';
import { buildSearchIndex, searchItems, type SearchIndex } from './text/search.ts';

export {
  listFrameworks,
  type FrameworkSummary,
} from '../storage/standards/standards.repository.ts';

/** An item as the UI sees it: the model plus its database id and tree links by id. */
export interface StoredItem {
  readonly id: string;
  readonly frameworkId: string;
  readonly parentId: string | null;
  readonly archivedAt: Date | null;
  readonly item: Item;
}

/**
 * Turns rows into model items. `order` is the rank among the listed siblings, so gaps left by
 * archived siblings do not show (CASE sequence numbers only order, they are not slots).
 */
function toStoredItems(rows: readonly ItemRow[]): StoredItem[] {
  const guidById = new Map(rows.map((row) => [row.id, row.guid]));
  const siblings = new Map<string | null, ItemRow[]>();
  for (const row of rows) {
    const key = row.parent_item_id;
    const list = siblings.get(key);
    if (list) list.push(row);
    else siblings.set(key, [row]);
  }
  const order = new Map<string, number>();
  for (const list of siblings.values()) {
    list
      .slice()
      .sort((a, b) => a.position - b.position || a.sequence - b.sequence)
      .forEach((row, index) => order.set(row.id, index + 1));
  }
  return rows.map((row) => ({
    id: row.id,
    frameworkId: row.framework_id,
    parentId: row.parent_item_id,
    archivedAt: row.archived_at,
    item: rowToItem(
      row,
      row.parent_item_id === null ? null : (guidById.get(row.parent_item_id) ?? null),
      order.get(row.id) ?? 1,
    ),
  }));
}

/** The framework as the model, active items only, in the order they were imported or authored. */
export async function loadFramework(
  db: Kysely<Database>,
  tenantId: string,
  frameworkId: string,
): Promise<Framework | undefined> {
  const row = await findFramework(db, tenantId, frameworkId);
  if (!row) return undefined;
  const itemRows = await listItems(db, tenantId, frameworkId, {
    includeArchived: false,
    orderBy: 'sequence',
  });
  const items = toStoredItems(itemRows).map((stored) => stored.item);
  const archivedGuids = new Set(
    (await listItems(db, tenantId, frameworkId, { includeArchived: true, orderBy: 'sequence' }))
      .filter((item) => item.archived_at !== null)
      .map((item) => item.guid),
  );
  // Links of archived items would point at nodes the package no longer holds.
  const associations = (await listAssociations(db, tenantId, frameworkId))
    .map(rowToAssociation)
    .filter(
      (association) =>
        !archivedGuids.has(association.origin.identifier) &&
        !archivedGuids.has(association.destination.identifier),
    );
  return contentToFramework(frameworkRowContent(row), items, associations);
}

export async function exportFrameworkAsCase(
  db: Kysely<Database>,
  tenantId: string,
  frameworkId: string,
): Promise<CasePackageJson | undefined> {
  const framework = await loadFramework(db, tenantId, frameworkId);
  return framework ? exportCasePackage(framework) : undefined;
}

export async function exportFrameworkAsCsv(
  db: Kysely<Database>,
  tenantId: string,
  frameworkId: string,
  form: StandardsCsvForm,
): Promise<string | undefined> {
  const framework = await loadFramework(db, tenantId, frameworkId);
  return framework ? exportStandardsCsv(framework, form) : undefined;
}

/**
 * The tree in reading order: depth first, each parent before its children, siblings by position.
 * Archived items are left out unless asked for (their children with them).
 */
export async function loadTree(
  db: Kysely<Database>,
  tenantId: string,
  frameworkId: string,
  options: { readonly includeArchived?: boolean } = {},
): Promise<StoredItem[]> {
  const rows = await listItems(db, tenantId, frameworkId, {
    includeArchived: options.includeArchived ?? false,
    orderBy: 'tree',
  });
  const stored = toStoredItems(rows);
  const children = new Map<string | null, StoredItem[]>();
  for (const item of stored) {
    const list = children.get(item.parentId);
    if (list) list.push(item);
    else children.set(item.parentId, [item]);
  }
  for (const list of children.values()) list.sort((a, b) => a.item.order - b.item.order);
  const out: StoredItem[] = [];
  const visit = (parentId: string | null): void => {
    for (const item of children.get(parentId) ?? []) {
      out.push(item);
      visit(item.id);
    }
  };
  visit(null);
  return out;
}

/** Items by id across the tenant's frameworks (archived included: old evidence may point at them). */
export async function findItemsByIds(
  db: Kysely<Database>,
  tenantId: string,
  ids: readonly string[],
): Promise<StoredItem[]> {
  const rows = await findItemRowsByIds(db, tenantId, ids);
  const guids = new Map<string, string>();
  const parentIds = rows.map((row) => row.parent_item_id).filter((id): id is string => id !== null);
  for (const parent of await findItemRowsByIds(db, tenantId, parentIds)) {
    guids.set(parent.id, parent.guid);
  }
  return rows.map((row) => ({
    id: row.id,
    frameworkId: row.framework_id,
    parentId: row.parent_item_id,
    archivedAt: row.archived_at,
    item: rowToItem(
      row,
      row.parent_item_id === null ? null : (guids.get(row.parent_item_id) ?? null),
      row.position,
    ),
  }));
}

// ---------------------------------------------------------------- search

interface CachedIndex {
  readonly revision: number;
  readonly index: SearchIndex;
  readonly idOf: ReadonlyMap<Item, StoredItem>;
}

/**
 * Search indexes by framework, owned by the caller (one per app instance). An entry is used only
 * while the framework's revision is the one it was built from; every import or authoring change
 * bumps the revision, so a change in any process makes every cache rebuild on its next search.
 */
export interface StandardsSearchCache {
  readonly entries: Map<string, CachedIndex>;
}

export function createStandardsSearchCache(): StandardsSearchCache {
  return { entries: new Map() };
}

export interface StandardsSearchHit {
  readonly stored: StoredItem;
  readonly matchedBy: 'code' | 'text';
}

export async function searchStandards(
  db: Kysely<Database>,
  cache: StandardsSearchCache,
  request: {
    readonly tenantId: string;
    readonly frameworkId: string;
    readonly query: string;
    readonly limit: number;
  },
): Promise<StandardsSearchHit[]> {
  const revision = await frameworkRevision(db, request.tenantId, request.frameworkId);
  if (revision === undefined) return [];
  // The key holds the tenant too: a framework id from another tenant must never hit this entry.
  const key = `${request.tenantId}:${request.frameworkId}`;
  let entry = cache.entries.get(key);
  if (entry?.revision !== revision) {
    const stored = await loadTree(db, request.tenantId, request.frameworkId);
    const idOf = new Map(stored.map((s) => [s.item, s]));
    entry = { revision, index: buildSearchIndex(stored.map((s) => s.item)), idOf };
    cache.entries.set(key, entry);
  }
  const found = entry;
  return searchItems(found.index, request.query, request.limit).flatMap((hit) => {
    const stored = found.idOf.get(hit.item);
    return stored ? [{ stored, matchedBy: hit.matchedBy }] : [];
  });
}
