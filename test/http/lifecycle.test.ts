import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import express from 'express';
import { listen } from '../../src/server.ts';
import { createLogger } from '../../src/logger.ts';
import { startServiceProcess, waitFor, type ServiceProcess } from '../support/process.ts';

const status = async (url: string): Promise<number> => (await fetch(url)).status;

async function publishedKids(port: number): Promise<string[]> {
  const res = await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`);
  if (!res.ok) return [];
  const jwks = (await res.json()) as { keys: { kid?: string }[] };
  return jwks.keys.map((k) => k.kid ?? '').sort();
}

describe('service lifecycle (real process)', function () {
  this.timeout(60_000);
  const started: ServiceProcess[] = [];
  const start = (env: Record<string, string>): ServiceProcess => {
    const service = startServiceProcess(env);
    started.push(service);
    return service;
  };

  afterEach(() => {
    // A failed assertion must not leave a server running (it would keep mocha alive).
    for (const service of started.splice(0)) {
      if (service.child.exitCode === null && service.child.signalCode === null)
        service.child.kill('SIGKILL');
    }
  });

  it('when started on a fresh data folder, then it becomes ready, stops on SIGTERM with exit 0 and keeps its data', async () => {
    const dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'mp-life-')), 'pglite');
    const first = start({ DATA_DIR: dataDir });
    const port = await first.port;
    await waitFor(async () => (await status(`http://127.0.0.1:${port}/readyz`)) === 200);
    expect(await status(`http://127.0.0.1:${port}/healthz`)).to.equal(200);
    // The tool's signing key is created at the first start and stored in the database.
    let kids: string[] = [];
    await waitFor(async () => {
      kids = await publishedKids(port);
      return kids.length > 0;
    });
    first.child.kill('SIGTERM');
    expect(await first.exited).to.deep.equal({ code: 0, signal: null });
    expect(first.logLines().some((l) => l.msg === 'shutdown complete')).to.equal(true);

    // The second start finds the schema already there: the data survived the restart.
    const second = start({ DATA_DIR: dataDir });
    const port2 = await second.port;
    await waitFor(async () => (await status(`http://127.0.0.1:${port2}/readyz`)) === 200);
    await waitFor(() =>
      Promise.resolve(second.logLines().some((l) => l.msg === 'schema up to date')),
    );
    expect(second.logLines().some((l) => l.msg === 'migrations applied')).to.equal(false);
    // Same key as before the restart: the data survived.
    expect(await publishedKids(port2)).to.deep.equal(kids);
    second.child.kill('SIGINT');
    expect((await second.exited).code).to.equal(0);
  });

  it('when the PostgreSQL server is unreachable, then the process keeps serving with /readyz 503 and still stops cleanly', async () => {
    const service = start({
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      DB_CONNECT_TIMEOUT_MS: '500',
    });
    const port = await service.port;
    await waitFor(() =>
      Promise.resolve(
        service
          .logLines()
          .some((l) => l.msg === 'database not ready; will retry (see /readyz for the reason)'),
      ),
    );
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(res.status).to.equal(503);
    const body = (await res.json()) as { checks: { database: { reason: string } } };
    expect(body.checks.database.reason).to.contain('ECONNREFUSED');
    expect(await status(`http://127.0.0.1:${port}/healthz`)).to.equal(200);
    expect(service.child.exitCode).to.equal(null);
    service.child.kill('SIGTERM');
    expect((await service.exited).code).to.equal(0);
  });

  it('when a setting is invalid, then the process exits 78 naming the variable, before listening', async () => {
    const service = start({ PORT: 'not-a-port', LOG_LEVEL: 'chatty' });
    const exit = await service.exited;
    expect(exit.code).to.equal(78);
    expect(service.output()).to.contain('PORT: ');
    expect(service.output()).to.contain('LOG_LEVEL: ');
    expect(service.output()).not.to.contain('"msg":"listening"');
  });

  it('when closing with a request in flight, then that request completes and new connections are refused', async () => {
    const app = express();
    let release: () => void = () => undefined;
    const started = new Promise<void>((resolveStarted) => {
      app.get('/slow', (_req, res) => {
        resolveStarted();
        release = () => res.send('finished');
      });
    });
    const server = await listen(
      app,
      { host: '127.0.0.1', port: 0 },
      createLogger({ level: 'silent' }),
    );
    const inFlight = fetch(`http://127.0.0.1:${server.port}/slow`);
    await started;
    const closing = server.close(5000);
    let failure: unknown;
    try {
      await fetch(`http://127.0.0.1:${server.port}/slow`, { signal: AbortSignal.timeout(2000) });
    } catch (error) {
      failure = error;
    }
    // Refused at connect: not a timeout (a server still accepting but never answering would
    // also end in an error, an AbortSignal TimeoutError, and must not count as refused).
    expect(failure).to.be.instanceOf(TypeError);
    expect((failure as Error).name).not.to.equal('TimeoutError');
    expect((failure as { cause?: { code?: string } }).cause?.code).to.equal('ECONNREFUSED');
    release();
    const res = await inFlight;
    expect(await res.text()).to.equal('finished');
    await closing;
  });

  it('when a request outlives the shutdown timeout, then its connection is cut so shutdown still ends', async () => {
    const app = express();
    let started: () => void = () => undefined;
    const isStarted = new Promise<void>((resolve) => (started = resolve));
    app.get('/hang', () => {
      started();
    });
    const server = await listen(
      app,
      { host: '127.0.0.1', port: 0 },
      createLogger({ level: 'silent' }),
    );
    const hanging = fetch(`http://127.0.0.1:${server.port}/hang`).then(
      () => 'answered',
      () => 'cut',
    );
    await isStarted;
    await server.close(200);
    expect(await hanging).to.equal('cut');
  });
});
