import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createEmulator, type Emulator } from '../../../src/emulator/emulator.ts';
import { ALL_SERVICE_SCOPES } from '../../../src/emulator/claims.ts';
import { createAgsClient } from '../../../src/lti/ags.ts';
import { createLtiLmsAdapter } from '../../../src/lms/lti/adapter.ts';
import { LTI_SCOPE } from '../../../src/lti/claims.ts';
import { createLmsHttpClient } from '../../../src/lti/http.ts';
import { createNrpsClient } from '../../../src/lti/nrps.ts';
import { fetchAllPages, type LtiServiceContext } from '../../../src/lti/service-request.ts';
import { createTokenClient } from '../../../src/lti/token-client.ts';
import { createToolSigner } from '../../../src/lti/tool-keys.ts';
import { startFakeTool, type FakeTool } from '../emulator/fake-tool.ts';

/**
 * Paging against the canvas flavour over real HTTP: the tool asks for the largest page and follows
 * `Link: rel="next"` to the end, with no small page cap (issue 20, item 8).
 */
describe('LTI paging against Canvas', function () {
  this.timeout(60_000);
  let fakeTool: FakeTool;
  before(async () => {
    fakeTool = await startFakeTool();
  });
  after(async () => {
    await fakeTool.close();
  });

  async function canvas(options: { nrpsMaxPageSize?: number; lineItemUrlQuery?: string } = {}) {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const emulator: Emulator = await createEmulator({
      flavour: 'canvas',
      baseUrl: `http://127.0.0.1:${port}`,
      ...options,
    });
    server.on('request', emulator.app);
    const tool = emulator.state.registerTool({
      toolJwksUrl: fakeTool.jwksUrl,
      oidcInitiationUrl: 'https://tool.example/lti/login',
      targetLinkUri: 'https://tool.example/lti/launch',
      redirectUris: ['https://tool.example/lti/launch'],
      scopes: [...ALL_SERVICE_SCOPES],
    });
    emulator.state.addDeployment(tool.clientId);
    const seed = emulator.state.seedDemoCourse();
    const http = createLmsHttpClient({
      fetch,
      userAgent: 'MasteryPathways-test/1.0',
      sleep: () => Promise.resolve(),
      random: () => 0.5,
      now: () => new Date(),
      maxRetries: 0,
    });
    const context: LtiServiceContext = {
      http,
      tokens: createTokenClient({
        http,
        now: () => new Date(),
        randomId: () => randomUUID(),
        signer: createToolSigner({ kid: fakeTool.kid, privateKey: fakeTool.privateKey }),
      }),
      platform: {
        issuer: emulator.issuer,
        clientId: tool.clientId,
        tokenEndpoint: emulator.urls.token,
      },
      scopes: [...ALL_SERVICE_SCOPES, LTI_SCOPE.membershipReadonly],
    };
    const close = () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    return { emulator, seed, context, close };
  }

  it('when a Canvas roster has over 2,000 people on pages of 10, then every member is read (no 200-page cap)', async () => {
    const { emulator, seed, context, close } = await canvas({ nrpsMaxPageSize: 10 });
    try {
      const courseId = seed.course.courseId;
      for (let i = 0; i < 2_050; i += 1) {
        const person = emulator.state.addPerson({
          name: `Student ${i}`,
          givenName: 'Student',
          familyName: String(i),
          email: '',
        });
        emulator.state.enroll(courseId, person.userId, 'Learner');
      }
      const expected = emulator.state.members(courseId).length;
      const members = await createNrpsClient(context).listMembers(
        emulator.urls.memberships(courseId),
      );
      expect(members).to.have.length(expected);
      expect(new Set(members.map((m) => m.userId)).size).to.equal(expected);
      const pages = emulator.state.requestLog.filter((r) => r.path.includes('/names_and_roles'));
      expect(pages).to.have.length(Math.ceil(expected / 10));
      expect(pages[0]?.path).to.contain('limit=100');
    } finally {
      await close();
    }
  });

  it('when Canvas lists line items, then the largest page (100) is asked for instead of its default 10', async () => {
    const { emulator, seed, context, close } = await canvas();
    try {
      const courseId = seed.course.courseId;
      const clientId = context.platform.clientId;
      for (let i = 0; i < 60; i += 1) {
        emulator.state.createLineItem({ courseId, clientId, label: `S${i}`, scoreMaximum: 4 });
      }
      const items = await createAgsClient(context).listLineItems(emulator.urls.lineItems(courseId));
      expect(items).to.have.length(60);
      const lists = emulator.state.requestLog.filter((r) => /\/line_items(\?|$)/.test(r.path));
      expect(lists).to.have.length(1);
    } finally {
      await close();
    }
  });

  it('when a Canvas roster has TestUser in NRPS, then the member keeps the role for the roster sync', async () => {
    const { emulator, seed, context, close } = await canvas();
    try {
      const members = await createNrpsClient(context).listMembers(
        emulator.urls.memberships(seed.course.courseId),
      );
      const testUser = members.find((m) => m.userId === seed.testStudent?.sub);
      expect(testUser?.roles).to.include.members([
        'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner',
        'http://purl.imsglobal.org/vocab/lti/system/person#TestUser',
      ]);
    } finally {
      await close();
    }
  });

  it("when the line item URL carries a query string, then the tool reads a teacher's grade from its results before posting", async () => {
    const { emulator, seed, context, close } = await canvas({ lineItemUrlQuery: '?include=x' });
    try {
      const courseId = seed.course.courseId;
      const lms = createLtiLmsAdapter({
        services: {
          course: { issuer: emulator.issuer, deploymentId: 'd', contextId: seed.course.contextId },
          lineItemsUrl: emulator.urls.lineItems(courseId),
          membershipsUrl: undefined,
          scopes: context.scopes,
        },
        ags: createAgsClient(context),
        nrps: createNrpsClient(context),
        canvasSubmissionExtension: true,
        protectManualGrades: true,
      });
      const column = await lms.createGradebookColumn({ label: 'S1', scoreMaximum: 4, tag: 't' });
      expect(column.id).to.contain('?include=x');
      const sub = seed.students[0]?.sub ?? '';
      expect(await lms.readScore?.(column, sub)).to.equal(undefined);
      await lms.postScore(column, {
        userId: sub,
        scoreGiven: 3,
        scoreMaximum: 4,
        timestamp: new Date(),
      });
      expect(await lms.readScore?.(column, sub)).to.equal(3);
      const lineItemId = new URL(column.id).pathname.split('/').at(-1) ?? '';
      emulator.state.setTeacherGrade(lineItemId, sub, 1.5);
      expect(await lms.readScore?.(column, sub)).to.equal(1.5);
      const reads = emulator.state.requestLog.filter((r) => r.path.includes('/results'));
      expect(reads[0]?.path).to.match(/\/results\?include=x&user_id=/);
    } finally {
      await close();
    }
  });

  it('when a platform keeps sending next pages beyond the safety cap, then the read stops with words saying so', async () => {
    const { emulator, seed, context, close } = await canvas({ nrpsMaxPageSize: 1 });
    try {
      const error = await fetchAllPages(
        context,
        emulator.urls.memberships(seed.course.courseId),
        'application/vnd.ims.lti-nrps.v2.membershipcontainer+json',
        () => [],
        3,
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(Error);
      expect((error as { detail?: string }).detail).to.match(
        /the LMS sent more than 3 pages \(stopped at .*page=4.*\); it may be looping/,
      );
    } finally {
      await close();
    }
  });
});
