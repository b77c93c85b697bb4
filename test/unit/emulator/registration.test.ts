import { expect } from 'chai';
import request from 'supertest';
import { createEmulator } from '../../../src/emulator/emulator.ts';
import type { Flavour } from '../../../src/emulator/types.ts';
import { pathOf, startFakeTool, TOOL_ORIGIN, type FakeTool } from './fake-tool.ts';

const TOOL_CONFIGURATION = 'https://purl.imsglobal.org/spec/lti-tool-configuration';

describe('emulator: Dynamic Registration', () => {
  let fakeTool: FakeTool;
  before(async () => {
    fakeTool = await startFakeTool();
  });
  after(async () => {
    await fakeTool.close();
  });

  function clientRegistration(jwksUrl: string) {
    return {
      application_type: 'web',
      response_types: ['id_token'],
      grant_types: ['implicit', 'client_credentials'],
      initiate_login_uri: `${TOOL_ORIGIN}/lti/login`,
      redirect_uris: [`${TOOL_ORIGIN}/lti/launch`],
      client_name: 'Mastery Pathways',
      jwks_uri: jwksUrl,
      token_endpoint_auth_method: 'private_key_jwt',
      scope:
        'https://purl.imsglobal.org/spec/lti-ags/scope/score https://example.com/unknown-scope',
      [TOOL_CONFIGURATION]: {
        domain: 'tool.example',
        target_link_uri: `${TOOL_ORIGIN}/lti/launch`,
        custom_parameters: { mode: 'mastery' },
        claims: ['iss', 'sub', 'name'],
        messages: [
          { type: 'LtiDeepLinkingRequest', target_link_uri: `${TOOL_ORIGIN}/lti/deep-link` },
        ],
      },
    };
  }

  async function roundTrip(flavour: Flavour) {
    const emulator = await createEmulator({ flavour, baseUrl: `https://${flavour}.lms.example` });
    const start = emulator.startDynamicRegistration(`${TOOL_ORIGIN}/lti/register`);
    const opened = new URL(start.url);
    expect(opened.searchParams.get('openid_configuration')).to.equal(
      emulator.urls.openidConfiguration,
    );
    expect(opened.searchParams.get('registration_token')).to.equal(start.registrationToken);

    const config = await request(emulator.app)
      .get(pathOf(start.openidConfigurationUrl))
      .auth(start.registrationToken, { type: 'bearer' })
      .expect(200);
    const configuration = config.body as Record<string, unknown>;
    expect(configuration).to.include({
      issuer: emulator.issuer,
      registration_endpoint: emulator.urls.registration,
    });
    expect(
      configuration['https://purl.imsglobal.org/spec/lti-platform-configuration'],
    ).to.have.property('product_family_code', flavour);

    const registered = await request(emulator.app)
      .post(pathOf(emulator.urls.registration))
      .auth(start.registrationToken, { type: 'bearer' })
      .send(clientRegistration(fakeTool.jwksUrl))
      .expect(200);
    return { emulator, start, registered: registered.body as Record<string, unknown> };
  }

  it('when Canvas registers a tool, then client_id comes back without deployment_id and the tool is usable', async () => {
    const { emulator, registered } = await roundTrip('canvas');
    const clientId = registered['client_id'] as string;
    expect(clientId).to.be.a('string');
    expect(registered[TOOL_CONFIGURATION]).to.not.have.property('deployment_id');
    expect(registered['scope']).to.equal('https://purl.imsglobal.org/spec/lti-ags/scope/score');
    const tool = emulator.state.tool(clientId);
    expect(tool).to.include({
      registeredVia: 'dynamic',
      deepLinkingUrl: `${TOOL_ORIGIN}/lti/deep-link`,
    });
    const seed = emulator.state.seedDemoCourse();
    const initiation = emulator.beginLaunch({
      clientId,
      courseId: seed.course.courseId,
      userId: seed.teacher.userId,
      placement: 'course_navigation',
    });
    expect(initiation.params['lti_deployment_id']).to.equal(
      emulator.state.deploymentsOf(clientId)[0]?.deploymentId,
    );
  });

  it("when Canvas serves its OpenID configuration, then authorization_server is the token endpoint's bare host, as Canvas's", async () => {
    const { emulator } = await roundTrip('canvas');
    const configuration = emulator.openidConfiguration();
    expect(configuration['authorization_server']).to.equal(new URL(emulator.urls.token).host);
    expect(String(configuration['authorization_server'])).not.to.match(/^https?:/);
  });

  it('when Moodle serves its OpenID configuration, then it names no authorization_server', async () => {
    const { emulator } = await roundTrip('moodle');
    expect(emulator.openidConfiguration()).not.to.have.property('authorization_server');
  });

  it('when Moodle registers a tool, then the response carries the deployment_id', async () => {
    const { emulator, registered } = await roundTrip('moodle');
    const deploymentId = (registered[TOOL_CONFIGURATION] as { deployment_id: string })
      .deployment_id;
    expect(deploymentId).to.equal(
      emulator.state.deploymentsOf(registered['client_id'] as string)[0]?.deploymentId,
    );
  });

  it('when the registration token is reused, then 401', async () => {
    const { emulator, start } = await roundTrip('canvas');
    await request(emulator.app)
      .post(pathOf(emulator.urls.registration))
      .auth(start.registrationToken, { type: 'bearer' })
      .send(clientRegistration(fakeTool.jwksUrl))
      .expect(401);
    expect(emulator.state.tools.size).to.equal(1);
  });

  it('when the registration misses required metadata, then invalid_client_metadata', async () => {
    const emulator = await createEmulator({
      flavour: 'moodle',
      baseUrl: 'https://moodle.lms.example',
    });
    const start = emulator.startDynamicRegistration(`${TOOL_ORIGIN}/lti/register`);
    const body = { ...clientRegistration(fakeTool.jwksUrl), grant_types: ['implicit'] };
    const res = await request(emulator.app)
      .post(pathOf(emulator.urls.registration))
      .auth(start.registrationToken, { type: 'bearer' })
      .send(body)
      .expect(400);
    expect(res.body).to.have.property('error', 'invalid_client_metadata');
  });

  it('when the platform is Schoology, then there is no Dynamic Registration', async () => {
    const emulator = await createEmulator({
      flavour: 'schoology',
      baseUrl: 'https://schoology.lms.example',
    });
    await request(emulator.app).get(pathOf(emulator.urls.openidConfiguration)).expect(404);
  });
});
