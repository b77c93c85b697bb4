import type { Kysely } from 'kysely';
import { AppError } from '../errors.ts';
import type { Database } from '../storage/schema.ts';
import { searchText } from './rows.ts';
import {
  dropChildLinks,
  findFramework,
  findItem,
  insertAudit,
  insertFramework,
  insertItems,
  listItems,
  nextSequence,
  setItemsArchived,
  shiftSiblings,
  touchFramework,
  updateItemFields,
  type FrameworkRow,
  type ItemRow,
  type StandardsDb,
} from '../storage/standards/standards.repository.ts';

/**
 * Authoring of district-defined standards: every change runs in one transaction with its audit row
 * (who, what, before, after), and locks the framework row so two admins editing the same framework
 * are serialized (the duplicate-code check would otherwise race).
 */

export type AuthoringErrorCode =
  | 'framework_not_found'
  | 'item_not_found'
  | 'missing_title'
  | 'missing_statement'
  | 'duplicate_code'
  | 'unknown_parent'
  | 'parent_archived'
  | 'cycle'
  | 'already_archived'
  | 'not_archived';

/**
 * A change the authoring rules refuse, written for the admin who asked: a missing framework or
 * standard is a 404, any other refusal a 400 (the pages show the form again with the message).
 */
export class StandardsAuthoringError extends AppError {
  declare readonly code: AuthoringErrorCode;

  constructor(code: AuthoringErrorCode, message: string) {
    super(code === 'framework_not_found' || code === 'item_not_found' ? 404 : 400, code, message);
  }
}

export interface AuthoringDeps {
  readonly now: () => Date;
  readonly newId: () => string;
}

export interface AuthoringContext {
  readonly tenantId: string;
  /** Opaque id of the admin acting (recorded in the audit). */
  readonly actor: string;
  readonly frameworkId: string;
}

/** What the audit keeps of an item. */
export interface ItemSnapshot {
  readonly code: string | null;
  readonly fullStatement: string;
  readonly abbreviatedStatement: string | null;
  readonly itemType: string | null;
  readonly educationLevels: readonly string[];
  readonly parentId: string | null;
  readonly position: number;
  readonly archivedAt: string | null;
}

function snapshotOf(row: ItemRow): ItemSnapshot {
  return {
    code: row.code,
    fullStatement: row.full_statement,
    abbreviatedStatement: row.abbreviated_statement,
    itemType: row.item_type,
    educationLevels: row.education_levels,
    parentId: row.parent_item_id,
    position: row.position,
    archivedAt: row.archived_at === null ? null : row.archived_at.toISOString(),
  };
}

