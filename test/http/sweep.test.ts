import { expect } from 'chai';
import { sql } from 'kysely';
import { sweepExpired } from '../../src/app-services.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { createLtiWorld, launch, type LtiWorld } from '../support/lti-world.ts';

async function count(database: TestDatabase, table: string): Promise<number> {
  const result = await sql<{
    n: number;
  }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(database.db);
  return result.rows[0]?.n ?? 0;
}

describe(`expired launch data (${testEngine})`, function () {
  this.timeout(30_000);
  let database: TestDatabase;
  let world: LtiWorld;
  let clockOffsetMs = 0;

  before(async () => {
    database = await createTestDatabase();
    world = await createLtiWorld(database, {
      flavour: 'canvas',
      platformStorage: false,
      now: () => new Date(Date.now() + clockOffsetMs),
    });
  });

  after(async () => {
    await world.close();
    await database.close();
  });

  it('when sessions, nonces and Deep Linking requests have expired, then the sweep deletes them and keeps live ones', async () => {
    const outcome = await launch(world, {
      userId: world.seed.teacher.userId,
      placement: 'assignment_selection',
    });
    expect(outcome.status).to.equal(303);
    expect(await count(database, 'sessions')).to.equal(1);
    expect(await count(database, 'deep_link_requests')).to.equal(1);
    expect(await count(database, 'used_nonces')).to.equal(1);

    // Nothing has expired yet: nothing is removed.
    expect(await sweepExpired(world.tool.services)).to.deep.equal({
      loginStates: 0,
      nonces: 0,
      sessions: 0,
      deepLinks: 0,
      classroomSignIns: 0,
    });

    clockOffsetMs = 9 * 60 * 60 * 1000; // past the 8-hour session
    const swept = await sweepExpired(world.tool.services);
    expect(swept).to.deep.equal({
      loginStates: 0,
      nonces: 1,
      sessions: 1,
      deepLinks: 1,
      classroomSignIns: 0,
    });
    expect(await count(database, 'sessions')).to.equal(0);
    expect(await count(database, 'deep_link_requests')).to.equal(0);
    expect(await count(database, 'used_nonces')).to.equal(0);
    // The people and the course stay: only short-lived launch data goes.
    expect(await count(database, 'users')).to.be.greaterThan(0);
  });
});
