import { expect } from 'chai';
import { sql } from 'kysely';
import { migrateToLatest, migrationStatus } from '../../src/storage/database.ts';
import { migrations } from '../../src/storage/migrations/index.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { PGlite } from '@electric-sql/pglite';
import { fromPGlite } from '../../src/storage/database.ts';
import * as mentorScopes from '../../src/storage/migrations/20261127T0760-create-mentor-scopes.ts';
import { seedCourse, seedDistrict, seedUsers } from '../support/seed-district.ts';

describe(`migrations (${testEngine})`, () => {
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase();
  });

  after(async () => {
    await database.close();
  });

  it('when the database is migrated, then no migration is pending and every one is recorded', async () => {
    const status = await migrationStatus(database.db);
    expect(status.pending).to.deep.equal([]);
    expect(status.applied).to.deep.equal(Object.keys(migrations));
  });

  it('when migrations run again, then nothing is applied and nothing changes', async () => {
    const result = await migrateToLatest(database.db);
    expect(result.results).to.deep.equal([]);
  });

  it('when a tenant is stored, then the schema enforces its slug and name rules', async () => {
    const row = await database.db
      .insertInto('tenants')
      .values({ slug: 'hartford-public', name: 'Hartford Public Schools' })
      .returningAll()
      .executeTakeFirstOrThrow();
    expect(row.id).to.match(/^[0-9a-f-]{36}$/);
    let rejected: unknown;
    try {
      await database.db.insertInto('tenants').values({ slug: 'Bad Slug!', name: 'x' }).execute();
    } catch (error) {
      rejected = error;
    }
    expect(String(rejected)).to.contain('tenants_slug_check');
  });

  it('when the database is new, then all migrations are pending and applying them is idempotent', async () => {
    const fresh = fromPGlite(new PGlite(), 'pglite:memory');
    try {
      expect((await migrationStatus(fresh.db)).pending).to.deep.equal(Object.keys(migrations));
      const first = await migrateToLatest(fresh.db);
      expect(first.results?.map((r) => r.status)).to.satisfy((s: string[]) =>
        s.every((x) => x === 'Success'),
      );
      expect((await migrationStatus(fresh.db)).pending).to.deep.equal([]);
    } finally {
      await fresh.close();
    }
  });

  it('when a migration fails half way, then its changes are rolled back and the error names it', async () => {
    const fresh = fromPGlite(new PGlite(), 'pglite:memory');
    const broken = {
      ...migrations,
      '29991231T0000-broken': {
        up: async (db: Parameters<NonNullable<(typeof migrations)[string]>['up']>[0]) => {
          await sql`CREATE TABLE half_done (id int)`.execute(db);
          await sql`SELECT * FROM table_that_does_not_exist`.execute(db);
        },
      },
    };
    try {
      let failure: unknown;
      try {
        await migrateToLatest(fresh.db, broken);
      } catch (error) {
        failure = error;
      }
      expect(failure).to.be.instanceOf(Error);
      expect((failure as Error).message).to.contain('29991231T0000-broken');
      const tables = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'half_done'`.execute(
        fresh.db,
      );
      expect(tables.rows[0]?.n).to.equal(0);
    } finally {
      await fresh.close();
    }
  });

  it('when mentor scopes are created, then existing mentor links are carried over as their students’ LMS ids', async () => {
    const own = await createTestDatabase();
    try {
      const db = own.db;
      const at = new Date('2026-11-27T08:00:00.000Z');
      const district = await seedDistrict(db, 'mentor-carry');
      const courseId = await seedCourse(db, {
        tenantId: district.tenantId,
        deploymentRowId: district.deploymentRowId,
        contextId: 'ctx',
        title: 'Grade 6',
        now: at,
      });
      const [mentor, ava, ben] = await seedUsers(db, {
        tenantId: district.tenantId,
        issuer: district.issuer,
        subs: ['mentor', 'ava', 'ben'],
        now: at,
      });
      await mentorScopes.down(db as never);
      await db
        .insertInto('mentor_links')
        .values(
          [ava!, ben!].map((student) => ({
            tenant_id: district.tenantId,
            course_id: courseId,
            mentor_id: mentor!.id,
            student_id: student.id,
            updated_at: at,
          })),
        )
        .execute();
      await mentorScopes.up(db as never);
      const scopes = await db.selectFrom('mentor_scopes').selectAll().execute();
      expect(scopes.map((s) => [s.mentor_id, s.issuer, s.student_subs])).to.deep.equal([
        [mentor!.id, district.issuer, ['ava', 'ben']],
      ]);
    } finally {
      await own.close();
    }
  });
});
