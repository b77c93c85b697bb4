import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { jwtVerify, importJWK } from 'jose';
import { defaultConfigFiles, loadConfig } from '../../../src/config/load.ts';
import { paths } from '../../../src/paths.ts';
import { createLogger } from '../../../src/logger.ts';
import { createToolSigner } from '../../../src/lti/tool-keys.ts';
import {
  createToolKeyService,
  DEFAULT_ROTATION_POLICY,
  resolveKeyEncryptionSecret,
} from '../../../src/lti-admin/tool-key-service.ts';
import { createToolKeyRepository } from '../../../src/storage/lti/tool-keys.repository.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../../support/database.ts';
import { manualClock } from './fixtures.ts';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const NEW_SECRET = 'another-test-secret-that-is-long-enough-987654';
const DAY = 24 * 60 * 60 * 1000;

describe(`tool keys (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;

  beforeEach(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    await database.close();
  });

  function service(clock: ReturnType<typeof manualClock>, secret = SECRET) {
    let n = 0;
    return createToolKeyService({
      repository: createToolKeyRepository(database.db),
      secret,
      now: clock.now,
      newKid: () => `kid-${(n += 1)}-${secret.slice(0, 3)}`,
    });
  }

  it('when the tool starts with no key, then one is generated and made current, and a second start keeps it', async () => {
    const clock = manualClock();
    const keys = service(clock);
    const first = await keys.ensureCurrentKey();
    expect(first.status).to.equal('current');
    const again = await keys.ensureCurrentKey();
    expect(again.kid).to.equal(first.kid);
    expect((await keys.jwks()).keys.map((k) => k.kid)).to.deep.equal([first.kid]);
  });

  it('when keys rotate twice a day apart, then the next key is published first, then signs, and the old one stays published', async () => {
    const clock = manualClock();
    const keys = service(clock);
    const original = await keys.ensureCurrentKey();
    const added = await keys.rotate();
    expect(added.action).to.equal('added-next');
    const jwks = await keys.jwks();
    expect(jwks.keys.map((k) => k.kid)).to.deep.equal([original.kid, added.kid]);
    for (const key of jwks.keys) {
      expect(key).to.include({ kty: 'RSA', alg: 'RS256', use: 'sig' });
      expect(key).not.to.have.property('d');
    }

    // Too early: platforms may still cache the old JWKS.
    clock.advance(DAY / 2);
    let error: unknown;
    try {
      await keys.rotate();
    } catch (caught) {
      error = caught;
    }
    expect(error).to.have.property('code', 'rotation_not_ready');

    clock.advance(DAY / 2);
    const promoted = await keys.rotate();
    expect(promoted).to.deep.equal({
      action: 'promoted',
      kid: added.kid,
      previousKid: original.kid,
      forced: false,
    });
    expect((await keys.signingKey()).kid).to.equal(added.kid);
    const statuses = Object.fromEntries((await keys.list()).map((k) => [k.kid, k.status]));
    expect(statuses).to.deep.equal({ [original.kid]: 'retiring', [added.kid]: 'current' });

    // Once the retiring key's tokens have expired, the next rotation unpublishes it (kept as retired).
    clock.advance(DEFAULT_ROTATION_POLICY.keepRetiredMs);
    const third = await keys.rotate();
    expect(third.action).to.equal('added-next');
    const after = Object.fromEntries((await keys.list()).map((k) => [k.kid, k.status]));
    expect(after[original.kid]).to.equal('retired');
    expect((await keys.jwks()).keys.map((k) => k.kid)).not.to.include(original.kid);
  });

  it('when rotation is forced, then the new key signs at once and the old key is no longer published', async () => {
    const clock = manualClock();
    const keys = service(clock);
    const original = await keys.ensureCurrentKey();
    const forced = await keys.rotate({ force: true });
    expect(forced).to.include({ action: 'promoted', previousKid: original.kid, forced: true });
    expect((await keys.jwks()).keys.map((k) => k.kid)).to.deep.equal([
      forced.action === 'promoted' ? forced.kid : '',
    ]);
  });

  it('when a key signs, then the published JWKS verifies the signature', async () => {
    const clock = manualClock();
    const keys = service(clock);
    await keys.ensureCurrentKey();
    const sign = createToolSigner(await keys.signingKey());
    const jwt = await sign({ iss: 'tool', iat: Math.floor(clock.now().getTime() / 1000) });
    const [jwk] = (await keys.jwks()).keys;
    const verified = await jwtVerify(jwt, await importJWK(jwk!, 'RS256'), {
      currentDate: clock.now(),
    });
    expect(verified.payload.iss).to.equal('tool');
  });

  it('when private keys are stored, then no row holds the PEM or any private JWK field in clear', async () => {
    const clock = manualClock();
    const keys = service(clock);
    await keys.ensureCurrentKey();
    await keys.rotate();
    const rows = await database.db.selectFrom('tool_keys').selectAll().execute();
    expect(rows).to.have.length(2);
    const text = JSON.stringify(rows);
    expect(text).not.to.contain('PRIVATE KEY');
    expect(text).not.to.contain('MII');
    for (const row of rows) {
      expect(row.public_jwk).not.to.have.property('d');
      expect(row.encrypted_private_key).to.include({ cipher: 'aes-256-gcm', kid: row.kid });
    }
  });

  it('when keys are re-encrypted under a new secret, then they load with the new secret only, and a wrong old secret changes nothing', async () => {
    const clock = manualClock();
    await service(clock, SECRET).ensureCurrentKey();
    const before = await database.db
      .selectFrom('tool_keys')
      .select('encrypted_private_key')
      .execute();

    let error: unknown;
    try {
      await service(clock, NEW_SECRET).reencrypt('a-wrong-old-secret-that-is-long-enough-xx');
    } catch (caught) {
      error = caught;
    }
    expect(error).to.have.property('code', 'key_decryption_failed');
    expect(
      await database.db.selectFrom('tool_keys').select('encrypted_private_key').execute(),
    ).to.deep.equal(before);

    expect(await service(clock, NEW_SECRET).reencrypt(SECRET)).to.equal(1);
    expect((await service(clock, NEW_SECRET).signingKey()).kid).to.be.a('string');
    let oldSecretError: unknown;
    try {
      await service(clock, SECRET).signingKey();
    } catch (caught) {
      oldSecretError = caught;
    }
    expect(oldSecretError).to.have.property('code', 'key_decryption_failed');
  });
});

describe('key encryption secret', () => {
  const silent = createLogger({ level: 'silent' });

  function configFor(env: Record<string, string>) {
    return loadConfig({
      env: { NODE_ENV: 'test', ...env },
      files: defaultConfigFiles(paths.config, 'test'),
    });
  }

  it('when a secret is configured, then it is used as is and no file is written', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mp-secret-'));
    const config = configFor({
      DATA_DIR: path.join(dir, 'pglite'),
      KEY_ENCRYPTION_SECRET: SECRET,
    });
    expect(resolveKeyEncryptionSecret(config, silent)).to.equal(SECRET);
    expect(() => statSync(path.join(dir, 'key-encryption-secret'))).to.throw();
  });

  it('when no secret is configured outside production, then one is generated once into a 0600 file with a warning', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mp-secret-'));
    const config = configFor({ DATA_DIR: path.join(dir, 'pglite') });
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const first = resolveKeyEncryptionSecret(config, logger);
    const file = path.join(dir, 'key-encryption-secret');
    expect(first.length).to.be.at.least(32);
    expect(readFileSync(file, 'utf8').trim()).to.equal(first);
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    expect(lines.join('\n')).to.contain('set KEY_ENCRYPTION_SECRET in production');
    expect(resolveKeyEncryptionSecret(config, logger)).to.equal(first);
    expect(lines).to.have.length(1);
  });
});
