import { expect } from 'chai';
import { lmsForCourse } from '../../src/courses/lms-for-course.ts';
import type { Flavour } from '../../src/emulator/types.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import {
  cookiesFrom,
  createLtiWorld,
  launch,
  readAutoPostForm,
  type LtiWorld,
} from '../support/lti-world.ts';

const FLAVOURS: Flavour[] = ['canvas', 'schoology', 'moodle'];
const CONTENT_ITEMS = 'https://purl.imsglobal.org/spec/lti-dl/claim/content_items';

/** A teacher's launch through a deployment the emulator has and the tool may not know. */
async function launchFromDeployment(
  world: LtiWorld,
  deploymentId: string,
): Promise<{ status: number; body: string; idToken: string }> {
  const initiation = world.emulator.beginLaunch({
    courseId: world.seed.course.courseId,
    userId: world.seed.teacher.userId,
    placement: 'course_navigation',
    deploymentId,
  });
  const login = await fetch(`${world.tool.origin}/lti/login`, {
    method: 'POST',
    body: new URLSearchParams(initiation.params),
    redirect: 'manual',
  });
  const cookie = cookiesFrom(login.headers.getSetCookie());
  const authorize = await fetch(login.headers.get('location') ?? '', {
    headers: { 'User-Agent': 'test-browser' },
  });
  const form = readAutoPostForm(await authorize.text());
  const posted = await fetch(form.action, {
    method: 'POST',
    body: new URLSearchParams(form.fields),
    redirect: 'manual',
    headers: { Cookie: cookie, Accept: 'text/html' },
  });
  return { status: posted.status, body: await posted.text(), idToken: form.fields.id_token ?? '' };
}

async function follow(
  world: LtiWorld,
  location: string | undefined,
): Promise<{ status: number; html: string; url: string }> {
  const url = new URL(location ?? '', world.tool.origin).toString();
  const res = await fetch(url);
  return { status: res.status, html: await res.text(), url };
}

