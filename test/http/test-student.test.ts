import { expect } from 'chai';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createLtiWorld, launch, type LtiWorld } from '../support/lti-world.ts';

/**
 * Canvas's Test Student (Student View user): its launches carry the LTI system role TestUser and
 * `$com.instructure.User.student_view`; the tool keeps the role on the enrollment and shows the
 * person greyed as a test student (issue 20, item 5).
 */
describe(`Canvas Test Student at launch (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let world: LtiWorld;

  before(async () => {
    database = await createTestDatabase();
    world = await createLtiWorld(database, { flavour: 'canvas', platformStorage: false });
    world.emulator.state.tool(
      world.emulator.state.tools.keys().next().value ?? '',
    ).customParameters['student_view'] = '$com.instructure.User.student_view';
  });

  after(async () => {
    await world.close();
    await database.close();
  });

  it('when the Test Student launches, then the launch says TestUser and the roster shows a greyed "Test student"', async () => {
    const testStudent = world.seed.testStudent;
    if (testStudent === undefined) throw new Error('no test student');
    const student = await launch(world, { userId: testStudent.userId });
    expect(student.status, student.body).to.equal(303);
    const claims = world.emulator.state.issuedIdTokens.at(-1) ?? {};
    expect(claims['https://purl.imsglobal.org/spec/lti/claim/roles']).to.include.members([
      'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner',
      'http://purl.imsglobal.org/vocab/lti/system/person#TestUser',
    ]);
    expect(claims['https://purl.imsglobal.org/spec/lti/claim/custom']).to.deep.include({
      student_view: 'true',
    });

    const teacher = await launch(world, { userId: world.seed.teacher.userId });
    expect(teacher.status, teacher.body).to.equal(303);
    const teacherClaims = world.emulator.state.issuedIdTokens.at(-1) ?? {};
    expect(teacherClaims['https://purl.imsglobal.org/spec/lti/claim/custom']).to.deep.include({
      student_view: 'false',
    });
    const course = (await world.tool.services.courses.listCourses(world.tenantId))[0];
    if (course === undefined) throw new Error('no course');
    const roster = await world.tool.services.courses.listRoster(world.tenantId, course.id);
    expect(roster.filter((p) => p.testUser).map((p) => p.name)).to.deep.equal([testStudent.name]);

    const base = (teacher.location ?? '').replace(/\/course$/, '');
    const page = await fetch(new URL(`${base}/course/roster`, world.tool.origin));
    const html = await page.text();
    expect(page.status).to.equal(200);
    expect(html).to.match(
      /<tr class="test-user"><td>Test Student <span class="test-user-note">\(the LMS’s test student: not graded, not counted\)<\/span><\/td><td>Test student<\/td>/,
    );
  });
});
