import { expect } from 'chai';
import { parseCasePackage } from '../../../src/standards/formats/case-import.ts';
import { generateLargeFramework } from '../../../src/standards/formats/generate.ts';

describe('generateLargeFramework', () => {
  it('when asked for n items, then the package imports with n items in a four-level tree', () => {
    const result = parseCasePackage(generateLargeFramework(500, 1), { maxBytes: 16 * 1024 * 1024 });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const items = result.framework.items;
    expect(items).to.have.length(500);
    const byGuid = new Map(items.map((i) => [i.guid, i]));
    const depth = (guid: string): number => {
      let d = 0;
      for (
        let at = byGuid.get(guid);
        at;
        at = at.parentGuid === null ? undefined : byGuid.get(at.parentGuid)
      )
        d++;
      return d;
    };
    expect(Math.max(...items.map((i) => depth(i.guid)))).to.equal(4);
    expect(new Set(items.map((i) => i.itemType))).to.deep.equal(
      new Set(['Domain', 'Cluster', 'Standard', 'Component']),
    );
    expect(result.framework.associations.some((a) => a.type === 'isRelatedTo')).to.equal(true);
  });

  it('when called twice with one seed, then the output is identical, and another seed differs', () => {
    expect(generateLargeFramework(50, 9)).to.equal(generateLargeFramework(50, 9));
    expect(generateLargeFramework(50, 9)).to.not.equal(generateLargeFramework(50, 10));
  });

  it('when the count cuts a subtree, then every parent still precedes its children', () => {
    const result = parseCasePackage(generateLargeFramework(37, 3), { maxBytes: 1024 * 1024 });
    expect(result.ok).to.equal(true);
    if (result.ok) expect(result.framework.items).to.have.length(37);
  });
});
