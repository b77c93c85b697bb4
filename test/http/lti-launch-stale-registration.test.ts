import { expect } from 'chai';
import { createPlatformRepository } from '../../src/storage/lti/platforms.repository.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createLtiWorld, launch, type LtiWorld } from '../support/lti-world.ts';

/**
 * The tool keeps found platforms and deployments for a few seconds per app. A registration changed
 * by another process (the CLI) in that time must still never launch.
 */
describe(`LTI launch after a registration changed elsewhere (${testEngine})`, function () {
  this.timeout(30_000);
  let database: TestDatabase;
  let world: LtiWorld | undefined;
  let worlds = 0;

  before(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });
  after(async () => {
    await database.close();
  });

  async function newWorld(): Promise<LtiWorld> {
    worlds += 1;
    world = await createLtiWorld(database, {
      flavour: 'canvas',
      platformStorage: false,
      tenantSlug: `stale-${worlds}`,
    });
    return world;
  }

  async function sessionCount(): Promise<number> {
    const row = await database.db
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  it('when the platform is set to pending elsewhere right after a launch, then the next launch is refused and no session is made', async () => {
    const current = await newWorld();
    const first = await launch(current, { userId: current.seed.teacher.userId });
    expect(first.status, first.body).to.equal(303);
    const platform = await createPlatformRepository(database.db).findByIssuerAndClient(
      current.emulator.issuer,
      current.clientId,
    );
    await createPlatformRepository(database.db).update(platform!.id, { status: 'pending' });
    const sessionsBefore = await sessionCount();
    const next = await launch(current, { userId: current.seed.teacher.userId });
    expect(next.status).to.be.within(400, 499);
    expect(next.body).to.contain('lti.unknown_deployment');
    expect(await sessionCount()).to.equal(sessionsBefore);
  });

  it('when the platform is removed elsewhere after a login, then the next login is refused as an unknown issuer', async () => {
    const current = await newWorld();
    const login = () =>
      fetch(`${current.tool.origin}/lti/login`, {
        method: 'POST',
        body: new URLSearchParams(
          current.emulator.beginLaunch({
            courseId: current.seed.course.courseId,
            userId: current.seed.teacher.userId,
            placement: 'course_navigation',
          }).params,
        ),
        redirect: 'manual',
      });
    expect((await login()).status).to.equal(302);
    const platforms = createPlatformRepository(database.db);
    const platform = await platforms.findByIssuerAndClient(
      current.emulator.issuer,
      current.clientId,
    );
    await database.db.deleteFrom('login_states').execute();
    await database.db.deleteFrom('deployments').where('platform_id', '=', platform!.id).execute();
    expect(await platforms.remove(platform!.id)).to.equal(true);
    const refused = await login();
    expect(refused.status).to.equal(400);
    expect(await refused.text()).to.contain('lti.unknown_issuer');
  });
});
