import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../schema.ts';
import type { FrameworkSource, ImportStatus, StandardImportTable } from './schema.ts';

/**
 * Read side of the import log (`standard_imports`) for the admin pages: recent attempts of a district
 * and the last import of each framework. Every query is scoped by tenant.
 */

export interface ImportHistoryEntry {
  readonly id: string;
  readonly frameworkId: string | null;
  /** Opaque id of who started the import. */
  readonly actor: string;
  readonly source: FrameworkSource;
  readonly sourceUrl: string | null;
  readonly status: ImportStatus;
  readonly counts: {
    readonly created: number;
    readonly updated: number;
    readonly archived: number;
    readonly unchanged: number;
  };
  readonly errors: unknown;
  readonly progressDone: number;
  readonly progressTotal: number;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
}

type Row = Selectable<StandardImportTable>;

function toEntry(row: Row): ImportHistoryEntry {
  return {
    id: row.id,
    frameworkId: row.framework_id,
    actor: row.actor,
    source: row.source,
    sourceUrl: row.source_url,
    status: row.status,
    counts: {
      created: row.created_count,
      updated: row.updated_count,
      archived: row.archived_count,
      unchanged: row.unchanged_count,
    },
    errors: row.errors,
    progressDone: row.progress_done,
    progressTotal: row.progress_total,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

/** The district's most recent import attempts, newest first (failures included). */
export async function listRecentImports(
  db: Kysely<Database>,
  tenantId: string,
  limit: number,
): Promise<ImportHistoryEntry[]> {
  const rows = await db
    .selectFrom('standard_imports')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toEntry);
}

/** One import of the district, or undefined (another district's id answers the same). */
export async function findImport(
  db: Kysely<Database>,
  tenantId: string,
  importId: string,
): Promise<ImportHistoryEntry | undefined> {
  const row = await db
    .selectFrom('standard_imports')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('id', '=', importId)
    .executeTakeFirst();
  return row === undefined ? undefined : toEntry(row);
}

/** When each framework of the district last had a successful import. */
export async function lastImportByFramework(
  db: Kysely<Database>,
  tenantId: string,
): Promise<Map<string, Date>> {
  const rows = await db
    .selectFrom('standard_imports')
    .select((eb) => ['framework_id', eb.fn.max('finished_at').as('last')])
    .where('tenant_id', '=', tenantId)
    .where('status', '=', 'succeeded')
    .where('framework_id', 'is not', null)
    .groupBy('framework_id')
    .execute();
  const out = new Map<string, Date>();
  for (const row of rows) {
    if (row.framework_id !== null && row.last !== null) out.set(row.framework_id, row.last);
  }
  return out;
}
