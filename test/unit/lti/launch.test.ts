import { expect } from 'chai';
import { exportSPKI, SignJWT } from 'jose';
import type { JWTPayload } from 'jose';
import { LTI_CLAIM } from '../../../src/lti/claims.ts';
import { LtiError } from '../../../src/lti/errors.ts';
import type { LtiErrorCode } from '../../../src/lti/errors.ts';
import { verifyLaunch } from '../../../src/lti/launch.ts';
import type { LaunchDependencies } from '../../../src/lti/launch.ts';
import { handleLogin, randomToken } from '../../../src/lti/login.ts';
import type {
  LoginDependencies,
  LoginResult,
  PlatformRegistration,
} from '../../../src/lti/login.ts';
import { createPlatformKeys } from '../../../src/lti/platform-keys.ts';
import {
  json,
  manualClock,
  MemoryDeployments,
  MemoryLoginStates,
  MemoryNonces,
  MemoryPlatforms,
  platformKey,
  resourceLinkClaims,
  sign,
  startServer,
  testHttp,
} from './fixtures.ts';
import type { LocalServer, PlatformKey } from './fixtures.ts';

const ISSUER = 'https://platform.example';
const CLIENT_ID = 'client-1';
const endpoints = {
  baseUrl: 'https://tool.example',
  redirectUri: 'https://tool.example/lti/launch',
  launchPaths: ['/lti/launch'],
};

async function expectLtiError(promise: Promise<unknown>, code: LtiErrorCode): Promise<LtiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(LtiError);
    expect((error as LtiError).code, (error as LtiError).detail).to.equal(code);
    return error as LtiError;
  }
  throw new Error(`expected LtiError ${code}`);
}

