import { expect } from 'chai';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import {
  namePreparedStatements,
  PREPARED_MARKER,
  preparedQuery,
} from '../../src/storage/prepared-statements.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../support/database.ts';

describe('statements marked to be prepared', () => {
  it('when a statement starts with the marker, then it is named after its text; any other is left alone', () => {
    const first = preparedQuery(`${PREPARED_MARKER} SELECT $1::int`, [1]);
    const again = preparedQuery(`${PREPARED_MARKER} SELECT $1::int`, [2]);
    const other = preparedQuery(`${PREPARED_MARKER} SELECT $1::text`, ['a']);
    expect(first?.name).to.match(/^mp_[0-9a-f]{24}$/);
    expect(again?.name).to.equal(first?.name);
    expect(again?.values).to.deep.equal([2]);
    expect(other?.name).not.to.equal(first?.name);
    expect(preparedQuery('SELECT 1', [])).to.equal(undefined);
    expect(preparedQuery(` ${PREPARED_MARKER} SELECT 1`, [])).to.equal(undefined);
  });

  describe(`on a pool that names them (${testEngine})`, function () {
    this.timeout(30_000);
    let database: TestDatabase;

    before(async function () {
      if (testEngine !== 'postgres') this.skip();
      database = await createTestDatabase();
    });
    after(async () => {
      if (testEngine === 'postgres') await database.close();
    });

    it('when a marked statement runs twice, then the connection holds one prepared statement for it and the answers are right', async () => {
      const pool = new pg.Pool({ connectionString: database.url, max: 1 });
      namePreparedStatements(pool);
      const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
      try {
        const ask = (n: number) =>
          sql<{ doubled: number }>`/* prepared */ SELECT ${n}::int * 2 AS doubled`.execute(db);
        expect((await ask(2)).rows).to.deep.equal([{ doubled: 4 }]);
        expect((await ask(5)).rows).to.deep.equal([{ doubled: 10 }]);
        await sql`SELECT 1`.execute(db);
        const prepared = await sql<{ name: string; statement: string }>`
          SELECT name, statement FROM pg_prepared_statements
        `.execute(db);
        expect(prepared.rows).to.have.length(1);
        expect(prepared.rows[0]?.name).to.match(/^mp_/);
        expect(prepared.rows[0]?.statement).to.include('* 2 AS doubled');
      } finally {
        await db.destroy();
      }
    });
  });
});
