import { expect } from 'chai';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { BlockedAddressError } from '../../src/net/pinned-fetch.ts';
import {
  continueUrlOf,
  createClassroomWorld,
  openAddOn,
  type ClassroomWorld,
} from './classroom-world.ts';

/** The session path prefix of a "Continue" redirect, or undefined. */
const sessionBase = (location: string | null): string | undefined =>
  /^\/s\/[A-Za-z0-9_-]+/.exec(location ?? '')?.[0];

function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = error; e !== undefined && e !== null && chain.length < 10;) {
    chain.push(e);
    e = e instanceof Error ? e.cause : undefined;
  }
  return chain;
}

describe(`Google Classroom add-on security (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let world: ClassroomWorld;

  beforeEach(async () => {
    database = await createTestDatabase();
    world = await createClassroomWorld(database);
  });

  afterEach(async () => {
    await world.close();
    await database.close();
  });

  const frameUrl = () =>
    world.google.discoveryFrameUrl({
      courseId: world.seed.course.id,
      itemId: world.seed.courseWork.id,
      userId: world.seed.teacher.id,
    });

  /** The entry page's sign-in link and its "Continue" form (as a browser submits it). */
  async function entryPage() {
    const html = await (await fetch(frameUrl())).text();
    const signIn = /id="classroom-sign-in" href="([^"]+)"/.exec(html)?.[1]?.replace(/&amp;/g, '&');
    if (signIn === undefined) throw new Error(`no sign-in link in:\n${html.slice(0, 400)}`);
    return {
      html,
      signInUrl: new URL(signIn, world.tool.origin),
      continueUrl: continueUrlOf(world, html),
    };
  }

  /** Someone follows a sign-in link to Google and signs in; returns the signed-in page. */
  async function signInThrough(signInUrl: URL, userId: string): Promise<string> {
    const toGoogle = await fetch(signInUrl, { redirect: 'manual' });
    expect(toGoogle.status).to.equal(302);
    const callback = await world.google.signIn(toGoogle.headers.get('location') ?? '', userId);
    const back = await fetch(callback);
    expect(back.status).to.equal(200);
    return back.text();
  }

  async function sessionCount(): Promise<number> {
    return (await database.db.selectFrom('sessions').select('id').execute()).length;
  }

  async function flowRows(): Promise<number> {
    return (await database.db.selectFrom('classroom_sign_in_flows').select('flow_id').execute())
      .length;
  }

  it('when an attacker sends a teacher the sign-in link of a flow the attacker started, then the attacker\'s "Continue" with the flow id gets no session, and only the teacher\'s own window continues', async () => {
    // The attacker opens the public entry page and reads the flow id and the links.
    const attacker = await entryPage();
    // The teacher follows the attacker's link ("sign in again") and signs in with Google.
    const signedIn = await signInThrough(attacker.signInUrl, world.seed.teacher.id);

    // The attacker continues with everything the entry page gave them: no session.
    const hijack = await fetch(attacker.continueUrl, { redirect: 'manual' });
    expect(hijack.status).to.equal(200);
    expect(await hijack.text()).to.include('has not received your sign-in yet');
    const bare = new URL(attacker.continueUrl);
    bare.search = '';
    const bareHijack = await fetch(bare, { redirect: 'manual' });
    expect(bareHijack.status).to.equal(400);
    const guessed = new URL(attacker.continueUrl);
    guessed.searchParams.set('k', 'A'.repeat(43));
    expect((await fetch(guessed, { redirect: 'manual' })).status).to.equal(200);
    expect(await sessionCount()).to.equal(0);

    // The teacher's window (no opener: it came from a message) continues there, without JavaScript.
    const here = /<a href="([^"]+)">Continue here instead<\/a>/.exec(signedIn)?.[1];
    expect(here).to.match(/\/continue\/[A-Za-z0-9_-]+\?k=[A-Za-z0-9_-]{40,}$/);
    const own = await fetch(new URL(here ?? '', world.tool.origin), { redirect: 'manual' });
    expect(own.status).to.equal(303);
    expect(sessionBase(own.headers.get('location'))).to.be.a('string');

    // Afterwards the flow is used up: the attacker still gets only the sign-in page.
    const late = await fetch(attacker.continueUrl, { redirect: 'manual' });
    expect(late.status).to.equal(200);
    expect(await late.text()).to.include('Sign in with Google');
    expect(await sessionCount()).to.equal(1);
  });

  it('when "Continue" carries the completion secret of another sign-in, then it gets no session', async () => {
    const mine = await entryPage();
    const other = await entryPage();
    await signInThrough(mine.signInUrl, world.seed.teacher.id);
    const otherSignedIn = await signInThrough(other.signInUrl, world.seed.teacher.id);
    const otherSecret = /data-completion="([^"]+)"/.exec(otherSignedIn)?.[1] ?? '';
    const crossed = new URL(mine.continueUrl);
    crossed.searchParams.set('k', otherSecret);
    const res = await fetch(crossed, { redirect: 'manual' });
    expect(res.status).to.equal(200);
    expect(await sessionCount()).to.equal(0);
    // The secret is never stored as such, nor logged.
    const stored = await database.db
      .selectFrom('classroom_sign_in_flows')
      .select('completion_hash')
      .execute();
    expect(JSON.stringify(stored)).not.to.include(otherSecret);
    expect(world.tool.logs.text()).not.to.include(otherSecret);
  });

  it('when the add-on opens and sign-in finishes in a popup, then the signed-in page hands its secret to the opener only and the frame continues with it', async () => {
    const opened = await openAddOn(world, frameUrl(), world.seed.teacher.id);
    expect(opened.base).to.be.a('string');
    expect(opened.callbackBody).to.match(/data-completion="[A-Za-z0-9_-]{40,}"/);
    const script = await (
      await fetch(`${world.tool.origin}/static/js/classroom-signed-in.js`)
    ).text();
    expect(script).to.include('window.location.origin');
    expect(script).not.to.match(/postMessage\([^)]*'\*'/);
  });

  it('when anyone opens the entry pages, then no sign-in row is stored until sign-in starts, and one start stores one row', async () => {
    for (let i = 0; i < 5; i += 1) await entryPage();
    expect(await flowRows()).to.equal(0);

    const entry = await entryPage();
    const start = await fetch(entry.signInUrl, { redirect: 'manual' });
    expect(start.status).to.equal(302);
    expect(await flowRows()).to.equal(1);
    // The same link opened again (a second click) reuses the row.
    const again = await fetch(entry.signInUrl, { redirect: 'manual' });
    expect(again.status).to.equal(302);
    expect(await flowRows()).to.equal(1);
  });

  it('when the signed launch parameters are missing, altered or belong to another flow, then sign-in does not start and nothing is stored', async () => {
    const entry = await entryPage();
    const other = await entryPage();
    const launch = entry.signInUrl.searchParams.get('l') ?? '';
    const [payload = '', mac = ''] = launch.split('.');
    const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
      l: { courseId: string };
    };
    body.l.courseId = 'another-course';
    const altered = `${Buffer.from(JSON.stringify(body)).toString('base64url')}.${mac}`;

    const missing = new URL(entry.signInUrl);
    missing.search = '';
    const tampered = new URL(entry.signInUrl);
    tampered.searchParams.set('l', altered);
    const foreign = new URL(entry.signInUrl);
    foreign.searchParams.set('l', other.signInUrl.searchParams.get('l') ?? '');
    for (const url of [missing, tampered, foreign]) {
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status, url.search).to.equal(400);
      expect(await res.text()).to.include('took too long or was already used');
    }
    expect(await flowRows()).to.equal(0);
  });

  it('when another district uses a signed launch of this district, then sign-in does not start there', async () => {
    const other = await world.tool.services.tenants.create({ slug: 'other', name: 'Other' });
    const install = await world.tool.services.classroom.findInstall(world.tenantId);
    if (install === undefined) throw new Error('no install');
    const entry = await entryPage();
    const flowId = /\/sign-in\/([A-Za-z0-9_-]+)/.exec(entry.signInUrl.pathname)?.[1] ?? '';
    const launch = entry.signInUrl.searchParams.get('l') ?? '';
    const services = world.tool.services.classroom;
    expect(services.isValidLaunchToken(install, flowId, launch)).to.equal(true);
    expect(
      services.isValidLaunchToken({ ...install, tenantId: other.id }, flowId, launch),
    ).to.equal(false);
  });

  it('when a stored Classroom API address points at a private network, then the API call is refused before connecting', async () => {
    const opened = await openAddOn(world, frameUrl(), world.seed.teacher.id);
    expect(opened.base).to.be.a('string');
    const teacher = await database.db
      .selectFrom('users')
      .select('id')
      .where('tenant_id', '=', world.tenantId)
      .where('sub', '=', world.seed.teacher.id)
      .executeTakeFirstOrThrow();
    // A row written before operators alone could set it (or by a mistake): 0.0.0.0 is this host.
    await database.db
      .updateTable('classroom_installs')
      .set({ api_base_url: 'https://0.0.0.0:9', updated_at: new Date() })
      .where('tenant_id', '=', world.tenantId)
      .execute();
    const api = await world.tool.services.classroom.apiForUser(world.tenantId, teacher.id);
    const error: unknown = await api.getCourse(world.seed.course.id).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(causes(error).some((e) => e instanceof BlockedAddressError)).to.equal(true);
  });

  it('when an install names an issuer on a private network, then discovery is refused before connecting', async () => {
    const error: unknown = await world.tool.services.classroom
      .saveInstall(world.tenantId, {
        issuer: 'https://0.0.0.0:9/',
        clientId: world.client.clientId,
        clientSecret: world.client.clientSecret,
        allowedDomains: [world.seed.domain],
        apiBaseUrl: world.google.urls.apiBase,
        frameOrigin: world.googleOrigin,
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(causes(error).some((e) => e instanceof BlockedAddressError)).to.equal(true);
  });
});
