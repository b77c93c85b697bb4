import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { sql } from 'kysely';
import { Registry } from 'prom-client';
import { USER_AGENT, type AppServices } from '../../src/app-services.ts';
import { syncCourseRoster } from '../../src/courses/roster.ts';
import { createLmsHttpClient } from '../../src/lti/http.ts';
import type { Flavour } from '../../src/emulator/types.ts';
import type { PassbackWorker } from '../../src/passback/worker.ts';
import { resolveLmsFromServices } from '../../src/app-services.ts';
import {
  claimDueCells,
  cellSyncDetail,
  courseSyncSummary,
  recreateColumn,
  releaseHeldCells,
  resyncCourse,
  retryFailed,
  setCoursePaused,
} from '../../src/storage/passback/passback.repository.ts';
import type { Person } from '../../src/emulator/types.ts';
import type { User } from '../../src/storage/lti/people.repository.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createLtiWorld, launch, type LtiWorld } from '../support/lti-world.ts';
import {
  desireGrade,
  ensureStandardColumn,
  passbackWorker,
  recordRoster,
  workerServices,
  workerTokenClient,
} from '../support/passback-world.ts';

/** The emulator's line item id is the last path segment of the AGS line item URL. */
function lineItemIdOf(lineItemUrl: string): string {
  const segments = new URL(lineItemUrl).pathname.split('/');
  return segments.at(-1) ?? '';
}

