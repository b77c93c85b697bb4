import { expect } from 'chai';
import { createDeploymentRepository } from '../../../src/storage/lti/deployments.repository.ts';
import {
  createPlatformLookup,
  createPlatformRepository,
} from '../../../src/storage/lti/platforms.repository.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../../support/database.ts';
import { seedDistrict, unique } from './fixtures.ts';

/** A monotonic clock the test moves by hand (ms). */
function handClock() {
  let time = 0;
  return {
    now: () => time,
    advance(ms: number) {
      time += ms;
    },
  };
}

describe(`LTI registration lookups kept per app (${testEngine})`, function () {
  this.timeout(30_000);
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database.close();
  });

  it('when a registration was found, then it is reused until the TTL, and asked again after it', async () => {
    const { platform } = await seedDistrict(database.db);
    const clock = handClock();
    const lookup = createPlatformLookup(database.db, { ttlMs: 5_000, clock: clock.now });
    expect(await lookup.findByIssuer(platform.issuer)).to.have.length(1);
    await createPlatformRepository(database.db).update(platform.id, { status: 'pending' });
    clock.advance(4_000);
    expect(await lookup.findByIssuer(platform.issuer)).to.have.length(1);
    clock.advance(1_001);
    expect(await lookup.findByIssuer(platform.issuer)).to.deep.equal([]);
  });

  it('when the app forgets what it kept (an admin changed a registration), then the next lookup asks the database', async () => {
    const { platform, deployment } = await seedDistrict(database.db);
    const clock = handClock();
    const lookup = createPlatformLookup(database.db, { ttlMs: 60_000, clock: clock.now });
    const deployments = createDeploymentRepository(database.db, {
      ttlMs: 60_000,
      clock: clock.now,
    });
    expect(await lookup.findByIssuer(platform.issuer)).to.have.length(1);
    expect(
      await deployments.resolve(platform.issuer, platform.clientId, deployment.deploymentId),
    ).not.to.equal(undefined);
    await createPlatformRepository(database.db).update(platform.id, { status: 'pending' });
    lookup.forget();
    deployments.forget();
    expect(await lookup.findByIssuer(platform.issuer)).to.deep.equal([]);
    expect(
      await deployments.resolve(platform.issuer, platform.clientId, deployment.deploymentId),
    ).to.equal(undefined);
  });

  it('when an issuer is unknown, then that answer is not kept, so a platform added next is found at once', async () => {
    const issuer = `https://${unique('later')}.example`;
    const lookup = createPlatformLookup(database.db, { ttlMs: 60_000, clock: handClock().now });
    expect(await lookup.findByIssuer(issuer)).to.deep.equal([]);
    await createPlatformRepository(database.db).create({
      issuer,
      clientId: 'c',
      name: 'Later',
      flavour: 'generic',
      authLoginUrl: 'https://x.example/auth',
      authTokenUrl: 'https://x.example/token',
      jwksUrl: 'https://x.example/jwks',
    });
    expect(await lookup.findByIssuer(issuer)).to.have.length(1);
  });

  it('when a deployment was resolved, then it is reused until the TTL; removing it through the same repository forgets it', async () => {
    const { platform, deployment } = await seedDistrict(database.db);
    const clock = handClock();
    const deployments = createDeploymentRepository(database.db, { ttlMs: 5_000, clock: clock.now });
    const resolve = () =>
      deployments.resolve(platform.issuer, platform.clientId, deployment.deploymentId);
    expect(await resolve()).to.deep.include({ deploymentRowId: deployment.id });
    // Removed elsewhere (the CLI): still kept here until the TTL.
    await createDeploymentRepository(database.db).remove(deployment.id);
    expect(await resolve()).to.deep.include({ deploymentRowId: deployment.id });
    clock.advance(5_001);
    expect(await resolve()).to.equal(undefined);

    const other = await seedDistrict(database.db);
    const again = () =>
      deployments.resolve(
        other.platform.issuer,
        other.platform.clientId,
        other.deployment.deploymentId,
      );
    expect(await again()).to.deep.include({ deploymentRowId: other.deployment.id });
    expect(await deployments.remove(other.deployment.id)).to.equal(true);
    expect(await again()).to.equal(undefined);
  });
});
