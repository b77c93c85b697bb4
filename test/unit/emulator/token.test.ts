import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { generateKeyPair, SignJWT } from 'jose';
import request from 'supertest';
import { SCOPE } from '../../../src/emulator/claims.ts';
import {
  clientAssertion,
  startFakeTool,
  startPlatform,
  USER_AGENT,
  type FakeTool,
  type Platform,
} from './fake-tool.ts';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

describe('emulator: OAuth2 token endpoint (client credentials + JWT assertion)', () => {
  let fakeTool: FakeTool;
  before(async () => {
    fakeTool = await startFakeTool();
  });
  after(async () => {
    await fakeTool.close();
  });

  function postToken(platform: Platform, fields: Record<string, string>, userAgent = USER_AGENT) {
    const req = request(platform.emulator.app).post('/login/oauth2/token');
    if (userAgent) req.set('User-Agent', userAgent);
    return req.type('form').send(fields);
  }

  async function validFields(platform: Platform, overrides: Record<string, string> = {}) {
    return {
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER,
      client_assertion: await clientAssertion(
        fakeTool,
        platform.tool.clientId,
        platform.emulator.urls.token,
      ),
      scope: `${SCOPE.score} ${SCOPE.lineItem}`,
      ...overrides,
    };
  }

  it('when the assertion is valid, then a bearer token with the asked scopes and lifetime is issued', async () => {
    const platform = await startPlatform('canvas', fakeTool, { accessTokenLifetimeSeconds: 1200 });
    const res = await postToken(platform, await validFields(platform)).expect(200);
    expect(res.body).to.include({
      token_type: 'Bearer',
      expires_in: 1200,
      scope: `${SCOPE.score} ${SCOPE.lineItem}`,
    });
    expect(res.headers['cache-control']).to.equal('no-store');
    const token = platform.emulator.state.accessTokens.get(
      (res.body as { access_token: string }).access_token,
    );
    expect(token?.clientId).to.equal(platform.tool.clientId);
    expect(platform.emulator.state.counters.tokenRequests).to.equal(1);
  });

  it('when the assertion is signed by another key, then invalid_client (401)', async () => {
    const platform = await startPlatform('canvas', fakeTool);
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await clientAssertion(
      fakeTool,
      platform.tool.clientId,
      platform.emulator.urls.token,
      {
        key: privateKey,
      },
    );
    const res = await postToken(
      platform,
      await validFields(platform, { client_assertion: forged }),
    ).expect(401);
    expect(res.body).to.have.property('error', 'invalid_client');
    expect(platform.emulator.state.accessTokens.size).to.equal(0);
  });

  it('when a jti is replayed, then the second request is refused', async () => {
    const platform = await startPlatform('moodle', fakeTool);
    const assertion = await clientAssertion(
      fakeTool,
      platform.tool.clientId,
      platform.emulator.urls.token,
      {
        jti: 'same-jti',
      },
    );
    await postToken(platform, await validFields(platform, { client_assertion: assertion })).expect(
      200,
    );
    const again = await postToken(
      platform,
      await validFields(platform, { client_assertion: assertion }),
    ).expect(401);
    expect(again.body).to.include({ error: 'invalid_client' });
    expect((again.body as { error_description: string }).error_description).to.contain('jti');
  });

  it('when the audience is not the token endpoint, then invalid_client', async () => {
    const platform = await startPlatform('schoology', fakeTool);
    const assertion = await clientAssertion(
      fakeTool,
      platform.tool.clientId,
      'https://elsewhere.example/token',
    );
    await postToken(platform, await validFields(platform, { client_assertion: assertion })).expect(
      401,
    );
  });

  it('when a configured token audience is used, then it is accepted', async () => {
    const platform = await startPlatform('schoology', fakeTool, {
      tokenAudiences: ['https://aud.example/token'],
    });
    const assertion = await clientAssertion(
      fakeTool,
      platform.tool.clientId,
      'https://aud.example/token',
    );
    await postToken(platform, await validFields(platform, { client_assertion: assertion })).expect(
      200,
    );
  });

  it('when a scope was not granted to the tool, then invalid_scope (400)', async () => {
    const platform = await startPlatform('canvas', fakeTool, {}, { scopes: [SCOPE.score] });
    const res = await postToken(
      platform,
      await validFields(platform, { scope: `${SCOPE.score} ${SCOPE.nrps}` }),
    );
    expect(res.status).to.equal(400);
    expect(res.body).to.include({ error: 'invalid_scope' });
  });

  it('when grant_type is not client_credentials, then unsupported_grant_type', async () => {
    const platform = await startPlatform('canvas', fakeTool);
    const res = await postToken(
      platform,
      await validFields(platform, { grant_type: 'password' }),
    ).expect(400);
    expect(res.body).to.include({ error: 'unsupported_grant_type' });
  });

  it('when the assertion has expired, then invalid_client', async () => {
    const platform = await startPlatform('canvas', fakeTool, {
      now: () => new Date(Date.now() + 3600 * 1000),
    });
    await postToken(platform, await validFields(platform)).expect(401);
  });

  it('when an access token has expired, then service calls answer 401', async () => {
    let now = new Date();
    const platform = await startPlatform('moodle', fakeTool, {
      now: () => now,
      accessTokenLifetimeSeconds: 60,
    });
    const res = await postToken(platform, await validFields(platform)).expect(200);
    const token = (res.body as { access_token: string }).access_token;
    const url = `/api/lti/courses/${platform.seed.course.courseId}/line_items`;
    await request(platform.emulator.app).get(url).auth(token, { type: 'bearer' }).expect(200);
    now = new Date(now.getTime() + 61_000);
    const expired = await request(platform.emulator.app)
      .get(url)
      .auth(token, { type: 'bearer' })
      .expect(401);
    expect(expired.text).to.contain('expired');
  });

  /** An assertion whose `aud` may be a list, as a tool that follows `authorization_server` signs it. */
  async function assertionFor(platform: Platform, audience: string | string[]) {
    return new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'RS256', kid: fakeTool.kid })
      .setIssuer(platform.tool.clientId)
      .setSubject(platform.tool.clientId)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime('300s')
      .sign(fakeTool.privateKey);
  }

  it("when a Canvas assertion's aud is only the bare authorization_server host, then invalid_client", async () => {
    const platform = await startPlatform('canvas', fakeTool);
    const host = new URL(platform.emulator.urls.token).host;
    const assertion = await assertionFor(platform, host);
    const res = await postToken(
      platform,
      await validFields(platform, { client_assertion: assertion }),
    ).expect(401);
    expect(res.body).to.include({ error: 'invalid_client' });
  });

  it("when a Canvas assertion's aud lists the token URL beside the bare host, then a token is issued", async () => {
    const platform = await startPlatform('canvas', fakeTool);
    const host = new URL(platform.emulator.urls.token).host;
    const assertion = await assertionFor(platform, [platform.emulator.urls.token, host]);
    await postToken(platform, await validFields(platform, { client_assertion: assertion })).expect(
      200,
    );
  });

  it('when Canvas gets a request without User-Agent, then it is refused before any check', async () => {
    const platform = await startPlatform('canvas', fakeTool);
    const res = await postToken(platform, await validFields(platform), '');
    expect(res.status).to.equal(403);
    expect(platform.emulator.state.counters.tokenRequests).to.equal(0);
  });
});
