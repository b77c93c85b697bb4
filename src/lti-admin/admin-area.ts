import type { Kysely } from 'kysely';
import type { Logger } from '../logger.ts';
import { isUuid } from '../ids.ts';
import { createAdminStore } from '../storage/lti/admin-sessions.repository.ts';
import type { Deployment, DeploymentRepository } from '../storage/lti/deployments.repository.ts';
import type { Platform, PlatformRepository } from '../storage/lti/platforms.repository.ts';
import type { Database } from '../storage/schema.ts';
import type { Tenant, TenantRepository } from '../storage/lti/tenants.repository.ts';
import type { ToolKeyService } from './tool-key-service.ts';
import { addDeployment, addPlatform, removeDeployment, type AddedDeployment } from './use-cases.ts';
import type { PlatformInput } from './platform-presets.ts';

export type { Deployment, Platform, Tenant };

/**
 * The use cases of the admin pages. Each takes the actor's scope first and answers only within it:
 * an operator (no tenant) sees every district; a district admin sees only platforms linked to their
 * district (a deployment there, or added by them) and only their district's deployments. Another
 * district's row answers exactly like a missing one (`undefined`).
 */
export interface AdminAreaDeps {
  readonly db: Kysely<Database>;
  readonly now: () => Date;
  readonly logger: Logger;
  readonly platforms: PlatformRepository;
  readonly deployments: Pick<DeploymentRepository, 'list' | 'findById' | 'forget'>;
  readonly tenants: Pick<TenantRepository, 'list'>;
  readonly platformLookup: { forget(): void };
  readonly toolKeys: Pick<ToolKeyService, 'list' | 'rotate'>;
}

/** Who acts: `tenantId` undefined for an operator, who manages every district. */
export interface AdminScope {
  readonly tenantId: string | undefined;
}

/**
 * The launch path keeps registrations for a few seconds; after an admin changes one, this app
 * forgets them so the change applies to the next launch (other processes within the TTL).
 */
function forgetRegistrations(deps: AdminAreaDeps): void {
  deps.platformLookup.forget();
  deps.deployments.forget();
}

/** Districts the actor may manage: one for a district admin, all for an operator. */
export async function listVisibleTenants(
  deps: Pick<AdminAreaDeps, 'tenants'>,
  scope: AdminScope,
): Promise<Tenant[]> {
  const tenants = await deps.tenants.list();
  return scope.tenantId === undefined
    ? tenants
    : tenants.filter((tenant) => tenant.id === scope.tenantId);
}

export async function listVisiblePlatforms(
  deps: AdminAreaDeps,
  scope: AdminScope,
): Promise<Platform[]> {
  const platforms = await deps.platforms.list();
  if (scope.tenantId === undefined) return platforms;
  const linked = new Set(
    (await deps.deployments.list({ tenantId: scope.tenantId })).map((d) => d.platformId),
  );
  return platforms.filter(
    (p) => p.status === 'active' && (linked.has(p.id) || p.defaultTenantId === scope.tenantId),
  );
}

/** The platforms page: what the actor sees, and the districts they can name. */
export async function platformsOverview(
  deps: AdminAreaDeps,
  scope: AdminScope,
): Promise<{ platforms: Platform[]; tenants: Tenant[] }> {
  return {
    platforms: await listVisiblePlatforms(deps, scope),
    tenants: await listVisibleTenants(deps, scope),
  };
}

/**
 * Adds a platform from a preset. A district admin's platform is linked to their district (without
 * capturing deployments), so they see it and can add its deployments.
 */
export async function addPlatformFor(
  deps: AdminAreaDeps,
  scope: AdminScope,
  input: PlatformInput,
): Promise<Platform> {
  const platform = await addPlatform(deps, input);
  if (scope.tenantId !== undefined) {
    await deps.platforms.update(platform.id, { defaultTenantId: scope.tenantId });
  }
  forgetRegistrations(deps);
  deps.logger.info({ platformId: platform.id, issuer: platform.issuer }, 'admin added a platform');
  return platform;
}

/** A platform the actor sees; another district's answers exactly like a missing one. */
export async function findVisiblePlatform(
  deps: AdminAreaDeps,
  scope: AdminScope,
  platformId: string,
): Promise<Platform | undefined> {
  return (await listVisiblePlatforms(deps, scope)).find((p) => p.id === platformId);
}

