import { expect } from 'chai';
import type { Person } from '../../src/emulator/types.ts';
import { escapeXml } from '../../src/mastery-views/escape.ts';
import { RECALCULATING } from '../../src/mastery-views/explanation.ts';
import { createPolicyRepository } from '../../src/storage/mastery/policy.repository.ts';
import { createMasteryViewsRepository } from '../../src/storage/mastery/views.repository.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createLtiWorld, launch, type LtiWorld } from '../support/lti-world.ts';
import {
  LEARNER_ROLE,
  seedAssignment,
  seedStandards,
  type SeededStandards,
} from './mastery-views-seed.ts';

describe(`mastery pages (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let world: LtiWorld;
  let courseId: string;
  let teacherBase: string;
  let standards: SeededStandards;
  /** LMS person → tool user id. */
  const userIds = new Map<string, string>();
  let ava: Person;
  let ben: Person;
  let chloe: Person;
  let quiz1: string;
  let quiz2: string;
  let project: string;

  async function baseFor(person: Person): Promise<string> {
    const outcome = await launch(world, { userId: person.userId });
    expect(outcome.status, outcome.body).to.equal(303);
    return (outcome.location ?? '').replace(/\/course$/, '');
  }

  async function get(path: string) {
    const res = await fetch(new URL(path, world.tool.origin), { redirect: 'manual' });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  const idOf = (person: Person): string => {
    const id = userIds.get(person.userId);
    if (id === undefined) throw new Error(`no user for ${person.name}`);
    return id;
  };

  before(async () => {
    database = await createTestDatabase();
    world = await createLtiWorld(database, { flavour: 'canvas', platformStorage: false });
    const { services } = world.tool;
    teacherBase = await baseFor(world.seed.teacher);
    const course = (await services.courses.listCourses(world.tenantId))[0];
    if (course === undefined) throw new Error('the launch recorded no course');
    courseId = course.id;
    const [first, second, third] = world.seed.students;
    if (first === undefined || second === undefined || third === undefined) throw new Error('seed');
    [ava, ben, chloe] = [first, second, third];
    // The roster as the LMS shares it, plus a student whose name is a spreadsheet formula.
    await services.courses.syncRoster({
      tenantId: world.tenantId,
      courseId,
      issuer: world.emulator.issuer,
      storeEmail: false,
      members: [
        ...world.seed.students.map((s) => ({
          userId: s.sub,
          name: s.name,
          givenName: s.givenName,
          familyName: s.familyName,
          email: undefined,
          sourcedId: undefined,
          roles: [LEARNER_ROLE],
          status: 'Active' as const,
        })),
        {
          userId: 'formula-student',
          name: '=HYPERLINK("http://evil.example","x")',
          givenName: undefined,
          familyName: 'Zz',
          email: undefined,
          sourcedId: undefined,
          roles: [LEARNER_ROLE],
          status: 'Active' as const,
        },
      ],
    });
    for (const person of world.seed.students) {
      const user = await services.people.findUser(
        world.tenantId,
        world.emulator.issuer,
        person.sub,
      );
      if (user === undefined) throw new Error('roster sync missed a student');
      userIds.set(person.userId, user.id);
    }
    standards = await seedStandards(database.db, world.tenantId, [
      {
        code: 'NBT',
        statement: 'Number and operations in base ten',
        children: [
          { code: 'NBT.1', statement: 'Place value <b>understanding</b>' },
          { code: 'NBT.2', statement: 'Multi-digit arithmetic' },
        ],
      },
      { code: 'G', statement: 'Geometry', children: [{ code: 'G.1', statement: 'Shapes' }] },
    ]);
    const [nbt1, nbt2, g1] = standards.leaves;
    if (nbt1 === undefined || nbt2 === undefined || g1 === undefined) throw new Error('seed');
    quiz1 = await seedAssignment(database.db, {
      tenantId: world.tenantId,
      courseId,
      title: 'Quiz 1',
      itemIds: [nbt1.id, nbt2.id],
    });
    quiz2 = await seedAssignment(database.db, {
      tenantId: world.tenantId,
      courseId,
      title: 'Quiz 2 <script>',
      itemIds: [nbt1.id],
    });
    project = await seedAssignment(database.db, {
      tenantId: world.tenantId,
      courseId,
      title: 'Shapes project',
      itemIds: [g1.id],
    });
    const day = (n: number) => new Date(Date.UTC(2026, 10, n));
    const result = await services.mastery.recordEvidence({
      tenantId: world.tenantId,
      courseId,
      actor: 'teacher-test',
      source: 'teacher',
      entries: [
        // Ava: NBT.1 from 2 to 4 (mastered), NBT.2 1, G.1 3.
        {
          studentId: idOf(ava),
          itemId: nbt1.id,
          assignmentId: quiz1,
          score: 2,
          assessedAt: day(2),
        },
        {
          studentId: idOf(ava),
          itemId: nbt1.id,
          assignmentId: quiz2,
          score: 4,
          assessedAt: day(9),
          comment: 'Great work',
        },
        {
          studentId: idOf(ava),
          itemId: nbt2.id,
          assignmentId: quiz1,
          score: 1,
          assessedAt: day(2),
        },
        {
          studentId: idOf(ava),
          itemId: g1.id,
          assignmentId: project,
          score: 3,
          assessedAt: day(5),
        },
        // Ben: NBT.1 2 on both quizzes (no aligned assignment left: re-assessment), G.1 4.
        {
          studentId: idOf(ben),
          itemId: nbt1.id,
          assignmentId: quiz1,
          score: 2,
          assessedAt: day(2),
        },
        {
          studentId: idOf(ben),
          itemId: nbt1.id,
          assignmentId: quiz2,
          score: 2,
          assessedAt: day(9),
        },
        {
          studentId: idOf(ben),
          itemId: g1.id,
          assignmentId: project,
          score: 4,
          assessedAt: day(5),
        },
        // Chloe: excused on NBT.1.
        {
          studentId: idOf(chloe),
          itemId: nbt1.id,
          assignmentId: quiz1,
          score: 3,
          excused: true,
          assessedAt: day(2),
        },
      ],
    });
    expect(result.saved).to.equal(8);
  });

  after(async () => {
    await world.close();
    await database.close();
  });

  describe('the class heatmap', () => {
    it('when a teacher opens it, then each cell shows the level abbreviation and value in an accessible table', async () => {
      const page = await get(`${teacherBase}/course/mastery`);
      expect(page.status).to.equal(200);
      expect(page.text).to.include('<caption id="heatmap-caption">');
      expect(page.text).to.include('<th scope="row"><a href=');
      expect(page.text).to.match(/<th scope="col" aria-sort="ascending"><a [^>]*>Student/);
      // Ava's NBT.1 (most recent 4): Exceeds, "E 4"; her NBT.2: Beginning 1.
      expect(page.text).to.match(
        /<abbr title="Exceeds">E<\/abbr> <span class="cell-value">4<\/span>/,
      );
      expect(page.text).to.match(
        /<abbr title="Beginning">B<\/abbr> <span class="cell-value">1<\/span>/,
      );
      // A student without evidence: the "no evidence" cell, with words for screen readers.
      expect(page.text).to.include('No evidence yet');
      // The legend names every level and the two non-levels.
      for (const label of ['Exceeds', 'Meets', 'Approaching', 'Beginning', 'Not enough evidence']) {
        expect(page.text).to.include(label);
      }
      // Statements are escaped.
      expect(page.text).to.include('Place value &lt;b&gt;understanding&lt;/b&gt;');
      expect(page.text).to.include('/course/mastery/levels.css');
    });

    it('when sorted by a standard, descending, then the highest level comes first and students without one last', async () => {
      const nbt1 = standards.leaves[0]?.id ?? '';
      const page = await get(`${teacherBase}/course/mastery?sort=${nbt1}&dir=desc`);
      expect(page.status).to.equal(200);
      const order = [...page.text.matchAll(/<th scope="row"><a href="[^"]+">([^<]+)<\/a>/g)].map(
        (m) => m[1],
      );
      expect(order[0]).to.equal(ava.name);
      expect(order[1]).to.equal(ben.name);
      expect(order.indexOf(chloe.name)).to.be.greaterThan(1);
      expect(page.text).to.match(/aria-sort="descending"><a [^>]*>NBT\.1/);
      const ascending = await get(`${teacherBase}/course/mastery?sort=${nbt1}&dir=asc`);
      const ascOrder = [
        ...ascending.text.matchAll(/<th scope="row"><a href="[^"]+">([^<]+)<\/a>/g),
      ].map((m) => m[1]);
      expect(ascOrder.slice(0, 2)).to.deep.equal([ben.name, ava.name]);
    });

    it('when sorted by name descending, then the class list is reversed', async () => {
      const asc = await get(`${teacherBase}/course/mastery`);
      const desc = await get(`${teacherBase}/course/mastery?sort=name&dir=desc`);
      const names = (html: string) =>
        [...html.matchAll(/<th scope="row"><a href="[^"]+">([^<]+)<\/a>/g)].map((m) => m[1]);
      expect(names(desc.text)).to.deep.equal([...names(asc.text)].reverse());
    });

    it('when filtered by a domain, then only that domain’s standards are columns', async () => {
      const geometry = standards.domains[1]?.domain.id ?? '';
      const page = await get(`${teacherBase}/course/mastery?domain=${geometry}`);
      expect(page.status).to.equal(200);
      expect(page.text).to.match(/>G\.1<span/);
      expect(page.text).not.to.match(/>NBT\.1<span/);
      expect(page.text).to.include(`<option value="${geometry}" selected>`);
    });

    it('when the sort or domain names something unknown, then the page falls back to all standards by name', async () => {
      const page = await get(
        `${teacherBase}/course/mastery?sort=nope&domain=also-nope&dir=sideways`,
      );
      expect(page.status).to.equal(200);
      expect(page.text).to.include('Sorted by student name, A to Z.');
      expect(page.text).to.match(/>NBT\.1<span/);
    });

    it('when downloaded as CSV, then formula-like cells are quoted and levels and values are separate columns', async () => {
      const csv = await get(`${teacherBase}/course/mastery.csv`);
      expect(csv.status).to.equal(200);
      expect(csv.headers.get('content-type')).to.match(/^text\/csv/);
      expect(csv.headers.get('content-disposition')).to.match(/^attachment; filename="mastery-/);
      const lines = csv.text.replace(/^\uFEFF/, '').split('\r\n');
      expect(lines[0]).to.equal(
        'Student,NBT.1 level,NBT.1 value,NBT.2 level,NBT.2 value,G.1 level,G.1 value,Standards mastered',
      );
      expect(lines).to.include(`${ava.name},Exceeds,4,Beginning,1,Meets,3,2`);
      expect(csv.text).to.include(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
      expect(csv.text).not.to.match(/(^|,)=HYPERLINK/m);
    });
  });

  describe('a student’s detail', () => {
    it('when a teacher opens it, then each standard shows its level, an accessible trend chart, the evidence and the explanation', async () => {
      const page = await get(`${teacherBase}/course/students/${idOf(ava)}`);
      expect(page.status).to.equal(200);
      expect(page.text).to.include(`<h1>${ava.name}</h1>`);
      expect(page.text).to.match(
        /<svg [^>]*role="img" aria-labelledby="trend-0-title trend-0-desc">/,
      );
      expect(page.text).to.include('<title id="trend-0-title">Scores over time for NBT.1</title>');
      expect(page.text).to.match(/<desc id="trend-0-desc">2 scores, oldest first: 2 on 2026-11-02/);
      expect(page.text).to.include('Scores as a table');
      // Evidence list: assignment (escaped), date, score, comment, source.
      expect(page.text).to.include('Quiz 2 &lt;script&gt;');
      expect(page.text).not.to.include('Quiz 2 <script>');
      expect(page.text).to.include('Great work');
      expect(page.text).to.include('Teacher entry');
      // Show your work: method, parameters, ordered evidence and steps.
      expect(page.text).to.include('<strong>Method:</strong> Most recent score');
      expect(page.text).to.include('Evidence used, in order');
      expect(page.text).to.include('Evidence ordered by');
      // The domain rolled up from its standards, named by code (2.5 = mean of 4 and 1).
      expect(page.text).to.include('Mean of its parts (child standards): NBT.1 4, NBT.2 1');
      expect(page.text).to.match(/Approaching 2\.5<\/td>/);
      // The override form posts with the CSRF secret to the override route.
      expect(page.text).to.include(
        `action="${teacherBase}/course/students/${idOf(ava)}/standards/${standards.leaves[0]?.id ?? ''}/override"`,
      );
      expect(page.text).to.match(/name="_csrf" value="[^"]+"/);
      expect(page.text).to.include('name="levelId"');
    });

    it('when evidence was excused, then the explanation lists it as not counted, with why', async () => {
      const page = await get(`${teacherBase}/course/students/${idOf(chloe)}`);
      expect(page.status).to.equal(200);
      expect(page.text).to.include('Not counted, and why');
      expect(page.text).to.include('Excused: excused work never counts');
    });

    it('when a policy change is still being recalculated, then the page says so instead of showing a working that disagrees', async () => {
      const policies = createPolicyRepository(database.db, () => new Date());
      // The policy row alone, as while its recompute job is still running: Ava's stored NBT.1 is
      // her most recent score (4); the new policy (mean) would give 3.
      await policies.save({
        tenantId: world.tenantId,
        courseId,
        policy: { calculation: { method: { kind: 'mean' } } },
        actor: 'test',
      });
      try {
        const page = await get(`${teacherBase}/course/students/${idOf(ava)}`);
        expect(page.status).to.equal(200);
        // NBT.1 (stored 4, mean 3) waits. NBT.2 (one score: 1 either way) already agrees, and so
        // does the domain, rolled up from the stored levels of both.
        expect(page.text.split(escapeXml(RECALCULATING)).length - 1).to.equal(1);
        expect(page.text).to.include('<strong>Method:</strong> Mean');
      } finally {
        // Back to the seeded policy, recomputed, for the tests that follow.
        const { finished } = await world.tool.services.mastery.savePolicy({
          tenantId: world.tenantId,
          courseId,
          policy: null,
          actor: 'test',
        });
        await finished;
      }
      const page = await get(`${teacherBase}/course/students/${idOf(ava)}`);
      expect(page.text).not.to.include(escapeXml(RECALCULATING));
      expect(page.text).to.include('<strong>Method:</strong> Most recent score');
    });

    it('when the id is not a student of this course, then the answer is 404 and shows nobody', async () => {
      const teacherUser = await world.tool.services.people.findUser(
        world.tenantId,
        world.emulator.issuer,
        world.seed.teacher.sub,
      );
      for (const id of ['not-a-uuid', '00000000-0000-4000-8000-000000000000', teacherUser?.id]) {
        const page = await get(`${teacherBase}/course/students/${id ?? ''}`);
        expect(page.status, String(id)).to.equal(404);
        expect(page.text).to.include('This student is not in this course.');
      }
    });

    it('when a teacher opens the student view of a student, then it shows what the student sees', async () => {
      const page = await get(`${teacherBase}/course/students/${idOf(ava)}/progress`);
      expect(page.status).to.equal(200);
      expect(page.text).to.include(`Progress of ${ava.name} (as the student sees it)`);
      expect(page.text).to.include('What to do next');
    });
  });

  describe('pathways', () => {
    it('when a student has done every aligned assignment without mastery, then the standard needs a re-assessment', async () => {
      // Ben's NBT.1 as calculated (2), without the teacher's override another test may have set.
      await world.tool.services.mastery.clearOverride({
        tenantId: world.tenantId,
        courseId,
        studentId: idOf(ben),
        itemId: standards.leaves[0]?.id ?? '',
        actor: 'test',
      });
      const page = await get(`${teacherBase}/course/pathways`);
      expect(page.status).to.equal(200);
      const benSection =
        page.text.split(`id="student-${idOf(ben)}"`)[1]?.split('</section>')[0] ?? '';
      expect(benSection).to.include('NBT.1');
      expect(benSection).to.include('Needs a re-assessment');
      // NBT.2 is still open to Ben through Quiz 1; G.1 (4) is mastered and not listed.
      expect(benSection).to.include('Quiz 1');
      expect(benSection).not.to.include('Shapes');
      const chloeSection =
        page.text.split(`id="student-${idOf(chloe)}"`)[1]?.split('</section>')[0] ?? '';
      expect(chloeSection).to.include('Shapes project');
    });
  });

  describe('a student', () => {
    let studentBase: string;
    before(async () => {
      studentBase = await baseFor(ava);
    });

    it('when they open their progress, then they see only their own standards, evidence, plain words and next steps', async () => {
      const page = await get(`${studentBase}/course/progress`);
      expect(page.status).to.equal(200);
      expect(page.text).to.include('<h1>My progress</h1>');
      expect(page.text).to.include('Your level is your most recent score');
      expect(page.text).to.include('What to do next');
      expect(page.text).to.include('Great work');
      // NBT.2 at 1 (most recent): one score of 2 moves Ava to Approaching.
      expect(page.text).to.include(
        'A score of 2 or higher on your next piece of work would move you to Approaching.',
      );
      expect(page.text).to.match(/<svg [^>]*role="img"/);
      for (const other of [ben, chloe]) expect(page.text).not.to.include(other.name);
      expect(page.text).not.to.include('name="levelId"');
      expect(page.text).not.to.include('Teacher entry');
    });

    it('when they tamper with URLs to reach the class or another student, then they get 403 and nothing of others', async () => {
      for (const path of [
        '/course/mastery',
        '/course/mastery.csv',
        '/course/pathways',
        `/course/students/${idOf(ben)}`,
        `/course/students/${idOf(ava)}`,
        `/course/students/${idOf(ben)}/progress`,
        `/course/progress?student=${idOf(ben)}`,
      ]) {
        const page = await get(`${studentBase}${path}`);
        if (path.startsWith('/course/progress')) {
          // A learner's progress ignores the query: still only their own.
          expect(page.status, path).to.equal(200);
          expect(page.text, path).not.to.include(ben.name);
          continue;
        }
        expect(page.status, path).to.equal(403);
        expect(page.text, path).not.to.include(ben.name);
        expect(page.text, path).not.to.include('NBT.1');
      }
    });
  });

  describe('a mentor', () => {
    let mentorBase: string;
    let mentorId: string;
    before(async () => {
      mentorBase = await baseFor(world.seed.mentor);
      const mentor = await world.tool.services.people.findUser(
        world.tenantId,
        world.emulator.issuer,
        world.seed.mentor.sub,
      );
      if (mentor === undefined) throw new Error('mentor not recorded');
      mentorId = mentor.id;
    });

    const linkTo = (subs: string[]) =>
      world.tool.services.mastery.linkMentor({
        tenantId: world.tenantId,
        courseId,
        mentorId,
        issuer: world.emulator.issuer,
        studentSubs: subs,
      });

    it('when no student is linked to them, then progress says so and shows nobody', async () => {
      await linkTo([]);
      const page = await get(`${mentorBase}/course/progress`);
      expect(page.status).to.equal(200);
      expect(page.text).to.include('No students are linked to you in this course.');
      for (const person of [ava, ben, chloe]) expect(page.text).not.to.include(person.name);
    });

    it('when they open progress, then they see their linked student only', async () => {
      // The launch's role_scope_mentor links Grace Brooks to Ava Brooks.
      expect(await linkTo([ava.sub])).to.equal(1);
      const page = await get(`${mentorBase}/course/progress`);
      expect(page.status).to.equal(200);
      expect(page.text).to.include(`Progress of ${ava.name}`);
      expect(page.text).not.to.include(ben.name);
    });

    it('when they ask for a student not linked to them, then the answer is 404 and shows nothing of them', async () => {
      await linkTo([ava.sub]);
      const page = await get(`${mentorBase}/course/progress?student=${idOf(ben)}`);
      expect(page.status).to.equal(404);
      expect(page.text).not.to.include(ben.name);
      for (const path of ['/course/mastery', `/course/students/${idOf(ava)}`, '/course/pathways']) {
        expect((await get(`${mentorBase}${path}`)).status, path).to.equal(403);
      }
    });
  });

  describe('an override', () => {
    it('when a teacher sets one through the override form, then the heatmap marks it and the student reads the reason', async () => {
      const detail = await get(`${teacherBase}/course/students/${idOf(ben)}`);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(detail.text)?.[1] ?? '';
      const nbt1 = standards.leaves[0]?.id ?? '';
      const posted = await fetch(
        new URL(
          `${teacherBase}/course/students/${idOf(ben)}/standards/${nbt1}/override`,
          world.tool.origin,
        ),
        {
          method: 'POST',
          body: new URLSearchParams({
            _csrf: csrf,
            levelId: 'meets',
            reason: 'Showed it in a conference',
          }),
          redirect: 'manual',
        },
      );
      expect(posted.status).to.equal(303);
      const heatmap = await get(`${teacherBase}/course/mastery`);
      expect(heatmap.text).to.match(
        /<abbr title="Meets">M<\/abbr> <span class="cell-value">3<\/span> <span class="override-mark" aria-hidden="true">✎<\/span><span class="visually-hidden"> \(set by teacher\)<\/span>/,
      );
      const after = await get(`${teacherBase}/course/students/${idOf(ben)}`);
      expect(after.text).to.include('A teacher set this level to Meets (3)');
      expect(after.text).to.include('The calculation says Approaching (2).');
      const benBase = await baseFor(ben);
      const progress = await get(`${benBase}/course/progress`);
      expect(progress.text).to.include('Your teacher set this level to Meets');
      expect(progress.text).to.include('Showed it in a conference');
      expect(progress.text).to.include('Your teacher set this level. Talk with your teacher');
    });
  });

  describe('tenant isolation', () => {
    it('when another district’s id asks for this course’s data, then every query finds nothing', async () => {
      const views = createMasteryViewsRepository(database.db);
      const other = (
        await database.db
          .insertInto('tenants')
          .values({ slug: 'other-district', name: 'Other' })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id;
      expect(await views.students(other, courseId)).to.deep.equal([]);
      expect(await views.standards(other, courseId)).to.deep.equal([]);
      expect(await views.resultCells(other, courseId)).to.deep.equal([]);
      expect(await views.studentResults(other, courseId, idOf(ava))).to.deep.equal([]);
      expect(await views.studentEvidence(other, courseId, idOf(ava))).to.deep.equal([]);
      expect(await views.alignedAssignments(other, courseId)).to.deep.equal([]);
      expect(await views.evidencedCells(other, courseId)).to.deep.equal([]);
      expect(
        await views.ancestors(
          other,
          standards.leaves.map((s) => s.id),
        ),
      ).to.deep.equal([]);
      // And the real district does see it.
      expect((await views.resultCells(world.tenantId, courseId)).length).to.be.greaterThan(0);
    });
  });
});
