import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createJobRunner } from '../../../src/jobs/runner.ts';
import { createLogger } from '../../../src/logger.ts';
import type { ImportReport } from '../../../src/standards/import.ts';
import {
  createImportJobs,
  IMPORT_CRASHED_MESSAGE,
  type ImportJobs,
  type ImportWork,
} from '../../../src/standards/import-jobs.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../../support/database.ts';
import { createTenant } from './helpers.ts';

describe(`standards import jobs on the job runner (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let clock: Date;
  let tenantId: string;
  const logger = createLogger({ level: 'silent' });

  /** One app instance's import jobs, on its own runner, with the test's clock. */
  const instance = (work: ImportWork): ImportJobs =>
    createImportJobs({
      db: database.db,
      runner: createJobRunner({
        db: database.db,
        now: () => clock,
        sleep: () => Promise.resolve(),
        logger,
      }),
      now: () => clock,
      newId: randomUUID,
      logger,
      work,
    });

  const file = { source: 'file' as const, actor: 'admin:x', filename: 'a.json', text: '{}' };

  async function settled(jobs: ImportJobs, id: string) {
    for (let i = 0; i < 200; i++) {
      const state = await jobs.find(tenantId, id);
      if (state?.running === false) return state;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('the job did not finish');
  }

  beforeEach(async () => {
    database = await createTestDatabase();
    clock = new Date('2026-12-08T03:00:00.000Z');
    tenantId = await createTenant(database.db, 'district-imports');
  });
  afterEach(async () => {
    await database.close();
  });

  it('when an import job finishes, then another instance reads its outcome from the job row', async () => {
    const importId = randomUUID();
    const report: ImportReport = { ok: false, importId, errors: [] };
    const jobs = instance((_tenant, _payload, progress) => {
      progress.phase = 'items';
      progress.done = 3;
      progress.total = 3;
      return Promise.resolve(report);
    });
    const id = await jobs.start(tenantId, file);
    const live = await settled(jobs, id);
    expect(live).to.include({ label: 'a.json', importId, done: 3, total: 3, failure: undefined });
    const elsewhere = await instance(() => Promise.reject(new Error('unused'))).find(tenantId, id);
    expect(elsewhere).to.include({ running: false, importId, label: 'a.json', phase: 'done' });
    expect(await jobs.find(randomUUID(), id)).to.equal(undefined);
  });

  it('when an import job crashes, then it is failed at once (no retry) and says so to people', async () => {
    const jobs = instance(() => Promise.reject(new Error('disk on fire')));
    const id = await jobs.start(tenantId, file);
    expect(await settled(jobs, id)).to.include({ failure: IMPORT_CRASHED_MESSAGE });
    const row = await database.db
      .selectFrom('jobs')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.status).to.equal('failed');
    expect(row.attempts).to.equal(1);
  });

  it('when finished jobs are older than the retention on the injected clock, then the job row answers for them', async () => {
    const importId = randomUUID();
    const jobs = instance(() => Promise.resolve({ ok: false, importId, errors: [] }));
    const first = await jobs.start(tenantId, file);
    await settled(jobs, first);
    clock = new Date(clock.getTime() + 31 * 60 * 1000);
    await settled(jobs, await jobs.start(tenantId, file));
    expect(await jobs.find(tenantId, first)).to.include({ importId, phase: 'done' });
  });

  it('when a CASE server import has an access token, then the work gets it and the job row does not keep it', async () => {
    const seen: (string | undefined)[] = [];
    const jobs = instance((_tenant, _payload, _progress, secrets) => {
      seen.push(secrets.token);
      return Promise.resolve({ ok: false, importId: randomUUID(), errors: [] });
    });
    const url = 'https://case.example.org/ims/case/v1p0/CFPackages/x';
    const id = await jobs.start(tenantId, {
      source: 'case_server',
      actor: 'admin:x',
      url,
      token: 'secret-token',
    });
    await settled(jobs, id);
    expect(seen).to.deep.equal(['secret-token']);
    const row = await database.db
      .selectFrom('jobs')
      .select('payload')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row.payload)).to.contain(url).and.not.to.contain('secret-token');
  });
});