for (const flavour of FLAVOURS) {
  describe(`LTI launch from ${flavour} (${testEngine})`, function () {
    this.timeout(30_000);
    let database: TestDatabase;
    let world: LtiWorld;
    /** How far the tool's clock runs ahead of the real one. */
    let clockOffsetMs = 0;

    before(async () => {
      database = await createTestDatabase();
      world = await createLtiWorld(database, {
        flavour,
        platformStorage: false,
        now: () => new Date(Date.now() + clockOffsetMs),
      });
    });

    afterEach(() => {
      clockOffsetMs = 0;
    });

    after(async () => {
      await world.close();
      await database.close();
    });

    it('when a teacher launches, then the course page shows who launched, their role and the teacher tools', async () => {
      // This launch's log line, not one an earlier test's launch left (a student's, say).
      const logged = world.tool.logs.lines.length;
      const outcome = await launch(world, { userId: world.seed.teacher.userId });
      expect(outcome.status, outcome.body).to.equal(303);
      expect(outcome.location).to.match(/^\/s\/[A-Za-z0-9_-]+\/course$/);
      const page = await follow(world, outcome.location);
      expect(page.status).to.equal(200);
      expect(page.html).to.contain(world.seed.course.title);
      expect(page.html).to.contain(world.seed.teacher.name);
      expect(page.html).to.contain('(Teacher)');
      expect(page.html).to.contain('/course/roster');
      const accepted = world.tool.logs.lines
        .slice(logged)
        .filter((l) => l.msg === 'launch accepted');
      expect(accepted).to.have.length(1);
      expect(accepted[0]).to.include({ instructor: true, tenantId: world.tenantId });
      // Logs carry opaque ids, never the person's name.
      expect(world.tool.logs.text()).not.to.contain(world.seed.teacher.name);
    });

    it('when a student launches, then the course page shows the student view without teacher tools', async () => {
      const student = world.seed.students[0]!;
      const outcome = await launch(world, { userId: student.userId });
      expect(outcome.status, outcome.body).to.equal(303);
      const page = await follow(world, outcome.location);
      expect(page.html).to.contain(student.name);
      expect(page.html).to.contain('(Student)');
      expect(page.html).not.to.contain('/course/roster');
      const roster = await fetch(
        new URL(`${outcome.location!.replace(/\/course$/, '')}/course/roster`, world.tool.origin),
      );
      expect(roster.status).to.equal(403);
    });

    it('when the launch form is posted a second time, then the replay is refused', async () => {
      const first = await launch(world, { userId: world.seed.teacher.userId });
      expect(first.status).to.equal(303);
      const replay = await fetch(`${world.tool.origin}/lti/launch`, {
        method: 'POST',
        body: new URLSearchParams(first.fields),
        headers: { Cookie: first.cookie },
        redirect: 'manual',
      });
      expect(replay.status).to.be.within(400, 499);
      expect(await replay.text()).to.match(/lti\.state_(not_found|expired)/);
    });

    it('when a captured id_token is replayed 30 s later through a fresh login, then it is refused', async () => {
      const first = await launch(world, { userId: world.seed.teacher.userId });
      expect(first.status).to.equal(303);
      clockOffsetMs = 30_000;
      // The same form again: its state was used up.
      const sameForm = await fetch(`${world.tool.origin}/lti/launch`, {
        method: 'POST',
        body: new URLSearchParams(first.fields),
        headers: { Cookie: first.cookie },
        redirect: 'manual',
      });
      expect(sameForm.status).to.equal(400);
      expect(await sameForm.text()).to.contain('lti.state_not_found');
      // The attacker starts a login of their own (a new state and cookie) and posts the old token.
      const replay = await launch(world, {
        userId: world.seed.teacher.userId,
        tamper: (fields) => ({ ...fields, id_token: first.fields.id_token ?? '' }),
      });
      expect(replay.status).to.equal(401);
      expect(replay.body).to.contain('lti.nonce_mismatch');
    });

    it('when the browser lost the login cookie and the LMS offers no platform storage, then the launch is refused', async () => {
      const outcome = await launch(world, { userId: world.seed.teacher.userId, withCookie: false });
      expect(outcome.status).to.equal(400);
      expect(outcome.body).to.contain('lti.state_mismatch');
    });

    it('when a teacher syncs the roster, then every member of the LMS course is listed, through NRPS paging', async () => {
      const outcome = await launch(world, { userId: world.seed.teacher.userId });
      const base = outcome.location!.replace(/\/course$/, '');
      const rosterPage = await fetch(new URL(`${base}/course/roster`, world.tool.origin));
      const html = await rosterPage.text();
      const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
      expect(csrf).to.be.a('string');
      const synced = await fetch(new URL(`${base}/course/roster/sync`, world.tool.origin), {
        method: 'POST',
        body: new URLSearchParams({ _csrf: csrf! }),
        redirect: 'manual',
      });
      expect(synced.status).to.equal(303);
      const after = await (
        await fetch(new URL(synced.headers.get('location')!, world.tool.origin))
      ).text();
      for (const student of world.seed.students) expect(after).to.contain(student.name);
      expect(after).to.contain('Roster updated from the LMS');
    });

    it('when a form is posted without its CSRF token, then it is refused and nothing is synced', async () => {
      const outcome = await launch(world, { userId: world.seed.teacher.userId });
      const base = outcome.location!.replace(/\/course$/, '');
      const res = await fetch(new URL(`${base}/course/roster/sync`, world.tool.origin), {
        method: 'POST',
        body: new URLSearchParams({ _csrf: 'forged' }),
        redirect: 'manual',
      });
      expect(res.status).to.equal(403);
      expect(await res.text()).to.contain('csrf_failed');
    });

    it('when a teacher adds the tool through Deep Linking, then the LMS accepts the signed answer and creates the link and its column', async () => {
      const outcome = await launch(world, {
        userId: world.seed.teacher.userId,
        placement: flavour === 'schoology' ? 'link_selection' : 'assignment_selection',
      });
      expect(outcome.status, outcome.body).to.equal(303);
      expect(outcome.location).to.match(/\/deep-link$/);
      const pageUrl = new URL(outcome.location!, world.tool.origin);
      const page = await (await fetch(pageUrl)).text();
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
      // No LMS here says accept_lineitem false: the column is offered, and nothing claims the LMS
      // refuses one.
      expect(page).to.contain('Add a gradebook column for this activity');
      expect(page).not.to.match(/does not (accept|take) (a )?gradebook column/);

      // A blank name is refused with the reason, and nothing is sent to the LMS.
      const invalid = await fetch(pageUrl, {
        method: 'POST',
        body: new URLSearchParams({
          _csrf: csrf,
          title: '  ',
          gradebook: 'yes',
          scoreMaximum: '4',
        }),
      });
      expect(invalid.status).to.equal(422);
      expect(await invalid.text()).to.contain('Give the activity a name.');

      const answered = await fetch(pageUrl, {
        method: 'POST',
        body: new URLSearchParams({
          _csrf: csrf,
          title: 'Unit 3 performance task',
          gradebook: 'yes',
          scoreMaximum: '4',
        }),
      });
      expect(answered.status).to.equal(200);
      // The page may post only to the LMS's return URL (and to us).
      expect(answered.headers.get('content-security-policy')).to.contain(
        `form-action 'self' ${world.emulatorOrigin}`,
      );
      const returnForm = readAutoPostForm(await answered.text());
      expect(returnForm.action.startsWith(world.emulatorOrigin)).to.equal(true);
      const accepted = await fetch(returnForm.action, {
        method: 'POST',
        body: new URLSearchParams(returnForm.fields),
        headers: { 'User-Agent': 'test-browser' },
      });
      expect(accepted.status, await accepted.text()).to.equal(200);
      const receipt = world.emulator.state.deepLinkingReceipts.at(-1);
      expect(receipt?.ok, receipt?.error).to.equal(true);
      expect(receipt?.createdResourceLinkIds).to.have.length(1);
      // Moodle 4.3 and Canvas leave accept_lineitem out (absent = unknown): the item still carries
      // its line item, and the LMS makes the gradebook column from it.
      const [returned] = receipt?.claims?.[CONTENT_ITEMS] as { lineItem?: object }[];
      expect(returned?.lineItem).to.deep.include({
        scoreMaximum: 4,
        label: 'Unit 3 performance task',
      });
      expect(receipt?.createdLineItemIds).to.have.length(1);
      const columns = world.emulator.state.gradebookColumns(world.seed.course.courseId);
      expect(columns.map((c) => c.label)).to.include('Unit 3 performance task');

      // The request is answered once: posting again finds nothing pending.
      const again = await fetch(pageUrl, {
        method: 'POST',
        body: new URLSearchParams({ _csrf: csrf, title: 'Twice', scoreMaximum: '4' }),
      });
      expect(again.status).to.equal(404);
    });

    it('when the LMS rotates its signing key seconds after a launch, then the next launch is accepted at once', async () => {
      const first = await launch(world, { userId: world.seed.teacher.userId });
      expect(first.status, first.body).to.equal(303);
      const newKid = await world.emulator.rotateKey({ keepOld: false });
      const second = await launch(world, { userId: world.seed.teacher.userId });
      expect(second.status, second.body).to.equal(303);
      const refused = world.tool.logs.lines.filter((l) => l.msg === 'launch refused');
      expect(refused.map((l) => l['kid'])).not.to.include(newKid);
    });

    it('when a launch is refused, then the log names the code, the failed check, the key id and the deployment with the request id, and no personal data', async () => {
      const stranger = world.emulator.state.addDeployment(world.clientId);
      const outcome = await launchFromDeployment(world, stranger.deploymentId);
      expect(outcome.status).to.equal(403);
      expect(outcome.body).to.contain('lti.unknown_deployment');
      const line = world.tool.logs.lines.findLast((l) => l.msg === 'launch refused');
      expect(line).to.include({
        code: 'unknown_deployment',
        check: 'checkDeployment',
        kid: world.emulator.jwks.keys[0]?.['kid'],
        deploymentId: stranger.deploymentId,
        issuer: world.emulator.issuer,
        clientId: world.clientId,
        messageType: 'LtiResourceLinkRequest',
      });
      expect(outcome.body).to.contain(String(line?.['requestId']));
      const text = world.tool.logs.text();
      const teacher = world.seed.teacher;
      expect(text).not.to.contain(teacher.name);
      expect(text).not.to.contain(teacher.email);
      expect(text).not.to.contain(outcome.idToken);
    });

    it('when a student reaches the Deep Linking page, then it is refused', async () => {
      const outcome = await launch(world, { userId: world.seed.students[0]!.userId });
      const base = outcome.location!.replace(/\/course$/, '');
      const res = await fetch(new URL(`${base}/deep-link`, world.tool.origin));
      expect(res.status).to.equal(403);
    });

    it('when a session token is made up, then the page says the session ended', async () => {
      const res = await fetch(`${world.tool.origin}/s/${'x'.repeat(43)}/course`);
      expect(res.status).to.equal(401);
      expect(await res.text()).to.contain(
        'Launch Mastery Pathways again from your course in the LMS',
      );
    });

    it('when the tool creates a gradebook column and posts a score, then the LMS gradebook shows it', async () => {
      await launch(world, { userId: world.seed.teacher.userId });
      const courses = await world.tool.services.courses.listCourses(world.tenantId);
      const { lms } = await lmsForCourse(world.tool.services, world.tenantId, courses[0]!.id);
      const column = await lms.createGradebookColumn({
        label: '6.RP.A.1 Ratios (mastery)',
        scoreMaximum: 4,
        tag: 'mastery-standard',
        resourceId: 'std-6-rp-a-1',
      });
      const student = world.seed.students[1]!;
      await lms.postScore(column, {
        userId: student.sub,
        scoreGiven: 3,
        scoreMaximum: 4,
        comment: 'Meets: mean of 3 pieces of evidence',
        timestamp: new Date(),
      });
      // The emulator keys cells by its own line item id: the last path segment of the line item URL.
      const lineItemId = new URL(column.id).pathname.split('/').pop()!;
      const cell = world.emulator.state.findCell(lineItemId, student.sub);
      expect(cell?.lastScore?.scoreGiven).to.equal(3);
      const found = await lms.findGradebookColumn({ resourceId: 'std-6-rp-a-1' });
      expect(found?.id).to.equal(column.id);
    });
  });
}
