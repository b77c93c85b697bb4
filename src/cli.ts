import { readFileSync } from 'node:fs';
import { ConfigError, defaultConfigFiles, loadConfig } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { createLogger } from './logger.ts';
import { paths } from './paths.ts';
import { migrateToLatest, migrationStatus, openDatabase } from './storage/database.ts';

export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: (line: string) => void;
  readonly stderr: (line: string) => void;
}

const USAGE = `Usage: mastery-pathways <command> [options]

Commands:
  migrate            apply pending database migrations (also done at every start)
  migrate:status     list applied and pending migrations
  help               show this help

Options:
  -h, --help         show this help
  -v, --version      print the version

The database is chosen as the server does: DATABASE_URL for PostgreSQL, otherwise the embedded
database in DATA_DIR (default ./data/pglite). See README.md for every setting.`;

function version(): string {
  const pkg = JSON.parse(readFileSync(`${paths.root}package.json`, 'utf8')) as { version: string };
  return pkg.version;
}

async function withDatabase<T>(
  config: Config,
  run: (db: ReturnType<typeof openDatabase>) => Promise<T>,
): Promise<T> {
  const logger = createLogger({ level: 'warn' });
  const database = openDatabase(
    {
      url: config.database.url,
      dataDir: config.database.dataDir,
      poolMax: 1,
      connectTimeoutMs: config.database.connectTimeoutMs,
    },
    logger,
  );
  try {
    return await run(database);
  } finally {
    await database.close();
  }
}

/** Runs one CLI command and returns the process exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (
    command === undefined ||
    ['help', '-h', '--help'].includes(command) ||
    rest.includes('--help')
  ) {
    io.stdout(USAGE);
    return command === undefined ? 64 : 0;
  }
  if (command === '-v' || command === '--version') {
    io.stdout(version());
    return 0;
  }
  let config: Config;
  try {
    config = loadConfig({ env: io.env, files: defaultConfigFiles(paths.config, io.env.NODE_ENV) });
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(error.message);
      return 78;
    }
    throw error;
  }
  switch (command) {
    case 'migrate':
      return withDatabase(config, async (database) => {
        const result = await migrateToLatest(database.db);
        const applied = (result.results ?? []).map((r) => r.migrationName);
        io.stdout(
          applied.length > 0
            ? `Applied ${applied.length} migration(s) on ${database.location}:\n${applied.map((n) => `  ${n}`).join('\n')}`
            : `The schema on ${database.location} is up to date.`,
        );
        return 0;
      });
    case 'migrate:status':
      return withDatabase(config, async (database) => {
        const status = await migrationStatus(database.db);
        io.stdout(
          [
            `Database: ${database.location}`,
            ...status.applied.map((n) => `  applied  ${n}`),
            ...status.pending.map((n) => `  pending  ${n}`),
          ].join('\n'),
        );
        return 0;
      });
    default:
      io.stderr(`Unknown command "${command}". Run "mastery-pathways --help" for the list.`);
      return 64;
  }
}
