import { expect } from 'chai';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { createEmulator } from '../../../src/emulator/emulator.ts';
import {
  authorizationUrl,
  pkcePair,
  postToken,
  REDIRECT_URI,
  signInTokens,
  startClassroom,
  type ClassroomWorld,
} from './classroom-support.ts';

describe('emulator (classroom): Google OpenID Connect', () => {
  let world: ClassroomWorld;
  beforeEach(async () => {
    world = await startClassroom();
  });
  afterEach(async () => {
    await world.close();
  });

  async function codeFor(userId: string, params: Record<string, string> = {}) {
    const callback = await world.emulator.signIn(authorizationUrl(world, params), userId);
    return callback;
  }

  it('when the discovery document is fetched, then the issuer and every endpoint are on the emulator origin', async () => {
    const res = await fetch(`${world.baseUrl}/.well-known/openid-configuration`);
    expect(res.status).to.equal(200);
    const doc = (await res.json()) as Record<string, unknown>;
    expect(doc).to.include({
      issuer: world.baseUrl,
      authorization_endpoint: `${world.baseUrl}/o/oauth2/v2/auth`,
      token_endpoint: `${world.baseUrl}/token`,
      jwks_uri: `${world.baseUrl}/oauth2/v3/certs`,
      userinfo_endpoint: `${world.baseUrl}/v1/userinfo`,
      revocation_endpoint: `${world.baseUrl}/revoke`,
    });
    expect(doc.code_challenge_methods_supported).to.include('S256');
    expect(doc.token_endpoint_auth_methods_supported).to.have.members([
      'client_secret_post',
      'client_secret_basic',
    ]);
    expect(doc.id_token_signing_alg_values_supported).to.deep.equal(['RS256']);
  });

  it('when createEmulator is asked for the classroom flavour, then it returns the Classroom emulator', async () => {
    const emulator = await createEmulator({ flavour: 'classroom', baseUrl: 'http://127.0.0.1:9' });
    expect(emulator.flavour).to.equal('classroom');
    expect(emulator.urls.token).to.equal('http://127.0.0.1:9/token');
    expect(emulator.openidConfiguration().issuer).to.equal('http://127.0.0.1:9');
  });

  it('when an issuer is configured, then discovery and id tokens carry it', async () => {
    const custom = await startClassroom({ issuer: 'https://accounts.google.test' });
    try {
      const doc = (await (await fetch(custom.emulator.urls.openidConfiguration)).json()) as {
        issuer: string;
      };
      expect(doc.issuer).to.equal('https://accounts.google.test');
      const tokens = await signInTokens(custom, custom.seed.teacher.id);
      expect(decodeJwt(tokens.id_token ?? '').iss).to.equal('https://accounts.google.test');
    } finally {
      await custom.close();
    }
  });

  it('when openid-client signs in with PKCE, nonce, login_hint and hd, then the id token has Google claims and refresh works', async () => {
    const { teacher, domain } = world.seed;
    const config = await oidc.discovery(
      new URL(world.baseUrl),
      world.client.clientId,
      undefined,
      oidc.ClientSecretPost(world.client.clientSecret),
      // The emulator listens on plain-http loopback, as the tool allows for loopback issuers only.
      // eslint-disable-next-line @typescript-eslint/no-deprecated
      { execute: [oidc.allowInsecureRequests] },
    );
    const verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email profile https://www.googleapis.com/auth/classroom.courses.readonly',
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      nonce,
      state,
      login_hint: teacher.id,
      hd: domain,
      access_type: 'offline',
      prompt: 'select_account consent',
    });
    const response = await fetch(url);
    // Google's sign-in refuses framing: add-ons sign in through a popup.
    expect(response.headers.get('x-frame-options')).to.equal('DENY');
    const page = await response.text();
    // With select_account, login_hint preselects the teacher's account on the chooser.
    expect(page).to.match(new RegExp(`value="${teacher.id}"\\s+checked`));
    const callback = await world.emulator.signIn(url.toString(), teacher.id);
    expect(callback.searchParams.get('state')).to.equal(state);
    expect(callback.searchParams.get('hd')).to.equal(domain);
    const tokens = await oidc.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    const claims = tokens.claims();
    expect(claims).to.include({
      iss: world.baseUrl,
      aud: world.client.clientId,
      azp: world.client.clientId,
      sub: teacher.id,
      email: teacher.email,
      email_verified: true,
      hd: domain,
      nonce,
      given_name: 'Maria',
    });
    expect(tokens.refresh_token).to.match(/^1\/\//);
    expect(tokens.access_token).to.match(/^ya29\./);
    expect(tokens.expiresIn()).to.be.within(3590, 3599);

    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '');
    expect(refreshed.access_token).to.not.equal(tokens.access_token);
    expect(refreshed.claims()?.sub).to.equal(teacher.id);

    expect(world.emulator.state.revokeRefreshTokens(teacher.id)).to.equal(1);
    let refused: unknown;
    try {
      await oidc.refreshTokenGrant(config, tokens.refresh_token ?? '');
    } catch (error) {
      refused = error;
    }
    expect(refused).to.be.instanceOf(oidc.ResponseBodyError);
    expect((refused as oidc.ResponseBodyError).error).to.equal('invalid_grant');
  });

  it('when the id token is checked against the JWKS, then it verifies as RS256 with issuer and audience', async () => {
    const tokens = await signInTokens(world, world.seed.teacher.id);
    const jwks = createRemoteJWKSet(new URL(world.emulator.urls.jwks));
    const { payload, protectedHeader } = await jwtVerify(tokens.id_token ?? '', jwks, {
      issuer: world.baseUrl,
      audience: world.client.clientId,
      algorithms: ['RS256'],
    });
    expect(protectedHeader.alg).to.equal('RS256');
    expect(protectedHeader.kid).to.be.a('string');
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).to.equal(3600);
    expect(payload.nonce).to.equal('n-1');
  });

  it('when the code verifier is wrong or missing, then the token endpoint answers invalid_grant', async () => {
    const pkce = pkcePair();
    const callback = await codeFor(world.seed.teacher.id, {
      code_challenge: pkce.challenge,
      code_challenge_method: 'S256',
    });
    const code = callback.searchParams.get('code') ?? '';
    const base = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: world.client.clientId,
      client_secret: world.client.clientSecret,
    };
    const wrong = await postToken(world, { ...base, code_verifier: pkcePair().verifier });
    expect(wrong.status).to.equal(400);
    expect(wrong.body).to.deep.equal({
      error: 'invalid_grant',
      error_description: 'Invalid code verifier.',
    });
    const missing = await postToken(world, base);
    expect(missing.body).to.deep.equal({
      error: 'invalid_grant',
      error_description: 'Missing code verifier.',
    });
    const right = await postToken(world, { ...base, code_verifier: pkce.verifier });
    expect(right.status).to.equal(200);
    // A code works once.
    const again = await postToken(world, { ...base, code_verifier: pkce.verifier });
    expect(again.status).to.equal(400);
    expect(again.body.error).to.equal('invalid_grant');
  });

  it('when the client authenticates with client_secret_basic, then tokens are issued; a wrong secret is invalid_client', async () => {
    const callback = await codeFor(world.seed.teacher.id);
    const fields = {
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT_URI,
    };
    const basic = (secret: string): Record<string, string> => ({
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(world.client.clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`,
    });
    const bad = await postToken(world, fields, basic('not-the-secret'));
    expect(bad.status).to.equal(401);
    expect(bad.body).to.deep.equal({ error: 'invalid_client', error_description: 'Unauthorized' });
    const ok = await postToken(world, fields, basic(world.client.clientSecret));
    expect(ok.status).to.equal(200);
    expect(ok.body).to.include.keys('access_token', 'id_token', 'refresh_token');
    expect(ok.body.token_type).to.equal('Bearer');
  });

  it('when the token redirect_uri differs from the authorization request, then redirect_uri_mismatch', async () => {
    const callback = await codeFor(world.seed.teacher.id);
    const res = await postToken(world, {
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: 'http://tool.example.test/other',
      client_id: world.client.clientId,
      client_secret: world.client.clientSecret,
    });
    expect(res.status).to.equal(400);
    expect(res.body.error).to.equal('redirect_uri_mismatch');
  });

  it('when the grant type is unsupported or the client unknown, then Google error bodies come back', async () => {
    const unknownClient = await postToken(world, {
      grant_type: 'authorization_code',
      code: 'x',
      client_id: 'nobody.apps.googleusercontent.com',
      client_secret: 'x',
    });
    expect(unknownClient.status).to.equal(401);
    expect(unknownClient.body.error).to.equal('invalid_client');
    const grant = await postToken(world, {
      grant_type: 'client_credentials',
      client_id: world.client.clientId,
      client_secret: world.client.clientSecret,
    });
    expect(grant.status).to.equal(400);
    expect(grant.body.error).to.equal('unsupported_grant_type');
  });

  it('when the redirect_uri is not registered for the client, then Google shows an error page and does not redirect', async () => {
    const res = await fetch(
      authorizationUrl(world, { redirect_uri: 'https://evil.example/callback' }),
      { redirect: 'manual' },
    );
    expect(res.status).to.equal(400);
    expect(await res.text()).to.contain('redirect_uri_mismatch');
    const unknown = await fetch(
      authorizationUrl(world, { client_id: 'nobody.apps.googleusercontent.com' }),
      { redirect: 'manual' },
    );
    expect(unknown.status).to.equal(401);
    expect(await unknown.text()).to.contain('invalid_client');
  });

  it('when the user cancels, then the client gets error=access_denied with its state', async () => {
    const callback = await world.emulator.signIn(
      authorizationUrl(world),
      world.seed.teacher.id,
      'deny',
    );
    expect(callback.searchParams.get('error')).to.equal('access_denied');
    expect(callback.searchParams.get('state')).to.equal('st-1');
    expect(callback.searchParams.has('code')).to.equal(false);
  });

  it('when prompt=none is used before and after consent, then interaction_required and then a code', async () => {
    const { teacher } = world.seed;
    const silent = { prompt: 'none', login_hint: teacher.email };
    const before = await fetch(authorizationUrl(world, silent), { redirect: 'manual' });
    expect(before.status).to.equal(302);
    expect(new URL(before.headers.get('location') ?? '').searchParams.get('error')).to.equal(
      'interaction_required',
    );
    await signInTokens(world, teacher.id);
    const after = await fetch(authorizationUrl(world, silent), { redirect: 'manual' });
    expect(new URL(after.headers.get('location') ?? '').searchParams.get('code')).to.be.a('string');
    const noHint = await fetch(authorizationUrl(world, { prompt: 'none' }), { redirect: 'manual' });
    expect(new URL(noHint.headers.get('location') ?? '').searchParams.get('error')).to.equal(
      'login_required',
    );
  });

  it('when a user of another Workspace domain or a personal account signs in, then hd is theirs or absent', async () => {
    const outsider = await signInTokens(world, world.seed.outsider.id);
    expect(decodeJwt(outsider.id_token ?? '').hd).to.equal('other-district.example.org');
    const personal = world.emulator.state.addUser({
      email: 'someone@gmail.com',
      givenName: 'Some',
      familyName: 'One',
      consumer: true,
    });
    const consumer = await signInTokens(world, personal.id);
    expect(decodeJwt(consumer.id_token ?? '')).to.not.have.property('hd');
  });

  it('when userinfo is called with the access token, then the profile comes back; after revocation 401', async () => {
    const { teacher } = world.seed;
    const tokens = await signInTokens(world, teacher.id);
    const info = await fetch(world.emulator.urls.userinfo, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(info.status).to.equal(200);
    expect(await info.json()).to.deep.include({
      sub: teacher.id,
      email: teacher.email,
      email_verified: true,
      hd: world.seed.domain,
    });
    const revoke = await fetch(world.emulator.urls.revoke, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.refresh_token ?? '' }).toString(),
    });
    expect(revoke.status).to.equal(200);
    const after = await fetch(world.emulator.urls.userinfo, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(after.status).to.equal(401);
    const refresh = await postToken(world, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token ?? '',
      client_id: world.client.clientId,
      client_secret: world.client.clientSecret,
    });
    expect(refresh.status).to.equal(400);
    expect(refresh.body).to.deep.equal({
      error: 'invalid_grant',
      error_description: 'Token has been expired or revoked.',
    });
    const twice = await fetch(world.emulator.urls.revoke, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.refresh_token ?? '' }).toString(),
    });
    expect(twice.status).to.equal(400);
    expect(await twice.json()).to.deep.equal({
      error: 'invalid_token',
      error_description: 'Token expired or revoked',
    });
  });

  it('when the code or the access token has expired, then invalid_grant and 401', async () => {
    let nowMs = Date.UTC(2026, 10, 27, 8, 0, 0);
    const timed = await startClassroom({ now: () => new Date(nowMs) });
    try {
      const tokens = await signInTokens(timed, timed.seed.teacher.id);
      const callback = await timed.emulator.signIn(authorizationUrl(timed), timed.seed.teacher.id);
      nowMs += 3600 * 1000;
      const late = await postToken(timed, {
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code') ?? '',
        redirect_uri: REDIRECT_URI,
        client_id: timed.client.clientId,
        client_secret: timed.client.clientSecret,
      });
      expect(late.status).to.equal(400);
      expect(late.body.error).to.equal('invalid_grant');
      const expired = await fetch(`${timed.baseUrl}/v1/courses/${timed.seed.course.id}`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      expect(expired.status).to.equal(401);
      // The refresh token still works after the access token expired.
      const refreshed = await postToken(timed, {
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token ?? '',
        client_id: timed.client.clientId,
        client_secret: timed.client.clientSecret,
      });
      expect(refreshed.status).to.equal(200);
    } finally {
      await timed.close();
    }
  });

  it('when access_type is not offline, then no refresh token is issued', async () => {
    const callback = await world.emulator.signIn(
      authorizationUrl(world, { access_type: 'online' }),
      world.seed.teacher.id,
    );
    const res = await postToken(world, {
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: REDIRECT_URI,
      client_id: world.client.clientId,
      client_secret: world.client.clientSecret,
    });
    expect(res.status).to.equal(200);
    expect(res.body).to.not.have.property('refresh_token');
  });

  it('when a refresh token is used by another client, then unauthorized_client', async () => {
    const tokens = await signInTokens(world, world.seed.teacher.id);
    const res = await postToken(world, {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token ?? '',
      client_id: world.otherClient.clientId,
      client_secret: world.otherClient.clientSecret,
    });
    expect(res.status).to.equal(401);
    expect(res.body.error).to.equal('unauthorized_client');
  });

  describe('consent', () => {
    const ADDONS_TEACHER = 'https://www.googleapis.com/auth/classroom.addons.teacher';
    const COURSEWORK = 'https://www.googleapis.com/auth/classroom.coursework.students';

    async function exchange(callback: URL) {
      return postToken(world, {
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code') ?? '',
        redirect_uri: REDIRECT_URI,
        client_id: world.client.clientId,
        client_secret: world.client.clientSecret,
      });
    }

    it('when a user unticks scopes at consent, then the code and token carry only the ticked ones, and the next request shows the consent screen again', async () => {
      const { teacher } = world.seed;
      const first = await world.emulator.signIn(
        authorizationUrl(world, { prompt: '', login_hint: teacher.id }),
        teacher.id,
        'allow',
        { decline: [ADDONS_TEACHER, COURSEWORK] },
      );
      const granted = (first.searchParams.get('scope') ?? '').split(' ');
      expect(granted).to.include('openid');
      expect(granted).to.include('https://www.googleapis.com/auth/userinfo.email');
      expect(granted).to.not.include(ADDONS_TEACHER);
      expect(granted).to.not.include(COURSEWORK);
      const tokens = await exchange(first);
      expect(String(tokens.body.scope).split(' ')).to.not.include(ADDONS_TEACHER);
      // The first consent with access_type=offline comes with a refresh token.
      expect(tokens.body).to.have.property('refresh_token');
      expect(world.emulator.consents.screensFor(teacher.id)).to.equal(1);

      // Scopes still missing: Google asks again, and the grants add up (include_granted_scopes).
      const second = await world.emulator.signIn(
        authorizationUrl(world, {
          prompt: '',
          login_hint: teacher.id,
          include_granted_scopes: 'true',
        }),
        teacher.id,
      );
      expect(world.emulator.consents.screensFor(teacher.id)).to.equal(2);
      expect((second.searchParams.get('scope') ?? '').split(' ')).to.include.members([
        ADDONS_TEACHER,
        COURSEWORK,
      ]);
    });

    it('when every requested scope is granted and there is no prompt=consent, then no consent screen and no refresh token; prompt=consent shows it and issues one', async () => {
      const student = world.seed.students[0]?.id ?? '';
      const hinted = { prompt: '', login_hint: student };
      const first = await exchange(
        await world.emulator.signIn(authorizationUrl(world, hinted), student),
      );
      expect(first.body).to.have.property('refresh_token');
      expect(world.emulator.consents.screensFor(student)).to.equal(1);

      // Already granted: Google answers at once (302), no page, and adds no refresh token.
      const direct = await fetch(authorizationUrl(world, hinted), { redirect: 'manual' });
      expect(direct.status).to.equal(302);
      const again = await exchange(new URL(direct.headers.get('location') ?? ''));
      expect(again.status).to.equal(200);
      expect(again.body).to.not.have.property('refresh_token');
      expect(world.emulator.consents.screensFor(student)).to.equal(1);

      // select_account shows the chooser, which is not a consent screen.
      const chooser = await fetch(authorizationUrl(world, { ...hinted, prompt: 'select_account' }));
      expect(await chooser.text()).to.contain('Choose an account');
      expect(world.emulator.consents.screensFor(student)).to.equal(1);

      const forced = await exchange(
        await world.emulator.signIn(
          authorizationUrl(world, { ...hinted, prompt: 'consent' }),
          student,
        ),
      );
      expect(forced.body).to.have.property('refresh_token');
      expect(world.emulator.consents.screensFor(student)).to.equal(2);
    });

    it('when access is removed, then the next sign-in shows the consent screen again', async () => {
      const { teacher } = world.seed;
      const hinted = { prompt: '', login_hint: teacher.id };
      await world.emulator.signIn(authorizationUrl(world, hinted), teacher.id);
      world.emulator.state.revokeRefreshTokens(teacher.id);
      const page = await fetch(authorizationUrl(world, hinted));
      expect(await page.text()).to.contain('id="consent-screen"');
      expect(world.emulator.consents.screensFor(teacher.id)).to.equal(2);
    });

    it('when prompt has an unknown value or none with another value, then invalid_request', async () => {
      for (const prompt of ['none consent', 'force']) {
        const res = await fetch(authorizationUrl(world, { prompt }), { redirect: 'manual' });
        expect(res.status).to.equal(400);
        expect(await res.text()).to.contain('invalid_request');
      }
    });

    it('when the consent screen is cancelled, then access_denied and nothing is granted', async () => {
      const { teacher } = world.seed;
      const callback = await world.emulator.signIn(
        authorizationUrl(world, { prompt: '', login_hint: teacher.id }),
        teacher.id,
        'deny',
      );
      expect(callback.searchParams.get('error')).to.equal('access_denied');
      expect(world.emulator.consents.granted(teacher.id, world.client.clientId).size).to.equal(0);
    });

    it('when the rotation hook is on, then a refresh answers a new refresh token without scope and the old one stops working', async () => {
      const tokens = await signInTokens(world, world.seed.teacher.id);
      world.emulator.consents.rotateRefreshTokens = true;
      const fields = {
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token ?? '',
        client_id: world.client.clientId,
        client_secret: world.client.clientSecret,
      };
      const rotated = await postToken(world, fields);
      expect(rotated.status).to.equal(200);
      expect(rotated.body.refresh_token).to.match(/^1\/\//);
      expect(rotated.body).to.not.have.property('scope');
      expect((await postToken(world, fields)).status).to.equal(400);
    });
  });

  it('when a fault is injected on the token endpoint, then the next request fails and the one after works', async () => {
    const tokens = await signInTokens(world, world.seed.teacher.id);
    world.emulator.state.injectFaults({ kind: 'status', status: 503 });
    const fields = {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token ?? '',
      client_id: world.client.clientId,
      client_secret: world.client.clientSecret,
    };
    expect((await postToken(world, fields)).status).to.equal(503);
    expect((await postToken(world, fields)).status).to.equal(200);
  });
});