function cleanText(value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

function requireStatement(value: string | undefined): string {
  // Statements keep their line breaks and Markdown; only blank ones are refused.
  if (value === undefined || value.trim() === '') {
    throw new StandardsAuthoringError(
      'missing_statement',
      'Every standard needs a statement: type what students should know or be able to do.',
    );
  }
  return value;
}

async function lockFramework(tx: StandardsDb, context: AuthoringContext): Promise<FrameworkRow> {
  const framework = await findFramework(tx, context.tenantId, context.frameworkId, {
    forUpdate: true,
  });
  if (!framework) {
    throw new StandardsAuthoringError('framework_not_found', 'This framework does not exist.');
  }
  return framework;
}

async function requireItem(
  tx: StandardsDb,
  context: AuthoringContext,
  itemId: string,
): Promise<ItemRow> {
  const item = await findItem(tx, context.tenantId, context.frameworkId, itemId);
  if (!item) {
    throw new StandardsAuthoringError('item_not_found', 'This standard is not in the framework.');
  }
  return item;
}

/** Codes are how teachers find a standard: in frameworks the district authors, they must be unique. */
function checkCodeUnique(
  framework: FrameworkRow,
  items: readonly ItemRow[],
  code: string | null,
  exceptId: string | null,
): void {
  if (framework.source !== 'authored' || code === null) return;
  const wanted = code.toLowerCase();
  const clash = items.find(
    (item) =>
      item.id !== exceptId && item.archived_at === null && item.code?.toLowerCase() === wanted,
  );
  if (clash) {
    throw new StandardsAuthoringError(
      'duplicate_code',
      `The code "${code}" is already used by another standard in this framework ("${clash.full_statement.slice(0, 80)}"). Choose a different code.`,
    );
  }
}

function checkParent(items: readonly ItemRow[], parentId: string | null): void {
  if (parentId === null) return;
  const parent = items.find((item) => item.id === parentId);
  if (!parent) {
    throw new StandardsAuthoringError(
      'unknown_parent',
      'The chosen parent is not a standard of this framework.',
    );
  }
  if (parent.archived_at !== null) {
    throw new StandardsAuthoringError(
      'parent_archived',
      'The chosen parent is archived; restore it first or choose another parent.',
    );
  }
}

/**
 * The stored position that puts an item at 1-based `position` among the active children of
 * `parentId` (after the last one when absent or beyond the end), and the sibling rows concerned.
 */
function placement(
  items: readonly ItemRow[],
  parentId: string | null,
  position: number | undefined,
  exceptId: string | null,
): { readonly stored: number; readonly shift: boolean; readonly siblings: ItemRow[] } {
  const siblings = items
    .filter((item) => item.parent_item_id === parentId && item.id !== exceptId)
    .sort((a, b) => a.position - b.position || a.sequence - b.sequence);
  const active = siblings.filter((item) => item.archived_at === null);
  const target = position === undefined ? undefined : active[Math.max(1, position) - 1];
  if (target) return { stored: target.position, shift: true, siblings };
  const last = siblings.at(-1)?.position ?? 0;
  return { stored: last + 1, shift: false, siblings };
}

/** Every item of the framework, archived ones too, in file order. */
function allItems(tx: StandardsDb, context: AuthoringContext): Promise<ItemRow[]> {
  return listItems(tx, context.tenantId, context.frameworkId, {
    includeArchived: true,
    orderBy: 'sequence',
  });
}

/** Makes room at a placement before an active sibling: it and those after move down one. */
async function makeRoom(
  tx: StandardsDb,
  context: AuthoringContext,
  parentId: string | null,
  place: ReturnType<typeof placement>,
): Promise<void> {
  if (!place.shift) return;
  await shiftSiblings(tx, context.tenantId, context.frameworkId, parentId, place.stored, 1);
}

async function audit(
  tx: StandardsDb,
  context: AuthoringContext,
  itemId: string | null,
  action: string,
  before: unknown,
  after: unknown,
  at: Date,
): Promise<void> {
  await insertAudit(tx, {
    tenantId: context.tenantId,
    frameworkId: context.frameworkId,
    itemId,
    actor: context.actor,
    action,
    before,
    after,
    at,
  });
}

export interface NewFramework {
  readonly tenantId: string;
  readonly actor: string;
  readonly title: string;
  readonly creator: string;
  readonly subjects?: readonly string[];
  readonly description?: string;
  readonly language?: string;
  readonly version?: string;
}

export async function createFramework(
  db: Kysely<Database>,
  input: NewFramework,
  deps: AuthoringDeps,
): Promise<string> {
  const title = cleanText(input.title);
  if (title === null) {
    throw new StandardsAuthoringError('missing_title', 'Give the framework a title.');
  }
  const creator = cleanText(input.creator) ?? title;
  return db.transaction().execute(async (tx) => {
    const now = deps.now();
    const guid = deps.newId();
    const frameworkId = await insertFramework(tx, {
      tenantId: input.tenantId,
      content: {
        case_guid: guid,
        // No public CASE server yet: a URN is a valid, stable CASE URI for the document.
        uri: `urn:uuid:${guid}`,
        title,
        creator,
        publisher: null,
        version: cleanText(input.version),
        subjects: (input.subjects ?? []).map((s) => s.trim()).filter((s) => s !== ''),
        adoption_status: 'Draft',
        language: cleanText(input.language),
        description: cleanText(input.description),
        licence: null,
        notes: null,
        case_version: '1.0',
        definitions: {
          concepts: [],
          subjects: [],
          licences: [],
          itemTypes: [],
          associationGroupings: [],
        },
        rubrics: [],
        extensions: null,
        extra: { lastChangeDateTime: now.toISOString() },
      },
      source: 'authored',
      sourceUrl: null,
      importedAt: null,
      now,
    });
    await audit(
      tx,
      { tenantId: input.tenantId, actor: input.actor, frameworkId },
      null,
      'framework_created',
      null,
      { title, creator },
      now,
    );
    return frameworkId;
  });
}

export interface NewItem {
  readonly parentId: string | null;
  /** 1-based among the parent's active children; after the last when absent. */
  readonly position?: number;
  readonly code?: string;
  readonly fullStatement: string;
  readonly abbreviatedStatement?: string;
  readonly itemType?: string;
  readonly educationLevels?: readonly string[];
}

export async function addItem(
  db: Kysely<Database>,
  context: AuthoringContext,
  input: NewItem,
  deps: AuthoringDeps,
): Promise<string> {
  const fullStatement = requireStatement(input.fullStatement);
  const code = cleanText(input.code);
  return db.transaction().execute(async (tx) => {
    const now = deps.now();
    const framework = await lockFramework(tx, context);
    const items = await allItems(tx, context);
    checkParent(items, input.parentId);
    checkCodeUnique(framework, items, code, null);
    const place = placement(items, input.parentId, input.position, null);
    await makeRoom(tx, context, input.parentId, place);
    const id = deps.newId();
    const guid = deps.newId();
    const abbreviated = cleanText(input.abbreviatedStatement);
    await insertItems(
      tx,
      context.tenantId,
      context.frameworkId,
      [
        {
          id,
          guid,
          uri: `urn:uuid:${guid}`,
          code,
          full_statement: fullStatement,
          abbreviated_statement: abbreviated,
          item_type: cleanText(input.itemType),
          education_levels: (input.educationLevels ?? []).map((level) => level.trim()),
          extra: { lastChangeDateTime: now.toISOString() },
          search: searchText(code, abbreviated, fullStatement),
          parent_item_id: input.parentId,
          position: place.stored,
          sequence: await nextSequence(tx, context.tenantId, context.frameworkId),
        },
      ],
      now,
    );
    await dropChildLinks(
      tx,
      context.tenantId,
      context.frameworkId,
      place.siblings.map((s) => s.guid),
    );
    await touchFramework(tx, context.tenantId, context.frameworkId, now);
    const created = await requireItem(tx, context, id);
    await audit(tx, context, id, 'item_added', null, snapshotOf(created), now);
    return id;
  });
}

/** What one change to an existing standard sees inside its transaction. */
interface ItemChange {
  readonly tx: StandardsDb;
  readonly now: Date;
  /** Locked for the transaction (see the module comment). */
  readonly framework: FrameworkRow;
  readonly before: ItemRow;
}

/**
 * One change to an existing standard, in one transaction: lock the framework, read the item as it
 * was, apply `change`, touch the framework, then audit the item before and after. `change` may
 * return fields the audit keeps beside the item's `after` snapshot.
 */
async function changeItem(
  db: Kysely<Database>,
  context: AuthoringContext,
  itemId: string,
  action: string,
  deps: AuthoringDeps,
  change: (step: ItemChange) => Promise<Readonly<Record<string, unknown>> | undefined>,
): Promise<void> {
  await db.transaction().execute(async (tx) => {
    const now = deps.now();
    const framework = await lockFramework(tx, context);
    const before = await requireItem(tx, context, itemId);
    const extra = await change({ tx, now, framework, before });
    await touchFramework(tx, context.tenantId, context.frameworkId, now);
    const after = await requireItem(tx, context, itemId);
    await audit(
      tx,
      context,
      itemId,
      action,
      snapshotOf(before),
      { ...snapshotOf(after), ...extra },
      now,
    );
  });
}

export interface ItemEdit {
  /** null removes the code. */
  readonly code?: string | null;
  readonly fullStatement?: string;
  readonly abbreviatedStatement?: string | null;
  readonly itemType?: string | null;
  readonly educationLevels?: readonly string[];
}

export async function editItem(
  db: Kysely<Database>,
  context: AuthoringContext,
  itemId: string,
  edit: ItemEdit,
  deps: AuthoringDeps,
): Promise<void> {
  if (edit.fullStatement !== undefined) requireStatement(edit.fullStatement);
  await changeItem(
    db,
    context,
    itemId,
    'item_edited',
    deps,
    async ({ tx, now, framework, before }) => {
      const code = edit.code === undefined ? before.code : cleanText(edit.code);
      if (code !== before.code) {
        const items = await listItems(tx, context.tenantId, context.frameworkId, {
          includeArchived: false,
          orderBy: 'sequence',
        });
        checkCodeUnique(framework, items, code, itemId);
      }
      const fullStatement = edit.fullStatement ?? before.full_statement;
      const abbreviated =
        edit.abbreviatedStatement === undefined
          ? before.abbreviated_statement
          : cleanText(edit.abbreviatedStatement);
      await updateItemFields(
        tx,
        context.tenantId,
        context.frameworkId,
        itemId,
        {
          code,
          full_statement: fullStatement,
          abbreviated_statement: abbreviated,
          item_type: edit.itemType === undefined ? before.item_type : cleanText(edit.itemType),
          education_levels:
            edit.educationLevels === undefined
              ? before.education_levels
              : edit.educationLevels.map((level) => level.trim()),
          // CASE: lastChangeDateTime tells subscribers which items changed.
          extra: { ...before.extra, lastChangeDateTime: now.toISOString() },
          search: searchText(code, abbreviated, fullStatement),
        },
        now,
      );
      return undefined;
    },
  );
}

export async function moveItem(
  db: Kysely<Database>,
  context: AuthoringContext,
  itemId: string,
  target: { readonly parentId: string | null; readonly position?: number },
  deps: AuthoringDeps,
): Promise<void> {
  await changeItem(db, context, itemId, 'item_moved', deps, async ({ tx, now, before }) => {
    const items = await allItems(tx, context);
    checkParent(items, target.parentId);
    const parentOf = new Map(items.map((item) => [item.id, item.parent_item_id]));
    for (let at = target.parentId; at !== null; at = parentOf.get(at) ?? null) {
      if (at === itemId) {
        throw new StandardsAuthoringError(
          'cycle',
          'A standard cannot be moved under itself or under one of its own sub-standards.',
        );
      }
    }
    const oldSiblings = items.filter(
      (item) => item.parent_item_id === before.parent_item_id && item.id !== itemId,
    );
    // Close the gap left behind, then make room at the target.
    await shiftSiblings(
      tx,
      context.tenantId,
      context.frameworkId,
      before.parent_item_id,
      before.position + 1,
      -1,
    );
    const place = placement(await allItems(tx, context), target.parentId, target.position, itemId);
    await makeRoom(tx, context, target.parentId, place);
    await updateItemFields(
      tx,
      context.tenantId,
      context.frameworkId,
      itemId,
      { parent_item_id: target.parentId, position: place.stored },
      now,
    );
    await dropChildLinks(tx, context.tenantId, context.frameworkId, [
      before.guid,
      ...oldSiblings.map((s) => s.guid),
      ...place.siblings.map((s) => s.guid),
    ]);
    return undefined;
  });
}

function descendantsOf(items: readonly ItemRow[], rootId: string): ItemRow[] {
  const children = new Map<string, ItemRow[]>();
  for (const item of items) {
    if (item.parent_item_id === null) continue;
    const list = children.get(item.parent_item_id);
    if (list) list.push(item);
    else children.set(item.parent_item_id, [item]);
  }
  const out: ItemRow[] = [];
  const stack = [...(children.get(rootId) ?? [])];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    out.push(next);
    stack.push(...(children.get(next.id) ?? []));
  }
  return out;
}

