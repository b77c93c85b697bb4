import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createEmulator } from '../../src/emulator/emulator.ts';
import type { Flavour } from '../../src/emulator/types.ts';
import { createAdminUser } from '../../src/lti-admin/use-cases.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { Readiness } from '../../src/readiness.ts';
import { toRegistration } from '../../src/storage/lti/platforms.repository.ts';
import { createApp } from '../../src/web/app.ts';
import request from 'supertest';
import { testConfig } from '../support/app.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import {
  cookiesFrom,
  createLtiWorld,
  readAutoPostForm,
  type LtiWorld,
} from '../support/lti-world.ts';

const PASSWORD = 'correct horse battery staple';

/** A whole launch (login → LMS authorize → launch post) for one registration of the emulator. */
async function launchAs(
  world: LtiWorld,
  input: { userId: string; clientId: string; deploymentId: string },
): Promise<{ status: number; location: string | undefined; body: string }> {
  const initiation = world.emulator.beginLaunch({
    courseId: world.seed.course.courseId,
    userId: input.userId,
    placement: 'course_navigation',
    clientId: input.clientId,
    deploymentId: input.deploymentId,
  });
  const login = await fetch(`${world.tool.origin}/lti/login`, {
    method: 'POST',
    body: new URLSearchParams(initiation.params),
    redirect: 'manual',
  });
  if (login.status !== 302) {
    return { status: login.status, location: undefined, body: await login.text() };
  }
  const cookie = cookiesFrom(login.headers.getSetCookie());
  const authorize = await fetch(login.headers.get('location') ?? '');
  const form = readAutoPostForm(await authorize.text());
  const posted = await fetch(form.action, {
    method: 'POST',
    body: new URLSearchParams(form.fields),
    redirect: 'manual',
    headers: { Cookie: cookie },
  });
  return {
    status: posted.status,
    location: posted.headers.get('location') ?? undefined,
    body: await posted.text(),
  };
}

/** Signs in as an operator over HTTP and returns a poster for admin forms. */
async function operatorSession(world: LtiWorld, database: TestDatabase, username: string) {
  await createAdminUser(
    { db: database.db, now: () => new Date() },
    { username, tenantSlug: undefined, password: PASSWORD },
  );
  const page = await fetch(`${world.tool.origin}/admin/login`);
  const loginCookie = cookiesFrom(page.headers.getSetCookie());
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  const signedIn = await fetch(`${world.tool.origin}/admin/login`, {
    method: 'POST',
    body: new URLSearchParams({ _csrf: csrf, username, password: PASSWORD }),
    headers: { Cookie: loginCookie },
    redirect: 'manual',
  });
  expect(signedIn.status).to.equal(303);
  const cookie = cookiesFrom(signedIn.headers.getSetCookie());
  const get = async (path: string) =>
    (await fetch(`${world.tool.origin}${path}`, { headers: { Cookie: cookie } })).text();
  return {
    get,
    post: async (path: string, fields: Record<string, string>) => {
      const adminCsrf = /name="_csrf" value="([^"]+)"/.exec(await get('/admin'))?.[1] ?? '';
      return fetch(`${world.tool.origin}${path}`, {
        method: 'POST',
        body: new URLSearchParams({ _csrf: adminCsrf, ...fields }),
        headers: { Cookie: cookie },
        redirect: 'manual',
      });
    },
  };
}

