import type { Kysely } from 'kysely';
import { migrationStatus, ping } from './storage/database.ts';
import type { Database } from './storage/schema.ts';

export interface ReadinessCheck {
  readonly ok: boolean;
  readonly reason?: string;
}

export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
}

/**
 * What /readyz reports: the database answers and every migration is applied, and the process is
 * not shutting down. Each check says why it failed, in words an operator can act on.
 */
export class Readiness {
  readonly #db: Kysely<Database>;
  #shuttingDown = false;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  markShuttingDown(): void {
    this.#shuttingDown = true;
  }

  async report(): Promise<ReadinessReport> {
    const checks: Record<string, ReadinessCheck> = {};
    if (this.#shuttingDown) checks.process = { ok: false, reason: 'shutting down' };
    try {
      await ping(this.#db);
      checks.database = { ok: true };
      const status = await migrationStatus(this.#db);
      checks.migrations =
        status.pending.length === 0
          ? { ok: true }
          : { ok: false, reason: `pending migrations: ${status.pending.join(', ')}` };
    } catch (error) {
      checks.database = { ok: false, reason: `database unreachable: ${describeError(error)}` };
    }
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  }
}

function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return describeError(error.errors[0]);
  }
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
