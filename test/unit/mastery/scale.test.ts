import { expect } from 'chai';
import {
  createProficiencyScale,
  DEFAULT_PROFICIENCY_SCALE,
  findLevel,
  levelForValue,
  MasteryError,
} from '../../../src/mastery/index.ts';

const scale = DEFAULT_PROFICIENCY_SCALE;

describe('proficiency scale', () => {
  it('when using the default scale, then it has four levels and only Meets and Exceeds are mastered', () => {
    expect(scale.levels.map((l) => [l.label, l.value, l.mastered])).to.deep.equal([
      ['Exceeds', 4, true],
      ['Meets', 3, true],
      ['Approaching', 2, false],
      ['Beginning', 1, false],
    ]);
    expect([scale.min, scale.max]).to.deep.equal([1, 4]);
  });

  it('when mapping a value, then it gets the highest level whose threshold is <= the value', () => {
    const cases: [number, string][] = [
      [1, 'beginning'],
      [1.99, 'beginning'],
      [2, 'approaching'],
      [2.99, 'approaching'],
      [3, 'meets'],
      [3.5, 'meets'],
      [4, 'exceeds'],
    ];
    for (const [value, id] of cases)
      expect(levelForValue(value, scale).id, String(value)).to.equal(id);
  });

  it('when floating-point noise puts a value a hair under a threshold, then it still reaches that level', () => {
    expect(levelForValue(2.9999999999999996, scale).id).to.equal('meets');
  });

  it('when a value lies below every threshold, then it gets the lowest level', () => {
    const zeroBased = createProficiencyScale({ ...scale, min: 0 });
    expect(levelForValue(0.4, zeroBased).id).to.equal('beginning');
  });

  it('when a scale is created from unsorted levels, then they are sorted highest first', () => {
    const created = createProficiencyScale({ ...scale, levels: [...scale.levels].reverse() });
    expect(created.levels.map((l) => l.value)).to.deep.equal([4, 3, 2, 1]);
  });

  it('when two levels share a value or an id, or a level lies off the scale, then INVALID_SCALE is thrown', () => {
    const [first, second] = scale.levels;
    const broken = [
      { ...scale, levels: [first!, { ...second!, value: first!.value }] },
      { ...scale, levels: [first!, { ...second!, id: first!.id }] },
      { ...scale, levels: [{ ...first!, value: 5 }] },
      { ...scale, levels: [] },
      { ...scale, min: 4, max: 1 },
    ];
    for (const input of broken) {
      expect(() => createProficiencyScale(input))
        .to.throw(MasteryError)
        .with.property('code', 'INVALID_SCALE');
    }
  });

  it('when a level id is unknown, then UNKNOWN_LEVEL is thrown', () => {
    expect(findLevel('meets', scale).value).to.equal(3);
    expect(() => findLevel('proficient', scale))
      .to.throw(MasteryError)
      .with.property('code', 'UNKNOWN_LEVEL');
  });
});
