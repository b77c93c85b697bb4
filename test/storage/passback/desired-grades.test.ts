import { expect } from 'chai';
import {
  sql,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely';
import { resolvePolicy } from '../../../src/policy/resolve.ts';
import { standardColumnLabel, updateDesiredGrades } from '../../../src/passback/desired-grades.ts';
import { upsertColumns } from '../../../src/storage/passback/desired-grades.repository.ts';
import { PassbackStorageError } from '../../../src/storage/passback/passback.repository.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../../support/database.ts';
import { rejectionOf } from '../../support/rejection.ts';
import {
  importSampleFramework,
  seedCourse,
  seedDistrict,
  seedUsers,
} from '../../support/seed-district.ts';

/** Counts the statements a handle runs (BEGIN and COMMIT are not statements of the callee). */
function queryCounter(): KyselyPlugin & { count: number } {
  return {
    count: 0,
    transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
      this.count += 1;
      return args.node;
    },
    transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      return Promise.resolve(args.result);
    },
  };
}

const NOW = new Date('2026-11-27T08:00:00.000Z');

interface District {
  tenantId: string;
  courseId: string;
  students: { id: string; sub: string }[];
  items: { id: string; code: string; statement: string }[];
}

async function district(database: TestDatabase, slug: string): Promise<District> {
  const db = database.db;
  const { tenantId, deploymentRowId, issuer } = await seedDistrict(db, slug);
  const courseId = await seedCourse(db, {
    tenantId,
    deploymentRowId,
    contextId: 'course-a',
    title: 'Grade 6 maths',
    now: NOW,
  });
  const students = await seedUsers(db, {
    tenantId,
    issuer,
    subs: ['sub-ada', 'sub-ben', 'sub-cy'],
    now: NOW,
  });
  const items = (await importSampleFramework(db, tenantId, () => NOW))
    .filter((item) => item.code !== null)
    .slice(0, 2)
    .map((item) => ({
      id: item.id,
      code: item.code ?? '',
      statement: item.abbreviated_statement ?? item.full_statement,
    }));
  return { tenantId, courseId, students, items };
}

