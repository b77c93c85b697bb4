import { expect } from 'chai';
import type { Flavour } from '../../src/emulator/types.ts';
import { expectNoSeriousAxeViolations, type Browser } from '../support/browser.ts';
import { createLtiWorld, type LtiWorld } from '../support/lti-world.ts';
import { useBrowserSuite } from './support.ts';

/**
 * A browser context that keeps no cookie for the tool at all: the jar is emptied before every
 * request to the tool (in the LMS frame and in any window), so only what does not need a cookie
 * (platform storage, the tool's own window storage) can bind a launch.
 */
async function contextWithoutToolCookies(browser: Browser, world: LtiWorld) {
  const context = await browser.newContext();
  await context.route(`${world.tool.origin}/**`, async (route) => {
    await context.clearCookies({ domain: new URL(world.tool.origin).hostname });
    const headers = Object.fromEntries(
      Object.entries(route.request().headers()).filter(([name]) => name.toLowerCase() !== 'cookie'),
    );
    await route.continue({ headers });
  });
  return context;
}

/**
 * The launch as Safari and iPads see it: the tool (localhost) is framed by the LMS (127.0.0.1), a
 * different site, and the browser sends no third-party cookies. The login state must travel
 * through LTI platform storage (postMessage to the LMS frame) instead of the cookie.
 */
describe('cookieless launch in a browser (platform storage)', () => {
  const suite = useBrowserSuite(
    (database) =>
      createLtiWorld(database, {
        flavour: 'canvas',
        toolHost: 'localhost',
        emulatorHost: '127.0.0.1',
        platformStorage: true,
      }),
    { blockThirdPartyCookies: true },
  );

  it('when a teacher launches from the LMS page with third-party cookies blocked, then the framed tool reaches the course page', async () => {
    const { browser, world } = suite;
    // Chromium keeps partitioned (CHIPS) cookies even with third-party cookies blocked, which is
    // why the tool sets one. Safari and iPads keep none in a cross-site frame: no request to the
    // tool carries a cookie here, so only platform storage can bind the browser to its login.
    const context = await contextWithoutToolCookies(browser, world);
    const page = await context.newPage();
    const launchStatuses: number[] = [];
    page.on('response', (response) => {
      const request = response.request();
      if (request.method() === 'POST' && request.url().endsWith('/lti/launch')) {
        launchStatuses.push(response.status());
      }
    });
    const query = new URLSearchParams({
      course: world.seed.course.courseId,
      user: world.seed.teacher.userId,
      placement: 'course_navigation',
      client_id: world.clientId,
      frame: '1',
    });
    await page.goto(`${world.emulatorOrigin}/launch?${query.toString()}`);
    const tool = page.frameLocator('iframe[name="tool_frame"]');
    await tool
      .locator('h1')
      .filter({ hasText: world.seed.course.title })
      .waitFor({ timeout: 20_000 });
    expect(await tool.locator('.viewer').textContent()).to.contain(world.seed.teacher.name);

    // The first POST found no cookie and asked the LMS frame; the second carried the binding.
    // Without the cookie, the first POST answered with the page that asks the LMS frame for the
    // binding (200); that page posted it back and the launch went through (303).
    expect(launchStatuses).to.deep.equal([200, 303]);

    const frame = page.frames().find((f) => f.url().includes('/s/'));
    expect(frame, 'tool frame on its course page').not.to.equal(undefined);
    const toolPage = await context.newPage();
    await toolPage.goto(frame!.url());
    await expectNoSeriousAxeViolations(toolPage);
    await context.close();
  });
});

/**
 * The same launch from LMSs without platform storage (Schoology, Moodle), in a browser that keeps
 * no cookie for the tool: the frame cannot be bound, so it offers one click that opens the tool in
 * its own window, where the login starts again at top level and lands on the same page.
 */
for (const flavour of ['schoology', 'moodle'] as const satisfies readonly Flavour[]) {
  describe(`cookieless launch in a browser without platform storage (${flavour})`, () => {
    const suite = useBrowserSuite(
      (database) =>
        createLtiWorld(database, {
          flavour,
          toolHost: 'localhost',
          emulatorHost: '127.0.0.1',
          platformStorage: false,
        }),
      { blockThirdPartyCookies: true },
    );

    it('when the framed launch cannot keep a cookie, then one click opens the tool in a new window on the same course page, for the same teacher', async () => {
      const { browser, world } = suite;
      const context = await contextWithoutToolCookies(browser, world);
      const page = await context.newPage();
      const query = new URLSearchParams({
        course: world.seed.course.courseId,
        user: world.seed.teacher.userId,
        placement: 'course_navigation',
        client_id: world.clientId,
        frame: '1',
      });
      await page.goto(`${world.emulatorOrigin}/launch?${query.toString()}`);
      const tool = page.frameLocator('iframe[name="tool_frame"]');
      const open = tool.getByRole('link', { name: 'Open Mastery Pathways in a new window' });
      await open.waitFor({ timeout: 20_000 });
      expect(await tool.locator('body').textContent()).not.to.contain('allow them for this site');
      const restartPage = page.frames().find((frame) => frame.url().endsWith('/lti/launch'));
      expect(restartPage, 'the tool frame shows the restart page').not.to.equal(undefined);
      await expectNoSeriousAxeViolations(restartPage!);

      const [popup] = await Promise.all([context.waitForEvent('page'), open.click()]);
      await popup.waitForURL(/\/s\/[A-Za-z0-9_-]+\/course$/, { timeout: 20_000 });
      await popup
        .locator('h1')
        .filter({ hasText: world.seed.course.title })
        .waitFor({ timeout: 20_000 });
      expect(await popup.locator('.viewer').textContent()).to.contain(world.seed.teacher.name);
      // Nothing was kept in a cookie along the way.
      expect(await context.cookies(world.tool.origin)).to.deep.equal([]);
      await context.close();
    });
  });
}
