import { expect } from 'chai';
import { buildTestApp } from '../support/app.ts';
import { expectNoSeriousAxeViolations } from '../support/browser.ts';
import { serve, useBrowserSuite, watchConsoleErrors } from './support.ts';

describe('public pages in a browser', () => {
  const suite = useBrowserSuite((database) => serve(buildTestApp(database).app));

  it('the home page renders with its styles, a skip link that works from the keyboard, and no serious axe violations', async () => {
    const page = await suite.browser.newPage();
    const cspErrors = watchConsoleErrors(page);
    await page.goto(`${suite.world.baseUrl}/`);
    expect(await page.title()).to.equal('Mastery Pathways · Mastery Pathways');
    expect(await page.locator('h1').textContent()).to.equal('Mastery Pathways');
    // The stylesheet loaded under the CSP: the skip link is moved off screen until focused.
    const left = await page.locator('.skip-link').evaluate((el) => getComputedStyle(el).left);
    expect(left).to.equal('-999px');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).to.equal(
      'Skip to main content',
    );
    await expectNoSeriousAxeViolations(page);
    expect(cspErrors).to.deep.equal([]);
    await page.close();
  });

  it('the not-found page has no serious axe violations', async () => {
    const page = await suite.browser.newPage();
    const response = await page.goto(`${suite.world.baseUrl}/no-such-page`);
    expect(response?.status()).to.equal(404);
    await expectNoSeriousAxeViolations(page);
    await page.close();
  });
});
