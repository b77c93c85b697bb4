import { expect } from 'chai';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { createAdminUser } from '../../src/lti-admin/use-cases.ts';
import { expectNoSeriousAxeViolations } from '../support/browser.ts';
import { createClassroomWorld, importStandards, openAddOn } from '../http/classroom-world.ts';
import { PASSWORD, signIn, useBrowserSuite } from './support.ts';

describe('Google Classroom add-on in a browser', () => {
  const suite = useBrowserSuite(
    async (database) => {
      // The tool (localhost) is framed by Classroom (127.0.0.1): another site, no third-party cookies.
      const world = await createClassroomWorld(database, { toolHost: 'localhost' });
      await importStandards(database, world.tenantId);
      return world;
    },
    { blockThirdPartyCookies: true },
  );

  /** Opens the seeded assignment's add-on in the emulated Classroom page, and answers its frame. */
  async function openInClassroom(page: Page): Promise<Frame> {
    const { googleOrigin, client, seed } = suite.world;
    const { course, courseWork, teacher } = seed;
    await page.goto(
      `${googleOrigin}/classroom/c/${course.id}/a/${courseWork.id}/addons/${client.projectNumber}?user=${teacher.id}`,
    );
    const frame = await (await page.waitForSelector('#addon-frame')).contentFrame();
    if (frame === null) throw new Error('no add-on frame');
    return frame;
  }

  /** Clicks the frame's sign-in button and picks `userId` in the Google window it opens. */
  async function chooseAccountInPopup(
    context: BrowserContext,
    frame: Frame,
    userId: string,
  ): Promise<Page> {
    const [popup] = await Promise.all([
      context.waitForEvent('page'),
      frame.click('#classroom-sign-in'),
    ]);
    await popup.waitForSelector('input[name="user"]');
    await popup.check(`#user-${userId}`);
    return popup;
  }

  it('when a teacher opens the add-on in the emulated Classroom page, then sign-in in a popup and attachment creation complete inside the frame', async () => {
    const { browser, world } = suite;
    const context = await browser.newContext();
    const page = await context.newPage();
    const { course, courseWork, teacher } = world.seed;
    const frame = await openInClassroom(page);
    await frame.waitForSelector('#classroom-sign-in');
    await expectNoSeriousAxeViolations(frame);

    const popup = await chooseAccountInPopup(context, frame, teacher.id);
    // The popup tells the frame it is done and closes; the frame continues by itself.
    await Promise.all([
      frame.waitForURL(/\/classroom\/attachment\/new\?/),
      popup.click('button[value="allow"]'),
    ]);
    await frame.waitForSelector('#title');
    await expectNoSeriousAxeViolations(frame);

    await frame.fill('#title', 'Ratio tables');
    await frame.check('#standard-0');
    await frame.check('#standard-1');
    // Classroom closes the iframe when the add-on says so (closeIframe) and shows the assignment.
    await Promise.all([
      page.waitForURL(new RegExp(`/classroom/c/${course.id}/a/${courseWork.id}\\?user=`)),
      frame.click('button[type="submit"]'),
    ]);
    const attachments = world.google.state.attachmentsOf(courseWork.id);
    expect(attachments.map((a) => a.title)).to.deep.equal(['Ratio tables']);
    await context.close();
  });

  it('when each add-on and admin page is opened, then none has a serious accessibility violation', async () => {
    const { database, browser, world } = suite;
    const context = await browser.newContext();
    const page = await context.newPage();
    const { teacher, students, courseWork, course } = world.seed;

    // The sign-in window's last page, and the add-on pages inside a session.
    const frame = world.google.discoveryFrameUrl({
      courseId: course.id,
      itemId: courseWork.id,
      userId: teacher.id,
    });
    const opened = await openAddOn(world, frame, teacher.id);
    await page.setContent(opened.callbackBody);
    await expectNoSeriousAxeViolations(page);
    await page.goto(opened.sessionUrl ?? '');
    await page.fill('#title', 'Unit rates');
    await page.check('#standard-0');
    await page.click('button[type="submit"]');
    await page.waitForSelector('text=Activity created');
    await expectNoSeriousAxeViolations(page);

    const attachment = world.google.state
      .attachmentsOf(courseWork.id)
      .find((a) => a.title === 'Unit rates');
    const query = new URLSearchParams({
      itemId: courseWork.id,
      attachmentId: attachment?.id ?? '',
    });
    await page.goto(`${world.tool.origin}${opened.base ?? ''}/classroom/teacher?${query}`);
    await expectNoSeriousAxeViolations(page);
    const work = world.google.state.findCourseWork(course.id, courseWork.id);
    const submission = world.google.state.submissionFor(work!, students[0]?.id ?? '');
    query.set('submissionId', submission.id);
    await page.goto(`${world.tool.origin}${opened.base ?? ''}/classroom/review?${query}`);
    await expectNoSeriousAxeViolations(page);

    const studentFrame = world.google.attachmentFrameUrl({
      attachmentId: attachment?.id ?? '',
      view: 'student',
      userId: students[0]?.id ?? '',
    });
    const student = await openAddOn(world, studentFrame, students[0]?.id ?? '');
    await page.goto(student.sessionUrl ?? '');
    await expectNoSeriousAxeViolations(page);

    // The refusal page (an account of another domain).
    const refused = await openAddOn(world, frame, world.seed.outsider.id);
    await page.setContent(refused.callbackBody);
    await expectNoSeriousAxeViolations(page);

    // The form shown again with its problems.
    const teacherAgain = await openAddOn(
      world,
      world.google.discoveryFrameUrl({
        courseId: course.id,
        itemId: courseWork.id,
        userId: teacher.id,
      }),
      teacher.id,
    );
    await page.goto(teacherAgain.sessionUrl ?? '');
    await page.click('button[type="submit"]');
    await expectNoSeriousAxeViolations(page);

    // The admin page.
    await createAdminUser(
      { db: database.db, now: () => new Date() },
      { username: 'classroom-admin', tenantSlug: world.tenantSlug, password: PASSWORD },
    );
    await signIn(page, world.tool.origin, 'classroom-admin');
    await page.goto(`${world.tool.origin}/admin/classroom`);
    await page.waitForSelector('text=URLs to paste into Google');
    await expectNoSeriousAxeViolations(page);
    await context.close();
  });

  it('when JavaScript is off, then the sign-in window\'s "Continue here instead" opens the add-on there, and the frame\'s "Continue" alone opens nothing', async () => {
    const context = await suite.browser.newContext({ javaScriptEnabled: false });
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const frame = await openInClassroom(page);
    await frame.waitForSelector('#classroom-sign-in');
    const popup = await chooseAccountInPopup(context, frame, suite.world.seed.teacher.id);
    await popup.click('button[value="allow"]');
    await popup.waitForSelector('text=You are signed in');

    // The frame's button has no completion secret without JavaScript: it explains instead.
    await frame.click('#classroom-continue button');
    await frame.waitForSelector('text=has not received your sign-in yet');
    await popup.click('text=Continue here instead');
    await popup.waitForURL(/\/s\/[^/]+\/classroom\/attachment\/new\?/);
    await popup.waitForSelector('#title');
    await context.close();
  });

  it("when an attacker has a teacher sign in through the attacker's link, then the attacker's frame stays on the sign-in page and the teacher's window continues as the teacher", async () => {
    const { browser, world } = suite;
    const attackerContext = await browser.newContext();
    const attacker = await attackerContext.newPage();
    const { teacher } = world.seed;
    const frame = await openInClassroom(attacker);
    const link = await frame.getAttribute('#classroom-sign-in', 'href');

    // The teacher opens the link from a message: a window with no opener.
    const teacherContext = await browser.newContext();
    const victim = await teacherContext.newPage();
    await victim.goto(new URL(link ?? '', world.tool.origin).toString());
    await victim.check(`#user-${teacher.id}`);
    await victim.click('button[value="allow"]');
    await victim.waitForSelector('text=You are signed in');

    await frame.click('#classroom-continue button');
    await frame.waitForSelector('text=has not received your sign-in yet');
    expect(frame.url()).not.to.match(/\/s\//);

    await victim.click('text=Continue here instead');
    await victim.waitForURL(/\/s\/[^/]+\/classroom\/attachment\/new\?/);
    await attackerContext.close();
    await teacherContext.close();
  });
});
