import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createEmulator, type Emulator } from '../../src/emulator/emulator.ts';
import { createPinnedFetch } from '../../src/net/pinned-fetch.ts';
import { CaseServerError, fetchCasePackage } from '../../src/standards/case-server.ts';
import { parseCasePackage } from '../../src/standards/formats/case-import.ts';
import { importFramework } from '../../src/standards/import.ts';
import { exportFrameworkAsCase, loadFramework } from '../../src/standards/queries.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import {
  MAX_BYTES,
  createTenant,
  deps,
  fixtureText,
  frameworkOf,
  snapshot,
} from '../storage/standards/helpers.ts';

const SAMPLE = 'src/standards/samples/district-grade6.case.json';
const TOKEN = 'consortium-token-0123456789';

/**
 * Import from a CASE server: the LMS emulator also plays a state consortium's CASE server, over real
 * HTTP. The package goes file → server → tool → export → re-import without changing anything.
 */
describe(`import from a CASE server served by the emulator (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let server: Server;
  let emulator: Emulator;
  let origin: string;
  let tenantId: string;

  const options = (bearerToken?: string) => ({
    fetch: createPinnedFetch({ allowLoopback: true }),
    resolve: () => Promise.resolve(['127.0.0.1']),
    maxBytes: MAX_BYTES,
    timeoutMs: 5_000,
    allowLoopbackHttp: true,
    userAgent: 'MasteryPathways/test',
    ...(bearerToken === undefined ? {} : { bearerToken }),
  });

  before(async () => {
    database = await createTestDatabase();
    tenantId = await createTenant(database.db, 'case-server-district');
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    emulator = await createEmulator({ flavour: 'canvas', baseUrl: origin });
    server.on('request', emulator.app);
    emulator.state.addCasePackage('grade6', fixtureText(SAMPLE), { bearerToken: TOKEN });
    emulator.state.addCasePackage('open', fixtureText(SAMPLE));
  });

  after(async () => {
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
    await database.close();
  });

  it('when a package is fetched with its token, imported, exported and re-imported, then nothing changes', async () => {
    const fetched = await fetchCasePackage(
      `${origin}/ims/case/v1p0/CFPackages/grade6`,
      options(TOKEN),
    );
    const framework = frameworkOf(fetched.result);
    expect(framework).to.deep.equal(
      frameworkOf(parseCasePackage(fixtureText(SAMPLE), { maxBytes: MAX_BYTES })),
    );
    const report = await importFramework(
      database.db,
      {
        tenantId,
        actor: 'admin:test',
        framework: fetched.result,
        source: 'case_server',
        sourceUrl: fetched.url,
      },
      deps(),
    );
    if (!report.ok) throw new Error(JSON.stringify(report.errors));
    expect(await loadFramework(database.db, tenantId, report.frameworkId)).to.deep.equal(framework);

    const exported = await exportFrameworkAsCase(database.db, tenantId, report.frameworkId);
    const before = await snapshot(database.db);
    const again = await importFramework(
      database.db,
      {
        tenantId,
        actor: 'admin:test',
        framework: parseCasePackage(JSON.stringify(exported), { maxBytes: MAX_BYTES }),
        source: 'case_server',
        sourceUrl: fetched.url,
      },
      deps(),
    );
    if (!again.ok) throw new Error(JSON.stringify(again.errors));
    expect(again.counts).to.deep.include({ created: 0, updated: 0, archived: 0 });
    expect(await snapshot(database.db)).to.deep.equal(before);
  });

  it('when the token is missing, then the server refuses and the error says a token is needed', async () => {
    let error: unknown;
    try {
      await fetchCasePackage(`${origin}/ims/case/v1p0/CFPackages/grade6`, options());
    } catch (caught) {
      error = caught;
    }
    expect(error).to.be.instanceOf(CaseServerError);
    expect((error as CaseServerError).code).to.equal('needs_token');
  });

  it('when the package id is unknown, then the error says it was not found', async () => {
    let error: unknown;
    try {
      await fetchCasePackage(`${origin}/ims/case/v1p0/CFPackages/nope`, options());
    } catch (caught) {
      error = caught;
    }
    expect((error as CaseServerError).code).to.equal('not_found');
  });

  it('when a package needs no token, then it is fetched without one', async () => {
    const fetched = await fetchCasePackage(`${origin}/ims/case/v1p0/CFPackages/open`, options());
    expect(fetched.result.ok).to.equal(true);
  });
});
