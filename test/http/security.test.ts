import { expect } from 'chai';
import request from 'supertest';
import { attemptSignIn, buildApp as buildAdminApp } from '../support/admin-session.ts';
import { buildTestApp, metricsAuthorization, TEST_METRICS_TOKEN } from '../support/app.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';

function directive(csp: string | undefined, name: string): string | undefined {
  return csp
    ?.split(';')
    .map((d) => d.trim())
    .find((d) => d.startsWith(`${name} `));
}

describe(`security headers (${testEngine})`, () => {
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase();
  });

  after(async () => {
    await database.close();
  });

  it('when a page is served, then only our origin may frame it, run scripts or receive forms', async () => {
    const { app } = buildTestApp(database);
    const res = await request(app).get('/').expect(200);
    const csp = res.headers['content-security-policy'];
    expect(directive(csp, 'frame-ancestors')).to.equal("frame-ancestors 'self'");
    expect(directive(csp, 'script-src')).to.equal("script-src 'self'");
    expect(directive(csp, 'object-src')).to.equal("object-src 'none'");
    expect(directive(csp, 'form-action')).to.equal("form-action 'self'");
    // X-Frame-Options cannot name several LMS origins, so it must be absent (CSP governs framing).
    expect(res.headers['x-frame-options']).to.equal(undefined);
    expect(res.headers['x-content-type-options']).to.equal('nosniff');
    expect(res.headers['x-powered-by']).to.equal(undefined);
  });

  it('when LMS platforms are registered or origins configured, then exactly those may frame the tool', async () => {
    let platforms: readonly string[] = ['https://district.instructure.com'];
    const { app } = buildTestApp(database, {
      env: { FRAME_ANCESTORS: 'https://classroom.google.com' },
      platformOrigins: () => platforms,
    });
    let res = await request(app).get('/').expect(200);
    expect(directive(res.headers['content-security-policy'], 'frame-ancestors')).to.equal(
      "frame-ancestors 'self' https://classroom.google.com https://district.instructure.com",
    );
    // A newly registered platform takes effect without a restart.
    platforms = [...platforms, 'https://app.schoology.com'];
    res = await request(app).get('/').expect(200);
    expect(directive(res.headers['content-security-policy'], 'frame-ancestors')).to.contain(
      'https://app.schoology.com',
    );
  });

  it('when served over https, then HSTS is sent and insecure requests are upgraded; over http neither', async () => {
    const secure = buildTestApp(database, { env: { PUBLIC_URL: 'https://mastery.example.org' } });
    let res = await request(secure.app).get('/').expect(200);
    expect(res.headers['strict-transport-security']).to.match(/^max-age=\d+/);
    expect(res.headers['content-security-policy']).to.contain('upgrade-insecure-requests');
    const local = buildTestApp(database);
    res = await request(local.app).get('/').expect(200);
    expect(res.headers['strict-transport-security']).to.equal(undefined);
    expect(res.headers['content-security-policy']).not.to.contain('upgrade-insecure-requests');
  });

  it('when another origin makes a credentialed cross-origin request or preflight, then no CORS grant is given', async () => {
    const { app } = buildTestApp(database);
    const res = await request(app)
      .get('/healthz')
      .set('Origin', 'https://evil.example')
      .set('Cookie', 'session=abc')
      .expect(200);
    expect(res.headers['access-control-allow-origin']).to.equal(undefined);
    expect(res.headers['access-control-allow-credentials']).to.equal(undefined);
    const preflight = await request(app)
      .options('/healthz')
      .set('Origin', 'https://evil.example')
      .set('Access-Control-Request-Method', 'POST');
    expect(preflight.headers['access-control-allow-origin']).to.equal(undefined);
  });

  it('when a page is not found, then the error page shows a code and request id and escapes the URL', async () => {
    const { app } = buildTestApp(database);
    const res = await request(app).get('/<script>alert(1)</script>').expect(404);
    expect(res.headers['content-type']).to.match(/^text\/html/);
    expect(res.text).to.contain('not_found');
    expect(res.text).to.contain(res.headers['x-request-id']);
    expect(res.text).not.to.contain('<script>alert(1)</script>');
  });

  it('when a server error happens, then people see a generic message and the log keeps the detail', async () => {
    const { app, logs } = buildTestApp(database);
    // A static file request for a path that escapes the folder is refused by serve-static; force a
    // real server error instead by asking the view engine for a view that does not exist.
    app.set('views', '/nonexistent-views-folder');
    const res = await request(app).get('/').expect(500);
    expect(res.text).to.contain('Something went wrong on our side.');
    expect(res.text).not.to.contain('nonexistent-views-folder');
    const line = logs.lines.find((l) => l.msg === 'request failed');
    expect(line?.code).to.equal('internal_error');
    expect(JSON.stringify(line)).to.contain('nonexistent-views-folder');
  });

  it('when an admin sign-in fails or is throttled, then the log keeps the request id and a keyed hash, never the typed username', async () => {
    const { app, logs } = buildAdminApp(database);
    const typed = 'ms.x@district.example.org';
    for (let i = 0; i < 7; i++) await attemptSignIn(app, typed, 'wrong password');
    const failed = logs.lines.filter((l) => l.msg === 'admin sign-in failed');
    const throttled = logs.lines.filter((l) => l.msg === 'admin sign-in throttled');
    expect(failed).to.have.length.greaterThan(0);
    expect(throttled).to.have.length.greaterThan(0);
    const text = logs.text().toLowerCase();
    expect(text).not.to.contain('ms.x');
    expect(text).not.to.contain('district.example.org');
    expect(text).not.to.contain('wrong password');
    for (const line of [...failed, ...throttled]) {
      expect(line.requestId).to.be.a('string');
      expect(line.usernameKey).to.be.a('string').with.length(16);
    }
    // The same username gives the same key, so repeated attempts can be told apart.
    expect(new Set(failed.map((l) => l.usernameKey)).size).to.equal(1);
  });

  it('when /metrics is asked for without the METRICS_TOKEN, with a wrong one, or with the setting unset, then it answers 401 and shows nothing', async () => {
    const { app } = buildTestApp(database);
    const bare = await request(app).get('/metrics').expect(401);
    expect(bare.headers['www-authenticate']).to.match(/^Bearer/);
    expect(bare.text).not.to.contain('http_requests_total');
    const wrong = await request(app)
      .get('/metrics')
      .set('Authorization', `Bearer ${TEST_METRICS_TOKEN.slice(0, -1)}x`)
      .expect(401);
    expect(wrong.text).not.to.contain('http_requests_total');
    const basic = await request(app)
      .get('/metrics')
      .set('Authorization', `Basic ${Buffer.from(`x:${TEST_METRICS_TOKEN}`).toString('base64')}`)
      .expect(401);
    expect(basic.text).not.to.contain('http_requests_total');
    const unset = buildTestApp(database, { env: { METRICS_TOKEN: '' } });
    const off = await request(unset.app).get('/metrics').set(metricsAuthorization).expect(401);
    expect(off.text).to.contain('set METRICS_TOKEN');
    // The right token reads them.
    const ok = await request(app).get('/metrics').set(metricsAuthorization).expect(200);
    expect(ok.text).to.contain('http_requests_total');
  });
});