/** Saves the origins a platform frames the tool from (pages allow them within a minute). */
export async function saveFrameOrigins(
  deps: AdminAreaDeps,
  platform: Platform,
  origins: readonly string[],
): Promise<void> {
  await createAdminStore(deps.db, { now: deps.now }).setFrameOrigins(platform.id, origins);
}

/** A Dynamic Registration waiting for approval (only operators see these). */
export async function findPendingRegistration(
  deps: AdminAreaDeps,
  platformId: string,
): Promise<Platform | undefined> {
  if (!isUuid(platformId)) return undefined;
  const platform = await deps.platforms.findById(platformId);
  return platform?.status === 'pending' ? platform : undefined;
}

/**
 * Approves a pending registration for a district. The registration gave no deployment id we can
 * trust per district (Canvas sends none), so the first launch of this client id records its
 * deployment for the chosen district.
 */
export async function approveRegistration(
  deps: AdminAreaDeps,
  platform: Platform,
  tenant: Tenant,
): Promise<void> {
  await deps.platforms.update(platform.id, {
    status: 'active',
    captureFirstDeployment: true,
    defaultTenantId: tenant.id,
  });
  forgetRegistrations(deps);
  deps.logger.info(
    { platformId: platform.id, tenantId: tenant.id },
    'admin approved a registration',
  );
}

export async function rejectRegistration(deps: AdminAreaDeps, platform: Platform): Promise<void> {
  await deps.platforms.remove(platform.id);
  forgetRegistrations(deps);
  deps.logger.info({ platformId: platform.id }, 'admin rejected a registration');
}

/** The deployments page: the actor's deployments, active platforms and districts. */
export async function deploymentsOverview(
  deps: AdminAreaDeps,
  scope: AdminScope,
): Promise<{ deployments: Deployment[]; platforms: Platform[]; tenants: Tenant[] }> {
  const platforms = (await listVisiblePlatforms(deps, scope)).filter((p) => p.status === 'active');
  const tenants = await listVisibleTenants(deps, scope);
  const deployments = await deps.deployments.list(
    scope.tenantId === undefined ? {} : { tenantId: scope.tenantId },
  );
  return { deployments, platforms, tenants };
}

export type DeploymentRequest =
  | { readonly outcome: 'added'; readonly added: AddedDeployment }
  | { readonly outcome: 'no_tenant' }
  | { readonly outcome: 'no_platform' };

/**
 * Adds a deployment of a visible active platform for a visible district (a district admin's own:
 * `tenantSlug` is only read for operators).
 */
export async function addDeploymentFor(
  deps: AdminAreaDeps,
  scope: AdminScope,
  input: {
    platformId: string;
    deploymentId: string;
    tenantSlug: string;
    label?: string | undefined;
  },
): Promise<DeploymentRequest> {
  const tenants = await listVisibleTenants(deps, scope);
  const tenant =
    scope.tenantId === undefined ? tenants.find((t) => t.slug === input.tenantSlug) : tenants[0];
  const platformVisible = (await listVisiblePlatforms(deps, scope)).some(
    (p) => p.id === input.platformId && p.status === 'active',
  );
  if (tenant === undefined) return { outcome: 'no_tenant' };
  if (!platformVisible) return { outcome: 'no_platform' };
  const added = await addDeployment(deps, {
    platformId: input.platformId,
    deploymentId: input.deploymentId,
    tenantSlug: tenant.slug,
    label: input.label,
  });
  forgetRegistrations(deps);
  return { outcome: 'added', added };
}

/** Removes a deployment the actor sees; `false` when there is none for them. */
export async function removeDeploymentFor(
  deps: AdminAreaDeps,
  scope: AdminScope,
  deploymentRowId: string,
): Promise<boolean> {
  const deployment = isUuid(deploymentRowId)
    ? await deps.deployments.findById(deploymentRowId)
    : undefined;
  if (
    deployment === undefined ||
    (scope.tenantId !== undefined && deployment.tenantId !== scope.tenantId)
  ) {
    return false;
  }
  await removeDeployment(deps, deployment.id);
  forgetRegistrations(deps);
  return true;
}

/** The tool's keys that are published or signing (retired ones are history). */
export async function listToolKeys(deps: AdminAreaDeps) {
  return (await deps.toolKeys.list()).filter((k) => k.status !== 'retired');
}

export async function rotateToolKeys(deps: AdminAreaDeps) {
  const outcome = await deps.toolKeys.rotate();
  deps.logger.info({ outcome }, 'admin rotated tool keys');
  return outcome;
}

/** The database handle the admin use cases take (the web layer passes it through unopened). */
export type AdminDatabase = Kysely<Database>;
