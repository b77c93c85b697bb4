import { sql, type Kysely, type Transaction } from 'kysely';
import { recordDeletion, type PersonHasher } from './privacy/deletion-records.repository.ts';
import type { Database } from './schema.ts';

/**
 * A district's data as a whole: export it, delete it, or delete one student's part of it
 * (Connecticut's student data privacy law requires deletion on request).
 *
 * Every table that holds district data carries `tenant_id` (a rule of this codebase), so the set
 * of tables is read from the catalogue rather than listed here: a table added by a later
 * migration is exported and deleted without anyone remembering to add it.
 */

/** Columns that name a person of the district, besides `users.id` itself. */
const PERSON_COLUMNS = ['user_id', 'student_id', 'mentor_id'] as const;

/**
 * Left out of an export: short-lived credentials (sessions, sign-ins in progress, Deep Linking
 * requests) and secrets in any table (password hashes, encrypted keys and tokens, CSRF secrets,
 * PKCE verifiers). An export is data the district owns, not a way to copy access.
 */
const EXPORT_SKIPPED_TABLES: ReadonlySet<string> = new Set([
  'sessions',
  'classroom_sign_in_flows',
  'deep_link_requests',
]);
const SECRET_COLUMN = /^(encrypted_.*|password_hash|csrf_secret|code_verifier|nonce|.*_hash)$/;

/** Rows fetched per query while exporting: bounded memory whatever the district's size. */
const EXPORT_PAGE = 2000;

export interface TenantTable {
  readonly name: string;
  readonly columns: readonly string[];
}

type Db = Kysely<Database> | Transaction<Database>;

/** Tables of the current schema with a `tenant_id` column, children before parents. */
export async function tenantTables(db: Db): Promise<TenantTable[]> {
  const columns = await sql<{ table_name: string; column_name: string }>`
    SELECT c.table_name, c.column_name
    FROM information_schema.columns c
    JOIN information_schema.tables t
      ON t.table_schema = c.table_schema AND t.table_name = c.table_name
    WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
    ORDER BY c.table_name, c.ordinal_position
  `.execute(db);
  const byTable = new Map<string, string[]>();
  for (const row of columns.rows) {
    const list = byTable.get(row.table_name) ?? [];
    list.push(row.column_name);
    byTable.set(row.table_name, list);
  }
  const names = [...byTable.keys()].filter((name) => byTable.get(name)?.includes('tenant_id'));
  const edges = await sql<{ child: string; parent: string }>`
    SELECT child.relname AS child, parent.relname AS parent
    FROM pg_constraint con
    JOIN pg_class child ON child.oid = con.conrelid
    JOIN pg_class parent ON parent.oid = con.confrelid
    JOIN pg_namespace ns ON ns.oid = child.relnamespace
    WHERE con.contype = 'f' AND ns.nspname = current_schema()
  `.execute(db);
  return orderChildrenFirst(names, edges.rows).map((name) => ({
    name,
    columns: byTable.get(name) ?? [],
  }));
}

/**
 * Depth-first order in which every table comes before the tables it references, so deleting in
 * this order never trips a foreign key. Self-references are ignored (they are `SET NULL` or absent).
 */
function orderChildrenFirst(
  names: readonly string[],
  edges: readonly { child: string; parent: string }[],
): string[] {
  const wanted = new Set(names);
  const children = new Map<string, string[]>();
  for (const { child, parent } of edges) {
    if (child === parent || !wanted.has(child) || !wanted.has(parent)) continue;
    const list = children.get(parent) ?? [];
    list.push(child);
    children.set(parent, list);
  }
  const ordered: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const child of (children.get(name) ?? []).sort()) visit(child);
    ordered.push(name);
  };
  // Post-order: a table is pushed only after every table that references it.
  for (const name of [...names].sort()) visit(name);
  return ordered;
}

export interface ExportSummary {
  readonly rows: Readonly<Record<string, number>>;
}

/** The district's LMS registrations: platforms its deployments, Classroom installs or a pending capture name. */
function registrationIds(trx: Db, tenantId: string) {
  return trx
    .selectFrom('platforms')
    .select('platforms.id')
    .where((eb) =>
      eb.or([
        eb(
          'platforms.id',
          'in',
          eb.selectFrom('deployments').select('platform_id').where('tenant_id', '=', tenantId),
        ),
        eb(
          'platforms.id',
          'in',
          eb
            .selectFrom('classroom_installs')
            .select('platform_id')
            .where('tenant_id', '=', tenantId),
        ),
        eb('platforms.default_tenant_id', '=', tenantId),
      ]),
    );
}

