import { expect } from 'chai';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createLtiWorld, readAutoPostForm, type LtiWorld } from '../support/lti-world.ts';
import { csrfOf, importSample, launchInto, page, post } from './alignment-support.ts';

describe(`Deep Linking with standards (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let world: LtiWorld;
  let items: { id: string; code: string }[];

  const item = (code: string) => {
    const found = items.find((i) => i.code === code);
    if (found === undefined) throw new Error(`no item ${code}`);
    return found;
  };

  async function deepLinkLaunch(lmsCourseId = world.seed.course.courseId): Promise<string> {
    const { base, location } = await launchInto(world, {
      courseId: lmsCourseId,
      userId: world.seed.teacher.userId,
      placement: 'assignment_selection',
    });
    expect(location).to.match(/\/deep-link$/);
    return base;
  }

  /** The tool's id of an LMS course (the seeded one unless told), found by its context id. */
  async function courseId(lmsCourseId = world.seed.course.courseId): Promise<string> {
    const contextId = world.emulator.state.course(lmsCourseId).contextId;
    const courses = await world.tool.services.courses.listCourses(world.tenantId);
    return courses.find((c) => c.contextId === contextId)!.id;
  }

  /** A course of this test's own in the LMS, with the seeded teacher, so a refresh sees only its columns. */
  function ownCourse(label: string): string {
    const course = world.emulator.state.addCourse({ title: `${label} course`, label });
    world.emulator.state.enroll(course.courseId, world.seed.teacher.userId, 'Instructor');
    return course.courseId;
  }

  before(async () => {
    database = await createTestDatabase();
    world = await createLtiWorld(database, { flavour: 'canvas', platformStorage: false });
    items = (await importSample(database, world.tenantId)).items;
  });

  after(async () => {
    await world.close();
    await database.close();
  });

  it('when a teacher picks standards without JavaScript, then searching and adding keep the activity’s name, points and earlier choices', async () => {
    const base = await deepLinkLaunch();
    const first = await page(world, `${base}/deep-link`);
    expect(first.status).to.equal(200);
    expect(first.html).to.contain('Standards this activity assesses');
    const searched = await page(
      world,
      `${base}/deep-link?title=Ratio+lab&gradebook=yes&scoreMaximum=10&q=6.RP.A`,
    );
    expect(searched.html).to.contain('value="Ratio lab"');
    expect(searched.html).to.contain(`name="add" value="${item('6.RP.A.1').id}"`);
    const added = await page(
      world,
      `${base}/deep-link?title=Ratio+lab&gradebook=yes&scoreMaximum=10&standard=${item('6.RP.A.1').id}&add=${item('6.RP.A.2').id}&q=6.RP.A`,
    );
    for (const code of ['6.RP.A.1', '6.RP.A.2']) {
      expect(added.html).to.contain(`name="standard" value="${item(code).id}"`);
    }
    expect(added.html).to.contain('value="10"');
  });

  it('when the teacher adds an activity with two standards, then the LMS creates an aligned column and refreshing links it to the assignment', async () => {
    const lmsCourse = ownCourse('UNIT-RATE');
    const base = await deepLinkLaunch(lmsCourse);
    const form = await page(world, `${base}/deep-link`);
    const answered = await post(world, `${base}/deep-link`, {
      _csrf: csrfOf(form.html),
      title: 'Unit rate lab',
      gradebook: 'yes',
      scoreMaximum: '12',
      standard: [item('6.RP.A.2').id, item('6.RP.A.3').id],
    });
    expect(answered.status, answered.html).to.equal(200);
    const returnForm = readAutoPostForm(answered.html);
    const accepted = await fetch(returnForm.action, {
      method: 'POST',
      body: new URLSearchParams(returnForm.fields),
      headers: { 'User-Agent': 'test-browser' },
    });
    expect(accepted.status, await accepted.text()).to.equal(200);
    const receipt = world.emulator.state.deepLinkingReceipts.at(-1);
    expect(receipt?.ok, receipt?.error).to.equal(true);

    // The tool recorded the assignment with both alignments before answering.
    const course = await courseId(lmsCourse);
    const assignments = await world.tool.services.alignment.listAssignments(world.tenantId, course);
    const assignment = assignments.find((a) => a.title === 'Unit rate lab');
    expect(assignment?.source).to.equal('deep_link');
    expect(assignment?.resourceId).to.equal(`mp-assignment:${assignment!.id}`);
    expect(
      (
        await world.tool.services.alignment.alignmentsOf(world.tenantId, course, assignment!.id)
      ).map((a) => a.itemId),
    ).to.deep.equal([item('6.RP.A.2').id, item('6.RP.A.3').id]);

    // The LMS made a gradebook column carrying the assignment's resourceId and the tool's tag.
    const column = world.emulator.state
      .gradebookColumns(lmsCourse)
      .find((c) => c.label === 'Unit rate lab');
    expect(column?.resourceId).to.equal(`mp-assignment:${assignment!.id}`);
    expect(column?.tag).to.equal('mastery-pathways');
    expect(column?.scoreMaximum).to.equal(12);
    expect(column?.resourceLinkId).to.equal(receipt?.createdResourceLinkIds[0]);

    // Refresh from LMS: the column is linked to the same assignment, not made a new one.
    const teacher = await launchInto(world, {
      courseId: lmsCourse,
      userId: world.seed.teacher.userId,
    });
    const list = await page(world, `${teacher.base}/course/assignments`);
    const refreshed = await post(world, `${teacher.base}/course/assignments/refresh`, {
      _csrf: csrfOf(list.html),
    });
    expect(refreshed.location).to.contain('created=0');
    expect(refreshed.location).to.contain('linked=1');
    const linked = await world.tool.services.alignment.getAssignment(
      world.tenantId,
      course,
      assignment!.id,
    );
    expect(linked?.lineItemUrl).to.match(new RegExp(`/line_items/${column!.lineItemId}$`));
    expect(linked?.resourceLinkId).to.equal(column?.resourceLinkId);
  });

  it('when a student opens the link the activity made, then the launch links it to its assignment (no refresh needed)', async () => {
    const base = await deepLinkLaunch();
    const form = await page(world, `${base}/deep-link`);
    const answered = await post(world, `${base}/deep-link`, {
      _csrf: csrfOf(form.html),
      title: 'Ratio tables check-in',
      gradebook: 'yes',
      scoreMaximum: '4',
      standard: [item('6.RP.A.3').id],
    });
    expect(answered.status, answered.html).to.equal(200);
    const returnForm = readAutoPostForm(answered.html);
    await fetch(returnForm.action, {
      method: 'POST',
      body: new URLSearchParams(returnForm.fields),
      headers: { 'User-Agent': 'test-browser' },
    });
    const receipt = world.emulator.state.deepLinkingReceipts.at(-1);
    const resourceLinkId = receipt?.createdResourceLinkIds[0];
    expect(resourceLinkId).to.be.a('string');
    const course = await courseId();
    const before = (
      await world.tool.services.alignment.listAssignments(world.tenantId, course)
    ).find((a) => a.title === 'Ratio tables check-in');
    expect(before?.resourceLinkId).to.equal(undefined);

    await launchInto(world, {
      courseId: world.seed.course.courseId,
      userId: world.seed.students[0]!.userId,
      resourceLinkId,
    });
    const after = await world.tool.services.alignment.getAssignment(
      world.tenantId,
      course,
      before!.id,
    );
    expect(after?.resourceLinkId).to.equal(resourceLinkId);
  });

  it('when a chosen standard is archived or of another district, then the page says so, nothing is recorded and nothing goes to the LMS', async () => {
    const base = await deepLinkLaunch();
    const form = await page(world, `${base}/deep-link`);
    const other = await world.tool.services.tenants.create({ slug: 'other', name: 'Other' });
    const foreign = (await importSample(database, other.id)).items[0]!;
    const archived = item('6.NS.B.2');
    await database.db
      .updateTable('standard_items')
      .set({ archived_at: new Date() })
      .where('id', '=', archived.id)
      .execute();
    const before = world.emulator.state.deepLinkingReceipts.length;
    for (const standard of [foreign.id, archived.id]) {
      const refused = await post(world, `${base}/deep-link`, {
        _csrf: csrfOf(form.html),
        title: 'Refused activity',
        gradebook: 'yes',
        scoreMaximum: '4',
        standard: [item('6.RP.A.1').id, standard],
      });
      expect(refused.status).to.equal(422);
      expect(refused.html).to.contain('not one of the district’s current standards');
      // The teacher's choices and name are kept for the next try.
      expect(refused.html).to.contain('value="Refused activity"');
    }
    const assignments = await world.tool.services.alignment.listAssignments(
      world.tenantId,
      await courseId(),
    );
    expect(assignments.some((a) => a.title === 'Refused activity')).to.equal(false);
    expect(world.emulator.state.deepLinkingReceipts.length).to.equal(before);
    await database.db
      .updateTable('standard_items')
      .set({ archived_at: null })
      .where('id', '=', archived.id)
      .execute();
  });
});
