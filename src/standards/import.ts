import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import type { FrameworkContent } from '../storage/standards/content.ts';
import {
  associationContent,
  frameworkContent,
  frameworkRowContent,
  itemContent,
  stableStringify,
} from './rows.ts';
import type { FrameworkSource } from '../storage/standards/schema.ts';
import {
  archiveItemsExcept,
  finishImportRecord,
  findFrameworkByGuid,
  insertFramework,
  insertItems,
  listAssociations,
  listItems,
  replaceAssociations,
  startImportRecord,
  updateFramework,
  updateItems,
  type ImportCounts,
  type ItemRow,
  type FrameworkRow,
  type ItemWrite,
} from '../storage/standards/standards.repository.ts';
import type { Framework, ImportError, ImportResult } from '../domain/standards-model.ts';

export type ImportPhase = 'prepare' | 'items' | 'archive' | 'associations' | 'done';

export interface ImportProgress {
  readonly phase: ImportPhase;
  readonly done: number;
  readonly total: number;
}

export interface ImportFrameworkInput {
  readonly tenantId: string;
  /** Opaque id of who started the import. */
  readonly actor: string;
  /** A parsed framework, or the parse result itself (a failed parse is recorded and reported). */
  readonly framework: Framework | ImportResult;
  readonly source: Exclude<FrameworkSource, 'authored'>;
  readonly sourceUrl?: string;
  /**
   * Called synchronously between chunks. It runs while the import transaction is open: on PGlite
   * (one connection) a database write from here would wait for the import to finish.
   */
  readonly onProgress?: (progress: ImportProgress) => void;
}

export interface ImportDeps {
  readonly now: () => Date;
  /** New item ids (UUIDs). Ids are made here, not by the database, so parents resolve before insert. */
  readonly newId: () => string;
  /** Items per statement; default 1,000. */
  readonly chunkSize?: number;
}

export type ImportReport =
  | {
      readonly ok: true;
      readonly importId: string;
      readonly frameworkId: string;
      readonly counts: ImportCounts;
    }
  | { readonly ok: false; readonly importId: string; readonly errors: readonly ImportError[] };

const NO_COUNTS: ImportCounts = { created: 0, updated: 0, archived: 0, unchanged: 0 };

function isFramework(value: Framework | ImportResult): value is Framework {
  return 'caseGuid' in value;
}

/** A storage failure that is the data's fault (a constraint, a value PostgreSQL cannot store). */
function dataErrorOf(error: unknown): ImportError | undefined {
  const code =
    typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  const detail = error instanceof Error ? error.message : String(error);
  if (code === '23505') {
    return {
      code: 'duplicate_guid',
      message: `The database refused the framework because an identifier is used twice (${detail}). Nothing was imported.`,
    };
  }
  // Class 22: data exceptions (e.g. a NUL character in a statement); class 23: integrity constraints.
  if (code.startsWith('22') || code.startsWith('23')) {
    return {
      code: 'invalid_value',
      message: `The database refused a value in the framework (${detail}). Nothing was imported; fix the value and import again.`,
    };
  }
  return undefined;
}

function comparableItem(row: ItemRow | ItemWrite, archived: boolean): string {
  return stableStringify({
    guid: row.guid,
    uri: row.uri,
    code: row.code,
    full_statement: row.full_statement,
    abbreviated_statement: row.abbreviated_statement,
    item_type: row.item_type,
    education_levels: row.education_levels,
    parent_item_id: row.parent_item_id,
    position: row.position,
    sequence: row.sequence,
    extra: row.extra,
    search: row.search,
    archived,
  });
}

function comparableFramework(
  content: FrameworkContent,
  source: string,
  url: string | null,
): string {
  return stableStringify({ ...content, source, url });
}

type Progress = (phase: ImportPhase, done: number, phaseTotal: number) => void;

/** Which items of the file are new, changed or unchanged, with the id each one keeps or gets. */
interface ItemPlan {
  readonly idByGuid: ReadonlyMap<string, string>;
  readonly toInsert: readonly ItemWrite[];
  readonly toUpdate: readonly ItemWrite[];
  readonly unchanged: number;
}