/**
 * Writes the district's data as JSON lines: first `{"type":"tenant", ...}`, then for every table
 * a header `{"type":"table","table":...,"rows":N}` (N may be 0) followed by its N
 * `{"type":"row","table":...,"row":{...}}` lines, table by table, read from one consistent
 * snapshot. The district's LMS registrations (`platforms`, shared with no secret) come first, so
 * a reader knows which LMS the deployments and people belong to. Binary and date values come out
 * as PostgreSQL prints them.
 */
export async function exportTenant(
  db: Kysely<Database>,
  tenantId: string,
  write: (line: string) => Promise<void> | void,
  now: () => Date,
  options: { readonly pageSize?: number } = {},
): Promise<ExportSummary> {
  const pageSize = options.pageSize ?? EXPORT_PAGE;
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const tenant = await trx
        .selectFrom('tenants')
        .selectAll()
        .where('id', '=', tenantId)
        .executeTakeFirst();
      if (tenant === undefined) throw new Error(`no tenant ${tenantId}`);
      await write(
        JSON.stringify({
          type: 'tenant',
          format: 'mastery-pathways-tenant-export/2',
          exportedAt: now().toISOString(),
          tenant,
        }),
      );
      const rows: Record<string, number> = {};
      const platformColumns = (await tableColumns(trx, 'platforms')).filter(
        (column) => !SECRET_COLUMN.test(column),
      );
      const platforms = await sql<Record<string, unknown>>`
        SELECT ${sql.join(platformColumns.map((column) => sql.ref(`p.${column}`)))}
        FROM platforms p
        WHERE p.id IN (${registrationIds(trx, tenantId)})
        ORDER BY p.issuer, p.client_id
      `.execute(trx);
      rows.platforms = platforms.rows.length;
      await write(JSON.stringify({ type: 'table', table: 'platforms', rows: rows.platforms }));
      for (const platform of platforms.rows) {
        // A registration shared with other districts names no other district in this export.
        const row =
          platform.default_tenant_id === undefined || platform.default_tenant_id === tenantId
            ? platform
            : { ...platform, default_tenant_id: null };
        await write(JSON.stringify({ type: 'row', table: 'platforms', row }, bigintToString));
      }
      const tables = (await tenantTables(trx))
        .filter((table) => !EXPORT_SKIPPED_TABLES.has(table.name))
        .sort((a, b) => (a.name < b.name ? -1 : 1));
      for (const { name: table, columns } of tables) {
        const exported = columns.filter((column) => !SECRET_COLUMN.test(column));
        const counted = await sql<{ n: string | number }>`
          SELECT count(*) AS n FROM ${sql.id(table)} WHERE tenant_id = ${tenantId}
        `.execute(trx);
        rows[table] = Number(counted.rows[0]?.n ?? 0);
        await write(JSON.stringify({ type: 'table', table, rows: rows[table] }));
        let after = '(0,0)';
        let written = 0;
        for (;;) {
          // Keyset paging on the physical row id: stable inside this snapshot, no sort of the table.
          const page = await sql<Record<string, unknown> & { mp_ctid: string }>`
            SELECT ctid::text AS mp_ctid, ${sql.join(exported.map((column) => sql.ref(`t.${column}`)))}
            FROM ${sql.id(table)} t
            WHERE t.tenant_id = ${tenantId} AND t.ctid > ${after}::tid
            ORDER BY t.ctid
            LIMIT ${pageSize}
          `.execute(trx);
          for (const row of page.rows) {
            const { mp_ctid: position, ...data } = row;
            after = position;
            await write(JSON.stringify({ type: 'row', table, row: data }, bigintToString));
          }
          written += page.rows.length;
          if (page.rows.length < pageSize) break;
        }
        if (written !== rows[table]) {
          throw new Error(`export of ${table}: counted ${rows[table]} rows but read ${written}`);
        }
      }
      return { rows };
    });
}

async function tableColumns(db: Db, table: string): Promise<string[]> {
  const result = await sql<{ column_name: string }>`
    SELECT column_name FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = ${table}
    ORDER BY ordinal_position
  `.execute(db);
  return result.rows.map((row) => row.column_name);
}

