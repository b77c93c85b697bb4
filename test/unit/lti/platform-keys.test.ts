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

  it('when a token has no kid and the set has exactly one key, then that key is used', async () => {
    const keys = createPlatformKeys({ http: testHttp(), now: manualClock().now });
    const key = await keys.getKey(`${server.url}/jwks`, undefined);
    expect(key.algorithm.name).to.equal('RSASSA-PKCS1-v1_5');
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
