import { expect } from 'chai';
import { createAppServices } from '../../../src/app-services.ts';
import { parseStoredExplanation } from '../../../src/mastery-views/explanation.ts';
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

  it('when a result is stored, then its explanation is lean, fingerprinted and still reads back for the views', async () => {
    const [a] = f.students;
    await record([
      { studentId: a!.id, itemId: f.leaves[0], assignmentId: f.assignmentId, score: 3 },
    ]);
    const leaf = (await rows()).find((r) => r.item_id === f.leaves[0]);
    const json = leaf?.explanation as Record<string, unknown>;
    expect(json['h']).to.be.a('string').with.length(22);
    const text = JSON.stringify(json);
    expect(text).not.to.include('Ratios quiz'); // labels are named from the evidence when shown
    expect(text).not.to.include('colour');
    const parsed = parseStoredExplanation(json);
    expect(parsed?.kind).to.equal('calculated');
    if (parsed?.kind !== 'calculated') return;
    expect(parsed.result.explanation.used).to.have.length(1);
    expect(parsed.result.explanation.used[0]).to.include({ score: 3, position: 1 });
    expect(parsed.result.level).to.include({ id: 'meets', label: 'Meets', value: 3 });
    expect(parsed.result.explanation.steps.length).to.be.greaterThan(0);
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
});
