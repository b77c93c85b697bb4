import { expect } from 'chai';
import { sql } from 'kysely';
import {
  openCourseSession,
  storedMasteryResult,
  type CourseSession,
} from '../support/course-pages.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createLtiWorld, type LtiWorld } from '../support/lti-world.ts';
import {
  masteryFixture,
  seedAlignedAssignment,
  type MasteryFixture,
} from '../storage/mastery/fixture.ts';

describe(`evidence pages (${testEngine})`, function () {
  this.timeout(120_000);
  let database: TestDatabase;
  let world: LtiWorld;
  let teacher: CourseSession;
  let student: CourseSession;
  let courseId: string;
  let studentIds: string[];
  let subs: string[];
  let leaves: [string, string];
  let codes: [string, string];
  let assignmentId: string;
  let lineItemId: string;
  let other: MasteryFixture;

  const open = (userId: string) => openCourseSession(world, userId);

  const evidenceCount = async () =>
    Number(
      (
        await sql<{
          n: string;
        }>`SELECT count(*) AS n FROM evidence WHERE deleted_at IS NULL`.execute(database.db)
      ).rows[0]?.n,
    );
  const result = (studentId: string, itemId: string) =>
    storedMasteryResult(database.db, courseId, studentId, itemId);
  const cell = (s: number, l: 0 | 1) => `c_${studentIds[s]}_${leaves[l]}`;

  before(async () => {
    database = await createTestDatabase();
    world = await createLtiWorld(database, { flavour: 'canvas', platformStorage: false });
    teacher = await open(world.seed.teacher.userId);
    const launched = [];
    for (const person of world.seed.students.slice(0, 2)) launched.push(await open(person.userId));
    student = launched[0]!;
    studentIds = launched.map((s) => s.userId);
    subs = world.seed.students.slice(0, 2).map((p) => p.sub);
    const course = (await world.tool.services.courses.listCourses(world.tenantId))[0];
    courseId = course!.id;
    const lineItem = world.emulator.state.createLineItem({
      courseId: world.seed.course.courseId,
      clientId: world.clientId,
      label: 'Ratios quiz',
      scoreMaximum: 20,
    });
    lineItemId = lineItem.lineItemId;
    const seeded = await seedAlignedAssignment(database, {
      tenantId: world.tenantId,
      courseId,
      actor: teacher.userId,
      now: new Date(),
      lineItemUrl: world.emulator.urls.lineItem(world.seed.course.courseId, lineItemId),
    });
    leaves = seeded.leaves;
    codes = seeded.codes;
    assignmentId = seeded.assignmentId;
    other = await masteryFixture(database, 'other-district', new Date());
  });

  after(async () => {
    await world.close();
    await database.close();
  });

  // Each test starts from a course without evidence, results or overrides; a test that needs a
  // recorded score records it itself (`arrangeScore`).
  beforeEach(async () => {
    await database.db
      .deleteFrom('mastery_overrides')
      .where('tenant_id', '=', world.tenantId)
      .where('course_id', '=', courseId)
      .execute();
    await database.db
      .deleteFrom('mastery_results')
      .where('tenant_id', '=', world.tenantId)
      .where('course_id', '=', courseId)
      .execute();
    // The history goes with its evidence (ON DELETE CASCADE).
    await database.db
      .deleteFrom('evidence')
      .where('tenant_id', '=', world.tenantId)
      .where('course_id', '=', courseId)
      .execute();
  });

  /** A teacher's score for student `s` on leaf `l`, recorded as the grid would. */
  const arrangeScore = async (s: number, l: 0 | 1, score: number) => {
    await world.tool.services.mastery.recordEvidence({
      tenantId: world.tenantId,
      courseId,
      actor: teacher.userId,
      source: 'teacher',
      entries: [{ studentId: studentIds[s]!, itemId: leaves[l], assignmentId, score }],
    });
    expect(await result(studentIds[s]!, leaves[l])).to.include({ value: score, overridden: false });
  };

  it('when a teacher opens the evidence page, then the aligned assignment is listed with a link to its grid', async () => {
    const page = await teacher.get('/course/evidence');
    expect(page.status).to.equal(200);
    expect(page.text).to.contain(`/course/evidence/${assignmentId}`);
    expect(page.text).to.contain('Ratios quiz');
  });

  it('when a teacher opens the grid, then every student × standard cell has a labelled input', async () => {
    const page = await teacher.get(`/course/evidence/${assignmentId}`);
    expect(page.status).to.equal(200);
    for (const s of [0, 1]) {
      for (const l of [0, 1] as const) {
        expect(page.text).to.contain(`<label class="visually-hidden" for="${cell(s, l)}">`);
      }
    }
    expect(page.text).to.contain('aria-live="polite"');
  });

  it('when the grid is saved without JavaScript, then evidence is recorded and mastery updated immediately', async () => {
    const res = await teacher.post(
      `/course/evidence/${assignmentId}`,
      { [cell(0, 0)]: '3', [cell(1, 0)]: 'x', [cell(0, 1)]: 'Exceeds', [cell(1, 1)]: '' },
      `/course/evidence/${assignmentId}`,
    );
    expect(res.status, res.text).to.equal(303);
    expect(res.location).to.match(/\?saved=3$/);
    expect(await result(studentIds[0]!, leaves[0])).to.include({ status: 'mastery', value: 3 });
    expect(await result(studentIds[0]!, leaves[1])).to.include({ value: 4 });
    expect(await result(studentIds[1]!, leaves[0])).to.include({ status: 'noEvidence' });
    const page = await teacher.get(`/course/evidence/${assignmentId}`);
    expect(page.text).to.match(new RegExp(`name="${cell(0, 0)}" value="3"`));
    expect(page.text).to.match(new RegExp(`name="${cell(1, 0)}" value="X"`));
  });

  it('when a cell is off the scale, then nothing is saved and the form comes back with every value and the error', async () => {
    await arrangeScore(0, 0, 3);
    const before = await evidenceCount();
    const res = await teacher.post(
      `/course/evidence/${assignmentId}`,
      { [cell(0, 0)]: '7', [cell(1, 1)]: '2' },
      `/course/evidence/${assignmentId}`,
    );
    expect(res.status).to.equal(422);
    expect(res.text).to.contain('7 is not on the scale: use 1 to 4.');
    expect(res.text).to.match(new RegExp(`name="${cell(0, 0)}" value="7"`));
    expect(res.text).to.match(new RegExp(`name="${cell(1, 1)}" value="2"`));
    expect(res.text).to.contain('aria-invalid="true"');
    expect(res.text).to.contain('nothing was saved');
    expect(await evidenceCount()).to.equal(before);
    expect(await result(studentIds[0]!, leaves[0])).to.include({ value: 3 });
  });

  it('when the grid autosaves, then it answers JSON: saved, or errors per cell', async () => {
    const ok = await teacher.post(
      `/course/evidence/${assignmentId}`,
      { _autosave: '1', [cell(1, 1)]: '2.5' },
      `/course/evidence/${assignmentId}`,
    );
    expect(ok.status).to.equal(200);
    expect(JSON.parse(ok.text)).to.deep.equal({ ok: true, saved: 1 });
    expect(await result(studentIds[1]!, leaves[1])).to.include({ value: 2.5 });
    const bad = await teacher.post(
      `/course/evidence/${assignmentId}`,
      { _autosave: '1', [cell(1, 1)]: 'abc' },
      `/course/evidence/${assignmentId}`,
    );
    expect(bad.status).to.equal(422);
    const body = JSON.parse(bad.text) as { ok: boolean; errors: Record<string, string> };
    expect(body.ok).to.equal(false);
    expect(body.errors[cell(1, 1)]).to.contain('is not a level');
  });

  it('when a cell names a student of another district, then it is refused and nothing is saved', async () => {
    const before = await evidenceCount();
    const res = await teacher.post(
      `/course/evidence/${assignmentId}`,
      { [`c_${other.students[0]!.id}_${leaves[0]}`]: '3' },
      `/course/evidence/${assignmentId}`,
    );
    expect(res.status).to.equal(422);
    expect(res.text).to.contain('This student is not enrolled in this course.');
    expect(await evidenceCount()).to.equal(before);
  });

  it('when a teacher opens another district’s assignment or student by URL, then the answer is 404', async () => {
    expect((await teacher.get(`/course/evidence/${other.assignmentId}`)).status).to.equal(404);
    expect((await teacher.get(`/course/evidence/not-a-uuid`)).status).to.equal(404);
    expect(
      (
        await teacher.get(
          `/course/students/${other.students[0]!.id}/standards/${other.leaves[0]}/override`,
        )
      ).status,
    ).to.equal(404);
    const res = await teacher.post(
      `/course/students/${other.students[0]!.id}/standards/${other.leaves[0]}/override`,
      { levelId: 'meets', reason: 'x' },
    );
    expect(res.status).to.equal(404);
    expect(await other_overrides()).to.equal(0);
  });
  const other_overrides = async () =>
    (
      await database.db
        .selectFrom('mastery_overrides')
        .select('item_id')
        .where('tenant_id', '=', other.tenantId)
        .execute()
    ).length;

  it('when a student tries the teacher pages or writes evidence, then the answer is 403 and nothing changes', async () => {
    await arrangeScore(0, 0, 3);
    for (const path of [
      '/course/evidence',
      `/course/evidence/${assignmentId}`,
      '/course/evidence/import',
      '/course/policy',
      `/course/students/${studentIds[1]}/standards/${leaves[0]}/override`,
    ]) {
      expect((await student.get(path)).status, path).to.equal(403);
    }
    const before = await evidenceCount();
    const write = await student.post(`/course/evidence/${assignmentId}`, {
      [cell(0, 0)]: '4',
      [cell(1, 0)]: '1',
    });
    expect(write.status).to.equal(403);
    const override = await student.post(
      `/course/students/${studentIds[0]}/standards/${leaves[0]}/override`,
      { levelId: 'exceeds', reason: 'me' },
    );
    expect(override.status).to.equal(403);
    const csv = await student.post('/course/evidence/import', {
      csv: `student,standard,assignment,score\n${subs[0]},${codes[0]},Ratios quiz,4`,
    });
    expect(csv.status).to.equal(403);
    expect(await evidenceCount()).to.equal(before);
    expect(await result(studentIds[0]!, leaves[0])).to.include({ value: 3, overridden: false });
  });

  it('when a teacher overrides without a reason, then it is refused with the message; with one, the override counts', async () => {
    await arrangeScore(0, 0, 3);
    const path = `/course/students/${studentIds[0]}/standards/${leaves[0]}/override`;
    const page = await teacher.get(path);
    expect(page.status).to.equal(200);
    const missing = await teacher.post(path, { levelId: 'exceeds', reason: '  ' }, path);
    expect(missing.status).to.equal(422);
    expect(missing.text).to.contain('Give a reason');
    const unknown = await teacher.post(path, { levelId: 'legendary', reason: 'Oral exam' }, path);
    expect(unknown.status).to.equal(422);
    expect(unknown.text).to.contain('Choose one of the scale’s levels.');
    const saved = await teacher.post(path, { levelId: 'exceeds', reason: 'Oral exam' }, path);
    expect(saved.status).to.equal(303);
    expect(await result(studentIds[0]!, leaves[0])).to.include({
      value: 4,
      computed_value: 3,
      overridden: true,
    });
    const cleared = await teacher.post(`${path}/clear`, {}, path);
    expect(cleared.status).to.equal(303);
    expect(await result(studentIds[0]!, leaves[0])).to.include({ value: 3, overridden: false });
  });

  it('when a valid CSV is imported, then every row is recorded as csv evidence', async () => {
    const text = `student,standard,assignment,score,date,comment\n${subs[0]},${codes[1]},Ratios quiz,2,2026-11-02,retake\n${subs[1]},${codes[0]},ratios quiz,4,,`;
    const res = await teacher.post(
      '/course/evidence/import',
      { csv: text },
      '/course/evidence/import',
    );
    expect(res.status, res.text).to.equal(200);
    expect(res.text).to.contain('Imported 2 rows: 2 saved');
    const rows = await database.db
      .selectFrom('evidence')
      .select(['score', 'source', 'comment'])
      .where('source', '=', 'csv')
      .execute();
    expect(rows).to.have.length(2);
    expect(await result(studentIds[1]!, leaves[0])).to.include({ value: 4 });
  });

  const rejections: [
    string,
    (c: [string, string], s: string[]) => string,
    number,
    string,
    string,
  ][] = [
    [
      'an unknown column',
      (c, s) => `student,standard,assignment,score,colour\n${s[0]},${c[0]},Ratios quiz,3,red`,
      1,
      'colour',
      'Unknown column',
    ],
    [
      'no student column',
      (c) => `standard,assignment,score\n${c[0]},Ratios quiz,3`,
      1,
      'student',
      'no “student” column',
    ],
    [
      'no score or points column',
      (c, s) => `student,standard,assignment\n${s[0]},${c[0]},Ratios quiz`,
      1,
      'score',
      '“score” or a “points” column',
    ],
    ['an empty file', () => '', 1, '(file)', 'The file is empty'],
    [
      'a header only',
      () => 'student,standard,assignment,score\n',
      1,
      '(file)',
      'no rows of evidence',
    ],
    [
      'an unclosed quote',
      (c, s) => `student,standard,assignment,score\n${s[0]},"${c[0]},Ratios quiz,3`,
      2,
      '(file)',
      'cannot be read as CSV',
    ],
    [
      'an unknown student',
      (c) => `student,standard,assignment,score\nsomebody-else,${c[0]},Ratios quiz,3`,
      2,
      'student',
      'No student with LMS user id',
    ],
    [
      'a missing student',
      (c) => `student,standard,assignment,score\n,${c[0]},Ratios quiz,3`,
      2,
      'student',
      'is missing',
    ],
    [
      'an unknown assignment',
      (c, s) => `student,standard,assignment,score\n${s[0]},${c[0]},Essay,3`,
      2,
      'assignment',
      'No assignment “Essay”',
    ],
    [
      'a standard not aligned',
      (_c, s) => `student,standard,assignment,score\n${s[0]},NOPE.1,Ratios quiz,3`,
      2,
      'standard',
      'is not aligned to',
    ],
    [
      'a score that is not a number',
      (c, s) => `student,standard,assignment,score\n${s[0]},${c[0]},Ratios quiz,three`,
      2,
      'score',
      'is not a number',
    ],
    [
      'a score off the scale',
      (c, s) => `student,standard,assignment,score\n${s[0]},${c[0]},Ratios quiz,9`,
      2,
      'score',
      'not on the scale',
    ],
    [
      'score and points both',
      (c, s) => `student,standard,assignment,score,points\n${s[0]},${c[0]},Ratios quiz,3,4`,
      2,
      'score',
      'not both',
    ],
    [
      'more points than possible',
      (c, s) =>
        `student,standard,assignment,points,points_possible\n${s[0]},${c[0]},Ratios quiz,12,10`,
      2,
      'points',
      'more than the 10 possible',
    ],
    [
      'bad points possible',
      (c, s) =>
        `student,standard,assignment,points,points_possible\n${s[0]},${c[0]},Ratios quiz,1,0`,
      2,
      'points_possible',
      'not a number above 0',
    ],
    [
      'a bad date',
      (c, s) => `student,standard,assignment,score,date\n${s[0]},${c[0]},Ratios quiz,3,27/11/2026`,
      2,
      'date',
      'use YYYY-MM-DD',
    ],
    [
      'a bad excused value',
      (c, s) => `student,standard,assignment,score,excused\n${s[0]},${c[0]},Ratios quiz,3,maybe`,
      2,
      'excused',
      'not yes or no',
    ],
    [
      'a row with nothing',
      (c, s) => `student,standard,assignment,score\n${s[0]},${c[0]},Ratios quiz,`,
      2,
      'score',
      'no score, no points',
    ],
    [
      'a duplicate row',
      (c, s) =>
        `student,standard,assignment,score\n${s[0]},${c[0]},Ratios quiz,3\n${s[0]},${c[0]},Ratios quiz,2`,
      3,
      'standard',
      'Line 2 already gives',
    ],
  ];
  for (const [what, build, line, field, message] of rejections) {
    it(`when a CSV has ${what}, then nothing is imported and the report names line ${line}, ${field}`, async () => {
      const before = await evidenceCount();
      const res = await teacher.post(
        '/course/evidence/import',
        { csv: build(codes, subs) },
        '/course/evidence/import',
      );
      expect(res.status).to.equal(422);
      expect(res.text).to.contain('Nothing was imported');
      const escaped = (t: string) =>
        t
          .replace(/&/g, '&amp;')
          .replace(/</g, '&lt;')
          .replace(/>/g, '&gt;')
          .replace(/"/g, '&#34;')
          .replace(/'/g, '&#39;');
      expect(res.text).to.contain(`<tr><td>${line}</td><td>${escaped(field)}</td>`);
      expect(res.text).to.contain(escaped(message));
      expect(await evidenceCount()).to.equal(before);
    });
  }

  it('when one CSV row is bad among good ones, then none are imported', async () => {
    // A score the good row would change: it stays as it was.
    await arrangeScore(0, 0, 3);
    const before = await evidenceCount();
    const resultBefore = await result(studentIds[0]!, leaves[0]);
    const text = `student,standard,assignment,score\n${subs[0]},${codes[0]},Ratios quiz,1\n${subs[1]},${codes[1]},Ratios quiz,5`;
    const res = await teacher.post(
      '/course/evidence/import',
      { csv: text },
      '/course/evidence/import',
    );
    expect(res.status).to.equal(422);
    expect(res.text).to.contain('<tr><td>3</td><td>score</td>');
    expect(await evidenceCount()).to.equal(before);
    expect(await result(studentIds[0]!, leaves[0])).to.deep.equal(resultBefore);
  });

  it('when LMS scores are imported, then each result is split over the aligned standards by their points', async () => {
    world.emulator.state.setTeacherGrade(lineItemId, subs[0]!, 15);
    const res = await teacher.post(
      `/course/evidence/${assignmentId}/import-lms`,
      {},
      `/course/evidence/${assignmentId}`,
    );
    expect(res.status, res.text).to.equal(200);
    expect(res.text).to.contain('Imported LMS scores: 2 saved');
    const rows = await database.db
      .selectFrom('evidence')
      .select(['item_id', 'points', 'points_possible', 'score', 'source'])
      .where('source', '=', 'lms')
      .where('student_id', '=', studentIds[0]!)
      .orderBy('points_possible', 'desc')
      .execute();
    // 15 / 20 = 0.75 of each standard's points (10 and 5); on 1..4: 1 + 0.75 × 3 = 3.25.
    expect(rows.map((r) => [r.points, r.points_possible, r.score])).to.deep.equal([
      [7.5, 10, 3.25],
      [3.75, 5, 3.25],
    ]);
    expect(await result(studentIds[0]!, leaves[1])).to.include({ value: 3.25 });
    const again = await teacher.post(
      `/course/evidence/${assignmentId}/import-lms`,
      {},
      `/course/evidence/${assignmentId}`,
    );
    expect(again.text).to.contain('0 saved, 2 unchanged');
  });

  for (const [what, faults] of [
    ['the results request', 1],
    ['the token and the results requests', 5],
  ] as const) {
    it(`when the LMS refuses ${what}, then the grid says so and nothing is recorded`, async () => {
      const before = await evidenceCount();
      world.emulator.state.injectFaults({ kind: 'status', status: 403 }, faults);
      try {
        const res = await teacher.post(
          `/course/evidence/${assignmentId}/import-lms`,
          {},
          `/course/evidence/${assignmentId}`,
        );
        expect(
          res.status,
          res.text.slice(res.text.indexOf('<main'), res.text.indexOf('<main') + 600),
        ).to.equal(502);
        expect(res.text).to.contain('The LMS did not give the scores');
        expect(await evidenceCount()).to.equal(before);
      } finally {
        world.emulator.state.clearFaults();
      }
    });
  }
});