for (const flavour of ['canvas', 'schoology'] as const satisfies readonly Flavour[]) {
  describe(`grade passback to ${flavour} (${testEngine})`, function () {
    this.timeout(60_000);
    let database: TestDatabase;
    let world: LtiWorld;
    let services: AppServices;
    let courseId: string;
    let students: { person: Person; user: User }[];
    /** The worker's clock runs ahead by `offsetMs` so tests can pass retry times without waiting. */
    let offsetMs = 0;
    const workerNow = () => new Date(Date.now() + offsetMs);

    before(async () => {
      database = await createTestDatabase();
      world = await createLtiWorld(database, { flavour, platformStorage: false });
      const teacherLaunch = await launch(world, { userId: world.seed.teacher.userId });
      expect(teacherLaunch.status, teacherLaunch.body).to.equal(303);
      const course = (await world.tool.services.courses.listCourses(world.tenantId))[0];
      if (course === undefined) throw new Error('the launch recorded no course');
      courseId = course.id;
      // The worker's HTTP client gives up quickly (timeouts are tested with the emulator's delay fault).
      services = workerServices(world, 400);
      students = await recordRoster(world);
    });

    after(async () => {
      await world.close();
      await database.close();
    });

    afterEach(async () => {
      world.emulator.state.clearFaults();
      offsetMs = 0;
      // Each test starts with an empty queue: another test's leftovers would be claimed too.
      await sql`DELETE FROM desired_grades`.execute(database.db);
      await sql`DELETE FROM passback_course_state`.execute(database.db);
    });

    function worker(
      extra: { workerId?: string; metrics?: Registry; platformLocks?: boolean } = {},
    ): PassbackWorker {
      return passbackWorker(database.db, services, {
        now: workerNow,
        random: () => 0.5,
        limits: { requestsPerSecond: 1000, burst: 50, baseBackoffMs: 1000, maxBackoffMs: 4000 },
        ...extra,
      });
    }

    async function column(key: string, scoreMaximum = 4): Promise<string> {
      return ensureStandardColumn(database.db, {
        tenantId: world.tenantId,
        courseId,
        key,
        label: `Standard ${key}`,
        scoreMaximum,
        now: new Date(),
      });
    }

    async function grade(columnId: string, student: { person: Person; user: User }, value: number) {
      return desireGrade(database.db, {
        tenantId: world.tenantId,
        courseId,
        columnId,
        userId: student.user.id,
        lmsUserId: student.person.sub,
        value,
        now: new Date(),
      });
    }

    async function lmsColumnId(columnId: string): Promise<string> {
      const row = await database.db
        .selectFrom('gradebook_columns')
        .select('lms_column_id')
        .where('id', '=', columnId)
        .executeTakeFirstOrThrow();
      if (row.lms_column_id === null) throw new Error('column not created in the LMS yet');
      return lineItemIdOf(row.lms_column_id);
    }

    function cell(columnLineItemId: string, student: { person: Person }) {
      return world.emulator.state.findCell(columnLineItemId, student.person.sub);
    }

    function toolLineItems() {
      return world.emulator.state
        .lineItemsOf(world.seed.course.courseId)
        .filter((item) => item.tag === 'mastery-pathways');
    }

    const realStudents = () => students.filter((s) => !s.person.isTestStudent);
    const first = () => {
      const student = realStudents()[0];
      if (student === undefined) throw new Error('no student');
      return student;
    };
    const second = () => {
      const student = realStudents()[1];
      if (student === undefined) throw new Error('no second student');
      return student;
    };

    it('when grades are desired, then one column is created per standard and every score lands', async () => {
      // The columns other tests made before this one are there already.
      const lineItemsBefore = toolLineItems().length;
      const columnA = await column('A');
      const columnB = await column('B');
      for (const student of realStudents()) {
        await grade(columnA, student, 3);
        await grade(columnB, student, 2.5);
      }
      const result = await worker().drain();
      expect(result.sent).to.equal(realStudents().length * 2);
      expect(toolLineItems()).to.have.length(lineItemsBefore + 2);
      for (const key of ['A', 'B']) {
        const made = toolLineItems().filter((item) => item.resourceId === `mp:standard:${key}`);
        expect(made, key).to.have.length(1);
      }
      for (const student of realStudents()) {
        expect(cell(await lmsColumnId(columnA), student)?.lastScore?.scoreGiven).to.equal(3);
        expect(cell(await lmsColumnId(columnB), student)?.lastScore?.scoreGiven).to.equal(2.5);
      }
      const summary = await courseSyncSummary(database.db, world.tenantId, courseId);
      expect(summary.sent).to.equal(realStudents().length * 2);
      expect(summary.pending).to.equal(0);
      expect(summary.lastRunAt).to.be.instanceOf(Date);
    });

    it('when a new worker starts after a crash between creating a column and storing it, then it finds the column instead of creating another', async () => {
      const columnId = await column('restart');
      await grade(columnId, first(), 1);
      await worker().drain();
      expect(
        toolLineItems().filter((item) => item.resourceId === 'mp:standard:restart'),
      ).to.have.length(1);
      // The state a crash right after the LMS created the column leaves behind.
      await database.db
        .updateTable('gradebook_columns')
        .set({ lms_column_id: null, status: 'pending' })
        .where('id', '=', columnId)
        .execute();
      await grade(columnId, first(), 2);
      const result = await worker().drain();
      expect(result.sent).to.equal(1);
      expect(
        toolLineItems().filter((item) => item.resourceId === 'mp:standard:restart'),
      ).to.have.length(1);
      expect(cell(await lmsColumnId(columnId), first())?.lastScore?.scoreGiven).to.equal(2);
    });

    it('when an unchanged value is set again, then nothing is re-posted', async () => {
      const columnId = await column('unchanged');
      await grade(columnId, first(), 3);
      await worker().drain();
      const again = await grade(columnId, first(), 3);
      expect(again.changed).to.equal(false);
      const result = await worker().drain();
      expect(result.claimed).to.equal(0);
      expect(cell(await lmsColumnId(columnId), first())?.postCount).to.equal(1);
    });

    it('when a value changes 10 times before the worker runs, then the latest value is posted once', async () => {
      const columnId = await column('rapid');
      for (let value = 1; value <= 10; value += 1) await grade(columnId, first(), value / 2.5);
      await worker().drain();
      const posted = cell(await lmsColumnId(columnId), first());
      expect(posted?.postCount).to.equal(1);
      expect(posted?.lastScore?.scoreGiven).to.equal(4);
      const detail = await cellSyncDetail(database.db, world.tenantId, columnId, first().user.id);
      expect(detail).to.include({ status: 'sent', desiredVersion: 10, confirmedVersion: 10 });
    });

    it('when the LMS answers 429 with Retry-After, then the cell waits at least that long', async () => {
      const columnId = await column('429');
      await grade(columnId, first(), 1);
      await worker().drain();
      await grade(columnId, first(), 2);
      world.emulator.state.injectFaults({ kind: 'status', status: 429, retryAfterSeconds: 120 }, 1);
      const before = workerNow().getTime();
      const failed = await worker().runOnce();
      expect(failed.retrying).to.equal(1);
      const detail = await cellSyncDetail(database.db, world.tenantId, columnId, first().user.id);
      expect(detail?.errorCode).to.equal('rate_limited');
      expect(detail?.nextAttemptAt?.getTime()).to.be.at.least(before + 120_000);
      expect((await worker().runOnce()).claimed).to.equal(0);
      offsetMs = 121_000;
      expect((await worker().drain()).sent).to.equal(1);
      expect(cell(await lmsColumnId(columnId), first())?.lastScore?.scoreGiven).to.equal(2);
    });

    it('when the LMS answers 500 or times out, then the post is retried later and lands', async () => {
      const columnId = await column('5xx');
      await grade(columnId, first(), 1);
      await worker().drain();
      await grade(columnId, first(), 2);
      world.emulator.state.injectFaults({ kind: 'status', status: 500 }, 1);
      expect((await worker().runOnce()).retrying).to.equal(1);
      expect(
        (await cellSyncDetail(database.db, world.tenantId, columnId, first().user.id))?.errorCode,
      ).to.equal('lms_unavailable');
      offsetMs = 5_000;
      world.emulator.state.injectFaults({ kind: 'delay', ms: 1_500 }, 1);
      expect((await worker().runOnce()).retrying).to.equal(1);
      const detail = await cellSyncDetail(database.db, world.tenantId, columnId, first().user.id);
      expect(detail).to.include({ errorCode: 'timeout', attempts: 2, status: 'pending' });
      offsetMs = 15_000;
      expect((await worker().drain()).sent).to.equal(1);
      expect(cell(await lmsColumnId(columnId), first())?.lastScore?.scoreGiven).to.equal(2);
    });

    it('when the course is paused, then nothing is posted until it is resumed', async () => {
      const columnId = await column('paused');
      await setCoursePaused(database.db, { tenantId: world.tenantId, courseId, paused: true });
      await grade(columnId, first(), 2);
      expect((await worker().drain()).claimed).to.equal(0);
      expect((await courseSyncSummary(database.db, world.tenantId, courseId)).paused).to.equal(
        true,
      );
      await setCoursePaused(database.db, { tenantId: world.tenantId, courseId, paused: false });
      expect((await worker().drain()).sent).to.equal(1);
    });

    it('when "resync everything" is chosen, then every cell is posted once more', async () => {
      const columnId = await column('resync');
      for (const student of realStudents()) await grade(columnId, student, 2);
      await worker().drain();
      expect(await resyncCourse(database.db, world.tenantId, courseId)).to.equal(
        realStudents().length,
      );
      expect((await worker().drain()).sent).to.equal(realStudents().length);
      for (const student of realStudents()) {
        expect(cell(await lmsColumnId(columnId), student)?.postCount).to.equal(2);
      }
    });

    it('when two workers run at once, then each cell is posted at most once and each column created once', async () => {
      const columns = [await column('race-1'), await column('race-2')];
      for (const columnId of columns) {
        for (const student of realStudents()) await grade(columnId, student, 3);
      }
      const a = worker({ workerId: 'worker-a' });
      const b = worker({ workerId: 'worker-b' });
      const [ra, rb] = await Promise.all([a.drain(), b.drain()]);
      expect(ra.sent + rb.sent).to.equal(columns.length * realStudents().length);
      for (const columnId of columns) {
        const lineItemId = await lmsColumnId(columnId);
        for (const student of realStudents())
          expect(cell(lineItemId, student)?.postCount).to.equal(1);
      }
      expect(
        toolLineItems().filter((item) => item.resourceId?.startsWith('mp:standard:race-')),
      ).to.have.length(2);
    });

    it('when two workers with platform locks run at once, then one calls the platform at a time, the other gives its cells back, and each cell is posted once', async function () {
      if (testEngine !== 'postgres') {
        // The lock needs a second connection; PGlite has one (and one process).
        this.skip();
      }
      const columnId = await column('locked-race');
      for (const student of realStudents()) await grade(columnId, student, 2);
      await worker().drain(); // the column exists before the race
      for (const student of realStudents()) await grade(columnId, student, 3);
      const a = worker({ workerId: 'locked-a', platformLocks: true });
      const b = worker({ workerId: 'locked-b', platformLocks: true });
      const [ra, rb] = await Promise.all([a.drain(), b.drain()]);
      // A worker that found the platform busy stopped with its cells given back; the rest is sent.
      const rest = await worker({ platformLocks: true }).drain();
      expect(ra.sent + rb.sent + rest.sent).to.equal(realStudents().length);
      const lineItemId = await lmsColumnId(columnId);
      for (const student of realStudents()) {
        expect(cell(lineItemId, student)?.postCount).to.equal(2);
        expect(cell(lineItemId, student)?.lastScore?.scoreGiven).to.equal(3);
      }
      const stillClaimed = await database.db
        .selectFrom('desired_grades')
        .select('user_id')
        .where('claimed_by', 'is not', null)
        .execute();
      expect(stillClaimed).to.have.length(0);
    });

    it('when a column was deleted in the LMS, then the teacher sees it and it is recreated only on request', async () => {
      const columnId = await column('deleted');
      await grade(columnId, first(), 1);
      await worker().drain();
      world.emulator.state.deleteLineItem(await lmsColumnId(columnId));
      await grade(columnId, first(), 2);
      expect((await worker().drain()).failed).to.equal(1);
      const summary = await courseSyncSummary(database.db, world.tenantId, courseId);
      expect(summary.deletedColumns.map((c) => c.id)).to.deep.equal([columnId]);
      expect(summary.errorsByCause[0]).to.include({
        code: 'column_deleted',
        count: 1,
        status: 'failed',
      });
      await grade(columnId, first(), 3);
      expect((await worker().drain()).claimed).to.equal(0);
      expect(
        await recreateColumn(database.db, { tenantId: world.tenantId, courseId, columnId }),
      ).to.equal(true);
      expect((await worker().drain()).sent).to.equal(1);
      expect(cell(await lmsColumnId(columnId), first())?.lastScore?.scoreGiven).to.equal(3);
    });

    it('when posts succeed and fail, then the metrics count them and the queue depth drops to zero', async () => {
      const registry = new Registry();
      const columnId = await column('metrics');
      for (const student of realStudents()) await grade(columnId, student, 1);
      await worker({ metrics: registry }).drain();
      const text = await registry.metrics();
      expect(text).to.contain(`passback_posts_total{result="sent"} ${realStudents().length}`);
      expect(text).to.match(/passback_queue_depth 0\b/);
      expect(text).to.match(/passback_oldest_pending_seconds 0\b/);
    });

    it('when the token endpoint is down, then the post is retried later and lands', async () => {
      const columnId = await column('token-down');
      await grade(columnId, first(), 2);
      // A fresh token client has no cached token, so the next request goes to the token endpoint.
      const fresh = passbackWorker(
        database.db,
        { ...services, tokenClient: workerTokenClient(services) },
        {
          now: workerNow,
          random: () => 0.5,
          limits: { requestsPerSecond: 1000, burst: 50, baseBackoffMs: 1000, maxBackoffMs: 4000 },
        },
      );
      world.emulator.state.injectFaults({ kind: 'status', status: 503 }, 1);
      expect((await fresh.runOnce()).retrying).to.equal(1);
      const detail = await cellSyncDetail(database.db, world.tenantId, columnId, first().user.id);
      expect(detail?.errorCode).to.equal('token_endpoint_down');
      offsetMs = 5_000;
      const drained = await fresh.drain();
      expect(drained.sent).to.equal(1);
    });

    it('when the worker is started and stopped, then it posts while running and nothing after stop', async () => {
      const columnId = await column('loop');
      const looping = passbackWorker(database.db, services, {
        now: workerNow,
        limits: { requestsPerSecond: 1000, burst: 50, pollIntervalMs: 10 },
      });
      looping.start();
      try {
        await grade(columnId, first(), 2);
        for (let i = 0; i < 500; i += 1) {
          const detail = await cellSyncDetail(
            database.db,
            world.tenantId,
            columnId,
            first().user.id,
          );
          if (detail?.status === 'sent') break;
          await sleep(10);
        }
      } finally {
        await looping.stop();
      }
      const lineItemId = await lmsColumnId(columnId);
      expect(cell(lineItemId, first())?.lastScore?.scoreGiven).to.equal(2);
      await grade(columnId, first(), 3);
      await sleep(50);
      expect(cell(lineItemId, first())?.postCount).to.equal(1);
      expect(
        (await cellSyncDetail(database.db, world.tenantId, columnId, first().user.id))?.status,
      ).to.equal('pending');
    });

    it('when the worker is stopped mid-batch, then the post in flight lands and is recorded, the rest are given back and sent once by the next worker', async () => {
      const columnId = await column('stop-mid-batch');
      for (const student of realStudents()) await grade(columnId, student, 3);
      await worker().drain(); // creates the column
      for (const student of realStudents()) await grade(columnId, student, 2);
      // Every post is slow, so stop() arrives while the first one is in flight.
      world.emulator.state.injectFaults({ kind: 'delay', ms: 150 }, realStudents().length);
      const slow = passbackWorker(database.db, services, {
        now: workerNow,
        limits: { requestsPerSecond: 1000, burst: 50, pollIntervalMs: 10 },
      });
      const postsBefore = world.emulator.state.counters.scorePosts;
      slow.start();
      while (world.emulator.state.counters.scorePosts === postsBefore) await sleep(5);
      await slow.stop();
      world.emulator.state.clearFaults();
      const claimed = await database.db
        .selectFrom('desired_grades')
        .select('claimed_by')
        .where('column_id', '=', columnId)
        .where('claimed_by', 'is not', null)
        .execute();
      expect(claimed, 'cells still claimed after stop').to.have.length(0);
      const rest = await worker().drain();
      // Some went out before the stop; the rest now, and no cell twice.
      expect(rest.sent).to.be.within(1, realStudents().length - 1);
      const lineItemId = await lmsColumnId(columnId);
      for (const student of realStudents()) {
        const posted = cell(lineItemId, student);
        expect(posted?.lastScore?.scoreGiven).to.equal(2);
        expect(posted?.postCount).to.equal(2);
      }
    });

    if (flavour === 'canvas') {
      it('when the Test Student (TestUser in NRPS) has a grade, then it is never posted nor counted, and the real student is', async () => {
        const testStudent = students.find((s) => s.person.isTestStudent);
        if (testStudent === undefined) throw new Error('no test student');
        // The roster sync reads Canvas's NRPS, where the Student View user carries TestUser.
        await syncCourseRoster(world.tool.services, world.tenantId, courseId);
        const roster = await world.tool.services.courses.listRoster(world.tenantId, courseId);
        expect(roster.filter((p) => p.testUser).map((p) => p.userId)).to.deep.equal([
          testStudent.user.id,
        ]);
        const columnId = await column('test-student');
        await grade(columnId, testStudent, 2);
        await grade(columnId, first(), 2);
        const result = await worker().drain();
        expect(result).to.include({ claimed: 1, sent: 1, failed: 0 });
        expect(cell(await lmsColumnId(columnId), testStudent)).to.equal(undefined);
        const summary = await courseSyncSummary(database.db, world.tenantId, courseId);
        expect(summary).to.include({ failed: 0, sent: 1, pending: 0 });
        expect(summary.students.map((s) => s.userId)).to.deep.equal([first().user.id]);
      });

      it('when the column is unpublished, then the failure is reported, not retried, and "retry" sends it after publishing', async () => {
        const columnId = await column('unpublished');
        await grade(columnId, first(), 1);
        await worker().drain();
        const lineItemId = await lmsColumnId(columnId);
        world.emulator.state.setLineItemPublished(lineItemId, false);
        await grade(columnId, first(), 3);
        expect((await worker().drain()).failed).to.equal(1);
        const detail = await cellSyncDetail(database.db, world.tenantId, columnId, first().user.id);
        expect(detail).to.include({ status: 'failed', errorCode: 'column_unpublished' });
        expect(detail?.errorMessage).to.contain('Publish the assignment');
        expect((await worker().drain()).claimed).to.equal(0);
        world.emulator.state.setLineItemPublished(lineItemId, true);
        expect(
          await retryFailed(database.db, { tenantId: world.tenantId, courseId, columnId }),
        ).to.equal(1);
        expect((await worker().drain()).sent).to.equal(1);
        expect(cell(lineItemId, first())?.lastScore?.scoreGiven).to.equal(3);
      });

      it('when the course has concluded, then the 404 is reported as a concluded course', async () => {
        const columnId = await column('concluded');
        await grade(columnId, first(), 1);
        await worker().drain();
        world.emulator.state.setCourseConcluded(world.seed.course.courseId, true);
        try {
          await grade(columnId, first(), 2);
          expect((await worker().drain()).failed).to.equal(1);
          const detail = await cellSyncDetail(
            database.db,
            world.tenantId,
            columnId,
            first().user.id,
          );
          expect(detail?.errorCode).to.equal('course_concluded');
        } finally {
          world.emulator.state.setCourseConcluded(world.seed.course.courseId, false);
        }
      });

      it("when a teacher typed a grade in Canvas, then it survives and is listed, while another student's later mastery changes keep landing (2nd, 3rd … 10th post)", async () => {
        const columnId = await column('manual');
        await grade(columnId, first(), 1);
        await grade(columnId, second(), 0.4);
        await worker().drain();
        const lineItemId = await lmsColumnId(columnId);
        world.emulator.state.setTeacherGrade(lineItemId, first().person.sub, 3.5);
        await grade(columnId, first(), 2);
        const held = await worker().drain();
        expect(held).to.include({ held: 1, sent: 0, failed: 0 });
        expect(cell(lineItemId, first())?.displayedScore).to.equal(3.5);
        expect(cell(lineItemId, first())?.postCount).to.equal(1);
        const summary = await courseSyncSummary(database.db, world.tenantId, courseId);
        expect(summary).to.include({ held: 1, failed: 0, pending: 0 });
        expect(summary.heldCells[0]).to.include({
          columnId,
          userId: first().user.id,
          heldValue: 3.5,
          desiredValue: 2,
        });
        // The student nobody graded by hand: every later change reaches the gradebook.
        for (let post = 2; post <= 10; post += 1) {
          await grade(columnId, second(), post * 0.4);
          expect((await worker().drain()).sent, `post ${post}`).to.equal(1);
          expect(cell(lineItemId, second())?.displayedScore, `post ${post}`).to.be.closeTo(
            post * 0.4,
            1e-9,
          );
        }
        expect(cell(lineItemId, second())?.postCount).to.equal(10);
        // A later change for the held cell stays out too, until a teacher hands the cell back.
        await grade(columnId, first(), 2.5);
        expect((await worker().drain()).claimed).to.equal(0);
        expect(
          await releaseHeldCells(database.db, {
            tenantId: world.tenantId,
            courseId,
            columnId,
            userId: first().user.id,
          }),
        ).to.equal(1);
        expect((await worker().drain()).sent).to.equal(1);
        expect(cell(lineItemId, first())?.displayedScore).to.equal(2.5);
      });

      it('when a worker died after its post reached Canvas but before recording it, then the next worker posts the newest value and does not hold the cell as a teacher change', async () => {
        const columnId = await column('died');
        await grade(columnId, first(), 1);
        await grade(columnId, second(), 1);
        await worker().drain();
        const lineItemId = await lmsColumnId(columnId);
        // The dying worker claims both cells at 2 and its posts land; then it is killed.
        await grade(columnId, first(), 2);
        await grade(columnId, second(), 2);
        const claimed = await claimDueCells(database.db, {
          workerId: 'dies',
          now: new Date(),
          leaseMs: 1000,
          limit: 10,
        });
        expect(claimed.map((c) => c.value)).to.deep.equal([2, 2]);
        const lms = await resolveLmsFromServices(services)(world.tenantId, courseId);
        const row = await database.db
          .selectFrom('gradebook_columns')
          .selectAll()
          .where('id', '=', columnId)
          .executeTakeFirstOrThrow();
        const lmsColumn = {
          id: row.lms_column_id ?? '',
          label: row.label,
          scoreMaximum: row.score_maximum,
          tag: row.tag,
          resourceId: row.resource_id,
        };
        for (const student of [first(), second()]) {
          await lms.postScore(lmsColumn, {
            userId: student.person.sub,
            scoreGiven: 2,
            scoreMaximum: 4,
            timestamp: new Date(),
          });
        }
        // Meanwhile mastery moves on for one student; the other still wants what was posted.
        await grade(columnId, first(), 3);
        offsetMs = 2000;
        const next = await worker().drain();
        expect(next).to.include({ sent: 2, held: 0, failed: 0 });
        expect(cell(lineItemId, first())?.displayedScore).to.equal(3);
        expect(cell(lineItemId, second())?.displayedScore).to.equal(2);
        const summary = await courseSyncSummary(database.db, world.tenantId, courseId);
        expect(summary).to.include({ held: 0, failed: 0, pending: 0 });
        // A teacher's grade typed after that is still kept.
        world.emulator.state.setTeacherGrade(lineItemId, second().person.sub, 3.5);
        await grade(columnId, second(), 1);
        expect(await worker().drain()).to.include({ held: 1, sent: 0 });
      });

      it('when the summary comment is unchanged, then it is not sent again (Canvas adds a comment per post)', async () => {
        const columnId = await column('comments');
        const withComment = (value: number, comment: string) =>
          desireGrade(database.db, {
            tenantId: world.tenantId,
            courseId,
            columnId,
            userId: first().user.id,
            lmsUserId: first().person.sub,
            value,
            comment,
            now: new Date(),
          });
        await withComment(2, 'Developing (2 of 4).');
        await worker().drain();
        await withComment(2.5, 'Developing (2 of 4).');
        await worker().drain();
        await withComment(3, 'Proficient (3 of 4).');
        await worker().drain();
        const posted = cell(await lmsColumnId(columnId), first());
        expect(posted?.postCount).to.equal(3);
        expect(posted?.displayedScore).to.equal(3);
        expect(posted?.comments).to.deep.equal(['Developing (2 of 4).', 'Proficient (3 of 4).']);
      });

      it('when Canvas throttles with its 403 mid-drain, then the drain completes with every grade posted once and nothing waits for a teacher', async () => {
        const columnId = await column('throttled');
        await grade(columnId, first(), 1);
        await worker().drain(); // the column exists
        // A small bucket that fills after a few calls and leaks 40 units a second.
        world.emulator.state.setCanvasThrottle({
          highWater: 4,
          maximum: 6,
          outflow: 40,
          upFrontCost: 0,
          requestCost: 1,
        });
        try {
          const http = createLmsHttpClient({
            fetch,
            userAgent: USER_AGENT,
            sleep: (ms) => sleep(ms),
            random: Math.random,
            now: () => new Date(),
            maxRetries: 6,
            throttleDelayMs: 50,
            timeoutMs: 2000,
          });
          const throttledServices = {
            ...services,
            http,
            tokenClient: workerTokenClient({ http, toolKeys: services.toolKeys }),
          };
          for (const student of realStudents()) await grade(columnId, student, 3);
          const before = world.emulator.state.throttled;
          const result = await passbackWorker(database.db, throttledServices, {
            now: workerNow,
            random: () => 0.5,
            limits: { requestsPerSecond: 1000, burst: 50, baseBackoffMs: 1000 },
          }).drain();
          expect(world.emulator.state.throttled - before, 'throttled answers').to.be.greaterThan(0);
          expect(result).to.include({ sent: realStudents().length, failed: 0, retrying: 0 });
          const lineItemId = await lmsColumnId(columnId);
          for (const student of realStudents()) {
            expect(cell(lineItemId, student)?.displayedScore).to.equal(3);
          }
          // Posted once each: the first student twice in all (1, then 3), the others once.
          expect(cell(lineItemId, first())?.postCount).to.equal(2);
          for (const student of realStudents().slice(1)) {
            expect(cell(lineItemId, student)?.postCount).to.equal(1);
          }
          const summary = await courseSyncSummary(database.db, world.tenantId, courseId);
          expect(summary).to.include({ failed: 0, pending: 0 });
        } finally {
          world.emulator.state.setCanvasThrottle({});
        }
      });

      it('when Canvas throttles and the worker does not retry inline, then the cell waits seconds as rate limited, not as a failure', async () => {
        const columnId = await column('throttled-later');
        await grade(columnId, first(), 1);
        await worker().drain();
        await grade(columnId, first(), 2);
        world.emulator.state.setCanvasThrottle({
          highWater: 1,
          outflow: 0,
          upFrontCost: 0,
          requestCost: 1,
        });
        try {
          // The tool's bucket is already at the high-water mark: its next call is refused.
          for (const clientId of world.emulator.state.tools.keys()) {
            world.emulator.state.throttleBuckets.set(`lti_advantage:${clientId}`, {
              count: 1,
              touchedAtMs: Date.now(),
            });
          }
          const result = await worker().runOnce();
          expect(result).to.include({ retrying: 1, failed: 0 });
          const detail = await cellSyncDetail(
            database.db,
            world.tenantId,
            columnId,
            first().user.id,
          );
          expect(detail).to.include({ errorCode: 'rate_limited', status: 'pending' });
          expect(detail?.nextAttemptAt?.getTime()).to.be.greaterThan(workerNow().getTime() + 1000);
        } finally {
          world.emulator.state.setCanvasThrottle({});
        }
        offsetMs = 10_000;
        expect((await worker().drain()).sent).to.equal(1);
      });

      it("when the course policy lets the tool's grade win, then it replaces the teacher's typed grade", async () => {
        const columnId = await column('tool-wins');
        await grade(columnId, first(), 1);
        await worker().drain();
        const lineItemId = await lmsColumnId(columnId);
        world.emulator.state.setTeacherGrade(lineItemId, first().person.sub, 3.5);
        const saved = await world.tool.services.mastery.savePolicy({
          tenantId: world.tenantId,
          courseId,
          policy: { passback: { prioritizeNonToolGrade: false } },
          actor: 'test',
        });
        await saved.finished;
        try {
          await grade(columnId, first(), 2);
          expect((await worker().drain()).sent).to.equal(1);
          expect(cell(lineItemId, first())?.displayedScore).to.equal(2);
        } finally {
          await (
            await world.tool.services.mastery.savePolicy({
              tenantId: world.tenantId,
              courseId,
              policy: null,
              actor: 'test',
            })
          ).finished;
        }
      });

      it('when the worker clock is behind the last timestamp sent, then the next post still carries a later timestamp', async () => {
        const columnId = await column('timestamps');
        offsetMs = 60_000;
        await grade(columnId, first(), 1);
        await worker().drain();
        offsetMs = 0;
        await grade(columnId, first(), 2);
        expect((await worker().drain()).sent).to.equal(1);
        const history = cell(await lmsColumnId(columnId), first())?.history ?? [];
        expect(history).to.have.length(2);
        expect(Date.parse(history[1]?.timestamp ?? '')).to.be.greaterThan(
          Date.parse(history[0]?.timestamp ?? ''),
        );
      });
    }

    if (flavour === 'schoology') {
      it("when an unchanged grade is set again, then the teacher's Missing flag survives", async () => {
        const columnId = await column('missing');
        await grade(columnId, first(), 2);
        await worker().drain();
        const lineItemId = await lmsColumnId(columnId);
        world.emulator.state.setMissing(lineItemId, first().person.sub, true);
        await grade(columnId, first(), 2);
        await worker().drain();
        expect(cell(lineItemId, first())?.missing).to.equal(true);
        expect(cell(lineItemId, first())?.postCount).to.equal(1);
      });
    }
  });
}
