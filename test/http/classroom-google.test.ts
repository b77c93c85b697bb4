import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import request from 'supertest';
import { ClassroomError } from '../../src/classroom/errors.ts';
import { lmsForCourse } from '../../src/courses/lms-for-course.ts';
import { createAdminUser } from '../../src/lti-admin/use-cases.ts';
import { createLogger } from '../../src/logger.ts';
import { classifyPassbackError } from '../../src/passback/errors.ts';
import { resolveLmsFromServices } from '../../src/app-services.ts';
import { createPassbackWorker } from '../../src/passback/worker.ts';
import { recordDeletion } from '../../src/storage/privacy/deletion-records.repository.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import {
  createClassroomWorld,
  importStandards,
  openAddOn,
  type ClassroomWorld,
} from './classroom-world.ts';

/**
 * Google Classroom as Google documents it (issue 19): the emulator answers as Google's reference
 * pages say, and the tool copes. Each test fails on the code before the fix it names.
 */

/** Form fields of the attachment form (hidden ones included), as a browser would post them. */
function formFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    fields[match[1] ?? ''] = (match[2] ?? '').replace(/&amp;/g, '&');
  }
  return fields;
}

const decode = (html: string): string =>
  html
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');

describe(`Google Classroom as Google documents it (${testEngine})`, function () {
  this.timeout(90_000);
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

  async function teacherOpens(itemId = world.seed.courseWork.id) {
    const frame = world.google.discoveryFrameUrl({
      courseId: world.seed.course.id,
      itemId,
      userId: world.seed.teacher.id,
    });
    return openAddOn(world, frame, world.seed.teacher.id);
  }

  async function postActivity(
    opened: { base: string | undefined; sessionUrl: string | undefined },
    fields: { title: string; maxPoints: string },
  ) {
    const form = await fetch(opened.sessionUrl ?? '');
    const html = await form.text();
    expect(form.status, html).to.equal(200);
    const body = new URLSearchParams({ ...formFields(html), ...fields });
    body.append('standards', standards[0]?.id ?? '');
    body.append('standards', standards[1]?.id ?? '');
    const res = await fetch(`${world.tool.origin}${opened.base ?? ''}/classroom/attachment`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    return { status: res.status, body: decode(await res.text()) };
  }

  async function toolCourseId(classroomCourseId = world.seed.course.id): Promise<string> {
    const row = await database.db
      .selectFrom('courses')
      .select('id')
      .where('tenant_id', '=', world.tenantId)
      .where('context_id', '=', classroomCourseId)
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** The district admin's Google Classroom page, signed in as an admin would. */
  async function adminClassroomPage(): Promise<request.Response> {
    await createAdminUser(
      { db: database.db, now: () => new Date() },
      {
        username: 'district-admin',
        tenantSlug: world.tenantSlug,
        password: 'correct horse battery staple',
      },
    );
    const cookie = (res: request.Response, name: string): string => {
      const header: unknown = res.headers['set-cookie'];
      const list = Array.isArray(header) ? (header as string[]) : [];
      return list.find((c) => c.startsWith(`${name}=`))?.split(';')[0] ?? '';
    };
    const login = await request(world.tool.app).get('/admin/login');
    const signedIn = await request(world.tool.app)
      .post('/admin/login')
      .set('Cookie', cookie(login, 'mp_admin_login'))
      .type('form')
      .send({
        _csrf: /name="_csrf" value="([^"]+)"/.exec(login.text)?.[1] ?? '',
        username: 'district-admin',
        password: 'correct horse battery staple',
      });
    return request(world.tool.app)
      .get('/admin/classroom')
      .set('Cookie', cookie(signedIn, 'mp_admin'));
  }

  it('(1) when a licensed teacher creates an activity, then the attachment is made without the Developer Preview licence check', async () => {
    const opened = await teacherOpens();
    const created = await postActivity(opened, { title: 'Ratios quiz', maxPoints: '4' });
    expect(created.status, created.body).to.equal(201);
    expect(world.google.state.attachmentsOf(world.seed.courseWork.id)).to.have.length(1);
    const paths = world.google.state.requestLog.map((r) => r.path).join('\n');
    expect(paths).not.to.include('checkUserCapability');
  });

  it('(2) when the teacher reviews a student’s work, then the review page finds the student from the attachment submission id Classroom gives it', async () => {
    const opened = await teacherOpens();
    expect((await postActivity(opened, { title: 'Ratios quiz', maxPoints: '4' })).status).to.equal(
      201,
    );
    const [attachment] = world.google.state.attachmentsOf(world.seed.courseWork.id);
    const student = world.seed.students[0];
    const own = await openAddOn(
      world,
      world.google.attachmentFrameUrl({
        attachmentId: attachment?.id ?? '',
        view: 'student',
        userId: student?.id ?? '',
      }),
      student?.id ?? '',
    );
    expect(own.sessionUrl).to.match(/\/classroom\/student\?/);
    // The grade lands on the attachment's own submission: the id the student's context gave.
    const stored = await database.db
      .selectFrom('classroom_attachment_submissions')
      .select(['submission_id', 'google_user_id'])
      .where('tenant_id', '=', world.tenantId)
      .execute();
    const entry = world.google.state.gradebookEntry(world.seed.courseWork.id, student?.id ?? '');
    expect(stored).to.deep.equal([
      { submission_id: entry.attachments[0]?.submissionId, google_user_id: student?.id },
    ]);
    expect(stored[0]?.submission_id).not.to.equal(entry.submissionId);

    const review = world.google.attachmentFrameUrl({
      attachmentId: attachment?.id ?? '',
      view: 'review',
      userId: world.seed.teacher.id,
      submissionId: entry.attachments[0]?.submissionId ?? '',
    });
    const teacher = await openAddOn(world, review, world.seed.teacher.id);
    const page = await fetch(teacher.sessionUrl ?? '');
    const html = decode(await page.text());
    expect(page.status, html).to.equal(200);
    expect(html).to.include(`Student: ${student?.givenName} ${student?.familyName}`);
  });

  it('(2) when the course sends assignment scores and a level is recorded for the activity, then the worker writes it on the attachment’s own submission', async () => {
    const opened = await teacherOpens();
    expect((await postActivity(opened, { title: 'Ratios quiz', maxPoints: '8' })).status).to.equal(
      201,
    );
    const [attachment] = world.google.state.attachmentsOf(world.seed.courseWork.id);
    const student = world.seed.students[0];
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
      .select(['id', 'line_item_url'])
      .where('tenant_id', '=', world.tenantId)
      .where('course_id', '=', courseId)
      .executeTakeFirstOrThrow();
    // The activity's own column is the attachment: the assignment is graded there.
    expect(assignment.line_item_url).to.equal(
      `attachment:${world.seed.courseWork.id}:${attachment?.id ?? ''}`,
    );
    await database.db
      .insertInto('mastery_policies')
      .values({
        tenant_id: world.tenantId,
        course_id: null,
        policy: JSON.stringify({ passback: { standardColumns: false, assignmentScores: true } }),
        updated_by: 'test',
        updated_at: new Date(),
      })
      .execute();
    const user = await world.tool.services.people.findUser(
      world.tenantId,
      world.google.issuer,
      student?.id ?? '',
    );
    await world.tool.services.mastery.recordEvidence({
      tenantId: world.tenantId,
      courseId,
      actor: 'test-teacher',
      source: 'teacher',
      entries: [standards[0], standards[1]].map((standard) => ({
        studentId: user?.id ?? '',
        itemId: standard?.id ?? '',
        assignmentId: assignment.id,
        score: 3,
      })),
    });
    const drained = await createPassbackWorker({
      db: database.db,
      resolveLms: resolveLmsFromServices(world.tool.services),
      now: () => new Date(),
      sleep: (ms) => sleep(ms),
      logger: createLogger({ level: 'silent' }),
      random: () => 0.5,
      limits: { requestsPerSecond: 1000, burst: 50, baseBackoffMs: 1000, maxBackoffMs: 4000 },
    }).drain();
    expect(drained.sent).to.equal(1);
    const entry = world.google.state.gradebookEntry(world.seed.courseWork.id, student?.id ?? '');
    // Level 3 is 85 % in the district's default conversion table: 6.8 of the activity's 8 points,
    // written once to the attachment's own submission, never through the coursework's grade API.
    expect(entry.attachments[0]?.pointsEarned).to.equal(6.8);
    expect(entry.attachments[0]?.writes).to.equal(1);
    expect(entry.draftGradeWrites).to.equal(0);
  });

  it('when the district deleted a student on request, then their Google sign-in says so and records nothing of them', async () => {
    const opened = await teacherOpens();
    expect((await postActivity(opened, { title: 'Ratios quiz', maxPoints: '4' })).status).to.equal(
      201,
    );
    const [attachment] = world.google.state.attachmentsOf(world.seed.courseWork.id);
    const student = world.seed.students[1];
    await recordDeletion(
      database.db,
      world.tenantId,
      await world.tool.services.deletionRecords.hashPerson(world.google.issuer, student?.id ?? ''),
      new Date('2026-12-01T09:00:00.000Z'),
    );
    const opening = await openAddOn(
      world,
      world.google.attachmentFrameUrl({
        attachmentId: attachment?.id ?? '',
        view: 'student',
        userId: student?.id ?? '',
      }),
      student?.id ?? '',
    );
    expect(opening.callbackStatus).to.equal(403);
    expect(decode(opening.callbackBody)).to.include(
      'removed from Mastery Pathways at your school district’s request',
    );
    expect(opening.sessionUrl).to.equal(undefined);
    expect(
      await world.tool.services.people.findUser(
        world.tenantId,
        world.google.issuer,
        student?.id ?? '',
      ),
    ).to.equal(undefined);
  });

  it('(4) when the district turns Classroom data access off, then grading stops for the course with the reason in words, the cells wait, and the teacher and admin pages say what to do', async () => {
    const opened = await teacherOpens();
    expect((await postActivity(opened, { title: 'Ratios quiz', maxPoints: '4' })).status).to.equal(
      201,
    );
    const courseId = await toolCourseId();
    world.google.state.setClassroomApiDisabled(world.seed.teacher.id, true);
    const { lms } = await lmsForCourse(world.tool.services, world.tenantId, courseId);
    const error = await lms.roster().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ClassroomError);
    // Kept, not failed: the grades are sent once a person fixes it and a teacher signs in.
    expect(classifyPassbackError(error).kind).to.equal('transient');
    const link = await database.db
      .selectFrom('classroom_courses')
      .select(['needs_teacher_sign_in', 'needs_sign_in_reason'])
      .where('tenant_id', '=', world.tenantId)
      .where('course_id', '=', courseId)
      .executeTakeFirstOrThrow();
    expect(link.needs_teacher_sign_in).to.equal(true);
    expect(link.needs_sign_in_reason).to.include('turned off Classroom data access');
    // Stopped: the next post does not call Google at all.
    const before = world.google.state.counters.apiRequests;
    await lms.roster().then(
      () => undefined,
      () => undefined,
    );
    expect(world.google.state.counters.apiRequests).to.equal(before);

    const [attachment] = world.google.state.attachmentsOf(world.seed.courseWork.id);
    const query = new URLSearchParams({
      itemId: world.seed.courseWork.id,
      attachmentId: attachment?.id ?? '',
    });
    const teacherView = decode(
      await (
        await fetch(`${world.tool.origin}${opened.base ?? ''}/classroom/teacher?${query}`)
      ).text(),
    );
    expect(teacherView).to.include('turned off Classroom data access');
    expect(teacherView).to.include('Admin console');

    const admin = await adminClassroomPage();
    expect(admin.status).to.equal(200);
    expect(decode(admin.text)).to.include('Classes where grading is stopped');
    expect(decode(admin.text)).to.include('turned off Classroom data access');
  });

  it('(4) when the grading teacher leaves the class, then grading stops for the course saying another teacher must sign in, and that sign-in resumes it', async () => {
    const opened = await teacherOpens();
    expect((await postActivity(opened, { title: 'Ratios quiz', maxPoints: '4' })).status).to.equal(
      201,
    );
    const courseId = await toolCourseId();
    world.google.state.removeTeacher(world.seed.course.id, world.seed.teacher.id);
    const { lms } = await lmsForCourse(world.tool.services, world.tenantId, courseId);
    const error = await lms.roster().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(classifyPassbackError(error).kind).to.equal('transient');
    const link = await world.tool.services.classroom.repository.findCourseLink(
      world.tenantId,
      courseId,
    );
    expect(link?.needsTeacherSignIn).to.equal(true);
    expect(link?.needsSignInReason).to.include('no longer a teacher of it');
    // A co-teacher opens the add-on and signs in: grading resumes with their sign-in.
    const coTeacher = world.google.state.addUser({
      email: 'lee.park@district.example.edu',
      givenName: 'Lee',
      familyName: 'Park',
    });
    world.google.state.addTeacher(world.seed.course.id, coTeacher.id);
    const [attachment] = world.google.state.attachmentsOf(world.seed.courseWork.id);
    await openAddOn(
      world,
      world.google.attachmentFrameUrl({
        attachmentId: attachment?.id ?? '',
        view: 'teacher',
        userId: coTeacher.id,
      }),
      coTeacher.id,
    );
    const roster = await (
      await lmsForCourse(world.tool.services, world.tenantId, courseId)
    ).lms.roster();
    expect(roster.map((m) => m.userId)).to.include(coTeacher.id);
  });

  it('(4) when Classroom data access is off for a student who opens the add-on, then the sign-in page says so in words, not "not in this class"', async () => {
    const opened = await teacherOpens();
    expect((await postActivity(opened, { title: 'Ratios quiz', maxPoints: '4' })).status).to.equal(
      201,
    );
    const [attachment] = world.google.state.attachmentsOf(world.seed.courseWork.id);
    const student = world.seed.students[1];
    world.google.state.setClassroomApiDisabled(student?.id ?? '', true);
    const opening = await openAddOn(
      world,
      world.google.attachmentFrameUrl({
        attachmentId: attachment?.id ?? '',
        view: 'student',
        userId: student?.id ?? '',
      }),
      student?.id ?? '',
    );
    expect(opening.callbackStatus).to.equal(403);
    const page = decode(opening.callbackBody);
    expect(page).to.include('turned off Classroom data access');
    expect(page).to.include('classroom.classroom_api_disabled');
    expect(page).not.to.include('does not list you');
  });

  it('(4) when the Classroom API is not enabled in the Cloud project, then creating an activity says so in words (not "another app")', async () => {
    const opened = await teacherOpens();
    world.google.state.setApiEnabled(world.client.projectNumber, false);
    const created = await postActivity(opened, { title: 'Ratios quiz', maxPoints: '4' });
    expect(created.status).to.equal(403);
    expect(created.body).to.include('Google Classroom API is not enabled');
    expect(created.body).to.include('classroom.api_not_enabled');
    expect(created.body).not.to.include('another app');
  });

  it('(6) when a teacher reuses the post in another class, then a student there sees the activity with its standards, copied through copyHistory', async () => {
    const opened = await teacherOpens();
    expect((await postActivity(opened, { title: 'Ratios quiz', maxPoints: '4' })).status).to.equal(
      201,
    );
    const other = world.google.state.addCourse({
      name: 'Algebra I',
      section: 'Period 5',
      ownerId: world.seed.teacher.id,
    });
    const student = world.seed.students[2];
    world.google.state.addStudent(other.id, student?.id ?? '');
    const reused = world.google.state.reuseCourseWork({
      courseId: world.seed.course.id,
      courseWorkId: world.seed.courseWork.id,
      targetCourseId: other.id,
      userId: world.seed.teacher.id,
    });
    const [copy] = world.google.state.attachmentsOf(reused.id);
    const opening = await openAddOn(
      world,
      world.google.attachmentFrameUrl({
        attachmentId: copy?.id ?? '',
        view: 'student',
        userId: student?.id ?? '',
      }),
      student?.id ?? '',
    );
    expect(opening.callbackStatus, opening.callbackBody).to.equal(200);
    const page = decode(await (await fetch(opening.sessionUrl ?? '')).text());
    expect(page).to.include('Ratios quiz');
    expect(page).to.include(standards[0]?.code ?? '?');
    const copiedCourse = await toolCourseId(other.id);
    const rows = await database.db
      .selectFrom('course_assignments as a')
      .innerJoin('assignment_alignments as al', 'al.assignment_id', 'a.id')
      .select(['a.copied_from', 'al.item_id'])
      .where('a.tenant_id', '=', world.tenantId)
      .where('a.course_id', '=', copiedCourse)
      .execute();
    expect(rows.map((r) => r.item_id).sort()).to.deep.equal(
      [standards[0]?.id, standards[1]?.id].sort(),
    );
    expect(rows.every((r) => r.copied_from !== null)).to.equal(true);
  });

  it('(6) when a teacher copies the class, then the teacher view of the copied attachment shows the activity and its standards', async () => {
    const opened = await teacherOpens();
    expect((await postActivity(opened, { title: 'Ratios quiz', maxPoints: '4' })).status).to.equal(
      201,
    );
    const copied = world.google.state.copyCourse({
      courseId: world.seed.course.id,
      userId: world.seed.teacher.id,
    });
    const work = copied.courseWork.get(world.seed.courseWork.id);
    world.google.state.publishCourseWork(work?.id ?? '');
    const [copy] = world.google.state.attachmentsOf(work?.id ?? '');
    const opening = await openAddOn(
      world,
      world.google.attachmentFrameUrl({
        attachmentId: copy?.id ?? '',
        view: 'teacher',
        userId: world.seed.teacher.id,
      }),
      world.seed.teacher.id,
    );
    const page = decode(await (await fetch(opening.sessionUrl ?? '')).text());
    expect(page).to.include('Worth 4 points');
    expect(page).to.include(standards[1]?.code ?? '?');
    expect(page).not.to.include('not created by Mastery Pathways');
  });

  it('(7) when the teacher enters 2.5 points, then the form says Classroom takes whole points and nothing is created', async () => {
    const opened = await teacherOpens();
    const created = await postActivity(opened, { title: 'Ratios quiz', maxPoints: '2.5' });
    expect(created.status).to.equal(400);
    expect(created.body).to.include('Google Classroom accepts only whole points');
    expect(world.google.state.attachmentsOf(world.seed.courseWork.id)).to.have.length(0);
    expect([...world.google.state.courseWork.values()].map((w) => w.title)).not.to.include(
      'Ratios quiz',
    );
  });

  it('(8) when the add-on opens on a course work material, then sign-in works (by itemType) and the page says materials have no grades', async () => {
    const material = world.google.state.createPost({
      courseId: world.seed.course.id,
      itemType: 'courseWorkMaterials',
      title: 'Reading',
      creatorUserId: world.seed.teacher.id,
    });
    const opened = await teacherOpens(material.id);
    expect(opened.callbackStatus, opened.callbackBody).to.equal(200);
    expect(opened.sessionUrl).to.include('itemType=courseWorkMaterials');
    const page = await fetch(opened.sessionUrl ?? '');
    const html = decode(await page.text());
    expect(page.status).to.equal(400);
    expect(html).to.include('materials and announcements have no grades');
    expect(world.google.state.attachmentsOf(material.id)).to.have.length(0);
  });

  it('(9) when Google answers invalid_client (an expired client secret), then Classroom calls stop and the operator is told in words', async () => {
    const opened = await teacherOpens();
    expect((await postActivity(opened, { title: 'Ratios quiz', maxPoints: '4' })).status).to.equal(
      201,
    );
    const courseId = await toolCourseId();
    // The secret is rotated in Google Cloud; the tool's access token has expired meanwhile.
    world.google.state.clients.set(world.client.clientId, {
      ...world.client,
      clientSecret: 'GOCSPX-rotated-secret-value',
    });
    world.google.state.expireAccessTokens(world.seed.teacher.id);
    const { lms } = await lmsForCourse(world.tool.services, world.tenantId, courseId);
    const first = await lms.roster().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(first).to.be.instanceOf(ClassroomError);
    expect((first as ClassroomError).code).to.equal('client_secret_rejected');
    const classified = classifyPassbackError(first);
    expect(classified.kind === 'transient' && classified.code).to.equal(
      'classroom_client_rejected',
    );
    const tokenRequests = world.google.state.counters.tokenRequests;
    const again = await (
      await lmsForCourse(world.tool.services, world.tenantId, courseId)
    ).lms
      .roster()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((again as ClassroomError).code).to.equal('client_secret_rejected');
    expect(world.google.state.counters.tokenRequests).to.equal(tokenRequests);
    const install = await world.tool.services.classroom.findInstall(world.tenantId);
    expect(install?.clientRejectedAt).to.be.instanceOf(Date);
    const admin = decode((await adminClassroomPage()).text);
    expect(admin).to.include('Google refused the OAuth client secret');
    expect(admin).to.include('saves a new client secret');
  });
});