describe(`desired grades from mastery results (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let d: District;
  let other: District;
  let assignmentId: string;

  async function setPolicy(target: District, passback: Record<string, boolean>): Promise<void> {
    await sql`DELETE FROM mastery_policies WHERE tenant_id = ${target.tenantId}`.execute(
      database.db,
    );
    await database.db
      .insertInto('mastery_policies')
      .values({
        tenant_id: target.tenantId,
        course_id: target.courseId,
        policy: JSON.stringify({ passback }),
        updated_by: 'test',
        updated_at: NOW,
      })
      .execute();
  }

  async function result(
    target: District,
    studentId: string,
    itemId: string,
    value: number | null,
    extra: { overridden?: boolean; evidenceCount?: number } = {},
  ): Promise<void> {
    const status = value === null ? 'noEvidence' : 'mastery';
    await database.db
      .insertInto('mastery_results')
      .values({
        tenant_id: target.tenantId,
        course_id: target.courseId,
        student_id: studentId,
        item_id: itemId,
        status,
        value,
        level_id: null,
        mastered: false,
        computed_value: value,
        overridden: extra.overridden ?? false,
        evidence_count: extra.evidenceCount ?? 1,
        computed_at: NOW,
      })
      .onConflict((oc) =>
        oc
          .columns(['course_id', 'student_id', 'item_id'])
          .doUpdateSet({ value, status, computed_value: value }),
      )
      .execute();
  }

  async function evidence(studentId: string, itemId: string, score: number): Promise<void> {
    await database.db
      .insertInto('evidence')
      .values({
        tenant_id: d.tenantId,
        course_id: d.courseId,
        student_id: studentId,
        item_id: itemId,
        assignment_id: assignmentId,
        score,
        points: null,
        points_possible: null,
        assessed_at: NOW,
        due_at: null,
        graded_at: null,
        comment: null,
        source: 'teacher',
        recorded_by: 'test',
        recorded_at: NOW,
        deleted_at: null,
      })
      .execute();
  }

  async function desired(target: District) {
    return database.db
      .selectFrom('desired_grades as d')
      .innerJoin('gradebook_columns as g', 'g.id', 'd.column_id')
      .select([
        'g.kind',
        'g.key',
        'g.label',
        'g.score_maximum',
        'g.lms_column_id',
        'g.status',
        'd.lms_user_id',
        'd.value',
        'd.comment',
        'd.version',
      ])
      .where('d.tenant_id', '=', target.tenantId)
      .orderBy('g.kind')
      .orderBy('g.key')
      .orderBy('d.lms_user_id')
      .execute();
  }

  const update = (target: District, studentIds?: string[]) =>
    database.db
      .transaction()
      .execute((trx) =>
        updateDesiredGrades(
          trx,
          { tenantId: target.tenantId, courseId: target.courseId, studentIds },
          NOW,
        ),
      );

  before(async () => {
    database = await createTestDatabase();
    d = await district(database, 'district-one');
    other = await district(database, 'district-two');
    for (const target of [d, other]) {
      const assignment = await database.db
        .insertInto('course_assignments')
        .values({
          tenant_id: target.tenantId,
          course_id: target.courseId,
          title: 'Unit 1 quiz',
          description: null,
          source: 'lms_line_item',
          line_item_url: `https://${target.tenantId}.lms.example/line_items/7`,
          resource_link_id: null,
          resource_id: null,
          tag: null,
          score_maximum: 20,
          due_at: null,
          copied_from: null,
          archived_at: null,
          created_by: 'test',
          created_at: NOW,
          updated_at: NOW,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      if (target === d) assignmentId = assignment.id;
      for (const [position, item] of target.items.entries()) {
        await database.db
          .insertInto('assignment_alignments')
          .values({
            tenant_id: target.tenantId,
            course_id: target.courseId,
            assignment_id: assignment.id,
            item_id: item.id,
            weight: 1,
            points: null,
            rubric_criterion: null,
            position,
            created_by: 'test',
            created_at: NOW,
            updated_at: NOW,
          })
          .execute();
      }
    }
  });

  after(async () => {
    await database.close();
  });

  afterEach(async () => {
    for (const table of ['desired_grades', 'gradebook_columns', 'mastery_results', 'evidence']) {
      await sql`DELETE FROM ${sql.table(table)}`.execute(database.db);
    }
  });

  it('when a standard has a code and a long statement, then the column label is short and says mastery', () => {
    expect(standardColumnLabel({ itemId: 'x', code: '6.RP.A.1', statement: 'Ratios' })).to.equal(
      '6.RP.A.1 Ratios (mastery)',
    );
    const long = standardColumnLabel({
      itemId: 'x',
      code: '6.RP.A.3',
      statement: 'Use ratio and rate reasoning to solve real-world and mathematical problems',
    });
    expect(long).to.match(/^6\.RP\.A\.3 Use ratio .*… \(mastery\)$/);
    expect(long.length).to.be.at.most(60);
  });

  it('when per-standard columns are on, then each student with a level gets the value, scale maximum and a one-line comment, and a student without evidence gets nothing', async () => {
    await setPolicy(d, { standardColumns: true });
    const [ada, ben, cy] = d.students;
    const [first, second] = d.items;
    if (!ada || !ben || !cy || !first || !second) throw new Error('fixture');
    await result(d, ada.id, first.id, 3, { evidenceCount: 2 });
    await result(d, ada.id, second.id, 2.5, { overridden: true });
    await result(d, ben.id, first.id, 1);
    await result(d, cy.id, first.id, null);
    const counts = await update(d);
    expect(counts).to.deep.equal({ considered: 3, changed: 3 });
    const rows = await desired(d);
    expect(rows.map((r) => [r.key, r.lms_user_id, r.value])).to.have.deep.members([
      [first.id, 'sub-ada', 3],
      [first.id, 'sub-ben', 1],
      [second.id, 'sub-ada', 2.5],
    ]);
    const adaFirst = rows.find((r) => r.key === first.id && r.lms_user_id === 'sub-ada');
    expect(adaFirst).to.include({ kind: 'standard', score_maximum: 4 });
    expect(adaFirst?.label).to.equal(standardColumnLabel({ itemId: first.id, ...first }));
    expect(adaFirst?.comment).to.equal('Meets (3 of 4), by most recent score of your evidence.');
    expect(rows.find((r) => r.key === second.id)?.comment).to.match(/set by your teacher/);
    expect(rows.some((r) => r.lms_user_id === 'sub-cy')).to.equal(false);
  });

  it("when a student's enrollment carries the LTI TestUser role (Canvas Student View), then no grade is desired for them", async () => {
    await setPolicy(d, { standardColumns: true });
    const [ada, , cy] = d.students;
    const [first] = d.items;
    if (!ada || !cy || !first) throw new Error('fixture');
    await database.db
      .insertInto('enrollments')
      .values({
        tenant_id: d.tenantId,
        course_id: d.courseId,
        user_id: cy.id,
        roles: sql`${[
          'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner',
          'http://purl.imsglobal.org/vocab/lti/system/person#TestUser',
        ]}::text[]`,
        status: 'active',
        source: 'roster',
        updated_at: NOW,
      })
      .execute();
    try {
      await result(d, ada.id, first.id, 3);
      await result(d, cy.id, first.id, 2);
      expect(await update(d)).to.deep.equal({ considered: 1, changed: 1 });
      expect((await desired(d)).map((r) => r.lms_user_id)).to.deep.equal(['sub-ada']);
    } finally {
      await sql`DELETE FROM enrollments WHERE user_id = ${cy.id}`.execute(database.db);
    }
  });

  it('when the same results are written again, or only the evidence count changes, then no version moves; when a value changes, only that cell moves', async () => {
    await setPolicy(d, { standardColumns: true });
    const [ada, ben] = d.students;
    const [first] = d.items;
    if (!ada || !ben || !first) throw new Error('fixture');
    await result(d, ada.id, first.id, 3);
    await result(d, ben.id, first.id, 2);
    await update(d);
    expect(await update(d)).to.deep.equal({ considered: 2, changed: 0 });
    await database.db
      .updateTable('mastery_results')
      .set({ evidence_count: 5 })
      .where('student_id', '=', ada.id)
      .execute();
    expect(await update(d)).to.deep.equal({ considered: 2, changed: 0 });
    await result(d, ben.id, first.id, 4);
    expect(await update(d, [ben.id])).to.deep.equal({ considered: 1, changed: 1 });
    const rows = await desired(d);
    expect(rows.map((r) => [r.lms_user_id, Number(r.version), r.value])).to.deep.equal([
      ['sub-ada', 1, 3],
      ['sub-ben', 2, 4],
    ]);
  });

  it('when the course column is on, then the course grade is the percentage of the mean level out of 100', async () => {
    await setPolicy(d, { standardColumns: false, courseColumn: true });
    const [ada] = d.students;
    const [first, second] = d.items;
    if (!ada || !first || !second) throw new Error('fixture');
    await result(d, ada.id, first.id, 3);
    await result(d, ada.id, second.id, 3);
    await update(d);
    const rows = await desired(d);
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({ kind: 'course', score_maximum: 100, value: 85 });
    expect(rows[0]?.comment).to.contain('85%');
  });

  it("when assignment scores are on, then the mastery score lands on the assignment's own LMS column, scaled to its maximum", async () => {
    await setPolicy(d, { standardColumns: false, assignmentScores: true });
    const [ada, ben] = d.students;
    const [first, second] = d.items;
    if (!ada || !ben || !first || !second) throw new Error('fixture');
    await result(d, ada.id, first.id, 4);
    await result(d, ben.id, first.id, 3);
    await evidence(ada.id, first.id, 4);
    await evidence(ada.id, second.id, 2);
    await update(d);
    const rows = await desired(d);
    // Ada: levels 4 and 2 average 3 → 85% of 20 = 17. Ben has no evidence on the assignment.
    expect(rows).to.have.length(1);
    expect(rows[0]).to.include({
      kind: 'assignment',
      key: assignmentId,
      lms_column_id: `https://${d.tenantId}.lms.example/line_items/7`,
      status: 'ready',
      score_maximum: 20,
      lms_user_id: 'sub-ada',
      value: 17,
    });
  });

  it('when passback is off for every mode, then nothing is desired', async () => {
    await setPolicy(d, { standardColumns: false });
    const [ada] = d.students;
    const [first] = d.items;
    if (!ada || !first) throw new Error('fixture');
    await result(d, ada.id, first.id, 3);
    expect(await update(d)).to.deep.equal({ considered: 0, changed: 0 });
    expect(await desired(d)).to.have.length(0);
  });

  it("when one district's course is updated, then another district's results and grades are untouched", async () => {
    await setPolicy(d, { standardColumns: true });
    await setPolicy(other, { standardColumns: true });
    const [theirs] = other.students;
    const [theirItem] = other.items;
    if (!theirs || !theirItem) throw new Error('fixture');
    await result(other, theirs.id, theirItem.id, 2);
    expect(await update(d)).to.deep.equal({ considered: 0, changed: 0 });
    expect(await desired(other)).to.have.length(0);
    // Asking for the other district's student through this district finds nothing either.
    expect(await update(d, [theirs.id])).to.deep.equal({ considered: 0, changed: 0 });
    await update(other);
    expect(await desired(other)).to.have.length(1);
    expect(await desired(d)).to.have.length(0);
  });
  it("when a student's result disappears or loses its level, then the grade already desired stays as it was and the others still move", async () => {
    await setPolicy(d, { standardColumns: true });
    const [ada, ben] = d.students;
    const [first] = d.items;
    if (!ada || !ben || !first) throw new Error('fixture');
    await result(d, ada.id, first.id, 3);
    await result(d, ben.id, first.id, 2);
    await update(d);
    await sql`DELETE FROM mastery_results WHERE student_id = ${ada.id}`.execute(database.db);
    await result(d, ben.id, first.id, null);
    expect(await update(d, [ada.id, ben.id])).to.deep.equal({ considered: 0, changed: 0 });
    await result(d, ben.id, first.id, 4);
    expect(await update(d, [ada.id, ben.id])).to.deep.equal({ considered: 1, changed: 1 });
    const rows = await desired(d);
    expect(rows.map((r) => [r.lms_user_id, Number(r.version), r.value])).to.deep.equal([
      ['sub-ada', 1, 3],
      ['sub-ben', 2, 4],
    ]);
  });

  it('when a column exists and its label or line item changed, then the same column is updated in place, and a column deleted in the LMS keeps its dead line item', async () => {
    await setPolicy(d, { standardColumns: true, assignmentScores: true });
    const [ada] = d.students;
    const [first] = d.items;
    if (!ada || !first) throw new Error('fixture');
    await result(d, ada.id, first.id, 4);
    await evidence(ada.id, first.id, 4);
    await update(d);
    const before = await database.db
      .selectFrom('gradebook_columns')
      .select(['id', 'kind'])
      .where('course_id', '=', d.courseId)
      .orderBy('kind')
      .execute();
    expect(before.map((c) => c.kind)).to.deep.equal(['assignment', 'standard']);
    await database.db
      .updateTable('gradebook_columns')
      .set({ label: 'Old label', score_maximum: 3 })
      .where('course_id', '=', d.courseId)
      .execute();
    await database.db
      .updateTable('course_assignments')
      .set({ line_item_url: 'https://lms.example/line_items/moved' })
      .where('id', '=', assignmentId)
      .execute();
    // Nothing about the grades changed: no cell moves, but the columns are brought up to date.
    expect(await update(d)).to.deep.equal({ considered: 2, changed: 0 });
    const after = await database.db
      .selectFrom('gradebook_columns')
      .select(['id', 'kind', 'label', 'score_maximum', 'lms_column_id'])
      .where('course_id', '=', d.courseId)
      .orderBy('kind')
      .execute();
    expect(after.map((c) => c.id)).to.deep.equal(before.map((c) => c.id));
    expect(after[0]).to.include({
      label: 'Unit 1 quiz',
      score_maximum: 20,
      lms_column_id: 'https://lms.example/line_items/moved',
    });
    // A standard column keeps its maximum (the worker sets it on the LMS line item it creates).
    expect(after[1]).to.include({
      label: standardColumnLabel({ itemId: first.id, ...first }),
      score_maximum: 3,
    });
    await database.db
      .updateTable('gradebook_columns')
      .set({ status: 'deleted_in_lms' })
      .where('kind', '=', 'assignment')
      .execute();
    await database.db
      .updateTable('course_assignments')
      .set({ line_item_url: `https://${d.tenantId}.lms.example/line_items/7` })
      .where('id', '=', assignmentId)
      .execute();
    await update(d);
    const deleted = await database.db
      .selectFrom('gradebook_columns')
      .select(['lms_column_id', 'status'])
      .where('kind', '=', 'assignment')
      .executeTakeFirstOrThrow();
    expect(deleted).to.deep.equal({
      lms_column_id: 'https://lms.example/line_items/moved',
      status: 'deleted_in_lms',
    });
  });

  it('when every mode is on, then the statements run do not grow with the number of students, and a second call creates no column', async () => {
    await setPolicy(d, { standardColumns: true, courseColumn: true, assignmentScores: true });
    const [first, second] = d.items;
    if (!first || !second) throw new Error('fixture');
    for (const [i, student] of d.students.entries()) {
      await result(d, student.id, first.id, 1 + i);
      await result(d, student.id, second.id, 2);
      await evidence(student.id, first.id, 1 + i);
    }
    const run = async (studentIds: string[]) => {
      const counter = queryCounter();
      const counts = await database.db
        .withPlugin(counter)
        .transaction()
        .execute((trx) =>
          updateDesiredGrades(trx, { tenantId: d.tenantId, courseId: d.courseId, studentIds }, NOW),
        );
      return { ...counts, statements: counter.count };
    };
    const ids = d.students.map((s) => s.id);
    // Policy, results, standards and columns; assignments and evidence; (new columns); grades.
    expect(await run(ids)).to.deep.equal({ considered: 12, changed: 12, statements: 4 });
    expect(await run(ids)).to.deep.equal({ considered: 12, changed: 0, statements: 3 });
    expect(await run(ids.slice(0, 1))).to.deep.equal({ considered: 4, changed: 0, statements: 3 });
    const rows = await desired(d);
    expect(rows.filter((r) => r.kind === 'course').map((r) => r.lms_user_id)).to.have.members([
      'sub-ada',
      'sub-ben',
      'sub-cy',
    ]);
    expect(rows.filter((r) => r.kind === 'assignment')).to.have.length(3);
  });

  it('when the caller passes the policy it already loaded, then that policy decides over the stored one', async () => {
    await setPolicy(d, { standardColumns: true });
    const [ada] = d.students;
    const [first] = d.items;
    if (!ada || !first) throw new Error('fixture');
    await result(d, ada.id, first.id, 3);
    const counter = queryCounter();
    const off = resolvePolicy({ passback: { standardColumns: false } });
    const counts = await database.db
      .withPlugin(counter)
      .transaction()
      .execute((trx) =>
        updateDesiredGrades(
          trx,
          { tenantId: d.tenantId, courseId: d.courseId, studentIds: [ada.id], policy: off },
          NOW,
        ),
      );
    expect(counts).to.deep.equal({ considered: 0, changed: 0 });
    expect(counter.count).to.equal(1);
    expect(await desired(d)).to.have.length(0);
  });
  it("when columns are asked for in another district's course, then nothing is created and the call fails with course_not_in_tenant", async () => {
    const error = await rejectionOf(
      database.db.transaction().execute((trx) =>
        upsertColumns(trx, {
          tenantId: d.tenantId,
          courseId: other.courseId,
          columns: [{ kind: 'course', key: 'course', label: 'Course mastery', scoreMaximum: 100 }],
          now: NOW,
        }),
      ),
    );
    expect(error).to.be.instanceOf(PassbackStorageError);
    expect((error as PassbackStorageError).code).to.equal('course_not_in_tenant');
    const columns = await database.db.selectFrom('gradebook_columns').select('id').execute();
    expect(columns).to.have.length(0);
  });
});
