import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { JWK } from 'jose';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import {
  addNextKey,
  decryptPrivateKeyPem,
  encryptPrivateKey,
  generateToolKey,
  loadSigningKey,
  publishJwks,
  rotate,
  type EncryptedPrivateKey,
  type RotationPolicy,
  type ToolKey,
  type ToolSigningKey,
} from '../lti/tool-keys.ts';
import type { StoredToolKey, ToolKeyRepository } from '../storage/lti/tool-keys.repository.ts';
import { LtiAdminError } from './errors.ts';

/**
 * Platforms cache our JWKS (Canvas for minutes to hours): a next key is published a day before it
 * signs. Our client assertions and deep linking responses live minutes; a retiring key stays a day.
 */
export const DEFAULT_ROTATION_POLICY: RotationPolicy = {
  publishBeforeUseMs: 24 * 60 * 60 * 1000,
  keepRetiredMs: 24 * 60 * 60 * 1000,
};

export type RotationOutcome =
  | { readonly action: 'added-next'; readonly kid: string; readonly usableFrom: Date }
  | {
      readonly action: 'promoted';
      readonly kid: string;
      readonly previousKid: string | undefined;
      readonly forced: boolean;
    };

export interface ToolKeyServiceOptions {
  readonly repository: ToolKeyRepository;
  readonly secret: string;
  readonly now: () => Date;
  readonly policy?: RotationPolicy;
  /** Random key id; injected for tests. */
  readonly newKid?: () => string;
}

export function createToolKeyService(options: ToolKeyServiceOptions) {
  const policy = options.policy ?? DEFAULT_ROTATION_POLICY;
  const newKid = options.newKid ?? (() => randomBytes(12).toString('base64url'));
  const { repository, secret, now } = options;
  const generate = (): Promise<ToolKey> => generateToolKey({ secret, now, kid: newKid() });

  return {
    /** At start: makes sure a current key exists (first start generates and activates one). */
    async ensureCurrentKey(): Promise<ToolKey> {
      let keys: readonly ToolKey[] = await repository.listPublished();
      const existing = keys.find((key) => key.status === 'current');
      if (existing !== undefined) return existing;
      if (!keys.some((key) => key.status === 'next')) keys = addNextKey(keys, await generate());
      // With no current key, `rotate` promotes the oldest next key at once: nothing was signed yet.
      const step = rotate(keys, now(), policy);
      await repository.saveRotation(step.keys, now());
      const current = step.keys.find((key) => key.status === 'current');
      if (current === undefined) throw new Error('rotation produced no current key');
      return current;
    },

    /**
     * `keys rotate`. Without a next key: adds one (published, not yet signing). With a next key that
     * has been published for `publishBeforeUseMs`: makes it current and the old one retiring.
     * `force` (emergency, e.g. a leaked key): promotes now and unpublishes the old key at once, so
     * tokens it signed stop verifying; platforms with a cached JWKS may fail until they refetch.
     */
    async rotate(rotateOptions: { force?: boolean } = {}): Promise<RotationOutcome> {
      const time = now();
      let keys: readonly ToolKey[] = await repository.listPublished();
      const previous = keys.find((key) => key.status === 'current');
      const waiting = keys.find((key) => key.status === 'next');
      if (rotateOptions.force === true) {
        if (waiting === undefined) keys = addNextKey(keys, await generate());
        const step = rotate(keys, time, { ...policy, publishBeforeUseMs: 0 });
        const result = step.keys.filter((key) => key.kid !== previous?.kid);
        await repository.saveRotation(result, time);
        const current = result.find((key) => key.status === 'current');
        if (current === undefined) throw new Error('forced rotation produced no current key');
        return { action: 'promoted', kid: current.kid, previousKid: previous?.kid, forced: true };
      }
      if (waiting === undefined) {
        // Also drops retiring keys whose tokens have expired.
        const step = rotate(keys, time, policy);
        const next = await generate();
        await repository.saveRotation(addNextKey(step.keys, next), time);
        return {
          action: 'added-next',
          kid: next.kid,
          usableFrom: new Date(time.getTime() + policy.publishBeforeUseMs),
        };
      }
      const step = rotate(keys, time, policy);
      const promoted = step.keys.find((key) => key.kid === waiting.kid);
      if (promoted?.status !== 'current') {
        const usableFrom = new Date(waiting.createdAt.getTime() + policy.publishBeforeUseMs);
        throw new LtiAdminError(
          'rotation_not_ready',
          `The next key ${waiting.kid} has been published only since ${waiting.createdAt.toISOString()}; platforms may still cache the old key set. Run "keys rotate" again after ${usableFrom.toISOString()}, or use --force in an emergency.`,
        );
      }
      await repository.saveRotation(step.keys, time);
      return { action: 'promoted', kid: waiting.kid, previousKid: previous?.kid, forced: false };
    },

    /** Our JWKS document: next, current and retiring keys. */
    async jwks(): Promise<{ keys: JWK[] }> {
      return publishJwks(await repository.listPublished());
    },

    async signingKey(): Promise<ToolSigningKey> {
      return loadSigningKey(await repository.listPublished(), secret);
    },

    /** Every key, retired ones included (for `keys list`). */
    async list(): Promise<StoredToolKey[]> {
      return repository.list();
    },

    /**
     * Re-encrypts every private key (retired ones too) from `oldSecret` to this service's secret.
     * All keys are decrypted first, so a wrong old secret changes nothing.
     */
    async reencrypt(oldSecret: string): Promise<number> {
      const keys = await repository.list();
      const envelopes = new Map<string, EncryptedPrivateKey>();
      for (const key of keys) {
        const pem = decryptPrivateKeyPem(key.encryptedPrivateKey, oldSecret);
        envelopes.set(key.kid, encryptPrivateKey(pem, key.kid, secret));
      }
      await repository.replaceEnvelopes(envelopes);
      return envelopes.size;
    },
  };
}

