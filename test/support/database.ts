import { createHash, randomBytes } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { createLogger } from '../../src/logger.ts';
import { migrations } from '../../src/storage/migrations/index.ts';
import {
  fromPGlite,
  migrateToLatest,
  openDatabase,
  type DatabaseHandle,
  type Engine,
} from '../../src/storage/database.ts';

/**
 * An isolated, migrated database for one test file, on the engine CI selects:
 * - with DATABASE_URL (a PostgreSQL server): a fresh database cloned from a migrated template
 *   (`CREATE DATABASE … TEMPLATE …`), dropped again on close;
 * - without it: a fresh in-memory PGlite instance.
 */
export interface TestDatabase extends DatabaseHandle {
  readonly url?: string;
}

export const testEngine: Engine = process.env.DATABASE_URL ? 'postgres' : 'pglite';

const quietLogger = createLogger({ level: 'silent' });

/**
 * The template's name changes whenever a migration is added or its code changes, so a template
 * left on a shared server by an earlier run is never reused stale.
 */
function templateName(): string {
  const hash = createHash('sha256')
    .update(
      Object.entries(migrations)
        .map(([name, migration]) => `${name}\n${migration.up.toString()}`)
        .join('\n'),
    )
    .digest('hex')
    .slice(0, 12);
  return `mp_template_${hash}`;
}

function withDatabase(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function adminQuery<T>(
  serverUrl: string,
  run: (db: Kysely<unknown>) => Promise<T>,
): Promise<T> {
  const db = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: serverUrl, max: 1 }) }),
  });
  try {
    return await run(db);
  } finally {
    await db.destroy();
  }
}

let templateReady: Promise<string> | undefined;
let pgliteTemplate: Promise<Blob> | undefined;

/** Creating a PGlite cluster takes seconds; loading a dump of a migrated one takes a fraction. */
async function migratedPGliteDump(): Promise<Blob> {
  const pglite = new PGlite();
  const handle = fromPGlite(pglite, 'pglite:memory');
  await migrateToLatest(handle.db);
  const dump = await pglite.dumpDataDir('none');
  await handle.close();
  return dump;
}

async function ensureTemplate(serverUrl: string): Promise<string> {
  const name = templateName();
  await adminQuery(serverUrl, async (db) => {
    // Serialise template creation across concurrent test processes on the same server.
    await sql`SELECT pg_advisory_lock(7261127)`.execute(db);
    try {
      const exists = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_database WHERE datname = ${name}`.execute(db);
      if (exists.rows[0]?.n === 0) {
        const building = `${name}_build_${randomBytes(4).toString('hex')}`;
        await sql`CREATE DATABASE ${sql.id(building)}`.execute(db);
        const handle = openDatabase(
          {
            url: withDatabase(serverUrl, building),
            dataDir: '',
            poolMax: 1,
            connectTimeoutMs: 5000,
          },
          quietLogger,
        );
        try {
          await migrateToLatest(handle.db);
        } finally {
          await handle.close();
        }
        await sql`ALTER DATABASE ${sql.id(building)} RENAME TO ${sql.id(name)}`.execute(db);
      }
    } finally {
      await sql`SELECT pg_advisory_unlock(7261127)`.execute(db);
    }
  });
  return name;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    pgliteTemplate ??= migratedPGliteDump();
    return fromPGlite(new PGlite({ loadDataDir: await pgliteTemplate }), 'pglite:memory');
  }
  templateReady ??= ensureTemplate(serverUrl);
  const template = await templateReady;
  const name = `mp_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(serverUrl, (db) =>
    sql`CREATE DATABASE ${sql.id(name)} TEMPLATE ${sql.id(template)}`.execute(db),
  );
  const url = withDatabase(serverUrl, name);
  const handle = openDatabase(
    { url, dataDir: '', poolMax: 5, connectTimeoutMs: 5000 },
    quietLogger,
  );
  return {
    ...handle,
    url,
    close: async () => {
      await handle.close();
      await adminQuery(serverUrl, (db) =>
        sql`DROP DATABASE IF EXISTS ${sql.id(name)} WITH (FORCE)`.execute(db),
      );
    },
  };
}
