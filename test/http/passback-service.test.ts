import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { metricsAuthorization } from '../support/app.ts';
import { startServiceProcess, waitFor, type ServiceProcess } from '../support/process.ts';

/**
 * How long a service process may take to start, open its PGlite data folder and migrate. Seconds
 * when the machine is idle, far more on a loaded 2-core CI runner; no test here is about speed.
 */
const STARTUP = { timeoutMs: 90_000 };

/** The passback worker inside the real service process: started after migrations, stopped on SIGTERM. */
describe('grade passback worker in the service (real process)', function () {
  this.timeout(180_000);
  const started: ServiceProcess[] = [];
  const start = (env: Record<string, string>): ServiceProcess => {
    const service = startServiceProcess(env);
    started.push(service);
    return service;
  };
  const freshDataDir = () => path.join(mkdtempSync(path.join(tmpdir(), 'mp-passback-')), 'pglite');

  afterEach(() => {
    for (const service of started.splice(0)) {
      if (service.child.exitCode === null && service.child.signalCode === null)
        service.child.kill('SIGKILL');
    }
  });

  it('when the service starts, then the worker starts after the migrations, its metrics are on /metrics, and SIGTERM stops it cleanly', async () => {
    const service = start({ DATA_DIR: freshDataDir(), PASSBACK_REQUESTS_PER_SECOND: '5' });
    const port = await service.port;
    await waitFor(
      () =>
        Promise.resolve(service.logLines().some((l) => l.msg === 'grade passback worker started')),
      STARTUP,
    );
    const messages = service.logLines().map((l) => l.msg);
    expect(messages.indexOf('grade passback worker started')).to.be.greaterThan(
      messages.findIndex((m) => m === 'migrations applied' || m === 'schema up to date'),
    );
    const metrics = await (
      await fetch(`http://127.0.0.1:${port}/metrics`, { headers: metricsAuthorization })
    ).text();
    expect(metrics).to.contain('# TYPE passback_posts_total counter');
    expect(metrics).to.contain('# TYPE passback_queue_depth gauge');
    expect(metrics).to.contain('# TYPE passback_oldest_pending_seconds gauge');
    service.child.kill('SIGTERM');
    expect(await service.exited).to.deep.equal({ code: 0, signal: null });
    const after = service.logLines().map((l) => l.msg);
    expect(after).to.include('grade passback worker stopped');
    expect(after.indexOf('grade passback worker stopped')).to.be.below(
      after.indexOf('shutdown complete'),
    );
  });

  it('when PASSBACK_WORKER is false, then this instance runs no worker', async () => {
    const service = start({ DATA_DIR: freshDataDir(), PASSBACK_WORKER: 'false' });
    const port = await service.port;
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200,
      STARTUP,
    );
    // A fresh data folder made from the build's migrated template logs "schema up to date".
    await waitFor(
      () =>
        Promise.resolve(
          service
            .logLines()
            .some((l) => l.msg === 'migrations applied' || l.msg === 'schema up to date'),
        ),
      STARTUP,
    );
    service.child.kill('SIGTERM');
    expect(await service.exited).to.deep.equal({ code: 0, signal: null });
    expect(service.logLines().some((l) => l.msg === 'grade passback worker started')).to.equal(
      false,
    );
  });

  it('when a passback setting is wrong, then the service refuses to start and names the variable', async () => {
    const service = start({ DATA_DIR: freshDataDir(), PASSBACK_REQUESTS_PER_SECOND: 'fast' });
    const exit = await service.exited;
    expect(exit.code).to.equal(78);
    expect(service.output()).to.contain('PASSBACK_REQUESTS_PER_SECOND');
  });
});
