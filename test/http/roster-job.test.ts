import { expect } from 'chai';
import {
  ROSTER_SYNC_JOB_KIND,
  enqueueRosterSync,
  syncRosterHere,
} from '../../src/courses/roster-job.ts';
import { registerJobHandlers } from '../../src/service.ts';
import { findJob } from '../../src/storage/jobs/jobs.repository.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createLtiWorld, launch, type LtiWorld } from '../support/lti-world.ts';

describe(`roster sync as a background job (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let world: LtiWorld;
  let courseId: string;

  before(async () => {
    database = await createTestDatabase();
    world = await createLtiWorld(database, { flavour: 'canvas', platformStorage: false });
    registerJobHandlers(world.tool.services);
    expect((await launch(world, { userId: world.seed.teacher.userId })).status).to.equal(303);
    const course = await database.db
      .selectFrom('courses')
      .select('id')
      .where('tenant_id', '=', world.tenantId)
      .executeTakeFirstOrThrow();
    courseId = course.id;
  });
  after(async () => {
    await world.close();
    await database.close();
  });

  it('when a roster sync is queued, then the runner reads the LMS roster into the course and stores the counts', async () => {
    const { jobs, courses } = world.tool.services;
    const queued = await enqueueRosterSync(jobs, { tenantId: world.tenantId, courseId });
    expect(queued).to.include({ kind: ROSTER_SYNC_JOB_KIND, status: 'queued' });
    expect(await jobs.runUntilIdle()).to.equal(1);
    const done = await findJob(database.db, world.tenantId, queued.id);
    expect(done).to.include({ status: 'succeeded', done: 1, total: 1 });
    const roster = await courses.listRoster(world.tenantId, courseId);
    expect(done?.result).to.deep.include({ upserted: roster.length, removedOnRequest: [] });
    expect(roster.length).to.be.greaterThan(world.seed.students.length);
  });

  it('when a roster sync runs here, then it resolves with the stored job and its counts', async () => {
    const { outcome, job } = await syncRosterHere(world.tool.services, {
      tenantId: world.tenantId,
      courseId,
    });
    expect(outcome).to.equal('succeeded');
    expect(job).to.include({ status: 'succeeded', attempts: 1 });
    expect(job?.result).to.have.property('upserted').that.is.greaterThan(0);
  });

  it('when the course of a queued roster sync is unknown, then the job fails at once without retrying', async () => {
    const { jobs } = world.tool.services;
    const queued = await enqueueRosterSync(jobs, {
      tenantId: world.tenantId,
      courseId: '00000000-0000-4000-8000-000000000000',
    });
    expect(await jobs.runUntilIdle()).to.equal(1);
    expect(await findJob(database.db, world.tenantId, queued.id)).to.include({
      status: 'failed',
      attempts: 1,
    });
  });
});
