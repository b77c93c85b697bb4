import { expect } from 'chai';
import { LtiError, type LtiErrorCode } from '../../../src/lti/errors.ts';
import { acceptLaunch, type LaunchDependencies, type NonceClaim } from '../../../src/lti/launch.ts';
import {
  handleLogin,
  randomToken,
  type LoginDependencies,
  type LoginResult,
  type PlatformLookup,
  type PlatformRegistration,
} from '../../../src/lti/login.ts';
import { createPlatformKeys } from '../../../src/lti/platform-keys.ts';
import {
  json,
  manualClock,
  MemoryDeployments,
  MemoryLoginStates,
  MemoryNonces,
  platformKey,
  resourceLinkClaims,
  sign,
  startServer,
  testHttp,
  type LocalServer,
  type PlatformKey,
} from './fixtures.ts';

const ISSUER = 'https://platform.example';
const CLIENT_ID = 'client-1';
const endpoints = {
  baseUrl: 'https://tool.example',
  redirectUri: 'https://tool.example/lti/launch',
  launchPaths: ['/lti/launch'],
};

async function expectLtiError(promise: Promise<unknown>, code: LtiErrorCode): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(LtiError);
    expect((error as LtiError).code, (error as LtiError).detail).to.equal(code);
    return;
  }
  throw new Error(`expected LtiError ${code}`);
}

/** A lookup that keeps a (possibly stale) answer, like the storage one, and counts refreshes. */
class KeptPlatforms implements PlatformLookup {
  kept: PlatformRegistration[];
  current: PlatformRegistration[];
  refreshes = 0;
  constructor(kept: PlatformRegistration[], current: PlatformRegistration[]) {
    this.kept = kept;
    this.current = current;
  }
  findByIssuer(issuer: string): Promise<readonly PlatformRegistration[]> {
    return Promise.resolve(this.kept.filter((r) => r.issuer === issuer));
  }
  refresh(issuer: string): Promise<readonly PlatformRegistration[]> {
    this.refreshes += 1;
    this.kept = this.current;
    return Promise.resolve(this.current.filter((r) => r.issuer === issuer));
  }
}

describe('LTI launch accepted with the nonce claimed by the launch record', () => {
  let server: LocalServer;
  let key: PlatformKey;
  let clock: ReturnType<typeof manualClock>;
  let states: MemoryLoginStates;
  let nonces: MemoryNonces;
  let registration: PlatformRegistration;
  let platforms: KeptPlatforms;
  let loginDeps: LoginDependencies;
  let launchDeps: Omit<LaunchDependencies, 'nonces'>;

  before(async () => {
    key = await platformKey('platform-key-1');
    server = await startServer((_req, res) => {
      json(res, 200, { keys: [key.publicJwk] });
    });
  });
  after(async () => {
    await server.close();
  });

  beforeEach(() => {
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
    platforms = new KeptPlatforms([registration], [registration]);
    loginDeps = { platforms, states, endpoints, now: clock.now, randomToken };
    launchDeps = {
      platforms,
      states,
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

  async function login(): Promise<LoginResult> {
    return handleLogin(
      {
        iss: ISSUER,
        login_hint: 'hint',
        target_link_uri: 'https://tool.example/lti/launch',
        client_id: CLIENT_ID,
      },
      loginDeps,
    );
  }

  async function tokenFor(nonce: string, overrides = {}): Promise<string> {
    const iat = Math.floor(clock.now().getTime() / 1000);
    return sign(resourceLinkClaims({ nonce, ...overrides }), key, {
      issuer: ISSUER,
      audience: CLIENT_ID,
      iat,
      exp: iat + 300,
    });
  }

  /** A record step that claims the nonce in the in-memory store, as the one statement does. */
  function recorder() {
    const calls: NonceClaim[] = [];
    return {
      calls,
      record: async (_launch: unknown, nonce: NonceClaim) => {
        calls.push(nonce);
        return (await nonces.claim(nonce.issuer, nonce.nonce, nonce.expiresAt))
          ? 'recorded'
          : undefined;
      },
    };
  }

  it('when every check passes, then the record step gets the nonce to claim, with the token expiry', async () => {
    const started = await login();
    const { calls, record } = recorder();
    const { launch, recorded } = await acceptLaunch(
      {
        params: { id_token: await tokenFor(started.nonce), state: started.state },
        browserBinding: started.state,
      },
      launchDeps,
      record,
    );
    expect(recorded).to.equal('recorded');
    expect(launch.sub).to.equal('user-1');
    expect(calls).to.deep.equal([
      {
        issuer: ISSUER,
        nonce: started.nonce,
        expiresAt: new Date((Math.floor(clock.now().getTime() / 1000) + 300) * 1000),
      },
    ]);
  });

  it('when the record step finds the nonce already claimed, then the launch is refused as nonce_replay', async () => {
    const started = await login();
    const saved = states.saved.get(started.state)!;
    const idToken = await tokenFor(started.nonce);
    const { record } = recorder();
    const input = {
      params: { id_token: idToken, state: started.state },
      browserBinding: started.state,
    };
    await acceptLaunch(input, launchDeps, record);
    // Even if the login state could be taken twice, the nonce cannot be used twice.
    await states.save(saved);
    await expectLtiError(acceptLaunch(input, launchDeps, record), 'nonce_replay');
  });

  it('when the nonce differs from the login’s, then it is refused as nonce_mismatch and nothing is recorded', async () => {
    const started = await login();
    const { calls, record } = recorder();
    await expectLtiError(
      acceptLaunch(
        {
          params: { id_token: await tokenFor('forged'), state: started.state },
          browserBinding: started.state,
        },
        launchDeps,
        record,
      ),
      'nonce_mismatch',
    );
    expect(calls).to.deep.equal([]);
  });

  it('when the deployment is not allowed or the state is not bound to this browser, then nothing is recorded', async () => {
    const { calls, record } = recorder();
    const started = await login();
    await expectLtiError(
      acceptLaunch(
        {
          params: {
            id_token: await tokenFor(started.nonce, {
              'https://purl.imsglobal.org/spec/lti/claim/deployment_id': 'not-listed',
            }),
            state: started.state,
          },
          browserBinding: started.state,
        },
        launchDeps,
        record,
      ),
      'unknown_deployment',
    );
    const other = await login();
    await expectLtiError(
      acceptLaunch(
        {
          params: { id_token: await tokenFor(other.nonce), state: other.state },
          browserBinding: 'someone-else',
        },
        launchDeps,
        record,
      ),
      'state_mismatch',
    );
    expect(calls).to.deep.equal([]);
  });

  it('when a kept platform answer lacks the client a login names, then the lookup is asked afresh once', async () => {
    const added = { ...registration, clientId: 'client-2' };
    platforms = new KeptPlatforms([registration], [registration, added]);
    loginDeps = { ...loginDeps, platforms };
    const result = await handleLogin(
      {
        iss: ISSUER,
        login_hint: 'hint',
        target_link_uri: 'https://tool.example/lti/launch',
        client_id: 'client-2',
      },
      loginDeps,
    );
    expect(result.registration.clientId).to.equal('client-2');
    expect(platforms.refreshes).to.equal(1);
    await expectLtiError(
      handleLogin(
        {
          iss: ISSUER,
          login_hint: 'hint',
          target_link_uri: 'https://tool.example/lti/launch',
          client_id: 'client-3',
        },
        loginDeps,
      ),
      'unknown_client',
    );
    expect(platforms.refreshes).to.equal(2);
  });
});
