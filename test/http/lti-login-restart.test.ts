import { expect } from 'chai';
import type { Flavour } from '../../src/emulator/types.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createLtiWorld, readAutoPostForm, type LtiWorld } from '../support/lti-world.ts';

/**
 * Launches in a browser that keeps no cookie in the LMS frame (Safari, iPads) from an LMS without
 * platform storage (Schoology, Moodle), over real HTTP: the `Sec-Fetch-Dest` header says whether a
 * request is the frame (`iframe`) or the tool's own window (`document`), as browsers send it. No
 * request here carries a cookie.
 */

function decode(value: string): string {
  return value
    .replace(/&amp;/g, '&')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"');
}

function attribute(html: string, name: string): string {
  const value = new RegExp(`(?:^|\\s)${name}="([^"]*)"`).exec(html)?.[1];
  if (value === undefined) throw new Error(`no ${name} in:\n${html.slice(0, 600)}`);
  return decode(value);
}

/** The "open in a new window" link of the restart page. */
function restartLink(html: string): string {
  const value = /id="lti-restart" href="([^"]*)"/.exec(html)?.[1];
  if (value === undefined) throw new Error(`no restart link in:\n${html.slice(0, 600)}`);
  return decode(value);
}

/** Shaped like an id_token (header.payload.signature) but signed by nobody. */
const UNSIGNED_TOKEN = `${Buffer.from('{"alg":"RS256","kid":"k"}').toString('base64url')}.e30.c2ln`;

function directive(csp: string | null, name: string): string {
  return (
    (csp ?? '')
      .split(';')
      .find((part) => part.trim().startsWith(name))
      ?.trim() ?? ''
  );
}

/** The LMS's authorization endpoint answers an auto-posting form (or an error page). */
async function authorize(url: string): Promise<{ action: string; fields: Record<string, string> }> {
  const page = await fetch(url, { headers: { 'User-Agent': 'test-browser' } });
  return readAutoPostForm(await page.text());
}

async function postLaunch(
  world: LtiWorld,
  fields: Record<string, string>,
  dest: 'iframe' | 'document',
  origin?: string,
) {
  const res = await fetch(`${world.tool.origin}/lti/launch`, {
    method: 'POST',
    body: new URLSearchParams(fields),
    redirect: 'manual',
    headers: { 'Sec-Fetch-Dest': dest, ...(origin === undefined ? {} : { Origin: origin }) },
  });
  return { status: res.status, location: res.headers.get('location'), html: await res.text() };
}

/** The launch in the LMS frame, up to the page the tool answers when no cookie came back. */
async function framedLaunchWithoutCookie(world: LtiWorld, userId = world.seed.teacher.userId) {
  const initiation = world.emulator.beginLaunch({
    courseId: world.seed.course.courseId,
    userId,
    placement: 'course_navigation',
  });
  const login = await fetch(`${world.tool.origin}/lti/login`, {
    method: 'POST',
    body: new URLSearchParams(initiation.params),
    redirect: 'manual',
    headers: { 'Sec-Fetch-Dest': 'iframe' },
  });
  expect(login.status).to.equal(302);
  const form = await authorize(login.headers.get('location') ?? '');
  return { initiation, launched: await postLaunch(world, form.fields, 'iframe') };
}

