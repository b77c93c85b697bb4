import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { CliIo } from '../../../src/cli.ts';
import { createLogger } from '../../../src/logger.ts';
import { openDatabase } from '../../../src/storage/database.ts';
import { CLI_TEST_SECRET, runCliIn } from '../../support/cli.ts';

/** Each test makes its own tenant, so any one of them passes alone or in any order. */
describe('command line: a tenant’s data (export, delete, delete one person)', function () {
  this.timeout(120_000);
  let dir: string;
  let dataDir: string;
  let counter = 0;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mp-cli-tenant-'));
    dataDir = path.join(dir, 'pglite');
  });

  const run = (argv: string[], extra: Partial<CliIo> = {}) => runCliIn(() => dataDir, argv, extra);

  async function freshTenant(): Promise<string> {
    counter += 1;
    const slug = `bristol-${counter}-${process.hrtime.bigint() % 100000n}`;
    const added = await run(['tenant', 'add', '--slug', slug, '--name', 'Bristol']);
    expect(added.code, added.err).to.equal(0);
    return slug;
  }

  /** Writes rows straight into the CLI's embedded database (closed again before the next command). */
  async function withDb<T>(
    run: (db: ReturnType<typeof openDatabase>['db']) => Promise<T>,
  ): Promise<T> {
    const database = openDatabase(
      { url: undefined, dataDir, poolMax: 1, connectTimeoutMs: 5000 },
      createLogger({ level: 'silent' }),
    );
    try {
      return await run(database.db);
    } finally {
      await database.close();
    }
  }

  it('when a tenant is exported, then its rows are JSON lines in the file, and an existing file is never overwritten', async () => {
    const slug = await freshTenant();
    const file = path.join(dir, `${slug}.jsonl`);
    const exported = await run(['tenant', 'export', '--tenant', slug, '--out', file]);
    expect(exported.code).to.equal(0);
    expect(exported.err).to.match(new RegExp(`Exported \\d+ rows of tenant ${slug}`));
    const first = JSON.parse(readFileSync(file, 'utf8').split('\n')[0] ?? '') as {
      type: string;
      tenant: { slug: string };
    };
    expect(first.type).to.equal('tenant');
    expect(first.tenant.slug).to.equal(slug);
    const again = await run(['tenant', 'export', '--tenant', slug, '--out', file]);
    expect(again.code).to.equal(65);
    expect(again.err).to.contain('already exists');
  });

  it('when a tenant is exported to standard output, then the first line names the format', async () => {
    const slug = await freshTenant();
    const exported = await run(['tenant', 'export', '--tenant', slug]);
    expect(exported.code).to.equal(0);
    expect(exported.out.split('\n')[0]).to.contain('mastery-pathways-tenant-export/2');
  });

  it('when a tenant with no data yet is exported, then every table still has its header line with 0 rows', async () => {
    const slug = await freshTenant();
    const exported = await run(['tenant', 'export', '--tenant', slug]);
    const lines = exported.out
      .split('\n')
      .slice(1)
      .map((line) => JSON.parse(line) as { type: string; table: string; rows: number });
    expect(lines.length).to.be.greaterThan(10);
    expect(lines.every((line) => line.type === 'table' && line.rows === 0)).to.equal(true);
    expect(lines.map((line) => line.table)).to.include.members(['platforms', 'users', 'evidence']);
  });

  it('when delete is not confirmed with the slug, then nothing is deleted and the message says how', async () => {
    const slug = await freshTenant();
    const refused = await run(['tenant', 'delete', '--tenant', slug, '--confirm', 'other']);
    expect(refused.code).to.equal(64);
    expect(refused.err).to.contain(`--confirm ${slug}`);
    expect((await run(['tenant', 'list'])).out).to.contain(slug);
  });

  it('when a person is named wrongly, then the command refuses with what to give', async () => {
    const slug = await freshTenant();
    const neither = await run(['tenant', 'delete-person', '--tenant', slug]);
    expect(neither.code).to.equal(64);
    expect(neither.err).to.contain('--user-id or --sub');
    const unknown = await run(['tenant', 'delete-person', '--tenant', slug, '--sub', 'nobody']);
    expect(unknown.code).to.equal(65);
    expect(unknown.err).to.contain('Nothing was deleted');
    const badId = await run(['tenant', 'delete-person', '--tenant', slug, '--user-id', 'x']);
    expect(badId.code).to.equal(64);
  });

  it('when an unknown tenant is named, then the command fails with 65', async () => {
    const unknown = await run(['tenant', 'export', '--tenant', 'nowhere']);
    expect(unknown.code).to.equal(65);
    expect(unknown.err).to.contain('There is no tenant "nowhere"');
  });

  it('when delete is confirmed, then the tenant is gone', async () => {
    const slug = await freshTenant();
    const deleted = await run(['tenant', 'delete', '--tenant', slug, '--confirm', slug]);
    expect(deleted.code).to.equal(0);
    expect(deleted.out).to.contain(`Deleted tenant ${slug}`);
    expect((await run(['tenant', 'list'])).out).not.to.contain(slug);
  });

  it('when a person is deleted, then a deletion record with only a date is listed, and lifting it by LMS id removes it', async () => {
    const slug = await freshTenant();
    const issuer = `https://lms-${slug}.example.org`;
    await withDb(async (db) => {
      const tenant = await db
        .selectFrom('tenants')
        .select('id')
        .where('slug', '=', slug)
        .executeTakeFirstOrThrow();
      const platform = await db
        .insertInto('platforms')
        .values({
          issuer,
          client_id: 'client',
          name: 'LMS',
          flavour: 'generic',
          auth_login_url: `${issuer}/auth`,
          auth_token_url: `${issuer}/token`,
          jwks_url: `${issuer}/jwks`,
          token_audience: null,
          status: 'active',
          default_tenant_id: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await db
        .insertInto('deployments')
        .values({ platform_id: platform.id, deployment_id: 'd1', tenant_id: tenant.id })
        .execute();
      await db
        .insertInto('users')
        .values({
          tenant_id: tenant.id,
          issuer,
          sub: 'student-7',
          name: 'Ava Reyes',
          created_at: new Date(),
          updated_at: new Date(),
        })
        .execute();
    });
    const deleted = await run(['tenant', 'delete-person', '--tenant', slug, '--sub', 'student-7']);
    expect(deleted.code, deleted.err).to.equal(0);
    const listed = await run(['tenant', 'deletion-records', '--tenant', slug]);
    expect(listed.code).to.equal(0);
    expect(listed.out).to.match(/DELETED ON/);
    expect(listed.out).to.match(/\d{4}-\d{2}-\d{2}/);
    expect(listed.out).not.to.contain('student-7');
    expect(listed.out).not.to.contain('Ava');

    const neither = await run(['tenant', 'lift-deletion', '--tenant', slug]);
    expect(neither.code).to.equal(64);
    expect(neither.err).to.contain('--record or --sub');
    const wrong = await run(['tenant', 'lift-deletion', '--tenant', slug, '--sub', 'student-8']);
    expect(wrong.code).to.equal(65);
    expect(wrong.err).to.contain('no such deletion record');
    // Without --issuer, the issuers of the tenant's registrations are tried.
    const lifted = await run(['tenant', 'lift-deletion', '--tenant', slug, '--sub', 'student-7']);
    expect(lifted.code, lifted.err).to.equal(0);
    expect(lifted.out).to.contain('added again at their next launch or roster sync');
    expect((await run(['tenant', 'deletion-records', '--tenant', slug])).out).to.contain(
      'no deletion records',
    );
  });
  it('when deletion records exist and the secret is rotated, then keys reencrypt keeps them matching: a person deleted under the old secret is still recognised', async () => {
    const slug = await freshTenant();
    const issuer = 'https://lms.example.org';
    await withDb(async (db) => {
      const tenant = await db
        .selectFrom('tenants')
        .select('id')
        .where('slug', '=', slug)
        .executeTakeFirstOrThrow();
      await db
        .insertInto('users')
        .values({
          tenant_id: tenant.id,
          issuer,
          sub: 'student-12',
          name: 'Ines Park',
          created_at: new Date(),
          updated_at: new Date(),
        })
        .execute();
    });
    const deleted = await run([
      'tenant',
      'delete-person',
      '--tenant',
      slug,
      '--sub',
      'student-12',
      '--issuer',
      issuer,
    ]);
    expect(deleted.code, deleted.err).to.equal(0);
    const newSecret = `${CLI_TEST_SECRET}-rotated`;
    const env = {
      NODE_ENV: 'test',
      DATA_DIR: dataDir,
      KEY_ENCRYPTION_SECRET: newSecret,
      OLD_SECRET: CLI_TEST_SECRET,
    };
    const rotated = await run(['keys', 'reencrypt', '--from-secret-env', 'OLD_SECRET'], { env });
    expect(rotated.code, rotated.err).to.equal(0);
    expect(rotated.out).to.contain('Re-encrypted');
    expect(rotated.out).to.contain('Deletion records keep matching');
    // The data folder is the suite's: it goes back to the suite's secret whatever happens here.
    try {
      // Under the new secret the record still names that person: lifting it by LMS id finds it.
      const lifted = await run(
        ['tenant', 'lift-deletion', '--tenant', slug, '--sub', 'student-12', '--issuer', issuer],
        { env },
      );
      expect(lifted.code, lifted.err).to.equal(0);
      expect(lifted.out).to.contain('added again at their next launch or roster sync');
      // The old secret opens nothing any more: rotating from it again is refused, nothing changed.
      const again = await run(['keys', 'reencrypt', '--from-secret-env', 'OLD_SECRET'], { env });
      expect(again.code).to.equal(65);
      expect(again.err).to.contain('Nothing was changed');
    } finally {
      const back = await run(['keys', 'reencrypt', '--from-secret-env', 'NEW_SECRET'], {
        env: {
          NODE_ENV: 'test',
          DATA_DIR: dataDir,
          KEY_ENCRYPTION_SECRET: CLI_TEST_SECRET,
          NEW_SECRET: newSecret,
        },
      });
      expect(back.code, back.err).to.equal(0);
    }
  });
});
