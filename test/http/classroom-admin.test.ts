import { expect } from 'chai';
import request from 'supertest';
import { createAdminUser } from '../../src/lti-admin/use-cases.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createClassroomWorld, openAddOn, type ClassroomWorld } from './classroom-world.ts';

const PASSWORD = 'correct horse battery staple';

function csrfIn(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (token === undefined) throw new Error(`no CSRF field in:\n${html.slice(0, 400)}`);
  return token;
}

function cookieOf(res: request.Response, name: string): string {
  const header: unknown = res.headers['set-cookie'];
  const list = Array.isArray(header) ? (header as string[]) : [];
  return list.find((c) => c.startsWith(`${name}=`))?.split(';')[0] ?? '';
}

describe(`Google Classroom admin page (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let world: ClassroomWorld;
  let cookie: string;
  let operatorCookie: string;

  async function signIn(username: string): Promise<string> {
    const page = await request(world.tool.app).get('/admin/login');
    const res = await request(world.tool.app)
      .post('/admin/login')
      .set('Cookie', cookieOf(page, 'mp_admin_login'))
      .type('form')
      .send({ _csrf: csrfIn(page.text), username, password: PASSWORD });
    expect(res.status, res.text).to.equal(303);
    return cookieOf(res, 'mp_admin');
  }

  async function save(fields: Record<string, string>, as = cookie) {
    const page = await request(world.tool.app).get('/admin/classroom').set('Cookie', as);
    return request(world.tool.app)
      .post('/admin/classroom')
      .set('Cookie', as)
      .type('form')
      .send({ _csrf: csrfIn(page.text), tenantSlug: world.tenantSlug, ...fields });
  }

  /** The operator points the district at the emulated Google (loopback http: the tool is too). */
  const emulatorAddresses = () => ({
    issuer: world.google.issuer,
    apiBaseUrl: world.google.urls.apiBase,
    frameOrigin: world.googleOrigin,
  });

  beforeEach(async () => {
    database = await createTestDatabase();
    world = await createClassroomWorld(database, { configure: false });
    const ctx = { db: database.db, now: () => new Date() };
    await createAdminUser(ctx, {
      username: 'district-admin',
      tenantSlug: world.tenantSlug,
      password: PASSWORD,
    });
    await createAdminUser(ctx, { username: 'operator', tenantSlug: undefined, password: PASSWORD });
    cookie = await signIn('district-admin');
    operatorCookie = await signIn('operator');
  });

  afterEach(async () => {
    await world.close();
    await database.close();
  });

  it('when a district admin opens the page, then it shows the exact URLs to paste into Google Cloud and the Marketplace SDK', async () => {
    const res = await request(world.tool.app).get('/admin/classroom').set('Cookie', cookie);
    expect(res.status).to.equal(200);
    const origin = world.tool.origin;
    for (const url of [
      `${origin}/classroom/oauth/callback`,
      `${origin}/classroom/${world.tenantSlug}/attachment-setup`,
      `${origin}/classroom/${world.tenantSlug}/teacher-view`,
      `${origin}/classroom/${world.tenantSlug}/student-view`,
      `${origin}/classroom/${world.tenantSlug}/student-work-review`,
      `${origin}/classroom/${world.tenantSlug}/`,
    ]) {
      expect(res.text).to.include(url);
    }
    expect(res.text).to.include('not set up for this district yet');
  });

  it('when the settings are saved, then the secret is stored encrypted, the add-on signs teachers in, and the form keeps the secret on later saves', async () => {
    const res = await save(
      {
        clientId: world.client.clientId,
        clientSecret: world.client.clientSecret,
        allowedDomains: `${world.seed.domain}, Students.Example.org`,
        ...emulatorAddresses(),
      },
      operatorCookie,
    );
    expect(res.status, res.text).to.equal(303);
    const install = await database.db
      .selectFrom('classroom_installs')
      .selectAll()
      .executeTakeFirstOrThrow();
    expect(install.allowed_domains).to.deep.equal([world.seed.domain, 'students.example.org']);
    expect(JSON.stringify(install.encrypted_client_secret)).not.to.include(
      world.client.clientSecret,
    );
    const platform = await database.db
      .selectFrom('platforms')
      .select(['flavour', 'issuer', 'client_id', 'frame_origins'])
      .where('id', '=', install.platform_id)
      .executeTakeFirstOrThrow();
    expect(platform).to.deep.include({
      flavour: 'classroom',
      issuer: world.google.issuer,
      client_id: world.client.clientId,
    });
    expect(platform.frame_origins).to.deep.equal([world.googleOrigin]);

    // The district admin saves again without a secret: the stored one (and the operator's
    // addresses) are kept, so sign-in still works.
    const again = await save({
      clientId: world.client.clientId,
      clientSecret: '',
      allowedDomains: world.seed.domain,
    });
    expect(again.status, again.text).to.equal(303);
    const frame = world.google.discoveryFrameUrl({
      courseId: world.seed.course.id,
      itemId: world.seed.courseWork.id,
      userId: world.seed.teacher.id,
    });
    const opened = await openAddOn(world, frame, world.seed.teacher.id);
    expect(opened.callbackStatus).to.equal(200);
    expect(opened.base).to.be.a('string');
  });

  it('when the form has bad domains, no secret or an unreachable issuer, then nothing is saved and each problem is named', async () => {
    const bad = await save({
      clientId: 'abc',
      clientSecret: '',
      allowedDomains: 'not a domain!',
    });
    expect(bad.status).to.equal(400);
    expect(bad.text).to.include('Enter domains only');
    expect(bad.text).to.include('Enter the OAuth client secret');

    const unreachable = await save(
      {
        clientId: world.client.clientId,
        clientSecret: 'secret',
        allowedDomains: world.seed.domain,
        ...emulatorAddresses(),
        issuer: 'http://127.0.0.1:1/',
      },
      operatorCookie,
    );
    expect(unreachable.status).to.equal(400);
    expect(unreachable.text).to.include('could not read the sign-in settings');
    const installs = await database.db.selectFrom('classroom_installs').select('id').execute();
    expect(installs).to.have.length(0);
  });

  it('when a district admin posts for another district, then it is refused', async () => {
    await world.tool.services.tenants.create({ slug: 'other-district', name: 'Other' });
    const res = await save({
      tenantSlug: 'other-district',
      clientId: world.client.clientId,
      clientSecret: world.client.clientSecret,
      allowedDomains: world.seed.domain,
      issuer: world.google.issuer,
      apiBaseUrl: world.google.urls.apiBase,
      frameOrigin: world.googleOrigin,
    });
    expect(res.status).to.equal(404);
    const installs = await database.db.selectFrom('classroom_installs').select('id').execute();
    expect(installs).to.have.length(0);
  });

  it("when a district admin posts other Google addresses, then they are ignored: the operator's addresses stay and no custom issuer becomes a platform", async () => {
    const first = await save(
      {
        clientId: world.client.clientId,
        clientSecret: world.client.clientSecret,
        allowedDomains: world.seed.domain,
        ...emulatorAddresses(),
      },
      operatorCookie,
    );
    expect(first.status, first.text).to.equal(303);
    const page = await request(world.tool.app).get('/admin/classroom').set('Cookie', cookie);
    expect(page.text).not.to.include('name="apiBaseUrl"');
    expect(page.text).to.include('district administrators cannot change them');

    // A rogue discovery document on another port (loopback, like the tool) names itself issuer.
    const rogue = `${world.googleOrigin.replace(/:\d+$/, '')}:1`;
    const res = await save({
      clientId: world.client.clientId,
      clientSecret: '',
      allowedDomains: world.seed.domain,
      issuer: `${rogue}/issuer`,
      apiBaseUrl: `${rogue}/api`,
      frameOrigin: `${rogue}/frame`,
    });
    expect(res.status, res.text).to.equal(303);
    const install = await database.db
      .selectFrom('classroom_installs')
      .select(['issuer', 'api_base_url', 'frame_origin'])
      .executeTakeFirstOrThrow();
    expect(install).to.deep.equal({
      issuer: world.google.issuer,
      api_base_url: world.google.urls.apiBase,
      frame_origin: world.googleOrigin,
    });
    const platforms = await database.db.selectFrom('platforms').select('issuer').execute();
    expect(platforms.map((p) => p.issuer)).not.to.include(`${rogue}/issuer`);
  });

  it('when an operator enters a plain-http address that is not loopback, then it is refused and nothing is saved', async () => {
    const res = await save(
      {
        clientId: world.client.clientId,
        clientSecret: world.client.clientSecret,
        allowedDomains: world.seed.domain,
        ...emulatorAddresses(),
        apiBaseUrl: 'http://classroom.example.org/',
        frameOrigin: 'https://user:pw@classroom.example.org/',
      },
      operatorCookie,
    );
    expect(res.status).to.equal(400);
    expect(res.text).to.include(
      'The Classroom API address must be a web address starting with https://',
    );
    expect(res.text).to.include(
      'The Classroom web address must be a web address starting with https://',
    );
    const installs = await database.db.selectFrom('classroom_installs').select('id').execute();
    expect(installs).to.have.length(0);
  });
});
