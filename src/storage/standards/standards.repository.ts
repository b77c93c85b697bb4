import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database } from '../schema.ts';
import type {
  AssociationContent,
  FrameworkContent,
  ItemContent,
  StoredItemRow,
} from './content.ts';
import type {
  FrameworkSource,
  ImportStatus,
  StandardFrameworkTable,
  StandardItemTable,
} from './schema.ts';

/**
 * All SQL of the standards area. Every function takes the tenant and filters on it; functions that
 * run inside a use case's transaction take that transaction as `db` (a Kysely `Transaction` is a
 * `Kysely`), so nothing here opens a connection of its own.
 */
export type StandardsDb = Kysely<Database>;

export type FrameworkRow = Selectable<StandardFrameworkTable>;
export type ItemRow = Selectable<StandardItemTable>;

const json = (value: unknown): string => JSON.stringify(value);

// ---------------------------------------------------------------- frameworks

/** One of the district's frameworks by id or CASE GUID, locked for update when asked. */
async function findFrameworkWhere(
  db: StandardsDb,
  tenantId: string,
  column: 'id' | 'case_guid',
  value: string,
  options: { readonly forUpdate: boolean },
): Promise<FrameworkRow | undefined> {
  let query = db
    .selectFrom('standard_frameworks')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where(column, '=', value);
  if (options.forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

export function findFrameworkByGuid(
  db: StandardsDb,
  tenantId: string,
  caseGuid: string,
  options: { readonly forUpdate: boolean },
): Promise<FrameworkRow | undefined> {
  return findFrameworkWhere(db, tenantId, 'case_guid', caseGuid, options);
}

export function findFramework(
  db: StandardsDb,
  tenantId: string,
  frameworkId: string,
  options: { readonly forUpdate: boolean } = { forUpdate: false },
): Promise<FrameworkRow | undefined> {
  return findFrameworkWhere(db, tenantId, 'id', frameworkId, options);
}

export interface FrameworkSummary {
  readonly id: string;
  readonly caseGuid: string;
  readonly title: string;
  readonly creator: string;
  readonly version: string | null;
  readonly subjects: readonly string[];
  readonly source: FrameworkSource;
  readonly itemCount: number;
  readonly updatedAt: Date;
}

export async function listFrameworks(
  db: StandardsDb,
  tenantId: string,
): Promise<FrameworkSummary[]> {
  const rows = await db
    .selectFrom('standard_frameworks as f')
    .where('f.tenant_id', '=', tenantId)
    .select((eb) => [
      'f.id',
      'f.case_guid',
      'f.title',
      'f.creator',
      'f.version',
      'f.subjects',
      'f.source',
      'f.updated_at',
      eb
        .selectFrom('standard_items as i')
        .whereRef('i.framework_id', '=', 'f.id')
        .where('i.tenant_id', '=', tenantId)
        .where('i.archived_at', 'is', null)
        .select((e) => e.fn.countAll<string>().as('n'))
        .as('item_count'),
    ])
    .orderBy('f.title')
    .orderBy('f.id')
    .execute();
  return rows.map((row) => ({
    id: row.id,
    caseGuid: row.case_guid,
    title: row.title,
    creator: row.creator,
    version: row.version,
    subjects: row.subjects,
    source: row.source,
    itemCount: Number(row.item_count ?? 0),
    updatedAt: row.updated_at,
  }));
}

function frameworkValues(content: FrameworkContent) {
  return {
    case_guid: content.case_guid,
    uri: content.uri,
    title: content.title,
    creator: content.creator,
    publisher: content.publisher,
    version: content.version,
    subjects: [...content.subjects],
    adoption_status: content.adoption_status,
    language: content.language,
    description: content.description,
    licence: content.licence === null ? null : json(content.licence),
    notes: content.notes,
    case_version: content.case_version,
    definitions: json(content.definitions),
    rubrics: json(content.rubrics),
    extensions: content.extensions === null ? null : json(content.extensions),
    extra: json(content.extra),
  };
}

export async function insertFramework(
  db: StandardsDb,
  values: {
    readonly tenantId: string;
    readonly content: FrameworkContent;
    readonly source: FrameworkSource;
    readonly sourceUrl: string | null;
    readonly importedAt: Date | null;
    readonly now: Date;
  },
): Promise<string> {
  const row = await db
    .insertInto('standard_frameworks')
    .values({
      tenant_id: values.tenantId,
      ...frameworkValues(values.content),
      source: values.source,
      source_url: values.sourceUrl,
      imported_at: values.importedAt,
      created_at: values.now,
      updated_at: values.now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** Writes the framework's content and bumps its revision (search caches see it is stale). */
export async function updateFramework(
  db: StandardsDb,
  values: {
    readonly tenantId: string;
    readonly frameworkId: string;
    readonly content: FrameworkContent;
    readonly source: FrameworkSource;
    readonly sourceUrl: string | null;
    readonly importedAt: Date | null;
    readonly now: Date;
  },
): Promise<void> {
  await db
    .updateTable('standard_frameworks')
    .set((eb) => ({
      ...frameworkValues(values.content),
      source: values.source,
      source_url: values.sourceUrl,
      imported_at: values.importedAt,
      updated_at: values.now,
      revision: eb('revision', '+', 1),
    }))
    .where('tenant_id', '=', values.tenantId)
    .where('id', '=', values.frameworkId)
    .execute();
}

export async function touchFramework(
  db: StandardsDb,
  tenantId: string,
  frameworkId: string,
  now: Date,
): Promise<void> {
  await db
    .updateTable('standard_frameworks')
    .set((eb) => ({ updated_at: now, revision: eb('revision', '+', 1) }))
    .where('tenant_id', '=', tenantId)
    .where('id', '=', frameworkId)
    .execute();
}

export async function frameworkRevision(
  db: StandardsDb,
  tenantId: string,
  frameworkId: string,
): Promise<number | undefined> {
  const row = await db
    .selectFrom('standard_frameworks')
    .select('revision')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', frameworkId)
    .executeTakeFirst();
  return row?.revision;
}

// ---------------------------------------------------------------- items

export async function listItems(
  db: StandardsDb,
  tenantId: string,
  frameworkId: string,
  options: { readonly includeArchived: boolean; readonly orderBy: 'sequence' | 'tree' },
): Promise<ItemRow[]> {
  let query = db
    .selectFrom('standard_items')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('framework_id', '=', frameworkId);
  if (!options.includeArchived) query = query.where('archived_at', 'is', null);
  query =
    options.orderBy === 'sequence'
      ? query.orderBy('sequence').orderBy('id')
      : query
          .orderBy(sql`parent_item_id NULLS FIRST`)
          .orderBy('position')
          .orderBy('sequence');
  return query.execute();
}

export async function findItemsByIds(
  db: StandardsDb,
  tenantId: string,
  ids: readonly string[],
): Promise<ItemRow[]> {
  if (ids.length === 0) return [];
  return db
    .selectFrom('standard_items')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', sql<string>`ANY(${sql.val([...ids])}::uuid[])`)
    .execute();
}

export async function findItem(
  db: StandardsDb,
  tenantId: string,
  frameworkId: string,
  itemId: string,
): Promise<ItemRow | undefined> {
  return db
    .selectFrom('standard_items')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('framework_id', '=', frameworkId)
    .where('id', '=', itemId)
    .executeTakeFirst();
}

/** One item as an import or authoring writes it: content plus tree place. */
export interface ItemWrite extends ItemContent {
  readonly id: string;
  readonly parent_item_id: string | null;
  readonly position: number;
  readonly sequence: number;
}

const ITEM_RECORD = sql.raw(
  `x(id uuid, guid text, uri text, code text, full_statement text, abbreviated_statement text,
     item_type text, education_levels text[], parent_item_id uuid, position integer, sequence integer,
     extra jsonb, search text)`,
);

/**
 * Inserts many items with one statement per call: the rows travel as one jsonb parameter
 * (jsonb_to_recordset), so a chunk is not bounded by PostgreSQL's 65,535 bind parameters.
 */
export async function insertItems(
  db: StandardsDb,
  tenantId: string,
  frameworkId: string,
  rows: readonly ItemWrite[],
  now: Date,
): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    INSERT INTO standard_items (id, tenant_id, framework_id, guid, uri, code, full_statement,
      abbreviated_statement, item_type, education_levels, parent_item_id, position, sequence, extra,
      search, archived_at, created_at, updated_at)
    SELECT x.id, ${tenantId}::uuid, ${frameworkId}::uuid, x.guid, x.uri, x.code, x.full_statement,
      x.abbreviated_statement, x.item_type, coalesce(x.education_levels, '{}'), x.parent_item_id,
      x.position, x.sequence, coalesce(x.extra, '{}'), x.search, NULL, ${now}, ${now}
    FROM jsonb_to_recordset(${json(rows)}::jsonb) AS ${ITEM_RECORD}
  `.execute(db);
}

/** Rewrites items (content and tree place) and un-archives them. */
export async function updateItems(
  db: StandardsDb,
  tenantId: string,
  frameworkId: string,
  rows: readonly ItemWrite[],
  now: Date,
): Promise<void> {
  if (rows.length === 0) return;
  await sql`
    UPDATE standard_items AS s SET
      guid = x.guid, uri = x.uri, code = x.code, full_statement = x.full_statement,
      abbreviated_statement = x.abbreviated_statement, item_type = x.item_type,
      education_levels = coalesce(x.education_levels, '{}'), parent_item_id = x.parent_item_id,
      position = x.position, sequence = x.sequence, extra = coalesce(x.extra, '{}'),
      search = x.search, archived_at = NULL, updated_at = ${now}
    FROM jsonb_to_recordset(${json(rows)}::jsonb) AS ${ITEM_RECORD}
    WHERE s.id = x.id AND s.tenant_id = ${tenantId}::uuid AND s.framework_id = ${frameworkId}::uuid
  `.execute(db);
}

/** Archives the framework's active items whose ids are not in `keep`; returns how many. */
export async function archiveItemsExcept(
  db: StandardsDb,
  tenantId: string,
  frameworkId: string,
  keep: readonly string[],
  now: Date,
): Promise<number> {
  const result = await db
    .updateTable('standard_items')
    .set({ archived_at: now, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('framework_id', '=', frameworkId)
    .where('archived_at', 'is', null)
    .where(sql<boolean>`NOT (id = ANY(${sql.val([...keep])}::uuid[]))`)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function setItemsArchived(
  db: StandardsDb,
  tenantId: string,
  frameworkId: string,
  ids: readonly string[],
  archivedAt: Date | null,
  now: Date,
): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('standard_items')
    .set({ archived_at: archivedAt, updated_at: now })
    .where('tenant_id', '=', tenantId)
    .where('framework_id', '=', frameworkId)
    .where('id', '=', sql<string>`ANY(${sql.val([...ids])}::uuid[])`)
    .execute();
}

/** Makes room at `position` among the children of `parentId` (null = top level). */
export async function shiftSiblings(
  db: StandardsDb,
  tenantId: string,
  frameworkId: string,
  parentId: string | null,
  fromPosition: number,
  by: number,
): Promise<void> {
  await db
    .updateTable('standard_items')
    .set((eb) => ({ position: eb('position', '+', by) }))
    .where('tenant_id', '=', tenantId)
    .where('framework_id', '=', frameworkId)
    .where('parent_item_id', parentId === null ? 'is' : '=', parentId)
    .where('position', '>=', fromPosition)
    .execute();
}

export async function updateItemFields(
  db: StandardsDb,
  tenantId: string,
  frameworkId: string,
  itemId: string,
  values: {
    readonly code?: string | null;
    readonly full_statement?: string;
    readonly abbreviated_statement?: string | null;
    readonly item_type?: string | null;
    readonly education_levels?: readonly string[];
    readonly parent_item_id?: string | null;
    readonly position?: number;
    readonly extra?: Record<string, unknown>;
    readonly search?: string;
  },
  now: Date,
): Promise<void> {
  const { extra, education_levels, ...rest } = values;
  await db
    .updateTable('standard_items')
    .set({
      ...rest,
      ...(extra === undefined ? {} : { extra: json(extra) }),
      ...(education_levels === undefined ? {} : { education_levels: [...education_levels] }),
      updated_at: now,
    })
    .where('tenant_id', '=', tenantId)
    .where('framework_id', '=', frameworkId)
    .where('id', '=', itemId)
    .execute();
}

export async function nextSequence(
  db: StandardsDb,
  tenantId: string,
  frameworkId: string,
): Promise<number> {
  const row = await db
    .selectFrom('standard_items')
    .select((eb) => eb.fn.max<number | null>('sequence').as('max'))
    .where('tenant_id', '=', tenantId)
    .where('framework_id', '=', frameworkId)
    .executeTakeFirst();
  return (row?.max ?? -1) + 1;
}

export function toStoredItem(row: ItemRow): StoredItemRow {
  return row;
}

// ---------------------------------------------------------------- associations

export async function listAssociations(
  db: StandardsDb,
  tenantId: string,
  frameworkId: string,
): Promise<AssociationContent[]> {
  // The jsonb columns hold what associationContent wrote (NodeRef objects).
  const rows = await db
    .selectFrom('standard_associations')
    .select(['guid', 'association_type', 'origin', 'destination', 'sequence_number', 'extra'])
    .where('tenant_id', '=', tenantId)
    .where('framework_id', '=', frameworkId)
    .orderBy('sequence')
    .execute();
  return rows as unknown as AssociationContent[];
}

export async function replaceAssociations(
  db: StandardsDb,
  tenantId: string,
  frameworkId: string,
  rows: readonly AssociationContent[],
  chunkSize: number,
): Promise<void> {
  await db
    .deleteFrom('standard_associations')
    .where('tenant_id', '=', tenantId)
    .where('framework_id', '=', frameworkId)
    .execute();
  for (let start = 0; start < rows.length; start += chunkSize) {
    const chunk = rows.slice(start, start + chunkSize).map((row, i) => ({
      ...row,
      sequence: start + i,
    }));
    await sql`
      INSERT INTO standard_associations (tenant_id, framework_id, guid, association_type, origin,
        destination, sequence_number, sequence, extra)
      SELECT ${tenantId}::uuid, ${frameworkId}::uuid, x.guid, x.association_type, x.origin,
        x.destination, x.sequence_number, x.sequence, coalesce(x.extra, '{}')
      FROM jsonb_to_recordset(${json(chunk)}::jsonb) AS x(guid text, association_type text,
        origin jsonb, destination jsonb, sequence_number integer, sequence integer, extra jsonb)
    `.execute(db);
  }
}

/**
 * Drops the stored isChildOf links of the given items. Authoring changed their place in the tree;
 * an export then writes their link from the item's parent and position, which are current.
 */
export async function dropChildLinks(
  db: StandardsDb,
  tenantId: string,
  frameworkId: string,
  itemGuids: readonly string[],
): Promise<void> {
  if (itemGuids.length === 0) return;
  await db
    .deleteFrom('standard_associations')
    .where('tenant_id', '=', tenantId)
    .where('framework_id', '=', frameworkId)
    .where('association_type', '=', 'isChildOf')
    .where(sql<boolean>`origin->>'identifier' = ANY(${sql.val([...itemGuids])}::text[])`)
    .execute();
}

// ---------------------------------------------------------------- audit

export interface AuditEntry {
  readonly id: string;
  readonly frameworkId: string;
  readonly itemId: string | null;
  readonly actor: string;
  readonly action: string;
  readonly before: unknown;
  readonly after: unknown;
  readonly at: Date;
}

export async function insertAudit(
  db: StandardsDb,
  entry: {
    readonly tenantId: string;
    readonly frameworkId: string;
    readonly itemId: string | null;
    readonly actor: string;
    readonly action: string;
    readonly before: unknown;
    readonly after: unknown;
    readonly at: Date;
  },
): Promise<void> {
  await db
    .insertInto('standard_audit')
    .values({
      tenant_id: entry.tenantId,
      framework_id: entry.frameworkId,
      item_id: entry.itemId,
      actor: entry.actor,
      action: entry.action,
      before: entry.before === null ? null : json(entry.before),
      after: entry.after === null ? null : json(entry.after),
      at: entry.at,
    })
    .execute();
}

export async function listAudit(
  db: StandardsDb,
  tenantId: string,
  frameworkId: string,
): Promise<AuditEntry[]> {
  const rows = await db
    .selectFrom('standard_audit')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('framework_id', '=', frameworkId)
    .orderBy('id')
    .execute();
  return rows.map((row) => ({
    id: String(row.id),
    frameworkId: row.framework_id,
    itemId: row.item_id,
    actor: row.actor,
    action: row.action,
    before: row.before,
    after: row.after,
    at: row.at,
  }));
}

// ---------------------------------------------------------------- import log

export interface ImportCounts {
  readonly created: number;
  readonly updated: number;
  readonly archived: number;
  readonly unchanged: number;
}

export async function startImportRecord(
  db: StandardsDb,
  values: {
    readonly tenantId: string;
    readonly actor: string;
    readonly source: FrameworkSource;
    readonly sourceUrl: string | null;
    readonly total: number;
    readonly startedAt: Date;
  },
): Promise<string> {
  const row = await db
    .insertInto('standard_imports')
    .values({
      tenant_id: values.tenantId,
      actor: values.actor,
      source: values.source,
      source_url: values.sourceUrl,
      status: 'running',
      progress_total: values.total,
      started_at: values.startedAt,
      errors: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function finishImportRecord(
  db: StandardsDb,
  values: {
    readonly tenantId: string;
    readonly importId: string;
    readonly status: Exclude<ImportStatus, 'running'>;
    readonly frameworkId: string | null;
    readonly counts: ImportCounts;
    readonly errors: unknown;
    readonly done: number;
    readonly finishedAt: Date;
  },
): Promise<void> {
  await db
    .updateTable('standard_imports')
    .set({
      status: values.status,
      framework_id: values.frameworkId,
      created_count: values.counts.created,
      updated_count: values.counts.updated,
      archived_count: values.counts.archived,
      unchanged_count: values.counts.unchanged,
      errors: values.errors === null ? null : json(values.errors),
      progress_done: values.done,
      finished_at: values.finishedAt,
    })
    .where('tenant_id', '=', values.tenantId)
    .where('id', '=', values.importId)
    .execute();
}

export async function findImportRecord(db: StandardsDb, tenantId: string, importId: string) {
  return db
    .selectFrom('standard_imports')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', importId)
    .executeTakeFirst();
}
