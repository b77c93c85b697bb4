import { createTenantRepository } from '../../../src/storage/lti/tenants.repository.ts';
import { expect } from 'chai';
import {
  PassbackStorageError,
  cellSyncDetail,
  claimDueCells,
  courseAudit,
  courseSyncSummary,
  deleteExpiredAudit,
  ensureGradebookColumn,
  recordPostOutcome,
  recreateColumn,
  resyncCourse,
  retryFailed,
  setCoursePaused,
  setDesiredGrade,
  syncCourseNow,
  withPlatformLock,
} from '../../../src/storage/passback/passback.repository.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../../support/database.ts';
import { rejectionOf } from '../../support/rejection.ts';
import { seedCourse, seedDistrict, seedUsers } from '../../support/seed-district.ts';

interface District {
  tenantId: string;
  courseId: string;
  userIds: string[];
}

const NOW = new Date('2026-11-27T06:00:00.000Z');

async function district(database: TestDatabase, slug: string): Promise<District> {
  const db = database.db;
  const issuer = `https://${slug}.example.org`;
  const { tenantId, deploymentRowId } = await seedDistrict(db, slug, issuer);
  const courseId = await seedCourse(db, {
    tenantId,
    deploymentRowId,
    contextId: 'course-1',
    title: 'Algebra',
    now: NOW,
    agsLineItemsUrl: `${issuer}/line_items`,
  });
  const users = await seedUsers(db, { tenantId, issuer, subs: ['s1', 's2'], now: NOW });
  return { tenantId, courseId, userIds: users.map((user) => user.id) };
}

