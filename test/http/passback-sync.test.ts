import { expect } from 'chai';
import { sql } from 'kysely';
import type { AppServices } from '../../src/app-services.ts';
import {
  cellSyncDetail,
  releaseHeldCells,
} from '../../src/storage/passback/passback.repository.ts';
import type { Person } from '../../src/emulator/types.ts';
import { metricsAuthorization } from '../support/app.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createLtiWorld, launch, type LtiWorld } from '../support/lti-world.ts';
import {
  desireGrade,
  ensureStandardColumn,
  passbackWorker,
  recordPerson,
  recordRoster,
  workerServices,
} from '../support/passback-world.ts';
import { seedCourse, seedDeployment, seedTenant, seedUser } from '../support/seed-district.ts';

describe(`course grade sync page (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let world: LtiWorld;
  let services: AppServices;
  let courseId: string;
  let base: string;
  let csrf: string;
  let students: { person: Person; userId: string }[];

  const url = (path: string) => new URL(`${base}${path}`, world.tool.origin);
  const page = async (path: string) => {
    const res = await fetch(url(path));
    return { status: res.status, html: await res.text(), headers: res.headers };
  };
  const post = (path: string, fields: Record<string, string> = {}, token = csrf) =>
    fetch(url(path), {
      method: 'POST',
      body: new URLSearchParams({ _csrf: token, ...fields }),
      redirect: 'manual',
    });

  function worker() {
    return passbackWorker(database.db, services, {
      now: () => new Date(),
      random: () => 0.5,
      limits: { requestsPerSecond: 1000, burst: 50 },
    });
  }

  async function column(key: string): Promise<string> {
    return ensureStandardColumn(database.db, {
      tenantId: world.tenantId,
      courseId,
      key,
      label: `Standard ${key} (mastery)`,
      scoreMaximum: 4,
      now: new Date(),
    });
  }

  async function grade(
    columnId: string,
    student: { person: Person; userId: string },
    value: number,
  ) {
    await desireGrade(database.db, {
      tenantId: world.tenantId,
      courseId,
      columnId,
      userId: student.userId,
      lmsUserId: student.person.sub,
      value,
      now: new Date(),
    });
  }

  before(async () => {
    database = await createTestDatabase();
    world = await createLtiWorld(database, { flavour: 'canvas', platformStorage: false });
    const teacher = await launch(world, { userId: world.seed.teacher.userId });
    expect(teacher.status, teacher.body).to.equal(303);
    base = (teacher.location ?? '').replace(/\/course$/, '');
    const course = (await world.tool.services.courses.listCourses(world.tenantId))[0];
    if (course === undefined) throw new Error('no course');
    courseId = course.id;
    const first = await page('/course/sync');
    csrf = /name="_csrf" value="([^"]+)"/.exec(first.html)?.[1] ?? '';
    // The worker owns retries: its HTTP client gives up at once.
    services = workerServices(world, 2000);
    students = (await recordRoster(world)).map(({ person, user }) => ({ person, userId: user.id }));
    refusedTeacher = {
      person: world.seed.teacher,
      userId: (await recordPerson(world, world.seed.teacher)).id,
    };
  });

  after(async () => {
    await world.close();
    await database.close();
  });

  afterEach(async () => {
    world.emulator.state.clearFaults();
    await sql`DELETE FROM desired_grades`.execute(database.db);
    await sql`DELETE FROM confirmed_grades`.execute(database.db);
    await sql`DELETE FROM passback_course_state`.execute(database.db);
  });

  const real = () => students.filter((s) => !s.person.isTestStudent);
  /** The course's teacher, graded as if a student: Canvas refuses with 422 "not a student". */
  let refusedTeacher: { person: Person; userId: string };
  const notAStudent = () => refusedTeacher;

  it('when nothing is desired yet, then the teacher sees empty counts and the controls', async () => {
    const res = await page('/course/sync');
    expect(res.status).to.equal(200);
    expect(res.html).to.contain('<h1>Grade sync: ');
    expect(res.html).to.contain('No grades to send yet');
    expect(res.html).to.contain('Sync now');
    expect(res.html).to.contain('Resync everything');
    expect(res.html).to.contain('Pause sync');
    expect(res.html).not.to.contain('<progress');
  });

  it('when a student opens the sync page or posts to it, then both are refused', async () => {
    const student = await launch(world, { userId: world.seed.students[0]!.userId });
    const studentBase = (student.location ?? '').replace(/\/course$/, '');
    const res = await fetch(new URL(`${studentBase}/course/sync`, world.tool.origin));
    expect(res.status).to.equal(403);
    const progress = await fetch(new URL(`${studentBase}/course/sync/progress`, world.tool.origin));
    expect(progress.status).to.equal(403);
    const paused = await fetch(new URL(`${studentBase}/course/sync/pause`, world.tool.origin), {
      method: 'POST',
      body: new URLSearchParams({ _csrf: 'x' }),
      redirect: 'manual',
    });
    expect(paused.status).to.equal(403);
  });

  it('when grades are waiting, then the page shows them with a progress bar that refreshes without JavaScript, and the progress endpoint counts them', async () => {
    const columnId = await column('waiting');
    for (const student of real()) await grade(columnId, student, 3);
    const res = await page('/course/sync');
    expect(res.html).to.contain('<progress id="sync-progress-bar" max="100" value="0">');
    expect(res.html).to.contain('<noscript><meta http-equiv="refresh" content="5"></noscript>');
    expect(res.html).to.contain('/static/js/passback-sync.js');
    expect(res.html).to.contain(real()[0]!.person.name);
    const progress = (await (await fetch(url('/course/sync/progress'))).json()) as Record<
      string,
      unknown
    >;
    expect(progress).to.include({ pending: real().length, sent: 0, failed: 0, percent: 0 });
    await worker().drain();
    const after = await page('/course/sync');
    expect(after.html).not.to.contain('<progress');
    expect(after.html).to.contain('Up to date');
  });

  it('when the teacher pauses and resumes, then the worker sends nothing while paused and everything after', async () => {
    const columnId = await column('pause');
    await grade(columnId, real()[0]!, 2);
    const paused = await post('/course/sync/pause');
    expect(paused.status).to.equal(303);
    expect(paused.headers.get('location')).to.equal(`${base}/course/sync?done=paused`);
    const shown = await page('/course/sync?done=paused');
    expect(shown.html).to.contain('Grade sync is paused for this course');
    expect(shown.html).to.contain('Resume sync');
    expect((await worker().drain()).claimed).to.equal(0);
    expect((await post('/course/sync/resume')).status).to.equal(303);
    expect((await worker().drain()).sent).to.equal(1);
  });

  it('when a form is posted without the CSRF token, then it is refused and nothing changes', async () => {
    const res = await post('/course/sync/pause', {}, 'forged');
    expect(res.status).to.equal(403);
    const state = await database.db
      .selectFrom('passback_course_state')
      .select('paused')
      .where('course_id', '=', courseId)
      .executeTakeFirst();
    expect(state?.paused ?? false).to.equal(false);
  });

  it('when the LMS refuses someone as not a student, then the cause is shown in words with "Retry now", and retrying queues it again', async () => {
    const columnId = await column('test-student');
    await grade(columnId, notAStudent(), 2);
    await grade(columnId, real()[0]!, 2);
    expect(await worker().drain()).to.include({ sent: 1, failed: 1 });
    const res = await page('/course/sync');
    expect(res.html).to.contain('Not a student in the LMS course');
    expect(res.html).to.contain('not a student in the course (for example a teacher');
    expect(res.html).to.contain('Retry now');
    expect(res.html).to.contain('Needs attention');
    expect(res.html).to.contain(`/course/sync/students/${notAStudent().userId}`);
    const detail = await page(`/course/sync/students/${notAStudent().userId}`);
    expect(detail.status).to.equal(200);
    expect(detail.html).to.contain('Standard test-student (mastery)');
    expect(detail.html).to.contain('Failed: Not a student in the LMS course');
    expect(detail.html).to.contain('Nothing sent yet');
    const sentOne = await page(`/course/sync/students/${real()[0]!.userId}`);
    expect(sentOne.html).to.match(/<td>Sent<\/td>/);
    const retried = await post('/course/sync/retry', { userId: notAStudent().userId });
    expect(retried.status).to.equal(303);
    const cellDetail = await cellSyncDetail(
      database.db,
      world.tenantId,
      columnId,
      notAStudent().userId,
    );
    expect(cellDetail?.status).to.equal('pending');
  });

  it('when a retry names something that is not an id or a known cause, then it is refused with a message', async () => {
    const res = await post('/course/sync/retry', { columnId: 'not-an-id' });
    expect(res.status).to.equal(400);
    expect(await res.text()).to.contain('Reload the grade sync page');
    const cause = await post('/course/sync/retry', { errorCode: 'no_such_cause' });
    expect(cause.status).to.equal(400);
  });

  it('when "Retry now" is chosen for one cause, then only the cells that failed for it are queued again', async () => {
    const columnId = await column('by-cause');
    await grade(columnId, notAStudent(), 2);
    await grade(columnId, real()[0]!, 2);
    await worker().drain();
    // A second failure with another cause: the column is unpublished for a real student.
    const other = await column('by-cause-unpublished');
    await grade(other, real()[0]!, 1);
    await worker().drain();
    const row = await database.db
      .selectFrom('gradebook_columns')
      .select('lms_column_id')
      .where('id', '=', other)
      .executeTakeFirstOrThrow();
    const lineItemId = new URL(row.lms_column_id ?? '').pathname.split('/').at(-1) ?? '';
    world.emulator.state.setLineItemPublished(lineItemId, false);
    try {
      await grade(other, real()[0]!, 2);
      expect((await worker().drain()).failed).to.equal(1);
      const res = await page('/course/sync');
      expect(res.html).to.contain('Gradebook column unpublished');
      const retried = await post('/course/sync/retry', { errorCode: 'column_unpublished' });
      expect(retried.status).to.equal(303);
      const unpublished = await cellSyncDetail(
        database.db,
        world.tenantId,
        other,
        real()[0]!.userId,
      );
      expect(unpublished?.status).to.equal('pending');
      const stillFailed = await cellSyncDetail(
        database.db,
        world.tenantId,
        columnId,
        notAStudent().userId,
      );
      expect(stillFailed?.status).to.equal('failed');
    } finally {
      world.emulator.state.setLineItemPublished(lineItemId, true);
    }
  });

  it('when a column was deleted in the LMS, then only the teacher\'s "Recreate column" brings it back', async () => {
    const columnId = await column('deleted');
    await grade(columnId, real()[0]!, 1);
    await worker().drain();
    const row = await database.db
      .selectFrom('gradebook_columns')
      .select('lms_column_id')
      .where('id', '=', columnId)
      .executeTakeFirstOrThrow();
    world.emulator.state.deleteLineItem(
      new URL(row.lms_column_id ?? '').pathname.split('/').at(-1) ?? '',
    );
    await grade(columnId, real()[0]!, 2);
    expect((await worker().drain()).failed).to.equal(1);
    const res = await page('/course/sync');
    expect(res.html).to.contain('Gradebook column deleted in the LMS');
    expect(res.html).to.contain(`/course/sync/columns/${columnId}/recreate`);
    expect((await worker().drain()).claimed).to.equal(0);
    const recreated = await post(`/course/sync/columns/${columnId}/recreate`);
    expect(recreated.status).to.equal(303);
    expect((await worker().drain()).sent).to.equal(1);
    // Asking again for a column that is no longer deleted changes nothing.
    expect((await post(`/course/sync/columns/${columnId}/recreate`)).status).to.equal(404);
  });

  it('when "Resync everything" is chosen, then every grade of the course is queued again', async () => {
    const columnId = await column('resync');
    for (const student of real()) await grade(columnId, student, 2);
    await worker().drain();
    expect((await post('/course/sync/resync')).status).to.equal(303);
    const progress = (await (await fetch(url('/course/sync/progress'))).json()) as Record<
      string,
      unknown
    >;
    expect(progress).to.include({ pending: real().length });
    expect((await worker().drain()).sent).to.equal(real().length);
  });

  it('when grades were sent, then the audit log lists what, when and the result', async () => {
    const columnId = await column('audit');
    await grade(columnId, real()[0]!, 3.5);
    await worker().drain();
    const res = await page('/course/sync/audit');
    expect(res.status).to.equal(200);
    expect(res.html).to.contain('Standard audit (mastery)');
    expect(res.html).to.contain(real()[0]!.person.name);
    expect(res.html).to.contain('3.5');
    expect(res.html).to.match(/\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC/);
    expect(res.html).to.contain('Sent');
  });

  it("when another district has grades and a deleted column, then this course's pages show none of it and cannot act on it", async () => {
    const otherId = await seedTenant(database.db, 'other-district', 'Other district');
    // The other district has a deployment of the same platform.
    const { platform_id: platformId } = await database.db
      .selectFrom('courses as c')
      .innerJoin('deployments as d', 'd.id', 'c.deployment_row_id')
      .select('d.platform_id')
      .where('c.id', '=', courseId)
      .executeTakeFirstOrThrow();
    const otherCourseId = await seedCourse(database.db, {
      tenantId: otherId,
      deploymentRowId: await seedDeployment(database.db, {
        tenantId: otherId,
        platformId,
        deploymentId: 'other-deployment',
      }),
      contextId: 'other-course',
      title: 'Other course',
      now: new Date(),
    });
    const otherColumn = await ensureStandardColumn(database.db, {
      tenantId: otherId,
      courseId: otherCourseId,
      key: 'secret',
      label: 'Other district secret column',
      scoreMaximum: 4,
      now: new Date(),
    });
    await database.db
      .updateTable('gradebook_columns')
      .set({ status: 'deleted_in_lms' })
      .where('id', '=', otherColumn)
      .execute();
    const res = await page('/course/sync');
    expect(res.html).not.to.contain('Other district secret column');
    // Another district's user, or something that is not an id, has no student page here.
    const theirUserId = await seedUser(database.db, {
      tenantId: otherId,
      issuer: 'https://other.example',
      sub: 'their-student',
      name: 'Their Student',
      now: new Date(),
    });
    expect((await page(`/course/sync/students/${theirUserId}`)).status).to.equal(404);
    expect((await page('/course/sync/students/not-an-id')).status).to.equal(404);
    const recreate = await post(`/course/sync/columns/${otherColumn}/recreate`);
    expect(recreate.status).to.equal(404);
    const still = await database.db
      .selectFrom('gradebook_columns')
      .select('status')
      .where('id', '=', otherColumn)
      .executeTakeFirstOrThrow();
    expect(still.status).to.equal('deleted_in_lms');
  });

  it('when /metrics is scraped, then the passback metrics are registered on the app registry', async () => {
    const res = await fetch(new URL('/metrics', world.tool.origin), {
      headers: metricsAuthorization,
    });
    const text = await res.text();
    expect(text).to.contain('# TYPE passback_posts_total counter');
    expect(text).to.contain('# TYPE passback_queue_depth gauge');
    expect(text).to.contain('# TYPE passback_oldest_pending_seconds gauge');
  });

  it('when a teacher changed a grade in the gradebook, then the page says so in words and "Let Mastery Pathways update it" hands the cell back', async () => {
    const columnId = await column('held');
    const student = real()[0]!;
    await grade(columnId, student, 1);
    await worker().drain();
    const row = await database.db
      .selectFrom('gradebook_columns')
      .select('lms_column_id')
      .where('id', '=', columnId)
      .executeTakeFirstOrThrow();
    const lineItemId = new URL(row.lms_column_id ?? '').pathname.split('/').at(-1) ?? '';
    world.emulator.state.setTeacherGrade(lineItemId, student.person.sub, 3.5);
    await grade(columnId, student, 2);
    expect(await worker().drain()).to.include({ held: 1, sent: 0 });
    const res = await page('/course/sync');
    expect(res.html).to.contain('Grades changed by a teacher in the gradebook');
    expect(res.html).to.match(
      /Changed by a teacher in the gradebook on \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC \(now 3\.5 \/ 4\); not overwritten\. Mastery Pathways would send 2 \/ 4\./,
    );
    expect(res.html).to.contain('Let Mastery Pathways update it');
    const forged = await post(
      '/course/sync/held/release',
      { columnId, userId: student.userId },
      'not-the-token',
    );
    expect(forged.status).to.equal(403);
    const bad = await post('/course/sync/held/release', { columnId: 'not-an-id' });
    expect(bad.status).to.equal(400);
    expect(await bad.text()).to.contain('Reload the grade sync page');
    const released = await post('/course/sync/held/release', {
      columnId,
      userId: student.userId,
    });
    expect(released.status).to.equal(303);
    expect(released.headers.get('location')).to.contain('done=released');
    expect(await worker().drain()).to.include({ sent: 1 });
    expect(world.emulator.state.findCell(lineItemId, student.person.sub)?.displayedScore).to.equal(
      2,
    );
    expect(await releaseHeldCells(database.db, { tenantId: world.tenantId, courseId })).to.equal(0);
  });
});
