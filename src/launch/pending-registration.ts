import type { Platform, PlatformRepository } from '../storage/lti/platforms.repository.ts';
import type { TenantRepository } from '../storage/lti/tenants.repository.ts';

export interface PendingRegistrationDeps {
  readonly platforms: Pick<PlatformRepository, 'findByIssuerAndClient' | 'listPendingByIssuer'>;
  readonly tenants: Pick<TenantRepository, 'findById'>;
  /** The tool's public URL: the operator is named by its host. */
  readonly publicUrl: string;
}

/** What the "waiting for approval" page shows, inside the LMS's frame. */
export interface PendingRegistration {
  readonly platformHost: string;
  /** Who approves it, in words. */
  readonly approver: string;
  /** The origins the LMS frames the tool from: what an approval would allow. */
  readonly frameOrigins: readonly string[];
}

/**
 * A login refused as an unknown issuer or client may come from a Dynamic Registration that waits
 * for approval (the LMS activates the tool before our operator approves it): says so instead of a
 * bare refusal. Looked up by issuer and client id, or by issuer alone when the login sends no
 * client id (one waiting registration of that issuer, not a guess among several).
 */
export async function findPendingRegistration(
  deps: PendingRegistrationDeps,
  params: Readonly<Record<string, unknown>>,
): Promise<PendingRegistration | undefined> {
  const platform = await pendingPlatformOf(deps, params);
  if (platform === undefined) return undefined;
  return {
    platformHost: new URL(platform.issuer).host,
    approver: await approverOf(deps, platform),
    frameOrigins: frameOriginsOf(platform),
  };
}

async function pendingPlatformOf(
  deps: PendingRegistrationDeps,
  params: Readonly<Record<string, unknown>>,
): Promise<Platform | undefined> {
  const issuer = params['iss'];
  const clientId = params['client_id'];
  if (typeof issuer !== 'string' || issuer === '') return undefined;
  if (typeof clientId === 'string' && clientId !== '') {
    const platform = await deps.platforms.findByIssuerAndClient(issuer, clientId);
    return platform?.status === 'pending' ? platform : undefined;
  }
  const pending = await deps.platforms.listPendingByIssuer(issuer, 2);
  return pending.length === 1 ? pending[0] : undefined;
}

/** The origins a pending platform frames the tool from: what an approval would allow. */
function frameOriginsOf(platform: Platform): string[] {
  const origins = new Set<string>();
  for (const url of [platform.issuer, platform.authLoginUrl, ...platform.frameOrigins]) {
    if (URL.canParse(url)) origins.add(new URL(url).origin);
  }
  return [...origins];
}

/**
 * Who approves a pending platform, in words: the district's Mastery Pathways administrator when the
 * registration already names its district, else the operator of this installation (there is no
 * operator-contact setting yet).
 */
async function approverOf(deps: PendingRegistrationDeps, platform: Platform): Promise<string> {
  if (platform.defaultTenantId !== undefined) {
    const tenant = await deps.tenants.findById(platform.defaultTenantId);
    if (tenant !== undefined) return `the Mastery Pathways administrator of ${tenant.name}`;
  }
  return `the operator of Mastery Pathways at ${new URL(deps.publicUrl).host}`;
}
