import { expect } from 'chai';
import {
  applyOverride,
  calculateMastery,
  DEFAULT_PROFICIENCY_SCALE,
  MasteryError,
  rollUpStandard,
  type MasteryResult,
} from '../../../src/mastery/index.ts';
import { day, policy, series } from './fixtures.ts';

const scale = DEFAULT_PROFICIENCY_SCALE;

function resultOf(score: number): MasteryResult {
  return calculateMastery(series([score]), policy({ kind: 'mostRecent' }), scale);
}

const children = [
  { standardId: 'RL.1', result: resultOf(4) },
  { standardId: 'RL.2', result: resultOf(2) },
  { standardId: 'RL.3', result: resultOf(3) },
  { standardId: 'RL.4', result: undefined },
  { standardId: 'RL.5', result: calculateMastery([], policy({ kind: 'mean' }), scale) },
];

describe('parent standard roll-up', () => {
  it('when rolling up by mean, then children without a result are left out and listed', () => {
    const rollUp = rollUpStandard(children, { method: 'mean' }, scale);
    expect(rollUp.status).to.equal('mastery');
    expect(rollUp.value).to.equal(3);
    expect(rollUp.level?.id).to.equal('meets');
    expect(rollUp.explanation.used.map((c) => c.standardId)).to.deep.equal([
      'RL.1',
      'RL.2',
      'RL.3',
    ]);
    expect(rollUp.explanation.ignored).to.deep.equal([
      { standardId: 'RL.4', reason: 'noResult' },
      { standardId: 'RL.5', reason: 'noEvidence' },
    ]);
    expect(rollUp.explanation.steps).to.include('Mean of child standards (4, 2, 3) = 9 / 3 = 3.00');
  });

  it('when rolling up by minimum, then the weakest child decides', () => {
    const rollUp = rollUpStandard(children, { method: 'minimum' }, scale);
    expect(rollUp.value).to.equal(2);
    expect(rollUp.level?.mastered).to.be.false;
  });

  it('when rolling up with weights, then each child counts by its weight and unweighted children are listed', () => {
    const rollUp = rollUpStandard(
      children,
      { method: 'weighted', weights: { 'RL.1': 3, 'RL.2': 1 } },
      scale,
    );
    // (4·3 + 2·1) / 4 = 3.5; RL.3 has no weight.
    expect(rollUp.value).to.equal(3.5);
    expect(rollUp.explanation.ignored).to.deep.include({ standardId: 'RL.3', reason: 'noWeight' });
  });

  it('when a child was overridden, then the override value is rolled up and flagged', () => {
    const overridden = applyOverride(
      resultOf(2),
      { levelId: 'exceeds', reason: 'r', by: 't', at: day(1) },
      scale,
    );
    const rollUp = rollUpStandard(
      [
        { standardId: 'A', result: overridden },
        { standardId: 'B', result: resultOf(2) },
      ],
      { method: 'mean' },
      scale,
    );
    expect(rollUp.value).to.equal(3);
    expect(rollUp.explanation.used[0]?.overridden).to.be.true;
  });

  it('when no child has a result, then the status is noEvidence', () => {
    const rollUp = rollUpStandard(
      [{ standardId: 'A', result: undefined }],
      { method: 'mean' },
      scale,
    );
    expect(rollUp.status).to.equal('noEvidence');
    expect(rollUp.value).to.equal(undefined);
  });

  it('when a weight is negative, then INVALID_ROLLUP is thrown', () => {
    expect(() => rollUpStandard(children, { method: 'weighted', weights: { 'RL.1': -1 } }, scale))
      .to.throw(MasteryError)
      .with.property('code', 'INVALID_ROLLUP');
  });
});
