import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../storage/schema.ts';
import {
  createAdminUserRepository,
  type AdminUser,
} from '../storage/lti/admin-users.repository.ts';
import {
  createDeploymentRepository,
  type Deployment,
} from '../storage/lti/deployments.repository.ts';
import { createPlatformRepository, type Platform } from '../storage/lti/platforms.repository.ts';
import { createTenantRepository, type Tenant } from '../storage/lti/tenants.repository.ts';
import { isForeignKeyViolation, isUniqueViolation, LtiAdminError } from './errors.ts';
import { hashPassword, MIN_PASSWORD_LENGTH } from './password.ts';
import { resolvePlatformInput, type PlatformInput } from './platform-presets.ts';
import {
  deploymentIdSchema,
  deploymentIdWarnings,
  parseInput,
  tenantNameSchema,
  tenantSlugSchema,
  usernameSchema,
} from './validation.ts';

/**
 * Use cases of LTI administration, shared by the CLI and the admin page: each validates its input,
 * calls the repositories and turns database conflicts into `LtiAdminError`s with clear messages.
 */
export interface AdminContext {
  readonly db: Kysely<Database>;
  readonly now: () => Date;
}

export async function addTenant(
  ctx: AdminContext,
  input: { slug: unknown; name: unknown },
): Promise<Tenant> {
  const slug = parseInput(tenantSlugSchema, input.slug);
  const name = parseInput(tenantNameSchema, input.name);
  try {
    return await createTenantRepository(ctx.db).create({ slug, name });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new LtiAdminError('duplicate_tenant', `A tenant with slug "${slug}" already exists.`, {
        cause: error,
      });
    }
    throw error;
  }
}

export function listTenants(ctx: AdminContext): Promise<Tenant[]> {
  return createTenantRepository(ctx.db).list();
}

export async function requireTenant(ctx: AdminContext, slug: unknown): Promise<Tenant> {
  const parsed = parseInput(tenantSlugSchema, slug);
  const tenant = await createTenantRepository(ctx.db).findBySlug(parsed);
  if (tenant === undefined) {
    throw new LtiAdminError(
      'unknown_tenant',
      `No tenant has slug "${parsed}". List them with "tenant list" or add one with "tenant add".`,
    );
  }
  return tenant;
}

/**
 * `captureFirstDeploymentFor`: a tenant slug. The platform's first launch then records its
 * deployment for that tenant (Canvas Dynamic Registration gives no deployment id); off by default.
 */
