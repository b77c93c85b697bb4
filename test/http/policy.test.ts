import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import {
  openCourseSession,
  storedMasteryResult,
  type CourseSession,
} from '../support/course-pages.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createLtiWorld, type LtiWorld } from '../support/lti-world.ts';
import { seedAlignedAssignment } from '../storage/mastery/fixture.ts';

describe(`mastery policy pages (${testEngine})`, function () {
  this.timeout(120_000);
  let database: TestDatabase;
  let world: LtiWorld;
  let teacher: CourseSession;
  let student: CourseSession;
  let admin: CourseSession;
  let courseId: string;
  let leaves: [string, string];
  let assignmentId: string;

  const open = (userId: string) => openCourseSession(world, userId);

  const result = (studentId: string, itemId: string) =>
    storedMasteryResult(database.db, courseId, studentId, itemId);

  async function followJob(
    session: CourseSession,
    location: string | null,
    prefix = '',
  ): Promise<string> {
    expect(location).to.match(/\/policy\/jobs\/[0-9a-f-]{36}/);
    const path = (location ?? '').slice(session.base.length);
    for (let i = 0; i < 50; i += 1) {
      const page = await session.get(path);
      expect(page.status).to.equal(200);
      if (!page.text.includes('http-equiv="refresh"')) return page.text;
      await sleep(50);
    }
    throw new Error(`job did not finish ${prefix}`);
  }

  /**
   * The policies as seeded (none stored: the course follows the district, which follows the
   * defaults, "Most recent score"), with the levels recomputed: each test starts from there.
   */
  async function backToSeededPolicies(): Promise<void> {
    const { mastery } = world.tool.services;
    const stored = await mastery.storedPolicies(world.tenantId, courseId);
    for (const [part, scope] of [
      [stored.course, courseId],
      [stored.district, null],
    ] as const) {
      if (part === undefined) continue;
      const { finished } = await mastery.savePolicy({
        tenantId: world.tenantId,
        courseId: scope,
        policy: null,
        actor: 'test',
      });
      await finished;
    }
  }

  /** Sets the course's (or with null the district's) method through the service, and recomputes. */
  async function saveMethod(scope: string | null, kind: 'mean' | 'highest'): Promise<void> {
    const { finished } = await world.tool.services.mastery.savePolicy({
      tenantId: world.tenantId,
      courseId: scope,
      policy: { calculation: { method: { kind } } },
      actor: 'test',
    });
    await finished;
  }

  before(async () => {
    database = await createTestDatabase();
    world = await createLtiWorld(database, { flavour: 'canvas', platformStorage: false });
    teacher = await open(world.seed.teacher.userId);
    student = await open(world.seed.students[0]!.userId);
    admin = await open(world.seed.admin.userId);
    courseId = (await world.tool.services.courses.listCourses(world.tenantId))[0]!.id;
    const seeded = await seedAlignedAssignment(database, {
      tenantId: world.tenantId,
      courseId,
      actor: teacher.userId,
      now: new Date(),
    });
    leaves = seeded.leaves;
    assignmentId = seeded.assignmentId;
    await world.tool.services.mastery.recordEvidence({
      tenantId: world.tenantId,
      courseId,
      actor: teacher.userId,
      source: 'teacher',
      entries: [
        {
          studentId: student.userId,
          itemId: leaves[0],
          assignmentId,
          score: 2,
          assessedAt: new Date('2026-11-01T00:00:00Z'),
        },
        {
          studentId: student.userId,
          itemId: leaves[0],
          score: 4,
          assessedAt: new Date('2026-11-03T00:00:00Z'),
        },
      ],
    });
    const stored = await world.tool.services.mastery.storedPolicies(world.tenantId, courseId);
    expect(stored).to.deep.equal({ district: undefined, course: undefined });
  });

  beforeEach(backToSeededPolicies);

  after(async () => {
    await world.close();
    await database.close();
  });

  it('when a teacher opens the course policy, then the district defaults are shown', async () => {
    const page = await teacher.get('/course/policy');
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('Most recent score');
    expect(page.text).to.contain('This course uses the district’s settings.');
    expect(await result(student.userId, leaves[0])).to.include({ value: 4 });
  });

  it('when a teacher changes the method, then who/when is recorded and the course recomputes with progress shown', async () => {
    const changesOfCourse = () =>
      database.db
        .selectFrom('mastery_policy_changes')
        .selectAll()
        .where('course_id', '=', courseId)
        .execute();
    const earlier = new Set((await changesOfCourse()).map((c) => c.id));
    const res = await teacher.post('/course/policy', {
      method: 'mean',
      minEvidence: '',
      orderBy: '',
      rounding: '',
      rollup: '',
    });
    expect(res.status, res.text).to.equal(303);
    const done = await followJob(teacher, res.location);
    expect(done).to.contain('Done: every level was recalculated');
    expect(await result(student.userId, leaves[0])).to.include({ value: 3 });
    const changes = (await changesOfCourse()).filter((c) => !earlier.has(c.id));
    expect(changes).to.have.length(1);
    expect(changes[0]).to.include({ changed_by: teacher.userId });
    const page = await teacher.get('/course/policy');
    expect(page.text).to.contain('This course has its own settings');
    expect(page.text).to.match(/<option value="mean" selected>/);
  });

  it('when a teacher submits an incomplete method, then the form comes back with the error and the values, and nothing changes', async () => {
    await saveMethod(courseId, 'mean');
    const res = await teacher.post('/course/policy', { method: 'nTimes', n: '', threshold: '3' });
    expect(res.status).to.equal(422);
    expect(res.text).to.contain('Enter how many times (N).');
    expect(res.text).to.match(/<option value="nTimes" selected>/);
    expect(res.text).to.contain('value="3"');
    const policy = await world.tool.services.mastery.loadCoursePolicy(world.tenantId, courseId);
    expect(policy.calculation.method).to.deep.equal({ kind: 'mean' });
  });

  it('when a teacher submits a policy that would not work, then it is refused with the reason', async () => {
    const res = await teacher.post('/course/policy', { method: 'nTimes', n: '2', threshold: '9' });
    expect(res.status).to.equal(422);
    expect(res.text).to.contain('threshold 9 lies outside the scale');
  });

  it('when a teacher goes back to the district settings, then the course override is removed and levels recompute', async () => {
    await saveMethod(courseId, 'mean');
    expect(await result(student.userId, leaves[0])).to.include({ value: 3 });
    const res = await teacher.post('/course/policy', { reset: '1' });
    expect(res.status).to.equal(303);
    await followJob(teacher, res.location);
    expect(await result(student.userId, leaves[0])).to.include({ value: 4 });
    const stored = await world.tool.services.mastery.storedPolicies(world.tenantId, courseId);
    expect(stored.course).to.equal(undefined);
  });

  it('when a student opens or posts the policy page, then the answer is 403 and nothing changes', async () => {
    expect((await student.get('/course/policy')).status).to.equal(403);
    expect((await student.post('/course/policy', { method: 'highest' })).status).to.equal(403);
    const stored = await world.tool.services.mastery.storedPolicies(world.tenantId, courseId);
    expect(stored.course).to.equal(undefined);
  });

  it('when a district admin changes the district policy, then every course recomputes and the scale labels are kept', async () => {
    const page = await admin.get('/admin/policy');
    expect(page.status, page.text).to.equal(200);
    expect(page.text).to.contain('value="Meets"');
    const fields: Record<string, string> = {
      tenantSlug: 'district-canvas',
      method: 'highest',
      minEvidence: '1',
      orderBy: 'assessed',
      rounding: '2',
      rollup: 'minimum',
      scaleMin: '1',
      scaleMax: '4',
      interpolation: 'step',
      standardColumns: 'yes',
      courseColumn: 'no',
      assignmentScores: 'no',
      prioritizeNonToolGrade: 'yes',
      classroomAssignGrades: 'no',
    };
    [
      ['Exceeds', '4', '#1a5e20', 'yes'],
      ['Proficient', '3', '#2e7d32', 'yes'],
      ['Developing', '2', '#b26a00', ''],
      ['Beginning', '1', '#b71c1c', ''],
    ].forEach(([label, value, colour, mastered], i) => {
      fields[`level_${i}_label`] = label!;
      fields[`level_${i}_value`] = value!;
      fields[`level_${i}_colour`] = colour!;
      if (mastered) fields[`level_${i}_mastered`] = mastered;
    });
    [
      ['1', '50'],
      ['2', '70'],
      ['3', '85'],
      ['4', '100'],
    ].forEach(([value, percent], i) => {
      fields[`conversion_${i}_value`] = value!;
      fields[`conversion_${i}_percent`] = percent!;
    });
    const res = await admin.post('/admin/policy', fields);
    expect(res.status, res.text).to.equal(303);
    await followJob(admin, res.location);
    const policy = await world.tool.services.mastery.loadCoursePolicy(world.tenantId, courseId);
    expect(policy.calculation.method).to.deep.equal({ kind: 'highest' });
    expect(policy.scale.levels.map((l) => l.label)).to.deep.equal([
      'Exceeds',
      'Proficient',
      'Developing',
      'Beginning',
    ]);
    expect(policy.rollup).to.deep.equal({ method: 'minimum' });
    expect(policy.conversion.rows[0]).to.deep.equal({ value: 1, percent: 50 });
    expect(await result(student.userId, leaves[0])).to.include({ value: 4 });
    // Who changed it is recorded as an opaque id (here a launched admin), never a name.
    const [change] = await world.tool.services.mastery.policyChanges(world.tenantId, null);
    expect(change?.changedBy).to.equal(`lti:${admin.userId}`);
    expect((await admin.get('/admin/policy')).text).to.contain(
      'An administrator launched from the LMS',
    );
  });

  it('when a district admin leaves a level without a label, then the form names the problem and nothing changes', async () => {
    await saveMethod(null, 'highest');
    const res = await admin.post('/admin/policy', {
      tenantSlug: 'district-canvas',
      method: 'mean',
      scaleMin: '1',
      scaleMax: '4',
      level_0_value: '3',
      level_0_mastered: 'yes',
      conversion_0_value: '1',
      conversion_0_percent: '50',
    });
    expect(res.status).to.equal(422);
    expect(res.text).to.contain('Level 1: enter a label.');
    const policy = await world.tool.services.mastery.loadCoursePolicy(world.tenantId, courseId);
    expect(policy.calculation.method).to.deep.equal({ kind: 'highest' });
  });

  it('when a teacher or student opens the district policy page, then the answer is 403', async () => {
    expect((await teacher.get('/admin/policy')).status).to.equal(403);
    expect((await student.get('/admin/policy')).status).to.equal(403);
  });
  it('when a teacher orders evidence as Canvas does, then the choice is stored, shown named by its LMS, and the working names it', async () => {
    const form = await teacher.get('/course/policy');
    expect(form.text).to.contain(
      '<option value="submittedOrLastGraded">Canvas: submission time, else the latest grading time</option>',
    );
    expect(form.text).to.contain(
      '<option value="graded">Schoology: time of the original score</option>',
    );
    const res = await teacher.post('/course/policy', {
      method: 'mostRecent',
      orderBy: 'submittedOrLastGraded',
    });
    expect(res.status, res.text).to.equal(303);
    await followJob(teacher, res.location);
    const stored = await world.tool.services.mastery.storedPolicies(world.tenantId, courseId);
    expect(stored.course?.calculation?.orderBy).to.equal('submittedOrLastGraded');
    const page = await teacher.get('/course/policy');
    expect(page.text).to.match(/<option value="submittedOrLastGraded" selected>/);
    const detail = await teacher.get(`/course/students/${student.userId}`);
    expect(detail.status).to.equal(200);
    expect(detail.text).to.contain(
      'submission time, else the latest grading time (Canvas’s order)',
    );
  });

  it('when a teacher submits an ordering no LMS uses, then it is refused in words and nothing changes', async () => {
    const before = await world.tool.services.mastery.storedPolicies(world.tenantId, courseId);
    const res = await teacher.post('/course/policy', {
      method: 'mostRecent',
      orderBy: 'alphabetical',
    });
    expect(res.status).to.equal(422);
    expect(res.text).to.contain('Choose which date orders the evidence.');
    const after = await world.tool.services.mastery.storedPolicies(world.tenantId, courseId);
    expect(after).to.deep.equal(before);
  });
});
