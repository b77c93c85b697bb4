import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createLtiWorld, type LtiWorld } from '../support/lti-world.ts';
import { csrfOf, importSample, launchInto, page, post } from './alignment-support.ts';

describe(`assignments and alignment pages (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let world: LtiWorld;
  let items: { id: string; code: string; statement: string }[];
  let teacher: { base: string };
  let student: { base: string };
  let courseId: string;
  /** The LMS's id of this test's course. */
  let lmsCourseId: string;

  const item = (code: string) => {
    const found = items.find((i) => i.code === code);
    if (found === undefined) throw new Error(`no item ${code}`);
    return found;
  };

  async function createAssignment(title: string, description = ''): Promise<string> {
    const list = await page(world, `${teacher.base}/course/assignments`);
    const created = await post(world, `${teacher.base}/course/assignments`, {
      _csrf: csrfOf(list.html),
      title,
      description,
      scoreMaximum: '10',
    });
    expect(created.status, created.html).to.equal(303);
    const id = /\/course\/assignments\/([0-9a-f-]{36})$/.exec(created.location ?? '')?.[1];
    if (id === undefined) throw new Error(`no assignment id in ${created.location ?? ''}`);
    return id;
  }

  before(async () => {
    database = await createTestDatabase();
    world = await createLtiWorld(database, { flavour: 'canvas', platformStorage: false });
    items = (await importSample(database, world.tenantId)).items;
  });

  // Each test has a course of its own (in the LMS and here), so no test sees another's assignments.
  beforeEach(async () => {
    const { state } = world.emulator;
    const lmsCourse = state.addCourse({ title: `Math 6 ${randomUUID()}`, label: 'M6' });
    state.enroll(lmsCourse.courseId, world.seed.teacher.userId, 'Instructor');
    state.enroll(lmsCourse.courseId, world.seed.students[0]!.userId, 'Learner');
    lmsCourseId = lmsCourse.courseId;
    teacher = await launchInto(world, {
      courseId: lmsCourseId,
      userId: world.seed.teacher.userId,
    });
    student = await launchInto(world, {
      courseId: lmsCourseId,
      userId: world.seed.students[0]!.userId,
    });
    const course = (await world.tool.services.courses.listCourses(world.tenantId)).find(
      (c) => c.title === lmsCourse.title,
    );
    courseId = course!.id;
  });

  after(async () => {
    await world.close();
    await database.close();
  });

  it('when a teacher creates an assignment with a blank name or bad points, then the form says what to fix and nothing is created', async () => {
    const list = await page(world, `${teacher.base}/course/assignments`);
    expect(list.status).to.equal(200);
    expect(list.html).to.contain('Refresh from LMS');
    const refused = await post(world, `${teacher.base}/course/assignments`, {
      _csrf: csrfOf(list.html),
      title: '  ',
      scoreMaximum: 'ten',
    });
    expect(refused.status).to.equal(422);
    expect(refused.html).to.contain('Give the assignment a name.');
    expect(refused.html).to.contain('Points must be a number');
    expect(refused.html).to.contain('aria-invalid="true"');
    expect(
      await world.tool.services.alignment.listAssignments(world.tenantId, courseId),
    ).to.have.length(0);
  });

  it('when a teacher searches without JavaScript and adds two standards, then the editor lists them and the course alignments hold them', async () => {
    const id = await createAssignment('Unit 3 performance task', 'Ratios and unit rates');
    const editor = await page(world, `${teacher.base}/course/assignments/${id}?q=6.RP.A`);
    expect(editor.status).to.equal(200);
    expect(editor.html).to.contain('Results for “6.RP.A”');
    expect(editor.html).to.contain('6.RP.A.1');
    // Suggestions rank statements sharing the title's and description's words.
    const suggested = editor.html.slice(editor.html.indexOf('Suggested standards'));
    expect(suggested).to.contain('6.RP.A.2');
    const csrf = csrfOf(editor.html);
    for (const code of ['6.RP.A.1', '6.RP.A.2']) {
      const added = await post(world, `${teacher.base}/course/assignments/${id}/alignments/add`, {
        _csrf: csrf,
        itemId: item(code).id,
      });
      expect(added.status).to.equal(303);
      expect(added.location).to.contain(`added=${item(code).id}`);
    }
    const again = await post(world, `${teacher.base}/course/assignments/${id}/alignments/add`, {
      _csrf: csrf,
      itemId: item('6.RP.A.1').id,
    });
    expect(again.location).to.contain('already=1');
    const after = await page(world, `${teacher.base}/course/assignments/${id}`);
    expect(after.html).to.contain('6.RP.A.1');
    expect(after.html).to.contain('6.RP.A.2');
    const alignments = await world.tool.services.alignment.alignmentsForCourse(
      world.tenantId,
      courseId,
    );
    expect(alignments.filter((a) => a.assignmentId === id).map((a) => a.itemId)).to.deep.equal([
      item('6.RP.A.1').id,
      item('6.RP.A.2').id,
    ]);
  });

  it('when a teacher sets weights, points and a rubric criterion, then they are saved; invalid values are refused with the field named', async () => {
    const id = await createAssignment('Ratio test');
    const editor = await page(world, `${teacher.base}/course/assignments/${id}`);
    const csrf = csrfOf(editor.html);
    const a = item('6.RP.A.3').id;
    const b = item('6.NS.B.2').id;
    for (const itemId of [a, b]) {
      await post(world, `${teacher.base}/course/assignments/${id}/alignments/add`, {
        _csrf: csrf,
        itemId,
      });
    }
    const refused = await post(world, `${teacher.base}/course/assignments/${id}/alignments`, {
      _csrf: csrf,
      items: [a, b],
      [`weight_${a}`]: '-2',
      [`points_${a}`]: '',
      [`weight_${b}`]: '1',
      [`points_${b}`]: 'many',
    });
    expect(refused.status).to.equal(422);
    expect(refused.html).to.contain('Weight must be a number more than 0');
    expect(refused.html).to.contain('Points must be more than 0');
    const saved = await post(world, `${teacher.base}/course/assignments/${id}/alignments`, {
      _csrf: csrf,
      items: [a, b],
      [`weight_${a}`]: '2',
      [`points_${a}`]: '6',
      [`rubric_${a}`]: 'Models the problem',
      [`weight_${b}`]: '1',
      [`points_${b}`]: '4',
      [`rubric_${b}`]: '',
    });
    expect(saved.status).to.equal(303);
    const stored = await world.tool.services.alignment.alignmentsOf(world.tenantId, courseId, id);
    expect(stored.map((s) => [s.itemId, s.weight, s.points, s.rubricCriterion])).to.deep.equal([
      [a, 2, 6, 'Models the problem'],
      [b, 1, 4, undefined],
    ]);
    const removed = await post(
      world,
      `${teacher.base}/course/assignments/${id}/alignments/remove`,
      { _csrf: csrf, itemId: b },
    );
    expect(removed.status).to.equal(303);
    expect(
      (await world.tool.services.alignment.alignmentsOf(world.tenantId, courseId, id)).map(
        (s) => s.itemId,
      ),
    ).to.deep.equal([a]);
  });

  it('when the picker searches by words as JSON, then statements with those words come back, of this district only', async () => {
    // Another district holds the same framework; none of its items may come back.
    const other = await world.tool.services.tenants.create({ slug: 'neighbour', name: 'N' });
    await importSample(database, other.id);
    const res = await fetch(
      new URL(`${teacher.base}/course/standards/search?q=unit%20rate`, world.tool.origin),
    );
    expect(res.status).to.equal(200);
    const body = (await res.json()) as { results: { id: string; code: string | null }[] };
    expect(body.results.map((r) => r.code)).to.include('6.RP.A.2');
    const own = new Set(items.map((i) => i.id));
    expect(body.results.every((r) => own.has(r.id))).to.equal(true);
  });

  it('when the coverage matrix is opened, then standards are marked none, thin or covered in words', async () => {
    const first = await createAssignment('Unit 3 performance task');
    for (const code of ['6.RP.A.1', '6.RP.A.2']) {
      await world.tool.services.alignment.addAlignment(
        world.tenantId,
        courseId,
        first,
        item(code).id,
        'teacher',
      );
    }
    // A second assignment on 6.RP.A.2 makes it covered (two evidence opportunities).
    const second = await createAssignment('Unit rate exit ticket');
    await world.tool.services.alignment.addAlignment(
      world.tenantId,
      courseId,
      second,
      item('6.RP.A.2').id,
      'teacher',
    );
    const coverage = await page(world, `${teacher.base}/course/coverage`);
    expect(coverage.status).to.equal(200);
    const row = (code: string): string => {
      const start = coverage.html.indexOf(`data-standard="${item(code).id}"`);
      expect(start, code).to.be.greaterThan(-1);
      return coverage.html.slice(start, coverage.html.indexOf('</tr>', start));
    };
    // 6.RP.A.1: one assignment → thin; 6.RP.A.2: two → covered; 6.NS.B.3: none.
    expect(row('6.RP.A.1')).to.contain('Thin: 1 assignment');
    expect(row('6.RP.A.2')).to.contain('2 assignments');
    expect(coverage.html).to.match(/data-total="covered">1</);
    expect(row('6.NS.B.3')).to.contain('None');
    expect(coverage.html).to.contain('<th scope="row">');
  });

  it('when a student opens the assignments, the editor, the search or the coverage, or posts a change, then each is refused', async () => {
    const id = await createAssignment('Student cannot see');
    for (const path of [
      '/course/assignments',
      `/course/assignments/${id}`,
      '/course/standards/search?q=6',
      '/course/coverage',
    ]) {
      const res = await page(world, `${student.base}${path}`);
      expect(res.status, path).to.equal(403);
      expect(res.html).to.contain('Only the course’s teachers');
    }
    // Even with a form made up to look right, the role check comes first.
    const added = await post(world, `${student.base}/course/assignments/${id}/alignments/add`, {
      _csrf: 'made-up',
      itemId: item('6.RP.A.1').id,
    });
    expect(added.status).to.equal(403);
    expect(added.html).to.contain('Only the course’s teachers');
    expect(
      await world.tool.services.alignment.alignmentsOf(world.tenantId, courseId, id),
    ).to.deep.equal([]);
  });

  it('when a form comes without the session’s CSRF secret, then it is refused', async () => {
    const id = await createAssignment('CSRF check');
    const res = await post(world, `${teacher.base}/course/assignments/${id}/alignments/add`, {
      _csrf: 'forged',
      itemId: item('6.RP.A.1').id,
    });
    expect(res.status).to.equal(403);
    expect(res.html).to.contain('csrf_failed');
  });

  it('when a URL is tampered with an assignment of another course, another district or a made-up id, then it answers 404 and changes nothing', async () => {
    // Another course of the same district, with its own teacher launch.
    const other = world.emulator.state.addCourse({ title: 'Geometry', label: 'GEO' });
    world.emulator.state.enroll(other.courseId, world.seed.teacher.userId, 'Instructor');
    const otherTeacher = await launchInto(world, {
      courseId: other.courseId,
      userId: world.seed.teacher.userId,
    });
    const otherList = await page(world, `${otherTeacher.base}/course/assignments`);
    const made = await post(world, `${otherTeacher.base}/course/assignments`, {
      _csrf: csrfOf(otherList.html),
      title: 'Other course task',
    });
    const otherId = /([0-9a-f-]{36})$/.exec(made.location ?? '')?.[1] ?? '';
    // Another district's assignment, straight in its tables.
    const district = await world.tool.services.tenants.create({ slug: 'elsewhere', name: 'E' });
    const foreignCourse = await database.db
      .insertInto('courses')
      .values({
        tenant_id: district.id,
        deployment_row_id: (
          await database.db
            .insertInto('deployments')
            .values({
              platform_id: (
                await database.db.selectFrom('platforms').select('id').executeTakeFirstOrThrow()
              ).id,
              deployment_id: 'elsewhere-1',
              tenant_id: district.id,
            })
            .returning('id')
            .executeTakeFirstOrThrow()
        ).id,
        context_id: 'foreign',
        ags_scopes: [],
        nrps_service_versions: [],
        updated_at: new Date(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const foreign = await database.db
      .insertInto('course_assignments')
      .values({
        tenant_id: district.id,
        course_id: foreignCourse.id,
        title: 'Foreign',
        source: 'teacher',
        created_by: 'x',
        created_at: new Date(),
        updated_at: new Date(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();

    const list = await page(world, `${teacher.base}/course/assignments`);
    const csrf = csrfOf(list.html);
    for (const id of [otherId, foreign.id, randomUUID(), 'not-an-id']) {
      const view = await page(world, `${teacher.base}/course/assignments/${id}`);
      expect(view.status, id).to.equal(404);
      for (const action of ['add', 'remove']) {
        const res = await post(
          world,
          `${teacher.base}/course/assignments/${id}/alignments/${action}`,
          {
            _csrf: csrf,
            itemId: item('6.RP.A.1').id,
          },
        );
        expect(res.status, `${action} ${id}`).to.equal(404);
      }
      const saved = await post(world, `${teacher.base}/course/assignments/${id}/alignments`, {
        _csrf: csrf,
        items: [item('6.RP.A.1').id],
      });
      expect(saved.status, `save ${id}`).to.equal(404);
    }
    const rows = await database.db
      .selectFrom('assignment_alignments')
      .select('assignment_id')
      .where('assignment_id', 'in', [otherId, foreign.id])
      .execute();
    expect(rows).to.deep.equal([]);
  });

  it('when the LMS lists its columns, then refreshing makes them assignments once; a copied course’s column brings its standards along', async () => {
    const state = world.emulator.state;
    state.createLineItem({
      courseId: lmsCourseId,
      clientId: world.clientId,
      label: 'Chapter 2 quiz',
      scoreMaximum: 20,
    });
    // A mastery column the tool writes grades to is not an assignment.
    state.createLineItem({
      courseId: lmsCourseId,
      clientId: world.clientId,
      label: '6.RP.A.1 (mastery)',
      scoreMaximum: 4,
      resourceId: 'mp:standard:abc',
      tag: 'mastery-pathways',
    });
    const list = await page(world, `${teacher.base}/course/assignments`);
    const refreshed = await post(world, `${teacher.base}/course/assignments/refresh`, {
      _csrf: csrfOf(list.html),
    });
    expect(refreshed.status, refreshed.html).to.equal(303);
    expect(refreshed.location).to.contain('created=1');
    const again = await post(world, `${teacher.base}/course/assignments/refresh`, {
      _csrf: csrfOf(list.html),
    });
    expect(again.location).to.contain('created=0');
    expect(again.location).to.contain('linked=1');
    const assignments = await world.tool.services.alignment.listAssignments(
      world.tenantId,
      courseId,
    );
    const quiz = assignments.find((a) => a.title === 'Chapter 2 quiz');
    expect(quiz?.source).to.equal('lms_line_item');
    expect(quiz?.scoreMaximum).to.equal(20);
    expect(assignments.some((a) => a.title.includes('(mastery)'))).to.equal(false);

    // Course copy: the LMS copies the column with its resourceId naming the original assignment.
    const original = await world.tool.services.alignment.createDeepLinkAssignment({
      tenantId: world.tenantId,
      courseId,
      id: randomUUID(),
      title: 'Proportions project',
      scoreMaximum: 8,
      tag: 'mastery-pathways',
      withColumn: true,
      itemIds: [item('6.RP.A.3').id, item('6.NS.B.2').id],
      actor: 'teacher',
    });
    const copy = state.addCourse({ title: 'Math 6 (next year)', label: 'M6-2027' });
    state.enroll(copy.courseId, world.seed.teacher.userId, 'Instructor');
    state.createLineItem({
      courseId: copy.courseId,
      clientId: world.clientId,
      label: 'Proportions project',
      scoreMaximum: 8,
      resourceId: `mp-assignment:${original.id}`,
      tag: 'mastery-pathways',
    });
    const copyTeacher = await launchInto(world, {
      courseId: copy.courseId,
      userId: world.seed.teacher.userId,
    });
    const copyList = await page(world, `${copyTeacher.base}/course/assignments`);
    const copied = await post(world, `${copyTeacher.base}/course/assignments/refresh`, {
      _csrf: csrfOf(copyList.html),
    });
    expect(copied.location).to.contain('copied=1');
    const copyCourse = (await world.tool.services.courses.listCourses(world.tenantId)).find(
      (c) => c.title === 'Math 6 (next year)',
    );
    const [copyAssignment] = await world.tool.services.alignment.listAssignments(
      world.tenantId,
      copyCourse!.id,
    );
    expect(copyAssignment?.copiedFrom).to.equal(original.id);
    const copiedAlignments = await world.tool.services.alignment.alignmentsOf(
      world.tenantId,
      copyCourse!.id,
      copyAssignment!.id,
    );
    expect(copiedAlignments.map((a) => a.itemId)).to.deep.equal([
      item('6.RP.A.3').id,
      item('6.NS.B.2').id,
    ]);
    // The original course is untouched by the copy.
    expect(
      (await world.tool.services.alignment.alignmentsOf(world.tenantId, courseId, original.id))
        .length,
    ).to.equal(2);
  });

  /**
   * A Canvas course copy as Canvas makes it for a tool that is not an asset processor: the copied
   * Deep Linking link keeps its custom parameters (naming the ORIGINAL assignment) and gets no
   * `$ResourceLink.id.history` (sent unexpanded); its column keeps the resourceId the tool gave it.
   */
  async function copiedCanvasLink(input: {
    original: { id: string };
    columnResourceId: string | undefined;
  }) {
    const { state } = world.emulator;
    const copy = state.addCourse({ title: `Copy ${randomUUID()}`, label: 'COPY' });
    state.enroll(copy.courseId, world.seed.teacher.userId, 'Instructor');
    const link = state.createResourceLink({
      courseId: copy.courseId,
      clientId: world.clientId,
      deploymentId: world.deploymentId,
      title: 'Fractions quiz',
      custom: {
        mp_assignment_id: input.original.id,
        resource_link_history: '$ResourceLink.id.history',
      },
      createdBy: 'deep_linking',
    });
    state.createLineItem({
      courseId: copy.courseId,
      clientId: world.clientId,
      label: 'Fractions quiz',
      scoreMaximum: 6,
      resourceLinkId: link.resourceLinkId,
      resourceId: input.columnResourceId,
      tag: 'mastery-pathways',
    });
    await launchInto(world, {
      courseId: copy.courseId,
      userId: world.seed.teacher.userId,
      resourceLinkId: link.resourceLinkId,
    });
    const copyCourse = (await world.tool.services.courses.listCourses(world.tenantId)).find(
      (c) => c.title === copy.title,
    );
    return {
      link,
      assignments: await world.tool.services.alignment.listAssignments(
        world.tenantId,
        copyCourse!.id,
      ),
      copyCourseId: copyCourse!.id,
    };
  }

  /** In a course of its own, so the shared course's assignments and coverage stay as they are. */
  async function originalDeepLinkAssignment() {
    const { state } = world.emulator;
    const original = state.addCourse({ title: `Original ${randomUUID()}`, label: 'ORIG' });
    state.enroll(original.courseId, world.seed.teacher.userId, 'Instructor');
    await launchInto(world, { courseId: original.courseId, userId: world.seed.teacher.userId });
    const originalCourse = (await world.tool.services.courses.listCourses(world.tenantId)).find(
      (c) => c.title === original.title,
    );
    return world.tool.services.alignment.createDeepLinkAssignment({
      tenantId: world.tenantId,
      courseId: originalCourse!.id,
      id: randomUUID(),
      title: 'Fractions quiz',
      scoreMaximum: 6,
      tag: 'mastery-pathways',
      withColumn: true,
      itemIds: [item('6.NS.B.2').id],
      actor: 'teacher',
    });
  }

  it('when a copied Canvas link is launched without a history variable, then its column recovers the original assignment and alignments at the launch', async () => {
    const original = await originalDeepLinkAssignment();
    const copied = await copiedCanvasLink({
      original,
      columnResourceId: `mp-assignment:${original.id}`,
    });
    expect(copied.assignments).to.have.length(1);
    const [assignment] = copied.assignments;
    expect(assignment?.copiedFrom).to.equal(original.id);
    expect(assignment?.resourceLinkId).to.equal(copied.link.resourceLinkId);
    const alignments = await world.tool.services.alignment.alignmentsOf(
      world.tenantId,
      copied.copyCourseId,
      assignment!.id,
    );
    expect(alignments.map((a) => a.itemId)).to.deep.equal([item('6.NS.B.2').id]);
  });

  it("when a link's custom parameter names another course's assignment but its column does not, then nothing is copied", async () => {
    const original = await originalDeepLinkAssignment();
    const copied = await copiedCanvasLink({
      original,
      columnResourceId: `mp-assignment:${randomUUID()}`,
    });
    expect(copied.assignments).to.deep.equal([]);
  });

  it('when the LMS refuses to list its columns, then the page says so and no assignment changes', async () => {
    const before = await world.tool.services.alignment.listAssignments(world.tenantId, courseId);
    world.emulator.state.createLineItem({
      courseId: lmsCourseId,
      clientId: world.clientId,
      label: 'Not read',
      scoreMaximum: 5,
    });
    // Token and listing both refused: whichever the tool asks first answers 403 (not retried).
    world.emulator.state.injectFaults({ kind: 'status', status: 403 }, 2);
    const list = await page(world, `${teacher.base}/course/assignments`);
    const refused = await post(world, `${teacher.base}/course/assignments/refresh`, {
      _csrf: csrfOf(list.html),
    });
    world.emulator.state.clearFaults();
    expect(refused.status).to.equal(502);
    expect(refused.html).to.contain('role="alert"');
    expect(refused.html).to.match(/The LMS (answered 403|did not list)/);
    const after = await world.tool.services.alignment.listAssignments(world.tenantId, courseId);
    expect(after.map((a) => a.id)).to.deep.equal(before.map((a) => a.id));
  });
});
