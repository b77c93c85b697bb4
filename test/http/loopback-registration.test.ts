import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { Readiness } from '../../src/readiness.ts';
import { createApp } from '../../src/web/app.ts';
import { testConfig } from '../support/app.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createLtiWorld, type LtiWorld } from '../support/lti-world.ts';

/**
 * Dynamic Registration fetches the URL it is given. On loopback that would let anyone who can open
 * /lti/register make the server call any port of its own machine, so it is allowed only with
 * ALLOW_LOOPBACK_REGISTRATION=true (the demo and the tests set it), never because of NODE_ENV.
 */
describe(`Dynamic Registration of a loopback LMS (${testEngine})`, function () {
  this.timeout(30_000);
  let database: TestDatabase;
  let world: LtiWorld;
  const servers: Server[] = [];

  before(async () => {
    database = await createTestDatabase();
    world = await createLtiWorld(database, { flavour: 'canvas', platformStorage: false });
  });

  after(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await world.close();
    await database.close();
  });

  /** A tool app on loopback with these settings, sharing the world's database. */
  async function toolWith(env: Record<string, string>, nodeEnv: 'development' | 'test') {
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const config = { ...testConfig({ PUBLIC_URL: origin, ...env }), nodeEnv };
    server.on(
      'request',
      createApp(config, {
        logger: createLogger({ level: 'silent' }),
        database,
        readiness: new Readiness(database.db),
        metrics: createMetrics({ defaultMetrics: false }),
        services: world.tool.services,
      }),
    );
    return origin;
  }

  async function registerAt(origin: string) {
    const start = world.emulator.startDynamicRegistration(`${origin}/lti/register`);
    const url = new URL(start.url);
    const page = await fetch(`${origin}${url.pathname}${url.search}`);
    return { status: page.status, html: await page.text() };
  }

  it('when the tool runs with NODE_ENV=development but without ALLOW_LOOPBACK_REGISTRATION, then a loopback configuration URL is refused', async () => {
    const origin = await toolWith({}, 'development');
    const res = await registerAt(origin);
    expect(res.status).to.equal(400);
    expect(res.html).to.contain('url_rejected');
    expect(res.html).to.contain('Private network addresses and plain http:// are refused');
  });

  it('when ALLOW_LOOPBACK_REGISTRATION=true, then the loopback LMS registers the tool', async () => {
    const origin = await toolWith({ ALLOW_LOOPBACK_REGISTRATION: 'true' }, 'development');
    const res = await registerAt(origin);
    expect(res.status, res.html).to.equal(200);
    expect(res.html).to.contain('Registration sent');
  });
});
