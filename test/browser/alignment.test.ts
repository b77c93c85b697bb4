import { expect } from 'chai';
import { importSample } from '../http/alignment-support.ts';
import { expectNoSeriousAxeViolations, type Page } from '../support/browser.ts';
import { createLtiWorld } from '../support/lti-world.ts';
import { launchFromLms, useBrowserSuite } from './support.ts';

/**
 * A teacher launched from the LMS emulator tags an assignment to two standards with the picker,
 * using the keyboard only, and sees the coverage matrix change. Every alignment page gets an axe
 * scan.
 */
describe('tagging an assignment to standards in a browser', function () {
  this.timeout(120_000);
  const suite = useBrowserSuite(async (database) => {
    const world = await createLtiWorld(database, { flavour: 'canvas', platformStorage: false });
    await importSample(database, world.tenantId);
    return world;
  });

  /** Presses Tab until the element with `id` has focus, as a keyboard user would. */
  async function tabTo(page: Page, id: string): Promise<void> {
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate(() => document.activeElement?.id)) === id) return;
    }
    throw new Error(`could not reach #${id} with Tab`);
  }

  async function coverageOf(page: Page, base: string, code: string): Promise<string> {
    await page.goto(`${base}/course/coverage`);
    const row = page.locator('table.matrix tbody tr').filter({ hasText: code }).first();
    return (await row.locator('td.coverage-status').textContent())?.trim() ?? '';
  }

  it('when a teacher tags an assignment to two standards with the keyboard only, then the editor lists both and the coverage matrix no longer marks them uncovered', async () => {
    const context = await suite.browser.newContext();
    const page = await context.newPage();
    const base = await launchFromLms(page, suite.world, 'course_navigation');

    // Before: nothing is aligned, so the ratio standards have no evidence opportunity.
    expect(await coverageOf(page, base, '6.RP.A.1')).to.contain('None');
    await expectNoSeriousAxeViolations(page);

    // The assignments page: create a teacher assignment with the keyboard.
    await page.goto(`${base}/course/assignments`);
    await expectNoSeriousAxeViolations(page);
    await tabTo(page, 'title');
    await page.keyboard.type('Unit 3 performance task');
    await tabTo(page, 'description');
    await page.keyboard.type('Ratios and unit rates in a recipe');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/course\/assignments\/[0-9a-f-]{36}$/);
    await page.locator('#standard-search[role="combobox"]').waitFor();
    await expectNoSeriousAxeViolations(page);

    // First standard: by code. Typing opens the listbox; ArrowDown picks; Enter adds.
    await tabTo(page, 'standard-search');
    await page.keyboard.type('6.RP.A.1');
    await page.locator('[role="listbox"] [role="option"]').first().waitFor();
    expect(await page.getAttribute('#standard-search', 'aria-expanded')).to.equal('true');
    await page.keyboard.press('ArrowDown');
    const active = await page.getAttribute('#standard-search', 'aria-activedescendant');
    expect(active).to.be.a('string');
    expect(await page.locator(`#${active}`).textContent()).to.contain('6.RP.A.1');
    await expectNoSeriousAxeViolations(page);
    await Promise.all([page.waitForURL(/added=/), page.keyboard.press('Enter')]);
    expect(await page.locator('#picker-status').textContent()).to.contain('Added 6.RP.A.1');

    // Second standard: by words of its statement. The field has focus again after the reload.
    expect(await page.evaluate(() => document.activeElement?.id)).to.equal('standard-search');
    await page.keyboard.type('unit rate');
    await page
      .locator('[role="listbox"] [role="option"]')
      .filter({ hasText: '6.RP.A.2' })
      .waitFor();
    // Escape closes the list without adding; ArrowDown opens it again.
    await page.keyboard.press('Escape');
    expect(await page.getAttribute('#standard-search', 'aria-expanded')).to.equal('false');
    await page.keyboard.press('ArrowDown');
    for (let i = 0; i < 20; i++) {
      const id = await page.getAttribute('#standard-search', 'aria-activedescendant');
      if (id !== null && ((await page.locator(`#${id}`).textContent()) ?? '').includes('6.RP.A.2'))
        break;
      await page.keyboard.press('ArrowDown');
    }
    const firstAdded = page.url();
    await Promise.all([
      page.waitForURL((url) => url.toString() !== firstAdded),
      page.keyboard.press('Enter'),
    ]);
    await page.locator('#picker-status').filter({ hasText: '6.RP.A.2' }).waitFor();

    const tagged = await page.locator('table.alignments tbody th').allTextContents();
    expect(tagged.join(' ')).to.contain('6.RP.A.1');
    expect(tagged.join(' ')).to.contain('6.RP.A.2');
    expect(tagged).to.have.length(2);

    // After: each of the two has one evidence opportunity (thin); the others are still none.
    expect(await coverageOf(page, base, '6.RP.A.1')).to.contain('Thin: 1 assignment');
    expect(await coverageOf(page, base, '6.RP.A.2')).to.contain('Thin: 1 assignment');
    expect(await coverageOf(page, base, '6.RP.A.3')).to.contain('None');
    const cell = page
      .locator('table.matrix tbody tr')
      .filter({ hasText: '6.RP.A.1' })
      .first()
      .locator('td')
      .nth(1);
    expect(await cell.textContent()).to.contain('Aligned');
    await expectNoSeriousAxeViolations(page);
    // The assignments list now has a row, with its count of standards.
    await page.goto(`${base}/course/assignments`);
    const listed = page
      .locator('table.data tbody tr')
      .filter({ hasText: 'Unit 3 performance task' });
    expect(await listed.locator('td').nth(2).textContent()).to.contain('2');
    await expectNoSeriousAxeViolations(page);
    await context.close();
  });

  it('when a teacher adds the tool from the LMS’s assignment selection, then the standards picker page passes axe and adds standards with the keyboard', async () => {
    const context = await suite.browser.newContext();
    const page = await context.newPage();
    await launchFromLms(page, suite.world, 'assignment_selection');
    await page.waitForURL(/\/deep-link$/);
    await page.locator('#standard-search[role="combobox"]').waitFor();
    await expectNoSeriousAxeViolations(page);
    await tabTo(page, 'standard-search');
    await page.keyboard.type('6.RP.A.3');
    await page.locator('[role="listbox"] [role="option"]').first().waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const chosen = page.locator('#picker-selected input[name="standard"]');
    await chosen.first().waitFor();
    expect(await chosen.count()).to.equal(1);
    expect(await page.locator('#picker-selected').textContent()).to.contain('6.RP.A.3');
    await expectNoSeriousAxeViolations(page);
    await context.close();
  });
});
