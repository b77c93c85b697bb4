import { expect } from 'chai';
import type { Flavour } from '../../src/emulator/types.ts';
import { LMS_ERROR_KINDS, type LmsErrorKind } from '../../src/lms/errors.ts';
import type { GradebookColumn, LmsPort } from '../../src/lms/port.ts';
import { toLmsError } from '../../src/lms/translate.ts';
import { resolveLmsFromServices } from '../../src/app-services.ts';
import { createClassroomWorld, openAddOn, type ClassroomWorld } from '../http/classroom-world.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createLtiWorld, launch, type LtiWorld } from '../support/lti-world.ts';
import { workerServices } from '../support/passback-world.ts';

/**
 * One LMS port conformance suite (the lti-tool storage-conformance pattern): the same named cases
 * run against every adapter, each on its emulator over real HTTP. A new platform passes these
 * before anything else of the tool is tried on it.
 */

/** An adapter on its emulator, and what the cases need to make that LMS behave. */
interface PortUnderTest {
  readonly lms: LmsPort;
  /** LMS user ids. */
  readonly teacher: string;
  readonly students: readonly string[];
  /**
   * Makes the LMS refuse the next score post as `kind` would be said in this LMS's own terms;
   * the post goes to the column returned (a fresh one when the refusal needs its own).
   */
  refuse(kind: LmsErrorKind, column: GradebookColumn): Promise<GradebookColumn>;
  /** Undoes `refuse` (faults cleared, access given back). */
  recover(): Promise<void>;
  close(): Promise<void>;
}

/** What the LMS does, in the case titles. */
const REFUSAL: Readonly<Record<LmsErrorKind, string>> = {
  auth_revoked: 'no longer lets the tool act',
  forbidden: 'refuses the write for good',
  not_found: 'has deleted the column',
  rate_limited: 'asks the tool to slow down',
  invalid: 'rejects what the tool sent',
  unavailable: 'has a server error',
};

let labels = 0;
function newColumn(lms: LmsPort, what: string): Promise<GradebookColumn> {
  labels += 1;
  return lms.createGradebookColumn({
    label: `Conformance ${what} ${labels}`,
    scoreMaximum: 4,
    tag: `conformance-${what}-${labels}`,
    resourceId: `resource-${what}-${labels}`,
  });
}

/** Scores for one student and column must carry increasing timestamps (Canvas refuses older). */
let clock = Date.now();
function timestamp(): Date {
  clock = Math.max(clock + 1, Date.now());
  return new Date(clock);
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the LMS call to fail');
}

function portConformance(name: string, makePort: () => Promise<PortUnderTest>): void {
  describe(`LMS port conformance: ${name} (${testEngine})`, function () {
    this.timeout(60_000);
    let port: PortUnderTest;
    let shared: GradebookColumn;

    before(async () => {
      port = await makePort();
      shared = await newColumn(port.lms, 'shared');
    });

    afterEach(async () => {
      await port.recover();
    });

    after(async () => {
      await port.close();
    });

    const student = (index: number): string => {
      const id = port.students[index];
      if (id === undefined) throw new Error(`no student ${index}`);
      return id;
    };

    it('when the roster is read, then the teacher and every student come with neutral roles', async () => {
      const roster = await port.lms.roster();
      const roleOf = new Map(roster.map((member) => [member.userId, member.role]));
      expect(roleOf.get(port.teacher)).to.equal('teacher');
      for (const id of port.students) expect(roleOf.get(id), id).to.equal('student');
    });

    it('when a column is looked up by a tag nobody used, then there is none', async () => {
      expect(await port.lms.findGradebookColumn({ tag: 'conformance-never-created' })).to.equal(
        undefined,
      );
    });

    it('when a column is created, then it is found again by its tag and by its resource id', async () => {
      const created = await newColumn(port.lms, 'find');
      expect(created).to.include({ scoreMaximum: 4 });
      const byTag = await port.lms.findGradebookColumn({ tag: created.tag ?? '' });
      expect(byTag?.id).to.equal(created.id);
      const byResource = await port.lms.findGradebookColumn({
        resourceId: created.resourceId ?? '',
      });
      expect(byResource?.id).to.equal(created.id);
    });

    it('when a score is posted, then the column’s results show it on the column’s scale', async () => {
      await port.lms.postScore(shared, {
        userId: student(0),
        scoreGiven: 3,
        scoreMaximum: 4,
        timestamp: timestamp(),
      });
      const results = await port.lms.readResults(shared.id);
      const mine = results.find((result) => result.userId === student(0));
      expect(mine?.resultScore, JSON.stringify(results)).to.be.a('number');
      expect((mine?.resultScore ?? 0) / (mine?.resultMaximum ?? shared.scoreMaximum)).to.equal(
        0.75,
      );
    });

    it('when a score is posted again with another value, then the results show the new one', async () => {
      const column = await newColumn(port.lms, 'repost');
      for (const scoreGiven of [1, 2]) {
        await port.lms.postScore(column, {
          userId: student(1),
          scoreGiven,
          scoreMaximum: 4,
          timestamp: timestamp(),
        });
      }
      const results = await port.lms.readResults(column.id);
      const mine = results.find((result) => result.userId === student(1));
      expect((mine?.resultScore ?? 0) / (mine?.resultMaximum ?? column.scoreMaximum)).to.equal(0.5);
    });

    it('when a score is posted for someone who is not a student, then it fails as not a student', async () => {
      const error = await failure(
        port.lms.postScore(shared, {
          userId: port.teacher,
          scoreGiven: 2,
          scoreMaximum: 4,
          timestamp: timestamp(),
        }),
      );
      expect(toLmsError(error)?.reason, String(error)).to.equal('not_a_student');
    });

    for (const kind of LMS_ERROR_KINDS) {
      it(`when the LMS ${REFUSAL[kind]}, then a score post fails as ${kind}`, async () => {
        const column = await port.refuse(kind, shared);
        const error = await failure(
          port.lms.postScore(column, {
            userId: student(0),
            scoreGiven: 2,
            scoreMaximum: 4,
            timestamp: timestamp(),
          }),
        );
        expect(toLmsError(error)?.kind, String(error)).to.equal(kind);
      });
    }
  });
}

