import { expect } from 'chai';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createLtiWorld, launch, type LtiWorld } from '../support/lti-world.ts';

async function get(world: LtiWorld, path: string): Promise<{ status: number; html: string }> {
  const res = await fetch(new URL(path, world.tool.origin), { redirect: 'manual' });
  return { status: res.status, html: await res.text() };
}

/** The `/s/<token>` prefix of a launch's redirect. */
function sessionBase(location: string | undefined): string {
  const base = /^(\/s\/[A-Za-z0-9_-]+)\//.exec(location ?? '')?.[1];
  if (base === undefined) throw new Error(`not a session location: ${location ?? ''}`);
  return base;
}

describe(`admin pages from an LMS launch (${testEngine})`, function () {
  this.timeout(30_000);
  let database: TestDatabase;
  let world: LtiWorld;

  before(async () => {
    database = await createTestDatabase();
    world = await createLtiWorld(database, { flavour: 'canvas', platformStorage: false });
  });

  after(async () => {
    await world.close();
    await database.close();
  });

  it('when an LMS administrator launches, then the admin pages open for their district only', async () => {
    const other = await world.tool.services.tenants.create({
      slug: 'other-district',
      name: 'Other',
    });
    const platform = (await world.tool.services.platforms.list())[0]!;
    await world.tool.services.deployments.create({
      platformId: platform.id,
      deploymentId: 'other-deployment-1',
      tenantId: other.id,
    });
    const outcome = await launch(world, { userId: world.seed.admin.userId });
    expect(outcome.status, outcome.body).to.equal(303);
    const base = sessionBase(outcome.location);
    const overview = await get(world, `${base}/admin`);
    expect(overview.status).to.equal(200);
    expect(overview.html).to.contain(`${world.tool.origin}/lti/register`);
    expect(overview.html).to.contain('(Administrator)');
    const deployments = await get(world, `${base}/admin/deployments`);
    expect(deployments.status).to.equal(200);
    expect(deployments.html).to.contain(world.deploymentId);
    expect(deployments.html).not.to.contain('other-deployment-1');
  });

  it('when a launched administrator posts a form, then the session CSRF secret is required', async () => {
    const outcome = await launch(world, { userId: world.seed.admin.userId });
    const base = sessionBase(outcome.location);
    const platform = (await world.tool.services.platforms.list())[0]!;
    const forged = await fetch(
      new URL(`${base}/admin/platforms/${platform.id}/frame-origins`, world.tool.origin),
      {
        method: 'POST',
        body: new URLSearchParams({ frameOrigins: 'https://evil.example.com', _csrf: 'nope' }),
        redirect: 'manual',
      },
    );
    expect(forged.status).to.equal(403);
    const page = await get(world, `${base}/admin/platforms`);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.html)?.[1] ?? '';
    const saved = await fetch(
      new URL(`${base}/admin/platforms/${platform.id}/frame-origins`, world.tool.origin),
      {
        method: 'POST',
        body: new URLSearchParams({
          frameOrigins: 'https://district.instructure.com',
          _csrf: csrf,
        }),
        redirect: 'manual',
      },
    );
    expect(saved.status).to.equal(303);
    expect((await world.tool.services.platforms.findById(platform.id))?.frameOrigins).to.deep.equal(
      ['https://district.instructure.com'],
    );
  });

  for (const who of ['teacher', 'student'] as const) {
    it(`when a ${who} launches, then the admin pages answer 403`, async () => {
      const userId = who === 'teacher' ? world.seed.teacher.userId : world.seed.students[0]!.userId;
      const outcome = await launch(world, { userId });
      expect(outcome.status, outcome.body).to.equal(303);
      const base = sessionBase(outcome.location);
      for (const path of ['/admin', '/admin/platforms', '/admin/deployments', '/admin/keys']) {
        const page = await get(world, `${base}${path}`);
        expect(page.status, path).to.equal(403);
        expect(page.html).to.contain('Only LMS administrators');
      }
    });
  }

  it('when the session token is unknown, then the admin pages answer 401', async () => {
    const page = await get(world, '/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/admin');
    expect(page.status).to.equal(401);
  });
});
