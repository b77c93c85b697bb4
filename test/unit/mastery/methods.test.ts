import { expect } from 'chai';
import {
  calculateMastery,
  createProficiencyScale,
  DEFAULT_PROFICIENCY_SCALE,
  type MasteryMethod,
} from '../../../src/mastery/index.ts';
import { powerLaw } from '../../../src/mastery/methods.ts';
import { policy, series } from './fixtures.ts';

const scale = DEFAULT_PROFICIENCY_SCALE;

function valueOf(method: MasteryMethod, scores: readonly (number | null)[]): number | undefined {
  return calculateMastery(series(scores), policy(method), scale).value;
}

describe('mastery methods: the published worked example (scores 1, 2, 3, 4 oldest → newest)', () => {
  const scores = [1, 2, 3, 4];

  it('when the method is highest, then the result is 4', () => {
    expect(valueOf({ kind: 'highest' }, scores)).to.equal(4);
  });

  it('when the method is most recent, then the result is 4', () => {
    expect(valueOf({ kind: 'mostRecent' }, scores)).to.equal(4);
  });

  it('when the method is mean, then the result is 2.5', () => {
    expect(valueOf({ kind: 'mean' }, scores)).to.equal(2.5);
  });

  it('when the method is Canvas legacy decaying at 65%, then the result is 3.30 with readable steps', () => {
    const result = calculateMastery(
      series(scores),
      policy(
        { kind: 'canvasLegacyDecaying', weight: 0.65 },
        { rounding: { mode: 'halfUp', decimals: 2 } },
      ),
      scale,
    );
    expect(result.value).to.equal(3.3);
    expect(result.level?.id).to.equal('meets');
    expect(result.explanation.intermediates['earlierMean']).to.equal(2);
    expect(result.explanation.steps).to.include('Mean of earlier scores (1, 2, 3) = 2.00');
    expect(result.explanation.steps).to.include('0.65 × 4 + 0.35 × 2.00 = 3.30');
  });

  it('when the method is recursive decaying at 65%, then the result is 3.484625 and each step is kept', () => {
    const result = calculateMastery(
      series(scores),
      policy({ kind: 'recursiveDecaying', rate: 0.65 }),
      scale,
    );
    expect(result.value).to.be.closeTo(3.484625, 1e-12);
    const running = result.explanation.intermediates['runningAverages'] as readonly number[];
    // r1 = 1; r2 = .35·1 + .65·2 = 1.65; r3 = .35·1.65 + .65·3 = 2.5275; r4 = 3.484625
    expect(running).to.have.length(4);
    [1, 1.65, 2.5275, 3.484625].forEach((expected, k) => {
      expect(running[k]).to.be.closeTo(expected, 1e-12);
    });
    expect(result.explanation.steps).to.include('0.35 × 1.65 + 0.65 × 3 = 2.5275');
  });

  it('when the method is recursive decaying at 75%, then the result is 3.671875', () => {
    expect(valueOf({ kind: 'recursiveDecaying', rate: 0.75 }, scores)).to.be.closeTo(
      3.671875,
      1e-12,
    );
  });

  it('when the method is n times (n = 2, threshold 3), then the result is the mean of 3 and 4 = 3.5', () => {
    const result = calculateMastery(
      series(scores),
      policy({ kind: 'nTimes', n: 2, threshold: 3 }),
      scale,
    );
    expect(result.value).to.equal(3.5);
    expect(result.explanation.used.map((e) => e.id)).to.deep.equal(['e3', 'e4']);
    expect(result.explanation.ignored).to.deep.include({
      id: 'e1',
      score: 1,
      reason: 'belowThreshold',
      label: undefined,
    });
  });

  it('when the method is median, then an even count gives the mean of the middle two (2.5)', () => {
    expect(valueOf({ kind: 'median' }, scores)).to.equal(2.5);
  });

  it('when the method is mean of the 2 most recent, then the result is 3.5 and older scores are outside the window', () => {
    const result = calculateMastery(
      series(scores),
      policy({ kind: 'meanOfMostRecent', n: 2 }),
      scale,
    );
    expect(result.value).to.equal(3.5);
    expect(
      result.explanation.ignored.filter((e) => e.reason === 'outsideWindow').map((e) => e.id),
    ).to.deep.equal(['e1', 'e2']);
  });
});