export type ToolKeyService = ReturnType<typeof createToolKeyService>;

/** Where a generated development secret is kept: beside the data folder, outside the database. */
export function keyEncryptionSecretPath(config: Config): string {
  return path.resolve(config.database.dataDir, '..', 'key-encryption-secret');
}

/**
 * The secret that encrypts tool private keys at rest. Production must configure it (the config
 * schema refuses to start without it). Elsewhere a random one is generated once into a 0600 file so
 * development and tests work out of the box, with a warning: losing that file loses the keys.
 */
export function resolveKeyEncryptionSecret(
  config: Config,
  logger: Logger,
  random: (size: number) => Buffer = randomBytes,
): string {
  const configured = config.security.keyEncryptionSecret;
  if (configured !== undefined) return configured;
  if (config.nodeEnv === 'production') {
    throw new LtiAdminError('no_secret', 'KEY_ENCRYPTION_SECRET must be set in production.');
  }
  const file = keyEncryptionSecretPath(config);
  try {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored.length >= 32) return stored;
    throw new LtiAdminError(
      'no_secret',
      `${file} holds fewer than 32 characters; delete it (tool keys encrypted with it become unusable) or set KEY_ENCRYPTION_SECRET.`,
    );
  } catch (error) {
    if (!(
      typeof error === 'object' &&
      error !== null &&
      'code' in error &&
      error.code === 'ENOENT'
    )) {
      throw error;
    }
  }
  const secret = random(48).toString('base64url');
  mkdirSync(path.dirname(file), { recursive: true });
  try {
    // 'wx': never overwrite a secret another process just wrote; keys may already use it.
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'EEXIST') {
      return readFileSync(file, 'utf8').trim();
    }
    throw error;
  }
  logger.warn(
    { file },
    'generated a key encryption secret for development; set KEY_ENCRYPTION_SECRET in production',
  );
  return secret;
}