export async function addPlatform(
  ctx: AdminContext,
  input: PlatformInput & { captureFirstDeploymentFor?: string | undefined },
): Promise<Platform> {
  const { captureFirstDeploymentFor, ...platformInput } = input;
  const resolved = resolvePlatformInput(platformInput);
  const captureTenant =
    captureFirstDeploymentFor === undefined
      ? undefined
      : await requireTenant(ctx, captureFirstDeploymentFor);
  try {
    return await createPlatformRepository(ctx.db).create({
      ...resolved,
      captureFirstDeployment: captureTenant !== undefined,
      defaultTenantId: captureTenant?.id,
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new LtiAdminError(
        'duplicate_platform',
        `A platform with issuer ${resolved.issuer} and client_id ${resolved.clientId} is already registered.`,
        { cause: error },
      );
    }
    throw error;
  }
}

export function listPlatforms(ctx: AdminContext): Promise<Platform[]> {
  return createPlatformRepository(ctx.db).list();
}

const uuidSchema = (flag: string) =>
  z.uuid({ error: `${flag} must be an id as shown by the list command (a UUID)` });

export async function removePlatform(ctx: AdminContext, id: unknown): Promise<void> {
  const platformId = parseInput(uuidSchema('--id'), id);
  const repository = createPlatformRepository(ctx.db);
  const deployments = await repository.countDeployments(platformId);
  if (deployments > 0) {
    throw new LtiAdminError(
      'platform_in_use',
      `The platform still has ${deployments} deployment(s); remove them first with "deployment remove".`,
    );
  }
  try {
    if (!(await repository.remove(platformId))) {
      throw new LtiAdminError('unknown_platform', `No platform has id ${platformId}.`);
    }
  } catch (error) {
    if (isForeignKeyViolation(error)) {
      throw new LtiAdminError('platform_in_use', 'The platform is still in use.', { cause: error });
    }
    throw error;
  }
}

export interface AddedDeployment {
  readonly deployment: Deployment;
  readonly warnings: readonly string[];
}

export async function addDeployment(
  ctx: AdminContext,
  input: { platformId: unknown; deploymentId: unknown; tenantSlug: unknown; label?: unknown },
): Promise<AddedDeployment> {
  const platformId = parseInput(uuidSchema('--platform-id'), input.platformId);
  const deploymentId = parseInput(deploymentIdSchema, input.deploymentId);
  const label = parseInput(z.string().trim().min(1).max(200).optional(), input.label);
  const platform = await createPlatformRepository(ctx.db).findById(platformId);
  if (platform === undefined) {
    throw new LtiAdminError(
      'unknown_platform',
      `No platform has id ${platformId}. List them with "platform list".`,
    );
  }
  const tenant = await requireTenant(ctx, input.tenantSlug);
  try {
    const deployment = await createDeploymentRepository(ctx.db).create({
      platformId,
      deploymentId,
      tenantId: tenant.id,
      label,
    });
    return { deployment, warnings: deploymentIdWarnings(platform.flavour, deploymentId) };
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new LtiAdminError(
        'duplicate_deployment',
        `Deployment ${deploymentId} is already listed for this platform.`,
        { cause: error },
      );
    }
    throw error;
  }
}

export function listDeployments(ctx: AdminContext): Promise<Deployment[]> {
  return createDeploymentRepository(ctx.db).list();
}

export async function removeDeployment(ctx: AdminContext, id: unknown): Promise<void> {
  const deploymentRowId = parseInput(uuidSchema('--id'), id);
  try {
    if (!(await createDeploymentRepository(ctx.db).remove(deploymentRowId))) {
      throw new LtiAdminError('unknown_deployment', `No deployment has id ${deploymentRowId}.`);
    }
  } catch (error) {
    if (isForeignKeyViolation(error)) {
      throw new LtiAdminError(
        'platform_in_use',
        'Courses were launched through this deployment; it cannot be removed while they exist.',
        { cause: error },
      );
    }
    throw error;
  }
}

export async function createAdminUser(
  ctx: AdminContext,
  input: { username: unknown; tenantSlug: unknown; password: string },
): Promise<AdminUser> {
  const username = parseInput(usernameSchema, input.username);
  if (input.password.length < MIN_PASSWORD_LENGTH) {
    throw new LtiAdminError(
      'invalid_input',
      `The password must be at least ${MIN_PASSWORD_LENGTH} characters long.`,
    );
  }
  const tenant =
    input.tenantSlug === undefined ? undefined : await requireTenant(ctx, input.tenantSlug);
  try {
    return await createAdminUserRepository(ctx.db, ctx.now).create({
      username,
      tenantId: tenant?.id,
      passwordHash: await hashPassword(input.password),
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new LtiAdminError('duplicate_admin', `An admin user "${username}" already exists.`, {
        cause: error,
      });
    }
    throw error;
  }
}

export function listAdminUsers(ctx: AdminContext): Promise<AdminUser[]> {
  return createAdminUserRepository(ctx.db, ctx.now).list();
}

export async function disableAdminUser(ctx: AdminContext, username: unknown): Promise<void> {
  const parsed = parseInput(usernameSchema, username);
  if (!(await createAdminUserRepository(ctx.db, ctx.now).disable(parsed))) {
    throw new LtiAdminError('unknown_admin', `No enabled admin user is named "${parsed}".`);
  }
}
