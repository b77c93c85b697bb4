import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import {
  StandardsAuthoringError,
  addItem,
  archiveItem,
  createFramework,
  editItem,
  listAudit,
  moveItem,
  restoreItem,
  type AuthoringContext,
  type AuthoringErrorCode,
  type ItemEdit,
  type NewItem,
} from '../../../src/standards/authoring.ts';
import { parseCasePackage } from '../../../src/standards/formats/case-import.ts';
import {
  createStandardsSearchCache,
  exportFrameworkAsCase,
  findItemsByIds,
  listFrameworks,
  loadTree,
  searchStandards,
} from '../../../src/standards/queries.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../../support/database.ts';
import { MAX_BYTES, counts, createTenant, frameworkOf, steppingClock } from './helpers.ts';

async function rejection(promise: Promise<unknown>): Promise<AuthoringErrorCode> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StandardsAuthoringError) return error.code;
    throw error;
  }
  throw new Error('expected a StandardsAuthoringError');
}

describe(`standards authoring (${testEngine})`, () => {
  let database: TestDatabase;
  let tenantId: string;
  const deps = { now: steppingClock(), newId: randomUUID };

  before(async () => {
    database = await createTestDatabase();
    tenantId = await createTenant(database.db, 'authoring-district');
  });

  after(async () => {
    await database.close();
  });

  async function newFramework(): Promise<AuthoringContext> {
    const frameworkId = await createFramework(
      database.db,
      { tenantId, actor: 'admin-1', title: 'District Grade 6 Science', creator: 'District' },
      deps,
    );
    return { tenantId, actor: 'admin-1', frameworkId };
  }

  async function tree(context: AuthoringContext) {
    return (await loadTree(database.db, tenantId, context.frameworkId)).map((s) => ({
      code: s.item.code,
      parentId: s.parentId,
      order: s.item.order,
    }));
  }

  // The authoring operations on this file's database and clock, so each test names only the
  // framework it works in and the change it makes.
  const add = (context: AuthoringContext, item: NewItem) =>
    addItem(database.db, context, item, deps);
  const edit = (context: AuthoringContext, id: string, change: ItemEdit) =>
    editItem(database.db, context, id, change, deps);
  const move = (context: AuthoringContext, id: string, target: Parameters<typeof moveItem>[3]) =>
    moveItem(database.db, context, id, target, deps);
  const archive = (context: AuthoringContext, id: string) =>
    archiveItem(database.db, context, id, deps);
  const restore = (context: AuthoringContext, id: string) =>
    restoreItem(database.db, context, id, deps);
  const auditOf = (context: AuthoringContext) =>
    listAudit(database.db, tenantId, context.frameworkId);

  it('when items are added at positions, then the tree orders them and each change is audited with its actor', async () => {
    const context = await newFramework();
    const domain = await add(context, {
      parentId: null,
      code: 'SCI.6',
      fullStatement: 'Earth systems',
      itemType: 'Domain',
    });
    const b = await add(context, {
      parentId: domain,
      code: 'SCI.6.B',
      fullStatement: 'Water cycle',
      educationLevels: ['06'],
    });
    await add(context, {
      parentId: domain,
      position: 1,
      code: 'SCI.6.A',
      fullStatement: 'Rock cycle',
    });
    expect(await tree(context)).to.deep.equal([
      { code: 'SCI.6', parentId: null, order: 1 },
      { code: 'SCI.6.A', parentId: domain, order: 1 },
      { code: 'SCI.6.B', parentId: domain, order: 2 },
    ]);
    const audit = await auditOf(context);
    expect(audit.map((entry) => entry.action)).to.deep.equal([
      'framework_created',
      'item_added',
      'item_added',
      'item_added',
    ]);
    expect(audit.every((entry) => entry.actor === 'admin-1')).to.equal(true);
    expect(audit[2]?.itemId).to.equal(b);
    expect(audit[2]?.after).to.include({ code: 'SCI.6.B', fullStatement: 'Water cycle' });

    // The authored framework exports as a CASE package that reads back with the same tree.
    const exported = await exportFrameworkAsCase(database.db, tenantId, context.frameworkId);
    const parsed = frameworkOf(parseCasePackage(JSON.stringify(exported), { maxBytes: MAX_BYTES }));
    expect(parsed.items.map((item) => [item.code, item.order])).to.deep.equal([
      ['SCI.6', 1],
      ['SCI.6.B', 2],
      ['SCI.6.A', 1],
    ]);
  });

  it('when an item is edited, then the audit keeps before and after', async () => {
    const context = await newFramework();
    const id = await add(context, { parentId: null, code: 'D.1', fullStatement: 'Old statement' });
    await edit(context, id, {
      fullStatement: 'New statement',
      code: 'D.1a',
      educationLevels: ['06', '07'],
    });
    const [stored] = await findItemsByIds(database.db, tenantId, [id]);
    expect(stored?.item).to.include({ code: 'D.1a', fullStatement: 'New statement' });
    expect(stored?.item.educationLevels).to.deep.equal(['06', '07']);
    const last = (await auditOf(context)).at(-1);
    expect(last?.action).to.equal('item_edited');
    expect(last?.before).to.include({ code: 'D.1', fullStatement: 'Old statement' });
    expect(last?.after).to.include({ code: 'D.1a', fullStatement: 'New statement' });
  });

  it('when a change is invalid, then it is refused with a typed error and nothing is written', async () => {
    const context = await newFramework();
    const parent = await add(context, { parentId: null, code: 'X.1', fullStatement: 'Parent' });
    const child = await add(context, { parentId: parent, code: 'X.1.1', fullStatement: 'Child' });
    const before = await counts(database.db);
    expect(
      await rejection(add(context, { parentId: null, code: 'x.1', fullStatement: 'Clash' })),
    ).to.equal('duplicate_code');
    expect(await rejection(add(context, { parentId: null, fullStatement: '  ' }))).to.equal(
      'missing_statement',
    );
    expect(await rejection(edit(context, child, { code: 'X.1' }))).to.equal('duplicate_code');
    expect(await rejection(move(context, parent, { parentId: child }))).to.equal('cycle');
    expect(await rejection(move(context, parent, { parentId: parent }))).to.equal('cycle');
    expect(
      await rejection(add(context, { parentId: randomUUID(), fullStatement: 'Lost' })),
    ).to.equal('unknown_parent');
    expect(await rejection(restore(context, child))).to.equal('not_archived');
    expect(await counts(database.db)).to.deep.equal(before);
  });

  it('when an item moves, then both sibling lists stay in order and the move is audited', async () => {
    const context = await newFramework();
    const a = await add(context, { parentId: null, code: 'A', fullStatement: 'A' });
    const b = await add(context, { parentId: null, code: 'B', fullStatement: 'B' });
    await add(context, { parentId: a, code: 'A.1', fullStatement: 'A1' });
    const a2 = await add(context, { parentId: a, code: 'A.2', fullStatement: 'A2' });
    await add(context, { parentId: a, code: 'A.3', fullStatement: 'A3' });
    await add(context, { parentId: b, code: 'B.1', fullStatement: 'B1' });
    await move(context, a2, { parentId: b, position: 1 });
    expect(await tree(context)).to.deep.equal([
      { code: 'A', parentId: null, order: 1 },
      { code: 'A.1', parentId: a, order: 1 },
      { code: 'A.3', parentId: a, order: 2 },
      { code: 'B', parentId: null, order: 2 },
      { code: 'A.2', parentId: b, order: 1 },
      { code: 'B.1', parentId: b, order: 2 },
    ]);
    const last = (await auditOf(context)).at(-1);
    expect(last?.action).to.equal('item_moved');
    expect(last?.before).to.include({ parentId: a });
    expect(last?.after).to.include({ parentId: b });
  });

  it('when an item is archived, then its branch leaves the tree, and restoring brings the branch back', async () => {
    const context = await newFramework();
    const a = await add(context, { parentId: null, code: 'A', fullStatement: 'A' });
    const a1 = await add(context, { parentId: a, code: 'A.1', fullStatement: 'A1' });
    await add(context, { parentId: null, code: 'B', fullStatement: 'B' });
    await archive(context, a);
    expect((await tree(context)).map((row) => row.code)).to.deep.equal(['B']);
    expect(
      (await loadTree(database.db, tenantId, context.frameworkId, { includeArchived: true }))
        .length,
    ).to.equal(3);
    // An archived code may be reused; restoring then clashes.
    const reuse = await add(context, { parentId: null, code: 'A', fullStatement: 'A again' });
    expect(await rejection(restore(context, a))).to.equal('duplicate_code');
    await archive(context, reuse);
    await restore(context, a);
    expect((await tree(context)).map((row) => row.code)).to.deep.equal(['A', 'A.1', 'B']);
    const [restoredChild] = await findItemsByIds(database.db, tenantId, [a1]);
    expect(restoredChild?.archivedAt).to.equal(null);
    const actions = (await auditOf(context)).map((e) => e.action);
    expect(actions.slice(-4)).to.deep.equal([
      'item_archived',
      'item_added',
      'item_archived',
      'item_restored',
    ]);
  });

  it('when searching, then results come from the current tree and a change is seen on the next search', async () => {
    const context = await newFramework();
    const cache = createStandardsSearchCache();
    const id = await add(context, {
      parentId: null,
      code: 'ES.1',
      fullStatement: 'Model the water cycle',
    });
    const search = (query: string) =>
      searchStandards(database.db, cache, {
        tenantId,
        frameworkId: context.frameworkId,
        query,
        limit: 5,
      });
    expect((await search('water')).map((hit) => hit.stored.id)).to.deep.equal([id]);
    await edit(context, id, { fullStatement: 'Model plate tectonics' });
    expect(await search('water')).to.deep.equal([]);
    expect((await search('tecto')).map((hit) => hit.stored.id)).to.deep.equal([id]);
    expect((await search('ES.1'))[0]?.matchedBy).to.equal('code');
  });

  it('when another tenant lists, searches or edits, then it sees and changes nothing of this tenant', async () => {
    const context = await newFramework();
    const id = await add(context, {
      parentId: null,
      code: 'P.1',
      fullStatement: 'Private standard',
    });
    const other = await createTenant(database.db, 'other-authoring');
    const intruder: AuthoringContext = { ...context, tenantId: other };
    expect(await listFrameworks(database.db, other)).to.deep.equal([]);
    expect(await loadTree(database.db, other, context.frameworkId)).to.deep.equal([]);
    expect(await findItemsByIds(database.db, other, [id])).to.deep.equal([]);
    expect(
      await searchStandards(database.db, createStandardsSearchCache(), {
        tenantId: other,
        frameworkId: context.frameworkId,
        query: 'private',
        limit: 5,
      }),
    ).to.deep.equal([]);
    expect(await rejection(edit(intruder, id, { code: 'Z' }))).to.equal('framework_not_found');
    expect(await listAudit(database.db, other, context.frameworkId)).to.deep.equal([]);
    const mine = await listFrameworks(database.db, tenantId);
    expect(mine.find((f) => f.id === context.frameworkId)?.itemCount).to.equal(1);
  });
});