function bigintToString(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/**
 * Deletes every row of the district, then the district, then its LMS registrations that no other
 * district uses (a registration shared with another district stays). One transaction: all or
 * nothing.
 */
export async function deleteTenant(
  db: Kysely<Database>,
  tenantId: string,
): Promise<Readonly<Record<string, number>>> {
  return db.transaction().execute(async (trx) => {
    const deleted: Record<string, number> = {};
    // Operator-level rows of this district: its LMS and Google Classroom registrations (platform
    // rows), removed after its deployments and install rows below unless another district uses
    // them. Platforms waiting to capture this district's first deployment stop waiting.
    const registrations = (await registrationIds(trx, tenantId).execute()).map((row) => row.id);
    await trx
      .updateTable('platforms')
      .set({ capture_first_deployment: false, default_tenant_id: null })
      .where('default_tenant_id', '=', tenantId)
      .execute();
    for (const table of await tenantTables(trx)) {
      const result =
        await sql`DELETE FROM ${sql.id(table.name)} WHERE tenant_id = ${tenantId}`.execute(trx);
      deleted[table.name] = Number(result.numAffectedRows ?? 0n);
    }
    if (registrations.length > 0) {
      const platforms = await trx
        .deleteFrom('platforms')
        .where('id', 'in', registrations)
        // Still used by another district: its deployments, Classroom install or pending capture.
        .where('default_tenant_id', 'is', null)
        .where((eb) =>
          eb.not(
            eb.or([
              eb.exists(
                eb
                  .selectFrom('deployments')
                  .select('id')
                  .whereRef('deployments.platform_id', '=', 'platforms.id'),
              ),
              eb.exists(
                eb
                  .selectFrom('classroom_installs')
                  .select('tenant_id')
                  .whereRef('classroom_installs.platform_id', '=', 'platforms.id'),
              ),
            ]),
          ),
        )
        .executeTakeFirst();
      deleted.platforms = Number(platforms.numDeletedRows);
    }
    const result = await trx.deleteFrom('tenants').where('id', '=', tenantId).executeTakeFirst();
    deleted.tenants = Number(result.numDeletedRows);
    return deleted;
  });
}

/**
 * Deletes one person's data in a district: every row that names them (as user, student or mentor),
 * their LMS id in parents' mentor scopes, and their user record. What others recorded about the
 * district (frameworks, assignments) stays. In the same transaction a deletion record (a keyed
 * hash of their LMS issuer and id, and the date) keeps roster syncs and launches from making them
 * again while the LMS still lists them.
 */
export async function deletePerson(
  db: Kysely<Database>,
  tenantId: string,
  userId: string,
  record: { readonly hashPerson: PersonHasher; readonly now: Date },
): Promise<Readonly<Record<string, number>>> {
  // Hashed before the transaction: the hasher may read its key with a query of its own, and an
  // embedded database has one connection.
  const person = await db
    .selectFrom('users')
    .select(['issuer', 'sub'])
    .where('tenant_id', '=', tenantId)
    .where('id', '=', userId)
    .executeTakeFirst();
  const personHash =
    person === undefined ? undefined : await record.hashPerson(person.issuer, person.sub);
  return db.transaction().execute(async (trx) => {
    const deleted: Record<string, number> = {};
    for (const table of await tenantTables(trx)) {
      if (table.name === 'users') continue;
      const columns = PERSON_COLUMNS.filter((column) => table.columns.includes(column));
      if (columns.length === 0) continue;
      const matches = sql.join(
        columns.map((column) => sql`${sql.id(column)} = ${userId}`),
        sql` OR `,
      );
      const result = await sql`
        DELETE FROM ${sql.id(table.name)} WHERE tenant_id = ${tenantId} AND (${matches})
      `.execute(trx);
      const count = Number(result.numAffectedRows ?? 0n);
      if (count > 0) deleted[table.name] = count;
    }
    // A parent's launch names their children by LMS id (`mentor_scopes.student_subs`): the
    // person's id leaves those lists too, so nothing in the district points at them any more.
    const scrubbed = await sql`
      UPDATE mentor_scopes m SET student_subs = array_remove(m.student_subs, u.sub)
      FROM users u
      WHERE u.tenant_id = ${tenantId} AND u.id = ${userId}
        AND m.tenant_id = ${tenantId} AND m.issuer = u.issuer AND u.sub = ANY(m.student_subs)
    `.execute(trx);
    const scrubbedCount = Number(scrubbed.numAffectedRows ?? 0n);
    if (scrubbedCount > 0) deleted.mentor_scopes = (deleted.mentor_scopes ?? 0) + scrubbedCount;
    const result = await trx
      .deleteFrom('users')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', userId)
      .executeTakeFirst();
    deleted.users = Number(result.numDeletedRows);
    if (personHash !== undefined) {
      await recordDeletion(trx, tenantId, personHash, record.now);
    }
    return deleted;
  });
}
