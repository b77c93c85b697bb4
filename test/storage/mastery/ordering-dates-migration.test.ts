import { expect } from 'chai';
import { createAppServices } from '../../../src/app-services.ts';
import * as orderingDates from '../../../src/storage/migrations/20261207T2220-add-evidence-ordering-dates.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../../support/database.ts';
import { masteryFixture, type MasteryFixture } from './fixture.ts';

describe(`evidence ordering dates: migration 20261207T2220 (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let clock: Date;
  let services: ReturnType<typeof createAppServices>;
  let f: MasteryFixture;

  const at = (minute: number) => new Date(Date.UTC(2026, 10, 27, 8, minute));
  const record = async (
    minute: number,
    entry: { studentId: string; score?: number | null; comment?: string; excused?: boolean },
    itemId = f.leaves[0],
  ) => {
    clock = at(minute);
    await services.mastery.recordEvidence({
      tenantId: f.tenantId,
      courseId: f.courseId,
      actor: f.teacherId,
      source: 'teacher',
      entries: [{ itemId, assignmentId: f.assignmentId, ...entry }],
    });
  };
  const evidence = () =>
    database.db
      .selectFrom('evidence')
      .selectAll()
      .where('tenant_id', '=', f.tenantId)
      .orderBy('student_id')
      .orderBy('item_id')
      .execute();

  beforeEach(async () => {
    database = await createTestDatabase();
    clock = at(0);
    services = createAppServices({
      db: database.db,
      keyEncryptionSecret: 'x'.repeat(32),
      now: () => clock,
    });
    f = await masteryFixture(database, 'district-dates', clock, 4);
  });
  afterEach(async () => {
    await database.close();
  });

  it('when the migration runs over edited evidence, then the latest grading time comes from the history and nothing else changes', async () => {
    const [a, b, c, d] = f.students;
    // a: graded 3, a comment edit, regraded 4, another comment edit → last graded at minute 3.
    await record(1, { studentId: a!.id, score: 3 });
    await record(2, { studentId: a!.id, score: 3, comment: 'Good start' });
    await record(3, { studentId: a!.id, score: 4, comment: 'Good start' });
    await record(4, { studentId: a!.id, score: 4, comment: 'Well done' });
    // b: graded once, then only its comment changed → its first grading time.
    await record(1, { studentId: b!.id, score: 2 });
    await record(5, { studentId: b!.id, score: 2, comment: 'Try the ratio table' });
    // c: 3, regraded 4, then back to 3 → the time 3 was entered again.
    await record(1, { studentId: c!.id, score: 3 });
    await record(2, { studentId: c!.id, score: 4 });
    await record(6, { studentId: c!.id, score: 3 });
    // d: excused, never scored → no grading time.
    await record(1, { studentId: d!.id, excused: true });

    const written = await evidence();
    const lastGraded = (rows: typeof written) =>
      rows.map((r) => [r.student_id, r.last_graded_at?.toISOString() ?? null]);
    expect(lastGraded(written)).to.deep.equal(
      [
        [a!.id, at(3).toISOString()],
        [b!.id, at(1).toISOString()],
        [c!.id, at(6).toISOString()],
        [d!.id, null],
      ].sort((x, y) => ((x[0] as string) < (y[0] as string) ? -1 : 1)),
    );
    const history = await database.db.selectFrom('evidence_history').selectAll().execute();

    // Back to the previous schema, and forward again: the backfill must find the same dates.
    await orderingDates.down(database.db as never);
    await orderingDates.up(database.db as never);

    const migrated = await evidence();
    expect(lastGraded(migrated)).to.deep.equal(lastGraded(written));
    const keep = (rows: typeof written) =>
      rows.map(({ last_graded_at: _l, submitted_at: _s, ...rest }) => rest);
    expect(keep(migrated)).to.deep.equal(keep(written));
    expect(await database.db.selectFrom('evidence_history').selectAll().execute()).to.deep.equal(
      history,
    );
  });

  it('when evidence was recorded with a submission time, then it is kept, and a later edit without one keeps it', async () => {
    const [a] = f.students;
    clock = at(1);
    await services.mastery.recordEvidence({
      tenantId: f.tenantId,
      courseId: f.courseId,
      actor: f.teacherId,
      source: 'teacher',
      entries: [
        {
          studentId: a!.id,
          itemId: f.leaves[0],
          assignmentId: f.assignmentId,
          score: 3,
          submittedAt: at(0),
        },
      ],
    });
    await record(2, { studentId: a!.id, score: 4 });
    const [row] = await evidence();
    expect(row?.submitted_at?.toISOString()).to.equal(at(0).toISOString());
    expect(row?.last_graded_at?.toISOString()).to.equal(at(2).toISOString());
    expect(row?.graded_at?.toISOString()).to.equal(at(1).toISOString());
  });
});