for (const flavour of ['canvas', 'moodle'] as const satisfies readonly Flavour[]) {
  describe(`Dynamic Registration with ${flavour} (${testEngine})`, function () {
    this.timeout(30_000);
    let database: TestDatabase;
    let world: LtiWorld;

    before(async () => {
      database = await createTestDatabase();
      world = await createLtiWorld(database, { flavour, platformStorage: false });
    });

    after(async () => {
      await world.close();
      await database.close();
    });

    it('when the LMS registers the tool, then the platform waits for approval, and once approved for a district a launch works', async () => {
      const start = world.emulator.startDynamicRegistration(`${world.tool.origin}/lti/register`);
      const page = await fetch(start.url);
      const html = await page.text();
      expect(page.status, html).to.equal(200);
      expect(html).to.contain('Registration sent');
      expect(html).to.contain('An administrator of Mastery Pathways must approve it');
      // The close message comes from a static script: the CSP forbids inline ones.
      expect(html).to.contain('<script src="/static/js/registration-close.js"></script>');
      const script = await fetch(`${world.tool.origin}/static/js/registration-close.js`);
      expect(await script.text()).to.contain("subject: 'org.imsglobal.lti.close'");

      // The emulator received our registration with the tool's URLs.
      const registered = [...world.emulator.state.tools.values()].find(
        (tool) => tool.registeredVia === 'dynamic',
      );
      expect(registered).not.to.equal(undefined);
      expect(registered!.oidcInitiationUrl).to.equal(`${world.tool.origin}/lti/login`);
      expect(registered!.toolJwksUrl).to.equal(`${world.tool.origin}/.well-known/jwks.json`);
      // Deep Linking returns to the launch URL: listed once (Moodle shows each entry).
      expect(registered!.redirectUris).to.deep.equal([`${world.tool.origin}/lti/launch`]);
      const messages = (
        registered!.registration as {
          'https://purl.imsglobal.org/spec/lti-tool-configuration': {
            messages: { type: string; placements?: string[] }[];
          };
        }
      )['https://purl.imsglobal.org/spec/lti-tool-configuration'].messages;
      const deepLinkingPlacements =
        messages.find((message) => message.type === 'LtiDeepLinkingRequest')?.placements ?? [];
      // ContentArea is Moodle's placement; Canvas is asked only for its own.
      expect(deepLinkingPlacements.includes('ContentArea')).to.equal(flavour === 'moodle');

      const stored = await world.tool.services.platforms.findByIssuerAndClient(
        world.emulator.issuer,
        registered!.clientId,
      );
      expect(stored).to.include({
        status: 'pending',
        flavour,
        authLoginUrl: world.emulator.urls.authorize,
      });

      const deployment = world.emulator.state.deploymentsOf(registered!.clientId)[0]!;
      const teacher = world.seed.teacher.userId;
      const beforeApproval = await launchAs(world, {
        userId: teacher,
        clientId: registered!.clientId,
        deploymentId: deployment.deploymentId,
      });
      // Between the LMS's activation and our approval: not "not registered", but who approves it.
      expect(beforeApproval.status).to.equal(403);
      expect(beforeApproval.body).to.contain('waiting for approval by');

      const operator = await operatorSession(world, database, `operator-${flavour}`);
      expect(await operator.get('/admin/platforms')).to.contain('Waiting for approval');
      const approved = await operator.post(`/admin/platforms/${stored!.id}/approve`, {
        tenantId: world.tenantId,
      });
      expect(approved.status).to.equal(303);

      const launched = await launchAs(world, {
        userId: teacher,
        clientId: registered!.clientId,
        deploymentId: deployment.deploymentId,
      });
      expect(launched.status, launched.body).to.equal(303);
      expect(launched.location).to.match(/^\/s\/[A-Za-z0-9_-]+\/course$/);
      const captured = await world.tool.services.deployments.list({ platformId: stored!.id });
      expect(captured.map((d) => [d.deploymentId, d.tenantId])).to.deep.equal([
        [deployment.deploymentId, world.tenantId],
      ]);

      // The registration reaches the LMS's services: Canvas names a bare host as its
      // authorization_server and wants its token URL in the assertion's aud.
      const token = await world.tool.services.tokenClient.getAccessToken(toRegistration(stored!), [
        'https://purl.imsglobal.org/spec/lti-ags/scope/score',
      ]);
      expect(token.accessToken).to.be.a('string').and.not.equal('');
    });
  });
}

