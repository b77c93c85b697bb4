import { expect } from 'chai';
import { seedAlignedAssignment } from '../storage/mastery/fixture.ts';
import { expectNoSeriousAxeViolations, type Page } from '../support/browser.ts';
import { createLtiWorld, launch } from '../support/lti-world.ts';
import { useBrowserSuite } from './support.ts';

/**
 * A teacher enters levels in the evidence grid with the keyboard, pastes a block from a
 * spreadsheet, sees autosave status and per-cell errors; every evidence and policy page gets an
 * axe scan.
 */
describe('the evidence entry grid in a browser', function () {
  this.timeout(120_000);
  const suite = useBrowserSuite((database) =>
    createLtiWorld(database, { flavour: 'canvas', platformStorage: false }),
  );
  let page: Page;
  let base: string;
  let courseId: string;
  let studentIds: string[];
  let leaves: [string, string];
  let assignmentId: string;

  const result = (studentId: string, itemId: string) =>
    suite.database.db
      .selectFrom('mastery_results')
      .select(['value', 'status'])
      .where('course_id', '=', courseId)
      .where('student_id', '=', studentId)
      .where('item_id', '=', itemId)
      .executeTakeFirst();

  before(async () => {
    const { database, world, browser } = suite;
    const teacher = await launch(world, { userId: world.seed.teacher.userId });
    const location = teacher.location ?? '';
    base = `${world.tool.origin}${/^(\/s\/[A-Za-z0-9_-]+)\//.exec(location)?.[1] ?? ''}`;
    studentIds = [];
    for (const person of world.seed.students.slice(0, 3)) {
      await launch(world, { userId: person.userId });
      const user = await world.tool.services.people.findUser(
        world.tenantId,
        world.emulator.issuer,
        person.sub,
      );
      studentIds.push(user?.id ?? '');
    }
    courseId = (await world.tool.services.courses.listCourses(world.tenantId))[0]!.id;
    const teacherUser = await world.tool.services.people.findUser(
      world.tenantId,
      world.emulator.issuer,
      world.seed.teacher.sub,
    );
    const seeded = await seedAlignedAssignment(database, {
      tenantId: world.tenantId,
      courseId,
      actor: teacherUser!.id,
      now: new Date(),
    });
    leaves = seeded.leaves;
    assignmentId = seeded.assignmentId;
    page = await browser.newPage();
  });

  const cellId = (row: number, col: 0 | 1) => `c_${studentIds[row]}_${leaves[col]}`;
  const rowOfStudent = async (studentId: string) =>
    Number(await page.getAttribute(`input[id^="c_${studentId}_"]`, 'data-row'));
  /** Waits for the grid's autosave status to say that every change is stored. */
  const untilSaved = () =>
    page.waitForFunction(
      () => document.querySelector('[data-save-status]')?.textContent === 'Saved',
      undefined,
      { timeout: 15_000 },
    );

  it('when a teacher types levels with the keyboard, then each saves by itself and the status says so', async () => {
    await page.goto(`${base}/course/evidence/${assignmentId}`);
    await expectNoSeriousAxeViolations(page);
    // Rows are sorted by name: find the first row's student, then move with the arrows.
    const first = await page.getAttribute('input[data-row="0"][data-col="0"]', 'id');
    await page.focus(`#${first}`);
    await page.keyboard.type('3');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.type('4');
    await page.keyboard.press('Enter'); // down one row, same column
    await page.keyboard.type('2');
    await untilSaved();
    const focused = await page.evaluate(
      () =>
        `${document.activeElement?.getAttribute('data-row') ?? ''},${document.activeElement?.getAttribute('data-col') ?? ''}`,
    );
    expect(focused).to.equal('1,1');
    const firstStudent = first!.slice(2, 38);
    expect(await result(firstStudent, leaves[0])).to.include({ value: 3 });
    expect(await result(firstStudent, leaves[1])).to.include({ value: 4 });
  });

  it('when a block is pasted from a spreadsheet, then it fills the cells from the focused one and saves', async () => {
    const start = await page.getAttribute('input[data-row="1"][data-col="0"]', 'id');
    await page.focus(`#${start}`);
    await page.evaluate((id) => {
      const input = document.getElementById(id);
      const data = new DataTransfer();
      data.setData('text/plain', '1\t2\n3\tX\n');
      input?.dispatchEvent(
        new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
      );
    }, start ?? '');
    await untilSaved();
    const third = (await page.getAttribute('input[data-row="2"][data-col="0"]', 'id'))!.slice(
      2,
      38,
    );
    expect(await result(third, leaves[0])).to.include({ value: 3 });
    expect(await page.inputValue('input[data-row="2"][data-col="1"]')).to.equal('X');
    expect(await rowOfStudent(third)).to.equal(2);
  });

  it('when a value is off the scale, then the cell is marked with the reason and the status shows the error', async () => {
    const id = cellId(0, 0);
    await page.focus(`#${id}`);
    await page.keyboard.type('9');
    await page.waitForFunction(
      () => document.querySelector('[data-save-status]')?.textContent.startsWith('Error:') === true,
      undefined,
      { timeout: 15_000 },
    );
    expect(await page.getAttribute(`#${id}`, 'aria-invalid')).to.equal('true');
    expect(await page.textContent(`#${id}-error`)).to.contain('not on the scale');
    expect(await page.inputValue(`#${id}`)).to.equal('9');
    await expectNoSeriousAxeViolations(page);
  });

  it('when the teacher opens the other evidence and policy pages, then axe finds no serious violations', async () => {
    for (const path of [
      '/course/evidence',
      '/course/evidence/import',
      '/course/policy',
      `/course/students/${studentIds[0]}/standards/${leaves[0]}/override`,
    ]) {
      await page.goto(`${base}${path}`);
      expect(await page.title(), path).to.not.contain('error');
      await expectNoSeriousAxeViolations(page);
    }
    await page.goto(`${base}/course/policy`);
    await page.selectOption('#method', 'mean');
    await page.click('button:has-text("Save and recalculate")');
    await page.waitForURL(/\/course\/policy\/jobs\//);
    await expectNoSeriousAxeViolations(page);
    await page.waitForSelector('text=Done: every level was recalculated', { timeout: 20_000 });
  });

  it('when a district admin opens the policy page, then axe finds no serious violations', async () => {
    const { world } = suite;
    const admin = await launch(world, { userId: world.seed.admin.userId });
    const adminBase = /^(\/s\/[A-Za-z0-9_-]+)\//.exec(admin.location ?? '')?.[1] ?? '';
    await page.goto(`${world.tool.origin}${adminBase}/admin/policy`);
    await page.waitForSelector('h1:has-text("Mastery policy")');
    await expectNoSeriousAxeViolations(page);
  });
  it('when the teacher enters a level in the grid, then the class heatmap shows it', async () => {
    const target = studentIds[2] ?? '';
    const row = page.locator(`tr:has(a[href$="/course/students/${target}"])`);
    await page.goto(`${base}/course/mastery`);
    const before = await row.innerText();
    await page.goto(`${base}/course/evidence/${assignmentId}`);
    await page.focus(`#c_${target}_${leaves[1]}`);
    await page.keyboard.press('Control+A');
    await page.keyboard.type('1');
    await page.keyboard.press('Tab');
    await untilSaved();
    await page.goto(`${base}/course/mastery`);
    const after = await row.innerText();
    expect(after).not.to.equal(before);
    expect(await row.locator('.cell-value').allInnerTexts()).to.satisfy((values: string[]) =>
      values.some((v) => /^1(\.0+)?$/.test(v.trim())),
    );
    expect(await result(target, leaves[1])).to.include({ value: 1 });
    await expectNoSeriousAxeViolations(page);
  });
});
