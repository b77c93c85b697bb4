import { createHash } from 'node:crypto';
import type pg from 'pg';

/**
 * Starts the SQL text of a statement that never varies (every value is a parameter) and runs on
 * every launch. Kysely hands pg only text and values, so PostgreSQL parses and plans each statement
 * on every call; for the launch record (one statement with a dozen CTEs) planning costs more CPU
 * than running it. A pool set up with `namePreparedStatements` sends marked statements as named
 * (protocol-level) prepared statements instead: parsed and planned once per connection. Works
 * through PgBouncer >= 1.21 with `max_prepared_statements` set; PGlite ignores the marker.
 */
export const PREPARED_MARKER = '/* prepared */';

export interface NamedQuery {
  readonly name: string;
  readonly text: string;
  readonly values: unknown[];
}

/** The named query for a marked statement (named after its text), or undefined for any other. */
export function preparedQuery(text: unknown, values: unknown): NamedQuery | undefined {
  if (typeof text !== 'string' || !text.startsWith(PREPARED_MARKER)) return undefined;
  const name = `mp_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
  return { name, text, values: Array.isArray(values) ? [...(values as unknown[])] : [] };
}

type QueryFunction = (...args: unknown[]) => unknown;

/** Makes one pg client send marked statements as named prepared statements. */
export function namePreparedStatementsOf(client: pg.ClientBase): void {
  const target = client as unknown as { query: QueryFunction };
  const original: QueryFunction = target.query.bind(client);
  target.query = (...args: unknown[]): unknown => {
    const named = preparedQuery(args[0], args[1]);
    return named === undefined ? original(...args) : original(named, ...args.slice(2));
  };
}

/** Every client of the pool sends marked statements as named prepared statements. */
export function namePreparedStatements(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    namePreparedStatementsOf(client);
  });
}