describe('mastery methods: n times before the n-th success', () => {
  it('when only one score reaches the threshold, then there is no result yet and the student is told how many are needed', () => {
    const result = calculateMastery(
      series([2, 3, 2]),
      policy({ kind: 'nTimes', n: 2, threshold: 3 }),
      scale,
    );
    expect(result.status).to.equal('insufficientEvidence');
    expect(result.value).to.equal(undefined);
    expect(result.level).to.equal(undefined);
    expect(result.explanation.studentSummary).to.contain('3 or higher 1 time');
  });

  it('when a score is exactly at the threshold, then it counts', () => {
    expect(valueOf({ kind: 'nTimes', n: 1, threshold: 3 }, [3])).to.equal(3);
  });
});

describe('mastery methods: median and mode', () => {
  it('when the count is odd, then the median is the middle score whatever the input order', () => {
    expect(valueOf({ kind: 'median' }, [4, 1, 3])).to.equal(3);
  });

  it('when one score is most frequent, then mode picks it regardless of the tie rule', () => {
    for (const tieRule of ['higher', 'lower', 'mostRecent'] as const) {
      expect(valueOf({ kind: 'mode', tieRule }, [2, 2, 4, 3])).to.equal(2);
    }
  });

  it('when two scores tie, then "higher" picks the higher one', () => {
    expect(valueOf({ kind: 'mode', tieRule: 'higher' }, [3, 2, 2, 3])).to.equal(3);
  });

  it('when two scores tie, then "lower" picks the lower one', () => {
    expect(valueOf({ kind: 'mode', tieRule: 'lower' }, [3, 2, 2, 3])).to.equal(2);
  });

  it('when two scores tie, then "mostRecent" picks the one seen last', () => {
    // 3 was last seen at position 2, 2 at position 4.
    expect(valueOf({ kind: 'mode', tieRule: 'mostRecent' }, [3, 3, 2, 2])).to.equal(2);
    expect(valueOf({ kind: 'mode', tieRule: 'mostRecent' }, [2, 2, 3, 3])).to.equal(3);
  });

  it('when there is a tie, then the explanation names the tied scores and the rule', () => {
    const result = calculateMastery(
      series([3, 2, 2, 3]),
      policy({ kind: 'mode', tieRule: 'lower' }),
      scale,
    );
    expect(result.explanation.intermediates['tiedScores']).to.deep.equal([2, 3]);
    expect(result.explanation.steps).to.include('Tie rule "lower" → 2');
  });
});

describe('mastery methods: Canvas legacy decaying and recursive decaying edge cases', () => {
  it('when there is a single score, then legacy decaying returns that score', () => {
    expect(valueOf({ kind: 'canvasLegacyDecaying', weight: 0.65 }, [2])).to.equal(2);
  });

  it('when there is a single score, then recursive decaying returns that score', () => {
    expect(valueOf({ kind: 'recursiveDecaying', rate: 0.65 }, [3])).to.equal(3);
  });

  it('when the rate is 1, then recursive decaying equals the most recent score', () => {
    expect(valueOf({ kind: 'recursiveDecaying', rate: 1 }, [4, 1, 2])).to.equal(2);
  });
});

