import { expect } from 'chai';
import {
  createJobRunner,
  JobLeaseLostError,
  type JobContext,
  type JobHandler,
  type JobRunner,
} from '../../src/jobs/runner.ts';
import { createLogger } from '../../src/logger.ts';
import { findJob, listJobs } from '../../src/storage/jobs/jobs.repository.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';

const LEASE_MS = 60_000;

/** A promise and its resolver: a handler that waits until the test lets it go on. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe(`background job runner (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let clock: Date;
  let tenantId: string;
  const logger = createLogger({ level: 'silent' });

  const tick = (ms: number): void => {
    clock = new Date(clock.getTime() + ms);
  };
  const runner = (workerId: string): JobRunner =>
    createJobRunner({
      db: database.db,
      now: () => clock,
      sleep: () => Promise.resolve(),
      logger,
      workerId,
      // The low end of the jitter: each delay is exactly half its ceiling.
      random: () => 0,
      limits: { leaseMs: LEASE_MS, baseBackoffMs: 1_000, maxBackoffMs: 60_000 },
    });
  const row = (id: string) =>
    database.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  beforeEach(async () => {
    database = await createTestDatabase();
    clock = new Date('2026-12-08T03:00:00.000Z');
    const tenant = await database.db
      .insertInto('tenants')
      .values({ slug: 'district-jobs', name: 'District of jobs' })
      .returning('id')
      .executeTakeFirstOrThrow();
    tenantId = tenant.id;
  });
  afterEach(async () => {
    await database.close();
  });

  it('when a job is queued, then a runner claims it, runs its handler with the payload and marks it succeeded', async () => {
    const a = runner('runner-a');
    const seen: unknown[] = [];
    a.register('test.echo', ({ job }: JobContext) => {
      seen.push({ payload: job.payload, attempts: job.attempts, tenantId: job.tenantId });
      return Promise.resolve();
    });
    const queued = await a.enqueue({ tenantId, kind: 'test.echo', payload: { courseId: 'c1' } });
    expect(queued).to.include({ status: 'queued', attempts: 0 });
    expect(await a.runUntilIdle()).to.equal(1);
    expect(seen).to.deep.equal([{ payload: { courseId: 'c1' }, attempts: 1, tenantId }]);
    const done = await findJob(database.db, tenantId, queued.id);
    expect(done).to.include({ status: 'succeeded', attempts: 1 });
    expect(done?.finishedAt?.toISOString()).to.equal(clock.toISOString());
    expect((await row(queued.id)).claimed_by).to.equal(null);
    expect(await a.runUntilIdle()).to.equal(0);
  });

  it('when a job is of a kind the runner has no handler for, then the runner leaves it queued', async () => {
    const a = runner('runner-a');
    a.register('test.known', () => Promise.resolve());
    const other = await a.enqueue({ tenantId, kind: 'test.unknown' });
    expect(await a.runUntilIdle()).to.equal(0);
    expect(await findJob(database.db, tenantId, other.id)).to.include({ status: 'queued' });
  });

  it('when a job is queued to run later, then it is not claimed before its time', async () => {
    const a = runner('runner-a');
    a.register('test.later', () => Promise.resolve());
    await a.enqueue({ tenantId, kind: 'test.later', runAt: new Date(clock.getTime() + 5_000) });
    expect(await a.runUntilIdle()).to.equal(0);
    tick(5_000);
    expect(await a.runUntilIdle()).to.equal(1);
  });

  it('when the runner running a job dies, then no runner takes the job before its lease ends and another takes it up after', async () => {
    const dead = runner('runner-dead');
    const stuck = gate();
    const starts: string[] = [];
    const slowHandler: JobHandler = async ({ job }) => {
      starts.push(`dead:${job.attempts}`);
      await stuck.promise;
    };
    dead.register('test.crash', slowHandler);
    const job = await dead.enqueue({ tenantId, kind: 'test.crash' });
    // The first runner claims the job and hangs in it: its process is gone for the database.
    const abandoned = dead.runOnce();
    while (starts.length === 0) await new Promise((resolve) => setImmediate(resolve));
    expect(await row(job.id)).to.include({ status: 'running', claimed_by: 'runner-dead' });

    const alive = runner('runner-alive');
    alive.register('test.crash', ({ job: claimed }) => {
      starts.push(`alive:${claimed.attempts}`);
      return Promise.resolve();
    });
    tick(LEASE_MS - 1);
    expect(await alive.runUntilIdle()).to.equal(0);
    tick(1);
    expect(await alive.runUntilIdle()).to.equal(1);
    expect(starts).to.deep.equal(['dead:1', 'alive:2']);
    expect(await row(job.id)).to.include({ status: 'succeeded', attempts: 2, claimed_by: null });

    // The first runner wakes up after all: it no longer holds the job and stores nothing.
    stuck.open();
    expect(await abandoned).to.equal('lost');
    expect(await row(job.id)).to.include({ status: 'succeeded', attempts: 2 });
  });

  it('when a job keeps dying with its runner, then after its last attempt it is failed and not run again', async () => {
    const starts: number[] = [];
    const job = await runner('setup').enqueue({ tenantId, kind: 'test.poison', maxAttempts: 2 });
    for (const name of ['first', 'second', 'third']) {
      const r = runner(name);
      const never = gate();
      r.register('test.poison', async ({ job: claimed }) => {
        starts.push(claimed.attempts);
        await never.promise;
      });
      void r.runOnce();
      await new Promise((resolve) => setTimeout(resolve, 50));
      tick(LEASE_MS);
    }
    expect(starts).to.deep.equal([1, 2]);
    const failed = await findJob(database.db, tenantId, job.id);
    expect(failed).to.include({ status: 'failed', attempts: 3 });
    expect(failed?.lastError).to.contain('stopped 2 times');
  });

  it('when a handler fails, then the job is retried after a backoff that doubles, and failed after its last attempt', async () => {
    const a = runner('runner-a');
    const attempts: number[] = [];
    a.register('test.flaky', ({ job }) => {
      attempts.push(job.attempts);
      return Promise.reject(new Error(`boom ${job.attempts}`));
    });
    const job = await a.enqueue({ tenantId, kind: 'test.flaky', maxAttempts: 3 });
    const start = clock.getTime();

    expect(await a.runOnce()).to.equal('retrying');
    let stored = await row(job.id);
    expect(stored).to.include({ status: 'queued', attempts: 1, claimed_by: null });
    expect(stored.last_error).to.equal('Error: boom 1');
    expect(stored.run_at.getTime() - start).to.equal(500); // half of 1 s
    expect(await a.runUntilIdle()).to.equal(0);

    tick(500);
    expect(await a.runOnce()).to.equal('retrying');
    stored = await row(job.id);
    expect(stored.run_at.getTime() - clock.getTime()).to.equal(1_000); // half of 2 s

    tick(1_000);
    expect(await a.runOnce()).to.equal('failed');
    stored = await row(job.id);
    expect(stored).to.include({ status: 'failed', attempts: 3, last_error: 'Error: boom 3' });
    expect(stored.finished_at?.toISOString()).to.equal(clock.toISOString());
    tick(60 * 60_000);
    expect(await a.runUntilIdle()).to.equal(0);
    expect(attempts).to.deep.equal([1, 2, 3]);
  });

  it('when a handler reports progress, then done, total and note are stored and the lease is extended', async () => {
    const a = runner('runner-a');
    const seen: unknown[] = [];
    a.register('test.progress', async ({ job, progress }) => {
      tick(30_000);
      await progress(1, 3, 'standards');
      const mid = await row(job.id);
      seen.push({
        done: mid.done,
        total: mid.total,
        note: mid.note,
        leaseMs: (mid.claimed_until?.getTime() ?? 0) - clock.getTime(),
      });
      await progress(3, 3);
    });
    const job = await a.enqueue({ tenantId, kind: 'test.progress' });
    await a.runUntilIdle();
    expect(seen).to.deep.equal([{ done: 1, total: 3, note: 'standards', leaseMs: LEASE_MS }]);
    expect(await findJob(database.db, tenantId, job.id)).to.include({
      status: 'succeeded',
      done: 3,
      total: 3,
      note: null,
    });
  });

  it('when a runner’s lease was taken over, then its next progress report throws and it stores nothing', async () => {
    const a = runner('runner-a');
    const b = runner('runner-b');
    const paused = gate();
    const errors: unknown[] = [];
    a.register('test.stall', async ({ progress }) => {
      await paused.promise;
      try {
        await progress(1, 2);
      } catch (error) {
        errors.push(error);
        throw error;
      }
    });
    b.register('test.stall', async ({ progress }) => {
      await progress(2, 2, 'b');
    });
    const job = await a.enqueue({ tenantId, kind: 'test.stall' });
    const stalled = a.runOnce();
    await new Promise((resolve) => setTimeout(resolve, 50));
    tick(LEASE_MS);
    expect(await b.runOnce()).to.equal('succeeded');
    paused.open();
    expect(await stalled).to.equal('lost');
    expect(errors[0]).to.be.instanceOf(JobLeaseLostError);
    expect(await findJob(database.db, tenantId, job.id)).to.include({
      status: 'succeeded',
      done: 2,
      note: 'b',
    });
  });

  it('when two runners claim at the same time, then every job runs exactly once', async () => {
    const ran: string[] = [];
    const runners = [runner('runner-a'), runner('runner-b')];
    for (const r of runners) {
      r.register('test.once', async ({ job }) => {
        ran.push(job.id);
        // Yield between claim and completion, so the other runner claims meanwhile.
        await new Promise((resolve) => setImmediate(resolve));
      });
    }
    const ids: string[] = [];
    for (let i = 0; i < 12; i += 1) {
      ids.push((await runners[0]!.enqueue({ tenantId, kind: 'test.once' })).id);
    }
    const counts = await Promise.all(runners.map((r) => r.runUntilIdle()));
    expect(counts.reduce((a, b) => a + b, 0)).to.equal(12);
    expect([...ran].sort()).to.deep.equal([...ids].sort());
    const jobs = await listJobs(database.db, tenantId, 'test.once', 100);
    expect(jobs.every((j) => j.status === 'succeeded' && j.attempts === 1)).to.equal(true);
  });

  it('when a job is run here, then it is claimed from the start and finished settles with its outcome', async () => {
    const a = runner('runner-a');
    const b = runner('runner-b');
    const release = gate();
    a.register('test.here', async () => {
      await release.promise;
    });
    b.register('test.here', () => Promise.reject(new Error('must not run')));
    const { job, finished } = await a.runHere({ tenantId, kind: 'test.here' });
    expect(job).to.include({ status: 'running', attempts: 1 });
    expect(await b.runUntilIdle()).to.equal(0);
    release.open();
    expect(await finished).to.equal('succeeded');
    expect(await findJob(database.db, tenantId, job.id)).to.include({ status: 'succeeded' });
  });

  it('when a runner stops while a job runs, then the job is given back and the next runner starts it again', async () => {
    const a = runner('runner-a');
    const started = gate();
    a.register('test.long', ({ signal }) => {
      started.open();
      return new Promise<void>((_resolve, reject) => {
        signal.addEventListener('abort', () => {
          reject(new Error('stopping'));
        });
      });
    });
    const job = await a.enqueue({ tenantId, kind: 'test.long' });
    a.start();
    await started.promise;
    await a.stop();
    expect(await row(job.id)).to.include({ status: 'queued', attempts: 0, claimed_by: null });

    const b = runner('runner-b');
    b.register('test.long', () => Promise.resolve());
    expect(await b.runUntilIdle()).to.equal(1);
    expect(await row(job.id)).to.include({ status: 'succeeded', attempts: 1 });
  });

  it('when a district’s job is looked up from another district, then it is not found', async () => {
    const a = runner('runner-a');
    const job = await a.enqueue({ tenantId, kind: 'test.private' });
    const other = await database.db
      .insertInto('tenants')
      .values({ slug: 'district-other', name: 'Other district' })
      .returning('id')
      .executeTakeFirstOrThrow();
    expect(await findJob(database.db, other.id, job.id)).to.equal(undefined);
    expect(await findJob(database.db, tenantId, 'not-a-uuid')).to.equal(undefined);
  });
});