// Schoology's hints can be used again while they last: the restart is our login with them.
for (const flavour of ['schoology'] as const satisfies readonly Flavour[]) {
  describe(`a launch that keeps no cookie in the ${flavour} frame (${testEngine})`, function () {
    this.timeout(60_000);
    let database: TestDatabase;
    let world: LtiWorld;

    before(async () => {
      database = await createTestDatabase();
      world = await createLtiWorld(database, { flavour, platformStorage: false });
    });

    after(async () => {
      await world.close();
      await database.close();
    });

    it('when the launch comes back without a cookie, then the frame offers to open the tool in a new window instead of a dead end', async () => {
      const { initiation, launched } = await framedLaunchWithoutCookie(world);
      expect(launched.status).to.equal(400);
      expect(launched.html).to.contain('Open Mastery Pathways in a new window');
      expect(launched.html).not.to.contain('allow them for this site');
      expect(launched.html).to.contain('target="_blank"');
      const restart = new URL(restartLink(launched.html));
      expect(restart.origin + restart.pathname).to.equal(`${world.tool.origin}/lti/login`);
      // The LMS's own parameters, to start the same login again.
      for (const name of [
        'iss',
        'login_hint',
        'target_link_uri',
        'lti_message_hint',
        'client_id',
      ]) {
        expect(restart.searchParams.get(name), name).to.equal(initiation.params[name]);
      }
    });

    it('when the new window restarts the login at top level, then the same teacher lands on the course page without any cookie', async () => {
      const { launched } = await framedLaunchWithoutCookie(world);
      const restart = restartLink(launched.html);

      const login = await fetch(restart, { headers: { 'Sec-Fetch-Dest': 'document' } });
      expect(login.status).to.equal(200);
      const page = await login.text();
      // The window keeps the new login's state in its own sessionStorage (lti-window.js).
      expect(page).to.contain('/static/js/lti-window.js');
      const state = attribute(page, 'data-value');
      const form = await authorize(attribute(page, 'data-next'));
      expect(form.fields['state']).to.equal(state);

      // Back at top level without a cookie: the page that reads the window's storage.
      const asked = await postLaunch(world, form.fields, 'document');
      expect(asked.status).to.equal(200);
      expect(asked.html).to.contain('id="lti-window-form"');
      expect(attribute(asked.html, 'data-key')).to.match(/^mp_state_/);

      // What that page posts back, from the tool's own origin.
      const done = await postLaunch(
        world,
        { ...form.fields, lti_storage_binding: state },
        'document',
        world.tool.origin,
      );
      expect(done.status, done.html).to.equal(303);
      expect(done.location).to.match(/^\/s\/[A-Za-z0-9_-]+\/course$/);
      const course = await fetch(`${world.tool.origin}${done.location ?? ''}`);
      expect(await course.text()).to.contain(world.seed.teacher.name);
    });

    it("when a new window posts back another window's state, then the launch is refused", async () => {
      const { launched } = await framedLaunchWithoutCookie(world);
      const login = await fetch(restartLink(launched.html), {
        headers: { 'Sec-Fetch-Dest': 'document' },
      });
      const form = await authorize(attribute(await login.text(), 'data-next'));
      const refused = await postLaunch(
        world,
        { ...form.fields, lti_storage_binding: 'a-state-this-window-never-had' },
        'document',
        world.tool.origin,
      );
      expect(refused.status).to.equal(400);
      expect(refused.html).to.contain('lti.state_mismatch');
    });

    it("when the restart link is changed to another person's login_hint, then the LMS refuses it and nobody is signed in", async () => {
      const { launched } = await framedLaunchWithoutCookie(world);
      const restart = new URL(restartLink(launched.html));
      restart.searchParams.set('login_hint', world.seed.students[0]!.userId);
      const login = await fetch(restart, { headers: { 'Sec-Fetch-Dest': 'document' } });
      const next = attribute(await login.text(), 'data-next');
      const answer = await fetch(next, { headers: { 'User-Agent': 'test-browser' } });
      const form = readAutoPostForm(await answer.text());
      expect(form.fields['error']).to.equal('login_required');
      expect(form.fields).not.to.have.property('id_token');
    });
  });
}

