import { expect } from 'chai';
import type { Express } from 'express';
import request from 'supertest';
import type { AppServices } from '../../src/app-services.ts';
import { createAdminUser, addTenant } from '../../src/lti-admin/use-cases.ts';
import {
  createPlatformRepository,
  type Platform,
} from '../../src/storage/lti/platforms.repository.ts';
import type { Tenant } from '../../src/storage/lti/tenants.repository.ts';
import {
  PASSWORD,
  PUBLIC_URL,
  attemptSignIn,
  buildApp,
  setCookie,
  signIn,
  type SignedIn,
} from '../support/admin-session.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';

describe(`admin sign-in (${testEngine})`, function () {
  this.timeout(30_000);
  let database: TestDatabase;
  let app: Express;

  before(async () => {
    database = await createTestDatabase();
    ({ app } = buildApp(database));
    const ctx = { db: database.db, now: () => new Date() };
    await createAdminUser(ctx, { username: 'operator', tenantSlug: undefined, password: PASSWORD });
  });

  after(async () => {
    await database.close();
  });

  it('when nobody is signed in, then the admin pages redirect to the sign-in form', async () => {
    const res = await request(app).get('/admin/platforms');
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal('/admin/login');
  });

  it('when the password is right, then a HttpOnly Secure SameSite=Lax cookie opens the overview with the tool URLs', async () => {
    const res = await attemptSignIn(app, 'operator', PASSWORD);
    expect(res.status).to.equal(303);
    expect(res.headers.location).to.equal('/admin');
    const header = (res.headers['set-cookie'] as unknown as string[]).find((c) =>
      c.startsWith('mp_admin='),
    );
    expect(header)
      .to.match(/HttpOnly/)
      .and.to.match(/Secure/)
      .and.to.match(/SameSite=Lax/);
    const token = setCookie(res, 'mp_admin')!;
    // Only the token's hash is stored.
    const stored = await database.db
      .$extendTables<{ admin_sessions: { token_hash: string } }>()
      .selectFrom('admin_sessions')
      .select('token_hash')
      .execute();
    expect(stored.map((s) => s.token_hash)).not.to.include(token);
    const overview = await request(app).get('/admin').set('Cookie', `mp_admin=${token}`);
    expect(overview.status).to.equal(200);
    for (const path of [
      '/.well-known/jwks.json',
      '/lti/login',
      '/lti/launch',
      '/lti/register',
      '/lti/canvas.json',
    ]) {
      expect(overview.text).to.contain(`${PUBLIC_URL}${path}`);
    }
    expect(overview.text).to.contain('Canvas').and.to.contain('Schoology').and.to.contain('Moodle');
  });

  it('when an operator reads the overview, then the Canvas steps give the exact Redirect URI and the Moodle steps say to activate the tool and show it in the activity chooser', async () => {
    const admin = await signIn(app, 'operator');
    const html = (await admin.get('/admin')).text;
    const step = (id: string) =>
      new RegExp(`<li id="${id}">([\\s\\S]*?)</li>`).exec(html)?.[1] ?? '';
    expect(step('canvas-redirect-uris')).to.contain('Redirect URIs');
    expect(step('canvas-redirect-uris')).to.contain(`<code>${PUBLIC_URL}/lti/launch</code>`);
    expect(step('moodle-activate')).to.contain('Activate the tool');
    expect(step('moodle-activity-chooser')).to.contain('Show in activity chooser');
    expect(step('moodle-activity-chooser')).to.contain('per course');
  });

  it('when a Moodle registration waits for approval, then its entry reminds the operator of Moodle’s own activation and activity chooser', async () => {
    await createPlatformRepository(database.db).create({
      issuer: 'https://moodle.pending.example',
      clientId: 'pending-moodle',
      name: 'Moodle moodle.pending.example',
      flavour: 'moodle',
      authLoginUrl: 'https://moodle.pending.example/mod/lti/auth.php',
      authTokenUrl: 'https://moodle.pending.example/mod/lti/token.php',
      jwksUrl: 'https://moodle.pending.example/mod/lti/certs.php',
      status: 'pending',
    });
    const admin = await signIn(app, 'operator');
    const html = (await admin.get('/admin/platforms')).text;
    const entry = /<h3>Moodle moodle\.pending\.example<\/h3>([\s\S]*?)<\/li>/.exec(html)?.[1] ?? '';
    expect(entry).to.contain('“Activate”');
    expect(entry).to.contain('activity chooser');
  });

  it('when the password is wrong or the user unknown, then the same generic message is shown and no cookie is set', async () => {
    const wrong = await attemptSignIn(app, 'operator', 'not the password at all');
    const unknown = await attemptSignIn(app, 'nobody-here', 'not the password at all');
    for (const res of [wrong, unknown]) {
      expect(res.status).to.equal(401);
      expect(res.text).to.contain('The username or password is not right');
      expect(setCookie(res, 'mp_admin')).to.equal(undefined);
    }
  });

  it('when the sign-in form is posted without its CSRF token, then it is refused', async () => {
    const res = await request(app)
      .post('/admin/login')
      .type('form')
      .send({ username: 'operator', password: PASSWORD });
    expect(res.status).to.equal(403);
    expect(setCookie(res, 'mp_admin')).to.equal(undefined);
  });

  it('when a signed-in form is posted with a wrong CSRF token, then nothing changes', async () => {
    const admin = await signIn(app, 'operator');
    const res = await request(app)
      .post('/admin/platforms')
      .set('Cookie', admin.cookie)
      .type('form')
      .send({ _csrf: 'forged', preset: 'canvas', clientId: '1000000000001' });
    expect(res.status).to.equal(403);
    const page = await admin.get('/admin/platforms');
    expect(page.text).not.to.contain('1000000000001');
  });

  it('when an admin signs out, then the session no longer opens the pages', async () => {
    const admin = await signIn(app, 'operator');
    const out = await admin.post('/admin/logout', {});
    expect(out.status).to.equal(303);
    expect(out.headers.location).to.equal('/admin/login');
    const after = await admin.get('/admin');
    expect(after.status).to.equal(303);
  });

  it('when five sign-ins failed for a username, then even the right password is refused until the window passes', async () => {
    let time = new Date('2026-11-27T06:00:00Z').getTime();
    const throttled = buildApp(database, () => new Date(time)).app;
    const ctx = { db: database.db, now: () => new Date() };
    await createAdminUser(ctx, {
      username: 'district-x',
      tenantSlug: undefined,
      password: PASSWORD,
    });
    for (let i = 0; i < 5; i += 1) {
      expect((await attemptSignIn(throttled, 'district-x', 'wrong password!!')).status).to.equal(
        401,
      );
    }
    const blocked = await attemptSignIn(throttled, 'district-x', PASSWORD);
    expect(blocked.status).to.equal(429);
    expect(setCookie(blocked, 'mp_admin')).to.equal(undefined);
    // Another app instance keeps its own counters (no module state).
    expect((await attemptSignIn(app, 'district-x', PASSWORD)).status).to.equal(303);
    time += 15 * 60 * 1000 + 1000;
    expect((await attemptSignIn(throttled, 'district-x', PASSWORD)).status).to.equal(303);
  });
});

