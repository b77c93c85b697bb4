import { expect } from 'chai';
import { generateKeyPair, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import { createAgsClient, lineItemServiceUrl } from '../../../src/lti/ags.ts';
import { LTI_SCOPE } from '../../../src/lti/claims.ts';
import { LtiError } from '../../../src/lti/errors.ts';
import { createLtiLmsAdapter } from '../../../src/lms/lti/adapter.ts';
import { createNrpsClient } from '../../../src/lti/nrps.ts';
import type { LtiServiceContext } from '../../../src/lti/service-request.ts';
import { createTokenClient } from '../../../src/lti/token-client.ts';
import type { TokenClient, TokenPlatform } from '../../../src/lti/token-client.ts';
import { createToolSigner } from '../../../src/lti/tool-keys.ts';
import { json, manualClock, startServer, testHttp } from './fixtures.ts';
import type { LocalServer } from './fixtures.ts';

const ALL_SCOPES = [
  LTI_SCOPE.lineItem,
  LTI_SCOPE.lineItemReadonly,
  LTI_SCOPE.resultReadonly,
  LTI_SCOPE.score,
  LTI_SCOPE.membershipReadonly,
];

async function expectLtiError(promise: Promise<unknown>, code: string): Promise<LtiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(LtiError);
    expect((error as LtiError).code).to.equal(code);
    return error as LtiError;
  }
  throw new Error(`expected LtiError ${code}`);
}

