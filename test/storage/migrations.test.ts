import { expect } from 'chai';
import { sql } from 'kysely';
import { migrateToLatest, migrationStatus } from '../../src/storage/database.ts';
import { migrations } from '../../src/storage/migrations/index.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';
import { PGlite } from '@electric-sql/pglite';
import { fromPGlite } from '../../src/storage/database.ts';

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
});
