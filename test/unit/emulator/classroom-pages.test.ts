import { expect } from 'chai';
import { EmulatorError } from '../../../src/emulator/errors.ts';
import {
  api,
  signInTokens,
  startClassroom,
  TOOL_ORIGIN,
  type ClassroomWorld,
} from './classroom-support.ts';

function iframeSrc(html: string): URL {
  const raw = /<iframe[^>]*\ssrc="([^"]+)"/.exec(html)?.[1];
  if (raw === undefined) throw new Error('no iframe on the page');
  return new URL(
    raw
      .replace(/&amp;/g, '&')
      .replace(/&#39;/g, "'")
      .replace(/&quot;/g, '"'),
  );
}

describe('emulator (classroom): pages that frame the add-on', () => {
  let world: ClassroomWorld;
  beforeEach(async () => {
    world = await startClassroom();
  });
  afterEach(async () => {
    await world.close();
  });

  const itemUrl = (): string =>
    world.emulator.urls.item(world.seed.course.id, world.seed.courseWork.id);

  async function get(url: string): Promise<{ status: number; text: string }> {
    const res = await fetch(url);
    return { status: res.status, text: await res.text() };
  }

  async function attach(): Promise<string> {
    const token = (await signInTokens(world, world.seed.teacher.id)).access_token;
    // Classroom hands the discovery iframe the addOnToken that attachment creation needs.
    const addOnToken = new URL(
      world.emulator.discoveryFrameUrl({
        courseId: world.seed.course.id,
        itemId: world.seed.courseWork.id,
        userId: world.seed.teacher.id,
      }),
    ).searchParams.get('addOnToken');
    const res = await api(
      world,
      'POST',
      `/v1/courses/${world.seed.course.id}/courseWork/${world.seed.courseWork.id}/addOnAttachments?addOnToken=${encodeURIComponent(addOnToken ?? '')}`,
      token,
      {
        title: 'Solving linear equations',
        teacherViewUri: { uri: `${TOOL_ORIGIN}/addon/teacher` },
        studentViewUri: { uri: `${TOOL_ORIGIN}/addon/student` },
        studentWorkReviewUri: { uri: `${TOOL_ORIGIN}/addon/review` },
        maxPoints: 4,
      },
    );
    expect(res.status).to.equal(200);
    return String(res.body.id);
  }

  it('when the teacher opens the assignment, then the add-on is offered and the grades table is shown', async () => {
    const page = await get(`${itemUrl()}?user=${world.seed.teacher.id}`);
    expect(page.status).to.equal(200);
    expect(page.text).to.contain('Add Mastery Pathways');
    expect(page.text).to.contain('<th scope="col">Draft grade</th>');
    expect(page.text).to.contain('Ava Brooks');
  });

  it('when a student opens the assignment, then there is no add-on setup and no gradebook', async () => {
    const page = await get(`${itemUrl()}?user=${world.seed.students[0]?.id ?? ''}`);
    expect(page.status).to.equal(200);
    expect(page.text).to.not.contain('Add Mastery Pathways');
    expect(page.text).to.not.contain('Draft grade');
  });

  it('when nobody or a stranger opens the assignment, then 400 or 403', async () => {
    expect((await get(itemUrl())).status).to.equal(400);
    const stranger = world.emulator.state.addUser({
      email: 'z@elsewhere.example',
      givenName: 'Z',
      familyName: 'Z',
    });
    expect((await get(`${itemUrl()}?user=${stranger.id}`)).status).to.equal(403);
  });

  it("when the teacher adds the add-on, then the setup URI is framed with Classroom's query parameters and a working addOnToken", async () => {
    const { teacher, course, courseWork } = world.seed;
    const page = await get(
      `${itemUrl()}/addons/${world.client.projectNumber}?user=${encodeURIComponent(teacher.email)}`,
    );
    expect(page.status).to.equal(200);
    expect(page.text).to.match(/<iframe[^>]*title="Add-on attachment setup"/);
    const src = iframeSrc(page.text);
    expect(`${src.origin}${src.pathname}`).to.equal(`${TOOL_ORIGIN}/classroom/addon/discovery`);
    expect(Object.fromEntries(src.searchParams)).to.include({
      courseId: course.id,
      itemId: courseWork.id,
      itemType: 'courseWork',
      postId: courseWork.id,
    });
    // Classroom sends login_hint only once the user has signed in to the add-on.
    expect(src.searchParams.has('login_hint')).to.equal(false);
    const addOnToken = src.searchParams.get('addOnToken') ?? '';
    expect(addOnToken).to.not.equal('');
    const token = (await signInTokens(world, teacher.id)).access_token;
    const again = iframeSrc(
      (
        await get(
          `${itemUrl()}/addons/${world.client.projectNumber}?user=${encodeURIComponent(teacher.email)}`,
        )
      ).text,
    );
    expect(again.searchParams.get('login_hint')).to.equal(teacher.id);
    const context = await api(
      world,
      'GET',
      `/v1/courses/${course.id}/courseWork/${courseWork.id}/addOnContext?addOnToken=${encodeURIComponent(addOnToken)}`,
      token,
    );
    expect(context.status).to.equal(200);
    expect(context.body.teacherContext).to.deep.equal({});
  });

  it('when a student tries to open attachment discovery, then it is refused', async () => {
    const student = world.seed.students[0]?.id ?? '';
    const page = await get(`${itemUrl()}/addons/${world.client.projectNumber}?user=${student}`);
    expect(page.status).to.equal(403);
    expect(() =>
      world.emulator.discoveryFrameUrl({
        courseId: world.seed.course.id,
        itemId: world.seed.courseWork.id,
        userId: student,
      }),
    ).to.throw(EmulatorError);
  });

  it('when an attachment is opened, then teacher, student and review views frame their URIs with attachmentId and submissionId', async () => {
    const attachmentId = await attach();
    const { teacher, students, courseWork } = world.seed;
    const base = `${itemUrl()}/attachments/${attachmentId}`;

    const teacherView = iframeSrc((await get(`${base}/teacher?user=${teacher.id}`)).text);
    expect(teacherView.pathname).to.equal('/addon/teacher');
    expect(teacherView.searchParams.get('attachmentId')).to.equal(attachmentId);
    expect(teacherView.searchParams.get('login_hint')).to.equal(teacher.id);
    expect(teacherView.searchParams.has('addOnToken')).to.equal(false);

    const student = students[0]?.id ?? '';
    const firstOpen = iframeSrc((await get(`${base}/student?user=${student}`)).text);
    expect(firstOpen.pathname).to.equal('/addon/student');
    expect(firstOpen.searchParams.has('login_hint')).to.equal(false);
    await signInTokens(world, student);
    const studentView = iframeSrc((await get(`${base}/student?user=${student}`)).text);
    expect(studentView.searchParams.get('login_hint')).to.equal(student);

    const assignment = await get(`${itemUrl()}?user=${teacher.id}`);
    expect(assignment.text).to.contain('Review work');
    const submissionId = world.emulator.state.gradebookEntry(courseWork.id, student).submissionId;
    const review = iframeSrc(
      (
        await get(
          `${base}/review?user=${teacher.id}&submissionId=${encodeURIComponent(submissionId)}`,
        )
      ).text,
    );
    expect(review.pathname).to.equal('/addon/review');
    expect(review.searchParams.get('submissionId')).to.equal(submissionId);
    expect(
      world.emulator.attachmentFrameUrl({
        attachmentId,
        view: 'review',
        userId: teacher.id,
        submissionId,
      }),
    ).to.equal(review.toString());
  });

  it('when a student opens the teacher view or the view is unknown, then 403 or 404', async () => {
    const attachmentId = await attach();
    const base = `${itemUrl()}/attachments/${attachmentId}`;
    const student = world.seed.students[0]?.id ?? '';
    expect((await get(`${base}/teacher?user=${student}`)).status).to.equal(403);
    expect((await get(`${base}/review?user=${student}`)).status).to.equal(403);
    expect((await get(`${base}/grades?user=${world.seed.teacher.id}`)).status).to.equal(404);
  });
});