/** Items keep their stored id (matched by GUID): alignments and evidence point at item ids. */
function planItems(
  framework: Framework,
  stored: readonly ItemRow[],
  newId: () => string,
): ItemPlan {
  const storedByGuid = new Map(stored.map((row) => [row.guid, row]));
  const idByGuid = new Map<string, string>();
  for (const item of framework.items) {
    idByGuid.set(item.guid, storedByGuid.get(item.guid)?.id ?? newId());
  }
  const toInsert: ItemWrite[] = [];
  const toUpdate: ItemWrite[] = [];
  let unchanged = 0;
  framework.items.forEach((item, sequence) => {
    const write: ItemWrite = {
      ...itemContent(item),
      id: idByGuid.get(item.guid) ?? newId(),
      parent_item_id: item.parentGuid === null ? null : (idByGuid.get(item.parentGuid) ?? null),
      position: item.order,
      sequence,
    };
    const before = storedByGuid.get(item.guid);
    if (before === undefined) toInsert.push(write);
    else if (comparableItem(before, before.archived_at !== null) !== comparableItem(write, false))
      toUpdate.push(write);
    else unchanged++;
  });
  return { idByGuid, toInsert, toUpdate, unchanged };
}

/** Writes new and changed items in chunks, reporting standards done of `total`. */
async function writeItems(
  tx: Kysely<Database>,
  target: { readonly tenantId: string; readonly frameworkId: string; readonly now: Date },
  plan: ItemPlan,
  chunkSize: number,
  progress: Progress,
): Promise<void> {
  const { tenantId, frameworkId, now } = target;
  const total = plan.idByGuid.size;
  let done = 0;
  progress('items', done, total);
  for (let start = 0; start < plan.toInsert.length; start += chunkSize) {
    const chunk = plan.toInsert.slice(start, start + chunkSize);
    await insertItems(tx, tenantId, frameworkId, chunk, now);
    done += chunk.length;
    progress('items', done, total);
  }
  for (let start = 0; start < plan.toUpdate.length; start += chunkSize) {
    const chunk = plan.toUpdate.slice(start, start + chunkSize);
    await updateItems(tx, tenantId, frameworkId, chunk, now);
    done += chunk.length;
    progress('items', done, total);
  }
  progress('items', total, total);
}

/** Replaces the framework's associations when they differ; true when they did. */
async function writeAssociations(
  tx: Kysely<Database>,
  target: { readonly tenantId: string; readonly frameworkId: string; readonly existing: boolean },
  framework: Framework,
  chunkSize: number,
  progress: Progress,
): Promise<boolean> {
  const { tenantId, frameworkId } = target;
  const associations = framework.associations.map(associationContent);
  progress('associations', 0, associations.length);
  const storedAssociations = target.existing
    ? await listAssociations(tx, tenantId, frameworkId)
    : [];
  const changed = stableStringify(storedAssociations) !== stableStringify(associations);
  if (changed) await replaceAssociations(tx, tenantId, frameworkId, associations, chunkSize);
  progress('associations', associations.length, associations.length);
  return changed;
}

/** Whether the stored framework's own fields (or where it comes from) differ from the import's. */
function frameworkChanged(
  existing: FrameworkRow,
  content: FrameworkContent,
  source: string,
  sourceUrl: string | null,
): boolean {
  return (
    comparableFramework(frameworkRowContent(existing), existing.source, existing.source_url) !==
    comparableFramework(content, source, sourceUrl)
  );
}

