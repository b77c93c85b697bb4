import type { Server } from 'node:http';
import { expect } from 'chai';
import { buildTestApp } from '../support/app.ts';
import { expectNoSeriousAxeViolations, launchBrowser, type Browser } from '../support/browser.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

describe('public pages in a browser', () => {
  let database: TestDatabase;
  let browser: Browser;
  let server: Server;
  let baseUrl: string;

  before(async () => {
    database = await createTestDatabase();
    const { app } = buildTestApp(database);
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const address = server.address();
    baseUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser.close();
    await new Promise((resolve) => server.close(resolve));
    await database.close();
  });

  it('the home page renders with its styles, a skip link that works from the keyboard, and no serious axe violations', async () => {
    const page = await browser.newPage();
    const cspErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') cspErrors.push(message.text());
    });
    await page.goto(`${baseUrl}/`);
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
    const page = await browser.newPage();
    const response = await page.goto(`${baseUrl}/no-such-page`);
    expect(response?.status()).to.equal(404);
    await expectNoSeriousAxeViolations(page);
    await page.close();
  });
});
