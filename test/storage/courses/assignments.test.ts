import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createAssignmentUseCases } from '../../../src/alignment/assignments.ts';
import { AlignmentError } from '../../../src/alignment/errors.ts';
import { createDiscovery } from '../../../src/alignment/discovery.ts';
import type { AreaDeps } from '../../../src/area-deps.ts';
import { createCourseAssignmentRepository } from '../../../src/storage/courses/assignments.repository.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../../support/database.ts';
import { rejectionOf } from '../../support/rejection.ts';
import { importSampleFramework, seedCourse, seedDistrict } from '../../support/seed-district.ts';

/** A district with one platform, one deployment, two courses and the sample framework. */
async function district(database: TestDatabase, slug: string) {
  const db = database.db;
  const { tenantId, deploymentRowId } = await seedDistrict(db, slug);
  const courses: string[] = [];
  for (const contextId of ['course-a', 'course-b']) {
    courses.push(
      await seedCourse(db, {
        tenantId,
        deploymentRowId,
        contextId,
        title: contextId,
        now: new Date(),
      }),
    );
  }
  const items = await importSampleFramework(db, tenantId, () => new Date());
  return {
    tenantId,
    courseA: courses[0]!,
    courseB: courses[1]!,
    itemIds: items.filter((i) => i.code !== null).map((i) => i.id),
  };
}