describe(`Dynamic Registration rejections (${testEngine})`, function () {
  this.timeout(30_000);
  let database: TestDatabase;
  let world: LtiWorld;
  let impostor: Server;
  let impostorOrigin: string;

  before(async () => {
    database = await createTestDatabase();
    world = await createLtiWorld(database, { flavour: 'canvas', platformStorage: false });
    // An LMS on loopback whose configuration claims to be Canvas cloud.
    impostor = createServer();
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
    impostorOrigin = `http://127.0.0.1:${(impostor.address() as AddressInfo).port}`;
    const emulator = await createEmulator({
      flavour: 'canvas',
      baseUrl: impostorOrigin,
      issuer: 'https://canvas.instructure.com',
    });
    impostor.on('request', emulator.app);
  });

  after(async () => {
    impostor.closeAllConnections();
    await new Promise((resolve) => impostor.close(resolve));
    await world.close();
    await database.close();
  });

  async function register(query: Record<string, string>) {
    const url = new URL(`${world.tool.origin}/lti/register`);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const res = await fetch(url);
    return { status: res.status, html: await res.text() };
  }

  async function platformCount(): Promise<number> {
    return (await world.tool.services.platforms.list()).length;
  }

  it('when the parameters are missing, then the page says to start from the LMS', async () => {
    const res = await register({});
    expect(res.status).to.equal(400);
    expect(res.html).to.contain('Start the registration from the LMS');
  });

  it('when the configuration URL is plain http to a public host, then it is refused without fetching', async () => {
    const res = await register({
      openid_configuration: 'http://93.184.216.34/api/lti/registration/openid-configuration',
      registration_token: 'x',
    });
    expect(res.status).to.equal(400);
    expect(res.html).to.contain('must be a public https:// address');
    expect(res.html).to.contain('url_rejected');
  });

  for (const address of ['10.1.2.3', '192.168.0.10', '169.254.169.254', '[fd00::1]']) {
    it(`when the configuration URL points at the private address ${address}, then it is refused`, async () => {
      const before = await platformCount();
      const res = await register({
        openid_configuration: `https://${address}/api/lti/registration/openid-configuration`,
        registration_token: 'x',
      });
      expect(res.status).to.equal(400);
      expect(res.html).to.contain('Private network addresses');
      expect(await platformCount()).to.equal(before);
    });
  }

  it('when the configuration names an issuer on another site, then it is refused and nothing is stored', async () => {
    const before = await platformCount();
    const res = await register({
      openid_configuration: `${impostorOrigin}/api/lti/registration/openid-configuration`,
      registration_token: 'x',
    });
    expect(res.status).to.equal(400);
    expect(res.html).to.contain('names an issuer on a different site');
    expect(await platformCount()).to.equal(before);
  });

  it('when the LMS refuses the registration (bad token), then the page says so and nothing is stored', async () => {
    const before = await platformCount();
    const start = world.emulator.startDynamicRegistration(`${world.tool.origin}/lti/register`);
    const res = await register({
      openid_configuration: start.openidConfigurationUrl,
      registration_token: 'not-the-token',
    });
    expect(res.status).to.equal(502);
    expect(res.html).to.contain('The LMS did not accept or answer the registration');
    expect(await platformCount()).to.equal(before);
  });

  it('when the app runs in production, then even a loopback http configuration URL is refused', async () => {
    const config = {
      ...testConfig({ PUBLIC_URL: world.tool.origin }),
      nodeEnv: 'production' as const,
    };
    const app = createApp(config, {
      logger: createLogger({ level: 'silent' }),
      database,
      readiness: new Readiness(database.db),
      metrics: createMetrics({ defaultMetrics: false }),
      services: world.tool.services,
    });
    const start = world.emulator.startDynamicRegistration(`${world.tool.origin}/lti/register`);
    const res = await request(app).get(new URL(start.url).pathname + new URL(start.url).search);
    expect(res.status).to.equal(400);
    expect(res.text).to.contain('url_rejected');
  });

  it('when the configuration URL is not a URL at all, then it is refused', async () => {
    const res = await register({ openid_configuration: 'javascript:alert(1)' });
    expect(res.status).to.equal(400);
    expect(res.html).not.to.contain('alert(1)');
  });
});
