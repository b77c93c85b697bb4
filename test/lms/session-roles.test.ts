import { expect } from 'chai';
import type { Kysely } from 'kysely';
import { lmsRolesFromLti } from '../../src/lms/lti/roles.ts';
import { createPeopleRepository } from '../../src/storage/lti/people.repository.ts';
import {
  createSessionRepository,
  sessionRoles,
} from '../../src/storage/lti/sessions.repository.ts';
import { up } from '../../src/storage/migrations/20261208T0200-convert-session-roles.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { seedDistrict } from '../support/seed-district.ts';

const MEMBERSHIP = 'http://purl.imsglobal.org/vocab/lis/v2/membership';

/** Every form of a role a platform may send, and the neutral roles it stands for. */
const FORMS: readonly (readonly [string, readonly string[]])[] = [
  [`${MEMBERSHIP}#Instructor`, ['teacher']],
  [`${MEMBERSHIP}/Instructor#TeachingAssistant`, ['teacher']],
  ['Instructor', ['teacher']],
  ['urn:lti:role:ims/lis/Instructor', ['teacher']],
  ['urn:lti:role:ims/lis/Instructor/TeachingAssistant', ['teacher']],
  [`${MEMBERSHIP}#Learner`, ['student']],
  ['Learner', ['student']],
  [`${MEMBERSHIP}#Mentor`, ['mentor']],
  ['http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator', ['administrator']],
  ['http://purl.imsglobal.org/vocab/lis/v2/system/person#SysAdmin', ['administrator']],
  ['urn:lti:instrole:ims/lis/Administrator', ['administrator']],
  [`${MEMBERSHIP}#Administrator`, []],
  ['http://purl.imsglobal.org/vocab/lti/system/person#TestUser', []],
];

describe(`sessions keep LMS-neutral roles (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase();
  });

  after(async () => {
    await database.close();
  });

  it('when a stored role is an LTI role in any form or a neutral word, then the session reads the neutral role', () => {
    for (const [form, neutral] of FORMS) {
      expect(sessionRoles([form]), form).to.deep.equal(neutral);
      expect(lmsRolesFromLti([form]), form).to.deep.equal(neutral);
    }
    expect(sessionRoles(['administrator', 'teacher'])).to.deep.equal(['teacher', 'administrator']);
  });

  it('when the migration runs on live sessions with LTI roles, then they hold the neutral roles the tool reads from them, twice over', async () => {
    const district = await seedDistrict(database.db, 'session-roles');
    const user = await createPeopleRepository(database.db, () => new Date()).upsertUser(
      district.tenantId,
      {
        issuer: district.issuer,
        sub: 'sub-1',
        name: undefined,
        givenName: undefined,
        familyName: undefined,
        email: undefined,
      },
      false,
    );
    const sessions = createSessionRepository(database.db, {
      now: () => new Date(),
      idleMs: 60_000,
      maxMs: 600_000,
    });
    const stored: string[][] = [];
    for (const [form] of FORMS) {
      const { session } = await sessions.create({
        tenantId: district.tenantId,
        userId: user.id,
        roles: [form],
      });
      stored.push([session.id, form]);
    }
    // Migrations see an untyped database (they run before any schema type is true).
    const untyped = database.db as unknown as Kysely<unknown>;
    await up(untyped);
    await up(untyped);
    for (const [id, form] of stored) {
      const row = await database.db
        .selectFrom('sessions')
        .select('roles')
        .where('id', '=', id ?? '')
        .executeTakeFirstOrThrow();
      expect(row.roles, form).to.deep.equal(sessionRoles([form ?? '']));
    }
  });
});
