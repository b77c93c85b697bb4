import { expect } from 'chai';
import fc from 'fast-check';
import { smallest } from '../../../src/standards/text/search.ts';

describe('standards search: the k best matches without sorting them all', () => {
  it('when k smallest are taken, then they equal the first k of a full stable sort, for any input', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.nat(1000)), { maxLength: 300 }),
        fc.integer({ min: 0, max: 40 }),
        (entries, k) => {
          const compare = (a: [number, number], b: [number, number]) => a[0] - b[0] || a[1] - b[1];
          const expected = [...entries].sort(compare).slice(0, k);
          expect(smallest(entries, k, compare)).to.deep.equal(expected);
        },
      ),
    );
  });
});
