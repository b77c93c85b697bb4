import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { recordPerson } from '../support/passback-world.ts';
import type { Flavour } from '../../src/emulator/types.ts';
import { createLogger } from '../../src/logger.ts';
import { updateDesiredGrades } from '../../src/passback/desired-grades.ts';
import { resolveLmsFromServices } from '../../src/app-services.ts';
import { createPassbackWorker } from '../../src/passback/worker.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createLtiWorld, launch, type LtiWorld } from '../support/lti-world.ts';
import { importSample } from './alignment-support.ts';

/**
 * From mastery results to the emulator's gradebook, in every passback mode: a column per aligned
 * standard, the course column, and the assignment's own LMS column.
 */
for (const flavour of ['canvas', 'schoology'] as const satisfies readonly Flavour[]) {
  describe(`passback modes from mastery results to ${flavour} (${testEngine})`, function () {
    this.timeout(60_000);
    let database: TestDatabase;
    let world: LtiWorld;
    let courseId: string;
    let items: { id: string; code: string; statement: string }[];
    let assignmentLineItemId: string;
    let assignmentId: string;
    const student = () => world.seed.students[0]!;
    let studentId: string;

    before(async () => {
      database = await createTestDatabase();
      world = await createLtiWorld(database, { flavour, platformStorage: false });
      const teacher = await launch(world, { userId: world.seed.teacher.userId });
      expect(teacher.status, teacher.body).to.equal(303);
      const course = (await world.tool.services.courses.listCourses(world.tenantId))[0];
      if (course === undefined) throw new Error('no course');
      courseId = course.id;
      items = (await importSample(database, world.tenantId)).items.slice(0, 2);
      const person = student();
      const user = await recordPerson(world, person);
      studentId = user.id;
      // The teacher's own assignment in the LMS, with its own gradebook column.
      const item = world.emulator.state.createLineItem({
        courseId: world.seed.course.courseId,
        clientId: world.clientId,
        label: 'Unit 1 quiz',
        scoreMaximum: 20,
      });
      assignmentLineItemId = item.lineItemId;
      const now = new Date();
      assignmentId = (
        await database.db
          .insertInto('course_assignments')
          .values({
            tenant_id: world.tenantId,
            course_id: courseId,
            title: 'Unit 1 quiz',
            description: null,
            source: 'lms_line_item',
            line_item_url: world.emulator.urls.lineItem(
              world.seed.course.courseId,
              item.lineItemId,
            ),
            resource_link_id: null,
            resource_id: null,
            tag: null,
            score_maximum: 20,
            due_at: null,
            copied_from: null,
            archived_at: null,
            created_by: 'test',
            created_at: now,
            updated_at: now,
          })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
      for (const [position, standard] of items.entries()) {
        await database.db
          .insertInto('assignment_alignments')
          .values({
            tenant_id: world.tenantId,
            course_id: courseId,
            assignment_id: assignmentId,
            item_id: standard.id,
            weight: 1,
            points: null,
            rubric_criterion: null,
            position,
            created_by: 'test',
            created_at: now,
            updated_at: now,
          })
          .execute();
        const score = position === 0 ? 4 : 2;
        await database.db
          .insertInto('evidence')
          .values({
            tenant_id: world.tenantId,
            course_id: courseId,
            student_id: studentId,
            item_id: standard.id,
            assignment_id: assignmentId,
            score,
            points: null,
            points_possible: null,
            assessed_at: now,
            due_at: null,
            graded_at: null,
            comment: null,
            source: 'lms',
            recorded_by: 'test',
            recorded_at: now,
            deleted_at: null,
          })
          .execute();
        await database.db
          .insertInto('mastery_results')
          .values({
            tenant_id: world.tenantId,
            course_id: courseId,
            student_id: studentId,
            item_id: standard.id,
            status: 'mastery',
            value: score,
            level_id: null,
            mastered: score >= 3,
            computed_value: score,
            overridden: false,
            evidence_count: 1,
            computed_at: now,
          })
          .execute();
      }
      await database.db
        .insertInto('mastery_policies')
        .values({
          tenant_id: world.tenantId,
          course_id: null,
          policy: JSON.stringify({
            passback: { standardColumns: true, courseColumn: true, assignmentScores: true },
          }),
          updated_by: 'test',
          updated_at: now,
        })
        .execute();
    });

    after(async () => {
      await world.close();
      await database.close();
    });

    const worker = () =>
      createPassbackWorker({
        db: database.db,
        resolveLms: resolveLmsFromServices(world.tool.services),
        now: () => new Date(),
        sleep: (ms) => sleep(ms),
        logger: createLogger({ level: 'silent' }),
        limits: { requestsPerSecond: 1000, burst: 50 },
      });

    it('when every mode is on, then standards, the course grade and the assignment score land in the gradebook, each column created once', async () => {
      await database.db
        .transaction()
        .execute((trx) =>
          updateDesiredGrades(trx, { tenantId: world.tenantId, courseId }, new Date()),
        );
      const result = await worker().drain();
      expect(result).to.include({ sent: 4, failed: 0, retrying: 0 });

      const lineItems = world.emulator.state.lineItemsOf(world.seed.course.courseId);
      const toolItems = lineItems.filter((li) => li.tag === 'mastery-pathways');
      // Two standards and the course: the assignment's column is the LMS's own, not a new one.
      expect(toolItems).to.have.length(3);
      expect(lineItems).to.have.length(4);
      const cellOf = (lineItemId: string) =>
        world.emulator.state.findCell(lineItemId, student().sub);
      for (const [position, standard] of items.entries()) {
        const li = toolItems.find((x) => x.resourceId === `mp:standard:${standard.id}`);
        expect(li?.scoreMaximum).to.equal(4);
        expect(li?.label.startsWith(`${standard.code} `)).to.equal(true);
        expect(li?.label.startsWith(`${standard.code} `)).to.equal(true);
        expect(li?.label).to.match(/\(mastery\)$/);
        const posted = cellOf(li?.lineItemId ?? '');
        expect(posted?.lastScore?.scoreGiven).to.equal(position === 0 ? 4 : 2);
        expect(posted?.lastScore?.comment).to.be.a('string').and.not.equal('');
      }
      const courseItem = toolItems.find((li) => li.resourceId === 'mp:course:course');
      expect(courseItem?.scoreMaximum).to.equal(100);
      // Levels 4 and 2 average 3 → 85 %.
      expect(cellOf(courseItem?.lineItemId ?? '')?.lastScore?.scoreGiven).to.equal(85);
      const assignmentCell = cellOf(assignmentLineItemId);
      expect(assignmentCell?.lastScore?.scoreGiven).to.equal(17);
      expect(assignmentCell?.lastScore?.scoreMaximum).to.equal(20);

      // Recomputing with nothing changed posts nothing.
      await database.db
        .transaction()
        .execute((trx) =>
          updateDesiredGrades(trx, { tenantId: world.tenantId, courseId }, new Date()),
        );
      expect((await worker().drain()).claimed).to.equal(0);
      expect(assignmentCell?.postCount).to.equal(1);
    });
  });
}
