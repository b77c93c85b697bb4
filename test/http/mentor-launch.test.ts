import { expect } from 'chai';
import { deletePerson } from '../../src/storage/tenant-data.repository.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createLtiWorld, launch, type LtiWorld } from '../support/lti-world.ts';

/**
 * A mentor (a parent) launches with `role_scope_mentor` naming the students they mentor; the tool
 * links exactly those students, so the progress pages show the mentor nobody else.
 * The emulator's mentor is Grace Brooks, who mentors Ava Brooks.
 */
describe(`mentor launches (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let world: LtiWorld;

  before(async () => {
    database = await createTestDatabase();
    world = await createLtiWorld(database, { flavour: 'canvas', platformStorage: false });
  });
  after(async () => {
    await world.close();
    await database.close();
  });

  async function ids() {
    const users = await database.db
      .selectFrom('users')
      .select(['id', 'sub'])
      .where('tenant_id', '=', world.tenantId)
      .execute();
    const bySub = new Map(users.map((u) => [u.sub, u.id]));
    const course = (await world.tool.services.courses.listCourses(world.tenantId))[0];
    const ava = world.seed.students.find((s) => s.familyName === 'Brooks');
    return {
      courseId: course?.id ?? '',
      mentorId: bySub.get(world.seed.mentor.sub) ?? '',
      avaId: ava === undefined ? undefined : bySub.get(ava.sub),
    };
  }

  /** Every student launches (so the tool knows them), then the mentor does. */
  async function launchStudentsThenMentor() {
    // The students must be known to the tool: they launched before (or a roster sync found them).
    for (const student of world.seed.students) {
      const outcome = await launch(world, { userId: student.userId });
      expect(outcome.status).to.equal(303);
    }
    const mentorLaunch = await launch(world, { userId: world.seed.mentor.userId });
    expect(mentorLaunch.status).to.equal(303);
  }

  it('when a mentor launches, then the students the LMS names (and only they) are linked to the mentor', async () => {
    await launchStudentsThenMentor();

    const { courseId, mentorId, avaId } = await ids();
    expect(avaId).to.be.a('string');
    const linked = await world.tool.services.mastery.mentorStudentIds(
      world.tenantId,
      courseId,
      mentorId,
    );
    expect(linked).to.deep.equal([avaId]);
  });

  it('when a student launches, then no mentor links are made for them', async () => {
    // The mentor's own link is there (made by the mentor's launch in this test), so the student's
    // launch has something to add to.
    await launchStudentsThenMentor();
    const student = world.seed.students.find((s) => s.familyName !== 'Brooks');
    expect((await launch(world, { userId: student!.userId })).status).to.equal(303);
    const links = await database.db
      .selectFrom('mentor_links')
      .select('mentor_id')
      .where('tenant_id', '=', world.tenantId)
      .execute();
    const { mentorId } = await ids();
    expect(links.map((l) => l.mentor_id)).to.deep.equal([mentorId]);
  });

  it('when a mentor launches before their student is known, then the student appears once they launch, and no row is made before', async () => {
    const early = await createTestDatabase();
    const fresh = await createLtiWorld(early, { flavour: 'canvas', platformStorage: false });
    try {
      const ava = fresh.seed.students.find((s) => s.familyName === 'Brooks');
      const avaRows = () =>
        early.db
          .selectFrom('users')
          .select(['id', 'name'])
          .where('tenant_id', '=', fresh.tenantId)
          .where('sub', '=', ava!.sub)
          .execute();
      expect((await launch(fresh, { userId: fresh.seed.mentor.userId })).status).to.equal(303);
      // The parent's launch stores nothing about Ava but the LMS's id in the parent's scope.
      expect(await avaRows()).to.deep.equal([]);
      const course = (await fresh.tool.services.courses.listCourses(fresh.tenantId))[0];
      const mentor = await fresh.tool.services.people.findUser(
        fresh.tenantId,
        fresh.emulator.issuer,
        fresh.seed.mentor.sub,
      );
      const linked = () =>
        fresh.tool.services.mastery.mentorStudentIds(fresh.tenantId, course!.id, mentor!.id);
      expect(await linked()).to.deep.equal([]);

      // Her own launch records her; the mentor did not have to launch again.
      expect((await launch(fresh, { userId: ava!.userId })).status).to.equal(303);
      const [row] = await avaRows();
      expect(row?.name).to.be.a('string').and.not.equal('');
      expect(await linked()).to.deep.equal([row!.id]);

      // Deleting her on request also takes her LMS id out of the parent's scope, and the
      // parent's next launch does not bring her back.
      await deletePerson(early.db, fresh.tenantId, row!.id, {
        hashPerson: fresh.tool.services.deletionRecords.hashPerson,
        now: new Date(),
      });
      const scope = await early.db
        .selectFrom('mentor_scopes')
        .select('student_subs')
        .where('tenant_id', '=', fresh.tenantId)
        .executeTakeFirstOrThrow();
      expect(scope.student_subs).not.to.include(ava!.sub);
      expect((await launch(fresh, { userId: fresh.seed.mentor.userId })).status).to.equal(303);
      expect(await avaRows()).to.deep.equal([]);
      expect(await linked()).to.deep.equal([]);
    } finally {
      await fresh.close();
      await early.close();
    }
  });
});
