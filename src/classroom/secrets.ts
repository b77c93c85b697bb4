import {
  decryptPrivateKeyPem,
  encryptedPrivateKeySchema,
  encryptPrivateKey,
  type EncryptedPrivateKey,
} from '../lti/tool-keys.ts';

/**
 * Secrets of the Classroom install (OAuth client secret, users' refresh tokens) at rest: the same
 * AES-256-GCM envelope and configured key-encryption secret as the tool private keys. The label is
 * bound as additional data, so an envelope copied onto another row (another user's token) fails.
 */
export function sealSecret(plain: string, label: string, secret: string): Record<string, unknown> {
  return { ...encryptPrivateKey(plain, label, secret) };
}

export function openSecret(stored: unknown, label: string, secret: string): string {
  const envelope: EncryptedPrivateKey = encryptedPrivateKeySchema.parse(stored);
  if (envelope.kid !== label) throw new Error('encrypted secret belongs to another row');
  return decryptPrivateKeyPem(envelope, secret);
}

export const clientSecretLabel = (tenantId: string): string =>
  `classroom-client-secret:${tenantId}`;

export const refreshTokenLabel = (tenantId: string, userId: string): string =>
  `classroom-refresh-token:${tenantId}:${userId}`;