describe(`course assignments and alignments storage (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let one: Awaited<ReturnType<typeof district>>;
  let other: Awaited<ReturnType<typeof district>>;
  const now = () => new Date();
  /** An assignment a teacher made in district one's first course, with no description or maximum. */
  const teacherAssignment = (cases: ReturnType<typeof createAssignmentUseCases>, title: string) =>
    cases.createTeacherAssignment({
      tenantId: one.tenantId,
      courseId: one.courseA,
      title,
      description: undefined,
      scoreMaximum: undefined,
      actor: 'user-1',
    });
  const discoveryOf = () => createDiscovery({ db: database.db, now } as unknown as AreaDeps);

  before(async () => {
    database = await createTestDatabase();
    one = await district(database, 'district-one');
    other = await district(database, 'district-two');
  });

  after(async () => {
    await database.close();
  });

  it('when a teacher creates an assignment and tags two standards, then the course lists both alignments in order', async () => {
    const cases = createAssignmentUseCases(database.db, now);
    const assignment = await cases.createTeacherAssignment({
      tenantId: one.tenantId,
      courseId: one.courseA,
      title: 'Unit 3 performance task',
      description: 'Ratios and rates',
      scoreMaximum: 20,
      actor: 'user-1',
    });
    const [first, second] = one.itemIds;
    await cases.setAlignments(
      one.tenantId,
      one.courseA,
      assignment.id,
      [
        { itemId: second!, weight: 2, points: 12, rubricCriterion: 'Reasoning' },
        { itemId: first!, weight: 1, points: undefined, rubricCriterion: undefined },
      ],
      'user-1',
    );
    // Other tests may have tagged assignments in the same course: this assignment's, in order.
    const alignments = (await cases.alignmentsForCourse(one.tenantId, one.courseA)).filter(
      (a) => a.assignmentId === assignment.id,
    );
    expect(alignments).to.deep.equal([
      {
        assignmentId: assignment.id,
        itemId: second,
        weight: 2,
        points: 12,
        rubricCriterion: 'Reasoning',
      },
      {
        assignmentId: assignment.id,
        itemId: first,
        weight: 1,
        points: undefined,
        rubricCriterion: undefined,
      },
    ]);
    // Another course of the same district sees none of them.
    expect(
      (await cases.alignmentsForCourse(one.tenantId, one.courseB)).filter(
        (a) => a.assignmentId === assignment.id,
      ),
    ).to.deep.equal([]);
  });

  it('when an assignment id of another course or district is used, then it is not found and nothing changes', async () => {
    const cases = createAssignmentUseCases(database.db, now);
    const assignment = await teacherAssignment(cases, 'Quiz');
    expect(await cases.getAssignment(one.tenantId, one.courseB, assignment.id)).to.equal(undefined);
    expect(await cases.getAssignment(other.tenantId, other.courseA, assignment.id)).to.equal(
      undefined,
    );
    expect(await cases.getAssignment(one.tenantId, one.courseA, 'not-a-uuid')).to.equal(undefined);
    const error = await rejectionOf(
      cases.addAlignment(one.tenantId, one.courseB, assignment.id, one.itemIds[0]!, 'x'),
    );
    expect(error).to.be.instanceOf(AlignmentError);
    expect((error as AlignmentError).code).to.equal('assignment_not_found');
    expect(await cases.alignmentsOf(one.tenantId, one.courseA, assignment.id)).to.deep.equal([]);
  });

  it('when a standard of another district or an archived one is added, then it is refused and nothing is saved', async () => {
    const cases = createAssignmentUseCases(database.db, now);
    const assignment = await teacherAssignment(cases, 'Exit ticket');
    const foreign = other.itemIds[0]!;
    for (const attempt of [
      () => cases.addAlignment(one.tenantId, one.courseA, assignment.id, foreign, 'x'),
      () =>
        cases.setAlignments(
          one.tenantId,
          one.courseA,
          assignment.id,
          [{ itemId: foreign, weight: 1, points: undefined, rubricCriterion: undefined }],
          'x',
        ),
    ]) {
      const error = await rejectionOf(attempt());
      expect((error as AlignmentError).code).to.equal('standard_unavailable');
    }
    const archived = one.itemIds[5]!;
    await database.db
      .updateTable('standard_items')
      .set({ archived_at: new Date() })
      .where('id', '=', archived)
      .execute();
    const error = await rejectionOf(
      cases.addAlignment(one.tenantId, one.courseA, assignment.id, archived, 'x'),
    );
    expect((error as AlignmentError).code).to.equal('standard_unavailable');
    expect(await cases.alignmentsOf(one.tenantId, one.courseA, assignment.id)).to.deep.equal([]);
    await database.db
      .updateTable('standard_items')
      .set({ archived_at: null })
      .where('id', '=', archived)
      .execute();
  });

  it('when weights, points or the list are invalid, then each field says what is wrong and nothing is saved', async () => {
    const cases = createAssignmentUseCases(database.db, now);
    const assignment = await teacherAssignment(cases, 'Test');
    const id = one.itemIds[0]!;
    const error = await rejectionOf(
      cases.setAlignments(
        one.tenantId,
        one.courseA,
        assignment.id,
        [
          { itemId: id, weight: 0, points: -1, rubricCriterion: 'x'.repeat(501) },
          { itemId: id, weight: 1, points: undefined, rubricCriterion: undefined },
        ],
        'x',
      ),
    );
    expect(error).to.be.instanceOf(AlignmentError);
    const fields = (error as AlignmentError).fields;
    expect(fields).to.include.keys(`weight_${id}`, `points_${id}`, `rubric_${id}`, 'form');
    expect(await cases.alignmentsOf(one.tenantId, one.courseA, assignment.id)).to.deep.equal([]);
  });

  it('when a launched link names an assignment of another course by its resource link history, then the course gets a copy with the same alignments', async () => {
    const cases = createAssignmentUseCases(database.db, now);
    const repository = createCourseAssignmentRepository(database.db, now);
    const original = await repository.create({
      tenantId: one.tenantId,
      courseId: one.courseA,
      title: 'Ratios lab',
      source: 'deep_link',
      resourceLinkId: 'link-in-a',
      createdBy: 'user-1',
    });
    await cases.setAlignments(
      one.tenantId,
      one.courseA,
      original.id,
      [
        { itemId: one.itemIds[2]!, weight: 3, points: 5, rubricCriterion: 'Model' },
        { itemId: one.itemIds[3]!, weight: 1, points: undefined, rubricCriterion: undefined },
      ],
      'user-1',
    );
    const discovery = discoveryOf();
    const copy = await discovery.recordResourceLink({
      tenantId: one.tenantId,
      courseId: one.courseB,
      resourceLinkId: 'link-in-b',
      history: ['link-in-a'],
      actor: 'user-2',
    });
    expect(copy?.copiedFrom).to.equal(original.id);
    expect(copy?.resourceLinkId).to.equal('link-in-b');
    const copied = await cases.alignmentsOf(one.tenantId, one.courseB, copy!.id);
    expect(copied.map((a) => [a.itemId, a.weight, a.points, a.rubricCriterion])).to.deep.equal([
      [one.itemIds[2], 3, 5, 'Model'],
      [one.itemIds[3], 1, undefined, undefined],
    ]);
    // A second launch of the same link finds the copy; no duplicate.
    const again = await discovery.recordResourceLink({
      tenantId: one.tenantId,
      courseId: one.courseB,
      resourceLinkId: 'link-in-b',
      history: ['link-in-a'],
      actor: 'user-2',
    });
    expect(again?.id).to.equal(copy!.id);
    // Another district's course with the same history finds nothing of district one.
    const foreign = await discovery.recordResourceLink({
      tenantId: other.tenantId,
      courseId: other.courseB,
      resourceLinkId: 'link-in-b',
      history: ['link-in-a'],
      actor: 'user-3',
    });
    expect(foreign).to.equal(undefined);
  });

  it('when a launched link carries its own assignment id, then the resource link is recorded on it', async () => {
    const cases = createAssignmentUseCases(database.db, now);
    const assignment = await cases.createDeepLinkAssignment({
      tenantId: one.tenantId,
      courseId: one.courseA,
      id: randomUUID(),
      title: 'Deep linked',
      scoreMaximum: 4,
      tag: 'mastery-pathways',
      withColumn: true,
      itemIds: [one.itemIds[0]!],
      actor: 'user-1',
    });
    expect(assignment.resourceId).to.equal(`mp-assignment:${assignment.id}`);
    const discovery = discoveryOf();
    const linked = await discovery.recordResourceLink({
      tenantId: one.tenantId,
      courseId: one.courseA,
      resourceLinkId: 'dl-link-1',
      assignmentId: assignment.id,
      actor: 'user-1',
    });
    expect(linked?.id).to.equal(assignment.id);
    expect(linked?.resourceLinkId).to.equal('dl-link-1');
  });

  it('when a launch names an assignment of another course without that link in its history, then nothing is copied', async () => {
    const cases = createAssignmentUseCases(database.db, now);
    const secret = await teacherAssignment(cases, 'Another teacher’s unit test');
    const discovery = discoveryOf();
    const taken = await discovery.recordResourceLink({
      tenantId: one.tenantId,
      courseId: one.courseB,
      resourceLinkId: 'edited-custom-parameter',
      assignmentId: secret.id,
      actor: 'user-2',
    });
    expect(taken).to.equal(undefined);
    const inB = await cases.listAssignments(one.tenantId, one.courseB);
    expect(inB.map((a) => a.title)).not.to.include('Another teacher’s unit test');
  });
});
