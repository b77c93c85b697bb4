import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { exportJWK, exportPKCS8, generateKeyPair, importPKCS8, SignJWT } from 'jose';
import type { JWK, JWTPayload } from 'jose';
import { z } from 'zod';
import { LtiError } from './errors.ts';

/**
 * The tool's own RS256 keys: platforms fetch our JWKS to verify client assertions and deep linking
 * responses. A key is published as 'next' before it signs anything (platforms cache JWKS), becomes
 * 'current', and stays published as 'retiring' until tokens it signed have expired.
 */
export type ToolKeyStatus = 'next' | 'current' | 'retiring';

export const TOOL_KEY_ALG = 'RS256';

export interface EncryptedPrivateKey {
  /** Format version, so the envelope can change without guessing. */
  readonly version: 1;
  readonly kid: string;
  readonly cipher: 'aes-256-gcm';
  readonly kdf: 'hkdf-sha256';
  /** base64url fields */
  readonly salt: string;
  readonly iv: string;
  readonly tag: string;
  readonly ciphertext: string;
}

export const encryptedPrivateKeySchema = z.object({
  version: z.literal(1),
  kid: z.string().min(1),
  cipher: z.literal('aes-256-gcm'),
  kdf: z.literal('hkdf-sha256'),
  salt: z.string().min(1),
  iv: z.string().min(1),
  tag: z.string().min(1),
  ciphertext: z.string().min(1),
});

export interface ToolKey {
  readonly kid: string;
  readonly status: ToolKeyStatus;
  readonly createdAt: Date;
  /** When the key became 'current'. */
  readonly activatedAt: Date | undefined;
  /** When the key stopped signing. */
  readonly retiredAt: Date | undefined;
  readonly publicJwk: JWK;
  readonly encryptedPrivateKey: EncryptedPrivateKey;
}

export interface RotationPolicy {
  /** How long a 'next' key is published before it may sign (longer than platforms cache our JWKS). */
  readonly publishBeforeUseMs: number;
  /** How long a retired key stays published (longer than the lifetime of anything it signed). */
  readonly keepRetiredMs: number;
}

const MIN_SECRET_LENGTH = 32;
const HKDF_INFO_PREFIX = 'mastery-pathways tool private key v1:';

function keyEncryptionKey(secret: string, salt: Buffer, kid: string): Buffer {
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new RangeError(
      `The key encryption secret must be at least ${MIN_SECRET_LENGTH} characters long.`,
    );
  }
  // HKDF is enough because the secret is a high-entropy configured value, not a password.
  return Buffer.from(hkdfSync('sha256', secret, salt, `${HKDF_INFO_PREFIX}${kid}`, 32));
}

/** The kid and version are bound as additional data, so an envelope cannot be swapped onto another key id. */
function additionalData(kid: string): Buffer {
  return Buffer.from(`v1:${kid}`, 'utf8');
}

export function encryptPrivateKey(
  pkcs8Pem: string,
  kid: string,
  secret: string,
): EncryptedPrivateKey {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', keyEncryptionKey(secret, salt, kid), iv);
  cipher.setAAD(additionalData(kid));
  const ciphertext = Buffer.concat([cipher.update(pkcs8Pem, 'utf8'), cipher.final()]);
  return {
    version: 1,
    kid,
    cipher: 'aes-256-gcm',
    kdf: 'hkdf-sha256',
    salt: salt.toString('base64url'),
    iv: iv.toString('base64url'),
    tag: cipher.getAuthTag().toString('base64url'),
    ciphertext: ciphertext.toString('base64url'),
  };
}

/** Returns the PKCS#8 PEM. A wrong secret or a tampered envelope fails with `key_decryption_failed`. */
export function decryptPrivateKeyPem(envelope: EncryptedPrivateKey, secret: string): string {
  try {
    const salt = Buffer.from(envelope.salt, 'base64url');
    const decipher = createDecipheriv(
      'aes-256-gcm',
      keyEncryptionKey(secret, salt, envelope.kid),
      Buffer.from(envelope.iv, 'base64url'),
    );
    decipher.setAAD(additionalData(envelope.kid));
    decipher.setAuthTag(Buffer.from(envelope.tag, 'base64url'));
    return Buffer.concat([
      decipher.update(Buffer.from(envelope.ciphertext, 'base64url')),
      decipher.final(),
    ]).toString('utf8');
  } catch (error) {
    if (error instanceof RangeError) throw error;
    throw new LtiError('key_decryption_failed', { detail: `kid ${envelope.kid}`, cause: error });
  }
}

export async function decryptPrivateKey(
  envelope: EncryptedPrivateKey,
  secret: string,
): Promise<CryptoKey> {
  return importPKCS8(decryptPrivateKeyPem(envelope, secret), TOOL_KEY_ALG);
}

