import { expect } from 'chai';
import { createAppServices } from '../../../src/app-services.ts';
import { EvidenceError } from '../../../src/evidence/errors.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../../support/database.ts';
import { masteryFixture, type MasteryFixture } from './fixture.ts';

describe(`evidence and mastery results (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let clock: Date;
  let services: ReturnType<typeof createAppServices>;
  let f: MasteryFixture;
  let other: MasteryFixture;

  const tick = (ms = 60_000) => {
    clock = new Date(clock.getTime() + ms);
  };
  const result = (studentId: string, itemId: string, fixture = f) =>
    database.db
      .selectFrom('mastery_results')
      .selectAll()
      .where('course_id', '=', fixture.courseId)
      .where('student_id', '=', studentId)
      .where('item_id', '=', itemId)
      .executeTakeFirst();
  const record = (entries: Parameters<typeof services.mastery.recordEvidence>[0]['entries']) =>
    services.mastery.recordEvidence({
      tenantId: f.tenantId,
      courseId: f.courseId,
      actor: f.teacherId,
      source: 'teacher',
      entries,
    });

  let districts = 0;

  before(async () => {
    database = await createTestDatabase();
    clock = new Date('2026-11-27T08:00:00.000Z');
    services = createAppServices({
      db: database.db,
      keyEncryptionSecret: 'x'.repeat(32),
      now: () => clock,
    });
    // Only read (or refused writes) by the tests, so one for all of them.
    other = await masteryFixture(database, 'district-b', clock);
  });
  // Each test gets a district of its own: no test sees another's evidence, overrides or policy.
  beforeEach(async () => {
    clock = new Date('2026-11-27T08:00:00.000Z');
    districts += 1;
    f = await masteryFixture(database, `district-a-${districts}`, clock);
  });
  after(async () => {
    await database.close();
  });

  it('when a teacher records a score, then the mastery result and its parent roll-up are there immediately', async () => {
    const [student] = f.students;
    const outcome = await record([
      { studentId: student!.id, itemId: f.leaves[0], assignmentId: f.assignmentId, score: 3 },
    ]);
    expect(outcome).to.deep.equal({ saved: 1, unchanged: 0, changedStudents: [student!.id] });
    const row = await result(student!.id, f.leaves[0]);
    expect(row).to.include({
      status: 'mastery',
      value: 3,
      level_id: 'meets',
      mastered: true,
      computed_value: 3,
      overridden: false,
      evidence_count: 1,
    });
    const parent = await result(student!.id, f.parentId);
    expect(parent).to.include({ status: 'mastery', value: 3, evidence_count: 1 });
  });

  it('when the same value is saved again, then nothing changes (no history, no version bump)', async () => {
    const [student] = f.students;
    await record([
      { studentId: student!.id, itemId: f.leaves[0], assignmentId: f.assignmentId, score: 3 },
    ]);
    tick();
    const outcome = await record([
      { studentId: student!.id, itemId: f.leaves[0], assignmentId: f.assignmentId, score: 3 },
    ]);
    expect(outcome).to.deep.equal({ saved: 0, unchanged: 1, changedStudents: [] });
    const rows = await database.db
      .selectFrom('evidence_history')
      .selectAll()
      .where('tenant_id', '=', f.tenantId)
      .execute();
    expect(rows).to.have.length(0);
    const evidence = await services.mastery.evidenceForStudent(f.tenantId, f.courseId, student!.id);
    expect(evidence.map((e) => [e.score, e.version])).to.deep.equal([[3, 1]]);
  });

  it('when a score is edited, then the prior version is kept in the history and mastery follows', async () => {
    const [student] = f.students;
    await record([
      { studentId: student!.id, itemId: f.leaves[0], assignmentId: f.assignmentId, score: 3 },
    ]);
    tick();
    await record([
      { studentId: student!.id, itemId: f.leaves[0], assignmentId: f.assignmentId, score: 2 },
    ]);
    const evidence = await services.mastery.evidenceForStudent(f.tenantId, f.courseId, student!.id);
    expect(evidence).to.have.length(1);
    expect(evidence[0]).to.include({ score: 2, version: 2, assignment_title: 'Ratios quiz' });
    const history = await services.mastery.historyOf(f.tenantId, evidence[0]!.id);
    expect(history!.versions).to.have.length(1);
    expect(history!.versions[0]).to.include({ version: 1, changedBy: f.teacherId });
    expect(history!.versions[0]!.snapshot.score).to.equal(3);
    expect(await result(student!.id, f.leaves[0])).to.include({
      value: 2,
      level_id: 'approaching',
    });
    // Another district cannot read it.
    expect(await services.mastery.historyOf(other.tenantId, evidence[0]!.id)).to.equal(undefined);
  });

  it('when points are entered, then they convert through the alignment points to the scale', async () => {
    const [, student] = f.students;
    await record([
      { studentId: student!.id, itemId: f.leaves[0], assignmentId: f.assignmentId, points: 5 },
    ]);
    const [row] = await services.mastery.evidenceForStudent(f.tenantId, f.courseId, student!.id);
    // 5 of the alignment's 10 points on 1..4: 1 + 0.5 × 3 = 2.5
    expect(row).to.include({ points: 5, points_possible: 10, score: 2.5 });
  });

  it('when a cell is cleared, then the evidence is withdrawn (history kept) and mastery says no evidence', async () => {
    const [, student] = f.students;
    await record([
      { studentId: student!.id, itemId: f.leaves[0], assignmentId: f.assignmentId, points: 5 },
    ]);
    const [recorded] = await services.mastery.evidenceForStudent(
      f.tenantId,
      f.courseId,
      student!.id,
    );
    expect(await result(student!.id, f.leaves[0])).to.include({ status: 'mastery' });
    tick();
    await record([
      { studentId: student!.id, itemId: f.leaves[0], assignmentId: f.assignmentId, score: null },
    ]);
    expect(
      await services.mastery.evidenceForStudent(f.tenantId, f.courseId, student!.id),
    ).to.have.length(0);
    expect(await result(student!.id, f.leaves[0])).to.include({
      status: 'noEvidence',
      value: null,
    });
    expect(await result(student!.id, f.parentId)).to.include({ status: 'noEvidence' });
    const history = await services.mastery.historyOf(f.tenantId, recorded!.id);
    expect(history!.current.deleted_at).to.be.instanceOf(Date);
    expect(history!.versions.map((v) => v.snapshot.score)).to.deep.equal([2.5]);
  });

  it('when any entry is invalid, then nothing is saved and every problem is named', async () => {
    const [student] = f.students;
    const before = await database.db.selectFrom('evidence').select('id').execute();
    let caught: unknown;
    try {
      await record([
        { studentId: student!.id, itemId: f.leaves[1], assignmentId: f.assignmentId, score: 4 },
        { studentId: student!.id, itemId: f.leaves[1], assignmentId: f.assignmentId, score: 5 },
        {
          studentId: other.students[0]!.id,
          itemId: f.leaves[1],
          assignmentId: f.assignmentId,
          score: 3,
        },
        { studentId: student!.id, itemId: f.parentId, assignmentId: f.assignmentId, score: 3 },
        { studentId: student!.id, itemId: f.leaves[1], assignmentId: other.assignmentId, score: 3 },
        { studentId: student!.id, itemId: f.leaves[1], assignmentId: f.assignmentId, points: -1 },
        { studentId: student!.id, itemId: other.leaves[0], score: 3 },
        { studentId: f.teacherId, itemId: f.leaves[1], assignmentId: f.assignmentId, score: 3 },
      ]);
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(EvidenceError);
    const problems = (caught as EvidenceError).problems;
    expect(problems.map((p) => [p.index, p.field])).to.deep.equal([
      [1, 'score'],
      [2, 'studentId'],
      [3, 'itemId'],
      [4, 'assignmentId'],
      [5, 'points'],
      [6, 'itemId'],
      [7, 'studentId'],
    ]);
    expect(problems[0]!.message).to.equal('5 is not on the scale: enter a number from 1 to 4.');
    expect(await database.db.selectFrom('evidence').select('id').execute()).to.have.length(
      before.length,
    );
  });

  it('when evidence names a course of another district, then it is refused', async () => {
    let caught: unknown;
    try {
      await services.mastery.recordEvidence({
        tenantId: f.tenantId,
        courseId: other.courseId,
        actor: f.teacherId,
        source: 'teacher',
        entries: [
          {
            studentId: other.students[0]!.id,
            itemId: other.leaves[0],
            assignmentId: other.assignmentId,
            score: 3,
          },
        ],
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(EvidenceError);
    expect((caught as EvidenceError).code).to.equal('course_not_found');
  });

  it('when a teacher overrides, then the override counts, the computed value stays beside it, and it survives recomputation', async () => {
    const [student] = f.students;
    await record([
      { studentId: student!.id, itemId: f.leaves[0], assignmentId: f.assignmentId, score: 2 },
    ]);
    tick();
    await services.mastery.setOverride({
      tenantId: f.tenantId,
      courseId: f.courseId,
      studentId: student!.id,
      itemId: f.leaves[0],
      levelId: 'exceeds',
      reason: 'Showed it in class discussion',
      actor: f.teacherId,
    });
    expect(await result(student!.id, f.leaves[0])).to.include({
      value: 4,
      computed_value: 2,
      overridden: true,
      level_id: 'exceeds',
    });
    tick();
    await record([
      { studentId: student!.id, itemId: f.leaves[0], assignmentId: f.assignmentId, score: 1 },
    ]);
    expect(await result(student!.id, f.leaves[0])).to.include({
      value: 4,
      computed_value: 1,
      overridden: true,
    });
    const { finished } = await services.mastery.recomputeCourse({
      tenantId: f.tenantId,
      courseId: f.courseId,
      reason: 'test',
      requestedBy: f.teacherId,
    });
    await finished;
    expect(await result(student!.id, f.leaves[0])).to.include({
      value: 4,
      computed_value: 1,
      overridden: true,
    });
    await services.mastery.clearOverride({
      tenantId: f.tenantId,
      courseId: f.courseId,
      studentId: student!.id,
      itemId: f.leaves[0],
      actor: f.teacherId,
    });
    expect(await result(student!.id, f.leaves[0])).to.include({
      value: 1,
      computed_value: 1,
      overridden: false,
    });
  });

  it('when an override has no reason or an unknown level, then it is refused', async () => {
    const [student] = f.students;
    for (const bad of [
      { levelId: 'exceeds', reason: '   ' },
      { levelId: 'legendary', reason: 'because' },
      { value: 9, reason: 'because' },
    ]) {
      let caught: unknown;
      try {
        await services.mastery.setOverride({
          tenantId: f.tenantId,
          courseId: f.courseId,
          studentId: student!.id,
          itemId: f.leaves[0],
          actor: f.teacherId,
          ...bad,
        });
      } catch (error) {
        caught = error;
      }
      expect(caught, JSON.stringify(bad)).to.be.instanceOf(EvidenceError);
      expect((caught as EvidenceError).code).to.equal('invalid_override');
    }
  });

  it('when the course policy changes, then a job recomputes from the stored evidence and shows progress', async () => {
    const [student] = f.students;
    tick();
    await record([
      {
        studentId: student!.id,
        itemId: f.leaves[1],
        assignmentId: f.assignmentId,
        score: 2,
        assessedAt: new Date('2026-11-01T00:00:00Z'),
      },
    ]);
    tick();
    await record([
      {
        studentId: student!.id,
        itemId: f.leaves[1],
        score: 4,
        assessedAt: new Date('2026-11-02T00:00:00Z'),
      },
    ]);
    expect(await result(student!.id, f.leaves[1])).to.include({ value: 4 });
    const { job, finished } = await services.mastery.savePolicy({
      tenantId: f.tenantId,
      courseId: f.courseId,
      policy: { calculation: { method: { kind: 'mean' } } },
      actor: f.teacherId,
    });
    await finished;
    const done = await services.mastery.job(f.tenantId, job.id);
    expect(done).to.include({ status: 'succeeded', error: null });
    expect(done!.total).to.be.greaterThan(0);
    expect(done!.done).to.equal(done!.total);
    expect(await result(student!.id, f.leaves[1])).to.include({ value: 3 });
    const changes = await services.mastery.policyChanges(f.tenantId, f.courseId);
    expect(changes[0]).to.include({ changedBy: f.teacherId });
    expect(await services.mastery.job(other.tenantId, job.id)).to.equal(undefined);
  });

  it('when a policy would not work, then it is refused with the reason and nothing changes', async () => {
    const saved = await services.mastery.savePolicy({
      tenantId: f.tenantId,
      courseId: f.courseId,
      policy: { calculation: { method: { kind: 'mean' } } },
      actor: f.teacherId,
    });
    await saved.finished;
    let caught: unknown;
    try {
      await services.mastery.savePolicy({
        tenantId: f.tenantId,
        courseId: f.courseId,
        policy: { calculation: { method: { kind: 'nTimes', n: 2, threshold: 9 } } },
        actor: f.teacherId,
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(EvidenceError);
    expect((caught as EvidenceError).message).to.contain('threshold 9');
    const policy = await services.mastery.loadCoursePolicy(f.tenantId, f.courseId);
    expect(policy.calculation.method).to.deep.equal({ kind: 'mean' });
  });

  it('when a district has no policy, then the documented defaults apply', async () => {
    const policy = await services.mastery.loadCoursePolicy(other.tenantId, other.courseId);
    expect(policy.calculation).to.deep.equal({
      method: { kind: 'mostRecent' },
      minEvidence: 1,
      orderBy: 'assessed',
      rounding: { mode: 'halfUp', decimals: 2 },
    });
    expect(policy.passback).to.deep.equal({
      standardColumns: true,
      courseColumn: false,
      assignmentScores: false,
      prioritizeNonToolGrade: true,
      classroomAssignGrades: false,
    });
    expect(policy.scale.levels.map((l) => l.label)).to.deep.equal([
      'Exceeds',
      'Meets',
      'Approaching',
      'Beginning',
    ]);
  });

  it('when a mentor launch names students, then the mentor is linked to those students only', async () => {
    const linked = await services.mastery.linkMentor({
      tenantId: f.tenantId,
      courseId: f.courseId,
      mentorId: f.teacherId,
      issuer: f.issuer,
      studentSubs: [f.students[1]!.sub, 'sub-not-met-yet'],
    });
    expect(linked).to.equal(1);
    // A student the tool has not met gets no row; the mentor's scope keeps the LMS's id.
    const unmet = await database.db
      .selectFrom('users')
      .select('id')
      .where('tenant_id', '=', f.tenantId)
      .where('sub', '=', 'sub-not-met-yet')
      .execute();
    expect(unmet).to.deep.equal([]);
    expect(
      await services.mastery.mentorStudentIds(f.tenantId, f.courseId, f.teacherId),
    ).to.deep.equal([f.students[1]!.id]);
    // Another district's issuer finds nobody here.
    const foreign = await services.mastery.linkMentor({
      tenantId: f.tenantId,
      courseId: f.courseId,
      mentorId: f.students[2]!.id,
      issuer: other.issuer,
      studentSubs: [other.students[0]!.sub],
    });
    expect(foreign).to.equal(0);
    expect(
      await services.mastery.mentorStudentIds(f.tenantId, f.courseId, f.students[2]!.id),
    ).to.deep.equal([]);
  });
});

describe(`recompute jobs left behind (${testEngine})`, function () {
  this.timeout(60_000);
  it('when a job was left running by a stopped process, then resuming reruns it to the end', async () => {
    const database = await createTestDatabase();
    try {
      const clock = new Date('2026-11-27T08:00:00.000Z');
      const services = createAppServices({
        db: database.db,
        keyEncryptionSecret: 'x'.repeat(32),
        now: () => clock,
      });
      const f = await masteryFixture(database, 'district-c', clock);
      await services.mastery.recordEvidence({
        tenantId: f.tenantId,
        courseId: f.courseId,
        actor: f.teacherId,
        source: 'teacher',
        entries: [
          {
            studentId: f.students[0]!.id,
            itemId: f.leaves[0],
            assignmentId: f.assignmentId,
            score: 2,
          },
        ],
      });
      const job = await database.db
        .insertInto('recompute_jobs')
        .values({
          tenant_id: f.tenantId,
          course_id: f.courseId,
          reason: 'test',
          status: 'running',
          done: 7,
          total: 9,
          requested_by: f.teacherId,
          created_at: clock,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      expect(await services.mastery.resumeInterruptedJobs()).to.equal(1);
      expect(await services.mastery.job(f.tenantId, job.id)).to.include({
        status: 'succeeded',
        done: 1,
        total: 1,
      });
    } finally {
      await database.close();
    }
  });
});
