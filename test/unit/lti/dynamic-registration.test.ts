import { expect } from 'chai';
import { LtiError } from '../../../src/lti/errors.ts';
import {
  buildToolRegistration,
  fetchPlatformConfiguration,
  isNonPublicAddress,
  platformConfigurationSchema,
  registerTool,
  validateRegistrationUrl,
} from '../../../src/lti/dynamic-registration.ts';
import type { RegistrationFetchOptions, Resolver } from '../../../src/lti/dynamic-registration.ts';
import { canvasDeveloperKeyConfig } from '../../../src/lti/canvas-config.ts';
import { json, startServer } from './fixtures.ts';
import type { LocalServer } from './fixtures.ts';

function resolverFor(table: Record<string, string[]>): Resolver {
  return (hostname) => Promise.resolve(table[hostname] ?? []);
}

async function expectRejected(
  promise: Promise<unknown>,
  code = 'registration_url_rejected',
): Promise<LtiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(LtiError);
    expect((error as LtiError).code, (error as LtiError).detail).to.equal(code);
    return error as LtiError;
  }
  throw new Error(`expected ${code}`);
}

const paths = {
  login: '/lti/login',
  launch: '/lti/launch',
  deepLinking: '/lti/deep-linking',
  jwks: '/.well-known/jwks.json',
};

