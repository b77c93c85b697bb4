import { expect } from 'chai';
import { expectNoSeriousAxeViolations } from '../support/browser.ts';
import { createLtiWorld } from '../support/lti-world.ts';
import { useBrowserSuite } from './support.ts';

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
    const context = await browser.newContext();
    // Chromium keeps partitioned (CHIPS) cookies even with third-party cookies blocked, which is
    // why the tool sets one. Safari and iPads keep none in a cross-site frame: drop the tool's
    // Set-Cookie, as they would, so only platform storage can bind the browser to its login.
    await context.route(`${world.tool.origin}/lti/login`, async (route) => {
      const response = await route.fetch();
      const headers = Object.fromEntries(
        Object.entries(response.headers()).filter(([name]) => name.toLowerCase() !== 'set-cookie'),
      );
      await route.fulfill({ response, headers });
    });
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