export interface GenerateToolKeyOptions {
  readonly secret: string;
  readonly now: () => Date;
  /** Random key id; injected so tests and callers control randomness. */
  readonly kid: string;
}

/** A fresh key pair in the 'next' state, its private half encrypted with the configured secret. */
export async function generateToolKey(options: GenerateToolKeyOptions): Promise<ToolKey> {
  const { publicKey, privateKey } = await generateKeyPair(TOOL_KEY_ALG, {
    extractable: true,
    modulusLength: 2048,
  });
  const pem = await exportPKCS8(privateKey);
  const jwk = await exportJWK(publicKey);
  return {
    kid: options.kid,
    status: 'next',
    createdAt: options.now(),
    activatedAt: undefined,
    retiredAt: undefined,
    publicJwk: {
      kty: jwk.kty,
      n: jwk.n,
      e: jwk.e,
      kid: options.kid,
      alg: TOOL_KEY_ALG,
      use: 'sig',
    },
    encryptedPrivateKey: encryptPrivateKey(pem, options.kid, options.secret),
  };
}

/** Our JWKS document: every key a platform may see a signature from, soon or recently. */
export function publishJwks(keys: readonly ToolKey[]): { keys: JWK[] } {
  const order: Readonly<Record<ToolKeyStatus, number>> = { current: 0, next: 1, retiring: 2 };
  return {
    keys: [...keys]
      .sort((a, b) => order[a.status] - order[b.status])
      .map((key) => ({ ...key.publicJwk, kid: key.kid, alg: TOOL_KEY_ALG, use: 'sig' })),
  };
}

export interface RotationResult {
  readonly keys: readonly ToolKey[];
  /** True when the set has no 'next' key: the caller should generate one and pass it to `addNextKey`. */
  readonly needsNextKey: boolean;
  readonly changed: boolean;
}

/**
 * One pure step of key rotation, safe to run on a schedule:
 * - retired keys are dropped once `keepRetiredMs` has passed since they stopped signing;
 * - a 'next' key published for at least `publishBeforeUseMs` becomes 'current', and the previous
 *   current key becomes 'retiring';
 * - with no current key at all (first start) the oldest 'next' key is promoted at once: nothing has
 *   been signed yet, so no platform can be holding a stale JWKS.
 */
export function rotate(
  keys: readonly ToolKey[],
  now: Date,
  policy: RotationPolicy,
): RotationResult {
  const time = now.getTime();
  let changed = false;
  let result = keys.filter((key) => {
    const expired =
      key.status === 'retiring' &&
      key.retiredAt !== undefined &&
      time - key.retiredAt.getTime() >= policy.keepRetiredMs;
    if (expired) changed = true;
    return !expired;
  });
  const nextKeys = result
    .filter((key) => key.status === 'next')
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  const candidate = nextKeys[0];
  const hasCurrent = result.some((key) => key.status === 'current');
  const ready =
    candidate !== undefined &&
    (!hasCurrent || time - candidate.createdAt.getTime() >= policy.publishBeforeUseMs);
  if (candidate !== undefined && ready) {
    changed = true;
    result = result.map((key): ToolKey => {
      if (key.kid === candidate.kid) return { ...key, status: 'current', activatedAt: now };
      if (key.status === 'current') return { ...key, status: 'retiring', retiredAt: now };
      return key;
    });
  }
  return { keys: result, needsNextKey: !result.some((key) => key.status === 'next'), changed };
}

/** Adds a freshly generated key as 'next'. Only one key waits at a time. */
export function addNextKey(keys: readonly ToolKey[], key: ToolKey): readonly ToolKey[] {
  if (key.status !== 'next') throw new RangeError('Only a key in the next state can be added.');
  if (keys.some((existing) => existing.status === 'next')) return keys;
  return [...keys, key];
}

export interface ToolSigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
}

export async function loadSigningKey(
  keys: readonly ToolKey[],
  secret: string,
): Promise<ToolSigningKey> {
  const current = keys.find((key) => key.status === 'current');
  if (current === undefined) throw new LtiError('no_signing_key');
  return {
    kid: current.kid,
    privateKey: await decryptPrivateKey(current.encryptedPrivateKey, secret),
  };
}

/** Signs a JWT (RS256, `kid` and `typ` in the header). The caller sets every claim, including iat/exp. */
export type ToolSigner = (payload: JWTPayload) => Promise<string>;

export function createToolSigner(key: ToolSigningKey): ToolSigner {
  return async (payload) =>
    new SignJWT(payload)
      .setProtectedHeader({ alg: TOOL_KEY_ALG, kid: key.kid, typ: 'JWT' })
      .sign(key.privateKey);
}