describe(`passback storage (${testEngine})`, function () {
  this.timeout(30_000);
  let database: TestDatabase;
  let hartford: District;
  let newHaven: District;

  before(async () => {
    database = await createTestDatabase();
    hartford = await district(database, 'hartford');
    newHaven = await district(database, 'new-haven');
  });
  after(async () => {
    await database.close();
  });
  afterEach(async () => {
    await database.db.deleteFrom('desired_grades').execute();
    await database.db.deleteFrom('passback_course_state').execute();
  });

  const column = (district: District, key: string, courseId = district.courseId) =>
    database.db.transaction().execute((tx) =>
      ensureGradebookColumn(tx, {
        tenantId: district.tenantId,
        courseId,
        kind: 'standard',
        key,
        label: `Standard ${key}`,
        scoreMaximum: 4,
        now: NOW,
      }),
    );

  /** Claims what is due for one worker, with a minute's lease. */
  const claim = (workerId = 'w', now = NOW) =>
    claimDueCells(database.db, { workerId, now, leaseMs: 60_000, limit: 10 });

  const desire = (
    district: District,
    columnId: string,
    user: number,
    value: number,
    comment?: string,
  ) =>
    database.db.transaction().execute((tx) =>
      setDesiredGrade(tx, {
        tenantId: district.tenantId,
        courseId: district.courseId,
        columnId,
        userId: district.userIds[user] ?? '',
        lmsUserId: `s${user + 1}`,
        value,
        comment,
        now: NOW,
      }),
    );

  it('when the same column is ensured twice, then one row serves both', async () => {
    expect(await column(hartford, 'dup')).to.equal(await column(hartford, 'dup'));
  });

  it('when a district names a course of another district, then no column is created', async () => {
    const error = await rejectionOf(column(hartford, 'foreign', newHaven.courseId));
    expect(error).to.be.instanceOf(PassbackStorageError);
    expect((error as PassbackStorageError).code).to.equal('course_not_in_tenant');
  });

  it('when the value or comment changes, then the version moves; when nothing changes, it stays', async () => {
    const columnId = await column(hartford, 'versions');
    expect(await desire(hartford, columnId, 0, 3)).to.deep.equal({ changed: true, version: 1 });
    expect(await desire(hartford, columnId, 0, 3)).to.deep.equal({ changed: false, version: 1 });
    expect(await desire(hartford, columnId, 0, 3, 'Great work')).to.deep.equal({
      changed: true,
      version: 2,
    });
    expect(await desire(hartford, columnId, 0, 3.5, 'Great work')).to.deep.equal({
      changed: true,
      version: 3,
    });
  });

  it('when the evidence transaction rolls back, then the desired grade is not recorded', async () => {
    const columnId = await column(hartford, 'rollback');
    let seenInside: unknown;
    let failure: unknown;
    try {
      await database.db.transaction().execute(async (tx) => {
        await setDesiredGrade(tx, {
          tenantId: hartford.tenantId,
          courseId: hartford.courseId,
          columnId,
          userId: hartford.userIds[0] ?? '',
          lmsUserId: 's1',
          value: 2,
          now: NOW,
        });
        // The write happened inside the transaction: only the rollback may undo it.
        seenInside = await cellSyncDetail(
          tx,
          hartford.tenantId,
          columnId,
          hartford.userIds[0] ?? '',
        );
        throw new Error('evidence write failed');
      });
    } catch (error) {
      failure = error;
    }
    expect((failure as Error | undefined)?.message).to.equal('evidence write failed');
    expect(seenInside).not.to.equal(undefined);
    expect(
      await cellSyncDetail(database.db, hartford.tenantId, columnId, hartford.userIds[0] ?? ''),
    ).to.equal(undefined);
  });

  it("when another district's column id is used, then the desired grade is refused", async () => {
    const columnId = await column(newHaven, 'theirs');
    const error = await rejectionOf(desire(hartford, columnId, 0, 2));
    expect((error as PassbackStorageError).code).to.equal('column_not_in_tenant');
  });

  it('when a claim is live, then a second claim skips the cell until the lease runs out', async () => {
    const columnId = await column(hartford, 'lease');
    await desire(hartford, columnId, 0, 2);
    const first = await claim('a');
    expect(first).to.have.length(1);
    expect(first[0]).to.include({
      value: 2,
      version: 1,
      lmsUserId: 's1',
      tenantId: hartford.tenantId,
    });
    expect(await claim('b')).to.have.length(0);
    const later = new Date(NOW.getTime() + 60_001);
    const retaken = await claim('b', later);
    expect(retaken).to.have.length(1);
  });

  it('when read models and controls are used by one district, then the other district sees and changes nothing', async () => {
    const hartfordColumn = await column(hartford, 'iso');
    const newHavenColumn = await column(newHaven, 'iso');
    await desire(hartford, hartfordColumn, 0, 2);
    await desire(hartford, hartfordColumn, 1, 3);
    await desire(newHaven, newHavenColumn, 0, 1);
    const cells = await claim();
    for (const cell of cells) {
      const failed = cell.tenantId === hartford.tenantId && cell.lmsUserId === 's2';
      await recordPostOutcome(database.db, {
        cell,
        workerId: 'w',
        now: NOW,
        outcome: failed
          ? {
              result: 'failed',
              timestamp: NOW,
              code: 'not_a_student',
              message: 'not a student',
              httpStatus: 422,
            }
          : { result: 'sent', timestamp: NOW },
      });
    }
    const own = await courseSyncSummary(database.db, hartford.tenantId, hartford.courseId);
    expect(own).to.include({ sent: 1, failed: 1, pending: 0 });
    expect(own.errorsByCause).to.deep.equal([
      { code: 'not_a_student', message: 'not a student', status: 'failed', count: 1 },
    ]);
    // New Haven asking about Hartford's course: empty.
    const foreign = await courseSyncSummary(database.db, newHaven.tenantId, hartford.courseId);
    expect(foreign).to.include({ sent: 0, failed: 0, pending: 0 });
    expect(foreign.students).to.deep.equal([]);
    expect(
      await cellSyncDetail(
        database.db,
        newHaven.tenantId,
        hartfordColumn,
        hartford.userIds[0] ?? '',
      ),
    ).to.equal(undefined);
    // Controls with the wrong tenant change nothing.
    expect(
      await retryFailed(database.db, { tenantId: newHaven.tenantId, courseId: hartford.courseId }),
    ).to.equal(0);
    expect(await resyncCourse(database.db, newHaven.tenantId, hartford.courseId)).to.equal(0);
    expect(await syncCourseNow(database.db, newHaven.tenantId, hartford.courseId)).to.equal(0);
    expect(
      await recreateColumn(database.db, {
        tenantId: newHaven.tenantId,
        courseId: hartford.courseId,
        columnId: hartfordColumn,
      }),
    ).to.equal(false);
    await setCoursePaused(database.db, {
      tenantId: newHaven.tenantId,
      courseId: hartford.courseId,
      paused: true,
    });
    expect(
      (await courseSyncSummary(database.db, hartford.tenantId, hartford.courseId)).paused,
    ).to.equal(false);
    // The right tenant can.
    expect(
      await retryFailed(database.db, { tenantId: hartford.tenantId, courseId: hartford.courseId }),
    ).to.equal(1);
    expect(
      (await courseSyncSummary(database.db, hartford.tenantId, hartford.courseId)).pending,
    ).to.equal(1);
    // A column deleted in the LMS is recreated only through its own course.
    await database.db
      .updateTable('gradebook_columns')
      .set({ status: 'deleted_in_lms' })
      .where('id', '=', hartfordColumn)
      .execute();
    expect(
      await recreateColumn(database.db, {
        tenantId: hartford.tenantId,
        courseId: newHaven.courseId,
        columnId: hartfordColumn,
      }),
    ).to.equal(false);
    expect(
      await recreateColumn(database.db, {
        tenantId: hartford.tenantId,
        courseId: hartford.courseId,
        columnId: hartfordColumn,
      }),
    ).to.equal(true);
  });

  it('when a cell failed for good, then it is not claimed again until a retry or a new value', async () => {
    const columnId = await column(hartford, 'permanent');
    await desire(hartford, columnId, 0, 2);
    const [cell] = await claim();
    if (cell === undefined) throw new Error('nothing claimed');
    await recordPostOutcome(database.db, {
      cell,
      workerId: 'w',
      now: NOW,
      outcome: {
        result: 'failed',
        timestamp: NOW,
        code: 'forbidden',
        message: 'no',
        httpStatus: 403,
      },
    });
    expect(await claim()).to.have.length(0);
    await desire(hartford, columnId, 0, 3);
    expect(await claim()).to.have.length(1);
  });

  it('when the audit retention sweep runs, then lines older than the cutoff go and newer ones stay, in every district', async () => {
    // Both districts on the deployment's retention, without lines other tests left expired.
    for (const district of [hartford, newHaven]) {
      await createTenantRepository(database.db).updateSettings(district.tenantId, {
        storeEmail: false,
      });
    }
    await deleteExpiredAudit(database.db, NOW, 1);
    const columnId = await column(hartford, 'audit-retention');
    const otherColumn = await column(newHaven, 'audit-retention');
    await desire(hartford, columnId, 0, 2);
    await desire(newHaven, otherColumn, 0, 2);
    // Only this test's two cells: cells other tests left due may be claimed too, in any order.
    const cells = (await claim()).filter(
      (c) => c.columnId === columnId || c.columnId === otherColumn,
    );
    expect(cells).to.have.length(2);
    const old = new Date(NOW.getTime() - 400 * 24 * 3600_000);
    for (const [i, cell] of cells.entries()) {
      await recordPostOutcome(database.db, {
        cell,
        workerId: 'w',
        now: i === 0 ? old : NOW,
        outcome: { result: 'sent', timestamp: NOW },
      });
    }
    const before = async (district: District) =>
      courseAudit(database.db, {
        tenantId: district.tenantId,
        courseId: district.courseId,
        limit: 100,
        offset: 0,
      });
    const linesBefore = (await before(hartford)).length + (await before(newHaven)).length;
    const deleted = await deleteExpiredAudit(database.db, NOW, 1);
    expect(deleted).to.equal(1);
    const linesAfter = (await before(hartford)).length + (await before(newHaven)).length;
    expect(linesAfter).to.equal(linesBefore - 1);
    // The audit view of one district never lists the other's lines.
    const own = await database.db
      .selectFrom('passback_audit')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('tenant_id', '=', hartford.tenantId)
      .executeTakeFirstOrThrow();
    expect((await before(hartford)).length).to.equal(Number(own.n));
  });

  it('when a district keeps its audit longer, then its old lines stay while another district’s go', async () => {
    const columnId = await column(hartford, 'audit-per-district');
    const otherColumn = await column(newHaven, 'audit-per-district');
    await desire(hartford, columnId, 0, 3);
    await desire(newHaven, otherColumn, 0, 3);
    const cells = await claim();
    const old = new Date(NOW.getTime() - 400 * 24 * 3600_000);
    for (const cell of cells) {
      await recordPostOutcome(database.db, {
        cell,
        workerId: 'w',
        now: old,
        outcome: { result: 'sent', timestamp: old },
      });
    }
    await createTenantRepository(database.db).updateSettings(hartford.tenantId, {
      storeEmail: false,
      passbackAuditRetentionDays: 1000,
    });
    const oldLines = async (tenantId: string) =>
      (
        await database.db
          .selectFrom('passback_audit')
          .select('id')
          .where('tenant_id', '=', tenantId)
          .where('at', '<=', old)
          .execute()
      ).length;
    expect(await oldLines(hartford.tenantId)).to.be.greaterThan(0);
    expect(await oldLines(newHaven.tenantId)).to.be.greaterThan(0);
    await deleteExpiredAudit(database.db, NOW, 30);
    expect(await oldLines(hartford.tenantId)).to.be.greaterThan(0);
    expect(await oldLines(newHaven.tenantId)).to.equal(0);
  });

  it('when one worker holds a platform lock, then another gets none until it is released', async function () {
    if (testEngine !== 'postgres') {
      // PGlite serves one connection in one process: the lock would have nothing to exclude.
      this.skip();
    }
    let entered: () => void = () => undefined;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release: () => void = () => undefined;
    const held = withPlatformLock(database.db, 'platform-1', async () => {
      entered();
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return 'done';
    });
    await inside;
    expect(
      await withPlatformLock(database.db, 'platform-1', () => Promise.resolve('second')),
    ).to.deep.equal({
      locked: false,
    });
    // Another platform is not held up.
    expect(
      await withPlatformLock(database.db, 'platform-2', () => Promise.resolve('other')),
    ).to.deep.equal({
      locked: true,
      value: 'other',
    });
    release();
    expect(await held).to.deep.equal({ locked: true, value: 'done' });
    expect(
      await withPlatformLock(database.db, 'platform-1', () => Promise.resolve('third')),
    ).to.deep.equal({
      locked: true,
      value: 'third',
    });
  });
});
