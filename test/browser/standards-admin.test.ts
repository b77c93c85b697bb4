import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { addTenant, createAdminUser } from '../../src/lti-admin/use-cases.ts';
import {
  finishImportRecord,
  startImportRecord,
} from '../../src/storage/standards/standards.repository.ts';
import { expectNoSeriousAxeViolations } from '../support/browser.ts';
import { PASSWORD, serveTool, signIn, useBrowserSuite, watchConsoleErrors } from './support.ts';

const SAMPLE_PATH = fileURLToPath(
  new URL('../../src/standards/samples/district-grade6.case.json', import.meta.url),
);

describe('standards library admin pages in a browser', () => {
  const suite = useBrowserSuite((database) =>
    serveTool(database, async (_services, ctx) => {
      const north = await addTenant(ctx, { slug: 'north-district', name: 'North District' });
      await createAdminUser(ctx, {
        username: 'operator',
        tenantSlug: undefined,
        password: PASSWORD,
      });
      await createAdminUser(ctx, {
        username: 'north-admin',
        tenantSlug: 'north-district',
        password: PASSWORD,
      });
      return { north };
    }),
  );

  it('a district admin imports the sample framework, sees the tree, edits a standard, and every page passes axe', async () => {
    const { browser, world } = suite;
    const { baseUrl, north } = world;
    const page = await browser.newPage();
    const cspErrors = watchConsoleErrors(page, 'csp');
    await signIn(page, baseUrl, 'north-admin');

    await Promise.all([
      page.waitForURL(`${baseUrl}/admin/standards/district/${north.id}`),
      page.getByRole('link', { name: 'Standards', exact: true }).click(),
    ]);
    expect(await page.locator('h1').textContent()).to.equal('Standards of North District');
    await expectNoSeriousAxeViolations(page);

    await page.getByRole('link', { name: 'Import standards' }).click();
    expect(await page.locator('h1').textContent()).to.equal('Import standards');
    await expectNoSeriousAxeViolations(page);

    // A file with a problem first: the refusal lists it, in an accessible table.
    await page.setInputFiles('#file', {
      name: 'broken.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from('code,statement,parent_code,grade,subject\nA,First,ZZ,06,Math\n'),
    });
    await page.getByRole('button', { name: 'Import file' }).click();
    await page.locator('[data-status="failed"]').waitFor();
    expect(await page.locator('h1').textContent()).to.equal('Import refused');
    expect(await page.locator('table.standards-problems tbody td').first().textContent()).to.match(
      /^Line 2/,
    );
    await expectNoSeriousAxeViolations(page);

    // The sample package: the progress page, then the outcome.
    await page.goto(`${baseUrl}/admin/standards/district/${north.id}/import`);
    await page.setInputFiles('#file', SAMPLE_PATH);
    const visited: string[] = [];
    page.on('request', (request) => {
      if (request.isNavigationRequest()) visited.push(new URL(request.url()).pathname);
    });
    await page.getByRole('button', { name: 'Import file' }).click();
    await page.locator('[data-status="succeeded"]').waitFor();
    // The upload answered with the import's progress address, which then led to the stored outcome.
    const imports = visited.filter((path) => path.includes('/imports/'));
    expect(imports.length).to.be.greaterThan(0);
    expect(new URL(page.url()).pathname).to.match(/\/imports\/[0-9a-f-]{36}$/);
    expect(await page.locator('h1').textContent()).to.equal('Import finished');
    expect(await page.locator('table.standards-counts').textContent()).to.match(/Created\s*\d+/);
    await expectNoSeriousAxeViolations(page);

    await page.getByRole('link', { name: /^Open Example District Grade 6/ }).click();
    await page.locator('.standards-tree').first().waitFor();
    expect(await page.locator('.standards-tree summary').first().textContent()).to.contain('6.RP');
    await expectNoSeriousAxeViolations(page);

    // The tree collapses and opens with the keyboard (details/summary).
    const domain = page.locator('.standards-tree details').first();
    await domain.locator('> summary').focus();
    await page.keyboard.press('Enter');
    expect(await domain.evaluate((el) => (el as HTMLDetailsElement).open)).to.equal(false);
    await page.keyboard.press('Enter');
    expect(await domain.evaluate((el) => (el as HTMLDetailsElement).open)).to.equal(true);

    // Search, then open a standard and edit it.
    await page.fill('#q', '6.RP.A.1');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('.standards-hits').waitFor();
    await expectNoSeriousAxeViolations(page);
    await page.locator('.standards-hits a').first().click();
    expect(await page.locator('h1').textContent()).to.equal('6.RP.A.1');
    await expectNoSeriousAxeViolations(page);
    await page.fill(
      '#edit-statement',
      'Explain what a ratio is and use ratio language to describe a relationship between two quantities.',
    );
    await page.fill('#edit-levels', '06');
    await page.getByRole('button', { name: 'Save changes' }).click();
    expect(await page.locator('.notice[role="status"]').textContent()).to.contain(
      'The changes were saved.',
    );
    expect(await page.locator('dd.statement').textContent()).to.equal(
      'Explain what a ratio is and use ratio language to describe a relationship between two quantities.',
    );
    await expectNoSeriousAxeViolations(page);

    // The change history names the admin.
    await page.getByRole('link', { name: /^Example District Grade 6/ }).click();
    await page.getByRole('link', { name: 'Change history' }).click();
    expect(await page.locator('table.standards-audit tbody tr').first().textContent()).to.contain(
      'north-admin',
    );
    await expectNoSeriousAxeViolations(page);

    // A new, empty framework written here.
    await page.goto(`${baseUrl}/admin/standards/district/${north.id}`);
    await page.fill('#fw-title', 'North Computer Science');
    await page.getByRole('button', { name: 'Create framework' }).click();
    expect(await page.locator('h1').textContent()).to.equal('North Computer Science');
    await page.fill('#add-code', 'CS.1');
    await page.fill('#add-statement', 'Describe an algorithm as a sequence of steps.');
    await page.getByRole('button', { name: 'Add standard' }).click();
    expect(await page.locator('h1').textContent()).to.equal('CS.1');
    await expectNoSeriousAxeViolations(page);
    expect(cspErrors).to.deep.equal([]);
    await page.close();
  });

  it('an operator first picks a district, and the page passes axe', async () => {
    const { browser, world } = suite;
    const { baseUrl } = world;
    const page = await browser.newPage();
    await signIn(page, baseUrl, 'operator');
    await page.goto(`${baseUrl}/admin/standards`);
    expect(await page.locator('h1').textContent()).to.equal('Standards');
    await expectNoSeriousAxeViolations(page);
    await page.getByRole('link', { name: 'North District' }).click();
    expect(await page.locator('h1').textContent()).to.equal('Standards of North District');
    await expectNoSeriousAxeViolations(page);
    await page.close();
  });

  async function runningImport(): Promise<string> {
    return startImportRecord(suite.database.db, {
      tenantId: suite.world.north.id,
      actor: 'system',
      source: 'case_file',
      sourceUrl: null,
      total: 400,
      startedAt: new Date(),
    });
  }

  async function finish(importId: string): Promise<void> {
    await finishImportRecord(suite.database.db, {
      tenantId: suite.world.north.id,
      importId,
      status: 'succeeded',
      frameworkId: null,
      counts: { created: 400, updated: 0, archived: 0, unchanged: 0 },
      errors: null,
      done: 400,
      finishedAt: new Date(),
    });
  }

  it('the progress page of a running import updates itself with a script, and passes axe', async () => {
    const { database, browser, world } = suite;
    const { baseUrl, north } = world;
    const importId = await runningImport();
    await database.db
      .updateTable('standard_imports')
      .set({ progress_done: 120 })
      .where('id', '=', importId)
      .execute();
    const page = await browser.newPage();
    const cspErrors = watchConsoleErrors(page, 'csp');
    await signIn(page, baseUrl, 'north-admin');
    await page.goto(`${baseUrl}/admin/standards/district/${north.id}/imports/${importId}`);
    expect(await page.locator('h1').textContent()).to.equal('Import in progress');
    expect(await page.locator('#import-progress-text').textContent()).to.contain('120 of 400');
    await expectNoSeriousAxeViolations(page);
    await database.db
      .updateTable('standard_imports')
      .set({ progress_done: 300 })
      .where('id', '=', importId)
      .execute();
    await page.waitForFunction(() =>
      document.getElementById('import-progress-text')?.textContent.includes('300 of 400'),
    );
    await finish(importId);
    await page.locator('[data-status="succeeded"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('h1').textContent()).to.equal('Import finished');
    expect(cspErrors).to.deep.equal([]);
    await page.close();
  });

  it('without JavaScript, the progress page refreshes itself until the import is done', async () => {
    const { browser, world } = suite;
    const { baseUrl, north } = world;
    const importId = await runningImport();
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await signIn(page, baseUrl, 'north-admin');
    await page.goto(`${baseUrl}/admin/standards/district/${north.id}/imports/${importId}`);
    expect(await page.locator('h1').textContent()).to.equal('Import in progress');
    await finish(importId);
    await page.locator('[data-status="succeeded"]').waitFor({ timeout: 15_000 });
    await context.close();
  });
});
