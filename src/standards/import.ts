import type { Kysely } from 'kysely';
import type { Database } from '../storage/schema.ts';
import type { FrameworkContent } from '../storage/standards/content.ts';
import { associationContent, frameworkContent, itemContent, stableStringify } from './rows.ts';
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
  type ItemWrite,
} from '../storage/standards/standards.repository.ts';
import type { Framework, ImportError, ImportResult } from './formats/model.ts';

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

  const progress = (phase: ImportPhase, done: number, phaseTotal: number): void =>
    input.onProgress?.({ phase, done, total: phaseTotal });

  let outcome: { frameworkId: string; counts: ImportCounts };
  try {
    outcome = await db.transaction().execute(async (tx) => {
      progress('prepare', 0, total);
      const now = deps.now();
      const content = frameworkContent(framework);
      const existing = await findFrameworkByGuid(tx, input.tenantId, framework.caseGuid, {
        forUpdate: true,
      });
      const frameworkId =
        existing?.id ??
        (await insertFramework(tx, {
          tenantId: input.tenantId,
          content,
          source: input.source,
          sourceUrl,
          importedAt: now,
          now,
        }));

      const stored = existing
        ? await listItems(tx, input.tenantId, frameworkId, {
            includeArchived: true,
            orderBy: 'sequence',
          })
        : [];
      const storedByGuid = new Map(stored.map((row) => [row.guid, row]));
      const idByGuid = new Map<string, string>();
      for (const item of framework.items) {
        idByGuid.set(item.guid, storedByGuid.get(item.guid)?.id ?? deps.newId());
      }

      const toInsert: ItemWrite[] = [];
      const toUpdate: ItemWrite[] = [];
      let unchanged = 0;
      framework.items.forEach((item, sequence) => {
        const write: ItemWrite = {
          ...itemContent(item),
          id: idByGuid.get(item.guid) ?? deps.newId(),
          parent_item_id: item.parentGuid === null ? null : (idByGuid.get(item.parentGuid) ?? null),
          position: item.order,
          sequence,
        };
        const before = storedByGuid.get(item.guid);
        if (before === undefined) toInsert.push(write);
        else if (
          comparableItem(before, before.archived_at !== null) !== comparableItem(write, false)
        )
          toUpdate.push(write);
        else unchanged++;
      });

      let done = 0;
      progress('items', done, total);
      for (let start = 0; start < toInsert.length; start += chunkSize) {
        const chunk = toInsert.slice(start, start + chunkSize);
        await insertItems(tx, input.tenantId, frameworkId, chunk, now);
        done += chunk.length;
        progress('items', done, total);
      }
      for (let start = 0; start < toUpdate.length; start += chunkSize) {
        const chunk = toUpdate.slice(start, start + chunkSize);
        await updateItems(tx, input.tenantId, frameworkId, chunk, now);
        done += chunk.length;
        progress('items', done, total);
      }
      progress('items', total, total);

      progress('archive', 0, 1);
      const archived = existing
        ? await archiveItemsExcept(tx, input.tenantId, frameworkId, [...idByGuid.values()], now)
        : 0;
      progress('archive', 1, 1);

      const associations = framework.associations.map(associationContent);
      progress('associations', 0, associations.length);
      const storedAssociations = existing
        ? await listAssociations(tx, input.tenantId, frameworkId)
        : [];
      const associationsChanged =
        stableStringify(storedAssociations) !== stableStringify(associations);
      if (associationsChanged) {
        await replaceAssociations(tx, input.tenantId, frameworkId, associations, chunkSize);
      }
      progress('associations', associations.length, associations.length);

      const frameworkChanged =
        existing !== undefined &&
        comparableFramework(
          {
            case_guid: existing.case_guid,
            uri: existing.uri,
            title: existing.title,
            creator: existing.creator,
            publisher: existing.publisher,
            version: existing.version,
            subjects: existing.subjects,
            adoption_status: existing.adoption_status,
            language: existing.language,
            description: existing.description,
            licence: existing.licence as FrameworkContent['licence'],
            notes: existing.notes,
            case_version: existing.case_version,
            definitions: existing.definitions as FrameworkContent['definitions'],
            rubrics: existing.rubrics as FrameworkContent['rubrics'],
            extensions: existing.extensions,
            extra: existing.extra,
          },
          existing.source,
          existing.source_url,
        ) !== comparableFramework(content, input.source, sourceUrl);
      const anyChange =
        frameworkChanged ||
        toInsert.length > 0 ||
        toUpdate.length > 0 ||
        archived > 0 ||
        associationsChanged;
      // A re-import of the same file changes nothing, not even the revision (search caches stay warm).
      if (existing !== undefined && anyChange) {
        await updateFramework(tx, {
          tenantId: input.tenantId,
          frameworkId,
          content,
          source: input.source,
          sourceUrl,
          importedAt: now,
          now,
        });
      }
      progress('done', total, total);
      return {
        frameworkId,
        counts: { created: toInsert.length, updated: toUpdate.length, archived, unchanged },
      };
    });
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
