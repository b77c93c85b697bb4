import { expect } from 'chai';
import { decodeProtectedHeader } from 'jose';
import request from 'supertest';
import { CLAIM } from '../../../src/emulator/claims.ts';
import {
  authParams,
  formFields,
  launch,
  startFakeTool,
  startPlatform,
  TOOL_ORIGIN,
  type FakeTool,
} from './fake-tool.ts';

describe('emulator: launch (OIDC third-party login and id_token)', () => {
  let fakeTool: FakeTool;
  before(async () => {
    fakeTool = await startFakeTool();
  });
  after(async () => {
    await fakeTool.close();
  });

  it('when the JWKS is fetched, then it holds one public RS256 signing key and no private part', async () => {
    const { emulator } = await startPlatform('canvas', fakeTool);
    const res = await request(emulator.app).get('/api/lti/security/jwks').expect(200);
    const keys = (res.body as { keys: Record<string, unknown>[] }).keys;
    expect(keys).to.have.length(1);
    expect(keys[0]).to.include({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(keys[0]).to.have.property('kid').that.is.a('string');
    expect(keys[0]).to.not.have.property('d');
  });

  it('when a launch button is hit, then the browser auto-posts the login initiation to the tool', async () => {
    const { emulator, seed, tool, deployment } = await startPlatform('canvas', fakeTool);
    const res = await request(emulator.app)
      .get('/launch')
      .query({
        course: seed.course.courseId,
        user: seed.teacher.userId,
        placement: 'course_navigation',
      })
      .expect(200);
    const form = formFields(res.text);
    expect(form.action).to.equal(`${TOOL_ORIGIN}/lti/login`);
    expect(form.fields).to.include({
      iss: emulator.issuer,
      login_hint: seed.teacher.userId,
      target_link_uri: `${TOOL_ORIGIN}/lti/launch`,
      client_id: tool.clientId,
      lti_deployment_id: deployment.deploymentId,
      lti_storage_target: 'post_message_forwarding',
    });
    expect(form.fields['lti_message_hint']).to.be.a('string').and.not.equal('');
    expect(deployment.deploymentId).to.match(/^\d+:[0-9a-f]{40}$/);
  });

  it('when the tool completes the login, then the id_token carries the resource link claims', async () => {
    const platform = await startPlatform('canvas', fakeTool);
    const { seed, deployment, emulator } = platform;
    const claims = await launch(platform, {
      courseId: seed.course.courseId,
      userId: seed.teacher.userId,
      placement: 'course_navigation',
    });
    expect(claims.sub)
      .to.equal(seed.teacher.sub)
      .and.match(/^[0-9a-f]{40}$/);
    expect(claims['nonce']).to.equal('nonce-1');
    expect(claims[CLAIM.messageType]).to.equal('LtiResourceLinkRequest');
    expect(claims[CLAIM.version]).to.equal('1.3.0');
    expect(claims[CLAIM.deploymentId]).to.equal(deployment.deploymentId);
    expect(claims[CLAIM.roles]).to.deep.equal([
      'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor',
    ]);
    expect(claims[CLAIM.context]).to.deep.include({
      id: seed.course.contextId,
      title: seed.course.title,
      type: ['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering'],
    });
    expect(claims[CLAIM.resourceLink]).to.have.property('id').that.is.a('string');
    // Canvas's course navigation launch has no assignment: its description is null, not absent.
    expect(claims[CLAIM.resourceLink]).to.have.property('description', null);
    const ags = claims[CLAIM.ags] as { scope: string[]; lineitems: string };
    expect(ags.lineitems).to.equal(emulator.urls.lineItems(seed.course.courseId));
    expect(ags.scope).to.include('https://purl.imsglobal.org/spec/lti-ags/scope/score');
    expect(claims[CLAIM.nrps]).to.deep.equal({
      context_memberships_url: emulator.urls.memberships(seed.course.courseId),
      service_versions: ['2.0'],
    });
    expect(claims[CLAIM.canvasPlacement]).to.equal('course_navigation');
  });

  it('when the auth response is built, then it posts id_token and the echoed state to the redirect URI', async () => {
    const platform = await startPlatform('moodle', fakeTool);
    const { emulator, seed } = platform;
    const initiation = emulator.beginLaunch({
      courseId: seed.course.courseId,
      userId: seed.students[0]!.userId,
      placement: 'course_navigation',
    });
    const res = await request(emulator.app)
      .get('/api/lti/authorize_redirect')
      .query(authParams(platform, initiation.params))
      .expect(200);
    const form = formFields(res.text);
    expect(form.action).to.equal(`${TOOL_ORIGIN}/lti/launch`);
    expect(form.fields['state']).to.equal('state-123');
    expect(form.fields['id_token']?.split('.')).to.have.length(3);
  });

  it('when redirect_uri is not registered, then the platform refuses and sends no id_token', async () => {
    const platform = await startPlatform('canvas', fakeTool);
    const { emulator, seed } = platform;
    const initiation = emulator.beginLaunch({
      courseId: seed.course.courseId,
      userId: seed.teacher.userId,
      placement: 'course_navigation',
    });
    const res = await request(emulator.app)
      .get('/api/lti/authorize_redirect')
      .query({
        ...authParams(platform, initiation.params),
        redirect_uri: 'https://evil.example/cb',
      })
      .expect(400);
    expect(res.text).to.contain('redirect_uri is not registered');
    expect(res.text).to.not.contain('id_token');
    expect(emulator.state.issuedIdTokens).to.have.length(0);
  });

  it('when the nonce is missing, then an invalid_request error is posted back with the state', async () => {
    const platform = await startPlatform('canvas', fakeTool);
    const { emulator, seed } = platform;
    const initiation = emulator.beginLaunch({
      courseId: seed.course.courseId,
      userId: seed.teacher.userId,
      placement: 'course_navigation',
    });
    const res = await request(emulator.app)
      .get('/api/lti/authorize_redirect')
      .query({ ...authParams(platform, initiation.params), nonce: '' })
      .expect(400);
    const form = formFields(res.text);
    expect(form.fields).to.include({ error: 'invalid_request', state: 'state-123' });
    expect(form.fields).to.not.have.property('id_token');
  });

  it('when login_hint does not match the launch, then login_required is returned', async () => {
    const platform = await startPlatform('canvas', fakeTool);
    const { emulator, seed } = platform;
    const initiation = emulator.beginLaunch({
      courseId: seed.course.courseId,
      userId: seed.teacher.userId,
      placement: 'course_navigation',
    });
    const res = await request(emulator.app)
      .get('/api/lti/authorize_redirect')
      .query({ ...authParams(platform, initiation.params), login_hint: seed.admin.userId })
      .expect(400);
    expect(formFields(res.text).fields['error']).to.equal('login_required');
  });

  it('when the message hint has expired, then the launch is refused', async () => {
    let now = new Date('2026-11-27T10:00:00.000Z');
    const platform = await startPlatform('canvas', fakeTool, {
      now: () => now,
      launchHintLifetimeSeconds: 60,
    });
    const { emulator, seed } = platform;
    const initiation = emulator.beginLaunch({
      courseId: seed.course.courseId,
      userId: seed.teacher.userId,
      placement: 'course_navigation',
    });
    now = new Date('2026-11-27T10:02:00.000Z');
    const res = await request(emulator.app)
      .get('/api/lti/authorize_redirect')
      .query(authParams(platform, initiation.params))
      .expect(400);
    expect(formFields(res.text).fields['error_description']).to.contain('expired');
  });

  it('when the id_token lifetime is configured, then exp - iat follows it', async () => {
    const platform = await startPlatform('canvas', fakeTool, { idTokenLifetimeSeconds: 90 });
    const claims = await launch(platform, {
      courseId: platform.seed.course.courseId,
      userId: platform.seed.students[1]!.userId,
      placement: 'course_navigation',
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).to.equal(90);
  });

  it('when a TA and an admin launch, then roles carry the principal role and institution role', async () => {
    const platform = await startPlatform('canvas', fakeTool);
    const { seed } = platform;
    const ta = await launch(platform, {
      courseId: seed.course.courseId,
      userId: seed.teachingAssistant.userId,
      placement: 'course_navigation',
    });
    expect(ta[CLAIM.roles]).to.deep.equal([
      'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor',
      'http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant',
    ]);
    const admin = await launch(platform, {
      courseId: seed.course.courseId,
      userId: seed.admin.userId,
      placement: 'course_navigation',
    });
    expect(admin[CLAIM.roles]).to.include(
      'http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator',
    );
  });

  it('when Schoology launches, then custom keys are lower-cased and ids use its formats', async () => {
    const platform = await startPlatform(
      'schoology',
      fakeTool,
      {},
      {
        customParameters: { CourseTitle: '$Context.title', Mode: 'Mastery' },
      },
    );
    const { seed, deployment } = platform;
    const claims = await launch(platform, {
      courseId: seed.course.courseId,
      userId: seed.students[0]!.userId,
      placement: 'course_navigation',
    });
    expect(claims[CLAIM.custom]).to.deep.equal({ coursetitle: seed.course.title, mode: 'Mastery' });
    expect(claims.sub).to.match(/^\d+::[0-9a-f]+$/);
    expect(deployment.deploymentId).to.match(/^\d{10}-\d{10}$/);
    expect(formFieldsOfLaunchHasNoStorage(platform)).to.equal(true);
  });

  it('when Moodle launches, then context type is short, NRPS is 1.0+2.0 and custom has the memberships URL', async () => {
    const platform = await startPlatform('moodle', fakeTool);
    const { seed, deployment, emulator } = platform;
    const claims = await launch(platform, {
      courseId: seed.course.courseId,
      userId: seed.students[0]!.userId,
      placement: 'course_navigation',
    });
    expect(claims.sub).to.match(/^\d+$/);
    expect(deployment.deploymentId).to.equal('1');
    expect((claims[CLAIM.context] as { type: string[] }).type).to.deep.equal(['CourseSection']);
    expect((claims[CLAIM.nrps] as { service_versions: string[] }).service_versions).to.deep.equal([
      '1.0',
      '2.0',
    ]);
    expect(claims[CLAIM.custom]).to.have.property(
      'context_memberships_url',
      emulator.urls.memberships(seed.course.courseId),
    );
  });

  it('when the platform rotates its key, then launches are signed with the new kid and the old key stays published', async () => {
    const platform = await startPlatform('moodle', fakeTool);
    const { emulator, seed } = platform;
    const oldKid = emulator.jwks.keys[0]?.['kid'];
    const newKid = await emulator.rotateKey();
    expect(newKid).to.not.equal(oldKid);
    const res = await request(emulator.app).get('/api/lti/security/jwks').expect(200);
    const kids = (res.body as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect(kids).to.deep.equal([newKid, oldKid]);
    const initiation = emulator.beginLaunch({
      courseId: seed.course.courseId,
      userId: seed.teacher.userId,
      placement: 'course_navigation',
    });
    const auth = await request(emulator.app)
      .post('/api/lti/authorize_redirect')
      .type('form')
      .send(authParams(platform, initiation.params));
    const idToken = formFields(auth.text).fields['id_token'] ?? '';
    expect(decodeProtectedHeader(idToken).kid).to.equal(newKid);
    await emulator.rotateKey({ keepOld: false });
    const after = await request(emulator.app).get('/api/lti/security/jwks').expect(200);
    expect((after.body as { keys: unknown[] }).keys).to.have.length(1);
  });

  it("when Moodle sends a Deep Linking request, then its settings are Moodle 4.3's: no accept_lineitem, no data", async () => {
    const platform = await startPlatform('moodle', fakeTool);
    const claims = await launch(platform, {
      courseId: platform.seed.course.courseId,
      userId: platform.seed.teacher.userId,
      placement: 'assignment_selection',
    });
    const settings = claims[CLAIM.deepLinkingSettings] as Record<string, unknown>;
    expect(settings).to.not.have.property('accept_lineitem');
    expect(settings).to.not.have.property('data');
    expect(settings).to.not.have.property('accept_media_types');
    expect(settings).to.include({
      accept_multiple: true,
      auto_create: false,
      accept_copy_advice: false,
      accept_unsigned: false,
      can_confirm: false,
      title: platform.tool.name,
      text: '',
    });
    expect(settings['accept_types']).to.deep.equal(['ltiResourceLink']);
    expect(settings['accept_presentation_document_targets']).to.deep.equal([
      'frame',
      'iframe',
      'window',
    ]);
  });

  it('when a deep linking placement launches, then the settings claim is complete', async () => {
    const platform = await startPlatform('canvas', fakeTool);
    const { seed } = platform;
    const claims = await launch(platform, {
      courseId: seed.course.courseId,
      userId: seed.teacher.userId,
      placement: 'assignment_selection',
    });
    expect(claims[CLAIM.messageType]).to.equal('LtiDeepLinkingRequest');
    expect(claims[CLAIM.targetLinkUri]).to.equal(`${TOOL_ORIGIN}/lti/deep-link`);
    expect(claims).to.not.have.property(CLAIM.resourceLink);
    // As Canvas's lib/lti/messages/deep_linking_request.rb builds it for assignment_selection.
    const settings = claims[CLAIM.deepLinkingSettings] as Record<string, unknown>;
    expect(settings).to.include({
      accept_multiple: false,
      auto_create: false,
      accept_media_types: 'application/vnd.ims.lti.v1.ltilink',
    });
    expect(settings['accept_types']).to.deep.equal(['ltiResourceLink']);
    expect(settings['accept_presentation_document_targets']).to.deep.equal(['iframe', 'window']);
    expect(settings['deep_link_return_url']).to.be.a('string');
    expect(settings).to.not.have.property('accept_lineitem');
    expect(settings).to.not.have.property('data');
    expect(settings).to.not.have.property('title');
  });

  it('when a launch is shown framed, then the page holds the storage forwarder frame and the tool frame', async () => {
    const { emulator, seed } = await startPlatform('canvas', fakeTool);
    const res = await request(emulator.app)
      .get('/launch')
      .query({
        course: seed.course.courseId,
        user: seed.teacher.userId,
        placement: 'course_navigation',
        frame: '1',
      })
      .expect(200);
    expect(res.text).to.contain('name="post_message_forwarding"');
    expect(res.text).to.contain('name="tool_frame"');
    expect(res.text).to.contain(JSON.stringify([TOOL_ORIGIN]));
    expect(res.text).to.contain('lti.get_data.response');
  });
});

function formFieldsOfLaunchHasNoStorage(
  platform: Awaited<ReturnType<typeof startPlatform>>,
): boolean {
  const initiation = platform.emulator.beginLaunch({
    courseId: platform.seed.course.courseId,
    userId: platform.seed.teacher.userId,
    placement: 'course_navigation',
  });
  return !('lti_storage_target' in initiation.params);
}
