import { expect } from 'chai';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createLtiWorld, launch, type LtiWorld } from '../support/lti-world.ts';

const MINUTE = 60 * 1000;
const ENDED = 'Your session ended. Launch Mastery Pathways again from your course in the LMS.';

/**
 * A launched session (its token travels in page URLs) ends after 60 minutes without a request and
 * 10 hours after the launch however active: the defaults of SESSION_IDLE_MINUTES and
 * SESSION_MAX_HOURS. The tool's clock is injected; the emulator keeps the real one.
 */
describe(`launched session lifetime (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let world: LtiWorld;
  let offset = 0;

  before(async () => {
    database = await createTestDatabase();
    world = await createLtiWorld(database, {
      flavour: 'canvas',
      platformStorage: false,
      now: () => new Date(Date.now() + offset),
    });
  });

  after(async () => {
    await world.close();
    await database.close();
  });

  /** A teacher's launch at the real time (the LMS signs with it); returns the course page URL. */
  async function launchTeacher(): Promise<string> {
    offset = 0;
    const outcome = await launch(world, { userId: world.seed.teacher.userId });
    expect(outcome.status, outcome.body).to.equal(303);
    return new URL(outcome.location ?? '', world.tool.origin).toString();
  }

  const page = async (url: string) => {
    const res = await fetch(url, { redirect: 'manual' });
    return { status: res.status, text: await res.text() };
  };

  it('when a teacher comes back after more than 60 idle minutes, then the page says the session ended and to launch again from the LMS', async () => {
    const course = await launchTeacher();
    offset = 59 * MINUTE;
    expect((await page(course)).status).to.equal(200);
    offset = (59 + 61) * MINUTE;
    const ended = await page(course);
    expect(ended.status).to.equal(401);
    expect(ended.text).to.contain(ENDED);
    expect(ended.text).to.contain('<h1>Your session ended</h1>');
    expect(ended.text).to.contain('session_ended');
    expect(ended.text).not.to.contain('Something went wrong');
  });

  it('when a teacher works without a break, then the session still ends 10 hours after the launch', async () => {
    const course = await launchTeacher();
    for (let minutes = 50; minutes < 600; minutes += 50) {
      offset = minutes * MINUTE;
      expect((await page(course)).status, `after ${minutes} minutes`).to.equal(200);
    }
    offset = 601 * MINUTE;
    const ended = await page(course);
    expect(ended.status).to.equal(401);
    expect(ended.text).to.contain(ENDED);
  });
});