describe(`a Moodle 4.x login restarted in a new window (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let world: LtiWorld;

  before(async () => {
    database = await createTestDatabase();
    world = await createLtiWorld(database, { flavour: 'moodle', platformStorage: false });
  });

  after(async () => {
    await world.close();
    await database.close();
  });

  /** The browser's Moodle session (set by Moodle's course page, first-party to Moodle). */
  const moodleSession = (userId: string) => `MoodleSessionEmulator=${encodeURIComponent(userId)}`;

  it("when the frame keeps no cookie, then the new window opens Moodle's own launch page for the activity", async () => {
    const { initiation, launched } = await framedLaunchWithoutCookie(world);
    expect(launched.status).to.equal(400);
    const hint = JSON.parse(initiation.params['lti_message_hint'] ?? '') as { cmid: number };
    expect(restartLink(launched.html)).to.equal(
      `${world.emulator.issuer}/mod/lti/launch.php?id=${hint.cmid}`,
    );
  });

  it("when the new window opens Moodle's launch page, then Moodle logs in again at top level and the same teacher lands on the course page without any cookie of ours", async () => {
    const { launched } = await framedLaunchWithoutCookie(world);
    const relaunch = await fetch(restartLink(launched.html), {
      headers: { Cookie: moodleSession(world.seed.teacher.userId) },
    });
    const initiation = readAutoPostForm(await relaunch.text());
    const login = await fetch(initiation.action, {
      method: 'POST',
      body: new URLSearchParams(initiation.fields),
      headers: { 'Sec-Fetch-Dest': 'document' },
    });
    const page = await login.text();
    const state = attribute(page, 'data-value');
    const form = await authorize(attribute(page, 'data-next'));
    const asked = await postLaunch(world, form.fields, 'document');
    expect(asked.html).to.contain('id="lti-window-form"');
    const done = await postLaunch(
      world,
      { ...form.fields, lti_storage_binding: state },
      'document',
      world.tool.origin,
    );
    expect(done.status, done.html).to.equal(303);
    const course = await fetch(`${world.tool.origin}${done.location ?? ''}`);
    expect(await course.text()).to.contain(world.seed.teacher.name);
  });

  it("when Moodle's original hints are tried a second time, then Moodle refuses them (why the restart goes through its launch page)", async () => {
    const { initiation } = await framedLaunchWithoutCookie(world);
    const login = await fetch(`${world.tool.origin}/lti/login`, {
      method: 'POST',
      body: new URLSearchParams(initiation.params),
      redirect: 'manual',
    });
    const again = await authorize(login.headers.get('location') ?? '');
    expect(again.fields['error']).to.equal('invalid_request');
    expect(again.fields).not.to.have.property('id_token');
  });

  it("when Moodle's single-use hint names its activity, then the new window opens Moodle's own launch page for it", async () => {
    // Moodle 4.1+ forgets a launch id once used (mod/lti/auth.php), so its hints cannot log in
    // twice: the restart goes through mod/lti/launch.php?id=<cmid>, which starts a fresh login.
    const login = await fetch(`${world.tool.origin}/lti/login`, {
      method: 'POST',
      body: new URLSearchParams({
        iss: world.emulator.issuer,
        login_hint: '2',
        target_link_uri: `${world.tool.origin}/lti/launch`,
        lti_message_hint: JSON.stringify({ cmid: 7, launchid: 'ltilaunch3_1804289383' }),
        client_id: world.clientId,
        lti_deployment_id: world.deploymentId,
      }),
      redirect: 'manual',
      headers: { 'Sec-Fetch-Dest': 'iframe' },
    });
    expect(login.status).to.equal(302);
    const state = new URL(login.headers.get('location') ?? '').searchParams.get('state') ?? '';
    const launched = await postLaunch(world, { id_token: UNSIGNED_TOKEN, state }, 'iframe');
    expect(launched.status).to.equal(400);
    expect(restartLink(launched.html)).to.equal(`${world.emulator.issuer}/mod/lti/launch.php?id=7`);
  });

  it('when the posted state is unknown, then there is nothing to restart and the launch is refused as before', async () => {
    const launched = await postLaunch(
      world,
      { id_token: UNSIGNED_TOKEN, state: 'made-up' },
      'iframe',
    );
    expect(launched.status).to.equal(400);
    expect(launched.html).to.contain('lti.state_mismatch');
    expect(launched.html).not.to.contain('new window');
  });
});

describe(`a launch between the LMS's activation and our approval (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let world: LtiWorld;

  before(async () => {
    database = await createTestDatabase();
    world = await createLtiWorld(database, { flavour: 'moodle', platformStorage: false });
  });

  after(async () => {
    await world.close();
    await database.close();
  });

  /** A registration of another client id of the emulator's issuer, waiting for approval. */
  async function pendingRegistration(defaultTenantId?: string) {
    const tool = world.emulator.state.registerTool({
      name: 'Mastery Pathways (pending)',
      toolJwksUrl: `${world.tool.origin}/.well-known/jwks.json`,
      oidcInitiationUrl: `${world.tool.origin}/lti/login`,
      targetLinkUri: `${world.tool.origin}/lti/launch`,
      redirectUris: [`${world.tool.origin}/lti/launch`],
      scopes: [],
    });
    const deployment = world.emulator.state.addDeployment(tool.clientId);
    await world.tool.services.platforms.create({
      issuer: world.emulator.issuer,
      clientId: tool.clientId,
      name: 'Moodle (pending)',
      flavour: 'moodle',
      authLoginUrl: world.emulator.urls.authorize,
      authTokenUrl: world.emulator.urls.token,
      jwksUrl: world.emulator.urls.jwks,
      status: 'pending',
      defaultTenantId,
    });
    return world.emulator.beginLaunch({
      courseId: world.seed.course.courseId,
      userId: world.seed.teacher.userId,
      placement: 'course_navigation',
      clientId: tool.clientId,
      deploymentId: deployment.deploymentId,
    });
  }

  async function loginWith(params: Record<string, string>) {
    const res = await fetch(`${world.tool.origin}/lti/login`, {
      method: 'POST',
      body: new URLSearchParams(params),
      redirect: 'manual',
    });
    return {
      status: res.status,
      csp: res.headers.get('content-security-policy'),
      html: await res.text(),
    };
  }

  it('when a launch reaches a registration that waits for approval, then the page says who approves it and the LMS may frame it', async () => {
    const initiation = await pendingRegistration();
    const res = await loginWith(initiation.params);
    expect(res.status).to.equal(403);
    expect(res.html).to.contain('is registered with Mastery Pathways, waiting for approval by');
    expect(res.html).to.contain(
      `the operator of Mastery Pathways at ${new URL(world.tool.origin).host}`,
    );
    expect(res.html).not.to.contain('not registered');
    expect(directive(res.csp, 'frame-ancestors')).to.contain(world.emulatorOrigin);
  });

  it('when the waiting registration already names its district, then the page names that district', async () => {
    const initiation = await pendingRegistration(world.tenantId);
    const res = await loginWith(initiation.params);
    expect(res.status).to.equal(403);
    expect(res.html).to.contain('the Mastery Pathways administrator of District (moodle)');
  });

  it('when the issuer is not registered at all, then the page says so and no origin is added to frame-ancestors', async () => {
    const res = await loginWith({
      iss: 'https://unknown-lms.example',
      login_hint: '2',
      target_link_uri: `${world.tool.origin}/lti/launch`,
      client_id: 'nobody',
    });
    expect(res.status).to.equal(400);
    expect(res.html).to.contain('not registered');
    expect(directive(res.csp, 'frame-ancestors')).not.to.contain('unknown-lms.example');
  });
});
