import { expect } from 'chai';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { createAdminUser } from '../../src/lti-admin/use-cases.ts';
import { lmsForCourse } from '../../src/courses/lms-for-course.ts';
import { expectNoSeriousAxeViolations } from '../support/browser.ts';
import { createClassroomWorld, importStandards, openAddOn } from '../http/classroom-world.ts';
import { PASSWORD, signIn, useBrowserSuite } from './support.ts';

describe('Google Classroom add-on in a browser', function () {
  this.timeout(120_000);
  let standards: { id: string; code: string }[] = [];
  const suite = useBrowserSuite(
    async (database) => {
      // The tool (localhost) is framed by Classroom (127.0.0.1): another site, no third-party cookies.
      const world = await createClassroomWorld(database, { toolHost: 'localhost' });
      standards = await importStandards(database, world.tenantId);
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

  /**
   * Google's pages in the sign-in window, as far as Google shows them: the account chooser (no
   * login_hint yet), then the consent screen (scopes not granted yet). Google shows neither to a
   * person already signed in who granted everything: the window then goes straight back to the tool.
   */
  async function throughGoogle(popup: Page, userId: string): Promise<void> {
    const onPage = async (selector: string): Promise<boolean> => {
      try {
        await popup.waitForLoadState('domcontentloaded');
        return (await popup.locator(selector).count()) > 0;
      } catch {
        return false; // the window closed itself: the tool's signed-in page handed over
      }
    };
    if (await onPage('input[name="user"]')) {
      await popup.check(`#user-${userId}`);
      await Promise.all([
        popup.waitForEvent('load').catch(() => undefined),
        popup.click('button[value="allow"]'),
      ]);
    }
    if (await onPage('#consent-screen')) {
      await popup.click('button[value="allow"]').catch(() => undefined);
    }
  }

  /** Clicks the frame's sign-in button; answers the Google window it opens. */
  async function openSignInWindow(context: BrowserContext, frame: Frame): Promise<Page> {
    const [popup] = await Promise.all([
      context.waitForEvent('page'),
      frame.click('#classroom-sign-in'),
    ]);
    return popup;
  }

  /** The add-on frame of an emulated Classroom page. */
  async function addOnFrame(page: Page, url: string): Promise<Frame> {
    await page.goto(url);
    const frame = await (await page.waitForSelector('#addon-frame')).contentFrame();
    if (frame === null) throw new Error('no add-on frame');
    return frame;
  }

  /** The session base (`http://tool/s/<token>`) of a frame showing a tool session page. */
  const sessionBase = (frame: Frame): string =>
    /^(.*\/s\/[A-Za-z0-9_-]+)\//.exec(frame.url())?.[1] ?? '';

  it("when a licensed teacher creates an attachment, a student opens it twice, the teacher grades it and copies the class, then consent shows at most once and the grade lands on the attachment's own submission", async () => {
    const { browser, world, database } = suite;
    const { course, teacher } = world.seed;
    const student = world.seed.students[1];
    if (student === undefined) throw new Error('no student');
    // An assignment of its own, so that the other tests' attachments play no part here.
    const courseWork = world.google.state.createCourseWork({
      courseId: course.id,
      title: 'Ratios and rates',
      creatorUserId: teacher.id,
      state: 'PUBLISHED',
      maxPoints: 100,
    });
    const requestsBefore = world.google.state.requestLog.length;

    // 1. The teacher adds the add-on to the assignment and creates an aligned activity.
    const teacherContext = await browser.newContext();
    const teacherPage = await teacherContext.newPage();
    const setup = await addOnFrame(
      teacherPage,
      `${world.googleOrigin}/classroom/c/${course.id}/a/${courseWork.id}/addons/${world.client.projectNumber}?user=${teacher.id}`,
    );
    await setup.waitForSelector('#classroom-sign-in');
    await expectNoSeriousAxeViolations(setup);
    const teacherPopup = await openSignInWindow(teacherContext, setup);
    await Promise.all([
      setup.waitForURL(/\/classroom\/attachment\/new\?/),
      throughGoogle(teacherPopup, teacher.id),
    ]);
    await setup.waitForSelector('#title');
    await expectNoSeriousAxeViolations(setup);
    await setup.fill('#title', 'Ratio tables');
    await setup.check('#standard-0');
    await setup.check('#standard-1');
    await Promise.all([
      teacherPage.waitForURL(new RegExp(`/classroom/c/${course.id}/a/${courseWork.id}\\?user=`)),
      setup.click('button[type="submit"]'),
    ]);
    const attachment = world.google.state
      .attachmentsOf(courseWork.id)
      .find((a) => a.title === 'Ratio tables');
    if (attachment === undefined) throw new Error('no attachment was created');
    // No Developer Preview call (userProfiles.checkUserCapability) was needed for it.
    const paths = world.google.state.requestLog.slice(requestsBefore).map((r) => r.path);
    expect(paths.filter((path) => path.includes('checkUserCapability'))).to.deep.equal([]);

    // 2. A student opens it twice, in a browser that blocks third-party cookies.
    const studentContext = await browser.newContext();
    const studentPage = await studentContext.newPage();
    const studentUrl = `${world.googleOrigin}/classroom/c/${course.id}/a/${courseWork.id}/attachments/${attachment.id}/student?user=${student.id}`;
    const firstOpen = await addOnFrame(studentPage, studentUrl);
    await firstOpen.waitForSelector('#classroom-sign-in');
    const studentPopup = await openSignInWindow(studentContext, firstOpen);
    await Promise.all([
      firstOpen.waitForURL(/\/classroom\/student\?/),
      throughGoogle(studentPopup, student.id),
    ]);
    await firstOpen.waitForSelector('text=See my progress');
    await expectNoSeriousAxeViolations(firstOpen);
    const secondOpen = await addOnFrame(studentPage, studentUrl);
    // Signed in already (partitioned cookie, login_hint): no sign-in window, straight to the view.
    await secondOpen.waitForURL(/\/classroom\/student\?/);
    await secondOpen.waitForSelector('text=See my progress');
    expect(world.google.consents.screensFor(student.id)).to.be.at.most(1);

    // 3. The teacher reviews the student's work and records a level; the grade goes to Classroom.
    const submissionId = world.google.state.gradebookEntry(courseWork.id, student.id).submissionId;
    const review = await addOnFrame(
      teacherPage,
      `${world.googleOrigin}/classroom/c/${course.id}/a/${courseWork.id}/attachments/${attachment.id}/review?user=${teacher.id}&submissionId=${encodeURIComponent(submissionId)}`,
    );
    await review.waitForURL(/\/classroom\/review\?/);
    await review.waitForSelector('text=Record evidence for this class');
    await expectNoSeriousAxeViolations(review);
    const assignment = await database.db
      .selectFrom('course_assignments')
      .select(['id', 'course_id', 'resource_id'])
      .where('tenant_id', '=', world.tenantId)
      .where('title', '=', 'Ratio tables')
      .executeTakeFirstOrThrow();
    const studentUser = await world.tool.services.people.findUser(
      world.tenantId,
      world.google.issuer,
      student.id,
    );
    await review.goto(`${sessionBase(review)}/course/evidence/${assignment.id}`);
    const cell = `#c_${studentUser?.id ?? ''}_${standards[0]?.id ?? ''}`;
    await review.fill(cell, '3');
    await review.press(cell, 'Tab');
    await review.waitForFunction(
      () => document.querySelector('[data-save-status]')?.textContent === 'Saved',
      undefined,
      { timeout: 15_000 },
    );
    await expectNoSeriousAxeViolations(review);
    // The activity's score goes to its own Classroom item, the attachment, through the course's
    // LMS port (as the passback worker posts). The attachment submission is the one Classroom
    // named when the student opened the activity in the browser above.
    const mastery = await database.db
      .selectFrom('mastery_results')
      .select('value')
      .where('tenant_id', '=', world.tenantId)
      .where('student_id', '=', studentUser?.id ?? '')
      .where('item_id', '=', standards[0]?.id ?? '')
      .executeTakeFirstOrThrow();
    expect(mastery.value).to.equal(3);
    const { lms } = await lmsForCourse(world.tool.services, world.tenantId, assignment.course_id);
    const column = await lms.findGradebookColumn({ resourceId: assignment.resource_id ?? '' });
    expect(column?.id).to.match(/^attachment:/);
    await lms.postScore(column!, {
      userId: student.id,
      scoreGiven: mastery.value ?? 0,
      scoreMaximum: 4,
      timestamp: new Date(),
    });
    const entry = world.google.state.gradebookEntry(courseWork.id, student.id);
    const onAttachment = entry.attachments.find((a) => a.attachmentId === attachment.id);
    // The attachment's own submission (its own id); Classroom shows it as the draft grade.
    expect(onAttachment?.submissionId).to.be.a('string');
    expect(onAttachment?.submissionId).to.not.equal(entry.submissionId);
    expect(onAttachment?.pointsEarned).to.equal(3);
    expect(entry.draftGrade).to.equal(3);
    expect(entry.assignedGrade).to.equal(undefined);

    // 4. The teacher copies the class: the copied attachment opens with the same activity.
    const copied = world.google.state.copyCourse({ courseId: course.id, userId: teacher.id });
    const copiedWork = copied.courseWork.get(courseWork.id);
    const copiedAttachment = world.google.state
      .attachmentsOf(copiedWork?.id ?? '')
      .find((a) => a.copyHistory.some((c) => c.attachmentId === attachment.id));
    const copy = await addOnFrame(
      teacherPage,
      `${world.googleOrigin}/classroom/c/${copied.course.id}/a/${copiedWork?.id ?? ''}/attachments/${copiedAttachment?.id ?? ''}/teacher?user=${teacher.id}`,
    );
    await copy.waitForURL(/\/classroom\/teacher\?/);
    await copy.waitForSelector('text=Ratio tables');
    const copyText = (await copy.textContent('body')) ?? '';
    expect(copyText).to.contain(standards[0]?.code ?? '?');
    expect(copyText).to.contain(standards[1]?.code ?? '?');
    await expectNoSeriousAxeViolations(copy);
    await teacherContext.close();
    await studentContext.close();
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

    // The page naming the permissions a student unticked at Google's consent screen.
    const declining = students[2]?.id ?? '';
    const unticked = await openAddOn(
      world,
      world.google.attachmentFrameUrl({
        attachmentId: attachment?.id ?? '',
        view: 'student',
        userId: declining,
      }),
      declining,
      { decline: ['https://www.googleapis.com/auth/classroom.addons.student'] },
    );
    expect(unticked.callbackStatus).to.equal(403);
    await page.setContent(unticked.callbackBody);
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
    const popup = await openSignInWindow(context, frame);
    await throughGoogle(popup, suite.world.seed.teacher.id);
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
    await throughGoogle(victim, teacher.id);
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
