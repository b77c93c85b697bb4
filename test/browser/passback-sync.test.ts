import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { recordPerson } from '../support/passback-world.ts';
import { createLogger } from '../../src/logger.ts';
import { resolveLmsFromServices } from '../../src/app-services.ts';
import { createPassbackWorker } from '../../src/passback/worker.ts';
import {
  ensureGradebookColumn,
  setDesiredGrade,
} from '../../src/storage/passback/passback.repository.ts';
import { expectNoSeriousAxeViolations } from '../support/browser.ts';
import { createLtiWorld } from '../support/lti-world.ts';
import { launchFromLms, useBrowserSuite } from './support.ts';

/**
 * A teacher opens the grade sync page from the LMS while grades go out: the progress bar moves live
 * (script), problems are explained, the teacher pauses the course; every page gets an axe scan.
 */
describe('the grade sync page in a browser', function () {
  this.timeout(120_000);
  const suite = useBrowserSuite((database) =>
    createLtiWorld(database, { flavour: 'canvas', platformStorage: false }),
  );

  async function desire(key: string, value: number): Promise<void> {
    const { database, world } = suite;
    const services = world.tool.services;
    const course = (await services.courses.listCourses(world.tenantId))[0];
    if (course === undefined) throw new Error('no course');
    const columnId = await database.db.transaction().execute((tx) =>
      ensureGradebookColumn(tx, {
        tenantId: world.tenantId,
        courseId: course.id,
        kind: 'standard',
        key,
        label: `Standard ${key} (mastery)`,
        scoreMaximum: 4,
        now: new Date(),
      }),
    );
    // The teacher, graded as if a student, is refused by Canvas with 422 "not a student".
    const people = [...world.seed.students, world.seed.teacher];
    for (const person of people) {
      const user = await recordPerson(world, person);
      await database.db.transaction().execute((tx) =>
        setDesiredGrade(tx, {
          tenantId: world.tenantId,
          courseId: course.id,
          columnId,
          userId: user.id,
          lmsUserId: person.sub,
          value,
          now: new Date(),
        }),
      );
    }
  }

  const worker = () =>
    createPassbackWorker({
      db: suite.database.db,
      resolveLms: resolveLmsFromServices(suite.world.tool.services),
      now: () => new Date(),
      sleep: (ms) => sleep(ms),
      logger: createLogger({ level: 'silent' }),
      limits: { requestsPerSecond: 1000, burst: 50 },
    });

  it('when grades go out while the page is open, then the progress updates live, problems are explained, and the teacher can pause', async () => {
    const { browser, world } = suite;
    const context = await browser.newContext();
    const page = await context.newPage();
    const base = await launchFromLms(page, world);
    await desire('first', 3);
    await worker().drain(); // the teacher's grade fails with a 422 (not a student)
    await desire('second', 2);
    await page.goto(`${base}/course/sync`);
    expect(await page.locator('#sync-progress-bar').count()).to.equal(1);
    expect(
      await page.locator('h3', { hasText: 'Not a student in the LMS course' }).count(),
    ).to.equal(1);
    await expectNoSeriousAxeViolations(page);

    // The script polls the progress and reloads once everything is sent.
    await worker().drain();
    await page.waitForSelector('#sync-progress-bar', { state: 'detached', timeout: 20_000 });
    expect(await page.locator('[data-count="pending"]').textContent()).to.equal('0');

    await page.getByRole('button', { name: 'Pause sync' }).click();
    await page.waitForURL(/done=paused/);
    expect(await page.locator('.notice').textContent()).to.contain('paused');
    expect(await page.getByRole('button', { name: 'Resume sync' }).count()).to.equal(1);
    await expectNoSeriousAxeViolations(page);

    await page.getByRole('link', { name: world.seed.students[0]!.name }).click();
    await page.waitForURL(/\/course\/sync\/students\//);
    expect(await page.locator('tbody tr').count()).to.equal(2);
    await expectNoSeriousAxeViolations(page);
    await page.getByRole('link', { name: /Back to grade sync/ }).click();

    await page.getByRole('link', { name: 'Audit log of every grade sent' }).click();
    await page.waitForURL(/\/course\/sync\/audit/);
    expect(await page.locator('tbody tr').count()).to.be.greaterThan(0);
    await expectNoSeriousAxeViolations(page);
    await context.close();
  });
});
