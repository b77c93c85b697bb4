import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect, sql } from 'kysely';
import {
  Migrator,
  type Migration,
  type MigrationProvider,
  type MigrationResultSet,
} from 'kysely/migration';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import { migrations } from './migrations/index.ts';
import { templateFor } from './pglite-template.ts';
import { namePreparedStatements } from './prepared-statements.ts';
import type { Database } from './schema.ts';

export type Engine = 'pglite' | 'postgres';

export interface DatabaseHandle {
  readonly db: Kysely<Database>;
  readonly engine: Engine;
  /** Where the data lives, safe to log (no password). */
  readonly location: string;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  readonly url?: string | undefined;
  readonly dataDir: string;
  readonly poolMax: number;
  readonly connectTimeoutMs: number;
}

/** A connection URL with its password masked, for logs and the readiness report. */
export function describeDatabaseUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/**
 * Opens the database: PostgreSQL when a URL is given, else the embedded PGlite engine persisted in
 * `dataDir`. Opening never waits for the server; the first query does, so an unreachable server
 * shows up as "not ready" rather than a crash at start.
 */
export function openDatabase(options: DatabaseOptions, logger: Logger): DatabaseHandle {
  if (options.url) {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolMax,
      connectionTimeoutMillis: options.connectTimeoutMs,
      application_name: 'mastery-pathways',
    });
    // An idle client can fail when the server restarts; pg then emits 'error' on the pool, which
    // would crash the process if nobody listened. The next query reconnects.
    pool.on('error', (error) => {
      logger.warn({ err: error }, 'idle PostgreSQL connection failed');
    });
    // The launch's statements are parsed and planned once per connection (see the module).
    namePreparedStatements(pool);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      engine: 'postgres',
      location: describeDatabaseUrl(options.url),
      close: () => db.destroy(),
    };
  }
  mkdirSync(options.dataDir, { recursive: true });
  const template = templateFor(options.dataDir);
  const pglite =
    template === undefined
      ? new PGlite(options.dataDir)
      : new PGlite(options.dataDir, { loadDataDir: template });
  return fromPGlite(pglite, `pglite:${options.dataDir}`);
}

/** Wraps an already created PGlite instance (in memory for tests, or on disk). */
export function fromPGlite(pglite: PGlite, location: string): DatabaseHandle {
  const db = new Kysely<Database>({ dialect: new PGliteDialect({ pglite }) });
  return {
    db,
    engine: 'pglite',
    location,
    close: async () => {
      await db.destroy();
      // Kysely closes PGlite only if a query ever ran through it; an idle instance keeps the
      // process alive, so close it here too.
      if (!pglite.closed) await pglite.close();
    },
  };
}

type MigrationSet = Readonly<Record<string, Migration>>;

function migrator(db: Kysely<Database>, set: MigrationSet): Migrator {
  const provider: MigrationProvider = { getMigrations: () => Promise.resolve({ ...set }) };
  // The migrator runs each migration in its own transaction (PostgreSQL has transactional DDL) and
  // holds an advisory lock, so two instances starting together do not both migrate.
  return new Migrator({ db, provider });
}

export class MigrationError extends Error {
  readonly migrationName: string | undefined;

  constructor(message: string, migrationName: string | undefined, cause: unknown) {
    super(message, { cause });
    this.name = 'MigrationError';
    this.migrationName = migrationName;
  }
}

/** Applies every pending migration. Running it again when none is pending does nothing. */
export async function migrateToLatest(
  db: Kysely<Database>,
  set: MigrationSet = migrations,
): Promise<MigrationResultSet> {
  const resultSet = await migrator(db, set).migrateToLatest();
  if (resultSet.error !== undefined) {
    const failed = resultSet.results?.find((r) => r.status === 'Error');
    const cause = resultSet.error;
    const reason = cause instanceof Error ? cause.message : JSON.stringify(cause);
    throw new MigrationError(
      failed
        ? `migration ${failed.migrationName} failed: ${reason}`
        : `migrations could not run: ${reason}`,
      failed?.migrationName,
      cause,
    );
  }
  return resultSet;
}

export interface MigrationStatus {
  readonly applied: readonly string[];
  readonly pending: readonly string[];
}

export async function migrationStatus(db: Kysely<Database>): Promise<MigrationStatus> {
  const all = await migrator(db, migrations).getMigrations();
  return {
    applied: all.filter((m) => m.executedAt !== undefined).map((m) => m.name),
    pending: all.filter((m) => m.executedAt === undefined).map((m) => m.name),
  };
}

/** A cheap round trip that proves the database answers. */
export async function ping(db: Kysely<Database>): Promise<void> {
  await sql`SELECT 1`.execute(db);
}