describe('dynamic registration', () => {
  describe('openid_configuration URL checks', () => {
    const resolve = resolverFor({
      'lms.example': ['93.184.216.34'],
      'internal.example': ['10.0.0.5'],
      'mixed.example': ['93.184.216.34', '192.168.1.10'],
      'metadata.example': ['169.254.169.254'],
      'v6private.example': ['fd00::1'],
      localhost: ['127.0.0.1', '::1'],
    });

    it('when the URL is public https, then it is accepted', async () => {
      const url = await validateRegistrationUrl(
        'https://lms.example/api/lti/security/openid-configuration',
        { resolve },
      );
      expect(url.host).to.equal('lms.example');
    });

    for (const [name, raw, allowLoopbackHttp] of [
      ['plain http to a public host', 'http://lms.example/config', false],
      ['plain http to a public host even with loopback allowed', 'http://lms.example/config', true],
      ['plain http to loopback without the option', 'http://127.0.0.1:8080/config', false],
      ['https to a private address', 'https://internal.example/config', false],
      ['https to a host with any private address', 'https://mixed.example/config', false],
      ['the cloud metadata address', 'https://metadata.example/latest', false],
      ['a literal private IP', 'https://192.168.0.1/config', false],
      ['a unique-local IPv6 address', 'https://v6private.example/config', false],
      ['an IPv4-mapped IPv6 loopback', 'https://[::ffff:127.0.0.1]/config', false],
      ['https to loopback without the option', 'https://localhost/config', false],
      ['another scheme', 'file:///etc/passwd', false],
      ['credentials in the URL', 'https://user:pw@lms.example/config', false],
      ['a host that does not resolve', 'https://nowhere.example/config', false],
      ['not a URL', 'lms.example/config', false],
    ] as const) {
      it(`when it is ${name}, then it is rejected`, async () => {
        await expectRejected(validateRegistrationUrl(raw, { resolve, allowLoopbackHttp }));
      });
    }

    it('when plain http goes to loopback and allowLoopbackHttp is set, then it is accepted', async () => {
      const url = await validateRegistrationUrl('http://localhost:3000/config', {
        resolve,
        allowLoopbackHttp: true,
      });
      expect(url.port).to.equal('3000');
    });

    it('when addresses are classified, then public ones pass and reserved ones do not', () => {
      expect(isNonPublicAddress('8.8.8.8')).to.equal(false);
      expect(isNonPublicAddress('2606:4700:4700::1111')).to.equal(false);
      for (const address of [
        '127.0.0.1',
        '10.1.2.3',
        '172.20.0.1',
        '100.64.0.1',
        '0.0.0.0',
        '::1',
        'fe80::1',
        '::',
      ]) {
        expect(isNonPublicAddress(address), address).to.equal(true);
      }
    });
  });

  describe('against a platform on loopback', () => {
    let server: LocalServer;
    let configuration: Record<string, unknown>;
    let options: RegistrationFetchOptions;

    before(async () => {
      server = await startServer();
    });
    after(async () => {
      await server.close();
    });
    beforeEach(() => {
      server.requests.length = 0;
      configuration = {
        issuer: server.url,
        authorization_endpoint: `${server.url}/auth`,
        token_endpoint: `${server.url}/token`,
        jwks_uri: `${server.url}/jwks`,
        registration_endpoint: `${server.url}/register`,
        scopes_supported: ['openid'],
        'https://purl.imsglobal.org/spec/lti-platform-configuration': {
          product_family_code: 'moodle',
          messages_supported: [
            { type: 'LtiResourceLinkRequest' },
            { type: 'LtiDeepLinkingRequest' },
          ],
        },
      };
      server.handle((req, res) => {
        if (req.url === '/config') {
          json(res, 200, configuration);
          return;
        }
        if (req.url === '/register') {
          json(res, 200, {
            client_id: 'new-client',
            'https://purl.imsglobal.org/spec/lti-tool-configuration': { deployment_id: '1' },
          });
          return;
        }
        res.writeHead(404).end();
      });
      options = {
        fetch,
        resolve: () => Promise.resolve(['127.0.0.1']),
        userAgent: 'MasteryPathways-Test/1.0',
        allowLoopbackHttp: true,
      };
    });

    it('when the platform is honest, then configuration is read and the registration is posted with the token', async () => {
      const platform = await fetchPlatformConfiguration(`${server.url}/config`, options);
      const registration = buildToolRegistration(
        {
          baseUrl: 'https://tool.example',
          clientName: 'Mastery Pathways',
          description: 'Standards-based mastery',
          paths,
        },
        platform,
      );
      const result = await registerTool(platform, registration, 'reg-token-1', options);
      expect(result).to.deep.equal({ clientId: 'new-client', deploymentId: '1' });
      const posted = server.requests.find((request) => request.url === '/register')!;
      expect(posted.headers['authorization']).to.equal('Bearer reg-token-1');
      expect(posted.headers['user-agent']).to.equal('MasteryPathways-Test/1.0');
      const body = JSON.parse(posted.body) as Record<string, unknown>;
      expect(body).to.include({
        application_type: 'web',
        initiate_login_uri: 'https://tool.example/lti/login',
        jwks_uri: 'https://tool.example/.well-known/jwks.json',
        token_endpoint_auth_method: 'private_key_jwt',
      });
      expect(body['redirect_uris']).to.deep.equal([
        'https://tool.example/lti/launch',
        'https://tool.example/lti/deep-linking',
      ]);
      expect(String(body['scope'])).to.include(
        'https://purl.imsglobal.org/spec/lti-ags/scope/score',
      );
      const toolConfiguration = body[
        'https://purl.imsglobal.org/spec/lti-tool-configuration'
      ] as Record<string, unknown>;
      expect(toolConfiguration['domain']).to.equal('tool.example');
      expect(
        (toolConfiguration['messages'] as { type: string }[]).map((message) => message.type),
      ).to.deep.equal(['LtiDeepLinkingRequest', 'LtiResourceLinkRequest']);
    });

    it('when the issuer is on another origin than the configuration URL, then it is rejected as issuer_mismatch', async () => {
      configuration['issuer'] = 'https://canvas.instructure.com';
      await expectRejected(
        fetchPlatformConfiguration(`${server.url}/config`, options),
        'issuer_mismatch',
      );
    });

    it('when the configuration is not a platform configuration, then it fails with registration_failed', async () => {
      delete configuration['registration_endpoint'];
      await expectRejected(
        fetchPlatformConfiguration(`${server.url}/config`, options),
        'registration_failed',
      );
    });

    it('when the configuration is too large, then it fails with registration_failed', async () => {
      configuration['padding'] = 'x'.repeat(2048);
      await expectRejected(
        fetchPlatformConfiguration(`${server.url}/config`, { ...options, maxBytes: 1024 }),
        'registration_failed',
      );
    });

    it('when loopback http is not explicitly allowed, then nothing is fetched', async () => {
      await expectRejected(
        fetchPlatformConfiguration(`${server.url}/config`, {
          ...options,
          allowLoopbackHttp: false,
        }),
      );
      expect(server.requests).to.have.length(0);
    });

    /** Our registration for the platform as configured in this test, with Deep Linking on `launch`. */
    async function registrationFor(familyCode: string) {
      (
        configuration['https://purl.imsglobal.org/spec/lti-platform-configuration'] as Record<
          string,
          unknown
        >
      )['product_family_code'] = familyCode;
      const platform = await fetchPlatformConfiguration(`${server.url}/config`, options);
      return buildToolRegistration(
        {
          baseUrl: 'https://tool.example',
          clientName: 'MP',
          description: 'd',
          paths: { ...paths, deepLinking: paths.launch },
        },
        platform,
      );
    }

    function deepLinkingPlacements(registration: Record<string, unknown>): string[] {
      const messages = (
        registration['https://purl.imsglobal.org/spec/lti-tool-configuration'] as {
          messages: { type: string; placements: string[] }[];
        }
      ).messages;
      return messages.find((message) => message.type === 'LtiDeepLinkingRequest')!.placements;
    }

    it('when Deep Linking returns to the launch URL, then redirect_uris lists it once', async () => {
      const registration = await registrationFor('moodle');
      expect(registration['redirect_uris']).to.deep.equal(['https://tool.example/lti/launch']);
    });

    it("when the platform is Canvas, then Deep Linking asks for Canvas's placements only (no Moodle ContentArea)", async () => {
      expect(deepLinkingPlacements(await registrationFor('canvas'))).to.deep.equal([
        'assignment_selection',
        'link_selection',
      ]);
    });

    it('when the platform is Moodle, then Deep Linking keeps the ContentArea placement', async () => {
      expect(deepLinkingPlacements(await registrationFor('moodle'))).to.include('ContentArea');
    });

    it('when the platform supports only resource links, then no deep linking message is registered', async () => {
      configuration['https://purl.imsglobal.org/spec/lti-platform-configuration'] = {
        product_family_code: 'x',
        messages_supported: [{ type: 'LtiResourceLinkRequest' }],
      };
      const platform = await fetchPlatformConfiguration(`${server.url}/config`, options);
      const registration = buildToolRegistration(
        { baseUrl: 'https://tool.example', clientName: 'MP', description: 'd', paths },
        platform,
      );
      const messages = (
        registration['https://purl.imsglobal.org/spec/lti-tool-configuration'] as {
          messages: { type: string }[];
        }
      ).messages;
      expect(messages.map((message) => message.type)).to.deep.equal(['LtiResourceLinkRequest']);
    });
  });
});

