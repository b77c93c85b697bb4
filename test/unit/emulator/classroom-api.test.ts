import { expect } from 'chai';
import { CLASSROOM_SCOPE } from '../../../src/emulator/classroom/emulator.ts';
import {
  ADDON_SCOPES,
  api,
  signInTokens,
  startClassroom,
  TOOL_ORIGIN,
  type ClassroomWorld,
} from './classroom-support.ts';

const PROJECT_DENIED =
  '@ProjectPermissionDenied The Developer Console project is not permitted to make this request.';

interface GoogleErrorBody {
  error: {
    code: number;
    message: string;
    status: string;
    details?: {
      '@type': string;
      reason: string;
      domain: string;
      metadata?: Record<string, string>;
    }[];
  };
}

describe('emulator (classroom): Classroom REST API v1', () => {
  let world: ClassroomWorld;
  let teacherToken: string;
  beforeEach(async () => {
    world = await startClassroom();
    teacherToken = (await signInTokens(world, world.seed.teacher.id)).access_token;
  });
  afterEach(async () => {
    await world.close();
  });

  const coursePath = (): string => `/v1/courses/${world.seed.course.id}`;
  const itemPath = (): string => `${coursePath()}/courseWork/${world.seed.courseWork.id}`;

  async function createCourseWork(token = teacherToken, title = 'Mastery: Linear equations') {
    const res = await api(world, 'POST', `${coursePath()}/courseWork`, token, {
      title,
      workType: 'ASSIGNMENT',
      state: 'PUBLISHED',
      maxPoints: 4,
      materials: [{ link: { url: `${TOOL_ORIGIN}/go` } }],
    });
    expect(res.status).to.equal(200);
    return res.body as { id: string; maxPoints: number; associatedWithDeveloper?: boolean };
  }

  async function createAttachment(token = teacherToken, maxPoints: number | null = 4) {
    const discovery = new URL(
      world.emulator.discoveryFrameUrl({
        courseId: world.seed.course.id,
        itemId: world.seed.courseWork.id,
        userId: world.seed.teacher.id,
      }),
    );
    const addOnToken = discovery.searchParams.get('addOnToken') ?? '';
    return api(
      world,
      'POST',
      `${itemPath()}/addOnAttachments?addOnToken=${encodeURIComponent(addOnToken)}`,
      token,
      {
        title: 'Solving linear equations',
        teacherViewUri: { uri: `${TOOL_ORIGIN}/addon/teacher` },
        studentViewUri: { uri: `${TOOL_ORIGIN}/addon/student` },
        studentWorkReviewUri: { uri: `${TOOL_ORIGIN}/addon/review` },
        ...(maxPoints === null ? {} : { maxPoints }),
      },
    );
  }

  describe('authentication and errors', () => {
    it("when no bearer token is sent, then 401 UNAUTHENTICATED in Google's shape", async () => {
      const res = await api(world, 'GET', coursePath(), undefined);
      expect(res.status).to.equal(401);
      const body = res.body as unknown as GoogleErrorBody;
      expect(body.error.code).to.equal(401);
      expect(body.error.status).to.equal('UNAUTHENTICATED');
      expect(body.error.message).to.contain('missing required authentication credential');
      expect(res.headers.get('www-authenticate')).to.contain('Bearer');
    });

    it('when the token is unknown or its grant was revoked, then 401 invalid credentials', async () => {
      expect((await api(world, 'GET', coursePath(), 'ya29.nope')).status).to.equal(401);
      world.emulator.state.revokeRefreshTokens(world.seed.teacher.id);
      const res = await api(world, 'GET', coursePath(), teacherToken);
      expect(res.status).to.equal(401);
      expect((res.body as unknown as GoogleErrorBody).error.message).to.contain(
        'invalid authentication credentials',
      );
    });

    it('when the token lacks the scope, then 403 PERMISSION_DENIED insufficient scopes', async () => {
      const narrow = await signInTokens(world, world.seed.teacher.id, {
        scopes: ['openid', 'email'],
      });
      const res = await api(world, 'GET', coursePath(), narrow.access_token);
      expect(res.status).to.equal(403);
      const body = res.body as unknown as GoogleErrorBody;
      expect(body.error).to.include({
        code: 403,
        message: 'Request had insufficient authentication scopes.',
        status: 'PERMISSION_DENIED',
      });
      // google.rpc.ErrorInfo names the reason (Google APIs' error model).
      expect(body.error.details?.[0]).to.deep.include({
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT',
        domain: 'googleapis.com',
      });
    });

    it('when the district turned Classroom data access off for the user, then 403 @ClassroomApiDisabled as the errors guide shows it', async () => {
      world.emulator.state.setClassroomApiDisabled(world.seed.teacher.id, true);
      const res = await api(world, 'GET', coursePath(), teacherToken);
      expect(res.status).to.equal(403);
      expect((res.body as unknown as GoogleErrorBody).error).to.include({
        code: 403,
        message: '@ClassroomApiDisabled The user is not permitted to access the Classroom API.',
        status: 'PERMISSION_DENIED',
      });
    });

    it('when the Classroom API is not enabled in the Cloud project, then 403 with ErrorInfo SERVICE_DISABLED', async () => {
      world.emulator.state.setApiEnabled(world.client.projectNumber, false);
      const res = await api(world, 'GET', coursePath(), teacherToken);
      expect(res.status).to.equal(403);
      const body = res.body as unknown as GoogleErrorBody;
      expect(body.error.message).to.contain(
        `Google Classroom API has not been used in project ${world.client.projectNumber}`,
      );
      expect(body.error.details?.[0]?.reason).to.equal('SERVICE_DISABLED');
      expect(body.error.details?.[0]?.metadata).to.deep.include({
        service: 'classroom.googleapis.com',
      });
    });

    it('when the course does not exist, then 404 NOT_FOUND', async () => {
      const res = await api(world, 'GET', '/v1/courses/999999999999', teacherToken);
      expect(res.status).to.equal(404);
      expect((res.body as unknown as GoogleErrorBody).error).to.include({
        code: 404,
        message: 'Requested entity was not found.',
        status: 'NOT_FOUND',
      });
    });

    it('when the caller is not in the course, then 403 PERMISSION_DENIED', async () => {
      const stranger = world.emulator.state.addUser({
        email: 'x.y@district.example.edu',
        givenName: 'X',
        familyName: 'Y',
      });
      const token = (await signInTokens(world, stranger.id)).access_token;
      const res = await api(world, 'GET', coursePath(), token);
      expect(res.status).to.equal(403);
      expect((res.body as unknown as GoogleErrorBody).error.status).to.equal('PERMISSION_DENIED');
    });

    it('when a 429 is injected, then RESOURCE_EXHAUSTED with Retry-After and then normal service', async () => {
      world.emulator.state.injectFaults({ kind: 'status', status: 429, retryAfterSeconds: 7 });
      const limited = await api(world, 'GET', coursePath(), teacherToken);
      expect(limited.status).to.equal(429);
      expect(limited.headers.get('retry-after')).to.equal('7');
      const body = limited.body as unknown as GoogleErrorBody;
      expect(body.error).to.include({ code: 429, status: 'RESOURCE_EXHAUSTED' });
      expect(body.error.message).to.contain('Quota exceeded');
      expect((await api(world, 'GET', coursePath(), teacherToken)).status).to.equal(200);
    });
  });

  describe('courses and rosters', () => {
    it("when the teacher gets and lists courses, then the course comes back in Google's shape", async () => {
      const one = await api(world, 'GET', coursePath(), teacherToken);
      expect(one.status).to.equal(200);
      expect(one.body).to.include({
        id: world.seed.course.id,
        name: 'Algebra I',
        section: 'Period 3',
        ownerId: world.seed.teacher.id,
        courseState: 'ACTIVE',
      });
      const list = await api(world, 'GET', '/v1/courses?teacherId=me', teacherToken);
      expect((list.body.courses as { id: string }[]).map((c) => c.id)).to.deep.equal([
        world.seed.course.id,
      ]);
      const none = await api(world, 'GET', '/v1/courses?studentId=me', teacherToken);
      // Google leaves empty lists out.
      expect(none.body).to.deep.equal({});
    });

    it('when the roster is larger than a page, then students page with nextPageToken and emails come with the scope', async () => {
      const big = await startClassroom({ maxPageSize: 30 }, { students: 33 });
      try {
        const token = (await signInTokens(big, big.seed.teacher.id)).access_token;
        const path = `/v1/courses/${big.seed.course.id}/students`;
        const first = await api(big, 'GET', `${path}?pageSize=100`, token);
        const firstStudents = first.body.students as {
          userId: string;
          profile: Record<string, unknown>;
        }[];
        expect(firstStudents).to.have.length(30);
        expect(first.body.nextPageToken).to.be.a('string');
        expect(firstStudents[0]?.profile).to.deep.include({
          id: big.seed.students[0]?.id,
          emailAddress: big.seed.students[0]?.email,
        });
        const second = await api(
          big,
          'GET',
          `${path}?pageSize=100&pageToken=${String(first.body.nextPageToken)}`,
          token,
        );
        // 33 seeded students + the student from the other domain.
        expect(second.body.students).to.have.length(4);
        expect(second.body).to.not.have.property('nextPageToken');
        const bad = await api(big, 'GET', `${path}?pageToken=garbage`, token);
        expect(bad.status).to.equal(400);
        expect((bad.body as unknown as GoogleErrorBody).error.status).to.equal('INVALID_ARGUMENT');
      } finally {
        await big.close();
      }
    });

    it('when the token has no profile.emails scope, then profiles come without emailAddress', async () => {
      const token = (
        await signInTokens(world, world.seed.teacher.id, {
          scopes: ['openid', CLASSROOM_SCOPE.rostersReadonly],
        })
      ).access_token;
      const res = await api(world, 'GET', `${coursePath()}/teachers`, token);
      const teachers = res.body.teachers as { profile: Record<string, unknown> }[];
      expect(teachers).to.have.length(2);
      expect(teachers[0]?.profile).to.not.have.property('emailAddress');
      expect(teachers[0]?.profile.name).to.deep.equal({
        givenName: 'Maria',
        familyName: 'Alvarez',
        fullName: 'Maria Alvarez',
      });
    });
  });

  describe('courseWork and studentSubmissions', () => {
    it('when the tool creates, gets, lists and patches its courseWork, then Classroom stores it', async () => {
      const work = await createCourseWork();
      expect(work).to.include({ maxPoints: 4, associatedWithDeveloper: true });
      const got = await api(world, 'GET', `${coursePath()}/courseWork/${work.id}`, teacherToken);
      expect(got.body).to.include({
        title: 'Mastery: Linear equations',
        workType: 'ASSIGNMENT',
        state: 'PUBLISHED',
      });
      const list = await api(world, 'GET', `${coursePath()}/courseWork`, teacherToken);
      expect((list.body.courseWork as { id: string }[]).map((w) => w.id)).to.include(work.id);
      const patched = await api(
        world,
        'PATCH',
        `${coursePath()}/courseWork/${work.id}?updateMask=title,maxPoints`,
        teacherToken,
        { title: 'Renamed', maxPoints: 5 },
      );
      expect(patched.status).to.equal(200);
      expect(patched.body).to.include({ title: 'Renamed', maxPoints: 5 });
    });

    it('when another Cloud project patches the courseWork, then 403 @ProjectPermissionDenied', async () => {
      const work = await createCourseWork();
      const other = (
        await signInTokens(world, world.seed.teacher.id, { client: world.otherClient })
      ).access_token;
      const res = await api(
        world,
        'PATCH',
        `${coursePath()}/courseWork/${work.id}?updateMask=title`,
        other,
        { title: 'Hijack' },
      );
      expect(res.status).to.equal(403);
      expect((res.body as unknown as GoogleErrorBody).error).to.include({
        code: 403,
        message: PROJECT_DENIED,
        status: 'PERMISSION_DENIED',
      });
    });

    it('when grades are patched with updateMask, then the gradebook shows them and counts each write', async () => {
      const work = await createCourseWork();
      const list = await api(
        world,
        'GET',
        `${coursePath()}/courseWork/${work.id}/studentSubmissions`,
        teacherToken,
      );
      const submissions = list.body.studentSubmissions as {
        id: string;
        userId: string;
        state: string;
      }[];
      expect(submissions).to.have.length(5);
      const ava = submissions.find((s) => s.userId === world.seed.students[0]?.id);
      expect(ava?.state).to.equal('CREATED');
      const path = `${coursePath()}/courseWork/${work.id}/studentSubmissions/${ava?.id ?? ''}`;
      const draft = await api(world, 'PATCH', `${path}?updateMask=draftGrade`, teacherToken, {
        draftGrade: 3,
      });
      expect(draft.status).to.equal(200);
      expect(draft.body).to.include({ draftGrade: 3, associatedWithDeveloper: true });
      const assign = await api(
        world,
        'PATCH',
        `${path}?updateMask=draftGrade,assignedGrade`,
        teacherToken,
        { draftGrade: 3, assignedGrade: 3 },
      );
      expect(assign.body).to.include({ draftGrade: 3, assignedGrade: 3 });
      const got = await api(world, 'GET', path, teacherToken);
      expect(got.body).to.include({ draftGrade: 3, assignedGrade: 3 });
      const entry = world.emulator.state.gradebookEntry(work.id, world.seed.students[0]?.id ?? '');
      expect(entry).to.include({
        draftGrade: 3,
        assignedGrade: 3,
        draftGradeWrites: 2,
        assignedGradeWrites: 1,
      });
      const filtered = await api(
        world,
        'GET',
        `${coursePath()}/courseWork/${work.id}/studentSubmissions?userId=${encodeURIComponent(world.seed.students[0]?.email ?? '')}`,
        teacherToken,
      );
      expect(filtered.body.studentSubmissions).to.have.length(1);
    });

    it('when the patch has no updateMask, an unknown field, or an assigned grade without a draft, then 400 INVALID_ARGUMENT', async () => {
      const work = await createCourseWork();
      const list = await api(
        world,
        'GET',
        `${coursePath()}/courseWork/${work.id}/studentSubmissions`,
        teacherToken,
      );
      const id = (list.body.studentSubmissions as { id: string }[])[0]?.id ?? '';
      const path = `${coursePath()}/courseWork/${work.id}/studentSubmissions/${id}`;
      for (const query of ['', '?updateMask=state', '?updateMask=assignedGrade']) {
        const res = await api(world, 'PATCH', `${path}${query}`, teacherToken, {
          assignedGrade: 2,
        });
        expect(res.status, query).to.equal(400);
        expect((res.body as unknown as GoogleErrorBody).error.status).to.equal('INVALID_ARGUMENT');
      }
      const negative = await api(world, 'PATCH', `${path}?updateMask=draftGrade`, teacherToken, {
        draftGrade: -1,
      });
      expect(negative.status).to.equal(400);
      expect(world.emulator.state.counters.gradeWrites).to.equal(0);
    });

    it('when the tool grades coursework a teacher made in Classroom, then 403 @ProjectPermissionDenied and nothing changes', async () => {
      const list = await api(world, 'GET', `${itemPath()}/studentSubmissions`, teacherToken);
      const first = (list.body.studentSubmissions as { id: string; userId: string }[])[0];
      const res = await api(
        world,
        'PATCH',
        `${itemPath()}/studentSubmissions/${first?.id ?? ''}?updateMask=draftGrade`,
        teacherToken,
        { draftGrade: 90 },
      );
      expect(res.status).to.equal(403);
      expect((res.body as unknown as GoogleErrorBody).error.message).to.equal(PROJECT_DENIED);
      expect(
        world.emulator.state.gradebookEntry(world.seed.courseWork.id, first?.userId ?? ''),
      ).to.include({ draftGrade: undefined, draftGradeWrites: 0 });
    });

    it('when a student calls, then they see only their own submission and cannot grade', async () => {
      const work = await createCourseWork();
      const student = world.seed.students[1];
      const token = (await signInTokens(world, student?.id ?? '')).access_token;
      const list = await api(
        world,
        'GET',
        `${coursePath()}/courseWork/${work.id}/studentSubmissions`,
        token,
      );
      const own = list.body.studentSubmissions as { id: string; userId: string }[];
      expect(own.map((s) => s.userId)).to.deep.equal([student?.id]);
      const res = await api(
        world,
        'PATCH',
        `${coursePath()}/courseWork/${work.id}/studentSubmissions/${own[0]?.id ?? ''}?updateMask=draftGrade`,
        token,
        { draftGrade: 4 },
      );
      expect(res.status).to.equal(403);
    });

    it('when a student creates courseWork or the body is not an ASSIGNMENT, then 403 or 400 and nothing is stored', async () => {
      const before = world.emulator.state.courseWork.size;
      const studentToken = (await signInTokens(world, world.seed.students[0]?.id ?? ''))
        .access_token;
      const body = { title: 'x', workType: 'ASSIGNMENT' };
      const student = await api(world, 'POST', `${coursePath()}/courseWork`, studentToken, body);
      expect(student.status).to.equal(403);
      const quiz = await api(world, 'POST', `${coursePath()}/courseWork`, teacherToken, {
        title: 'x',
        workType: 'MULTIPLE_CHOICE_QUESTION',
      });
      expect(quiz.status).to.equal(400);
      expect((quiz.body as unknown as GoogleErrorBody).error.status).to.equal('INVALID_ARGUMENT');
      expect(world.emulator.state.courseWork.size).to.equal(before);
    });

    it('when the course is archived or the assignment deleted, then writes get FAILED_PRECONDITION and reads 404', async () => {
      const work = await createCourseWork();
      const list = await api(
        world,
        'GET',
        `${coursePath()}/courseWork/${work.id}/studentSubmissions`,
        teacherToken,
      );
      const id = (list.body.studentSubmissions as { id: string }[])[0]?.id ?? '';
      const path = `${coursePath()}/courseWork/${work.id}/studentSubmissions/${id}?updateMask=draftGrade`;
      world.emulator.state.setCourseState(world.seed.course.id, 'ARCHIVED');
      const archived = await api(world, 'PATCH', path, teacherToken, { draftGrade: 2 });
      expect(archived.status).to.equal(400);
      expect(archived.body).to.deep.include({
        error: {
          errors: [
            {
              message: '@CourseNotModifiable The course is not in a modifiable state.',
              domain: 'global',
              reason: 'failed_precondition',
            },
          ],
          code: 400,
          message: '@CourseNotModifiable The course is not in a modifiable state.',
          status: 'FAILED_PRECONDITION',
        },
      });
      world.emulator.state.setCourseState(world.seed.course.id, 'ACTIVE');
      world.emulator.state.deleteCourseWork(work.id);
      const gone = await api(world, 'PATCH', path, teacherToken, { draftGrade: 2 });
      expect(gone.status).to.equal(404);
    });

    it('when the teacher returns the work in Classroom, then the draft grade becomes the assigned grade', async () => {
      const work = await createCourseWork();
      const student = world.seed.students[0]?.id ?? '';
      const { submissionId } = world.emulator.state.gradebookEntry(work.id, student);
      await api(
        world,
        'PATCH',
        `${coursePath()}/courseWork/${work.id}/studentSubmissions/${submissionId}?updateMask=draftGrade`,
        teacherToken,
        { draftGrade: 3 },
      );
      world.emulator.state.returnSubmission(submissionId);
      const got = await api(
        world,
        'GET',
        `${coursePath()}/courseWork/${work.id}/studentSubmissions/${submissionId}`,
        teacherToken,
      );
      expect(got.body).to.include({ state: 'RETURNED', draftGrade: 3, assignedGrade: 3 });
    });

    it('when the courseWork id is unknown, then 404 NOT_FOUND', async () => {
      const res = await api(world, 'GET', `${coursePath()}/courseWork/123`, teacherToken);
      expect(res.status).to.equal(404);
    });
  });

  describe('add-ons', () => {
    it('when checkUserCapability (Developer Preview) is called without a previewVersion or from a project not in the preview, then 403', async () => {
      const plain = await api(
        world,
        'GET',
        '/v1/userProfiles/me:checkUserCapability?capability=CREATE_ADD_ON_ATTACHMENT',
        teacherToken,
      );
      expect(plain.status).to.equal(403);
      expect((plain.body as unknown as GoogleErrorBody).error.status).to.equal('PERMISSION_DENIED');
      const notEnrolled = await api(
        world,
        'GET',
        '/v1/userProfiles/me:checkUserCapability?capability=CREATE_ADD_ON_ATTACHMENT&previewVersion=V1_20240930_PREVIEW',
        teacherToken,
      );
      expect(notEnrolled.status).to.equal(403);
    });

    it('when courses.checkAddOnCreationEligibility is asked, then a licensed teacher is eligible and an unlicensed one is not', async () => {
      const path = `${coursePath()}:checkAddOnCreationEligibility`;
      const yes = await api(world, 'GET', path, teacherToken);
      expect(yes.status).to.equal(200);
      expect(yes.body).to.deep.equal({
        courseId: world.seed.course.id,
        isCreateAttachmentEligible: true,
      });
      const unlicensed = (await signInTokens(world, world.seed.unlicensedTeacher.id)).access_token;
      const no = await api(world, 'GET', path, unlicensed);
      expect(no.body).to.deep.equal({
        courseId: world.seed.course.id,
        isCreateAttachmentEligible: false,
      });
      const unknown = await api(
        world,
        'GET',
        '/v1/courses/999999999999:checkAddOnCreationEligibility',
        teacherToken,
      );
      expect(unknown.status).to.equal(404);
    });

    it('when the licence is on or off, then checkUserCapability with a preview version from an enrolled project says allowed true or false', async () => {
      world.emulator.state.previewProjects.add(world.client.projectNumber);
      const path =
        '/v1/userProfiles/me:checkUserCapability?capability=CREATE_ADD_ON_ATTACHMENT&previewVersion=V1_20240930_PREVIEW';
      const yes = await api(world, 'GET', path, teacherToken);
      expect(yes.status).to.equal(200);
      expect(yes.body).to.deep.equal({ capability: 'CREATE_ADD_ON_ATTACHMENT', allowed: true });
      world.emulator.state.setAddOnLicence(world.seed.teacher.id, false);
      const no = await api(world, 'GET', path, teacherToken);
      expect(no.body).to.deep.equal({ capability: 'CREATE_ADD_ON_ATTACHMENT', allowed: false });
      const other = await api(
        world,
        'GET',
        `/v1/userProfiles/${world.seed.unlicensedTeacher.id}:checkUserCapability?capability=CREATE_ADD_ON_ATTACHMENT&previewVersion=V1_20240930_PREVIEW`,
        teacherToken,
      );
      expect(other.status).to.equal(403);
      const missing = await api(
        world,
        'GET',
        '/v1/userProfiles/me:checkUserCapability?previewVersion=V1_20240930_PREVIEW',
        teacherToken,
      );
      expect(missing.status).to.equal(400);
    });

    it('when a licensed teacher creates an attachment with the addOnToken, then it can be got, listed and patched', async () => {
      const created = await createAttachment();
      expect(created.status).to.equal(200);
      expect(created.body).to.include({
        courseId: world.seed.course.id,
        itemId: world.seed.courseWork.id,
        title: 'Solving linear equations',
        maxPoints: 4,
      });
      expect(created.body.teacherViewUri).to.deep.equal({ uri: `${TOOL_ORIGIN}/addon/teacher` });
      const id = String(created.body.id);
      const got = await api(world, 'GET', `${itemPath()}/addOnAttachments/${id}`, teacherToken);
      expect(got.body).to.deep.equal(created.body);
      const list = await api(world, 'GET', `${itemPath()}/addOnAttachments`, teacherToken);
      expect(list.body.addOnAttachments).to.deep.equal([created.body]);
      const patched = await api(
        world,
        'PATCH',
        `${itemPath()}/addOnAttachments/${id}?updateMask=maxPoints,title`,
        teacherToken,
        { maxPoints: 5, title: 'Renamed' },
      );
      expect(patched.body).to.include({ maxPoints: 5, title: 'Renamed' });
      // The grading attachment sets the assignment's points (grade sync).
      expect(world.emulator.state.courseWork.get(world.seed.courseWork.id)?.maxPoints).to.equal(5);
      // Another project neither lists nor reads it.
      const other = (
        await signInTokens(world, world.seed.teacher.id, { client: world.otherClient })
      ).access_token;
      expect((await api(world, 'GET', `${itemPath()}/addOnAttachments`, other)).body).to.deep.equal(
        {},
      );
      const denied = await api(world, 'GET', `${itemPath()}/addOnAttachments/${id}`, other);
      expect(denied.status).to.equal(403);
    });

    it('when the teacher has no licence, then attachment creation is 403 PERMISSION_DENIED', async () => {
      const token = (await signInTokens(world, world.seed.unlicensedTeacher.id)).access_token;
      const res = await api(world, 'POST', `${itemPath()}/addOnAttachments`, token, {
        title: 'x',
        teacherViewUri: { uri: `${TOOL_ORIGIN}/t` },
        studentViewUri: { uri: `${TOOL_ORIGIN}/s` },
      });
      expect(res.status).to.equal(403);
      expect((res.body as unknown as GoogleErrorBody).error.status).to.equal('PERMISSION_DENIED');
      expect(world.emulator.state.attachments.size).to.equal(0);
    });

    it('when the addOnToken is foreign or missing on an item the project did not create, then 403 @InvalidAddOnToken; maxPoints without a review URI is 400', async () => {
      const bad = await api(
        world,
        'POST',
        `${itemPath()}/addOnAttachments?addOnToken=forged`,
        teacherToken,
        {
          title: 'x',
          teacherViewUri: { uri: `${TOOL_ORIGIN}/t` },
          studentViewUri: { uri: `${TOOL_ORIGIN}/s` },
        },
      );
      expect(bad.status).to.equal(403);
      expect((bad.body as unknown as GoogleErrorBody).error.message).to.match(
        /^@InvalidAddOnToken /,
      );
      const tokenless = await api(world, 'POST', `${itemPath()}/addOnAttachments`, teacherToken, {
        title: 'x',
        teacherViewUri: { uri: `${TOOL_ORIGIN}/t` },
        studentViewUri: { uri: `${TOOL_ORIGIN}/s` },
      });
      expect(tokenless.status).to.equal(403);
      expect((tokenless.body as unknown as GoogleErrorBody).error.message).to.match(
        /^@InvalidAddOnToken /,
      );
      const discovery = new URL(
        world.emulator.discoveryFrameUrl({
          courseId: world.seed.course.id,
          itemId: world.seed.courseWork.id,
          userId: world.seed.teacher.id,
        }),
      );
      const noReview = await api(
        world,
        'POST',
        `${itemPath()}/addOnAttachments?addOnToken=${encodeURIComponent(discovery.searchParams.get('addOnToken') ?? '')}`,
        teacherToken,
        {
          title: 'x',
          teacherViewUri: { uri: `${TOOL_ORIGIN}/t` },
          studentViewUri: { uri: `${TOOL_ORIGIN}/s` },
          maxPoints: 4,
        },
      );
      expect(noReview.status).to.equal(400);
      expect(world.emulator.state.attachments.size).to.equal(0);
    });

    it('when maxPoints is not a whole number, then the attachment and the courseWork are refused with 400 INVALID_ARGUMENT', async () => {
      const decimal = await createAttachment(teacherToken, 2.5);
      expect(decimal.status).to.equal(400);
      expect((decimal.body as unknown as GoogleErrorBody).error.status).to.equal(
        'INVALID_ARGUMENT',
      );
      const work = await api(world, 'POST', `${coursePath()}/courseWork`, teacherToken, {
        title: 'Half points',
        workType: 'ASSIGNMENT',
        maxPoints: 2.5,
      });
      expect(work.status).to.equal(400);
      expect(world.emulator.state.attachments.size).to.equal(0);
    });

    it('when a link material carries its read-only title, then the courseWork is refused', async () => {
      const res = await api(world, 'POST', `${coursePath()}/courseWork`, teacherToken, {
        title: 'With link title',
        workType: 'ASSIGNMENT',
        materials: [{ link: { url: `${TOOL_ORIGIN}/go`, title: 'Go' } }],
      });
      expect(res.status).to.equal(400);
      expect((res.body as unknown as GoogleErrorBody).error.message).to.contain('read-only');
    });

    it('when the add-on opens on a material or an announcement, then its context has no student work and attachments there take no points', async () => {
      const material = world.emulator.state.createPost({
        courseId: world.seed.course.id,
        itemType: 'courseWorkMaterials',
        title: 'Reading',
        creatorUserId: world.seed.teacher.id,
      });
      const frame = new URL(
        world.emulator.discoveryFrameUrl({
          courseId: world.seed.course.id,
          itemId: material.id,
          userId: world.seed.teacher.id,
        }),
      );
      expect(frame.searchParams.get('itemType')).to.equal('courseWorkMaterials');
      const addOnToken = encodeURIComponent(frame.searchParams.get('addOnToken') ?? '');
      const base = `${coursePath()}/courseWorkMaterials/${material.id}`;
      const context = await api(
        world,
        'GET',
        `${base}/addOnContext?addOnToken=${addOnToken}`,
        teacherToken,
      );
      expect(context.status).to.equal(200);
      expect(context.body).to.include({ itemId: material.id, supportsStudentWork: false });
      // The same item under the courseWork collection does not exist.
      const wrong = await api(
        world,
        'GET',
        `${coursePath()}/courseWork/${material.id}/addOnContext?addOnToken=${addOnToken}`,
        teacherToken,
      );
      expect(wrong.status).to.equal(404);
      const graded = await api(
        world,
        'POST',
        `${base}/addOnAttachments?addOnToken=${addOnToken}`,
        teacherToken,
        {
          title: 'x',
          teacherViewUri: { uri: `${TOOL_ORIGIN}/t` },
          studentViewUri: { uri: `${TOOL_ORIGIN}/s` },
          studentWorkReviewUri: { uri: `${TOOL_ORIGIN}/r` },
          maxPoints: 4,
        },
      );
      expect(graded.status).to.equal(400);
      const plain = await api(
        world,
        'POST',
        `${base}/addOnAttachments?addOnToken=${addOnToken}`,
        teacherToken,
        {
          title: 'x',
          teacherViewUri: { uri: `${TOOL_ORIGIN}/t` },
          studentViewUri: { uri: `${TOOL_ORIGIN}/s` },
        },
      );
      expect(plain.status).to.equal(200);
      const attachmentFrame = new URL(
        world.emulator.attachmentFrameUrl({
          attachmentId: String(plain.body.id),
          view: 'student',
          userId: world.seed.students[0]?.id ?? '',
        }),
      );
      expect(attachmentFrame.searchParams.get('itemType')).to.equal('courseWorkMaterials');
    });

    it('when a post is reused or a class copied, then the attachment copies get new ids and a copyHistory back to the original', async () => {
      const created = await createAttachment();
      const original = String(created.body.id);
      const other = world.emulator.state.addCourse({
        name: 'Algebra I (Period 5)',
        ownerId: world.seed.teacher.id,
      });
      const reused = world.emulator.state.reuseCourseWork({
        courseId: world.seed.course.id,
        courseWorkId: world.seed.courseWork.id,
        targetCourseId: other.id,
        userId: world.seed.teacher.id,
      });
      const [copy] = world.emulator.state.attachmentsOf(reused.id);
      expect(copy?.id).to.be.a('string').and.not.equal(original);
      expect(copy?.courseId).to.equal(other.id);
      const got = await api(
        world,
        'GET',
        `/v1/courses/${other.id}/courseWork/${reused.id}/addOnAttachments/${copy?.id ?? ''}`,
        teacherToken,
      );
      expect(got.status).to.equal(200);
      expect(got.body.copyHistory).to.deep.equal([
        {
          courseId: world.seed.course.id,
          postId: world.seed.courseWork.id,
          itemId: world.seed.courseWork.id,
          attachmentId: original,
        },
      ]);
      // A copy of the copied class: the history lists both, oldest first.
      const copied = world.emulator.state.copyCourse({
        courseId: other.id,
        userId: world.seed.teacher.id,
      });
      const work = copied.courseWork.get(reused.id);
      expect(work?.state).to.equal('DRAFT');
      const [second] = world.emulator.state.attachmentsOf(work?.id ?? '');
      expect(second?.copyHistory.map((h) => h.attachmentId)).to.deep.equal([original, copy?.id]);
      expect(copied.course.studentIds).to.deep.equal([]);
    });

    it('when teacher and student ask for the add-on context, then teacherContext or studentContext with the submission id', async () => {
      const created = await createAttachment();
      const id = String(created.body.id);
      const teacher = await api(
        world,
        'GET',
        `${itemPath()}/addOnContext?attachmentId=${id}`,
        teacherToken,
      );
      expect(teacher.body).to.deep.equal({
        courseId: world.seed.course.id,
        postId: world.seed.courseWork.id,
        itemId: world.seed.courseWork.id,
        supportsStudentWork: true,
        teacherContext: {},
      });
      const student = world.seed.students[0];
      const studentToken = (await signInTokens(world, student?.id ?? '')).access_token;
      const context = await api(
        world,
        'GET',
        `${itemPath()}/addOnContext?attachmentId=${id}`,
        studentToken,
      );
      const submissionId = (context.body.studentContext as { submissionId: string }).submissionId;
      // The attachment submission's own id, not the CourseWork submission's (StudentContext).
      const entry = world.emulator.state.gradebookEntry(
        world.seed.courseWork.id,
        student?.id ?? '',
      );
      expect(submissionId).to.be.a('string').and.not.equal(entry.submissionId);
      expect(entry.attachments[0]?.submissionId).to.equal(submissionId);
      const posts = await api(
        world,
        'GET',
        `${coursePath()}/posts/${world.seed.courseWork.id}/addOnContext?attachmentId=${id}`,
        studentToken,
      );
      expect(posts.body.studentContext).to.deep.equal({ submissionId });
      const missing = await api(
        world,
        'GET',
        `${itemPath()}/addOnContext?attachmentId=nope`,
        teacherToken,
      );
      expect(missing.status).to.equal(404);
    });

    it('when pointsEarned is patched, then the attachment grade and the synced draft grade are in the gradebook with a write count', async () => {
      const created = await createAttachment();
      const id = String(created.body.id);
      const student = world.seed.students[2];
      const entry = world.emulator.state.gradebookEntry(
        world.seed.courseWork.id,
        student?.id ?? '',
      );
      // The CourseWork submission's id is not the attachment submission's: 404.
      const wrong = await api(
        world,
        'PATCH',
        `${itemPath()}/addOnAttachments/${id}/studentSubmissions/${entry.submissionId}?updateMask=pointsEarned`,
        teacherToken,
        { pointsEarned: 3 },
      );
      expect(wrong.status).to.equal(404);
      const attachment = world.emulator.state.attachments.get(id);
      const own = world.emulator.state.attachmentSubmission(
        attachment!,
        world.emulator.state.submissionFor(
          world.emulator.state.courseWork.get(world.seed.courseWork.id)!,
          student?.id ?? '',
        ),
      );
      const path = `${itemPath()}/addOnAttachments/${id}/studentSubmissions/${own.id}`;
      const res = await api(world, 'PATCH', `${path}?updateMask=pointsEarned`, teacherToken, {
        pointsEarned: 3,
      });
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({
        pointsEarned: 3,
        postSubmissionState: 'CREATED',
        userId: student?.id,
        id: own.id,
        courseWorkSubmissionId: entry.submissionId,
      });
      const got = await api(world, 'GET', path, teacherToken);
      expect(got.body.pointsEarned).to.equal(3);
      const after = world.emulator.state.gradebookEntry(
        world.seed.courseWork.id,
        student?.id ?? '',
      );
      expect(after.draftGrade).to.equal(3);
      expect(after.attachments).to.deep.equal([
        { attachmentId: id, submissionId: own.id, pointsEarned: 3, writes: 1 },
      ]);
      expect(world.emulator.state.gradebook(world.seed.course.id)).to.have.length(5);

      const other = (
        await signInTokens(world, world.seed.teacher.id, { client: world.otherClient })
      ).access_token;
      const denied = await api(world, 'PATCH', `${path}?updateMask=pointsEarned`, other, {
        pointsEarned: 1,
      });
      expect(denied.status).to.equal(403);
      expect((denied.body as unknown as GoogleErrorBody).error.message).to.equal(PROJECT_DENIED);
      const noMask = await api(world, 'PATCH', path, teacherToken, { pointsEarned: 1 });
      expect(noMask.status).to.equal(400);
      expect(
        world.emulator.state.gradebookEntry(world.seed.courseWork.id, student?.id ?? '')
          .attachments[0]?.writes,
      ).to.equal(1);
    });

    it('when attachment URIs are outside the allowed prefixes or another project patches, then 400 or 403', async () => {
      world.emulator.state.registerAddOn({
        projectNumber: world.client.projectNumber,
        attachmentSetupUri: `${TOOL_ORIGIN}/classroom/addon/discovery`,
        allowedUriPrefixes: [`${TOOL_ORIGIN}/addon/`],
      });
      const discovery = new URL(
        world.emulator.discoveryFrameUrl({
          courseId: world.seed.course.id,
          itemId: world.seed.courseWork.id,
          userId: world.seed.teacher.id,
        }),
      );
      const outside = await api(
        world,
        'POST',
        `${itemPath()}/addOnAttachments?addOnToken=${encodeURIComponent(discovery.searchParams.get('addOnToken') ?? '')}`,
        teacherToken,
        {
          title: 'x',
          teacherViewUri: { uri: 'https://elsewhere.example/t' },
          studentViewUri: { uri: `${TOOL_ORIGIN}/addon/s` },
        },
      );
      expect(outside.status).to.equal(400);
      const created = await createAttachment();
      expect(created.status).to.equal(200);
      const other = (
        await signInTokens(world, world.seed.teacher.id, { client: world.otherClient })
      ).access_token;
      const patch = await api(
        world,
        'PATCH',
        `${itemPath()}/addOnAttachments/${String(created.body.id)}?updateMask=title`,
        other,
        { title: 'Hijack' },
      );
      expect(patch.status).to.equal(403);
      expect(world.emulator.state.attachments.get(String(created.body.id))?.title).to.equal(
        'Solving linear equations',
      );
    });

    it('when someone outside the course asks for the add-on context, then 403 PERMISSION_DENIED', async () => {
      const stranger = world.emulator.state.addUser({
        email: 'q.r@district.example.edu',
        givenName: 'Q',
        familyName: 'R',
      });
      const token = (await signInTokens(world, stranger.id)).access_token;
      const res = await api(world, 'GET', `${itemPath()}/addOnContext`, token);
      expect(res.status).to.equal(403);
    });

    it('when the attachment has no maxPoints, then pointsEarned is refused with FAILED_PRECONDITION', async () => {
      const created = await createAttachment(teacherToken, null);
      const own = world.emulator.state.attachmentSubmission(
        world.emulator.state.attachments.get(String(created.body.id))!,
        world.emulator.state.submissionFor(
          world.emulator.state.courseWork.get(world.seed.courseWork.id)!,
          world.seed.students[0]?.id ?? '',
        ),
      );
      const res = await api(
        world,
        'PATCH',
        `${itemPath()}/addOnAttachments/${String(created.body.id)}/studentSubmissions/${own.id}?updateMask=pointsEarned`,
        teacherToken,
        { pointsEarned: 1 },
      );
      expect(res.status).to.equal(400);
      expect((res.body as unknown as GoogleErrorBody).error.status).to.equal('FAILED_PRECONDITION');
    });

    it('when a token with all add-on scopes is used, then every scope the add-on asks for was granted', async () => {
      const tokens = await signInTokens(world, world.seed.teacher.id);
      for (const scope of ADDON_SCOPES.filter((s) => s.startsWith('https://'))) {
        expect(tokens.scope.split(' ')).to.include(scope);
      }
    });
  });
});
