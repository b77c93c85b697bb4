import { expect } from 'chai';
import {
  calculateMastery,
  DEFAULT_PROFICIENCY_SCALE,
  rollUpStandard,
  type MasteryMethod,
  type MasteryResult,
} from '../../../src/mastery/index.ts';
import { policy, series } from './fixtures.ts';

const scale = DEFAULT_PROFICIENCY_SCALE;
const HALF_UP_2 = { rounding: { mode: 'halfUp', decimals: 2 } } as const;

function calculate(method: MasteryMethod, scores: readonly number[]) {
  return calculateMastery(series(scores), policy(method, HALF_UP_2), scale);
}

/** The steps before "Rounded to …": the working, which must not round. */
function workingSteps(steps: readonly string[]): string[] {
  const at = steps.findIndex((step) => step.startsWith('Rounded to'));
  return at < 0 ? [...steps] : steps.slice(0, at);
}

describe('mastery explanations: the value is shown unrounded until the one rounding step', () => {
  it('when 2.5 and 2.85 are averaged, then a step shows 2.675 and the rounding step 2.68', () => {
    const result = calculate({ kind: 'mean' }, [2.5, 2.85]);
    expect(result.value).to.equal(2.68);
    expect(result.explanation.steps).to.include('Mean of (2.5, 2.85) = 5.35 / 2 = 2.675');
    expect(result.explanation.steps).to.include('Rounded to 2 decimals: 2.68');
    for (const step of result.explanation.steps) expect(step).not.to.match(/2\.67(?!5)/);
  });

  it('when any averaging method meets 2.5 and 2.85, then no working step shows 2.67', () => {
    const methods: MasteryMethod[] = [
      { kind: 'mean' },
      { kind: 'median' },
      { kind: 'meanOfMostRecent', n: 2 },
      { kind: 'nTimes', n: 2, threshold: 2 },
    ];
    for (const method of methods) {
      const result = calculate(method, [2.5, 2.85]);
      expect(result.value, method.kind).to.equal(2.68);
      const working = workingSteps(result.explanation.steps).join(' | ');
      expect(working, method.kind).to.include('2.675');
      expect(working, method.kind).not.to.match(/2\.67(?!5)/);
    }
  });

  it('when a running average has more decimals than the policy keeps, then each step shows them all', () => {
    const result = calculate({ kind: 'recursiveDecaying', rate: 0.65 }, [1, 2, 3, 4]);
    expect(result.explanation.steps).to.include('0.35 × 1.65 + 0.65 × 3 = 2.5275');
    expect(result.explanation.steps).to.include('0.35 × 2.5275 + 0.65 × 4 = 3.484625');
    expect(result.explanation.steps).to.include('Rounded to 2 decimals: 3.48');
  });

  it('when a value cannot be written exactly, then its step says "≈" rather than "="', () => {
    const result = calculate({ kind: 'mean' }, [1, 2, 2]);
    expect(result.explanation.steps).to.include('Mean of (1, 2, 2) = 5 / 3 ≈ 1.666667');
    expect(result.explanation.steps).to.include('Rounded to 2 decimals: 1.67');
  });

  it('when a parent rolls up 2.5 and 2.85, then its working shows 2.675 and a rounding step to 2.68', () => {
    const child = (value: number): MasteryResult => ({
      status: 'mastery',
      value,
      level: scale.levels.find((l) => l.id === 'approaching'),
      explanation: calculate({ kind: 'highest' }, [value]).explanation,
    });
    const rolled = rollUpStandard(
      [
        { standardId: 'a', result: child(2.5) },
        { standardId: 'b', result: child(2.85) },
      ],
      { method: 'mean' },
      scale,
      { mode: 'halfUp', decimals: 2 },
    );
    expect(rolled.value).to.equal(2.68);
    expect(rolled.explanation.steps).to.include(
      'Mean of child standards (2.5, 2.85) = 5.35 / 2 = 2.675',
    );
    expect(rolled.explanation.steps).to.include('Rounded to 2 decimals: 2.68');
  });
});

describe('mastery methods: published cases from the vendors', () => {
  // JumpRope, "Power Law" calculation: the same four scores in four orders.
  const jumpRope: readonly [readonly number[], number][] = [
    [[1, 2, 3, 4], 4.0],
    [[1, 3, 2, 4], 3.66],
    [[2, 4, 1, 3], 2.16],
    [[4, 3, 2, 1], 1.28],
  ];
  for (const [scores, expected] of jumpRope) {
    it(`when JumpRope's power law meets ${scores.join(', ')}, then the result is ${expected.toFixed(2)}`, () => {
      expect(calculate({ kind: 'powerLaw' }, scores).value).to.equal(expected);
    });
  }

  it('when PowerSchool’s decaying average at 65 % meets 2, 3, 4, then the result is 3.53', () => {
    // 2 → 0.35 × 2 + 0.65 × 3 = 2.65 → 0.35 × 2.65 + 0.65 × 4 = 3.5275 → 3.53
    const result = calculate({ kind: 'recursiveDecaying', rate: 0.65 }, [2, 3, 4]);
    expect(result.value).to.equal(3.53);
    expect(result.explanation.steps).to.include('0.35 × 2.65 + 0.65 × 4 = 3.5275');
  });

  it('when n-mastery (n = 2, mastery 3) meets 3, 4, 4, 1, then the result is the mean of every qualifying score, 3.67', () => {
    const result = calculate({ kind: 'nTimes', n: 2, threshold: 3 }, [3, 4, 4, 1]);
    // (3 + 4 + 4) / 3 = 3.666…, not the top two (4 + 4) / 2 = 4.
    expect(result.value).to.equal(3.67);
    expect(result.explanation.ignored.map((e) => [e.id, e.reason])).to.deep.equal([
      ['e4', 'belowThreshold'],
    ]);
  });
});
