import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { syncCourseRoster } from '../../src/courses/roster.ts';
import { createLogger } from '../../src/logger.ts';
import { resolveLmsFromServices } from '../../src/app-services.ts';
import { createPassbackWorker } from '../../src/passback/worker.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import {
  createClassroomWorld,
  importStandards,
  openAddOn,
  type ClassroomWorld,
} from './classroom-world.ts';

/**
 * The whole path in Google Classroom: a teacher creates an aligned activity through the add-on,
 * evidence recorded in the tool becomes mastery, mastery becomes desired grades, and the worker
 * writes them to Classroom: draft grades by default, assigned grades when the course says so.
 */
describe(`Google Classroom: evidence to grades (${testEngine})`, function () {
  this.timeout(90_000);
  let database: TestDatabase;
  let world: ClassroomWorld;
  let standards: { id: string; code: string }[];

  before(async () => {
    database = await createTestDatabase();
    world = await createClassroomWorld(database);
    standards = await importStandards(database, world.tenantId);
  });
  after(async () => {
    await world.close();
    await database.close();
  });

  const drain = () =>
    createPassbackWorker({
      db: database.db,
      resolveLms: resolveLmsFromServices(world.tool.services),
      now: () => new Date(),
      sleep: (ms) => sleep(ms),
      logger: createLogger({ level: 'silent' }),
      random: () => 0.5,
      limits: { requestsPerSecond: 1000, burst: 50, baseBackoffMs: 100, maxBackoffMs: 400 },
    }).drain();

  it('when evidence is recorded for an aligned activity, then Classroom gets a draft grade, and an assigned one once the course says so', async () => {
    const opened = await openAddOn(
      world,
      world.google.discoveryFrameUrl({
        courseId: world.seed.course.id,
        itemId: world.seed.courseWork.id,
        userId: world.seed.teacher.id,
      }),
      world.seed.teacher.id,
    );
    const form = await (await fetch(opened.sessionUrl ?? '')).text();
    const body = new URLSearchParams({ title: 'Ratios quiz', maxPoints: '4' });
    for (const match of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
      body.set(match[1] ?? '', (match[2] ?? '').replace(/&amp;/g, '&'));
    }
    body.append('standards', standards[0]?.id ?? '');
    const created = await fetch(`${world.tool.origin}${opened.base ?? ''}/classroom/attachment`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(created.status).to.equal(201);

    const course = await database.db
      .selectFrom('courses')
      .select('id')
      .where('tenant_id', '=', world.tenantId)
      .executeTakeFirstOrThrow();
    await syncCourseRoster(world.tool.services, world.tenantId, course.id);
    const assignment = await database.db
      .selectFrom('course_assignments')
      .select('id')
      .where('tenant_id', '=', world.tenantId)
      .where('title', '=', 'Ratios quiz')
      .executeTakeFirstOrThrow();
    const googleStudent = world.seed.students[0]?.id ?? '';
    const student = await world.tool.services.people.findUser(
      world.tenantId,
      world.google.issuer,
      googleStudent,
    );
    const teacher = await world.tool.services.people.findUser(
      world.tenantId,
      world.google.issuer,
      world.seed.teacher.id,
    );
    const record = (score: number) =>
      world.tool.services.mastery.recordEvidence({
        tenantId: world.tenantId,
        courseId: course.id,
        actor: teacher?.id ?? '',
        source: 'teacher',
        entries: [
          {
            studentId: student?.id ?? '',
            itemId: standards[0]?.id ?? '',
            assignmentId: assignment.id,
            score,
          },
        ],
      });

    await record(3);
    expect((await drain()).sent).to.equal(1);
    const column = [...world.google.state.courseWork.values()].find((w) =>
      w.title.startsWith(standards[0]?.code ?? '?'),
    );
    expect(column?.maxPoints).to.equal(4);
    let entry = world.google.state.gradebookEntry(column?.id ?? '', googleStudent);
    expect(entry).to.include({ draftGrade: 3, assignedGrade: undefined });

    // The course now assigns grades: the next change is drafted and assigned.
    await (
      await world.tool.services.mastery.savePolicy({
        tenantId: world.tenantId,
        courseId: course.id,
        policy: { passback: { classroomAssignGrades: true } },
        actor: teacher?.id ?? '',
      })
    ).finished;
    await record(4);
    expect((await drain()).sent).to.equal(1);
    entry = world.google.state.gradebookEntry(column?.id ?? '', googleStudent);
    expect(entry).to.include({ draftGrade: 4, assignedGrade: 4 });

    // Nothing changed: nothing is posted again.
    await record(4);
    expect((await drain()).claimed).to.equal(0);
    expect(
      world.google.state.gradebookEntry(column?.id ?? '', googleStudent).draftGradeWrites,
    ).to.equal(2);
  });
});
