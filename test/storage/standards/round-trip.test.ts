import { expect } from 'chai';
import { parseCasePackage } from '../../../src/standards/formats/case-import.ts';
import { parseStandardsCsv } from '../../../src/standards/formats/csv-import.ts';
import { importFramework } from '../../../src/standards/import.ts';
import {
  exportFrameworkAsCase,
  exportFrameworkAsCsv,
  loadFramework,
} from '../../../src/standards/queries.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../../support/database.ts';
import { MAX_BYTES, createTenant, deps, fixtureText, frameworkOf, snapshot } from './helpers.ts';

const PACKAGES = [
  'test/fixtures/case/sbac/sbac-ela-g3-claim1-target1.json',
  'test/fixtures/case/sbac/sbac-ela-g3-claim2-targets-1a-1b.json',
  'test/fixtures/case/sbac/sbac-math-g3-5-claim2.json',
  'test/fixtures/case/sbac/sbac-math-g3-claim1-target-h.json',
  'test/fixtures/case/every-field.case.json',
  'src/standards/samples/district-grade6.case.json',
];

describe(`standards export round trip (${testEngine})`, () => {
  let database: TestDatabase;
  let tenantId: string;

  before(async () => {
    database = await createTestDatabase();
    tenantId = await createTenant(database.db, 'round-trip-district');
  });

  after(async () => {
    await database.close();
  });

  for (const path of PACKAGES) {
    it(`when ${path.split('/').at(-1)} is imported and exported, then parsing the export gives the original framework and re-importing it changes nothing`, async () => {
      const original = frameworkOf(parseCasePackage(fixtureText(path), { maxBytes: MAX_BYTES }));
      const report = await importFramework(
        database.db,
        { tenantId, actor: 'user-1', framework: original, source: 'case_file' },
        deps(),
      );
      if (!report.ok) throw new Error(JSON.stringify(report.errors));

      expect(await loadFramework(database.db, tenantId, report.frameworkId)).to.deep.equal(
        original,
      );
      const exported = await exportFrameworkAsCase(database.db, tenantId, report.frameworkId);
      const reparsed = frameworkOf(
        parseCasePackage(JSON.stringify(exported), { maxBytes: MAX_BYTES }),
      );
      expect(reparsed).to.deep.equal(original);

      const before = await snapshot(database.db);
      const again = await importFramework(
        database.db,
        { tenantId, actor: 'user-1', framework: reparsed, source: 'case_file' },
        deps(),
      );
      if (!again.ok) throw new Error(JSON.stringify(again.errors));
      expect(again.counts).to.deep.equal({
        created: 0,
        updated: 0,
        archived: 0,
        unchanged: original.items.length,
      });
      expect(await snapshot(database.db)).to.deep.equal(before);
    });
  }

  it('when a framework is exported as Canvas CSV, then the CSV read back gives the same items and tree', async () => {
    const original = frameworkOf(
      parseCasePackage(fixtureText('src/standards/samples/district-grade6.case.json'), {
        maxBytes: MAX_BYTES,
      }),
    );
    const report = await importFramework(
      database.db,
      { tenantId, actor: 'user-1', framework: original, source: 'case_file' },
      deps(),
    );
    if (!report.ok) throw new Error(JSON.stringify(report.errors));
    const csv = await exportFrameworkAsCsv(database.db, tenantId, report.frameworkId, 'canvas');
    const parsed = parseStandardsCsv(csv ?? '', {
      maxBytes: MAX_BYTES,
      caseGuid: original.caseGuid,
    });
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    // A Canvas CSV carries GUIDs, codes, statements and the tree, not the CASE-only fields.
    const shape = (items: typeof original.items) =>
      items
        .map((item) => ({
          guid: item.guid,
          code: item.code,
          statement: item.fullStatement,
          parent: item.parentGuid,
          order: item.order,
        }))
        .sort((a, b) => (a.guid < b.guid ? -1 : 1));
    expect(shape(parsed.framework.items)).to.deep.equal(shape(original.items));
  });

  it('when another tenant asks for the framework, then it is not found', async () => {
    const other = await createTenant(database.db, 'nosy-district');
    const original = frameworkOf(
      parseCasePackage(fixtureText('test/fixtures/case/every-field.case.json'), {
        maxBytes: MAX_BYTES,
      }),
    );
    const report = await importFramework(
      database.db,
      { tenantId, actor: 'user-1', framework: original, source: 'case_file' },
      deps(),
    );
    if (!report.ok) throw new Error(JSON.stringify(report.errors));
    expect(await loadFramework(database.db, other, report.frameworkId)).to.equal(undefined);
    expect(await exportFrameworkAsCase(database.db, other, report.frameworkId)).to.equal(undefined);
  });
});
