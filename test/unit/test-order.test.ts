import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import Mocha from 'mocha';
import { paths } from '../../src/paths.ts';
import { shuffleSeed, shuffleSuite } from '../../test/support/shuffle.ts';

/** The suite's tests run in a shuffled order (test/support/shuffle.ts), so none needs another's data. */
describe('test order', () => {
  const suiteOf = (titles: string[]) => {
    const root = new Mocha.Suite('root');
    const file = Mocha.Suite.create(root, 'file');
    for (const title of titles) file.addTest(new Mocha.Test(title, () => undefined));
    return { root, file };
  };
  const seeded = (seed: number) => {
    let state = seed;
    return () => {
      state = (state * 16807) % 2147483647;
      return state / 2147483647;
    };
  };

  it('when npm test runs, then the shuffling plugin is loaded', () => {
    const config = JSON.parse(readFileSync(path.join(paths.root, '.mocharc.json'), 'utf8')) as {
      require?: string[];
    };
    expect(config.require).to.include('test/support/shuffle.ts');
  });

  it('when a suite is shuffled with a seed, then the order changes and the same seed gives the same order', () => {
    const titles = Array.from({ length: 12 }, (_, i) => `test ${i}`);
    const first = suiteOf(titles);
    shuffleSuite(first.root, seeded(42));
    const second = suiteOf(titles);
    shuffleSuite(second.root, seeded(42));
    const order = first.file.tests.map((t) => t.title);
    expect(order).not.to.deep.equal(titles);
    expect([...order].sort()).to.deep.equal([...titles].sort());
    expect(second.file.tests.map((t) => t.title)).to.deep.equal(order);
  });

  it('when MOCHA_SHUFFLE_SEED is set, then that seed is replayed; MOCHA_SHUFFLE=0 turns shuffling off; a bad seed is refused', () => {
    expect(shuffleSeed({ MOCHA_SHUFFLE_SEED: '1234' })).to.equal(1234);
    expect(shuffleSeed({ MOCHA_SHUFFLE: '0' })).to.equal(undefined);
    expect(shuffleSeed({})).to.be.a('number');
    expect(() => shuffleSeed({ MOCHA_SHUFFLE_SEED: 'abc' })).to.throw('MOCHA_SHUFFLE_SEED');
  });
});
