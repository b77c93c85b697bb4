import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { parseCasePackage } from '../../../src/standards/formats/case-import.ts';
import { generateLargeFramework } from '../../../src/standards/formats/generate.ts';
import type { Framework, Item } from '../../../src/domain/standards-model.ts';
import { importFramework, type ImportProgress } from '../../../src/standards/import.ts';
import { findImportRecord } from '../../../src/storage/standards/standards.repository.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../../support/database.ts';
import {
  MAX_BYTES,
  counts,
  createTenant,
  deps,
  frameworkOf,
  parseFixture,
  snapshot,
} from './helpers.ts';

function withItems(framework: Framework, items: readonly Item[]): Framework {
  const guids = new Set(items.map((item) => item.guid));
  return {
    ...framework,
    items,
    associations: framework.associations.filter(
      (a) => guids.has(a.origin.identifier) || a.origin.identifier === framework.caseGuid,
    ),
  };
}

describe(`standards import (${testEngine})`, () => {
  let database: TestDatabase;
  let tenantId: string;

  before(async () => {
    database = await createTestDatabase();
    tenantId = await createTenant(database.db, 'import-district');
  });

  after(async () => {
    await database.close();
  });

  it('when a CASE package is imported, then every item is created with its tree and the import is logged', async () => {
    const framework = parseFixture('test/fixtures/case/sbac/sbac-math-g3-claim1-target-h.json');
    const seen: ImportProgress[] = [];
    const report = await importFramework(
      database.db,
      {
        tenantId,
        actor: 'user-1',
        framework,
        source: 'case_file',
        onProgress: (p) => seen.push(p),
      },
      deps(),
    );
    if (!report.ok) throw new Error(JSON.stringify(report.errors));
    expect(report.counts).to.deep.equal({
      created: framework.items.length,
      updated: 0,
      archived: 0,
      unchanged: 0,
    });
    const items = await database.db
      .selectFrom('standard_items')
      .selectAll()
      .where('framework_id', '=', report.frameworkId)
      .execute();
    expect(items).to.have.length(framework.items.length);
    const byGuid = new Map(items.map((row) => [row.guid, row]));
    for (const item of framework.items) {
      const row = byGuid.get(item.guid);
      const parent = item.parentGuid === null ? null : byGuid.get(item.parentGuid)?.id;
      expect(row?.parent_item_id, item.guid).to.equal(parent);
      expect(row?.position).to.equal(item.order);
    }
    expect(seen.at(-1)).to.deep.equal({
      phase: 'done',
      done: framework.items.length,
      total: framework.items.length,
    });
    const record = await findImportRecord(database.db, tenantId, report.importId);
    expect(record?.status).to.equal('succeeded');
    expect(record?.created_count).to.equal(framework.items.length);
    expect(record?.progress_done).to.equal(framework.items.length);
    expect(record?.finished_at).to.be.instanceOf(Date);
  });

  it('when a framework is re-imported without some items, then kept items keep their ids and missing ones are archived, not deleted', async () => {
    const framework = parseFixture('test/fixtures/case/sbac/sbac-ela-g3-claim1-target1.json');
    const first = await importFramework(
      database.db,
      { tenantId, actor: 'user-1', framework, source: 'case_file' },
      deps(),
    );
    if (!first.ok) throw new Error(JSON.stringify(first.errors));
    const idsBefore = new Map(
      (
        await database.db
          .selectFrom('standard_items')
          .select(['id', 'guid'])
          .where('framework_id', '=', first.frameworkId)
          .execute()
      ).map((row) => [row.guid, row.id]),
    );
    const leaves = framework.items.filter(
      (item) => !framework.items.some((other) => other.parentGuid === item.guid),
    );
    const dropped = leaves.slice(0, 2).map((item) => item.guid);
    const edited = framework.items.find((item) => !dropped.includes(item.guid));
    if (!edited) throw new Error('fixture too small');
    const smaller = withItems(
      framework,
      framework.items
        .filter((item) => !dropped.includes(item.guid))
        .map((item) =>
          item.guid === edited.guid
            ? { ...item, fullStatement: `${item.fullStatement} (revised)` }
            : item,
        ),
    );

    const second = await importFramework(
      database.db,
      { tenantId, actor: 'user-2', framework: smaller, source: 'case_file' },
      deps(),
    );
    if (!second.ok) throw new Error(JSON.stringify(second.errors));
    expect(second.frameworkId).to.equal(first.frameworkId);
    expect(second.counts.archived).to.equal(2);
    expect(second.counts.created).to.equal(0);
    expect(second.counts.updated).to.be.at.least(1);
    const rows = await database.db
      .selectFrom('standard_items')
      .select(['id', 'guid', 'archived_at', 'full_statement'])
      .where('framework_id', '=', first.frameworkId)
      .execute();
    expect(rows).to.have.length(framework.items.length);
    for (const row of rows) {
      expect(row.id).to.equal(idsBefore.get(row.guid));
      expect(row.archived_at !== null, row.guid).to.equal(dropped.includes(row.guid));
    }
    expect(rows.find((row) => row.guid === edited.guid)?.full_statement).to.match(/\(revised\)$/);

    // The items come back: they are un-archived under the same ids.
    const third = await importFramework(
      database.db,
      { tenantId, actor: 'user-2', framework, source: 'case_file' },
      deps(),
    );
    if (!third.ok) throw new Error(JSON.stringify(third.errors));
    expect(third.counts.archived).to.equal(0);
    expect(third.counts.created).to.equal(0);
    const after = await database.db
      .selectFrom('standard_items')
      .select(['id', 'guid', 'archived_at'])
      .where('framework_id', '=', first.frameworkId)
      .execute();
    for (const row of after) {
      expect(row.id).to.equal(idsBefore.get(row.guid));
      expect(row.archived_at).to.equal(null);
    }
  });

  it('when the same framework is imported again, then nothing changes and every item counts as unchanged', async () => {
    const framework = parseFixture('test/fixtures/case/every-field.case.json');
    const first = await importFramework(
      database.db,
      { tenantId, actor: 'user-1', framework, source: 'case_file' },
      deps(),
    );
    if (!first.ok) throw new Error(JSON.stringify(first.errors));
    const before = await snapshot(database.db);
    const again = await importFramework(
      database.db,
      { tenantId, actor: 'user-1', framework, source: 'case_file' },
      deps(),
    );
    if (!again.ok) throw new Error(JSON.stringify(again.errors));
    expect(again.counts).to.deep.equal({
      created: 0,
      updated: 0,
      archived: 0,
      unchanged: framework.items.length,
    });
    expect(await snapshot(database.db)).to.deep.equal(before);
  });

  it('when the parse failed, then nothing is stored and the report carries the parse errors', async () => {
    const parsed = parseCasePackage('{"CFDocument": ', { maxBytes: MAX_BYTES });
    const before = await snapshot(database.db);
    const report = await importFramework(
      database.db,
      { tenantId, actor: 'user-1', framework: parsed, source: 'case_file' },
      deps(),
    );
    expect(report.ok).to.equal(false);
    if (report.ok) return;
    expect(report.errors[0]?.code).to.equal('invalid_json');
    expect(await snapshot(database.db)).to.deep.equal(before);
    const record = await findImportRecord(database.db, tenantId, report.importId);
    expect(record?.status).to.equal('failed');
    expect(record?.errors).to.deep.equal(report.errors);
  });

  it('when the database refuses a value after earlier chunks were written, then the whole import is rolled back', async () => {
    const framework = frameworkOf(
      parseCasePackage(generateLargeFramework(2500, 7), { maxBytes: MAX_BYTES }),
    );
    const last = framework.items.at(-1);
    if (!last) throw new Error('empty framework');
    // PostgreSQL text cannot hold NUL; JSON can, so a real package can carry one.
    const broken = {
      ...framework,
      items: [...framework.items.slice(0, -1), { ...last, fullStatement: 'bad \u0000 statement' }],
    };
    const before = await counts(database.db);
    const report = await importFramework(
      database.db,
      { tenantId, actor: 'user-1', framework: broken, source: 'case_file' },
      { ...deps(), chunkSize: 500 },
    );
    expect(report.ok).to.equal(false);
    if (report.ok) return;
    expect(report.errors.map((e) => e.code)).to.deep.equal(['invalid_value']);
    expect(await counts(database.db)).to.deep.equal(before);
  });

  it('when a re-import fails, then the earlier version of the framework is left exactly as it was', async () => {
    const framework = parseFixture('test/fixtures/case/sbac/sbac-math-g3-5-claim2.json');
    const first = await importFramework(
      database.db,
      { tenantId, actor: 'user-1', framework, source: 'case_file' },
      deps(),
    );
    expect(first.ok).to.equal(true);
    const before = await snapshot(database.db);
    const [head, ...rest] = framework.items;
    if (!head) throw new Error('empty');
    const broken = { ...framework, items: [...rest, { ...head, guid: 'x'.repeat(300) }] };
    const report = await importFramework(
      database.db,
      { tenantId, actor: 'user-1', framework: broken, source: 'case_file' },
      deps(),
    );
    expect(report.ok).to.equal(false);
    expect(await snapshot(database.db)).to.deep.equal(before);
  });

  it('when another tenant imports the same framework, then each tenant sees only its own rows', async () => {
    const otherTenant = await createTenant(database.db, 'other-district');
    const framework = parseFixture('test/fixtures/case/sbac/sbac-ela-g3-claim2-targets-1a-1b.json');
    const mine = await importFramework(
      database.db,
      { tenantId, actor: 'user-1', framework, source: 'case_file' },
      deps(),
    );
    const theirs = await importFramework(
      database.db,
      { tenantId: otherTenant, actor: 'user-9', framework, source: 'case_file' },
      { now: deps().now, newId: randomUUID },
    );
    if (!mine.ok || !theirs.ok) throw new Error('import failed');
    expect(theirs.frameworkId).to.not.equal(mine.frameworkId);
    expect(theirs.counts.created).to.equal(framework.items.length);
  });
});
