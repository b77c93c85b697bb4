import { expect } from 'chai';
import { ClassroomError } from '../../src/classroom/errors.ts';
import { syncCourseRoster } from '../../src/courses/roster.ts';
import { lmsForCourse } from '../../src/courses/lms-for-course.ts';
import { LmsHttpError } from '../../src/lti/errors.ts';
import { classifyPassbackError } from '../../src/passback/errors.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import {
  continueUrlOf,
  createClassroomWorld,
  importStandards,
  openAddOn,
  type ClassroomWorld,
} from './classroom-world.ts';

/** Form fields of the attachment form (hidden ones included), as a browser would post them. */
function formFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    fields[match[1] ?? ''] = (match[2] ?? '').replace(/&amp;/g, '&');
  }
  return fields;
}

describe(`Google Classroom add-on (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let world: ClassroomWorld;
  let standards: { id: string; code: string }[];

  beforeEach(async () => {
    database = await createTestDatabase();
    world = await createClassroomWorld(database);
    standards = await importStandards(database, world.tenantId);
  });

  afterEach(async () => {
    await world.close();
    await database.close();
  });

  async function teacherOpensDiscovery() {
    const frame = world.google.discoveryFrameUrl({
      courseId: world.seed.course.id,
      itemId: world.seed.courseWork.id,
      userId: world.seed.teacher.id,
    });
    return openAddOn(world, frame, world.seed.teacher.id);
  }

  async function createActivity(base: string, sessionUrl: string, title: string) {
    const form = await fetch(sessionUrl);
    const html = await form.text();
    expect(form.status).to.equal(200);
    const body = new URLSearchParams({ ...formFields(html), title, maxPoints: '4' });
    body.append('standards', standards[0]?.id ?? '');
    body.append('standards', standards[1]?.id ?? '');
    const created = await fetch(`${world.tool.origin}${base}/classroom/attachment`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    return { status: created.status, body: await created.text() };
  }

  it('when a teacher signs in through the add-on and creates an activity, then Classroom has an attachment with maxPoints aligned to the chosen standards', async () => {
    const opened = await teacherOpensDiscovery();
    expect(opened.callbackStatus).to.equal(200);
    expect(opened.sessionUrl).to.match(/\/s\/[^/]+\/classroom\/attachment\/new\?/);
    expect(opened.base).to.be.a('string');

    const created = await createActivity(opened.base ?? '', opened.sessionUrl ?? '', 'Ratios quiz');
    expect(created.status).to.equal(201);
    expect(created.body).to.include('Ratios quiz');
    expect(created.body).to.include(standards[0]?.code ?? '?');

    const attachments = world.google.state.attachmentsOf(world.seed.courseWork.id);
    expect(attachments).to.have.length(1);
    expect(attachments[0]?.maxPoints).to.equal(4);
    expect(attachments[0]?.title).to.equal('Ratios quiz');
    expect(attachments[0]?.teacherViewUri).to.equal(
      `${world.tool.origin}/classroom/${world.tenantSlug}/teacher-view`,
    );

    const alignments = await database.db
      .selectFrom('assignment_alignments')
      .select('item_id')
      .where('tenant_id', '=', world.tenantId)
      .execute();
    expect(alignments.map((a) => a.item_id).sort()).to.deep.equal(
      [standards[0]?.id, standards[1]?.id].sort(),
    );
    // The refresh token is kept, encrypted: the stored envelope does not contain it in clear.
    const tokens = await database.db.selectFrom('classroom_user_tokens').selectAll().execute();
    expect(tokens).to.have.length(1);
    const issued = [...world.google.state.refreshGrants.keys()];
    expect(JSON.stringify(tokens[0]?.encrypted_refresh_token)).not.to.include(issued[0] ?? '??');
  });

  async function toolCourseId(): Promise<string> {
    const row = await database.db
      .selectFrom('courses')
      .select('id')
      .where('tenant_id', '=', world.tenantId)
      .where('context_id', '=', world.seed.course.id)
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async function teacherCreatesActivity(title = 'Ratios quiz') {
    const opened = await teacherOpensDiscovery();
    const created = await createActivity(opened.base ?? '', opened.sessionUrl ?? '', title);
    expect(created.status).to.equal(201);
    return opened;
  }

  it('when a student opens the attachment, then Classroom confirms the role and the student view shows the standards', async () => {
    await teacherCreatesActivity();
    const [attachment] = world.google.state.attachmentsOf(world.seed.courseWork.id);
    const student = world.seed.students[0];
    const frame = world.google.attachmentFrameUrl({
      attachmentId: attachment?.id ?? '',
      view: 'student',
      userId: student?.id ?? '',
    });
    const opened = await openAddOn(world, frame, student?.id ?? '');
    expect(opened.sessionUrl).to.match(/\/classroom\/student\?/);
    const page = await fetch(opened.sessionUrl ?? '');
    const html = await page.text();
    expect(page.status).to.equal(200);
    expect(html).to.include('Ratios quiz');
    expect(html).to.include(standards[0]?.code ?? '?');
    const session = await database.db
      .selectFrom('sessions')
      .select('roles')
      .where('tenant_id', '=', world.tenantId)
      .orderBy('created_at', 'desc')
      .executeTakeFirstOrThrow();
    expect(session.roles).to.deep.equal([
      'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner',
    ]);
    // A student's refresh token is never kept: only teachers' are needed for passback.
    const tokens = await database.db
      .selectFrom('classroom_user_tokens')
      .select('user_id')
      .execute();
    expect(tokens).to.have.length(1);
  });

  it('when a student opens a teacher view URL, then Classroom says student and the teacher page is refused', async () => {
    await teacherCreatesActivity();
    const [attachment] = world.google.state.attachmentsOf(world.seed.courseWork.id);
    const student = world.seed.students[1];
    // The student tampers with the frame URL: the role still comes from Classroom, not the URL.
    const frame = world.google
      .attachmentFrameUrl({
        attachmentId: attachment?.id ?? '',
        view: 'student',
        userId: student?.id ?? '',
      })
      .replace('/student-view', '/teacher-view');
    const opened = await openAddOn(world, frame, student?.id ?? '');
    expect(opened.sessionUrl).to.match(/\/classroom\/teacher\?/);
    const page = await fetch(opened.sessionUrl ?? '');
    expect(page.status).to.equal(403);
  });

  it('when a user from a domain outside the district list signs in, then they are refused with a page that says why and nothing is stored', async () => {
    const frame = world.google.discoveryFrameUrl({
      courseId: world.seed.course.id,
      itemId: world.seed.courseWork.id,
      userId: world.seed.teacher.id,
    });
    // The outsider (another Workspace domain, enrolled as a student) signs in at Google.
    const opened = await openAddOn(world, frame, world.seed.outsider.id);
    expect(opened.callbackStatus).to.equal(403);
    expect(opened.callbackBody).to.include('not from a school domain this district allows');
    expect(opened.callbackBody).to.include('classroom.domain_not_allowed');
    expect(opened.sessionUrl).to.equal(undefined);
    const users = await database.db
      .selectFrom('users')
      .select('sub')
      .where('tenant_id', '=', world.tenantId)
      .execute();
    expect(users.map((u) => u.sub)).not.to.include(world.seed.outsider.id);
    const log = world.tool.logs.text();
    expect(log).to.include('domain_not_allowed');
    expect(log).not.to.include(world.seed.outsider.email);
  });

  it('when a personal (non-Workspace) account signs in, then it is refused', async () => {
    const personal = world.google.state.addUser({
      email: 'someone@gmail.com',
      givenName: 'Some',
      familyName: 'One',
      consumer: true,
    });
    const frame = world.google.discoveryFrameUrl({
      courseId: world.seed.course.id,
      itemId: world.seed.courseWork.id,
      userId: world.seed.teacher.id,
    });
    const opened = await openAddOn(world, frame, personal.id);
    expect(opened.callbackStatus).to.equal(403);
  });

  it('when the teacher syncs the roster, then the Classroom students appear with names and roles, without emails', async () => {
    const opened = await teacherOpensDiscovery();
    const courseId = await toolCourseId();
    const result = await syncCourseRoster(world.tool.services, world.tenantId, courseId);
    expect(result.upserted).to.equal(world.seed.students.length + 2 + 1);
    const roster = await fetch(`${world.tool.origin}${opened.base ?? ''}/course/roster`);
    const html = await roster.text();
    expect(roster.status).to.equal(200);
    for (const student of world.seed.students) {
      expect(html).to.include(`${student.givenName} ${student.familyName}`);
    }
    const users = await database.db
      .selectFrom('users')
      .select(['sub', 'email'])
      .where('tenant_id', '=', world.tenantId)
      .execute();
    expect(users.map((u) => u.sub)).to.include(world.seed.students[0]?.id);
    expect(users.every((u) => u.email === null)).to.equal(true);
  });

  it('when Google refuses the attachment (the licence is gone), then a plain CourseWork with a link (no read-only title) is created and the page says so', async () => {
    const opened = await teacherOpensDiscovery();
    // Classroom showed the add-on, then the district removed the teacher's licence.
    world.google.state.setAddOnLicence(world.seed.teacher.id, false);
    const created = await createActivity(opened.base ?? '', opened.sessionUrl ?? '', 'Exit ticket');
    expect(created.status).to.equal(201);
    expect(created.body).to.include('does not have the Classroom add-on licence');
    expect(world.google.state.attachmentsOf(world.seed.courseWork.id)).to.have.length(0);
    const works = [...world.google.state.courseWork.values()].filter(
      (w) => w.title === 'Exit ticket',
    );
    expect(works).to.have.length(1);
    expect(works[0]?.maxPoints).to.equal(4);
    expect(JSON.stringify(works[0]?.materials)).to.include(`/classroom/${world.tenantSlug}/link`);
    expect(JSON.stringify(works[0]?.materials)).not.to.include('"title"');
    // No licence check before trying: the Developer Preview method is never called.
    expect(world.google.state.requestLog.map((r) => r.path).join('\n')).not.to.include(
      'checkUserCapability',
    );
  });

  it('when the activity form has no standard or no name, then it is shown again with the problems and nothing is created', async () => {
    const opened = await teacherOpensDiscovery();
    const form = await (await fetch(opened.sessionUrl ?? '')).text();
    const response = await fetch(`${world.tool.origin}${opened.base ?? ''}/classroom/attachment`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...formFields(form), title: '', maxPoints: '4' }),
    });
    const html = await response.text();
    expect(response.status).to.equal(400);
    expect(html).to.include('Name the activity.');
    expect(world.google.state.attachmentsOf(world.seed.courseWork.id)).to.have.length(0);
  });

  it('when the attachment setup URL lacks its addOnToken, or names an unknown district, then a page says what to do', async () => {
    const missing = await fetch(
      `${world.tool.origin}/classroom/${world.tenantSlug}/attachment-setup?courseId=${world.seed.course.id}&itemId=1`,
    );
    expect(missing.status).to.equal(400);
    expect(await missing.text()).to.include('open the add-on again from Classroom');
    const unknown = await fetch(
      `${world.tool.origin}/classroom/no-such-district/attachment-setup?courseId=1&itemId=1&addOnToken=x`,
    );
    expect(unknown.status).to.equal(404);
    expect(await unknown.text()).to.include('not set up for this district');
  });

  it('when "Continue" is chosen before signing in, or a used flow is continued again, then nothing opens', async () => {
    const frame = world.google.discoveryFrameUrl({
      courseId: world.seed.course.id,
      itemId: world.seed.courseWork.id,
      userId: world.seed.teacher.id,
    });
    const entry = await (await fetch(frame)).text();
    const early = await fetch(continueUrlOf(world, entry), { redirect: 'manual' });
    expect(early.status).to.equal(200);
    expect(await early.text()).to.include('has not received your sign-in yet');

    const opened = await teacherOpensDiscovery();
    expect(opened.base).to.be.a('string');
    const flow = /\/continue\/([A-Za-z0-9_-]+)/.exec(opened.signInPage)?.[1] ?? '';
    const again = await fetch(
      `${world.tool.origin}/classroom/${world.tenantSlug}/continue/${flow}`,
      {
        redirect: 'manual',
      },
    );
    expect(again.status).to.equal(400);
  });

  it('when Google revokes the teacher refresh token, then passback marks the course "needs teacher sign-in", the teacher sees it, and signing in again restores it', async () => {
    const opened = await teacherCreatesActivity();
    const courseId = await toolCourseId();
    world.google.state.revokeRefreshTokens(world.seed.teacher.id);

    const { lms } = await lmsForCourse(world.tool.services, world.tenantId, courseId);
    const error = await lms.roster().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ClassroomError);
    expect((error as ClassroomError).code).to.equal('needs_teacher_sign_in');
    const link = await database.db
      .selectFrom('classroom_courses')
      .select('needs_teacher_sign_in')
      .where('course_id', '=', courseId)
      .executeTakeFirstOrThrow();
    expect(link.needs_teacher_sign_in).to.equal(true);
    // Nothing is lost: the worker keeps such cells for a later try (transient).
    expect(classifyPassbackError(error).kind).to.equal('transient');

    const [attachment] = world.google.state.attachmentsOf(world.seed.courseWork.id);
    const query = new URLSearchParams({
      itemId: world.seed.courseWork.id,
      attachmentId: attachment?.id ?? '',
    });
    const teacherView = await fetch(
      `${world.tool.origin}${opened.base ?? ''}/classroom/teacher?${query}`,
    );
    expect(teacherView.status).to.equal(200);
    expect(await teacherView.text()).to.include('a teacher must sign in again');

    const frame = world.google.attachmentFrameUrl({
      attachmentId: attachment?.id ?? '',
      view: 'teacher',
      userId: world.seed.teacher.id,
    });
    const again = await openAddOn(world, frame, world.seed.teacher.id);
    expect(again.sessionUrl).to.include('restored=1');
    const restoredPage = await (await fetch(again.sessionUrl ?? '')).text();
    expect(restoredPage).to.include('Your sign-in restored Google access');
    const after = await lms.roster();
    expect(after.length).to.be.greaterThan(0);
  });

  it('when the adapter posts to an add-on attachment the student opened, then pointsEarned lands on the attachment submission (its own id), scaled to the attachment points', async () => {
    await teacherCreatesActivity();
    const student = world.seed.students[0];
    const [attachment] = world.google.state.attachmentsOf(world.seed.courseWork.id);
    // The student opens the activity: getAddOnContext names their submission on the attachment.
    await openAddOn(
      world,
      world.google.attachmentFrameUrl({
        attachmentId: attachment?.id ?? '',
        view: 'student',
        userId: student?.id ?? '',
      }),
      student?.id ?? '',
    );
    const courseId = await toolCourseId();
    const assignment = await database.db
      .selectFrom('course_assignments')
      .select('resource_id')
      .where('course_id', '=', courseId)
      .executeTakeFirstOrThrow();
    const { lms } = await lmsForCourse(world.tool.services, world.tenantId, courseId);
    const column = await lms.findGradebookColumn({ resourceId: assignment.resource_id ?? '' });
    expect(column?.id).to.match(/^attachment:/);
    await lms.postScore(column!, {
      userId: student?.id ?? '',
      scoreGiven: 75,
      scoreMaximum: 100,
      timestamp: new Date(),
    });
    const entry = world.google.state.gradebookEntry(world.seed.courseWork.id, student?.id ?? '');
    expect(entry.attachments[0]?.pointsEarned).to.equal(3);
    expect(entry.attachments[0]?.submissionId).not.to.equal(entry.submissionId);
    expect(entry.assignedGrade).to.equal(undefined);

    // A student who never opened it has no attachment submission yet: explained, nothing sent.
    const other = world.seed.students[1];
    const refused = await lms
      .postScore(column!, {
        userId: other?.id ?? '',
        scoreGiven: 50,
        scoreMaximum: 100,
        timestamp: new Date(),
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    const classified = classifyPassbackError(refused);
    expect(classified.kind === 'permanent' && classified.code).to.equal('not_a_student');
  });

  it('when the adapter creates a mastery column and posts, then draftGrade only, or assignedGrade too when the course says assign', async () => {
    await teacherOpensDiscovery();
    const courseId = await toolCourseId();
    const student = world.seed.students[1];
    const draftOnly = (await lmsForCourse(world.tool.services, world.tenantId, courseId)).lms;
    const column = await draftOnly.createGradebookColumn({
      label: 'RP.1 mastery',
      scoreMaximum: 4,
      resourceId: 'mp-standard:x',
    });
    expect(column.id).to.match(/^coursework:/);
    await draftOnly.postScore(column, {
      userId: student?.id ?? '',
      scoreGiven: 3,
      scoreMaximum: 4,
      timestamp: new Date(),
    });
    const workId = column.id.split(':')[1] ?? '';
    let entry = world.google.state.gradebookEntry(workId, student?.id ?? '');
    expect(entry.draftGrade).to.equal(3);
    expect(entry.assignedGrade).to.equal(undefined);

    await database.db
      .insertInto('mastery_policies')
      .values({
        tenant_id: world.tenantId,
        course_id: courseId,
        policy: JSON.stringify({ passback: { classroomAssignGrades: true } }),
        updated_by: 'test',
        updated_at: new Date(),
      })
      .execute();
    const assigning = (await lmsForCourse(world.tool.services, world.tenantId, courseId)).lms;
    const found = await assigning.findGradebookColumn({ resourceId: 'mp-standard:x' });
    expect(found?.id).to.equal(column.id);
    await assigning.postScore(found!, {
      userId: student?.id ?? '',
      scoreGiven: 4,
      scoreMaximum: 4,
      timestamp: new Date(),
    });
    entry = world.google.state.gradebookEntry(workId, student?.id ?? '');
    expect(entry.draftGrade).to.equal(4);
    expect(entry.assignedGrade).to.equal(4);
  });

  it('when Classroom answers PERMISSION_DENIED (coursework of another project) or the student is unknown, then the errors are permanent and explained', async () => {
    await teacherOpensDiscovery();
    const courseId = await toolCourseId();
    const { lms } = await lmsForCourse(world.tool.services, world.tenantId, courseId);
    const foreign = {
      id: `coursework:${world.seed.courseWork.id}`,
      label: 'made in Classroom',
      scoreMaximum: 100,
      tag: undefined,
      resourceId: undefined,
    };
    const denied = await lms
      .postScore(foreign, {
        userId: world.seed.students[0]?.id ?? '',
        scoreGiven: 1,
        scoreMaximum: 100,
        timestamp: new Date(),
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(denied).to.be.instanceOf(LmsHttpError);
    expect((denied as LmsHttpError).bodyExcerpt).to.include('PERMISSION_DENIED');
    expect(classifyPassbackError(denied).kind).to.equal('permanent');

    const column = await lms.createGradebookColumn({ label: 'Course mastery', scoreMaximum: 100 });
    const unknown = await lms
      .postScore(column, { userId: '999', scoreGiven: 1, scoreMaximum: 100, timestamp: new Date() })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    const classified = classifyPassbackError(unknown);
    expect(classified.kind === 'permanent' && classified.code).to.equal('not_a_student');
  });

  it('when Classroom answers 429 RESOURCE_EXHAUSTED, then the call is retried with backoff and succeeds', async () => {
    await teacherOpensDiscovery();
    const courseId = await toolCourseId();
    const { lms } = await lmsForCourse(world.tool.services, world.tenantId, courseId);
    world.google.state.injectFaults({ kind: 'status', status: 429, retryAfterSeconds: 0 }, 2);
    const roster = await lms.roster();
    expect(roster.length).to.be.greaterThan(0);
    expect(world.google.state.pendingFaults).to.have.length(0);
  });

  it('when another district uses a flow id of this district, then it finds nothing', async () => {
    const other = await world.tool.services.tenants.create({ slug: 'other', name: 'Other' });
    const frame = world.google.discoveryFrameUrl({
      courseId: world.seed.course.id,
      itemId: world.seed.courseWork.id,
      userId: world.seed.teacher.id,
    });
    const entry = await (await fetch(frame)).text();
    const flow = /\/continue\/([A-Za-z0-9_-]+)/.exec(entry)?.[1] ?? '';
    // The flow row exists once sign-in starts (the sign-in window).
    const signIn = /id="classroom-sign-in" href="([^"]+)"/.exec(entry)?.[1] ?? '';
    const start = await fetch(`${world.tool.origin}${signIn.replace(/&amp;/g, '&')}`, {
      redirect: 'manual',
    });
    expect(start.status).to.equal(302);
    expect(await world.tool.services.classroom.findSignIn(other.id, flow)).to.equal(undefined);
    expect(await world.tool.services.classroom.findSignIn(world.tenantId, flow)).not.to.equal(
      undefined,
    );
  });

  it('when the person cancels at Google, or the redirect comes back with an unknown state, then a page says what to do and no session is made', async () => {
    const frame = world.google.discoveryFrameUrl({
      courseId: world.seed.course.id,
      itemId: world.seed.courseWork.id,
      userId: world.seed.teacher.id,
    });
    const entry = await (await fetch(frame)).text();
    const signIn = /id="classroom-sign-in" href="([^"]+)"/.exec(entry)?.[1] ?? '';
    const toGoogle = await fetch(`${world.tool.origin}${signIn}`, { redirect: 'manual' });
    const cancelled = await world.google.signIn(
      toGoogle.headers.get('location') ?? '',
      world.seed.teacher.id,
      'deny',
    );
    const back = await fetch(cancelled);
    expect(back.status).to.equal(400);
    expect(await back.text()).to.include('sign-in was cancelled');

    const forged = await fetch(
      `${world.tool.origin}/classroom/oauth/callback?code=abc&state=not-a-known-state-value-123`,
    );
    expect(forged.status).to.equal(400);
    expect(await forged.text()).to.include('took too long or was already used');
    const sessions = await database.db.selectFrom('sessions').select('id').execute();
    expect(sessions).to.have.length(0);
  });
});
