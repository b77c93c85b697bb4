import { ClassroomError } from './errors.ts';
import { fetchFor, type ClassroomContext } from './context.ts';
import { clientSecretLabel, openSecret, sealSecret } from './secrets.ts';
import { discover, GOOGLE_ISSUER } from './sign-in.ts';

/** A district's Classroom settings, as the admin page saves them. */

export interface InstallSettings {
  readonly issuer: string;
  readonly clientId: string;
  /** Undefined on update: keep the stored secret. */
  readonly clientSecret: string | undefined;
  readonly allowedDomains: readonly string[];
  readonly apiBaseUrl: string;
  readonly frameOrigin: string;
}

/**
 * Saves the district's Classroom settings. The issuer's discovery document is read first (with
 * the new client), so a wrong issuer URL is reported and nothing is saved.
 */
export async function saveInstall(
  ctx: ClassroomContext,
  tenantId: string,
  settings: InstallSettings,
): Promise<{ created: boolean }> {
  const { repository } = ctx;
  const existing = await repository.findInstall(tenantId);
  const clientSecret =
    settings.clientSecret ??
    (existing === undefined
      ? undefined
      : openSecret(
          existing.encryptedClientSecret,
          clientSecretLabel(tenantId),
          ctx.keyEncryptionSecret,
        ));
  if (clientSecret === undefined) throw new ClassroomError('not_configured');
  const configuration = await discover({
    issuer: settings.issuer,
    clientId: settings.clientId,
    clientSecret,
    fetch: fetchFor(ctx, settings.issuer, GOOGLE_ISSUER),
  });
  const metadata = configuration.serverMetadata();
  const tenant = await ctx.tenants.findById(tenantId);
  return repository.saveInstall({
    tenantId,
    issuer: metadata.issuer,
    authorizationEndpoint: metadata.authorization_endpoint ?? settings.issuer,
    tokenEndpoint: metadata.token_endpoint ?? settings.issuer,
    jwksUrl: metadata.jwks_uri ?? settings.issuer,
    clientId: settings.clientId,
    encryptedClientSecret:
      settings.clientSecret === undefined
        ? undefined
        : sealSecret(settings.clientSecret, clientSecretLabel(tenantId), ctx.keyEncryptionSecret),
    allowedDomains: settings.allowedDomains,
    apiBaseUrl: settings.apiBaseUrl,
    frameOrigin: settings.frameOrigin,
    name: `Google Classroom (${tenant?.name ?? tenantId})`,
  });
}