describe(`admin pages (${testEngine})`, function () {
  this.timeout(30_000);
  let database: TestDatabase;
  let app: Express;
  let services: AppServices;
  let operator: SignedIn;
  let north: Tenant;
  let south: Tenant;

  before(async () => {
    database = await createTestDatabase();
    ({ app, services } = buildApp(database));
    await services.toolKeys.ensureCurrentKey();
    const ctx = { db: database.db, now: () => new Date() };
    north = await addTenant(ctx, { slug: 'north-district', name: 'North District' });
    south = await addTenant(ctx, { slug: 'south-district', name: 'South District' });
    await createAdminUser(ctx, { username: 'operator', tenantSlug: undefined, password: PASSWORD });
    await createAdminUser(ctx, {
      username: 'north-admin',
      tenantSlug: 'north-district',
      password: PASSWORD,
    });
    operator = await signIn(app, 'operator');
  });

  after(async () => {
    await database.close();
  });

  const presetCases: { preset: string; fields: Record<string, string>; issuer: string }[] = [
    { preset: 'canvas', fields: {}, issuer: 'https://canvas.instructure.com' },
    { preset: 'canvas-beta', fields: {}, issuer: 'https://canvas.beta.instructure.com' },
    { preset: 'canvas-test', fields: {}, issuer: 'https://canvas.test.instructure.com' },
    { preset: 'schoology', fields: {}, issuer: 'https://schoology.schoology.com' },
    {
      preset: 'moodle',
      fields: { issuer: 'https://moodle.north.example.org' },
      issuer: 'https://moodle.north.example.org',
    },
    {
      preset: 'generic',
      fields: {
        issuer: 'https://lms.example.net',
        authLoginUrl: 'https://lms.example.net/auth',
        authTokenUrl: 'https://lms.example.net/token',
        jwksUrl: 'https://lms.example.net/jwks',
      },
      issuer: 'https://lms.example.net',
    },
  ];

  /** Registers a platform through the operator's form, with a client id of the test's own. */
  async function registeredPlatform(preset: string, clientId: string): Promise<Platform> {
    const { fields, issuer } = presetCases.find((c) => c.preset === preset)!;
    const res = await operator.post('/admin/platforms', { preset, clientId, ...fields });
    expect(res.status, res.text).to.equal(303);
    const platform = await services.platforms.findByIssuerAndClient(issuer, clientId);
    if (platform === undefined) throw new Error(`the ${preset} platform was not stored`);
    return platform;
  }

  for (const { preset, fields, issuer } of presetCases) {
    it(`when the operator adds a platform with the ${preset} preset, then it is stored active and listed`, async () => {
      const clientId = `client-${preset}`;
      const res = await operator.post('/admin/platforms', { preset, clientId, ...fields });
      expect(res.status, res.text).to.equal(303);
      expect(res.headers.location).to.equal('/admin/platforms?done=platform-added');
      const stored = await services.platforms.findByIssuerAndClient(issuer, clientId);
      expect(stored?.status).to.equal('active');
      const page = await operator.get(res.headers.location as string);
      expect(page.text).to.contain('The platform was added.').and.to.contain(clientId);
    });
  }

  it('when the Moodle preset lacks its site URL, then the form comes back with the field error and the typed values', async () => {
    const res = await operator.post('/admin/platforms', { preset: 'moodle', clientId: 'moodle-x' });
    expect(res.status).to.equal(400);
    expect(res.text).to.contain('Enter the Moodle site URL');
    expect(res.text).to.match(/id="issuer"[^>]*aria-invalid="true"/);
    expect(res.text).to.match(/id="clientId"[^>]*value="moodle-x"/);
  });

  it('when the same platform is added twice, then the form says it is already registered', async () => {
    const platform = { preset: 'canvas', clientId: 'client-canvas-twice' };
    const first = await operator.post('/admin/platforms', platform);
    expect(first.status, first.text).to.equal(303);
    const res = await operator.post('/admin/platforms', platform);
    expect(res.status).to.equal(400);
    expect(res.text).to.contain('is already registered');
  });

  it('when frame origins are saved, then they are normalised to origins and refused unless https', async () => {
    const platform = await registeredPlatform('canvas', 'client-canvas-frames');
    const ok = await operator.post(`/admin/platforms/${platform.id}/frame-origins`, {
      frameOrigins: 'https://north.instructure.com/courses/1\nhttps://north.instructure.com',
    });
    expect(ok.status).to.equal(303);
    expect((await services.platforms.findById(platform.id))?.frameOrigins).to.deep.equal([
      'https://north.instructure.com',
    ]);
    const bad = await operator.post(`/admin/platforms/${platform.id}/frame-origins`, {
      frameOrigins: 'http://north.instructure.com',
    });
    expect(bad.status).to.equal(400);
    expect((await services.platforms.findById(platform.id))?.frameOrigins).to.deep.equal([
      'https://north.instructure.com',
    ]);
  });

  it('when the operator approves a pending registration for a district, then it becomes active and captures its first deployment there', async () => {
    const pending = await services.platforms.create({
      issuer: 'https://moodle.pending.example.org',
      clientId: 'pending-1',
      name: 'Pending Moodle',
      flavour: 'moodle',
      authLoginUrl: 'https://moodle.pending.example.org/mod/lti/auth.php',
      authTokenUrl: 'https://moodle.pending.example.org/mod/lti/token.php',
      jwksUrl: 'https://moodle.pending.example.org/mod/lti/certs.php',
      status: 'pending',
    });
    const page = await operator.get('/admin/platforms');
    expect(page.text).to.contain('Waiting for approval').and.to.contain('Pending Moodle');
    const res = await operator.post(`/admin/platforms/${pending.id}/approve`, {
      tenantId: south.id,
    });
    expect(res.status).to.equal(303);
    const approved = await services.platforms.findById(pending.id);
    expect(approved).to.include({
      status: 'active',
      captureFirstDeployment: true,
      defaultTenantId: south.id,
    });
  });

  it('when the operator rejects a pending registration, then it is removed', async () => {
    const pending = await services.platforms.create({
      issuer: 'https://moodle.reject.example.org',
      clientId: 'pending-2',
      name: 'Unknown Moodle',
      flavour: 'moodle',
      authLoginUrl: 'https://moodle.reject.example.org/mod/lti/auth.php',
      authTokenUrl: 'https://moodle.reject.example.org/mod/lti/token.php',
      jwksUrl: 'https://moodle.reject.example.org/mod/lti/certs.php',
      status: 'pending',
    });
    const res = await operator.post(`/admin/platforms/${pending.id}/reject`, {});
    expect(res.status).to.equal(303);
    expect(await services.platforms.findById(pending.id)).to.equal(undefined);
  });

  it('when the operator rotates keys, then a next key is published and the outcome is shown', async () => {
    const before = await services.toolKeys.list();
    expect(before.filter((k) => k.status === 'next')).to.have.length(0);
    const res = await operator.post('/admin/keys/rotate', {});
    expect(res.status).to.equal(200);
    const next = (await services.toolKeys.list()).find((k) => k.status === 'next');
    expect(next).not.to.equal(undefined);
    expect(res.text).to.contain(`A next key (${next!.kid}) is now published`);
    // Rotating again before the next key was published for a day is refused with the reason.
    const early = await operator.post('/admin/keys/rotate', {});
    expect(early.status).to.equal(409);
    expect(early.text).to.contain('has been published only since');
  });

  describe('district isolation', () => {
    let sharedPlatformId: string;
    let southDeploymentId: string;
    let southOnlyPlatformId: string;
    let district: SignedIn;

    before(async () => {
      // Platforms of this suite's own: one both districts use, one only the south uses.
      const shared = await registeredPlatform('schoology', 'client-schoology-shared');
      const southOnly = await registeredPlatform('generic', 'client-generic-south');
      sharedPlatformId = shared.id;
      southOnlyPlatformId = southOnly.id;
      await services.deployments.create({
        platformId: shared.id,
        deploymentId: '1111111111-2222222222',
        tenantId: north.id,
      });
      southDeploymentId = (
        await services.deployments.create({
          platformId: shared.id,
          deploymentId: '3333333333-4444444444',
          tenantId: south.id,
        })
      ).id;
      await services.deployments.create({
        platformId: southOnly.id,
        deploymentId: 'south-generic-1',
        tenantId: south.id,
      });
      district = await signIn(app, 'north-admin');
    });

    it('when a district admin lists deployments and platforms, then only their district’s appear', async () => {
      const deployments = await district.get('/admin/deployments');
      expect(deployments.status).to.equal(200);
      expect(deployments.text).to.contain('1111111111-2222222222');
      expect(deployments.text).not.to.contain('3333333333-4444444444');
      expect(deployments.text).not.to.contain('south-generic-1');
      const platforms = await district.get('/admin/platforms');
      expect(platforms.text).to.contain('client-schoology-shared');
      expect(platforms.text).not.to.contain('client-generic-south');
      expect(platforms.text).not.to.contain('Waiting for approval');
    });

    it('when a district admin removes another district’s deployment, then it is not found and stays', async () => {
      const res = await district.post(`/admin/deployments/${southDeploymentId}/remove`, {});
      expect(res.status).to.equal(404);
      expect(await services.deployments.findById(southDeploymentId)).not.to.equal(undefined);
    });

    it('when a district admin adds a deployment naming another district or its platform, then it lands in their own district or is refused', async () => {
      const added = await district.post('/admin/deployments', {
        platformId: sharedPlatformId,
        deploymentId: '5555555555-6666666666',
        tenantSlug: 'south-district',
      });
      expect(added.status, added.text).to.equal(303);
      const mine = await services.deployments.list({ tenantId: north.id });
      expect(mine.map((d) => d.deploymentId)).to.include('5555555555-6666666666');
      const foreign = await district.post('/admin/deployments', {
        platformId: southOnlyPlatformId,
        deploymentId: 'sneaky-1',
      });
      expect(foreign.status).to.equal(400);
      const all = await services.deployments.list();
      expect(all.map((d) => d.deploymentId)).not.to.include('sneaky-1');
    });

    it('when a district admin edits another district’s platform frame origins, then it is not found', async () => {
      const res = await district.post(`/admin/platforms/${southOnlyPlatformId}/frame-origins`, {
        frameOrigins: 'https://evil.example.com',
      });
      expect(res.status).to.equal(404);
      expect((await services.platforms.findById(southOnlyPlatformId))?.frameOrigins).to.deep.equal(
        [],
      );
    });

    it('when a district admin tries operator actions (approve, rotate keys), then they are forbidden', async () => {
      const pending = await services.platforms.create({
        issuer: 'https://canvas.pending.example.org',
        clientId: 'pending-3',
        name: 'Pending Canvas',
        flavour: 'canvas',
        authLoginUrl: 'https://canvas.pending.example.org/api/lti/authorize_redirect',
        authTokenUrl: 'https://canvas.pending.example.org/login/oauth2/token',
        jwksUrl: 'https://canvas.pending.example.org/api/lti/security/jwks',
        status: 'pending',
      });
      const approve = await district.post(`/admin/platforms/${pending.id}/approve`, {
        tenantId: north.id,
      });
      expect(approve.status).to.equal(403);
      expect((await services.platforms.findById(pending.id))?.status).to.equal('pending');
      const keysBefore = await services.toolKeys.list();
      const rotate = await district.post('/admin/keys/rotate', {});
      expect(rotate.status).to.equal(403);
      expect(await services.toolKeys.list()).to.have.length(keysBefore.length);
    });

    it('when a district admin removes their own deployment, then it is gone', async () => {
      const own = await services.deployments.create({
        platformId: sharedPlatformId,
        deploymentId: '7777777777-8888888888',
        tenantId: north.id,
      });
      const res = await district.post(`/admin/deployments/${own.id}/remove`, {});
      expect(res.status).to.equal(303);
      expect(await services.deployments.findById(own.id)).to.equal(undefined);
    });
  });

  it('the Canvas developer key JSON names the tool URLs under the public URL', async () => {
    const res = await request(app).get('/lti/canvas.json');
    expect(res.status).to.equal(200);
    const body = res.body as Record<string, unknown>;
    expect(body.oidc_initiation_url).to.equal(`${PUBLIC_URL}/lti/login`);
    expect(body.target_link_uri).to.equal(`${PUBLIC_URL}/lti/launch`);
    expect(body.public_jwk_url).to.equal(`${PUBLIC_URL}/.well-known/jwks.json`);
  });
});
