import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { CliIo } from '../../../src/cli.ts';
import { runCliIn } from '../../support/cli.ts';

describe('command line: a tenant’s data (export, delete, delete one person)', function () {
  this.timeout(120_000);
  let dir: string;
  let dataDir: string;

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mp-cli-tenant-'));
    dataDir = path.join(dir, 'pglite');
  });

  const run = (argv: string[], extra: Partial<CliIo> = {}) => runCliIn(() => dataDir, argv, extra);

  it('when a tenant is exported, then its rows are JSON lines in the file, and an existing file is never overwritten', async () => {
    expect((await run(['tenant', 'add', '--slug', 'bristol', '--name', 'Bristol'])).code).to.equal(
      0,
    );
    const file = path.join(dir, 'bristol.jsonl');
    const exported = await run(['tenant', 'export', '--tenant', 'bristol', '--out', file]);
    expect(exported.code).to.equal(0);
    expect(exported.err).to.match(/Exported \d+ rows of tenant bristol/);
    const first = JSON.parse(readFileSync(file, 'utf8').split('\n')[0] ?? '') as {
      type: string;
      tenant: { slug: string };
    };
    expect(first.type).to.equal('tenant');
    expect(first.tenant.slug).to.equal('bristol');
    const again = await run(['tenant', 'export', '--tenant', 'bristol', '--out', file]);
    expect(again.code).to.equal(65);
    expect(again.err).to.contain('already exists');
  });

  it('when a tenant is exported to standard output, then the first line names the format', async () => {
    const exported = await run(['tenant', 'export', '--tenant', 'bristol']);
    expect(exported.code).to.equal(0);
    expect(exported.out.split('\n')[0]).to.contain('mastery-pathways-tenant-export/1');
  });

  it('when delete is not confirmed with the slug, then nothing is deleted and the message says how', async () => {
    const refused = await run(['tenant', 'delete', '--tenant', 'bristol', '--confirm', 'other']);
    expect(refused.code).to.equal(64);
    expect(refused.err).to.contain('--confirm bristol');
    expect((await run(['tenant', 'list'])).out).to.contain('bristol');
  });

  it('when a person is named wrongly, then the command refuses with what to give', async () => {
    const neither = await run(['tenant', 'delete-person', '--tenant', 'bristol']);
    expect(neither.code).to.equal(64);
    expect(neither.err).to.contain('--user-id or --sub');
    const unknown = await run([
      'tenant',
      'delete-person',
      '--tenant',
      'bristol',
      '--sub',
      'nobody',
    ]);
    expect(unknown.code).to.equal(65);
    expect(unknown.err).to.contain('Nothing was deleted');
    const badId = await run(['tenant', 'delete-person', '--tenant', 'bristol', '--user-id', 'x']);
    expect(badId.code).to.equal(64);
  });

  it('when an unknown tenant is named, then the command fails with 65', async () => {
    const unknown = await run(['tenant', 'export', '--tenant', 'nowhere']);
    expect(unknown.code).to.equal(65);
    expect(unknown.err).to.contain('There is no tenant "nowhere"');
  });

  it('when delete is confirmed, then the tenant is gone', async () => {
    const deleted = await run(['tenant', 'delete', '--tenant', 'bristol', '--confirm', 'bristol']);
    expect(deleted.code).to.equal(0);
    expect(deleted.out).to.contain('Deleted tenant bristol');
    expect((await run(['tenant', 'list'])).out).not.to.contain('bristol');
  });
});
