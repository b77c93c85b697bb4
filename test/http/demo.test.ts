import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startDemo, type RunningDemo } from '../../src/demo.ts';
import type { Person } from '../../src/emulator/types.ts';
import { LogCapture } from '../support/app.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { cookiesFrom, readAutoPostForm } from '../support/lti-world.ts';

/**
 * A launch as a browser makes it from the emulator's course page: the launch link's page posts the
 * login to the tool, the tool redirects to the LMS, the LMS posts the id_token back.
 *
 * The Canvas emulator offers platform storage (lti_storage_target), which needs the JavaScript of
 * the tool's storage page; a fetch-only client takes the cookie path instead, as a browser does when
 * the LMS offers no storage, by leaving that one parameter out of the login.
 */
async function launchFromCoursePage(
  demo: RunningDemo,
  person: Person,
): Promise<{ status: number; html: string; url: string }> {
  const coursePage = await (await fetch(demo.courseUrl)).text();
  const linkPattern = new RegExp(
    `href="(/launch\\?[^"]*user=${person.userId}&amp;placement=course_navigation[^"]*)"`,
  );
  const link = linkPattern.exec(coursePage)?.[1];
  expect(link, `no launch link for ${person.name} on the course page`).to.be.a('string');
  const launchUrl = new URL(link!.replace(/&amp;/g, '&'), demo.emulatorUrl);
  launchUrl.searchParams.delete('frame');

  const initiation = readAutoPostForm(await (await fetch(launchUrl)).text());
  expect(initiation.action).to.equal(`${demo.toolUrl}/lti/login`);
  const loginFields = Object.fromEntries(
    Object.entries(initiation.fields).filter(([name]) => name !== 'lti_storage_target'),
  );
  const login = await fetch(initiation.action, {
    method: 'POST',
    body: new URLSearchParams(loginFields),
    redirect: 'manual',
  });
  expect(login.status, await login.clone().text()).to.equal(302);
  const cookie = cookiesFrom(login.headers.getSetCookie());
  const authorize = await fetch(login.headers.get('location') ?? '', {
    headers: { 'User-Agent': 'demo-test-browser' },
  });
  const idTokenForm = readAutoPostForm(await authorize.text());
  const launched = await fetch(idTokenForm.action, {
    method: 'POST',
    body: new URLSearchParams(idTokenForm.fields),
    headers: { Cookie: cookie },
    redirect: 'manual',
  });
  expect(launched.status, await launched.clone().text()).to.equal(303);
  const url = new URL(launched.headers.get('location') ?? '', demo.toolUrl).toString();
  const page = await fetch(url);
  return { status: page.status, html: await page.text(), url };
}

