import { expect } from 'chai';
import { sql } from 'kysely';
import type { LaunchContext } from '../../../src/lti/claims.ts';
import { createDeploymentRepository } from '../../../src/storage/lti/deployments.repository.ts';
import { createCourseRepository } from '../../../src/storage/lti/courses.repository.ts';
import {
  createLaunchRepository,
  type AcceptedLaunch,
} from '../../../src/storage/lti/launches.repository.ts';
import { createPeopleRepository } from '../../../src/storage/lti/people.repository.ts';
import { createPlatformRepository } from '../../../src/storage/lti/platforms.repository.ts';
import { createSessionRepository } from '../../../src/storage/lti/sessions.repository.ts';
import { createTenantRepository } from '../../../src/storage/lti/tenants.repository.ts';
import {
  derivedPersonHashKey,
  keyedPersonHasher,
  recordDeletion,
} from '../../../src/storage/privacy/deletion-records.repository.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../../support/database.ts';
import { launchContext, manualClock, seedDistrict, unique } from './fixtures.ts';

const INSTRUCTOR = 'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor';

type Accepted = Extract<AcceptedLaunch, { outcome: 'accepted' }>;

const hashPerson = keyedPersonHasher(
  derivedPersonHashKey('a test server secret of at least 32 characters'),
);