/** The emulator's line item id is the last path segment of the AGS line item URL. */
function lineItemIdOf(lineItemUrl: string): string {
  return new URL(lineItemUrl).pathname.split('/').at(-1) ?? '';
}

/** An LTI Advantage platform of the emulator, the port as the passback worker gets it. */
function ltiPort(flavour: Flavour): () => Promise<PortUnderTest> {
  return async () => {
    const database: TestDatabase = await createTestDatabase();
    const world: LtiWorld = await createLtiWorld(database, { flavour, platformStorage: false });
    const teacherLaunch = await launch(world, { userId: world.seed.teacher.userId });
    if (teacherLaunch.status !== 303) throw new Error(`launch answered ${teacherLaunch.status}`);
    const course = (await world.tool.services.courses.listCourses(world.tenantId))[0];
    if (course === undefined) throw new Error('the launch recorded no course');
    // No inline retries (the worker's client): one injected fault is one failed call.
    const services = workerServices(world, 2_000);
    const lms = await resolveLmsFromServices(services)(world.tenantId, course.id);
    const faults = (status: number, count: number, retryAfterSeconds?: number) => {
      world.emulator.state.injectFaults(
        {
          kind: 'status',
          status,
          ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
        },
        count,
      );
    };
    return {
      lms,
      teacher: world.seed.teacher.sub,
      students: world.seed.students.map((person) => person.sub),
      async refuse(kind, column) {
        switch (kind) {
          case 'auth_revoked':
            // The score answers 401 and so does the token endpoint when asked again.
            faults(401, 3);
            return column;
          case 'forbidden':
            faults(403, 1);
            return column;
          case 'not_found': {
            const gone = await newColumn(lms, 'deleted');
            world.emulator.state.deleteLineItem(lineItemIdOf(gone.id));
            return gone;
          }
          case 'rate_limited':
            faults(429, 1, 120);
            return column;
          case 'invalid':
            faults(400, 1);
            return column;
          case 'unavailable':
            faults(503, 1);
            return column;
        }
      },
      recover() {
        world.emulator.state.clearFaults();
        return Promise.resolve();
      },
      async close() {
        await world.close();
        await database.close();
      },
    };
  };
}

/** Google Classroom on its emulator, acting as the course's grading teacher. */
async function classroomPort(): Promise<PortUnderTest> {
  const database = await createTestDatabase();
  const world: ClassroomWorld = await createClassroomWorld(database);
  const teacherSignsIn = () =>
    openAddOn(
      world,
      world.google.discoveryFrameUrl({
        courseId: world.seed.course.id,
        itemId: world.seed.courseWork.id,
        userId: world.seed.teacher.id,
      }),
      world.seed.teacher.id,
    );
  await teacherSignsIn();
  const course = await database.db
    .selectFrom('courses')
    .select('id')
    .where('tenant_id', '=', world.tenantId)
    .executeTakeFirstOrThrow();
  const lms = await resolveLmsFromServices(world.tool.services)(world.tenantId, course.id);
  // Google's client retries 5xx and 429 inline (3 times): every try meets a fault. A Retry-After
  // over the inline cap ends the call at once.
  const faults = (status: number, retryAfterSeconds?: number) => {
    world.google.state.injectFaults(
      { kind: 'status', status, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) },
      4,
    );
  };
  let revoked = false;
  return {
    lms,
    teacher: world.seed.teacher.id,
    students: world.seed.students.map((user) => user.id),
    async refuse(kind, column) {
      switch (kind) {
        case 'auth_revoked':
          world.google.state.revokeRefreshTokens(world.seed.teacher.id);
          revoked = true;
          return column;
        case 'forbidden':
          // Coursework the teacher made in Classroom itself: another project's, never gradable
          // by the tool (@ProjectPermissionDenied). A plain 403 means "the teacher left" there.
          return {
            ...column,
            id: `coursework:${world.seed.courseWork.id}`,
          };
        case 'not_found': {
          const gone = await newColumn(lms, 'deleted');
          world.google.state.deleteCourseWork(gone.id.split(':')[1] ?? '');
          return gone;
        }
        case 'rate_limited':
          faults(429, 120);
          return column;
        case 'invalid':
          faults(400);
          return column;
        case 'unavailable':
          faults(503, 120);
          return column;
      }
    },
    async recover() {
      world.google.state.clearFaults();
      if (revoked) {
        await teacherSignsIn();
        revoked = false;
      }
    },
    async close() {
      await world.close();
      await database.close();
    },
  };
}

for (const flavour of ['canvas', 'schoology', 'moodle'] as const satisfies readonly Flavour[]) {
  portConformance(`LTI adapter on ${flavour}`, ltiPort(flavour));
}
// The emulator has no "generic" flavour: Moodle is the generic path (no vendor code).
portConformance('Classroom adapter', classroomPort);