describe('the platform configuration a registration reads', () => {
  const configuration = (authorizationEndpoint: string) => ({
    issuer: 'https://lms.example',
    authorization_endpoint: authorizationEndpoint,
    token_endpoint: 'https://lms.example/token',
    jwks_uri: 'https://lms.example/jwks',
    registration_endpoint: 'https://lms.example/register',
    'https://purl.imsglobal.org/spec/lti-platform-configuration': { product_family_code: 'moodle' },
  });

  it('when an address is not a web address (javascript:, data:), then the configuration is refused', () => {
    expect(
      platformConfigurationSchema.safeParse(configuration('https://lms.example/auth')).success,
    ).to.equal(true);
    for (const bad of ['javascript:alert(1)', 'data:text/html,hi', 'ftp://lms.example/auth']) {
      expect(platformConfigurationSchema.safeParse(configuration(bad)).success, bad).to.equal(
        false,
      );
    }
  });
});

describe('Canvas developer key configuration', () => {
  it('when generated for a base URL, then URLs, scopes and placements match what Canvas expects', () => {
    const config = canvasDeveloperKeyConfig({
      baseUrl: 'https://mastery.example.org',
      title: 'Mastery Pathways',
      description: 'Standards-based mastery',
      paths,
    });
    expect(config).to.include({
      oidc_initiation_url: 'https://mastery.example.org/lti/login',
      target_link_uri: 'https://mastery.example.org/lti/launch',
      public_jwk_url: 'https://mastery.example.org/.well-known/jwks.json',
    });
    expect(config['scopes']).to.deep.equal([
      'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
      'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
      'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
      'https://purl.imsglobal.org/spec/lti-ags/scope/score',
      'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
    ]);
    const [extension] = config['extensions'] as {
      platform: string;
      domain: string;
      privacy_level: string;
      settings: { placements: { placement: string; message_type: string }[] };
    }[];
    expect(extension).to.include({
      platform: 'canvas.instructure.com',
      domain: 'mastery.example.org',
      privacy_level: 'public',
    });
    expect(extension!.settings.placements.map((p) => [p.placement, p.message_type])).to.deep.equal([
      ['course_navigation', 'LtiResourceLinkRequest'],
      ['assignment_selection', 'LtiDeepLinkingRequest'],
      ['link_selection', 'LtiDeepLinkingRequest'],
    ]);
    expect(config['custom_fields']).to.have.property('canvas_course_id');
    // Canvas expands $ResourceLink.id.history only for asset-processor tools: not asked for.
    expect(config['custom_fields']).not.to.have.property('resource_link_history');
  });
});
