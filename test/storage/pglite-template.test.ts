import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { expect } from 'chai';
import { fromPGlite, migrationStatus } from '../../src/storage/database.ts';
import { migrations } from '../../src/storage/migrations/index.ts';
import { templateFor, writePGliteTemplate } from '../../src/storage/pglite-template.ts';

describe('embedded database template', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'mp-template-'));
  const file = path.join(dir, 'template.tar.gz');

  before(async () => {
    await writePGliteTemplate(file);
  });

  it('when a fresh data folder starts from the template, then every migration is already applied', async () => {
    const dataDir = path.join(dir, 'fresh');
    mkdirSync(dataDir);
    const template = templateFor(dataDir, file);
    expect(template).to.be.instanceOf(Blob);
    const handle = fromPGlite(new PGlite(dataDir, { loadDataDir: template }), dataDir);
    try {
      const status = await migrationStatus(handle.db);
      expect(status.pending).to.deep.equal([]);
      expect(status.applied).to.deep.equal(Object.keys(migrations));
    } finally {
      await handle.close();
    }
  });

  it('when the data folder already holds a database, then the template is never used', () => {
    const dataDir = path.join(dir, 'existing');
    mkdirSync(dataDir);
    writeFileSync(path.join(dataDir, 'PG_VERSION'), '17\n');
    expect(templateFor(dataDir, file)).to.equal(undefined);
  });

  it('when no build made a template, then a fresh folder is initialised as usual', () => {
    const dataDir = path.join(dir, 'no-template');
    mkdirSync(dataDir);
    expect(templateFor(dataDir, path.join(dir, 'missing.tar.gz'))).to.equal(undefined);
  });
});
