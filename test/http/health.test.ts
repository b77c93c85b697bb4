import { PGlite } from '@electric-sql/pglite';
import { expect } from 'chai';
import request from 'supertest';
import { createLogger } from '../../src/logger.ts';
import { fromPGlite, openDatabase } from '../../src/storage/database.ts';
import { buildTestApp, metricsAuthorization } from '../support/app.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';

interface ReadyBody {
  status: string;
  checks: Partial<Record<string, { ok: boolean; reason?: string }>>;
}

const body = (res: request.Response): ReadyBody => res.body as ReadyBody;

describe(`health, readiness and metrics (${testEngine})`, () => {
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase();
  });

  after(async () => {
    await database.close();
  });

  it('when the process is up, then /healthz answers 200 and is never cached', async () => {
    const { app } = buildTestApp(database);
    const res = await request(app).get('/healthz').expect(200);
    expect(res.body).to.deep.equal({ status: 'ok' });
    expect(res.headers['cache-control']).to.equal('no-store');
  });

  it('when the database answers and is migrated, then /readyz answers 200 with each check', async () => {
    const { app } = buildTestApp(database);
    const res = await request(app).get('/readyz').expect(200);
    expect(res.body).to.deep.equal({
      status: 'ready',
      checks: { database: { ok: true }, migrations: { ok: true } },
    });
  });

  it('when migrations are pending, then /readyz answers 503 and names them', async () => {
    const fresh = fromPGlite(new PGlite(), 'pglite:memory');
    try {
      const { app } = buildTestApp(fresh);
      const res = await request(app).get('/readyz').expect(503);
      expect(body(res).status).to.equal('unavailable');
      expect(body(res).checks.migrations?.reason).to.match(/^pending migrations: .*create-tenants/);
    } finally {
      await fresh.close();
    }
  });

  it('when the PostgreSQL server is unreachable, then /readyz answers 503 with the reason and /healthz stays 200', async () => {
    const unreachable = openDatabase(
      {
        url: 'postgres://nobody@127.0.0.1:1/none',
        dataDir: '',
        poolMax: 1,
        connectTimeoutMs: 1000,
      },
      createLogger({ level: 'silent' }),
    );
    try {
      const { app } = buildTestApp(unreachable);
      const res = await request(app).get('/readyz').expect(503);
      expect(body(res).checks.database?.ok).to.equal(false);
      expect(body(res).checks.database?.reason).to.match(/^database unreachable: .*ECONNREFUSED/);
      await request(app).get('/healthz').expect(200);
    } finally {
      await unreachable.close();
    }
  });

  it('when the service is shutting down, then /readyz answers 503 so load balancers drain it', async () => {
    const { app, deps } = buildTestApp(database);
    deps.readiness.markShuttingDown();
    const res = await request(app).get('/readyz').expect(503);
    expect(body(res).checks.process).to.deep.equal({ ok: false, reason: 'shutting down' });
  });

  it('when requests were served, then /metrics exposes them by route pattern in Prometheus format', async () => {
    const { app } = buildTestApp(database);
    await request(app).get('/healthz').expect(200);
    await request(app).get('/no/such/page').expect(404);
    const res = await request(app).get('/metrics').set(metricsAuthorization).expect(200);
    expect(res.headers['content-type']).to.match(/^text\/plain; version=0\.0\.4/);
    expect(res.text).to.contain(
      'http_requests_total{method="GET",route="/healthz",status="200"} 1',
    );
    // Unknown URLs are counted under one label, so a scanner cannot explode the series count.
    expect(res.text).to.contain(
      'http_requests_total{method="GET",route="unmatched",status="404"} 1',
    );
    expect(res.text).not.to.contain('/no/such/page');
  });

  it('when a request is logged, then the line has a request id and the path without its query string', async () => {
    const { app, logs } = buildTestApp(database);
    const res = await request(app)
      .get('/?login_hint=secret-hint&name=Jane%20Doe')
      .set('X-Request-Id', 'proxy-req-12345678')
      .expect(200);
    expect(res.headers['x-request-id']).to.equal('proxy-req-12345678');
    const line = logs.lines.find((l) => l.msg === 'request completed');
    expect(line).to.deep.include({ req: { id: 'proxy-req-12345678', method: 'GET', path: '/' } });
    expect(logs.text()).not.to.contain('secret-hint');
    expect(logs.text()).not.to.contain('Jane');
  });

  it('when a proxy sends a malformed request id, then a fresh one is generated', async () => {
    const { app } = buildTestApp(database);
    const res = await request(app)
      .get('/healthz')
      .set('X-Request-Id', 'bad id with spaces')
      .expect(200);
    expect(res.headers['x-request-id']).to.match(/^[0-9a-f-]{36}$/);
  });
});
