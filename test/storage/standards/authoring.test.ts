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

  it('when items are added at positions, then the tree orders them and each change is audited with its actor', async () => {
    const context = await newFramework();
    const domain = await addItem(
      database.db,
      context,
      { parentId: null, code: 'SCI.6', fullStatement: 'Earth systems', itemType: 'Domain' },
      deps,
    );
    const b = await addItem(
      database.db,
      context,
      { parentId: domain, code: 'SCI.6.B', fullStatement: 'Water cycle', educationLevels: ['06'] },
      deps,
    );
    await addItem(
      database.db,
      context,
      { parentId: domain, position: 1, code: 'SCI.6.A', fullStatement: 'Rock cycle' },
      deps,
    );
    expect(await tree(context)).to.deep.equal([
      { code: 'SCI.6', parentId: null, order: 1 },
      { code: 'SCI.6.A', parentId: domain, order: 1 },
      { code: 'SCI.6.B', parentId: domain, order: 2 },
    ]);
    const audit = await listAudit(database.db, tenantId, context.frameworkId);
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
    const id = await addItem(
      database.db,
      context,
      { parentId: null, code: 'D.1', fullStatement: 'Old statement' },
      deps,
    );
    await editItem(
      database.db,
      context,
      id,
      { fullStatement: 'New statement', code: 'D.1a', educationLevels: ['06', '07'] },
      deps,
    );
    const [stored] = await findItemsByIds(database.db, tenantId, [id]);
    expect(stored?.item).to.include({ code: 'D.1a', fullStatement: 'New statement' });
    expect(stored?.item.educationLevels).to.deep.equal(['06', '07']);
    const last = (await listAudit(database.db, tenantId, context.frameworkId)).at(-1);
    expect(last?.action).to.equal('item_edited');
    expect(last?.before).to.include({ code: 'D.1', fullStatement: 'Old statement' });
    expect(last?.after).to.include({ code: 'D.1a', fullStatement: 'New statement' });
  });

  it('when a change is invalid, then it is refused with a typed error and nothing is written', async () => {
    const context = await newFramework();
    const parent = await addItem(
      database.db,
      context,
      { parentId: null, code: 'X.1', fullStatement: 'Parent' },
      deps,
    );
    const child = await addItem(
      database.db,
      context,
      { parentId: parent, code: 'X.1.1', fullStatement: 'Child' },
      deps,
    );
    const before = await counts(database.db);
    expect(
      await rejection(
        addItem(
          database.db,
          context,
          { parentId: null, code: 'x.1', fullStatement: 'Clash' },
          deps,
        ),
      ),
    ).to.equal('duplicate_code');
    expect(
      await rejection(addItem(database.db, context, { parentId: null, fullStatement: '  ' }, deps)),
    ).to.equal('missing_statement');
    expect(await rejection(editItem(database.db, context, child, { code: 'X.1' }, deps))).to.equal(
      'duplicate_code',
    );
    expect(
      await rejection(moveItem(database.db, context, parent, { parentId: child }, deps)),
    ).to.equal('cycle');
    expect(
      await rejection(moveItem(database.db, context, parent, { parentId: parent }, deps)),
    ).to.equal('cycle');
    expect(
      await rejection(
        addItem(database.db, context, { parentId: randomUUID(), fullStatement: 'Lost' }, deps),
      ),
    ).to.equal('unknown_parent');
    expect(await rejection(restoreItem(database.db, context, child, deps))).to.equal(
      'not_archived',
    );
    expect(await counts(database.db)).to.deep.equal(before);
  });

  it('when an item moves, then both sibling lists stay in order and the move is audited', async () => {
    const context = await newFramework();
    const a = await addItem(
      database.db,
      context,
      { parentId: null, code: 'A', fullStatement: 'A' },
      deps,
    );
    const b = await addItem(
      database.db,
      context,
      { parentId: null, code: 'B', fullStatement: 'B' },
      deps,
    );
    await addItem(database.db, context, { parentId: a, code: 'A.1', fullStatement: 'A1' }, deps);
    const a2 = await addItem(
      database.db,
      context,
      { parentId: a, code: 'A.2', fullStatement: 'A2' },
      deps,
    );
    await addItem(database.db, context, { parentId: a, code: 'A.3', fullStatement: 'A3' }, deps);
    await addItem(database.db, context, { parentId: b, code: 'B.1', fullStatement: 'B1' }, deps);
    await moveItem(database.db, context, a2, { parentId: b, position: 1 }, deps);
    expect(await tree(context)).to.deep.equal([
      { code: 'A', parentId: null, order: 1 },
      { code: 'A.1', parentId: a, order: 1 },
      { code: 'A.3', parentId: a, order: 2 },
      { code: 'B', parentId: null, order: 2 },
      { code: 'A.2', parentId: b, order: 1 },
      { code: 'B.1', parentId: b, order: 2 },
    ]);
    const last = (await listAudit(database.db, tenantId, context.frameworkId)).at(-1);
    expect(last?.action).to.equal('item_moved');
    expect(last?.before).to.include({ parentId: a });
    expect(last?.after).to.include({ parentId: b });
  });

  it('when an item is archived, then its branch leaves the tree, and restoring brings the branch back', async () => {
    const context = await newFramework();
    const a = await addItem(
      database.db,
      context,
      { parentId: null, code: 'A', fullStatement: 'A' },
      deps,
    );
    const a1 = await addItem(
      database.db,
      context,
      { parentId: a, code: 'A.1', fullStatement: 'A1' },
      deps,
    );
    await addItem(database.db, context, { parentId: null, code: 'B', fullStatement: 'B' }, deps);
    await archiveItem(database.db, context, a, deps);
    expect((await tree(context)).map((row) => row.code)).to.deep.equal(['B']);
    expect(
      (await loadTree(database.db, tenantId, context.frameworkId, { includeArchived: true }))
        .length,
    ).to.equal(3);
    // An archived code may be reused; restoring then clashes.
    const reuse = await addItem(
      database.db,
      context,
      { parentId: null, code: 'A', fullStatement: 'A again' },
      deps,
    );
    expect(await rejection(restoreItem(database.db, context, a, deps))).to.equal('duplicate_code');
    await archiveItem(database.db, context, reuse, deps);
    await restoreItem(database.db, context, a, deps);
    expect((await tree(context)).map((row) => row.code)).to.deep.equal(['A', 'A.1', 'B']);
    const [restoredChild] = await findItemsByIds(database.db, tenantId, [a1]);
    expect(restoredChild?.archivedAt).to.equal(null);
    const actions = (await listAudit(database.db, tenantId, context.frameworkId)).map(
      (e) => e.action,
    );
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
    const id = await addItem(
      database.db,
      context,
      { parentId: null, code: 'ES.1', fullStatement: 'Model the water cycle' },
      deps,
    );
    const search = (query: string) =>
      searchStandards(database.db, cache, {
        tenantId,
        frameworkId: context.frameworkId,
        query,
        limit: 5,
      });
    expect((await search('water')).map((hit) => hit.stored.id)).to.deep.equal([id]);
    await editItem(database.db, context, id, { fullStatement: 'Model plate tectonics' }, deps);
    expect(await search('water')).to.deep.equal([]);
    expect((await search('tecto')).map((hit) => hit.stored.id)).to.deep.equal([id]);
    expect((await search('ES.1'))[0]?.matchedBy).to.equal('code');
  });

  it('when another tenant lists, searches or edits, then it sees and changes nothing of this tenant', async () => {
    const context = await newFramework();
    const id = await addItem(
      database.db,
      context,
      { parentId: null, code: 'P.1', fullStatement: 'Private standard' },
      deps,
    );
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
    expect(await rejection(editItem(database.db, intruder, id, { code: 'Z' }, deps))).to.equal(
      'framework_not_found',
    );
    expect(await listAudit(database.db, other, context.frameworkId)).to.deep.equal([]);
    const mine = await listFrameworks(database.db, tenantId);
    expect(mine.find((f) => f.id === context.frameworkId)?.itemCount).to.equal(1);
  });
});
