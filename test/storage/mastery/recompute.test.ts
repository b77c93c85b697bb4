import { expect } from 'chai';
import { createAppServices } from '../../../src/app-services.ts';
import { loadCoursePolicy } from '../../../src/policy/store.ts';
import { RECOMPUTE_JOB_KIND } from '../../../src/evidence/recompute.ts';
import { listJobs } from '../../../src/storage/jobs/jobs.repository.ts';
import { parseStoredExplanation } from '../../../src/mastery-views/explanation.ts';
import { workingOf } from '../../../src/mastery-views/student.ts';
import { createMasteryViewsRepository } from '../../../src/storage/mastery/views.repository.ts';
import { createPolicyRepository } from '../../../src/storage/mastery/policy.repository.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../../support/database.ts';
import { masteryFixture, type MasteryFixture } from './fixture.ts';

describe(`mastery recomputation: batched reads and writes (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let clock: Date;
  let services: ReturnType<typeof createAppServices>;
  let f: MasteryFixture;

  const tick = (ms = 60_000) => {
    clock = new Date(clock.getTime() + ms);
  };
  const rows = () =>
    database.db
      .selectFrom('mastery_results')
      .selectAll()
      .where('course_id', '=', f.courseId)
      .orderBy('student_id')
      .orderBy('item_id')
      .execute();
  const record = (entries: Parameters<typeof services.mastery.recordEvidence>[0]['entries']) =>
    services.mastery.recordEvidence({
      tenantId: f.tenantId,
      courseId: f.courseId,
      actor: f.teacherId,
      source: 'teacher',
      entries,
    });
  const recomputeCourse = async () => {
    const { finished, job } = await services.mastery.recomputeCourse({
      tenantId: f.tenantId,
      courseId: f.courseId,
      reason: 'test',
      requestedBy: f.teacherId,
    });
    await finished;
    const done = await services.mastery.job(f.tenantId, job.id);
    expect(done?.status, done?.error ?? '').to.equal('succeeded');
  };

  beforeEach(async () => {
    database = await createTestDatabase();
    clock = new Date('2026-11-27T08:00:00.000Z');
    services = createAppServices({
      db: database.db,
      keyEncryptionSecret: 'x'.repeat(32),
      now: () => clock,
    });
    f = await masteryFixture(database, 'district-r', clock);
  });
  afterEach(async () => {
    await database.close();
  });

  it('when a course is recomputed and nothing changed, then the results are the same and no row is rewritten', async () => {
    const [a, b] = f.students;
    await record([
      { studentId: a!.id, itemId: f.leaves[0], assignmentId: f.assignmentId, score: 3 },
      { studentId: a!.id, itemId: f.leaves[1], assignmentId: f.assignmentId, score: 2 },
      { studentId: b!.id, itemId: f.leaves[0], assignmentId: f.assignmentId, score: 4 },
      { studentId: b!.id, itemId: f.leaves[1], assignmentId: f.assignmentId, score: 1 },
    ]);
    const before = await rows();
    expect(before.map((r) => r.item_id)).to.include(f.parentId); // the roll-up is there too
    tick();
    await recomputeCourse();
    const after = await rows();
    expect(after).to.deep.equal(before); // computed_at included: nothing was rewritten
  });

  it('when the policy changes, then a full recomputation rewrites the changed results and drops results left without evidence', async () => {
    const [a] = f.students;
    await record([
      { studentId: a!.id, itemId: f.leaves[0], assignmentId: f.assignmentId, score: 1 },
      { studentId: a!.id, itemId: f.leaves[1], assignmentId: f.assignmentId, score: 3 },
    ]);
    await record([
      {
        studentId: a!.id,
        itemId: f.leaves[0],
        score: 3,
        assessedAt: new Date('2026-11-01T00:00:00.000Z'),
      },
    ]);
    // Withdrawing the second leaf leaves a "no evidence" row until the next full recomputation.
    tick();
    await record([{ studentId: a!.id, itemId: f.leaves[1], assignmentId: f.assignmentId }]);
    const withdrawn = (await rows()).find((r) => r.item_id === f.leaves[1]);
    expect(withdrawn).to.include({ status: 'noEvidence' });

    tick();
    const saved = await services.mastery.savePolicy({
      tenantId: f.tenantId,
      courseId: f.courseId,
      policy: { calculation: { method: { kind: 'mean' } } },
      actor: f.teacherId,
    });
    await saved.finished;
    const after = await rows();
    const items = after.map((r) => r.item_id);
    expect(items).to.include.members([f.leaves[0], f.parentId]);
    expect(items).not.to.include(f.leaves[1]);
    const leaf = after.find((r) => r.item_id === f.leaves[0]);
    expect(leaf).to.include({ status: 'mastery', value: 2, evidence_count: 2 });
    expect(leaf?.computed_at.toISOString()).to.equal(clock.toISOString());
    const parent = after.find((r) => r.item_id === f.parentId);
    expect(parent).to.include({ status: 'mastery', value: 2 });
  });

  it('when the course’s only evidence was withdrawn, then a full recomputation leaves no results', async () => {
    const [a] = f.students;
    await record([
      { studentId: a!.id, itemId: f.leaves[0], assignmentId: f.assignmentId, score: 3 },
    ]);
    tick();
    await record([{ studentId: a!.id, itemId: f.leaves[0], assignmentId: f.assignmentId }]);
    expect(await rows()).not.to.deep.equal([]); // the "no evidence" row and its roll-up
    tick();
    await recomputeCourse();
    expect(await rows()).to.deep.equal([]);
  });

  /** A date after every recorded one: the newest evidence when ordered by date assessed. */
  const later = new Date('2026-12-15T00:00:00.000Z');
  /** The working the student pages show, worked out again from what is stored. */
  const working = async (studentId: string) => {
    const views = createMasteryViewsRepository(database.db);
    const [policy, results, evidence] = await Promise.all([
      loadCoursePolicy(database.db, f.tenantId, f.courseId),
      views.studentResults(f.tenantId, f.courseId, studentId),
      views.studentEvidence(f.tenantId, f.courseId, studentId),
    ]);
    return workingOf(policy, results, evidence);
  };

  it('when a result is stored, then only its numbers are, and its working is worked out again for the views', async () => {
    const [a] = f.students;
    await record([
      { studentId: a!.id, itemId: f.leaves[0], assignmentId: f.assignmentId, score: 3 },
    ]);
    tick();
    await record([{ studentId: a!.id, itemId: f.leaves[0], score: 1, assessedAt: later }]);
    const leaf = (await rows()).find((r) => r.item_id === f.leaves[0]);
    // The old column stays for a rolling upgrade, but this version writes nothing in it.
    expect((leaf as Record<string, unknown> | undefined)?.['explanation']).to.equal(null);
    const shown = await working(a!.id);
    const parsed = parseStoredExplanation(shown.get(f.leaves[0]));
    expect(parsed?.kind).to.equal('calculated');
    if (parsed?.kind !== 'calculated') return;
    expect(parsed.result.explanation.used.map((u) => [u.score, u.position])).to.deep.equal([
      [3, 1],
      [1, 2],
    ]);
    expect(parsed.result.value).to.equal(leaf?.value);
    expect(parsed.result.level?.id).to.equal(leaf?.level_id);
    expect(parsed.result.explanation.steps.length).to.be.greaterThan(0);
    const parent = parseStoredExplanation(shown.get(f.parentId));
    expect(parent?.kind).to.equal('rollup');
  });

  it('when a teacher overrode a level, then the working shows the override beside the computed value', async () => {
    const [a] = f.students;
    await record([
      { studentId: a!.id, itemId: f.leaves[0], assignmentId: f.assignmentId, score: 2 },
    ]);
    await services.mastery.setOverride({
      tenantId: f.tenantId,
      courseId: f.courseId,
      studentId: a!.id,
      itemId: f.leaves[0],
      value: 4,
      reason: 'Showed it in conference',
      actor: f.teacherId,
    });
    const parsed = parseStoredExplanation((await working(a!.id)).get(f.leaves[0]));
    if (parsed?.kind !== 'calculated') throw new Error(`calculated expected, got ${parsed?.kind}`);
    expect(parsed.result.override).to.include({ value: 4, reason: 'Showed it in conference' });
    expect(parsed.result.override?.computed).to.include({ value: 2 });
  });

  it('when the policy changed and the results are not yet recomputed, then no working contradicts the number shown', async () => {
    const [a] = f.students;
    await record([
      { studentId: a!.id, itemId: f.leaves[0], assignmentId: f.assignmentId, score: 3 },
    ]);
    tick();
    await record([{ studentId: a!.id, itemId: f.leaves[0], score: 1, assessedAt: later }]);
    expect((await working(a!.id)).has(f.leaves[0])).to.equal(true);
    // The policy row alone, as while the recompute job is still running: the stored number is
    // the most recent score (1), the new policy's the highest (3).
    await createPolicyRepository(database.db, () => clock).save({
      tenantId: f.tenantId,
      courseId: f.courseId,
      policy: { calculation: { method: { kind: 'highest' } } },
      actor: f.teacherId,
    });
    const stale = await working(a!.id);
    expect(stale.has(f.leaves[0])).to.equal(false);
    await recomputeCourse();
    const fresh = parseStoredExplanation((await working(a!.id)).get(f.leaves[0]));
    expect(fresh?.kind === 'calculated' && fresh.result.value).to.equal(3);
  });

  it('when evidence ties on its dates, then every method stores the number its working gives', async () => {
    // Ties on the ordering date and on the date recorded leave the order to the evidence ids:
    // the recomputation orders in SQL, the views in JavaScript, and they must agree.
    let state = 11;
    const random = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 32;
    };
    const days = [
      undefined,
      new Date('2026-10-01T00:00:00.000Z'),
      new Date('2026-10-02T00:00:00.000Z'),
    ];
    for (let round = 0; round < 6; round += 1) {
      if (round % 2 === 0) tick(); // pairs of rounds share their date recorded
      await record(
        f.students.flatMap((student) =>
          f.leaves.map((itemId) => {
            const roll = random();
            return {
              studentId: student.id,
              itemId,
              score: roll < 0.1 ? null : 1 + Math.floor(random() * 4),
              excused: roll >= 0.1 && roll < 0.2,
              comment: roll < 0.1 ? 'Not yet scored' : undefined,
              assessedAt: days[Math.floor(random() * days.length)],
            };
          }),
        ),
      );
    }
    const methods = [
      { kind: 'mostRecent' },
      { kind: 'mode', tieRule: 'mostRecent' },
      { kind: 'meanOfMostRecent', n: 2 },
      { kind: 'canvasLegacyDecaying', weight: 0.65 },
      { kind: 'recursiveDecaying', rate: 0.65 },
      { kind: 'powerLaw' },
    ] as const;
    for (const method of methods) {
      tick();
      const saved = await services.mastery.savePolicy({
        tenantId: f.tenantId,
        courseId: f.courseId,
        policy: { calculation: { method } },
        actor: f.teacherId,
      });
      await saved.finished;
      for (const student of f.students) {
        const stored = (await rows()).filter((r) => r.student_id === student.id);
        const shown = await working(student.id);
        expect(stored.length, method.kind).to.be.greaterThan(0);
        for (const row of stored) {
          expect(shown.has(row.item_id), `${method.kind}: ${row.item_id}`).to.equal(true);
        }
      }
    }
  });

  it('when the policy orders evidence by due date, then the due dates decide which score is the most recent', async () => {
    const [a] = f.students;
    await services.mastery.savePolicy({
      tenantId: f.tenantId,
      courseId: f.courseId,
      policy: { calculation: { orderBy: 'due', method: { kind: 'mostRecent' } } },
      actor: f.teacherId,
    });
    // Assessed in one order, due in the other: the later due date wins.
    await record([
      {
        studentId: a!.id,
        itemId: f.leaves[0],
        score: 4,
        assessedAt: new Date('2026-11-10T00:00:00.000Z'),
        dueAt: new Date('2026-10-01T00:00:00.000Z'),
      },
    ]);
    tick();
    await record([
      {
        studentId: a!.id,
        itemId: f.leaves[0],
        score: 2,
        assessedAt: new Date('2026-10-01T00:00:00.000Z'),
        dueAt: new Date('2026-11-10T00:00:00.000Z'),
      },
    ]);
    const leaf = (await rows()).find((r) => r.item_id === f.leaves[0]);
    expect(leaf).to.include({ status: 'mastery', value: 2, evidence_count: 2 });
    tick();
    await recomputeCourse();
    const again = (await rows()).find((r) => r.item_id === f.leaves[0]);
    expect(again).to.include({ value: 2 });
  });
  it('when the policy orders evidence as Canvas does, then a regrade makes that score the most recent, stored and shown alike', async () => {
    const [a] = f.students;
    const leaf = f.leaves[0];
    const savePolicy = async (orderBy: 'submittedOrLastGraded' | 'graded') => {
      tick();
      const saved = await services.mastery.savePolicy({
        tenantId: f.tenantId,
        courseId: f.courseId,
        policy: { calculation: { orderBy, method: { kind: 'mostRecent' } } },
        actor: f.teacherId,
      });
      await saved.finished;
    };
    await savePolicy('submittedOrLastGraded');
    // The assignment graded 3, then other work graded 2, then the assignment regraded to 4.
    await record([{ studentId: a!.id, itemId: leaf, assignmentId: f.assignmentId, score: 3 }]);
    tick();
    await record([{ studentId: a!.id, itemId: leaf, score: 2 }]);
    tick();
    await record([{ studentId: a!.id, itemId: leaf, assignmentId: f.assignmentId, score: 4 }]);
    const stored = async () => (await rows()).find((r) => r.item_id === leaf);
    expect(await stored()).to.include({ value: 4, evidence_count: 2 });
    const shown = parseStoredExplanation((await working(a!.id)).get(leaf));
    if (shown?.kind !== 'calculated') throw new Error('expected a calculated working');
    expect(shown.result.value).to.equal(4);
    expect(shown.result.explanation.used.map((u) => [u.score, u.orderedBy])).to.deep.equal([
      [2, 'lastGraded'],
      [4, 'lastGraded'],
    ]);
    expect(shown.result.explanation.steps[1]).to.contain('(Canvas’s order)');
    // Schoology orders by the original score's time: the regrade keeps its first place.
    await savePolicy('graded');
    expect(await stored()).to.include({ value: 2 });
    await savePolicy('submittedOrLastGraded');
    expect(await stored()).to.include({ value: 4 });
    await recomputeCourse();
    expect(await stored()).to.include({ value: 4 });
  });

  it('when evidence carries submission times, then Canvas’s order follows them, not the grading times', async () => {
    const [a] = f.students;
    const leaf = f.leaves[0];
    await services.mastery.savePolicy({
      tenantId: f.tenantId,
      courseId: f.courseId,
      policy: { calculation: { orderBy: 'submittedOrLastGraded', method: { kind: 'mostRecent' } } },
      actor: f.teacherId,
    });
    // Graded first but submitted last.
    await record([
      {
        studentId: a!.id,
        itemId: leaf,
        assignmentId: f.assignmentId,
        score: 4,
        submittedAt: new Date('2026-10-10T00:00:00.000Z'),
      },
    ]);
    tick();
    await record([
      {
        studentId: a!.id,
        itemId: leaf,
        score: 2,
        submittedAt: new Date('2026-10-01T00:00:00.000Z'),
      },
    ]);
    const stored = (await rows()).find((r) => r.item_id === leaf);
    expect(stored).to.include({ value: 4 });
    const shown = parseStoredExplanation((await working(a!.id)).get(leaf));
    if (shown?.kind !== 'calculated') throw new Error('expected a calculated working');
    expect(
      shown.result.explanation.used.map((u) => [u.score, u.orderedBy, u.orderedAt]),
    ).to.deep.equal([
      [2, 'submitted', '2026-10-01T00:00:00.000Z'],
      [4, 'submitted', '2026-10-10T00:00:00.000Z'],
    ]);
    tick();
    await recomputeCourse();
    expect((await rows()).find((r) => r.item_id === leaf)).to.include({ value: 4 });
  });
});

describe(`mastery recomputation in the job runner (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let clock: Date;
  let services: ReturnType<typeof createAppServices>;
  let f: MasteryFixture;

  beforeEach(async () => {
    database = await createTestDatabase();
    clock = new Date('2026-12-08T03:00:00.000Z');
    services = createAppServices({
      db: database.db,
      keyEncryptionSecret: 'x'.repeat(32),
      now: () => clock,
    });
    f = await masteryFixture(database, 'district-j', clock);
    await services.mastery.recordEvidence({
      tenantId: f.tenantId,
      courseId: f.courseId,
      actor: f.teacherId,
      source: 'teacher',
      entries: f.students.map((student) => ({
        studentId: student.id,
        itemId: f.leaves[0],
        assignmentId: f.assignmentId,
        score: 3,
      })),
    });
  });
  afterEach(async () => {
    await database.close();
  });

  it('when a course is recomputed, then the runner’s job records the same progress and succeeds', async () => {
    const { job, finished } = await services.mastery.recomputeCourse({
      tenantId: f.tenantId,
      courseId: f.courseId,
      reason: 'test',
      requestedBy: f.teacherId,
    });
    await finished;
    expect(await services.mastery.job(f.tenantId, job.id)).to.include({
      status: 'succeeded',
      done: f.students.length,
      total: f.students.length,
    });
    const [runnerJob] = await listJobs(database.db, f.tenantId, RECOMPUTE_JOB_KIND);
    expect(runnerJob).to.include({
      status: 'succeeded',
      attempts: 1,
      done: f.students.length,
      total: f.students.length,
    });
    expect(runnerJob?.payload).to.deep.equal({ recomputeJobId: job.id });
  });

  it('when the process running a recompute died, then the runner takes it up after the lease, and start-up does not run it twice', async () => {
    const job = await createPolicyRepository(database.db, () => clock).createJob({
      tenantId: f.tenantId,
      courseId: f.courseId,
      reason: 'test',
      requestedBy: f.teacherId,
      total: 0,
    });
    await database.db
      .insertInto('jobs')
      .values({
        tenant_id: f.tenantId,
        kind: RECOMPUTE_JOB_KIND,
        payload: JSON.stringify({ recomputeJobId: job.id }),
        status: 'running',
        attempts: 1,
        max_attempts: 3,
        run_at: clock,
        claimed_by: 'a-dead-process',
        claimed_until: new Date(clock.getTime() + 60_000),
        created_at: clock,
        started_at: clock,
      })
      .execute();
    // The runner holds it: start-up leaves it to the runner, which waits for the lease.
    expect(await services.mastery.resumeInterruptedJobs()).to.equal(0);
    expect(await services.jobs.runUntilIdle()).to.equal(0);
    clock = new Date(clock.getTime() + 60_000);
    expect(await services.jobs.runUntilIdle()).to.equal(1);
    expect(await services.mastery.job(f.tenantId, job.id)).to.include({
      status: 'succeeded',
      done: f.students.length,
      total: f.students.length,
    });
    const [runnerJob] = await listJobs(database.db, f.tenantId, RECOMPUTE_JOB_KIND);
    expect(runnerJob).to.include({ status: 'succeeded', attempts: 2 });
    expect(await rowsOf(database, f.courseId)).to.have.length.greaterThan(0);
  });
});

const rowsOf = (database: TestDatabase, courseId: string) =>
  database.db
    .selectFrom('mastery_results')
    .select('item_id')
    .where('course_id', '=', courseId)
    .execute();
