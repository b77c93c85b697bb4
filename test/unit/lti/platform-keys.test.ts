import { expect } from 'chai';
import { exportJWK, generateKeyPair } from 'jose';
import { LtiError } from '../../../src/lti/errors.ts';
import { createPlatformKeys } from '../../../src/lti/platform-keys.ts';
import { json, manualClock, platformKey, startServer, testHttp } from './fixtures.ts';
import type { LocalServer, PlatformKey } from './fixtures.ts';

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(LtiError).with.property('code', code);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('platform keys', () => {
  let server: LocalServer;
  let rsa: PlatformKey;
  let body: unknown;
  let status: number;

  before(async () => {
    rsa = await platformKey('rsa-1');
    server = await startServer((_req, res) => {
      json(res, status, body);
    });
  });
  after(async () => {
    await server.close();
  });
  beforeEach(() => {
    server.requests.length = 0;
    status = 200;
    body = { keys: [rsa.publicJwk] };
  });

  it('when keys are cached, then they are fetched again only after the TTL', async () => {
    const clock = manualClock();
    const keys = createPlatformKeys({ http: testHttp(), now: clock.now, ttlMs: 60_000 });
    await keys.getKey(`${server.url}/jwks`, 'rsa-1');
    clock.advance(59_000);
    await keys.getKey(`${server.url}/jwks`, 'rsa-1');
    expect(server.requests).to.have.length(1);
    clock.advance(1_000);
    await keys.getKey(`${server.url}/jwks`, 'rsa-1');
    expect(server.requests).to.have.length(2);
  });

  it('when a refresh after the TTL fails, then the keys already held keep working', async () => {
    const clock = manualClock();
    const keys = createPlatformKeys({ http: testHttp(), now: clock.now, ttlMs: 60_000 });
    await keys.getKey(`${server.url}/jwks`, 'rsa-1');
    status = 503;
    clock.advance(61_000);
    const key = await keys.getKey(`${server.url}/jwks`, 'rsa-1');
    expect(key.type).to.equal('public');
    expect(server.requests).to.have.length(2);
  });

  it('when the key set cannot be fetched, then launches within the cooldown are refused without fetching again, and the next one after it fetches', async () => {
    const clock = manualClock();
    const keys = createPlatformKeys({
      http: testHttp(),
      now: clock.now,
      refreshCooldownMs: 10_000,
    });
    status = 503;
    await expectCode(keys.getKey(`${server.url}/jwks`, 'rsa-1'), 'jwks_unavailable');
    clock.advance(9_000);
    await expectCode(keys.getKey(`${server.url}/jwks`, 'rsa-1'), 'jwks_unavailable');
    expect(server.requests).to.have.length(1);
    status = 200;
    clock.advance(1_000);
    const key = await keys.getKey(`${server.url}/jwks`, 'rsa-1');
    expect(key.type).to.equal('public');
    expect(server.requests).to.have.length(2);
  });

  it('when a refresh after the TTL fails, then the keys held are used without refetching until the cooldown has passed', async () => {
    const clock = manualClock();
    const keys = createPlatformKeys({
      http: testHttp(),
      now: clock.now,
      ttlMs: 60_000,
      refreshCooldownMs: 10_000,
    });
    await keys.getKey(`${server.url}/jwks`, 'rsa-1');
    status = 503;
    clock.advance(61_000);
    for (let launch = 0; launch < 5; launch += 1) await keys.getKey(`${server.url}/jwks`, 'rsa-1');
    expect(server.requests).to.have.length(2);
    clock.advance(10_000);
    await keys.getKey(`${server.url}/jwks`, 'rsa-1');
    expect(server.requests).to.have.length(3);
  });

  it('when launches arrive together on a cold cache, then they share one fetch', async () => {
    const keys = createPlatformKeys({ http: testHttp(), now: manualClock().now });
    await Promise.all(Array.from({ length: 4 }, () => keys.getKey(`${server.url}/jwks`, 'rsa-1')));
    expect(server.requests).to.have.length(1);
  });

  it('when the JWKS holds non-RSA or encryption keys under the kid, then they are not used for RS256', async () => {
    const ec = await generateKeyPair('ES256', { extractable: true });
    body = {
      keys: [
        { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256' },
        { ...rsa.publicJwk, kid: 'enc-1', use: 'enc' },
        { kty: 'oct', kid: 'oct-1', k: 'c2VjcmV0' },
      ],
    };
    const keys = createPlatformKeys({ http: testHttp(), now: manualClock().now });
    for (const kid of ['ec-1', 'enc-1', 'oct-1']) {
      await expectCode(keys.getKey(`${server.url}/jwks`, kid), 'unknown_kid');
    }
  });

  it('when a token has no kid, then it is refused as missing_kid even though the set has exactly one key', async () => {
    const keys = createPlatformKeys({ http: testHttp(), now: manualClock().now });
    await expectCode(keys.getKey(`${server.url}/jwks`, undefined), 'missing_kid');
    expect(server.requests, 'nothing fetched for a token that names no key').to.have.length(0);
  });

  it('when the platform rotates its key seconds after a fetch, then the unknown kid refetches at once and is found', async () => {
    const clock = manualClock();
    const keys = createPlatformKeys({ http: testHttp(), now: clock.now });
    await keys.getKey(`${server.url}/jwks`, 'rsa-1');
    const rotated = await platformKey('rsa-2');
    body = { keys: [rotated.publicJwk] };
    clock.advance(1_000);
    const key = await keys.getKey(`${server.url}/jwks`, 'rsa-2');
    expect(key.type).to.equal('public');
    expect(server.requests).to.have.length(2);
  });

  it('when unknown kids keep coming, then refetches are rate-limited per platform and another platform still refetches', async () => {
    const clock = manualClock();
    const keys = createPlatformKeys({
      http: testHttp(),
      now: clock.now,
      refreshCooldownMs: 10_000,
    });
    const schoology = `${server.url}/schoology/jwks`;
    const moodle = `${server.url}/moodle/jwks`;
    await keys.getKey(schoology, 'rsa-1');
    await keys.getKey(moodle, 'rsa-1');
    await expectCode(keys.getKey(schoology, 'random-1'), 'unknown_kid');
    await expectCode(keys.getKey(schoology, 'random-2'), 'unknown_kid');
    const fetches = (url: string) =>
      server.requests.filter((request) => url.endsWith(request.url)).length;
    expect(fetches(schoology), 'one refetch, then the limit').to.equal(2);
    // The other platform rotates meanwhile: its first unknown kid still refetches at once.
    const rotated = await platformKey('rsa-9');
    body = { keys: [rsa.publicJwk, rotated.publicJwk] };
    await keys.getKey(moodle, 'rsa-9');
    expect(fetches(moodle)).to.equal(2);
    clock.advance(10_000);
    await keys.getKey(schoology, 'rsa-9');
    expect(fetches(schoology), 'after the limit, a refetch again').to.equal(3);
  });

  it('when several launches miss the same new kid together, then they share one refetch', async () => {
    const clock = manualClock();
    const keys = createPlatformKeys({ http: testHttp(), now: clock.now });
    await keys.getKey(`${server.url}/jwks`, 'rsa-1');
    const rotated = await platformKey('rsa-3');
    body = { keys: [rotated.publicJwk] };
    const found = await Promise.all(
      Array.from({ length: 3 }, () => keys.getKey(`${server.url}/jwks`, 'rsa-3')),
    );
    expect(found.every((key) => key.type === 'public')).to.equal(true);
    expect(server.requests).to.have.length(2);
  });

  it('when the JWKS endpoint fails or returns garbage, then it reports jwks_unavailable', async () => {
    status = 500;
    await expectCode(
      createPlatformKeys({ http: testHttp(), now: manualClock().now }).getKey(
        `${server.url}/jwks`,
        'rsa-1',
      ),
      'jwks_unavailable',
    );
    expect(server.requests, 'no retries while a launch waits').to.have.length(1);
    status = 200;
    body = { not: 'a jwks' };
    await expectCode(
      createPlatformKeys({ http: testHttp(), now: manualClock().now }).getKey(
        `${server.url}/jwks`,
        'rsa-1',
      ),
      'jwks_unavailable',
    );
  });
});
