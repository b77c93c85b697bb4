import { expect } from 'chai';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { LtiError } from '../../../src/lti/errors.ts';
import {
  addNextKey,
  createToolSigner,
  decryptPrivateKeyPem,
  generateToolKey,
  loadSigningKey,
  publishJwks,
  rotate,
} from '../../../src/lti/tool-keys.ts';
import type { ToolKey } from '../../../src/lti/tool-keys.ts';
import { manualClock } from './fixtures.ts';

const SECRET = 'a-configured-secret-of-at-least-32-characters!';
const HOUR = 3_600_000;
const policy = { publishBeforeUseMs: 24 * HOUR, keepRetiredMs: 2 * HOUR };

describe('tool keys', () => {
  const clock = manualClock();
  let first: ToolKey;
  let second: ToolKey;

  before(async () => {
    first = await generateToolKey({ secret: SECRET, now: clock.now, kid: 'kid-1' });
    second = await generateToolKey({
      secret: SECRET,
      now: () => new Date(clock.now().getTime() + HOUR),
      kid: 'kid-2',
    });
  });

  describe('encryption at rest', () => {
    it('when a key is generated, then its private half is stored encrypted with kid, version, iv and tag', () => {
      const envelope = first.encryptedPrivateKey;
      expect(envelope).to.include({
        version: 1,
        kid: 'kid-1',
        cipher: 'aes-256-gcm',
        kdf: 'hkdf-sha256',
      });
      expect(envelope.iv).to.have.length.greaterThan(0);
      expect(envelope.tag).to.have.length.greaterThan(0);
      expect(JSON.stringify(envelope)).not.to.include('PRIVATE KEY');
      expect(first.publicJwk).to.include({ kty: 'RSA', kid: 'kid-1', alg: 'RS256', use: 'sig' });
      expect(first.publicJwk).not.to.have.property('d');
    });

    it('when decrypted with the right secret, then the key signs tokens the published JWKS verifies', async () => {
      expect(decryptPrivateKeyPem(first.encryptedPrivateKey, SECRET)).to.match(
        /^-----BEGIN PRIVATE KEY-----/,
      );
      const keys = rotate([first], clock.now(), policy).keys;
      const signer = createToolSigner(await loadSigningKey(keys, SECRET));
      const jwt = await signer({
        iss: 'tool',
        aud: 'platform',
        exp: Math.floor(Date.now() / 1000) + 60,
      });
      expect(decodeProtectedHeader(jwt)).to.include({ alg: 'RS256', kid: 'kid-1' });
      const { payload } = await jwtVerify(jwt, createLocalJWKSet(publishJwks(keys)), {
        audience: 'platform',
      });
      expect(payload.iss).to.equal('tool');
    });

    it('when the secret is wrong, then decryption fails with key_decryption_failed', () => {
      expect(() => decryptPrivateKeyPem(first.encryptedPrivateKey, `${SECRET}-other`))
        .to.throw(LtiError)
        .with.property('code', 'key_decryption_failed');
    });

    it('when the ciphertext is tampered with, then decryption fails with key_decryption_failed', () => {
      const bytes = Buffer.from(first.encryptedPrivateKey.ciphertext, 'base64url');
      bytes[0] = (bytes[0] ?? 0) ^ 0xff;
      const tampered = { ...first.encryptedPrivateKey, ciphertext: bytes.toString('base64url') };
      expect(() => decryptPrivateKeyPem(tampered, SECRET))
        .to.throw(LtiError)
        .with.property('code', 'key_decryption_failed');
    });

    it('when an envelope is relabelled with another kid, then decryption fails', () => {
      const relabelled = { ...first.encryptedPrivateKey, kid: 'kid-2' };
      expect(() => decryptPrivateKeyPem(relabelled, SECRET))
        .to.throw(LtiError)
        .with.property('code', 'key_decryption_failed');
    });

    it('when the secret is too short, then it is refused', () => {
      expect(() => decryptPrivateKeyPem(first.encryptedPrivateKey, 'short')).to.throw(RangeError);
    });
  });

  describe('rotation', () => {
    it('when there is no current key yet, then the next key becomes current at once', () => {
      const result = rotate([first], clock.now(), policy);
      expect(result.keys.map((key) => [key.kid, key.status])).to.deep.equal([['kid-1', 'current']]);
      expect(result.needsNextKey).to.equal(true);
      expect(result.changed).to.equal(true);
    });

    it('when a next key has not been published long enough, then it does not sign yet', () => {
      const bootstrapped = rotate([first], clock.now(), policy).keys;
      const withNext = addNextKey(bootstrapped, second);
      const result = rotate(withNext, new Date(clock.now().getTime() + 12 * HOUR), policy);
      expect(result.keys.map((key) => [key.kid, key.status])).to.deep.equal([
        ['kid-1', 'current'],
        ['kid-2', 'next'],
      ]);
      expect(result.changed).to.equal(false);
      expect(publishJwks(result.keys).keys.map((key) => key.kid)).to.deep.equal(['kid-1', 'kid-2']);
    });

    it('when the next key was published long enough, then it becomes current and the old key retires', async () => {
      const bootstrapped = rotate([first], clock.now(), policy).keys;
      const later = new Date(clock.now().getTime() + 26 * HOUR);
      const result = rotate(addNextKey(bootstrapped, second), later, policy);
      expect(result.keys.map((key) => [key.kid, key.status])).to.deep.equal([
        ['kid-1', 'retiring'],
        ['kid-2', 'current'],
      ]);
      expect(result.keys[0]?.retiredAt).to.deep.equal(later);
      expect(result.needsNextKey).to.equal(true);
      expect(publishJwks(result.keys).keys.map((key) => key.kid)).to.deep.equal(['kid-2', 'kid-1']);
      expect((await loadSigningKey(result.keys, SECRET)).kid).to.equal('kid-2');
    });

    it('when a retired key has outlived its tokens, then it is no longer published', () => {
      const bootstrapped = rotate([first], clock.now(), policy).keys;
      const rotatedAt = clock.now().getTime() + 26 * HOUR;
      const rotated = rotate(addNextKey(bootstrapped, second), new Date(rotatedAt), policy).keys;
      const stillKept = rotate(rotated, new Date(rotatedAt + HOUR), policy).keys;
      expect(stillKept.map((key) => key.kid)).to.deep.equal(['kid-1', 'kid-2']);
      const dropped = rotate(rotated, new Date(rotatedAt + 2 * HOUR), policy).keys;
      expect(dropped.map((key) => key.kid)).to.deep.equal(['kid-2']);
    });

    it('when no key is current, then signing fails with no_signing_key', async () => {
      try {
        await loadSigningKey([first], SECRET);
        expect.fail('expected no_signing_key');
      } catch (error) {
        expect(error).to.be.instanceOf(LtiError).with.property('code', 'no_signing_key');
      }
    });

    it('when a next key already waits, then another is not added', () => {
      expect(addNextKey([first], second).map((key) => key.kid)).to.deep.equal(['kid-1']);
    });
  });
});
