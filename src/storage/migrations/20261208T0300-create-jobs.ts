import { sql, type Kysely } from 'kysely';

/**
 * `jobs`: background work that must survive a restart (mastery recomputes, standards imports,
 * roster syncs), run by `src/jobs/runner.ts`. A row is claimed with `FOR UPDATE SKIP LOCKED` and a
 * lease (`claimed_by`, `claimed_until`): a job whose process died is taken up again once its lease
 * has run out. `attempts` counts starts; a failed attempt waits until `run_at` (backoff).
 * `done`/`total`/`note` are the progress a page shows. Every row carries its district, so a
 * district export or deletion includes it (the tables are read from the catalogue). The grade
 * passback reconciler keeps its own outbox (by ADR) and does not use this table.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE jobs (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      kind text NOT NULL,
      payload jsonb NOT NULL DEFAULT '{}'::jsonb,
      status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
      attempts integer NOT NULL DEFAULT 0,
      max_attempts integer NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
      run_at timestamptz NOT NULL,
      claimed_by text,
      claimed_until timestamptz,
      done integer NOT NULL DEFAULT 0,
      total integer NOT NULL DEFAULT 0,
      note text,
      last_error text,
      created_at timestamptz NOT NULL,
      started_at timestamptz,
      finished_at timestamptz
    )
  `.execute(db);
  // The claim reads only unfinished jobs: a partial index stays small however many have finished.
  await sql`
    CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE status IN ('queued', 'running')
  `.execute(db);
  await sql`CREATE INDEX jobs_tenant_idx ON jobs (tenant_id, kind, created_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE jobs`.execute(db);
}