/** Archives a standard and its active sub-standards (never deletes: evidence may point at them). */
export async function archiveItem(
  db: Kysely<Database>,
  context: AuthoringContext,
  itemId: string,
  deps: AuthoringDeps,
): Promise<void> {
  await changeItem(db, context, itemId, 'item_archived', deps, async ({ tx, now, before }) => {
    if (before.archived_at !== null) {
      throw new StandardsAuthoringError('already_archived', 'This standard is already archived.');
    }
    const items = await allItems(tx, context);
    const descendants = descendantsOf(items, itemId).filter((item) => item.archived_at === null);
    await setItemsArchived(
      tx,
      context.tenantId,
      context.frameworkId,
      [itemId, ...descendants.map((item) => item.id)],
      now,
      now,
    );
    return { archivedDescendantIds: descendants.map((item) => item.id) };
  });
}

/** Restores a standard and the sub-standards that were archived with it. */
export async function restoreItem(
  db: Kysely<Database>,
  context: AuthoringContext,
  itemId: string,
  deps: AuthoringDeps,
): Promise<void> {
  await changeItem(
    db,
    context,
    itemId,
    'item_restored',
    deps,
    async ({ tx, now, framework, before }) => {
      const archivedAt = before.archived_at;
      if (archivedAt === null) {
        throw new StandardsAuthoringError('not_archived', 'This standard is not archived.');
      }
      const items = await allItems(tx, context);
      checkParent(items, before.parent_item_id);
      const restored = [
        before,
        ...descendantsOf(items, itemId).filter(
          (item) => item.archived_at?.getTime() === archivedAt.getTime(),
        ),
      ];
      for (const item of restored) checkCodeUnique(framework, items, item.code, item.id);
      await setItemsArchived(
        tx,
        context.tenantId,
        context.frameworkId,
        restored.map((item) => item.id),
        null,
        now,
      );
      return { restoredDescendantIds: restored.slice(1).map((item) => item.id) };
    },
  );
}

export { listAudit, type AuditEntry } from '../storage/standards/standards.repository.ts';