describe(`npm run demo: tool and LMS emulator started together (${testEngine})`, function () {
  this.timeout(90_000);
  let workDir: string;
  let database: TestDatabase | undefined;
  let demo: RunningDemo | undefined;
  /** What the very first start reported (a later test restarts the demo). */
  let firstStart: Pick<RunningDemo, 'reusedRegistration' | 'sampleStandardsImported'>;
  const logs = new LogCapture();

  const start = async (emulatorPort: number): Promise<RunningDemo> =>
    startDemo({
      flavour: 'canvas',
      toolPort: 0,
      emulatorPort,
      dataDir: path.join(workDir, 'pglite'),
      databaseUrl: database?.url,
      env: { LOG_LEVEL: 'info', KEY_ENCRYPTION_SECRET: 'demo-test-secret-0123456789abcdef-xyz' },
      logDestination: logs.stream,
    });

  before(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'mp-demo-'));
    if (testEngine === 'postgres') database = await createTestDatabase();
    demo = await start(0);
    firstStart = {
      reusedRegistration: demo.reusedRegistration,
      sampleStandardsImported: demo.sampleStandardsImported,
    };
  });

  after(async () => {
    await demo?.stop();
    await database?.close();
    await rm(workDir, { recursive: true, force: true });
  });

  it('when the demo has started, then the tool and the emulator listen on different sites', () => {
    expect(new URL(demo!.toolUrl).hostname).to.equal('localhost');
    expect(new URL(demo!.emulatorUrl).hostname).to.equal('127.0.0.1');
    expect(demo!.courseUrl.startsWith(`${demo!.emulatorUrl}/ui/courses/`)).to.equal(true);
    expect(firstStart.reusedRegistration).to.equal(false);
    expect(demo!.tenant.slug).to.equal('demo-district');
    expect(firstStart.sampleStandardsImported).to.equal(true);
  });

  it('when the emulator starts Dynamic Registration with the demo tool, then the tool may fetch its loopback configuration (the demo sets ALLOW_LOOPBACK_REGISTRATION)', async () => {
    const start = demo!.emulator.startDynamicRegistration(`${demo!.toolUrl}/lti/register`);
    // A wrong registration token: the configuration is fetched, the LMS then refuses the
    // registration, and nothing is stored. Without the setting the URL itself is refused (400).
    const url = new URL('/lti/register', demo!.toolUrl);
    url.searchParams.set('openid_configuration', start.openidConfigurationUrl);
    url.searchParams.set('registration_token', 'not-the-token');
    const res = await fetch(url);
    const html = await res.text();
    expect(res.status, html).to.equal(502);
    expect(html).to.contain('The LMS did not accept or answer the registration');
    expect(html).not.to.contain('url_rejected');
  });

  it('when the teacher launches from the emulator course page, then the tool shows the course with the teacher tools', async () => {
    // This launch's log line, not an earlier test's.
    const logged = logs.lines.length;
    const page = await launchFromCoursePage(demo!, demo!.seed.teacher);
    expect(page.status).to.equal(200);
    expect(page.html).to.contain(demo!.seed.course.title);
    expect(page.html).to.contain(demo!.seed.teacher.name);
    expect(page.html).to.contain('(Teacher)');
    expect(page.html).to.contain('/course/roster');
    const accepted = logs.lines.slice(logged).find((l) => l.msg === 'launch accepted');
    expect(accepted).to.include({ instructor: true, tenantId: demo!.tenant.id });
  });

  it('when a student launches, then the tool shows the student view without teacher tools', async () => {
    const student = demo!.seed.students[0]!;
    const page = await launchFromCoursePage(demo!, student);
    expect(page.status).to.equal(200);
    expect(page.html).to.contain(student.name);
    expect(page.html).to.contain('(Student)');
    expect(page.html).not.to.contain('/course/roster');
  });

  it('when the course administrator launches, then the tool shows the administrator and opens the admin pages', async () => {
    const page = await launchFromCoursePage(demo!, demo!.seed.admin);
    expect(page.status).to.equal(200);
    expect(page.html).to.contain('(Administrator)');
    const adminBase = page.url.replace(/\/course$/, '/admin');
    const overview = await fetch(adminBase);
    expect(overview.status).to.equal(200);
    expect(await overview.text()).to.contain('Administration');
    const platforms = await fetch(`${adminBase}/platforms`);
    expect(platforms.status).to.equal(200);
    expect(await platforms.text()).to.contain('Demo LMS (canvas emulator)');
  });

  it('when the demo is restarted on the same data, then the registration, course and people are reused and launches still work', async () => {
    const first = demo!;
    await first.stop();
    demo = undefined;
    demo = await start(Number(new URL(first.emulatorUrl).port));
    expect(demo.reusedRegistration).to.equal(true);
    // The district already has the sample framework: it is not imported a second time.
    expect(demo.sampleStandardsImported).to.equal(false);
    expect(demo.platform.id).to.equal(first.platform.id);
    expect(demo.clientId).to.equal(first.clientId);
    expect(demo.deploymentId).to.equal(first.deploymentId);
    expect(demo.seed.course.contextId).to.equal(first.seed.course.contextId);
    expect(demo.seed.teacher.sub).to.equal(first.seed.teacher.sub);
    const page = await launchFromCoursePage(demo, demo.seed.teacher);
    expect(page.status).to.equal(200);
    expect(page.html).to.contain('(Teacher)');
  });
});