describe('mastery methods: power law (Marzano)', () => {
  it('when scores are 2, 3, 3, then the fitted curve predicts 3.1904 at position 3', () => {
    // By hand, x = 1, 2, 3 and X = ln x = 0, 0.693147, 1.098612; Y = ln y = 0.693147, 1.098612, 1.098612.
    // ΣX = 1.791759, ΣY = 2.890372, ΣXY = 0.761500 + 1.206949 = 1.968449, ΣX² = 0.480453 + 1.206949 = 1.687402
    // b = (3·1.968449 − 1.791759·2.890372) / (3·1.687402 − 1.791759²)
    //   = (5.905347 − 5.178852) / (5.062206 − 3.210402) = 0.726495 / 1.851804 = 0.392318
    // ln a = (2.890372 − 0.392318·1.791759) / 3 = (2.890372 − 0.702940) / 3 = 0.729144 → a = 2.073305
    // prediction = 2.073305 · 3^0.392318 = 2.073305 · e^0.431003 = 2.073305 · 1.538808 = 3.190410
    const result = calculateMastery(series([2, 3, 3]), policy({ kind: 'powerLaw' }), scale);
    expect(result.value).to.be.closeTo(3.19041, 1e-5);
    expect(result.explanation.intermediates['b']).to.be.closeTo(0.392318, 1e-6);
    expect(result.explanation.intermediates['a']).to.be.closeTo(2.073305, 1e-6);
    expect(result.level?.id).to.equal('meets');
  });

  it('when scores are 1, 2, 3, 4, then the fit is exact (y = x) and predicts 4', () => {
    const result = calculateMastery(series([1, 2, 3, 4]), policy({ kind: 'powerLaw' }), scale);
    expect(result.value).to.be.closeTo(4, 1e-9);
    expect(result.explanation.intermediates['b']).to.be.closeTo(1, 1e-12);
  });

  it('when the trend predicts beyond the best score, then the value is clamped to the scale maximum and the step says so', () => {
    // 1, 3, 4: a = 1.05535, b = 1.29665, prediction 4.3859 > 4.
    const result = calculateMastery(series([1, 3, 4]), policy({ kind: 'powerLaw' }), scale);
    expect(result.explanation.rawValue).to.be.closeTo(4.38588, 1e-5);
    expect(result.value).to.equal(4);
    expect(result.explanation.steps.some((s) => s.includes('outside the scale'))).to.be.true;
  });

  it('when all scores are identical, then b = 0 and the prediction is that score', () => {
    const result = calculateMastery(series([3, 3, 3]), policy({ kind: 'powerLaw' }), scale);
    expect(result.value).to.be.closeTo(3, 1e-12);
    expect(result.explanation.intermediates['b']).to.be.closeTo(0, 1e-12);
  });

  it('when a tiny positive score makes the fit extremely steep, then the prediction is still a number on the scale', () => {
    // Found by the property test: a·n^b was 0 × ∞ = NaN. Fitted through (2, 5e-324) and (3, 1),
    // the curve predicts exactly 1 at position 3.
    const outcome = powerLaw({ scores: [0, 5e-324, 1], weights: [1, 1, 1], decimals: 2 });
    expect(outcome.value).to.be.closeTo(1, 1e-9);
  });

  it('when there is one score, then the result is that score', () => {
    expect(valueOf({ kind: 'powerLaw' }, [2])).to.equal(2);
  });

  it('when a score is zero, then it is left out of the fit but keeps its position', () => {
    const zeroScale = createProficiencyScale({ ...scale, min: 0 });
    const result = calculateMastery(series([0, 2, 3]), policy({ kind: 'powerLaw' }), zeroScale);
    expect(result.explanation.ignored).to.deep.equal([
      { id: 'e1', score: 0, reason: 'nonPositiveScore', label: undefined },
    ]);
    // Fit through (2, 2) and (3, 3) only: b = ln(3/2)/ln(3/2) = 1, a = 1 → prediction at x = 3 is 3.
    expect(result.value).to.be.closeTo(3, 1e-9);
    expect(result.explanation.used.map((e) => e.position)).to.deep.equal([2, 3]);
  });

  it('when fewer than two scores are positive, then the most recent score is used', () => {
    const zeroScale = createProficiencyScale({ ...scale, min: 0 });
    const result = calculateMastery(series([3, 0]), policy({ kind: 'powerLaw' }), zeroScale);
    expect(result.value).to.equal(0);
    expect(result.explanation.steps.some((s) => s.includes('Fewer than two positive'))).to.be.true;
  });
});