describe('LTI Advantage service clients', () => {
  let server: LocalServer;
  let toolPublicKey: CryptoKey;
  let signer: ReturnType<typeof createToolSigner>;
  let clock: ReturnType<typeof manualClock>;
  let assertions: JWTPayload[];
  let tokenFailures: number;
  let platform: TokenPlatform;
  let tokens: TokenClient;
  let issued: number;
  /** Routes other than /token, per test. */
  let route: (
    method: string,
    path: string,
    body: string,
    res: import('node:http').ServerResponse,
  ) => void;

  before(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    toolPublicKey = pair.publicKey;
    signer = createToolSigner({ kid: 'tool-kid', privateKey: pair.privateKey });
    server = await startServer((req, res, body) => {
      const path = req.url ?? '';
      if (req.method === 'POST' && path === '/token') {
        const form = new URLSearchParams(body);
        if (tokenFailures > 0) {
          tokenFailures -= 1;
          json(res, 401, { error: 'invalid_client' });
          return;
        }
        void jwtVerify(form.get('client_assertion') ?? '', toolPublicKey, {
          currentDate: clock.now(),
        }).then(
          ({ payload }) => {
            assertions.push(payload);
            issued += 1;
            json(res, 200, {
              access_token: `token-${issued}`,
              token_type: 'Bearer',
              expires_in: 3600,
              scope: form.get('scope'),
            });
          },
          () => {
            json(res, 400, { error: 'invalid_client' });
          },
        );
        return;
      }
      route(req.method ?? '', path, body, res);
    });
  });
  after(async () => {
    await server.close();
  });

  beforeEach(() => {
    server.requests.length = 0;
    assertions = [];
    tokenFailures = 0;
    issued = 0;
    clock = manualClock();
    let jti = 0;
    platform = {
      issuer: 'https://platform.example',
      clientId: 'client-1',
      tokenEndpoint: `${server.url}/token`,
    };
    tokens = createTokenClient({
      http: testHttp(),
      signer,
      now: clock.now,
      randomId: () => `jti-${++jti}`,
    });
    route = (_method, _path, _body, res) => {
      res.writeHead(404).end();
    };
  });

  function tokenRequests(): number {
    return server.requests.filter((request) => request.url === '/token').length;
  }

  describe('token client', () => {
    it('when a token is requested, then the assertion is signed with iss=sub=client_id, aud, 5 minute exp and a jti', async () => {
      const token = await tokens.getAccessToken(platform, [LTI_SCOPE.score, LTI_SCOPE.lineItem]);
      expect(token.accessToken).to.equal('token-1');
      const assertion = assertions[0]!;
      expect(assertion).to.include({
        iss: 'client-1',
        sub: 'client-1',
        aud: `${server.url}/token`,
        jti: 'jti-1',
      });
      expect(assertion.exp! - assertion.iat!).to.equal(300);
      const form = new URLSearchParams(server.requests[0]!.body);
      expect(form.get('grant_type')).to.equal('client_credentials');
      expect(form.get('client_assertion_type')).to.equal(
        'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      );
      expect(form.get('scope')).to.equal(`${LTI_SCOPE.lineItem} ${LTI_SCOPE.score}`);
    });

    it('when the platform wants another audience, then the assertion carries it', async () => {
      await tokens.getAccessToken(
        { ...platform, tokenAudience: 'https://platform.example/oauth2/token' },
        [LTI_SCOPE.score],
      );
      expect(assertions[0]?.aud).to.equal('https://platform.example/oauth2/token');
    });

    it('when the same scopes are asked for again in any order, then the cached token is reused', async () => {
      const first = await tokens.getAccessToken(platform, [LTI_SCOPE.score, LTI_SCOPE.lineItem]);
      const second = await tokens.getAccessToken(platform, [LTI_SCOPE.lineItem, LTI_SCOPE.score]);
      expect(second.accessToken).to.equal(first.accessToken);
      expect(tokenRequests()).to.equal(1);
      await tokens.getAccessToken(platform, [LTI_SCOPE.membershipReadonly]);
      expect(tokenRequests()).to.equal(2);
    });

    it('when many callers ask at once, then they share one token request', async () => {
      const results = await Promise.all(
        Array.from({ length: 5 }, () => tokens.getAccessToken(platform, [LTI_SCOPE.score])),
      );
      expect(new Set(results.map((token) => token.accessToken)).size).to.equal(1);
      expect(tokenRequests()).to.equal(1);
    });

    it('when the token nears expiry, then a new one is fetched with a fresh jti', async () => {
      await tokens.getAccessToken(platform, [LTI_SCOPE.score]);
      clock.advance(3600_000 - 30_000);
      const renewed = await tokens.getAccessToken(platform, [LTI_SCOPE.score]);
      expect(renewed.accessToken).to.equal('token-2');
      expect(assertions.map((assertion) => assertion.jti)).to.deep.equal(['jti-1', 'jti-2']);
    });

    it('when the platform refuses the client, then it fails with token_request_failed and nothing is cached', async () => {
      tokenFailures = 1;
      await expectLtiError(
        tokens.getAccessToken(platform, [LTI_SCOPE.score]),
        'token_request_failed',
      );
      expect((await tokens.getAccessToken(platform, [LTI_SCOPE.score])).accessToken).to.equal(
        'token-1',
      );
    });
  });

  function context(scopes: readonly string[] = ALL_SCOPES): LtiServiceContext {
    return { http: testHttp(), tokens, platform, scopes };
  }

  describe('assignment and grade services', () => {
    it('when a line item URL has a query string, then /scores and /results go before it', () => {
      expect(
        lineItemServiceUrl(
          'https://canvas.example/api/lti/courses/1/line_items/7?include=x',
          'scores',
        ).toString(),
      ).to.equal('https://canvas.example/api/lti/courses/1/line_items/7/scores?include=x');
      expect(lineItemServiceUrl('https://lms.example/lineitems/7/', 'results').toString()).to.equal(
        'https://lms.example/lineitems/7/results',
      );
    });

    it('when line items span pages, then every Link next page is followed with the filters and bearer token', async () => {
      route = (_method, path, _body, res) => {
        const url = new URL(path, server.url);
        const page = Number(url.searchParams.get('page') ?? '1');
        const item = (n: number) => ({
          id: `${server.url}/lineitems/${n}`,
          label: `Standard ${n}`,
          scoreMaximum: 4,
          tag: 'mp',
        });
        const headers: Record<string, string> = {};
        if (page < 3) {
          const next = new URL(url);
          next.searchParams.set('page', String(page + 1));
          headers['Link'] =
            `<${next.toString()}>; rel="next", <${server.url}/lineitems?page=1>; rel="first"`;
        }
        json(res, 200, [item(page * 2 - 1), item(page * 2)], headers);
      };
      const items = await createAgsClient(context()).listLineItems(`${server.url}/lineitems`, {
        tag: 'mp',
        resourceId: 'std-1',
        resourceLinkId: 'rl-1',
        limit: 2,
      });
      expect(items.map((item) => item.label)).to.deep.equal(
        [1, 2, 3, 4, 5, 6].map((n) => `Standard ${n}`),
      );
      const pages = server.requests.filter((request) => request.url.startsWith('/lineitems'));
      expect(pages).to.have.length(3);
      const first = new URL(pages[0]!.url, server.url);
      expect(Object.fromEntries(first.searchParams)).to.deep.equal({
        resource_link_id: 'rl-1',
        resource_id: 'std-1',
        tag: 'mp',
        limit: '2',
      });
      expect(pages[0]!.headers['accept']).to.equal(
        'application/vnd.ims.lis.v2.lineitemcontainer+json',
      );
      expect(
        pages.every((request) => request.headers['authorization'] === 'Bearer token-1'),
      ).to.equal(true);
      expect(tokenRequests()).to.equal(1);
    });

    it('when a next link points at another origin, then paging stops with invalid_service_response', async () => {
      route = (_method, _path, _body, res) => {
        json(res, 200, [], { Link: '<https://evil.example/steal>; rel="next"' });
      };
      await expectLtiError(
        createAgsClient(context()).listLineItems(`${server.url}/lineitems`),
        'invalid_service_response',
      );
    });

    it('when a line item is created, then it is posted with the line item media type and parsed', async () => {
      route = (method, path, body, res) => {
        expect(method).to.equal('POST');
        expect(path).to.equal('/lineitems');
        json(res, 201, { id: `${server.url}/lineitems/9`, ...(JSON.parse(body) as object) });
      };
      const item = await createAgsClient(context()).createLineItem(`${server.url}/lineitems`, {
        label: 'CCSS.MATH.5.NF.A.1',
        scoreMaximum: 4,
        tag: 'mastery',
        resourceId: 'std-1',
      });
      expect(item).to.include({
        id: `${server.url}/lineitems/9`,
        label: 'CCSS.MATH.5.NF.A.1',
        scoreMaximum: 4,
      });
      const request = server.requests.find((r) => r.url === '/lineitems')!;
      expect(request.headers['content-type']).to.equal('application/vnd.ims.lis.v2.lineitem+json');
      expect(request.headers['accept']).to.equal('application/vnd.ims.lis.v2.lineitem+json');
      expect(JSON.parse(request.body)).to.deep.equal({
        label: 'CCSS.MATH.5.NF.A.1',
        scoreMaximum: 4,
        resourceId: 'std-1',
        tag: 'mastery',
      });
    });

    it('when the platform returns a malformed line item, then it fails with invalid_service_response', async () => {
      route = (_method, _path, _body, res) => {
        json(res, 201, { label: 'no id' });
      };
      await expectLtiError(
        createAgsClient(context()).createLineItem(`${server.url}/lineitems`, {
          label: 'x',
          scoreMaximum: 1,
        }),
        'invalid_service_response',
      );
    });

    it('when a score is posted to a line item URL with a query, then it goes to /scores before the query', async () => {
      route = (_method, _path, _body, res) => {
        res.writeHead(204).end();
      };
      await createAgsClient(context()).postScore(`${server.url}/lineitems/7?include=rubric`, {
        userId: 'user-1',
        scoreGiven: 3,
        scoreMaximum: 4,
        comment: 'Meets the standard',
        activityProgress: 'Completed',
        gradingProgress: 'FullyGraded',
        timestamp: new Date('2026-11-27T04:00:00.123Z'),
        canvasSubmission: { newSubmission: false, prioritizeNonToolGrade: true },
      });
      const request = server.requests.find((r) => r.url.startsWith('/lineitems'))!;
      expect(request.method).to.equal('POST');
      expect(request.url).to.equal('/lineitems/7/scores?include=rubric');
      expect(request.headers['content-type']).to.equal('application/vnd.ims.lis.v1.score+json');
      expect(JSON.parse(request.body)).to.deep.equal({
        userId: 'user-1',
        activityProgress: 'Completed',
        gradingProgress: 'FullyGraded',
        timestamp: '2026-11-27T04:00:00.123Z',
        scoreGiven: 3,
        scoreMaximum: 4,
        comment: 'Meets the standard',
        'https://canvas.instructure.com/lti/submission': {
          new_submission: false,
          prioritize_non_tool_grade: true,
        },
      });
    });

    it('when results are listed, then /results is used with the user filter and parsed', async () => {
      route = (_method, path, _body, res) => {
        expect(path).to.equal('/lineitems/7/results?a=1&user_id=user-1');
        json(res, 200, [
          { id: `${server.url}/r/1`, userId: 'user-1', resultScore: 3, resultMaximum: 4 },
        ]);
      };
      const results = await createAgsClient(context()).listResults(
        `${server.url}/lineitems/7?a=1`,
        { userId: 'user-1' },
      );
      expect(results).to.have.length(1);
      expect(results[0]).to.include({ userId: 'user-1', resultScore: 3 });
      const request = server.requests.find((r) => r.url.startsWith('/lineitems'))!;
      expect(request.headers['accept']).to.equal('application/vnd.ims.lis.v2.resultcontainer+json');
    });

    it('when a line item is updated and deleted, then PUT and DELETE reach its URL', async () => {
      route = (method, _path, body, res) => {
        if (method === 'PUT') json(res, 200, JSON.parse(body));
        else res.writeHead(204).end();
      };
      const ags = createAgsClient(context());
      const updated = await ags.updateLineItem(`${server.url}/lineitems/7`, {
        label: 'Renamed',
        scoreMaximum: 4,
      });
      expect(updated.label).to.equal('Renamed');
      await ags.deleteLineItem(`${server.url}/lineitems/7`);
      expect(
        server.requests.filter((r) => r.url === '/lineitems/7').map((r) => r.method),
      ).to.deep.equal(['PUT', 'DELETE']);
    });

    it('when the score scope was not granted, then posting fails with service_not_available before any request', async () => {
      await expectLtiError(
        createAgsClient(context([LTI_SCOPE.lineItemReadonly])).postScore(
          `${server.url}/lineitems/7`,
          {
            userId: 'u',
            activityProgress: 'Completed',
            gradingProgress: 'FullyGraded',
            timestamp: new Date(),
          },
        ),
        'service_not_available',
      );
      expect(server.requests).to.have.length(0);
    });
  });

  describe('names and role provisioning', () => {
    it('when members span pages, then all are returned normalized', async () => {
      route = (_method, path, _body, res) => {
        const page2 = path.includes('page=2');
        const members = page2
          ? [
              {
                user_id: 'u3',
                roles: ['http://purl.imsglobal.org/vocab/lis/v2/membership#Learner'],
                status: 'Inactive',
              },
            ]
          : [
              {
                user_id: 'u1',
                name: 'Ada Lovelace',
                given_name: 'Ada',
                family_name: 'Lovelace',
                roles: ['Instructor'],
              },
              { user_id: 'u2', roles: ['Learner'], email: 'b@example.org' },
            ];
        json(
          res,
          200,
          { id: 'm', context: { id: 'course-1' }, members },
          page2 ? {} : { Link: `<${server.url}/members?page=2>; rel="next"` },
        );
      };
      const members = await createNrpsClient(context()).listMembers(`${server.url}/members`);
      expect(members.map((m) => [m.userId, m.status])).to.deep.equal([
        ['u1', 'Active'],
        ['u2', 'Active'],
        ['u3', 'Inactive'],
      ]);
      expect(members[0]).to.include({
        name: 'Ada Lovelace',
        givenName: 'Ada',
        familyName: 'Lovelace',
      });
      // The largest page is asked for (`limit`); the next page is followed from the Link header.
      const first = server.requests.find((r) => r.url === '/members?limit=100')!;
      expect(first.headers['accept']).to.equal(
        'application/vnd.ims.lti-nrps.v2.membershipcontainer+json',
      );
    });

    it('when a member has no user_id, then it fails with invalid_service_response', async () => {
      route = (_method, _path, _body, res) => {
        json(res, 200, { members: [{ roles: [] }] });
      };
      await expectLtiError(
        createNrpsClient(context()).listMembers(`${server.url}/members`),
        'invalid_service_response',
      );
    });
  });

  describe('LMS port over LTI', () => {
    it("when a column is found by tag and a score posted, then the adapter uses AGS and sends Canvas's new_submission:false without prioritize_non_tool_grade", async () => {
      route = (method, path, _body, res) => {
        if (method === 'GET' && path.startsWith('/lineitems?')) {
          // The platform ignores filters: the adapter must still pick the right item.
          json(res, 200, [
            { id: `${server.url}/lineitems/1`, label: 'Other', scoreMaximum: 10, tag: 'other' },
            {
              id: `${server.url}/lineitems/2`,
              label: 'Fractions',
              scoreMaximum: 4,
              tag: 'std-1',
              resourceId: 'std-1',
            },
          ]);
          return;
        }
        if (method === 'GET' && path.startsWith('/members')) {
          json(res, 200, {
            members: [
              { user_id: 'u1', roles: ['Learner'] },
              { user_id: 't1', roles: ['Instructor'], status: 'Deleted' },
            ],
          });
          return;
        }
        res.writeHead(200).end('{}');
      };
      const adapter = createLtiLmsAdapter({
        services: {
          course: { issuer: platform.issuer, deploymentId: 'd1', contextId: 'course-1' },
          lineItemsUrl: `${server.url}/lineitems`,
          membershipsUrl: `${server.url}/members`,
          scopes: ALL_SCOPES,
        },
        ags: createAgsClient(context()),
        nrps: createNrpsClient(context()),
        canvasSubmissionExtension: true,
      });
      const column = await adapter.findGradebookColumn({ tag: 'std-1' });
      expect(column).to.deep.equal({
        id: `${server.url}/lineitems/2`,
        label: 'Fractions',
        scoreMaximum: 4,
        tag: 'std-1',
        resourceId: 'std-1',
      });
      await adapter.postScore(column!, {
        userId: 'u1',
        scoreGiven: 3,
        scoreMaximum: 4,
        timestamp: new Date('2026-11-27T04:00:00Z'),
      });
      const posted = server.requests.find((r) => r.url === '/lineitems/2/scores')!;
      expect(JSON.parse(posted.body)).to.include({
        gradingProgress: 'FullyGraded',
        activityProgress: 'Completed',
        scoreGiven: 3,
      });
      const postedBody = JSON.parse(posted.body) as Record<string, unknown>;
      // prioritize_non_tool_grade is never sent: in Canvas it also blocks the tool's own later grades.
      expect(postedBody['https://canvas.instructure.com/lti/submission']).to.deep.equal({
        new_submission: false,
      });
      const roster = await adapter.roster();
      const tokenScopes = server.requests
        .filter((r) => r.url === '/token')
        .map((r) => new URLSearchParams(r.body).get('scope'));
      expect(tokenScopes, 'AGS and NRPS ask only for their own scopes').to.deep.equal([
        [LTI_SCOPE.lineItem, LTI_SCOPE.lineItemReadonly, LTI_SCOPE.resultReadonly, LTI_SCOPE.score]
          .sort()
          .join(' '),
        LTI_SCOPE.membershipReadonly,
      ]);
      expect(roster.map((m) => [m.userId, m.role, m.active])).to.deep.equal([
        ['u1', 'student', true],
        ['t1', 'teacher', false],
      ]);
    });

    it('when the course has no line items URL, then creating a column fails with service_not_available', async () => {
      const adapter = createLtiLmsAdapter({
        services: {
          course: { issuer: 'i', deploymentId: 'd', contextId: 'c' },
          lineItemsUrl: undefined,
          membershipsUrl: undefined,
          scopes: [],
        },
        ags: createAgsClient(context()),
        nrps: createNrpsClient(context()),
      });
      await expectLtiError(
        adapter.createGradebookColumn({ label: 'x', scoreMaximum: 4 }),
        'service_not_available',
      );
    });
  });
});
