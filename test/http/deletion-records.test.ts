import { expect } from 'chai';
import type { Person } from '../../src/emulator/types.ts';
import { deletePerson } from '../../src/storage/tenant-data.repository.ts';
import { csrfIn } from '../support/admin-session.ts';
import { openCourseSession } from '../support/course-pages.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createLtiWorld, launch, type LtiWorld } from '../support/lti-world.ts';

/**
 * A student deleted on request (Connecticut: deletion on request) is not made again by the LMS,
 * which still lists them: not by a roster sync, their own launch, or a parent's launch, until the
 * district lifts the deletion record. Each test deletes a different student of the seeded course.
 */
describe(`a student deleted on request stays deleted (${testEngine})`, function () {
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

  const known = (person: Person) =>
    world.tool.services.people.findUser(world.tenantId, world.emulator.issuer, person.sub);

  /** The student launches once (so the tool knows them), then the district has them deleted. */
  async function deleteOnRequest(person: Person, on: string): Promise<void> {
    expect((await launch(world, { userId: person.userId })).status).to.equal(303);
    const user = await known(person);
    expect(user).not.to.equal(undefined);
    await deletePerson(database.db, world.tenantId, user!.id, {
      hashPerson: world.tool.services.deletionRecords.hashPerson,
      now: new Date(`${on}T15:00:00.000Z`),
    });
    expect(await known(person)).to.equal(undefined);
  }

  const student = (i: number): Person => {
    const found = world.seed.students[i];
    if (found === undefined) throw new Error(`no student ${i}`);
    return found;
  };

  it('when a student deleted on request launches, then nothing about them is recorded and the page tells them to ask their district', async () => {
    const ada = student(1);
    await deleteOnRequest(ada, '2026-12-01');
    const again = await launch(world, { userId: ada.userId });
    expect(again.status).to.equal(403);
    expect(again.body).to.contain('Removed at your district’s request');
    expect(again.body).to.contain(
      'Your information was removed from Mastery Pathways on 2026-12-01 at your school district&#39;s request',
    );
    expect(again.body).to.contain('ask your school district to restore your access');
    expect(await known(ada)).to.equal(undefined);
  });

  it('when the teacher updates the roster, then a student deleted on request is not added again and the page says so with the date', async () => {
    const ben = student(2);
    await deleteOnRequest(ben, '2026-12-02');
    const teacher = await openCourseSession(world, world.seed.teacher.userId);
    const synced = await teacher.post('/course/roster/sync', {}, '/course/roster');
    expect(synced.status, synced.text).to.equal(303);
    const roster = await teacher.get(
      synced.location!.slice(synced.location!.indexOf('/course/roster')),
    );
    expect(roster.status).to.equal(200);
    expect(roster.text).to.match(/not added: removed on a deletion request \([^)]*on 2026-12-02/);
    expect(roster.text).not.to.contain(ben.name);
    expect(await known(ben)).to.equal(undefined);
    // Everyone else the LMS lists was synced.
    expect(await known(student(3))).not.to.equal(undefined);
  });

  it('when a parent launches after their child was deleted on request, then the child’s LMS id is not stored in the parent’s scope again', async () => {
    const mentor = world.seed.mentor;
    const child = world.seed.students.find((s) => s.familyName === mentor.familyName);
    if (child === undefined) throw new Error('the seeded mentor has no child in the course');
    await deleteOnRequest(child, '2026-12-03');
    expect((await launch(world, { userId: mentor.userId })).status).to.equal(303);
    const scopes = await database.db
      .selectFrom('mentor_scopes')
      .select('student_subs')
      .where('tenant_id', '=', world.tenantId)
      .execute();
    expect(scopes).to.have.length.greaterThan(0);
    for (const scope of scopes) expect(scope.student_subs).not.to.include(child.sub);
    expect(await known(child)).to.equal(undefined);
  });

  it('when the district lifts the deletion record, then the student’s next launch adds them again', async () => {
    const cleo = student(4);
    await deleteOnRequest(cleo, '2026-12-04');
    expect((await launch(world, { userId: cleo.userId })).status).to.equal(403);
    const lifted = await world.tool.services.deletionRecords.liftPerson(
      world.tenantId,
      [world.emulator.issuer],
      cleo.sub,
    );
    expect(lifted).to.equal(true);
    expect((await launch(world, { userId: cleo.userId })).status).to.equal(303);
    expect(await known(cleo)).not.to.equal(undefined);
  });

  it('when the roster page is opened with a forged removal list, then only dates are shown', async () => {
    const teacher = await openCourseSession(world, world.seed.teacher.userId);
    const page = await teacher.get('/course/roster?removed=2026-12-05,<script>alert(1)</script>');
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('on 2026-12-05');
    expect(page.text).not.to.contain('<script>alert(1)');
    csrfIn(page.text);
  });
});