/** The import's writes, all in the caller's transaction `tx`. */
async function importInTransaction(
  tx: Kysely<Database>,
  input: ImportFrameworkInput,
  framework: Framework,
  deps: ImportDeps & { readonly chunkSize: number },
  progress: Progress,
): Promise<{ frameworkId: string; counts: ImportCounts }> {
  const { tenantId, source } = input;
  const sourceUrl = input.sourceUrl ?? null;
  const total = framework.items.length;
  progress('prepare', 0, total);
  const now = deps.now();
  const content = frameworkContent(framework);
  const existing = await findFrameworkByGuid(tx, tenantId, framework.caseGuid, { forUpdate: true });
  const frameworkId =
    existing?.id ??
    (await insertFramework(tx, { tenantId, content, source, sourceUrl, importedAt: now, now }));
  const stored = existing
    ? await listItems(tx, tenantId, frameworkId, { includeArchived: true, orderBy: 'sequence' })
    : [];
  const plan = planItems(framework, stored, deps.newId);
  await writeItems(tx, { tenantId, frameworkId, now }, plan, deps.chunkSize, progress);

  progress('archive', 0, 1);
  const archived = existing
    ? await archiveItemsExcept(tx, tenantId, frameworkId, [...plan.idByGuid.values()], now)
    : 0;
  progress('archive', 1, 1);

  const associationsChanged = await writeAssociations(
    tx,
    { tenantId, frameworkId, existing: existing !== undefined },
    framework,
    deps.chunkSize,
    progress,
  );
  const anyChange =
    (existing !== undefined && frameworkChanged(existing, content, source, sourceUrl)) ||
    plan.toInsert.length > 0 ||
    plan.toUpdate.length > 0 ||
    archived > 0 ||
    associationsChanged;
  // A re-import of the same file changes nothing, not even the revision (search caches stay warm).
  if (existing !== undefined && anyChange) {
    await updateFramework(tx, {
      tenantId,
      frameworkId,
      content,
      source,
      sourceUrl,
      importedAt: now,
      now,
    });
  }
  progress('done', total, total);
  const counts = {
    created: plan.toInsert.length,
    updated: plan.toUpdate.length,
    archived,
    unchanged: plan.unchanged,
  };
  return { frameworkId, counts };
}

/**
 * Imports (or re-imports) a framework in ONE transaction: on any failure nothing changes.
 *
 * A re-import matches items by GUID and keeps their ids, because alignments and evidence point at item
 * ids. Items the new file no longer lists are archived, never deleted; items that come back are
 * un-archived. Associations carry no references from elsewhere, so they are replaced as a set.
 * The attempt itself is logged in `standard_imports` outside the transaction, failures included.
 */
export async function importFramework(
  db: Kysely<Database>,
  input: ImportFrameworkInput,
  deps: ImportDeps,
): Promise<ImportReport> {
  const chunkSize = deps.chunkSize ?? 1000;
  const sourceUrl = input.sourceUrl ?? null;
  const framework = isFramework(input.framework)
    ? input.framework
    : input.framework.ok
      ? input.framework.framework
      : undefined;
  const total = framework?.items.length ?? 0;
  const importId = await startImportRecord(db, {
    tenantId: input.tenantId,
    actor: input.actor,
    source: input.source,
    sourceUrl,
    total,
    startedAt: deps.now(),
  });
  const fail = async (errors: readonly ImportError[]): Promise<ImportReport> => {
    await finishImportRecord(db, {
      tenantId: input.tenantId,
      importId,
      status: 'failed',
      frameworkId: null,
      counts: NO_COUNTS,
      errors,
      done: 0,
      finishedAt: deps.now(),
    });
    return { ok: false, importId, errors };
  };
  if (framework === undefined) {
    return fail(isFramework(input.framework) || input.framework.ok ? [] : input.framework.errors);
  }

  const progress: Progress = (phase, done, phaseTotal) =>
    input.onProgress?.({ phase, done, total: phaseTotal });

  let outcome: { frameworkId: string; counts: ImportCounts };
  try {
    outcome = await db
      .transaction()
      .execute((tx) => importInTransaction(tx, input, framework, { ...deps, chunkSize }, progress));
  } catch (error) {
    const dataError = dataErrorOf(error);
    if (dataError === undefined) {
      await fail([
        {
          code: 'invalid_value',
          message:
            'The import failed for a reason on our side; nothing was imported. Try again later.',
        },
      ]);
      throw error;
    }
    return fail([dataError]);
  }

  await finishImportRecord(db, {
    tenantId: input.tenantId,
    importId,
    status: 'succeeded',
    frameworkId: outcome.frameworkId,
    counts: outcome.counts,
    errors: null,
    done: total,
    finishedAt: deps.now(),
  });
  return { ok: true, importId, frameworkId: outcome.frameworkId, counts: outcome.counts };
}
