import { expect } from 'chai';
import { createAppServices } from '../../src/app-services.ts';
import { classroomUrls } from '../../src/web/routes/classroom.routes.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { TEST_SECRET } from '../support/lti-world.ts';
import { createClassroomWorld, openAddOn, type ClassroomWorld } from './classroom-world.ts';

const SCOPE = 'https://www.googleapis.com/auth/';
const TEACHER_GRADING = `${SCOPE}classroom.coursework.students`;
const TEACHER_ADDON = `${SCOPE}classroom.addons.teacher`;
const STUDENT_ADDON = `${SCOPE}classroom.addons.student`;

/**
 * Google sign-in as Google's add-on guides ask (issue 19, items 3, 5 and 9): a person already
 * signed in is not asked again, students are never forced through the consent screen, what was
 * unticked at consent is said in words, and a rotated refresh token keeps its scopes.
 */
describe(`Google Classroom sign-in once, granted scopes (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let world: ClassroomWorld;

  beforeEach(async () => {
    database = await createTestDatabase();
    world = await createClassroomWorld(database);
  });

  afterEach(async () => {
    await world.close();
    await database.close();
  });

  /** An attachment of the tool on the seeded assignment, as a licensed teacher made it. */
  function attachment(): string {
    const urls = classroomUrls(world.tool.origin, world.tenantSlug);
    return world.google.state.createAttachment({
      courseId: world.seed.course.id,
      itemId: world.seed.courseWork.id,
      projectNumber: world.client.projectNumber,
      title: 'Ratio tables',
      teacherViewUri: urls.teacherViewUri,
      studentViewUri: urls.studentViewUri,
      studentWorkReviewUri: urls.studentWorkReviewUri,
      maxPoints: 4,
    }).id;
  }

  const studentFrame = (attachmentId: string, userId: string): string =>
    world.google.attachmentFrameUrl({ attachmentId, view: 'student', userId });

  const teacherFrame = (): string =>
    world.google.discoveryFrameUrl({
      courseId: world.seed.course.id,
      itemId: world.seed.courseWork.id,
      userId: world.seed.teacher.id,
    });

  async function gradingUserId(): Promise<string | null | undefined> {
    const row = await database.db
      .selectFrom('classroom_courses')
      .select('grading_user_id')
      .where('tenant_id', '=', world.tenantId)
      .executeTakeFirst();
    return row?.grading_user_id;
  }

  it('when a student opens an attachment twice, then Google shows the consent screen once and the tool never forces it', async () => {
    const student = world.seed.students[0]?.id ?? '';
    const id = attachment();

    const first = await openAddOn(world, studentFrame(id, student), student);
    expect(first.sessionUrl).to.match(/\/s\/[^/]+\/classroom\/student\?/);
    // Classroom sends no login_hint before the first sign-in: the account chooser, no forced consent.
    const firstPrompt = new URL(first.authorizationUrl).searchParams.get('prompt');
    expect(firstPrompt).to.equal('select_account');
    expect(world.google.consents.screensFor(student)).to.equal(1);

    // Second open, in a browser that kept no cookie: the sign-in window, but no consent screen.
    const second = await openAddOn(world, studentFrame(id, student), student);
    expect(second.sessionUrl).to.match(/\/s\/[^/]+\/classroom\/student\?/);
    const secondUrl = new URL(second.authorizationUrl);
    expect(secondUrl.searchParams.get('login_hint')).to.equal(student);
    expect(secondUrl.searchParams.has('prompt')).to.equal(false);
    expect(world.google.consents.screensFor(student)).to.equal(1);
  });

  it('when the browser kept the partitioned cookie, then opening the add-on again for the same account skips the sign-in window', async () => {
    const student = world.seed.students[0]?.id ?? '';
    const id = attachment();
    const first = await openAddOn(world, studentFrame(id, student), student);
    expect(first.rememberCookie).to.match(/^mp_gsi_[A-Za-z0-9_-]+=[A-Za-z0-9_-]{20,}$/);

    const tokenRequests = world.google.state.counters.tokenRequests;
    const again = await fetch(studentFrame(id, student), {
      redirect: 'manual',
      headers: { cookie: first.rememberCookie ?? '' },
    });
    expect(again.status).to.equal(303);
    const location = again.headers.get('location') ?? '';
    expect(location).to.match(/^\/s\/[A-Za-z0-9_-]+\/classroom\/student\?/);
    // No Google sign-in at all: no code exchanged, no consent screen.
    expect(world.google.state.counters.tokenRequests).to.equal(tokenRequests);
    expect(world.google.consents.screensFor(student)).to.equal(1);
    const page = await fetch(new URL(location, world.tool.origin));
    expect(page.status).to.equal(200);
    // The student's own view of the class Classroom named (course title from the first sign-in).
    expect(await page.text()).to.contain(`Class: ${world.seed.course.name}`);
  });

  it('when "Continue" remembers the browser, then the cookie is partitioned, Secure, HttpOnly, scoped to the district and stored only as a hash', async () => {
    const student = world.seed.students[0]?.id ?? '';
    const opened = await openAddOn(world, studentFrame(attachment(), student), student);
    const attributes = (opened.rememberSetCookie ?? '').split(';').map((a) => a.trim());
    expect(attributes).to.include.members([
      `Path=/classroom/${world.tenantSlug}/`,
      'HttpOnly',
      'Secure',
      'SameSite=None',
      'Partitioned',
      'Max-Age=43200',
    ]);
    const rows = await database.db
      .selectFrom('classroom_remembered_sign_ins')
      .selectAll()
      .where('tenant_id', '=', world.tenantId)
      .execute();
    expect(rows).to.have.length(1);
    const token = opened.rememberCookie?.split('=')[1] ?? '';
    expect(rows[0]?.token_hash).to.match(/^[0-9a-f]{64}$/);
    expect(rows[0]?.token_hash).to.not.equal(token);
    expect(rows[0]?.google_sub).to.equal(student);
  });

  it("when a remembered cookie is presented for another account's login_hint, expired, or after the district's settings changed, then the sign-in page shows and no session is made", async () => {
    const [ava, ben] = world.seed.students;
    const id = attachment();
    const opened = await openAddOn(world, studentFrame(id, ava?.id ?? ''), ava?.id ?? '');
    const token = opened.rememberCookie?.split('=')[1] ?? '';
    expect(token).to.match(/^[A-Za-z0-9_-]{20,}$/);
    // Ben signs in once; his own cookie opens his session (the control for what follows).
    const bens = await openAddOn(world, studentFrame(id, ben?.id ?? ''), ben?.id ?? '');
    const own = await fetch(studentFrame(id, ben?.id ?? ''), {
      redirect: 'manual',
      headers: { cookie: bens.rememberCookie ?? '' },
    });
    expect(own.status).to.equal(303);
    const cookieName = bens.rememberCookie?.split('=')[0] ?? '';

    // Ava's token under Ben's cookie name, in Ben's frame: never Ava's session for Ben.
    const forged = await fetch(studentFrame(id, ben?.id ?? ''), {
      redirect: 'manual',
      headers: { cookie: `${cookieName}=${token}` },
    });
    expect(forged.status).to.equal(200);
    expect(await forged.text()).to.contain('id="classroom-sign-in"');

    // Expired.
    await database.db
      .updateTable('classroom_remembered_sign_ins')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('tenant_id', '=', world.tenantId)
      .execute();
    const expired = await fetch(studentFrame(id, ava?.id ?? ''), {
      redirect: 'manual',
      headers: { cookie: opened.rememberCookie ?? '' },
    });
    expect(expired.status).to.equal(200);
    expect(await expired.text()).to.contain('id="classroom-sign-in"');

    // Fresh again, but the district saved its Classroom settings since (domains may differ).
    const fresh = await openAddOn(world, studentFrame(id, ava?.id ?? ''), ava?.id ?? '');
    await world.tool.services.classroom.saveInstall(world.tenantId, {
      issuer: world.google.issuer,
      clientId: world.client.clientId,
      clientSecret: undefined,
      allowedDomains: [world.seed.domain],
      apiBaseUrl: world.google.urls.apiBase,
      frameOrigin: world.googleOrigin,
    });
    const changed = await fetch(studentFrame(id, ava?.id ?? ''), {
      redirect: 'manual',
      headers: { cookie: fresh.rememberCookie ?? '' },
    });
    expect(changed.status).to.equal(200);
    expect(await changed.text()).to.contain('id="classroom-sign-in"');
  });

  it('when a teacher unticks the grading permission, then the sign-in window says which permissions to allow, the teacher is not the grading teacher, and signing in again with them ticked is', async () => {
    const opened = await openAddOn(world, teacherFrame(), world.seed.teacher.id, {
      decline: [TEACHER_GRADING],
    });
    expect(opened.callbackStatus).to.equal(403);
    expect(opened.callbackBody).to.contain('Allow Mastery Pathways in Google');
    expect(opened.callbackBody).to.contain(TEACHER_GRADING);
    expect(opened.callbackBody).to.contain('Manage course work and grades');
    expect(opened.callbackBody).to.not.contain(TEACHER_ADDON);
    expect(opened.sessionUrl).to.equal(undefined);
    expect(await gradingUserId()).to.equal(undefined);

    // "Sign in with Google again": the same flow, Google asks for what is missing.
    const again = /id="classroom-sign-in-again" href="([^"]+)"/.exec(opened.callbackBody)?.[1];
    expect(again).to.be.a('string');
    const toGoogle = await fetch(new URL(again ?? '', world.tool.origin), { redirect: 'manual' });
    expect(toGoogle.status).to.equal(302);
    const callback = await world.google.signIn(
      toGoogle.headers.get('location') ?? '',
      world.seed.teacher.id,
    );
    const back = await fetch(callback);
    expect(back.status).to.equal(200);
    expect(await back.text()).to.contain('You are signed in');
    expect(await gradingUserId()).to.be.a('string');
  });

  it('when a teacher unticks both add-on permissions, then Classroom is not asked and the page names the teacher permissions', async () => {
    const opened = await openAddOn(world, teacherFrame(), world.seed.teacher.id, {
      decline: [TEACHER_ADDON, STUDENT_ADDON],
    });
    expect(opened.callbackStatus).to.equal(403);
    expect(opened.callbackBody).to.contain(TEACHER_ADDON);
    expect(await gradingUserId()).to.equal(undefined);
  });

  it('when a student unticks the student add-on permission, then the page names only that one and no session is made', async () => {
    const student = world.seed.students[0]?.id ?? '';
    const opened = await openAddOn(world, studentFrame(attachment(), student), student, {
      decline: [STUDENT_ADDON, TEACHER_ADDON, TEACHER_GRADING],
    });
    expect(opened.callbackStatus).to.equal(403);
    expect(opened.callbackBody).to.contain(STUDENT_ADDON);
    expect(opened.callbackBody).to.not.contain(TEACHER_GRADING);
    expect(opened.sessionUrl).to.equal(undefined);
  });

  it('when a student unticks only teacher permissions, then the student still gets in', async () => {
    const student = world.seed.students[0]?.id ?? '';
    const opened = await openAddOn(world, studentFrame(attachment(), student), student, {
      decline: [TEACHER_ADDON, TEACHER_GRADING],
    });
    expect(opened.callbackStatus).to.equal(200);
    expect(opened.sessionUrl).to.match(/\/classroom\/student\?/);
  });

  it('when a teacher with a stored refresh token signs in again, then consent is not forced; without one it is', async () => {
    const first = await openAddOn(world, teacherFrame(), world.seed.teacher.id);
    expect(new URL(first.authorizationUrl).searchParams.get('prompt')).to.equal(
      'select_account consent',
    );
    const second = await openAddOn(world, teacherFrame(), world.seed.teacher.id);
    expect(new URL(second.authorizationUrl).searchParams.has('prompt')).to.equal(false);
    expect(world.google.consents.screensFor(world.seed.teacher.id)).to.equal(1);
  });

  it('when Google rotates the refresh token and leaves scope out, then the stored scopes are kept', async () => {
    await openAddOn(world, teacherFrame(), world.seed.teacher.id);
    const scopesOf = async () =>
      (
        await database.db
          .selectFrom('classroom_user_tokens')
          .select('scopes')
          .where('tenant_id', '=', world.tenantId)
          .executeTakeFirstOrThrow()
      ).scopes;
    const before = await scopesOf();
    expect(before).to.include(TEACHER_GRADING);

    world.google.consents.rotateRefreshTokens = true;
    // Another instance of the tool (no access token cached) must refresh.
    const other = createAppServices({ db: database.db, keyEncryptionSecret: TEST_SECRET });
    const teacherUser = await gradingUserId();
    const api = await other.classroom.apiForUser(world.tenantId, teacherUser ?? '');
    await api.getCourse(world.seed.course.id);
    const rotated = await database.db
      .selectFrom('classroom_user_tokens')
      .select(['scopes', 'encrypted_refresh_token'])
      .where('tenant_id', '=', world.tenantId)
      .executeTakeFirstOrThrow();
    expect(rotated.scopes).to.have.members(before);
    // The course still counts the teacher as able to grade on their next sign-in.
    const again = await openAddOn(world, teacherFrame(), world.seed.teacher.id);
    expect(new URL(again.authorizationUrl).searchParams.has('prompt')).to.equal(false);
  });
});