describe('LTI launch verification', () => {
  let server: LocalServer;
  let key: PlatformKey;
  let published: PlatformKey[];
  let clock: ReturnType<typeof manualClock>;
  let states: MemoryLoginStates;
  let nonces: MemoryNonces;
  let registration: PlatformRegistration;
  let loginDeps: LoginDependencies;
  let launchDeps: LaunchDependencies;

  before(async () => {
    key = await platformKey('platform-key-1');
    server = await startServer();
  });
  after(async () => {
    await server.close();
  });

  beforeEach(() => {
    published = [key];
    server.handle((_req, res) => {
      json(res, 200, { keys: published.map((k) => k.publicJwk) });
    });
    server.requests.length = 0;
    clock = manualClock();
    states = new MemoryLoginStates();
    nonces = new MemoryNonces();
    registration = {
      issuer: ISSUER,
      clientId: CLIENT_ID,
      authorizationEndpoint: 'https://platform.example/auth',
      jwksUrl: `${server.url}/jwks`,
      tokenEndpoint: 'https://platform.example/token',
    };
    const platforms = new MemoryPlatforms([registration]);
    loginDeps = { platforms, states, endpoints, now: clock.now, randomToken };
    launchDeps = {
      platforms,
      states,
      nonces,
      deployments: new MemoryDeployments(['deployment-1']),
      platformKeys: createPlatformKeys({
        http: testHttp(),
        now: clock.now,
        ttlMs: 600_000,
        refreshCooldownMs: 30_000,
      }),
      endpoints,
      now: clock.now,
    };
  });

  async function login(extra: Record<string, string> = {}): Promise<LoginResult> {
    return handleLogin(
      {
        iss: ISSUER,
        login_hint: 'hint',
        target_link_uri: 'https://tool.example/lti/launch',
        client_id: CLIENT_ID,
        ...extra,
      },
      loginDeps,
    );
  }

  function nowSeconds(): number {
    return Math.floor(clock.now().getTime() / 1000);
  }

  async function token(
    nonce: string,
    overrides: JWTPayload = {},
    options: {
      issuer?: string;
      audience?: string | string[];
      iat?: number;
      exp?: number;
      signWith?: PlatformKey;
      kid?: string;
    } = {},
  ): Promise<string> {
    const iat = options.iat ?? nowSeconds();
    return sign(resourceLinkClaims({ nonce, ...overrides }), options.signWith ?? key, {
      issuer: options.issuer ?? ISSUER,
      audience: options.audience ?? CLIENT_ID,
      iat,
      exp: options.exp ?? iat + 300,
      ...(options.kid === undefined ? {} : { kid: options.kid }),
    });
  }

  async function launchWith(
    idToken: string,
    started: LoginResult,
    binding: string | undefined = started.state,
  ) {
    return verifyLaunch(
      { params: { id_token: idToken, state: started.state }, browserBinding: binding },
      launchDeps,
    );
  }

  describe('when everything is right', () => {
    it('then a resource link launch returns the normalized launch context', async () => {
      const started = await login();
      const launch = await launchWith(await token(started.nonce), started);
      expect(launch.messageType).to.equal('LtiResourceLinkRequest');
      expect(launch.issuer).to.equal(ISSUER);
      expect(launch.clientId).to.equal(CLIENT_ID);
      expect(launch.deploymentId).to.equal('deployment-1');
      expect(launch.sub).to.equal('user-1');
      expect(launch.givenName).to.equal('Ada');
      expect(launch.context).to.deep.equal({
        id: 'course-1',
        title: 'Grade 5 Math',
        label: 'M5',
        type: ['CourseSection'],
      });
      expect(launch.custom).to.deep.equal({ unit: '3' });
      if (launch.messageType === 'LtiResourceLinkRequest')
        expect(launch.resourceLink.id).to.equal('rl-1');
      expect(states.saved.size, 'state is single-use').to.equal(0);
      expect(nonces.claimed.get(`${ISSUER} ${started.nonce}`)?.getTime()).to.equal(
        (nowSeconds() + 300) * 1000,
      );
    });

    it('then a deep linking launch carries its settings', async () => {
      const started = await login();
      const idToken = await token(started.nonce, {
        [LTI_CLAIM.messageType]: 'LtiDeepLinkingRequest',
        [LTI_CLAIM.resourceLink]: undefined,
        [LTI_CLAIM.deepLinkingSettings]: {
          deep_link_return_url: 'https://platform.example/dl/return',
          accept_types: ['ltiResourceLink'],
          accept_presentation_document_targets: ['iframe', 'window'],
          accept_multiple: 'true',
          data: 'opaque-123',
        },
      });
      const launch = await launchWith(idToken, started);
      expect(launch.messageType).to.equal('LtiDeepLinkingRequest');
      if (launch.messageType !== 'LtiDeepLinkingRequest') return;
      expect(launch.deepLinking.returnUrl).to.equal('https://platform.example/dl/return');
      expect(launch.deepLinking.acceptMultiple).to.equal(true);
      expect(launch.deepLinking.data).to.equal('opaque-123');
    });

    it('then an aud array with our client id as azp is accepted', async () => {
      const started = await login();
      const idToken = await token(
        started.nonce,
        { azp: CLIENT_ID },
        { audience: [CLIENT_ID, 'other'] },
      );
      expect((await launchWith(idToken, started)).sub).to.equal('user-1');
    });
  });

  describe('when the request is incomplete or unbound', () => {
    it('then a missing state is rejected as missing_parameter', async () => {
      const started = await login();
      await expectLtiError(
        verifyLaunch(
          { params: { id_token: await token(started.nonce) }, browserBinding: started.state },
          launchDeps,
        ),
        'missing_parameter',
      );
    });

    it('then a missing id_token is rejected as missing_parameter', async () => {
      const started = await login();
      await expectLtiError(
        verifyLaunch(
          { params: { state: started.state }, browserBinding: started.state },
          launchDeps,
        ),
        'missing_parameter',
      );
    });

    it('then a browser binding that differs from the state is rejected and the state is not consumed', async () => {
      const started = await login();
      await expectLtiError(
        launchWith(await token(started.nonce), started, 'someone-elses-state'),
        'state_mismatch',
      );
      expect(states.saved.has(started.state)).to.equal(true);
    });

    it('then a missing browser binding is rejected as state_mismatch', async () => {
      const started = await login();
      const params = { id_token: await token(started.nonce), state: started.state };
      await expectLtiError(
        verifyLaunch({ params, browserBinding: undefined }, launchDeps),
        'state_mismatch',
      );
    });

    it('then an unknown state is rejected as state_not_found', async () => {
      const idToken = await token('whatever');
      await expectLtiError(
        verifyLaunch(
          { params: { id_token: idToken, state: 'never-issued' }, browserBinding: 'never-issued' },
          launchDeps,
        ),
        'state_not_found',
      );
    });

    it('then an OIDC error answer from the platform is rejected as invalid_parameter, without its free text', async () => {
      const error = await expectLtiError(
        verifyLaunch(
          {
            params: {
              error: 'login_required',
              error_description: 'Ada Lovelace (ada@example.org) is not signed in',
            },
            browserBinding: undefined,
          },
          launchDeps,
        ),
        'invalid_parameter',
      );
      expect(error.detail).to.equal('platform error login_required');
      expect(error.diagnostics.check).to.equal('readParameters');
    });

    it('then an expired login state is rejected as state_expired', async () => {
      const started = await login();
      clock.advance(601_000);
      await expectLtiError(launchWith(await token(started.nonce), started), 'state_expired');
    });
  });

  describe('when the token is forged or malformed', () => {
    it('then alg none is rejected as unsupported_alg', async () => {
      const started = await login();
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      const payload = {
        ...resourceLinkClaims({ nonce: started.nonce }),
        iss: ISSUER,
        aud: CLIENT_ID,
        iat: nowSeconds(),
        exp: nowSeconds() + 300,
      };
      const unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode(payload)}.`;
      await expectLtiError(launchWith(unsigned, started), 'unsupported_alg');
    });

    it('then HS256 keyed with the platform public key is rejected as unsupported_alg', async () => {
      const started = await login();
      const secret = new TextEncoder().encode(await exportSPKI(key.publicKey));
      const forged = await new SignJWT(resourceLinkClaims({ nonce: started.nonce }))
        .setProtectedHeader({ alg: 'HS256', kid: key.kid })
        .setIssuer(ISSUER)
        .setAudience(CLIENT_ID)
        .setIssuedAt(nowSeconds())
        .setExpirationTime(nowSeconds() + 300)
        .sign(secret);
      await expectLtiError(launchWith(forged, started), 'unsupported_alg');
    });

    it('then a token signed by another key under a known kid is rejected as signature_invalid', async () => {
      const started = await login();
      const attacker = await platformKey(key.kid);
      await expectLtiError(
        launchWith(await token(started.nonce, {}, { signWith: attacker }), started),
        'signature_invalid',
      );
    });

    it('then a JWT header without kid is rejected as missing_kid, even when the platform publishes one key', async () => {
      const started = await login();
      const noKid = await new SignJWT(resourceLinkClaims({ nonce: started.nonce }))
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
        .setIssuer(ISSUER)
        .setAudience(CLIENT_ID)
        .setIssuedAt(nowSeconds())
        .setExpirationTime(nowSeconds() + 300)
        .sign(key.privateKey);
      expect(published).to.have.length(1);
      const error = await expectLtiError(launchWith(noKid, started), 'missing_kid');
      expect(error.message).to.contain('kid');
      expect(states.saved.has(started.state), 'refused before the state is used').to.equal(true);
    });

    it('then garbage is rejected as invalid_token', async () => {
      const started = await login();
      await expectLtiError(launchWith('not.a.jwt', started), 'invalid_token');
    });
  });

  describe('when the platform keys do not know the kid', () => {
    it('then the key set is fetched again at once, not again within the cooldown, and the launch fails as unknown_kid', async () => {
      const first = await login();
      await launchWith(await token(first.nonce), first);
      expect(server.requests).to.have.length(1);

      clock.advance(60_000);
      const stranger = await platformKey('not-published');
      const second = await login();
      await expectLtiError(
        launchWith(await token(second.nonce, {}, { signWith: stranger }), second),
        'unknown_kid',
      );
      expect(server.requests, 'one refresh on a miss').to.have.length(2);

      const third = await login();
      await expectLtiError(
        launchWith(await token(third.nonce, {}, { signWith: stranger }), third),
        'unknown_kid',
      );
      expect(server.requests, 'no refresh inside the cooldown').to.have.length(2);
    });

    it('then a key rotated in seconds after the last fetch is found at once, without waiting for a cooldown', async () => {
      const first = await login();
      await launchWith(await token(first.nonce), first);
      const rotated = await platformKey('platform-key-2');
      published = [rotated];
      clock.advance(2_000);
      const second = await login();
      const launch = await launchWith(await token(second.nonce, {}, { signWith: rotated }), second);
      expect(launch.sub).to.equal('user-1');
      expect(server.requests, 'one refetch on the unknown kid').to.have.length(2);
    });

    it('then an unknown kid is refused with a message that says the LMS does not publish the key, naming the kid for the log', async () => {
      const first = await login();
      await launchWith(await token(first.nonce), first);
      const stranger = await platformKey('not-published');
      const second = await login();
      const error = await expectLtiError(
        launchWith(await token(second.nonce, {}, { signWith: stranger }), second),
        'unknown_kid',
      );
      expect(error.message).to.contain('signed with a key it does not publish');
      expect(error.diagnostics).to.include({ kid: 'not-published', check: 'verifySignature' });
    });

    it('then a key the platform rotated in is found by the refresh', async () => {
      const first = await login();
      await launchWith(await token(first.nonce), first);
      const rotated = await platformKey('platform-key-2');
      published = [key, rotated];
      clock.advance(60_000);
      const second = await login();
      const launch = await launchWith(await token(second.nonce, {}, { signWith: rotated }), second);
      expect(launch.sub).to.equal('user-1');
      expect(server.requests).to.have.length(2);
    });
  });

  describe('when the claims are wrong', () => {
    it('then an expired token is rejected as token_expired', async () => {
      const started = await login();
      const idToken = await token(
        started.nonce,
        {},
        { iat: nowSeconds() - 600, exp: nowSeconds() - 60 },
      );
      await expectLtiError(launchWith(idToken, started), 'token_expired');
    });

    it('then a token whose nbf is in the future is rejected as token_not_yet_valid', async () => {
      const started = await login();
      const idToken = await token(started.nonce, { nbf: nowSeconds() + 120 });
      await expectLtiError(launchWith(idToken, started), 'token_not_yet_valid');
    });

    it('then a resource link launch without a context claim is refused as no_course_context, saying to launch from a course', async () => {
      const started = await login();
      const idToken = await token(started.nonce, { [LTI_CLAIM.context]: undefined });
      const error = await expectLtiError(launchWith(idToken, started), 'no_course_context');
      expect(error.message).to.contain('must be launched from a course');
      expect(error.status).to.equal(400);
      expect(error.diagnostics).to.include({
        claim: LTI_CLAIM.context,
        deploymentId: 'deployment-1',
      });
    });

    it('then a deep linking request without target_link_uri is accepted (the certification suite sends none)', async () => {
      const started = await login();
      const idToken = await token(started.nonce, {
        [LTI_CLAIM.messageType]: 'LtiDeepLinkingRequest',
        [LTI_CLAIM.resourceLink]: undefined,
        [LTI_CLAIM.targetLinkUri]: undefined,
        [LTI_CLAIM.deepLinkingSettings]: {
          deep_link_return_url: 'https://platform.example/dl/return',
          accept_types: ['ltiResourceLink'],
          accept_presentation_document_targets: ['iframe'],
        },
      });
      const launch = await launchWith(idToken, started);
      expect(launch.messageType).to.equal('LtiDeepLinkingRequest');
      expect(launch.targetLinkUri).to.equal(undefined);
    });

    it('then a resource link launch without target_link_uri is still rejected as missing_claim', async () => {
      const started = await login();
      const idToken = await token(started.nonce, { [LTI_CLAIM.targetLinkUri]: undefined });
      const error = await expectLtiError(launchWith(idToken, started), 'missing_claim');
      expect(error.diagnostics.claim).to.equal(LTI_CLAIM.targetLinkUri);
    });

    it('then an iat in the future is rejected as iat_in_future', async () => {
      const started = await login();
      const idToken = await token(
        started.nonce,
        {},
        { iat: nowSeconds() + 120, exp: nowSeconds() + 600 },
      );
      await expectLtiError(launchWith(idToken, started), 'iat_in_future');
    });

    it('then another issuer is rejected as issuer_mismatch', async () => {
      const started = await login();
      await expectLtiError(
        launchWith(await token(started.nonce, {}, { issuer: 'https://evil.example' }), started),
        'issuer_mismatch',
      );
    });

    it('then a token for another client is rejected as audience_mismatch', async () => {
      const started = await login();
      await expectLtiError(
        launchWith(await token(started.nonce, {}, { audience: 'client-2' }), started),
        'audience_mismatch',
      );
    });

    it('then an aud array without azp is rejected as azp_mismatch', async () => {
      const started = await login();
      await expectLtiError(
        launchWith(await token(started.nonce, {}, { audience: [CLIENT_ID, 'other'] }), started),
        'azp_mismatch',
      );
    });

    it('then an azp naming another client is rejected as azp_mismatch', async () => {
      const started = await login();
      await expectLtiError(
        launchWith(
          await token(started.nonce, { azp: 'other' }, { audience: [CLIENT_ID, 'other'] }),
          started,
        ),
        'azp_mismatch',
      );
    });

    it('then a nonce other than the one stored with the state is rejected as nonce_mismatch', async () => {
      const started = await login();
      await expectLtiError(launchWith(await token('forged-nonce'), started), 'nonce_mismatch');
    });

    it('then a replayed nonce is rejected as nonce_replay even if the state were readable twice', async () => {
      const started = await login();
      const saved = states.saved.get(started.state)!;
      const idToken = await token(started.nonce);
      await launchWith(idToken, started);
      await states.save(saved);
      await expectLtiError(launchWith(idToken, started), 'nonce_replay');
    });

    it('then a refusal names the failed check and the ids known by then, for the log', async () => {
      const started = await login();
      const idToken = await token(started.nonce, { [LTI_CLAIM.deploymentId]: 'deployment-9' });
      const error = await expectLtiError(launchWith(idToken, started), 'unknown_deployment');
      expect(error.diagnostics).to.deep.equal({
        check: 'checkDeployment',
        kid: key.kid,
        issuer: ISSUER,
        clientId: CLIENT_ID,
        deploymentId: 'deployment-9',
        messageType: 'LtiResourceLinkRequest',
      });
    });

    it('then an unknown deployment is rejected as unknown_deployment', async () => {
      const started = await login();
      await expectLtiError(
        launchWith(
          await token(started.nonce, { [LTI_CLAIM.deploymentId]: 'deployment-9' }),
          started,
        ),
        'unknown_deployment',
      );
    });

    it('then a deployment other than the one named at login is rejected as deployment_mismatch', async () => {
      const started = await login({ lti_deployment_id: 'deployment-2' });
      await expectLtiError(launchWith(await token(started.nonce), started), 'deployment_mismatch');
    });

    it('then another LTI version is rejected as wrong_version', async () => {
      const started = await login();
      await expectLtiError(
        launchWith(await token(started.nonce, { [LTI_CLAIM.version]: '1.1.0' }), started),
        'wrong_version',
      );
    });

    it('then an unhandled message type is rejected as wrong_message_type', async () => {
      const started = await login();
      await expectLtiError(
        launchWith(
          await token(started.nonce, { [LTI_CLAIM.messageType]: 'LtiSubmissionReviewRequest' }),
          started,
        ),
        'wrong_message_type',
      );
    });

    it('then a deep linking launch is rejected where only resource links are accepted', async () => {
      launchDeps = { ...launchDeps, acceptedMessageTypes: ['LtiResourceLinkRequest'] };
      const started = await login();
      await expectLtiError(
        launchWith(
          await token(started.nonce, { [LTI_CLAIM.messageType]: 'LtiDeepLinkingRequest' }),
          started,
        ),
        'wrong_message_type',
      );
    });

    it('then a missing resource link claim is rejected as missing_claim', async () => {
      const started = await login();
      await expectLtiError(
        launchWith(await token(started.nonce, { [LTI_CLAIM.resourceLink]: undefined }), started),
        'missing_claim',
      );
    });

    it('then a missing sub is rejected as missing_claim', async () => {
      const started = await login();
      await expectLtiError(
        launchWith(await token(started.nonce, { sub: undefined }), started),
        'missing_claim',
      );
    });

    it('then a deep linking launch without settings is rejected as missing_claim', async () => {
      const started = await login();
      await expectLtiError(
        launchWith(
          await token(started.nonce, { [LTI_CLAIM.messageType]: 'LtiDeepLinkingRequest' }),
          started,
        ),
        'missing_claim',
      );
    });

    it('then a malformed roles claim is rejected as invalid_claim', async () => {
      const started = await login();
      await expectLtiError(
        launchWith(await token(started.nonce, { [LTI_CLAIM.roles]: 'Instructor' }), started),
        'invalid_claim',
      );
    });

    it('then a target_link_uri outside the tool is rejected as foreign_target_link_uri', async () => {
      const started = await login();
      await expectLtiError(
        launchWith(
          await token(started.nonce, {
            [LTI_CLAIM.targetLinkUri]: 'https://evil.example/lti/launch',
          }),
          started,
        ),
        'foreign_target_link_uri',
      );
    });
  });
});

describe('OIDC third-party initiated login', () => {
  const clock = manualClock();
  const registration: PlatformRegistration = {
    issuer: ISSUER,
    clientId: CLIENT_ID,
    authorizationEndpoint: 'https://platform.example/auth?tenant=a',
    jwksUrl: 'https://platform.example/jwks',
    tokenEndpoint: 'https://platform.example/token',
  };

  function deps(
    registrations: PlatformRegistration[] = [registration],
    states = new MemoryLoginStates(),
  ): LoginDependencies {
    let counter = 0;
    return {
      platforms: new MemoryPlatforms(registrations),
      states,
      endpoints,
      now: clock.now,
      randomToken: () => `token-${++counter}`,
    };
  }

  it('when the login is valid, then it stores state and nonce and redirects to the auth endpoint', async () => {
    const states = new MemoryLoginStates();
    const result = await handleLogin(
      {
        iss: ISSUER,
        login_hint: 'hint-1',
        target_link_uri: 'https://tool.example/lti/launch',
        lti_message_hint: 'msg-1',
        client_id: CLIENT_ID,
        lti_deployment_id: 'deployment-1',
        lti_storage_target: '_parent',
      },
      deps([registration], states),
    );
    const url = result.authRequestUrl;
    expect(url.origin + url.pathname).to.equal('https://platform.example/auth');
    expect(Object.fromEntries(url.searchParams)).to.deep.equal({
      tenant: 'a',
      scope: 'openid',
      response_type: 'id_token',
      response_mode: 'form_post',
      prompt: 'none',
      client_id: CLIENT_ID,
      redirect_uri: 'https://tool.example/lti/launch',
      login_hint: 'hint-1',
      lti_message_hint: 'msg-1',
      state: 'token-1',
      nonce: 'token-2',
    });
    expect(states.saved.get('token-1')).to.deep.equal({
      state: 'token-1',
      nonce: 'token-2',
      issuer: ISSUER,
      clientId: CLIENT_ID,
      deploymentId: 'deployment-1',
      targetLinkUri: 'https://tool.example/lti/launch',
      expiresAt: new Date(clock.now().getTime() + 600_000),
      storageTarget: '_parent',
    });
    expect(result.storageTarget).to.equal('_parent');
  });

  it('when the issuer is unknown, then it is rejected as unknown_issuer', async () => {
    await expectLtiError(
      handleLogin(
        {
          iss: 'https://unknown.example',
          login_hint: 'h',
          target_link_uri: 'https://tool.example/lti/launch',
        },
        deps(),
      ),
      'unknown_issuer',
    );
  });

  it('when the client id is unknown for a known issuer, then it is rejected as unknown_client', async () => {
    await expectLtiError(
      handleLogin(
        {
          iss: ISSUER,
          client_id: 'nope',
          login_hint: 'h',
          target_link_uri: 'https://tool.example/lti/launch',
        },
        deps(),
      ),
      'unknown_client',
    );
  });

  it('when the issuer has several registrations and no client id is sent, then client_id is required', async () => {
    await expectLtiError(
      handleLogin(
        { iss: ISSUER, login_hint: 'h', target_link_uri: 'https://tool.example/lti/launch' },
        deps([registration, { ...registration, clientId: 'client-2' }]),
      ),
      'missing_parameter',
    );
  });

  for (const target of [
    'https://evil.example/lti/launch',
    'http://tool.example/lti/launch',
    'https://tool.example/admin',
    'https://tool.example/lti/launchpad',
    'not a url',
  ]) {
    it(`when target_link_uri is ${target}, then it is rejected as foreign_target_link_uri`, async () => {
      const states = new MemoryLoginStates();
      await expectLtiError(
        handleLogin(
          { iss: ISSUER, login_hint: 'h', target_link_uri: target },
          deps([registration], states),
        ),
        'foreign_target_link_uri',
      );
      expect(states.saved.size).to.equal(0);
    });
  }

  it('when login_hint is missing, then it is rejected as missing_parameter', async () => {
    await expectLtiError(
      handleLogin({ iss: ISSUER, target_link_uri: 'https://tool.example/lti/launch' }, deps()),
      'missing_parameter',
    );
  });
});
