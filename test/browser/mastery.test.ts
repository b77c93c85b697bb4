import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { expectNoSeriousAxeViolations } from '../support/browser.ts';
import { createLtiWorld, launch } from '../support/lti-world.ts';
import { seedMasteryCourse } from '../http/mastery-views-seed.ts';
import { useBrowserSuite, watchConsoleErrors } from './support.ts';

describe('mastery pages in a browser', function () {
  this.timeout(120_000);
  const suite = useBrowserSuite((database) =>
    createLtiWorld(database, { flavour: 'canvas', platformStorage: false }),
  );
  let teacherBase: string;
  let studentBase: string;
  let courseId: string;

  async function baseFor(userId: string): Promise<string> {
    const outcome = await launch(suite.world, { userId });
    expect(outcome.status, outcome.body).to.equal(303);
    return `${suite.world.tool.origin}${(outcome.location ?? '').replace(/\/course$/, '')}`;
  }

  async function open(path: string): Promise<{ page: Page; errors: string[] }> {
    const page = await suite.browser.newPage();
    const errors = watchConsoleErrors(page);
    const response = await page.goto(path);
    expect(response?.status(), path).to.equal(200);
    return { page, errors };
  }

  const rowNames = (page: Page) => page.locator('table.heatmap tbody th a').allTextContents();

  before(async () => {
    const { database, world } = suite;
    teacherBase = await baseFor(world.seed.teacher.userId);
    const course = (await world.tool.services.courses.listCourses(world.tenantId))[0];
    if (course === undefined) throw new Error('no course');
    courseId = course.id;
    await seedMasteryCourse(world, database.db, course.id);
    studentBase = await baseFor(world.seed.students[0]?.userId ?? '');
  });

  it('when a teacher opens the heatmap, sorts, filters and opens a student, then they see the explanation', async () => {
    const { page, errors } = await open(`${teacherBase}/course/mastery`);
    expect(await page.locator('h1').textContent()).to.match(/^Class mastery/);
    // The scale's stylesheet loaded under the CSP: a Meets/Exceeds cell is coloured, and its text says the level.
    const exceeds = page.locator('td.cell abbr[title="Exceeds"]').first();
    expect(await exceeds.textContent()).to.equal('E');
    const background = await exceeds.evaluate(
      (el) => getComputedStyle(el.parentElement as Element).backgroundColor,
    );
    expect(background).to.equal('rgb(26, 94, 32)');
    await expectNoSeriousAxeViolations(page);

    // Sort by NBT.1, then again for descending: Ava (4) before Ben (2).
    await page.getByRole('link', { name: /NBT\.1/ }).click();
    await page.waitForURL(/sort=/);
    expect((await rowNames(page)).slice(0, 2)).to.deep.equal(['Ben Carter', 'Ava Brooks']);
    await page.getByRole('link', { name: /NBT\.1/ }).click();
    await page.waitForURL(/dir=desc/);
    expect((await rowNames(page)).slice(0, 2)).to.deep.equal(['Ava Brooks', 'Ben Carter']);
    expect(await page.locator('th[aria-sort="descending"]').textContent()).to.include('NBT.1');

    // Filter by the Geometry domain (keyboard-reachable form, no script needed).
    await page.getByLabel('Show standards of').selectOption({ label: 'G: Geometry' });
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/domain=/);
    const headers = await page.locator('table.heatmap thead th').allTextContents();
    expect(headers.join('|')).to.include('G.1');
    expect(headers.join('|')).not.to.include('NBT.1');

    await page.getByRole('link', { name: 'Ava Brooks' }).click();
    await page.waitForURL(/\/course\/students\//);
    expect(await page.locator('h1').textContent()).to.equal('Ava Brooks');
    const nbt1 = page.locator('section.standard').first();
    expect(await nbt1.locator('.explanation').textContent()).to.include('Most recent score');
    expect(await nbt1.locator('ol.steps li').count()).to.be.greaterThan(0);
    expect(await nbt1.locator('svg[role="img"] title').first().textContent()).to.equal(
      'Scores over time for NBT.1',
    );
    await expectNoSeriousAxeViolations(page);
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it('when a teacher opens pathways, then the page has no serious axe violations', async () => {
    const { page } = await open(`${teacherBase}/course/pathways`);
    expect(await page.getByText('Needs a re-assessment').count()).to.be.greaterThan(0);
    await expectNoSeriousAxeViolations(page);
    await page.close();
  });

  it('when a teacher opens a student’s view and a mentor opens their linked student, then both pages pass axe', async () => {
    const { world } = suite;
    const ids = await world.tool.services.courses.listRoster(world.tenantId, courseId);
    const ava = ids.find((r) => r.name === 'Ava Brooks');
    if (ava === undefined) throw new Error('Ava not on the roster');
    const preview = await open(`${teacherBase}/course/students/${ava.userId}/progress`);
    expect(await preview.page.locator('h1').textContent()).to.include('as the student sees it');
    await expectNoSeriousAxeViolations(preview.page);
    await preview.page.close();

    const mentorBase = await baseFor(world.seed.mentor.userId);
    const mentor = await world.tool.services.people.findUser(
      world.tenantId,
      world.emulator.issuer,
      world.seed.mentor.sub,
    );
    await world.tool.services.mastery.linkMentor({
      tenantId: world.tenantId,
      courseId,
      mentorId: mentor?.id ?? '',
      issuer: world.emulator.issuer,
      studentSubs: [world.seed.students[0]?.sub ?? ''],
    });
    const mentorPage = await open(`${mentorBase}/course/progress`);
    expect(await mentorPage.page.locator('h1').textContent()).to.equal('Progress of Ava Brooks');
    expect(await mentorPage.page.getByLabel('Student').inputValue()).to.equal(ava.userId);
    await expectNoSeriousAxeViolations(mentorPage.page);
    await mentorPage.page.close();
  });

  it('when a student opens their progress, then they see only their own, and the class view is refused', async () => {
    const { page, errors } = await open(`${studentBase}/course/progress`);
    expect(await page.locator('h1').textContent()).to.equal('My progress');
    const text = (await page.locator('main').textContent()) ?? '';
    expect(text).to.include('What to do next');
    expect(text).not.to.include('Ben Carter');
    expect(await page.locator('svg[role="img"]').count()).to.equal(3);
    await expectNoSeriousAxeViolations(page);
    expect(errors).to.deep.equal([]);
    const refused = await page.goto(`${studentBase}/course/mastery`);
    expect(refused?.status()).to.equal(403);
    expect((await page.locator('main').textContent()) ?? '').not.to.include('Ben Carter');
    await page.close();
  });
});
