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

export function createDeploymentRepository(db: Kysely<Database>) {
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

    async remove(id: string): Promise<boolean> {
      const result = await db.deleteFrom('deployments').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    /** The tenant of a launch's `(issuer, client_id, deployment_id)`, from active platforms only. */
    async resolve(
      issuer: string,
      clientId: string,
      deploymentId: string,
    ): Promise<DeploymentBinding | undefined> {
      const row = await db
        .selectFrom('deployments as d')
        .innerJoin('platforms as p', 'p.id', 'd.platform_id')
        .select(['d.id', 'd.tenant_id', 'd.platform_id'])
        .where('p.issuer', '=', issuer)
        .where('p.client_id', '=', clientId)
        .where('p.status', '=', 'active')
        .where('d.deployment_id', '=', deploymentId)
        .executeTakeFirst();
      return row === undefined
        ? undefined
        : { deploymentRowId: row.id, tenantId: row.tenant_id, platformId: row.platform_id };
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
  const repository = createDeploymentRepository(db);
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
