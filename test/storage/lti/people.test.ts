import { expect } from 'chai';
import type { Member } from '../../../src/lti/nrps.ts';
import { createCourseRepository } from '../../../src/storage/lti/courses.repository.ts';
import { createLaunchRepository } from '../../../src/storage/lti/launches.repository.ts';
import { createPeopleRepository } from '../../../src/storage/lti/people.repository.ts';
import {
  createSessionRepository,
  hashSessionToken,
} from '../../../src/storage/lti/sessions.repository.ts';
import { createTenantRepository } from '../../../src/storage/lti/tenants.repository.ts';
import {
  derivedPersonHashKey,
  keyedPersonHasher,
} from '../../../src/storage/privacy/deletion-records.repository.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../../support/database.ts';
import { launchContext, manualClock, seedDistrict, unique } from './fixtures.ts';

const hashPerson = keyedPersonHasher(
  derivedPersonHashKey('a test server secret of at least 32 characters'),
);
/** Session lifetimes for these tests: a minute idle, ten minutes at most. */
const LIFETIME = { idleMs: 60_000, maxMs: 600_000 } as const;

const LEARNER = 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner';

function member(userId: string, status: Member['status'] = 'Active'): Member {
  return {
    userId,
    name: `Student ${userId}`,
    givenName: undefined,
    familyName: undefined,
    email: `${userId}@example.org`,
    sourcedId: undefined,
    roles: [LEARNER],
    status,
  };
}