describe(`LTI launch accepted in one statement (${testEngine})`, function () {
  this.timeout(30_000);
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database.close();
  });

  async function world() {
    const district = await seedDistrict(database.db);
    const clock = manualClock();
    const people = createPeopleRepository(database.db, clock.now);
    const courses = createCourseRepository(database.db, clock.now);
    const launches = createLaunchRepository(database.db, clock.now);
    const sessions = createSessionRepository(database.db, {
      now: clock.now,
      idleMs: 3_600_000,
      maxMs: 36_000_000,
    });
    const launchFor = (overrides: Partial<Parameters<typeof launchContext>[0]> = {}) =>
      launchContext({
        issuer: district.platform.issuer,
        clientId: district.platform.clientId,
        deploymentId: district.deployment.deploymentId,
        ...overrides,
      });
    const accept = async (launch: LaunchContext, nonce = unique('nonce')) => {
      const prepared = sessions.prepare();
      const result = await launches.acceptLaunch({
        launch,
        nonce: {
          issuer: launch.issuer,
          nonce,
          expiresAt: new Date(clock.now().getTime() + 60_000),
        },
        session: prepared.row,
        personHash: await hashPerson(launch.issuer, launch.sub),
      });
      return { result, token: prepared.token };
    };
    return { district, clock, people, courses, sessions, launchFor, accept };
  }

  function accepted(result: AcceptedLaunch): Accepted {
    expect(result.outcome).to.equal('accepted');
    return result as Accepted;
  }

  async function updatedAt(table: 'users' | 'courses' | 'resource_links', id: string) {
    const row = await database.db
      .selectFrom(table)
      .select('updated_at')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return new Date(row.updated_at).toISOString();
  }

  it('when a launch is accepted, then the user, course, enrollment, resource link and a session the token finds are stored', async () => {
    const { district, sessions, launchFor, accept, courses } = await world();
    const { result, token } = await accept(launchFor());
    const launch = accepted(result);
    expect(launch.tenantId).to.equal(district.tenant.id);
    expect(launch.deploymentRowId).to.equal(district.deployment.id);
    expect(launch.record.user).to.deep.include({ sub: 'user-1', name: 'Ada Lovelace' });
    expect(launch.record.user.email).to.equal(undefined);
    expect(launch.record.course).to.deep.include({
      contextId: 'course-1',
      title: 'Grade 6 Math',
      agsLineItemsUrl: 'https://lms.example.org/api/lti/courses/1/line_items',
    });
    expect(launch.record.resourceLink).to.deep.include({
      resourceLinkId: 'link-1',
      createdVia: 'launch',
    });
    const found = await sessions.findByToken(token);
    expect(found).to.deep.include({
      id: launch.session.id,
      tenantId: district.tenant.id,
      userId: launch.record.user.id,
      courseId: launch.record.course?.id,
    });
    expect(found?.csrfSecret).to.equal(launch.session.csrfSecret);
    expect(
      await courses.listEnrollments(district.tenant.id, launch.record.course!.id),
    ).to.deep.equal([
      {
        courseId: launch.record.course!.id,
        userId: launch.record.user.id,
        roles: ['http://purl.imsglobal.org/vocab/lis/v2/membership#Learner'],
        status: 'active',
        source: 'launch',
      },
    ]);
  });

  it('when the nonce was claimed before, then it is refused and nothing is written', async () => {
    const { district, people, launchFor, accept, courses } = await world();
    const nonce = unique('nonce');
    accepted((await accept(launchFor(), nonce)).result);
    const replay = await accept(launchFor({ sub: 'intruder', contextId: 'other-course' }), nonce);
    expect(replay.result).to.deep.equal({ outcome: 'nonce_replay' });
    expect(
      await people.findUser(district.tenant.id, district.platform.issuer, 'intruder'),
    ).to.equal(undefined);
    expect(await courses.listCourses(district.tenant.id)).to.have.length(1);
    const sessionCount = await database.db
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('tenant_id', '=', district.tenant.id)
      .executeTakeFirstOrThrow();
    expect(Number(sessionCount.n)).to.equal(1);
  });

  it('when a class launches again with nothing changed, then its rows are not rewritten; when the launch changes them, they are', async () => {
    const { district, clock, launchFor, accept, courses } = await world();
    const first = accepted((await accept(launchFor())).result);
    const courseId = first.record.course!.id;
    const linkId = first.record.resourceLink!.id;
    const before = {
      user: await updatedAt('users', first.record.user.id),
      course: await updatedAt('courses', courseId),
      link: await updatedAt('resource_links', linkId),
    };
    clock.advance(60_000);
    const again = accepted((await accept(launchFor())).result);
    expect(again.record.course?.id).to.equal(courseId);
    expect(again.record.course?.title).to.equal('Grade 6 Math');
    expect(again.record.resourceLink?.id).to.equal(linkId);
    expect(again.record.user.id).to.equal(first.record.user.id);
    expect(await updatedAt('users', first.record.user.id)).to.equal(before.user);
    expect(await updatedAt('courses', courseId)).to.equal(before.course);
    expect(await updatedAt('resource_links', linkId)).to.equal(before.link);

    // The platform's latest word on endpoints and roles wins; an omitted title is kept.
    clock.advance(60_000);
    const changed = launchFor({ roles: [INSTRUCTOR] });
    const moved: LaunchContext = {
      ...changed,
      name: undefined,
      context: { id: 'course-1', title: undefined, label: 'MATH6-B', type: [] },
      ags: {
        scopes: [],
        lineItemsUrl: 'https://lms.example.org/new/line_items',
        lineItemUrl: undefined,
      },
    };
    const third = accepted((await accept(moved)).result);
    expect(third.record.course).to.deep.include({
      id: courseId,
      title: 'Grade 6 Math',
      label: 'MATH6-B',
      agsLineItemsUrl: 'https://lms.example.org/new/line_items',
      agsScopes: [],
    });
    expect(third.record.user.name).to.equal('Ada Lovelace');
    expect(await updatedAt('courses', courseId)).to.equal(clock.now().toISOString());
    expect(await updatedAt('users', first.record.user.id)).to.equal(before.user);
    const [enrollment] = await courses.listEnrollments(district.tenant.id, courseId);
    expect(enrollment?.roles).to.deep.equal([INSTRUCTOR]);
  });

  it('when many first launches of one course arrive at once, then they share one course and each gets its session', async () => {
    const { district, launchFor, accept, courses } = await world();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        accept(launchFor({ sub: `student-${i}`, contextId: 'crowded' })),
      ),
    );
    const courseIds = new Set(results.map(({ result }) => accepted(result).record.course?.id));
    expect(courseIds.size).to.equal(1);
    const [courseId] = [...courseIds];
    expect(await courses.listEnrollments(district.tenant.id, courseId!)).to.have.length(8);
    expect(
      new Set(results.map(({ result }) => accepted(result).record.resourceLink?.id)).size,
    ).to.equal(1);
  });

  it('when the tenant stores email, then the email is kept; when it turns that off, the next launch clears it', async () => {
    const { district, launchFor, accept } = await world();
    const tenants = createTenantRepository(database.db);
    await tenants.updateSettings(district.tenant.id, { storeEmail: true });
    const on = accepted((await accept(launchFor({ email: 'ada@example.org' }))).result);
    expect(on.record.user.email).to.equal('ada@example.org');
    await tenants.updateSettings(district.tenant.id, { storeEmail: false });
    const off = accepted((await accept(launchFor({ email: 'ada@example.org' }))).result);
    expect(off.record.user.email).to.equal(undefined);
  });

  it('when the launch has no course context, then the user and a session without a course are stored', async () => {
    const { accept, launchFor } = await world();
    const launch = { ...launchFor(), context: undefined };
    const result = accepted((await accept(launch)).result);
    expect(result.record.course).to.equal(undefined);
    expect(result.record.resourceLink).to.equal(undefined);
    expect(result.session.courseId).to.equal(undefined);
  });

  it('when the deployment was removed or its platform set to pending after the allow-list check, then nothing but the nonce is recorded', async () => {
    const removed = await world();
    await createDeploymentRepository(database.db).remove(removed.district.deployment.id);
    expect((await removed.accept(removed.launchFor())).result).to.deep.equal({
      outcome: 'unknown_deployment',
    });
    expect(
      await removed.people.findUser(
        removed.district.tenant.id,
        removed.district.platform.issuer,
        'user-1',
      ),
    ).to.equal(undefined);

    const pending = await world();
    await createPlatformRepository(database.db).update(pending.district.platform.id, {
      status: 'pending',
    });
    expect((await pending.accept(pending.launchFor())).result).to.deep.equal({
      outcome: 'unknown_deployment',
    });
    expect(await pending.courses.listCourses(pending.district.tenant.id)).to.deep.equal([]);
  });

  it('when a launch names another platform’s deployment id, then it is not resolved across platforms', async () => {
    const mine = await world();
    const theirs = await seedDistrict(database.db);
    const launch = mine.launchFor({ deploymentId: theirs.deployment.deploymentId });
    expect((await mine.accept(launch)).result).to.deep.equal({ outcome: 'unknown_deployment' });
    const count = await sql<{ n: string }>`
      SELECT count(*) AS n FROM users WHERE tenant_id = ${theirs.tenant.id}
    `.execute(database.db);
    expect(Number(count.rows[0]?.n)).to.equal(0);
  });

  it('when the district deleted the person on request, then their launch records nothing but the nonce and says when; another district is not affected', async () => {
    const { district, people, clock, launchFor, accept, courses } = await world();
    const deletedOn = new Date('2026-11-20T10:00:00.000Z');
    await recordDeletion(
      database.db,
      district.tenant.id,
      await hashPerson(district.platform.issuer, 'user-1'),
      deletedOn,
    );
    expect((await accept(launchFor())).result).to.deep.equal({
      outcome: 'person_deleted',
      deletedAt: deletedOn,
    });
    expect(await people.findUser(district.tenant.id, district.platform.issuer, 'user-1')).to.equal(
      undefined,
    );
    expect(await courses.listCourses(district.tenant.id)).to.deep.equal([]);
    const sessions = await database.db
      .selectFrom('sessions')
      .select('id')
      .where('tenant_id', '=', district.tenant.id)
      .execute();
    expect(sessions).to.deep.equal([]);
    // Another person of the same district still launches.
    clock.advance(1000);
    accepted((await accept(launchFor({ sub: 'user-2' }))).result);
    // A record is the district's own: one made in this district does not refuse the person's
    // launch into another.
    const other = await world();
    await recordDeletion(
      database.db,
      district.tenant.id,
      await hashPerson(other.district.platform.issuer, 'user-1'),
      deletedOn,
    );
    accepted((await other.accept(other.launchFor())).result);
  });
});
