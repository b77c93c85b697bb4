import { expect } from 'chai';
import { createDeploymentLookup } from '../../../src/storage/lti/deployments.repository.ts';
import { createLoginStateRepository } from '../../../src/storage/lti/login-states.repository.ts';
import { createNonceRepository } from '../../../src/storage/lti/nonces.repository.ts';
import {
  createPlatformLookup,
  createPlatformRepository,
} from '../../../src/storage/lti/platforms.repository.ts';
import { createTenantRepository } from '../../../src/storage/lti/tenants.repository.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../../support/database.ts';
import { manualClock, seedDistrict, unique } from './fixtures.ts';

describe(`LTI launch stores (${testEngine})`, function () {
  this.timeout(30_000);
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database.close();
  });

  describe('used nonces', () => {
    it('when a nonce is claimed twice, then only the first claim succeeds', async () => {
      const clock = manualClock();
      const nonces = createNonceRepository(database.db, clock.now);
      const expires = new Date(clock.now().getTime() + 60_000);
      expect(await nonces.claim('https://iss.example', 'n-1', expires)).to.equal(true);
      expect(await nonces.claim('https://iss.example', 'n-1', expires)).to.equal(false);
      // The same nonce from another issuer is another nonce.
      expect(await nonces.claim('https://other.example', 'n-1', expires)).to.equal(true);
    });

    it('when the same nonce is claimed concurrently, then exactly one claim succeeds', async () => {
      const clock = manualClock();
      const nonces = createNonceRepository(database.db, clock.now);
      const expires = new Date(clock.now().getTime() + 60_000);
      const results = await Promise.all(
        Array.from({ length: 8 }, () => nonces.claim('https://iss.example', 'race', expires)),
      );
      expect(results.filter(Boolean)).to.have.length(1);
    });

    it('when nonces expire, then the sweeper deletes only the expired ones', async () => {
      const clock = manualClock();
      const nonces = createNonceRepository(database.db, clock.now);
      await nonces.claim('https://sweep.example', 'old', new Date(clock.now().getTime() + 1_000));
      await nonces.claim('https://sweep.example', 'new', new Date(clock.now().getTime() + 120_000));
      clock.advance(60_000);
      expect(await nonces.sweepExpired()).to.be.at.least(1);
      expect(await nonces.claim('https://sweep.example', 'new', clock.now())).to.equal(false);
      // The expired one is gone: its id_token would fail `exp` now, so a fresh claim is harmless.
      expect(await nonces.claim('https://sweep.example', 'old', clock.now())).to.equal(true);
    });
  });

  describe('login states', () => {
    async function saveState(clock: ReturnType<typeof manualClock>, ttlMs = 300_000) {
      const { platform } = await seedDistrict(database.db);
      const states = createLoginStateRepository(database.db, clock.now);
      const state = unique('state');
      await states.save({
        state,
        nonce: 'nonce-1',
        issuer: platform.issuer,
        clientId: platform.clientId,
        deploymentId: undefined,
        targetLinkUri: 'https://tool.example.org/lti/launch',
        storageTarget: '_parent',
        expiresAt: new Date(clock.now().getTime() + ttlMs),
      });
      return { states, state, platform };
    }

    it('when a state is taken, then it comes back whole once and never again', async () => {
      const clock = manualClock();
      const { states, state, platform } = await saveState(clock);
      const taken = await states.take(state);
      expect(taken).to.deep.include({
        state,
        nonce: 'nonce-1',
        issuer: platform.issuer,
        clientId: platform.clientId,
        deploymentId: undefined,
        storageTarget: '_parent',
      });
      expect(await states.take(state)).to.equal(undefined);
    });

    it('when the same state is taken concurrently, then exactly one taker gets it', async () => {
      const clock = manualClock();
      const { states, state } = await saveState(clock);
      const results = await Promise.all(Array.from({ length: 6 }, () => states.take(state)));
      expect(results.filter((r) => r !== undefined)).to.have.length(1);
    });

    it('when a state has expired, then it is not returned and the sweeper removes it', async () => {
      const clock = manualClock();
      const { states, state } = await saveState(clock, 1_000);
      clock.advance(2_000);
      expect(await states.take(state)).to.equal(undefined);
      const { state: live } = await saveState(clock);
      expect(await states.sweepExpired()).to.be.at.least(1);
      const left = await database.db
        .selectFrom('login_states')
        .select('state')
        .where('state', '=', state)
        .execute();
      expect(left).to.deep.equal([]);
      expect(await states.take(live)).not.to.equal(undefined);
    });

    it('when a state names an unregistered platform, then saving it is refused', async () => {
      const clock = manualClock();
      const states = createLoginStateRepository(database.db, clock.now);
      let error: unknown;
      try {
        await states.save({
          state: unique('state'),
          nonce: 'n',
          issuer: 'https://nobody.example',
          clientId: 'x',
          deploymentId: undefined,
          targetLinkUri: 'https://tool.example.org/lti/launch',
          storageTarget: undefined,
          expiresAt: clock.now(),
        });
      } catch (caught) {
        error = caught;
      }
      expect(error).to.have.property('code', 'unknown_platform');
    });
  });

  describe('platforms and deployments', () => {
    it('when a platform is pending, then the launch lookup does not return it', async () => {
      const issuer = `https://${unique('pending')}.example`;
      const platforms = createPlatformRepository(database.db);
      await platforms.create({
        issuer,
        clientId: 'a',
        name: 'Pending',
        flavour: 'canvas',
        authLoginUrl: 'https://x.example/auth',
        authTokenUrl: 'https://x.example/token',
        jwksUrl: 'https://x.example/jwks',
        status: 'pending',
      });
      const active = await platforms.create({
        issuer,
        clientId: 'b',
        name: 'Active',
        flavour: 'canvas',
        authLoginUrl: 'https://x.example/auth',
        authTokenUrl: 'https://x.example/token',
        jwksUrl: 'https://x.example/jwks',
        tokenAudience: 'https://x.example/aud',
      });
      const found = await createPlatformLookup(database.db).findByIssuer(issuer);
      expect(found).to.deep.equal([
        {
          issuer,
          clientId: active.clientId,
          authorizationEndpoint: 'https://x.example/auth',
          tokenEndpoint: 'https://x.example/token',
          jwksUrl: 'https://x.example/jwks',
          tokenAudience: 'https://x.example/aud',
        },
      ]);
    });

    it('when a deployment is on the allow-list, then it is allowed, and any other is not', async () => {
      const { platform, deployment } = await seedDistrict(database.db);
      const lookup = createDeploymentLookup(database.db);
      expect(
        await lookup.isAllowed(platform.issuer, platform.clientId, deployment.deploymentId),
      ).to.equal(true);
      expect(await lookup.isAllowed(platform.issuer, platform.clientId, 'unknown')).to.equal(false);
      expect(
        await lookup.isAllowed(platform.issuer, 'other-client', deployment.deploymentId),
      ).to.equal(false);
    });

    it('when first-launch capture is on, then only the first deployment is recorded, bound to the default tenant', async () => {
      const tenant = await createTenantRepository(database.db).create({
        slug: unique('cap'),
        name: 'Cap',
      });
      const platform = await createPlatformRepository(database.db).create({
        issuer: `https://${unique('canvas')}.example`,
        clientId: '10000000000001',
        name: 'Canvas DR',
        flavour: 'canvas',
        authLoginUrl: 'https://x.example/auth',
        authTokenUrl: 'https://x.example/token',
        jwksUrl: 'https://x.example/jwks',
        captureFirstDeployment: true,
        defaultTenantId: tenant.id,
      });
      const lookup = createDeploymentLookup(database.db);
      const results = await Promise.all([
        lookup.isAllowed(platform.issuer, platform.clientId, '1:aaa'),
        lookup.isAllowed(platform.issuer, platform.clientId, '2:bbb'),
      ]);
      expect(results.filter(Boolean)).to.have.length(1);
      const captured = results[0] ? '1:aaa' : '2:bbb';
      expect(await lookup.isAllowed(platform.issuer, platform.clientId, captured)).to.equal(true);
      expect(await lookup.isAllowed(platform.issuer, platform.clientId, '3:ccc')).to.equal(false);
      const rows = await database.db
        .selectFrom('deployments')
        .select(['deployment_id', 'tenant_id'])
        .where('platform_id', '=', platform.id)
        .execute();
      expect(rows).to.deep.equal([{ deployment_id: captured, tenant_id: tenant.id }]);
    });

    it('when a platform is registered twice with the same issuer and client id, then the database refuses', async () => {
      const { platform } = await seedDistrict(database.db);
      let error: unknown;
      try {
        await seedDistrict(database.db, { issuer: platform.issuer, clientId: platform.clientId });
      } catch (caught) {
        error = caught;
      }
      expect(error).to.have.property('code', '23505');
    });
  });
});