describe(`LTI people storage (${testEngine})`, function () {
  this.timeout(30_000);
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database.close();
  });

  /** A launch through the product's one write path (`acceptLaunch`, as the launch route calls it). */
  async function launchIn(district: Awaited<ReturnType<typeof seedDistrict>>) {
    const clock = manualClock();
    const people = createPeopleRepository(database.db, clock.now);
    const courses = createCourseRepository(database.db, clock.now);
    const launches = createLaunchRepository(database.db, clock.now);
    const sessions = createSessionRepository(database.db, { now: clock.now, ...LIFETIME });
    const launch = launchContext({
      issuer: district.platform.issuer,
      clientId: district.platform.clientId,
      deploymentId: district.deployment.deploymentId,
      email: 'ada@example.org',
    });
    const result = await launches.acceptLaunch({
      launch,
      nonce: {
        issuer: launch.issuer,
        nonce: unique('nonce'),
        expiresAt: new Date(clock.now().getTime() + 60_000),
      },
      session: sessions.prepare().row,
      personHash: await hashPerson(launch.issuer, launch.sub),
    });
    if (result.outcome !== 'accepted')
      expect.fail(`the launch was not accepted: ${result.outcome}`);
    return { people, courses, record: result.record, clock };
  }

  it('when a launch is recorded, then the user, course endpoints, enrollment and resource link are stored', async () => {
    const district = await seedDistrict(database.db);
    const { courses, record } = await launchIn(district);
    expect(record.user).to.deep.include({
      issuer: district.platform.issuer,
      sub: 'user-1',
      name: 'Ada Lovelace',
    });
    expect(record.course).to.deep.include({
      contextId: 'course-1',
      title: 'Grade 6 Math',
      agsLineItemsUrl: 'https://lms.example.org/api/lti/courses/1/line_items',
      nrpsMembershipsUrl: 'https://lms.example.org/api/lti/courses/1/names_and_roles',
    });
    expect(record.course?.agsScopes).to.deep.equal([
      'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
    ]);
    expect(record.course?.nrpsServiceVersions).to.deep.equal(['2.0']);
    const enrollments = await courses.listEnrollments(district.tenant.id, record.course!.id);
    expect(enrollments).to.deep.equal([
      {
        courseId: record.course!.id,
        userId: record.user.id,
        roles: [LEARNER],
        status: 'active',
        source: 'launch',
      },
    ]);
    expect(record.resourceLink).to.deep.include({ resourceLinkId: 'link-1', createdVia: 'launch' });
    // A second launch updates, it does not duplicate.
    const again = await launchIn(district);
    expect(again.record.user.id).to.equal(record.user.id);
    expect(again.record.course?.id).to.equal(record.course?.id);
  });

  it('when the tenant has not turned email on, then the email is not stored; when it has, it is', async () => {
    const off = await seedDistrict(database.db);
    const { record } = await launchIn(off);
    expect(record.user.email).to.equal(undefined);
    const on = await seedDistrict(database.db);
    await createTenantRepository(database.db).updateSettings(on.tenant.id, { storeEmail: true });
    expect(
      (await createTenantRepository(database.db).findById(on.tenant.id))?.settings,
    ).to.deep.equal({
      storeEmail: true,
    });
    const stored = await launchIn(on);
    expect(stored.record.user.email).to.equal('ada@example.org');
  });

  it('when another tenant asks for users, courses or enrollments, then it sees nothing', async () => {
    const mine = await seedDistrict(database.db);
    const theirs = await seedDistrict(database.db);
    const { people, courses, record } = await launchIn(mine);
    const courseId = record.course!.id;
    expect(await people.findUserById(theirs.tenant.id, record.user.id)).to.equal(undefined);
    expect(await people.findUser(theirs.tenant.id, mine.platform.issuer, 'user-1')).to.equal(
      undefined,
    );
    expect(await courses.findCourseById(theirs.tenant.id, courseId)).to.equal(undefined);
    expect(await courses.listCourses(theirs.tenant.id)).to.deep.equal([]);
    expect(await courses.listEnrollments(theirs.tenant.id, courseId)).to.deep.equal([]);
    expect(await courses.listResourceLinks(theirs.tenant.id, courseId)).to.deep.equal([]);
    // And the owner does see them, so the empty answers above are not vacuous.
    expect(await courses.findCourseById(mine.tenant.id, courseId)).not.to.equal(undefined);
    let error: unknown;
    try {
      await courses.syncRoster({
        tenantId: theirs.tenant.id,
        courseId,
        issuer: mine.platform.issuer,
        members: [member('intruder')],
        storeEmail: false,
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).to.have.property('code', 'course_not_found');
    expect(await courses.listEnrollments(mine.tenant.id, courseId)).to.have.length(1);
  });

  it('when a roster is synced, then members are upserted and people missing from it are marked inactive, not deleted', async () => {
    const district = await seedDistrict(database.db);
    const { people, courses, record, clock } = await launchIn(district);
    const courseId = record.course!.id;
    const first = await courses.syncRoster({
      tenantId: district.tenant.id,
      courseId,
      issuer: district.platform.issuer,
      members: [member('user-1'), member('s-2'), member('s-3', 'Inactive')],
      storeEmail: false,
    });
    expect(first).to.deep.equal({ upserted: 3, markedInactive: 0 });
    clock.advance(1000);
    const second = await courses.syncRoster({
      tenantId: district.tenant.id,
      courseId,
      issuer: district.platform.issuer,
      members: [member('s-2')],
      storeEmail: false,
    });
    expect(second).to.deep.equal({ upserted: 1, markedInactive: 1 });
    const enrollments = await courses.listEnrollments(district.tenant.id, courseId);
    expect(enrollments).to.have.length(3);
    const statusBySub = new Map<string, string>();
    for (const enrollment of enrollments) {
      const user = await people.findUserById(district.tenant.id, enrollment.userId);
      statusBySub.set(user!.sub, `${enrollment.status}/${enrollment.source}`);
    }
    expect(Object.fromEntries(statusBySub)).to.deep.equal({
      'user-1': 'inactive/roster',
      's-2': 'active/roster',
      's-3': 'inactive/roster',
    });
    const s2 = await people.findUser(district.tenant.id, district.platform.issuer, 's-2');
    expect(s2?.email).to.equal(undefined);
  });

  describe('sessions', () => {
    it('when a session is created, then only the hash of its token is stored and the token finds it', async () => {
      const district = await seedDistrict(database.db);
      const { record } = await launchIn(district);
      const clock = manualClock();
      const sessions = createSessionRepository(database.db, { now: clock.now, ...LIFETIME });
      const { token, session } = await sessions.create({
        tenantId: district.tenant.id,
        userId: record.user.id,
        courseId: record.course?.id,
        roles: [LEARNER],
      });
      expect(session.id).to.equal(hashSessionToken(token));
      expect(session.id).not.to.contain(token);
      const rows = await database.db
        .selectFrom('sessions')
        .selectAll()
        .where('tenant_id', '=', district.tenant.id)
        .execute();
      expect(JSON.stringify(rows)).not.to.contain(token);
      expect((await sessions.findByToken(token))?.userId).to.equal(record.user.id);
      expect(await sessions.findByToken(session.id)).to.equal(undefined);
    });

    it('when a session expires, then it is not found, touch extends a live one, and sweep and delete remove rows', async () => {
      const district = await seedDistrict(database.db);
      const { record } = await launchIn(district);
      const clock = manualClock();
      const sessions = createSessionRepository(database.db, { now: clock.now, ...LIFETIME });
      const a = await sessions.create({
        tenantId: district.tenant.id,
        userId: record.user.id,
        roles: [],
      });
      const b = await sessions.create({
        tenantId: district.tenant.id,
        userId: record.user.id,
        roles: [],
      });
      clock.advance(50_000);
      expect(await sessions.touch(a.token)).to.equal(true);
      clock.advance(20_000);
      expect(await sessions.findByToken(a.token)).not.to.equal(undefined);
      expect(await sessions.findByToken(b.token)).to.equal(undefined);
      expect(await sessions.touch(b.token)).to.equal(false);
      expect(await sessions.sweepExpired()).to.be.at.least(1);
      expect(await sessions.delete(a.token)).to.equal(true);
      expect(await sessions.findByToken(a.token)).to.equal(undefined);
    });

    it('when a session goes unused for longer than the idle timeout, then it ends; a request within it starts the timeout again', async () => {
      const district = await seedDistrict(database.db);
      const { record } = await launchIn(district);
      const clock = manualClock();
      const sessions = createSessionRepository(database.db, { now: clock.now, ...LIFETIME });
      const { token } = await sessions.create({
        tenantId: district.tenant.id,
        userId: record.user.id,
        roles: [],
      });
      clock.advance(59_000);
      expect(await sessions.touch(token)).to.equal(true);
      clock.advance(59_000);
      expect(await sessions.findByToken(token)).not.to.equal(undefined);
      clock.advance(2_000);
      expect(await sessions.findByToken(token)).to.equal(undefined);
      expect(await sessions.touch(token)).to.equal(false);
    });

    it('when a session is used all the time, then it still ends at its absolute limit after creation', async () => {
      const district = await seedDistrict(database.db);
      const { record } = await launchIn(district);
      const clock = manualClock();
      const sessions = createSessionRepository(database.db, { now: clock.now, ...LIFETIME });
      const { token, session } = await sessions.create({
        tenantId: district.tenant.id,
        userId: record.user.id,
        roles: [],
      });
      const limit = session.createdAt.getTime() + LIFETIME.maxMs;
      // A request every 50 s: the idle timeout never runs out.
      for (let elapsed = 50_000; elapsed < LIFETIME.maxMs; elapsed += 50_000) {
        clock.advance(50_000);
        expect(await sessions.touch(token), `at ${elapsed} ms`).to.equal(true);
        const live = await sessions.findByToken(token);
        expect(live?.expiresAt.getTime()).to.be.at.most(limit);
      }
      clock.advance(50_000);
      expect(await sessions.findByToken(token)).to.equal(undefined);
      expect(await sessions.touch(token)).to.equal(false);
      expect(await sessions.sweepExpired()).to.be.at.least(1);
    });

    it('when another tenant lists sessions, then it sees none of this tenant', async () => {
      const mine = await seedDistrict(database.db);
      const theirs = await seedDistrict(database.db);
      const { record } = await launchIn(mine);
      const clock = manualClock();
      const sessions = createSessionRepository(database.db, { now: clock.now, ...LIFETIME });
      await sessions.create({ tenantId: mine.tenant.id, userId: record.user.id, roles: [] });
      expect(await sessions.listForTenant(theirs.tenant.id)).to.deep.equal([]);
      // The launch's own session and this one.
      expect(await sessions.listForTenant(mine.tenant.id)).to.have.length(2);
    });
  });
});
