import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { syncCourseRoster } from '../../src/courses/roster.ts';
import { createLogger } from '../../src/logger.ts';
import { resolveLmsFromServices } from '../../src/app-services.ts';
import { createPassbackWorker, type PassbackWorker } from '../../src/passback/worker.ts';
import {
  ensureGradebookColumn,
  setDesiredGrade,
} from '../../src/storage/passback/passback.repository.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createClassroomWorld, openAddOn, type ClassroomWorld } from './classroom-world.ts';

/**
 * The reconciliation worker (src/passback) driving the Classroom adapter through the LMS port:
 * desired grades become Classroom draft grades, unchanged ones are not re-posted, and a revoked
 * teacher token holds grades back (retrying) until a teacher signs in again.
 */
describe(`grade passback to Google Classroom (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let world: ClassroomWorld;
  let courseId: string;
  let offsetMs: number;

  const worker = (): PassbackWorker =>
    createPassbackWorker({
      db: database.db,
      resolveLms: resolveLmsFromServices(world.tool.services),
      now: () => new Date(Date.now() + offsetMs),
      sleep: (ms) => sleep(ms),
      logger: createLogger({ level: 'silent' }),
      random: () => 0.5,
      limits: { requestsPerSecond: 1000, burst: 50, baseBackoffMs: 1000, maxBackoffMs: 4000 },
    });

  async function teacherSignsIn() {
    const frame = world.google.discoveryFrameUrl({
      courseId: world.seed.course.id,
      itemId: world.seed.courseWork.id,
      userId: world.seed.teacher.id,
    });
    return openAddOn(world, frame, world.seed.teacher.id);
  }

  async function grade(columnId: string, studentSub: string, value: number) {
    const user = await world.tool.services.people.findUser(
      world.tenantId,
      world.google.issuer,
      studentSub,
    );
    await database.db.transaction().execute((tx) =>
      setDesiredGrade(tx, {
        tenantId: world.tenantId,
        courseId,
        columnId,
        userId: user?.id ?? '',
        lmsUserId: studentSub,
        value,
        now: new Date(Date.now() + offsetMs),
      }),
    );
  }

  beforeEach(async () => {
    offsetMs = 0;
    database = await createTestDatabase();
    world = await createClassroomWorld(database);
    await teacherSignsIn();
    const row = await database.db
      .selectFrom('courses')
      .select('id')
      .where('tenant_id', '=', world.tenantId)
      .executeTakeFirstOrThrow();
    courseId = row.id;
    await syncCourseRoster(world.tool.services, world.tenantId, courseId);
  });

  afterEach(async () => {
    await world.close();
    await database.close();
  });

  it('when a desired grade is set, then the worker creates the Classroom column and writes a draft grade, and an unchanged grade is not re-posted', async () => {
    const columnId = await database.db.transaction().execute((tx) =>
      ensureGradebookColumn(tx, {
        tenantId: world.tenantId,
        courseId,
        kind: 'standard',
        key: 'RP.1',
        label: 'RP.1 mastery',
        scoreMaximum: 4,
        now: new Date(),
      }),
    );
    const student = world.seed.students[0]?.id ?? '';
    await grade(columnId, student, 3);
    const first = await worker().drain();
    expect(first.sent).to.equal(1);
    const work = [...world.google.state.courseWork.values()].find(
      (w) => w.title === 'RP.1 mastery',
    );
    expect(work?.maxPoints).to.equal(4);
    let entry = world.google.state.gradebookEntry(work?.id ?? '', student);
    expect(entry.draftGrade).to.equal(3);
    expect(entry.assignedGrade).to.equal(undefined);

    await grade(columnId, student, 3);
    const second = await worker().drain();
    expect(second.claimed).to.equal(0);
    entry = world.google.state.gradebookEntry(work?.id ?? '', student);
    expect(entry.draftGradeWrites).to.equal(1);
  });

  it('when the teacher token is revoked, then grades wait (retrying, course flagged) and go out after the teacher signs in again', async () => {
    const columnId = await database.db.transaction().execute((tx) =>
      ensureGradebookColumn(tx, {
        tenantId: world.tenantId,
        courseId,
        kind: 'course',
        key: 'course',
        label: 'Course mastery',
        scoreMaximum: 100,
        now: new Date(),
      }),
    );
    const student = world.seed.students[1]?.id ?? '';
    world.google.state.revokeRefreshTokens(world.seed.teacher.id);
    await grade(columnId, student, 80);
    const held = await worker().drain();
    expect(held.retrying).to.equal(1);
    expect(held.failed).to.equal(0);
    const link = await database.db
      .selectFrom('classroom_courses')
      .select('needs_teacher_sign_in')
      .where('course_id', '=', courseId)
      .executeTakeFirstOrThrow();
    expect(link.needs_teacher_sign_in).to.equal(true);

    await teacherSignsIn();
    offsetMs = 10_000;
    const sent = await worker().drain();
    expect(sent.sent).to.equal(1);
    const work = [...world.google.state.courseWork.values()].find(
      (w) => w.title === 'Course mastery',
    );
    expect(world.google.state.gradebookEntry(work?.id ?? '', student).draftGrade).to.equal(80);
  });
});
