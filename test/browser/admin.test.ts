import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createEmulator } from '../../src/emulator/emulator.ts';
import { addTenant, createAdminUser } from '../../src/lti-admin/use-cases.ts';
import { expectNoSeriousAxeViolations } from '../support/browser.ts';
import { createTestDatabase } from '../support/database.ts';
import { createLtiWorld } from '../support/lti-world.ts';
import { PASSWORD, serveTool, useBrowserSuite, watchConsoleErrors } from './support.ts';

describe('admin pages in a browser', () => {
  const suite = useBrowserSuite((database) =>
    serveTool(database, async (services, ctx) => {
      const north = await addTenant(ctx, { slug: 'north-district', name: 'North District' });
      await createAdminUser(ctx, {
        username: 'operator',
        tenantSlug: undefined,
        password: PASSWORD,
      });
      await services.platforms.create({
        issuer: 'https://moodle.pending.example.org',
        clientId: 'pending-1',
        name: 'Pending Moodle',
        flavour: 'moodle',
        authLoginUrl: 'https://moodle.pending.example.org/mod/lti/auth.php',
        authTokenUrl: 'https://moodle.pending.example.org/mod/lti/token.php',
        jwksUrl: 'https://moodle.pending.example.org/mod/lti/certs.php',
        status: 'pending',
      });
      return { north };
    }),
  );

  it('an operator signs in with the keyboard alone, and every admin page has no serious axe violations', async () => {
    const { browser, world } = suite;
    const { baseUrl, north } = world;
    const page = await browser.newPage();
    // Failed sign-ins answer 401, which Chromium logs too; CSP violations are what matter here.
    const errors = watchConsoleErrors(page, 'csp');
    await page.goto(`${baseUrl}/admin/platforms`);
    // Not signed in: sent to the sign-in form.
    expect(new URL(page.url()).pathname).to.equal('/admin/login');
    await expectNoSeriousAxeViolations(page);

    // A wrong password first: the error is announced and the page stays accessible.
    await page.locator('#username').focus();
    await page.keyboard.type('operator');
    await page.keyboard.press('Tab');
    await page.keyboard.type('wrong password here');
    await page.keyboard.press('Enter');
    await page.waitForLoadState();
    expect(await page.locator('[role="alert"]').textContent()).to.contain(
      'The username or password is not right',
    );
    await expectNoSeriousAxeViolations(page);

    // The username was kept; Tab moves on to the password, then the button.
    expect(await page.locator('#username').inputValue()).to.equal('operator');
    await page.locator('#username').focus();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).to.equal('password');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent.trim())).to.equal(
      'Sign in',
    );
    await Promise.all([page.waitForURL(`${baseUrl}/admin`), page.keyboard.press('Enter')]);
    expect(await page.locator('h1').textContent()).to.equal('Administration');
    await expectNoSeriousAxeViolations(page);

    for (const path of [
      '/admin/platforms',
      '/admin/deployments',
      '/admin/keys',
      '/admin/district',
      `/admin/district?tenant=${north.id}`,
    ]) {
      await page.goto(`${baseUrl}${path}`);
      expect(page.url(), path).to.equal(`${baseUrl}${path}`);
      await expectNoSeriousAxeViolations(page);
    }

    // The add-platform form re-rendered with a field error stays accessible.
    await page.goto(`${baseUrl}/admin/platforms`);
    await page.selectOption('#preset', 'moodle');
    await page.fill('#clientId', 'moodle-client');
    await Promise.all([
      page.waitForLoadState(),
      page.getByRole('button', { name: 'Add platform' }).click(),
    ]);
    expect(await page.locator('#issuer-error').textContent()).to.contain(
      'Enter the Moodle site URL',
    );
    await expectNoSeriousAxeViolations(page);

    // Sign out with the keyboard too.
    await page.getByRole('button', { name: 'Sign out' }).focus();
    await Promise.all([page.waitForURL(`${baseUrl}/admin/login`), page.keyboard.press('Enter')]);
    await page.goto(`${baseUrl}/admin`);
    expect(new URL(page.url()).pathname).to.equal('/admin/login');
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it('the Dynamic Registration error page has no serious axe violations', async () => {
    const page = await suite.browser.newPage();
    const response = await page.goto(`${suite.world.baseUrl}/lti/register`);
    expect(response?.status()).to.equal(400);
    await expectNoSeriousAxeViolations(page);
    await page.close();
  });

  it('when an LMS frames the registration page, then the tool posts org.imsglobal.lti.close to it', async () => {
    const registrationDatabase = await createTestDatabase();
    const world = await createLtiWorld(registrationDatabase, { flavour: 'moodle' });
    // A second LMS, not registered with the tool: its origin is in no frame-ancestors list yet.
    const newLms = createServer();
    await new Promise<void>((resolve) => newLms.listen(0, '127.0.0.1', resolve));
    const newLmsOrigin = `http://127.0.0.1:${(newLms.address() as AddressInfo).port}`;
    newLms.on('request', (await createEmulator({ flavour: 'moodle', baseUrl: newLmsOrigin })).app);
    try {
      const page = await suite.browser.newPage();
      const errors = watchConsoleErrors(page, 'csp');
      const url = new URL(`${newLmsOrigin}/ui/dynamic-registration`);
      url.searchParams.set('url', `${world.tool.origin}/lti/register`);
      await page.goto(url.toString());
      // The emulator's page shows this only when the framed tool page posted the close message.
      await page.waitForFunction(
        () => document.getElementById('status')?.textContent.includes('Registration finished'),
        undefined,
        { timeout: 15_000 },
      );
      const frame = page
        .frames()
        .find((f) => f.url().startsWith(`${world.tool.origin}/lti/register`));
      expect(await frame?.locator('h1').textContent()).to.equal('Registration sent');
      const pending = (await world.tool.services.platforms.list()).filter(
        (p) => p.status === 'pending',
      );
      expect(pending.map((p) => p.issuer)).to.deep.equal([newLmsOrigin]);
      expect(errors).to.deep.equal([]);
      await page.close();
    } finally {
      newLms.closeAllConnections();
      await new Promise((resolve) => newLms.close(resolve));
      await world.close();
      await registrationDatabase.close();
    }
  });
});
