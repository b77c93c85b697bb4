import { sql, type Kysely } from 'kysely';
import type { DeploymentLookup } from '../../lti/launch.ts';
import type { Database } from '../schema.ts';

export interface Deployment {
  readonly id: string;
  readonly platformId: string;
  readonly deploymentId: string;
  readonly tenantId: string;
  readonly label: string | undefined;
  readonly createdAt: Date;
}

/** What a verified launch resolves to: the deployment row and the tenant (district) it belongs to. */
export interface DeploymentBinding {
  readonly deploymentRowId: string;
  readonly tenantId: string;
  readonly platformId: string;
}

interface DeploymentRow {
  id: string;
  platform_id: string;
  deployment_id: string;
  tenant_id: string;
  label: string | null;
  created_at: Date;
}

function toDeployment(row: DeploymentRow): Deployment {
  return {
    id: row.id,
    platformId: row.platform_id,
    deploymentId: row.deployment_id,
    tenantId: row.tenant_id,
    label: row.label ?? undefined,
    createdAt: row.created_at,
  };
}

/** How long a resolved deployment is reused before the database is asked again. */
export const DEPLOYMENT_CACHE_TTL_MS = 5_000;

/**
 * `resolve` keeps what it found for a few seconds per repository object (one per app: no module
 * state), since every launch asks it. Only deployments that exist are kept, so one added (or
 * captured) is allowed at once; `create` and `remove` on this object forget everything kept. One
 * removed elsewhere (the CLI, another process) may still resolve for up to the TTL: the launch
 * record re-resolves it in its own statement and refuses the launch then.
 */
export function createDeploymentRepository(
  db: Kysely<Database>,
  options: { ttlMs?: number; clock?: () => number } = {},
) {
  const ttlMs = options.ttlMs ?? DEPLOYMENT_CACHE_TTL_MS;
  const clock = options.clock ?? (() => performance.now());
  const kept = new Map<string, { readonly until: number; readonly binding: DeploymentBinding }>();
  return {
    async create(input: {
      platformId: string;
      deploymentId: string;
      tenantId: string;
      label?: string | undefined;
    }): Promise<Deployment> {
      const row = await db
        .insertInto('deployments')
        .values({
          platform_id: input.platformId,
          deployment_id: input.deploymentId,
          tenant_id: input.tenantId,
          label: input.label ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      kept.clear();
      return toDeployment(row);
    },

    /** Operator view: every deployment, or one tenant's. */
    async list(filter: { tenantId?: string; platformId?: string } = {}): Promise<Deployment[]> {
      let query = db.selectFrom('deployments').selectAll();
      if (filter.tenantId !== undefined) query = query.where('tenant_id', '=', filter.tenantId);
      if (filter.platformId !== undefined)
        query = query.where('platform_id', '=', filter.platformId);
      const rows = await query.orderBy('created_at').orderBy('deployment_id').execute();
      return rows.map(toDeployment);
    },

    async findById(id: string): Promise<Deployment | undefined> {
      const row = await db
        .selectFrom('deployments')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row === undefined ? undefined : toDeployment(row);
    },

    /** Drops every kept `resolve` answer: call after an admin changes registrations in this app. */
    forget(): void {
      kept.clear();
    },

    async remove(id: string): Promise<boolean> {
      kept.clear();
      const result = await db.deleteFrom('deployments').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    /** The tenant of a launch's `(issuer, client_id, deployment_id)`, from active platforms only. */
    async resolve(
      issuer: string,
      clientId: string,
      deploymentId: string,
    ): Promise<DeploymentBinding | undefined> {
      const key = JSON.stringify([issuer, clientId, deploymentId]);
      const entry = kept.get(key);
      if (entry !== undefined && entry.until > clock()) return entry.binding;
      kept.delete(key);
      const row = await db
        .selectFrom('deployments as d')
        .innerJoin('platforms as p', 'p.id', 'd.platform_id')
        .select(['d.id', 'd.tenant_id', 'd.platform_id'])
        .where('p.issuer', '=', issuer)
        .where('p.client_id', '=', clientId)
        .where('p.status', '=', 'active')
        .where('d.deployment_id', '=', deploymentId)
        .executeTakeFirst();
      if (row === undefined) return undefined;
      const binding = {
        deploymentRowId: row.id,
        tenantId: row.tenant_id,
        platformId: row.platform_id,
      };
      kept.set(key, { until: clock() + ttlMs, binding });
      return binding;
    },
  };
}

export type DeploymentRepository = ReturnType<typeof createDeploymentRepository>;

/**
 * The allow-list check of the launch checklist. A deployment is allowed when an admin listed it.
 * The one exception is a platform with `capture_first_deployment` on (Canvas Dynamic Registration
 * returns no deployment id, LMS-NOTES): its FIRST launch records its deployment for the platform's
 * default tenant and switches capture off in the same statement, so two racing first launches with
 * different deployment ids cannot both be captured (the UPDATE row lock lets one through).
 */
export function createDeploymentLookup(db: Kysely<Database>): DeploymentLookup {
  // Not kept: the allow-list answer here is always the database's.
  const repository = createDeploymentRepository(db, { ttlMs: 0 });
  return {
    async isAllowed(issuer, clientId, deploymentId) {
      if ((await repository.resolve(issuer, clientId, deploymentId)) !== undefined) return true;
      const captured = await sql<{ id: string }>`
        WITH claimed AS (
          UPDATE platforms SET capture_first_deployment = false
          WHERE issuer = ${issuer} AND client_id = ${clientId} AND status = 'active'
            AND capture_first_deployment AND default_tenant_id IS NOT NULL
          RETURNING id, default_tenant_id
        )
        INSERT INTO deployments (platform_id, deployment_id, tenant_id, label)
        SELECT id, ${deploymentId}, default_tenant_id, 'captured at first launch' FROM claimed
        ON CONFLICT (platform_id, deployment_id) DO NOTHING
        RETURNING id
      `.execute(db);
      return captured.rows.length > 0;
    },
  };
}
