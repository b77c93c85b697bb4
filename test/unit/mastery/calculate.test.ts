import { expect } from 'chai';
import {
  calculateMastery,
  DEFAULT_PROFICIENCY_SCALE,
  MasteryError,
  parseMasteryPolicy,
  type Evidence,
  type OrderBy,
} from '../../../src/mastery/index.ts';
import { day, policy, series } from './fixtures.ts';

const scale = DEFAULT_PROFICIENCY_SCALE;

describe('calculateMastery: missing and unusable evidence', () => {
  it('when there is no evidence, then the status is noEvidence with no value or level', () => {
    const result = calculateMastery([], policy({ kind: 'mean' }), scale);
    expect(result.status).to.equal('noEvidence');
    expect(result.value).to.equal(undefined);
    expect(result.level).to.equal(undefined);
    expect(result.explanation.used).to.deep.equal([]);
    expect(result.explanation.studentSummary).to.contain('no scored work');
  });

  it('when all evidence is excused, then the status is noEvidence and every item is listed as excused', () => {
    const evidence = series([3, 4]).map((e) => ({ ...e, excused: true }));
    const result = calculateMastery(evidence, policy({ kind: 'highest' }), scale);
    expect(result.status).to.equal('noEvidence');
    expect(result.explanation.ignored.map((e) => [e.id, e.reason])).to.deep.equal([
      ['e1', 'excused'],
      ['e2', 'excused'],
    ]);
    expect(result.explanation.studentSummary).to.contain('2 excused pieces of work did not count');
  });

  it('when evidence is unscored, off the scale or weighted zero, then it is ignored with that reason', () => {
    const evidence: Evidence[] = [
      ...series([2, null, 7]),
      { id: 'w0', score: 4, recordedAt: day(9), excused: false, weight: 0 },
    ];
    const result = calculateMastery(evidence, policy({ kind: 'highest' }), scale);
    expect(result.value).to.equal(2);
    expect(result.explanation.ignored.map((e) => [e.id, e.reason])).to.deep.equal([
      ['e2', 'noScore'],
      ['e3', 'outOfScale'],
      ['w0', 'zeroWeight'],
    ]);
    expect(result.explanation.steps).to.include(
      'Not counted: 1 noScore, 1 outOfScale, 1 zeroWeight',
    );
  });

  it('when fewer eligible scores exist than minEvidence, then the status is insufficientEvidence', () => {
    const result = calculateMastery(
      series([4, 4]),
      policy({ kind: 'mean' }, { minEvidence: 3 }),
      scale,
    );
    expect(result.status).to.equal('insufficientEvidence');
    expect(result.value).to.equal(undefined);
    expect(result.explanation.used.map((e) => e.id)).to.deep.equal(['e1', 'e2']);
    expect(result.explanation.studentSummary).to.contain(
      '3 scored pieces of work needed, 2 so far',
    );
  });

  it('when minEvidence is exactly met, then there is a result', () => {
    const result = calculateMastery(
      series([4, 2, 3]),
      policy({ kind: 'mean' }, { minEvidence: 3 }),
      scale,
    );
    expect(result.status).to.equal('mastery');
    expect(result.value).to.equal(3);
  });

  it('when excused evidence would have been the latest, then most recent uses the latest non-excused score', () => {
    const evidence = series([2, 3, 4]);
    const excused = evidence.map((e) => (e.id === 'e3' ? { ...e, excused: true } : e));
    expect(calculateMastery(excused, policy({ kind: 'mostRecent' }), scale).value).to.equal(3);
  });

  it('when asOf is given, then evidence recorded after it is ignored as afterAsOf', () => {
    const result = calculateMastery(series([1, 2, 4]), policy({ kind: 'mostRecent' }), scale, {
      asOf: day(1),
    });
    expect(result.value).to.equal(2);
    expect(result.explanation.ignored).to.deep.equal([
      { id: 'e3', score: 4, reason: 'afterAsOf', label: undefined },
    ]);
  });
});

describe('calculateMastery: ordering', () => {
  it('when input is unsorted, then evidence is ordered oldest → newest by the ordering date', () => {
    const evidence = series([1, 2, 3, 4]).reverse();
    const result = calculateMastery(
      evidence,
      policy({ kind: 'canvasLegacyDecaying', weight: 0.65 }),
      scale,
    );
    expect(result.explanation.used.map((e) => e.id)).to.deep.equal(['e1', 'e2', 'e3', 'e4']);
    expect(result.explanation.used.map((e) => e.position)).to.deep.equal([1, 2, 3, 4]);
    expect(result.value).to.be.closeTo(3.3, 1e-12);
  });

  // Each piece of evidence has a different order under each date; only the chosen one decides.
  const evidence: Evidence[] = [
    {
      id: 'a',
      score: 1,
      assessedAt: day(3),
      dueAt: day(1),
      gradedAt: day(2),
      submittedAt: day(6),
      lastGradedAt: day(1),
      recordedAt: day(4),
      excused: false,
    },
    {
      id: 'b',
      score: 2,
      assessedAt: day(1),
      dueAt: day(3),
      gradedAt: day(4),
      lastGradedAt: day(3),
      recordedAt: day(2),
      excused: false,
    },
    {
      id: 'c',
      score: 3,
      assessedAt: day(2),
      dueAt: day(4),
      gradedAt: day(1),
      submittedAt: day(0),
      lastGradedAt: day(5),
      recordedAt: day(3),
      excused: false,
    },
    {
      id: 'd',
      score: 4,
      assessedAt: day(4),
      dueAt: day(2),
      gradedAt: day(3),
      lastGradedAt: day(2),
      recordedAt: day(1),
      excused: false,
    },
  ];
  const expected: Record<OrderBy, string[]> = {
    submittedOrLastGraded: ['c', 'd', 'b', 'a'],
    assessed: ['b', 'c', 'a', 'd'],
    due: ['a', 'd', 'b', 'c'],
    graded: ['c', 'a', 'd', 'b'],
    recorded: ['d', 'b', 'c', 'a'],
  };
  for (const orderBy of ['assessed', 'due', 'graded', 'recorded'] as const) {
    it(`when ordering by the ${orderBy} date, then that date alone decides the order and the most recent score`, () => {
      const result = calculateMastery(evidence, policy({ kind: 'mostRecent' }, { orderBy }), scale);
      const order = expected[orderBy];
      expect(result.explanation.used.map((e) => e.id)).to.deep.equal(order);
      expect(result.explanation.used.every((e) => e.orderedBy === orderBy)).to.be.true;
      const last = evidence.find((e) => e.id === order[3]);
      expect(result.value).to.equal(last?.score);
    });
  }

  it('when ordering as Canvas does, then the submission time decides, else the latest grading time', () => {
    const result = calculateMastery(
      evidence,
      policy({ kind: 'mostRecent' }, { orderBy: 'submittedOrLastGraded' }),
      scale,
    );
    expect(result.explanation.used.map((e) => [e.id, e.orderedBy])).to.deep.equal([
      ['c', 'submitted'],
      ['d', 'lastGraded'],
      ['b', 'lastGraded'],
      ['a', 'submitted'],
    ]);
    expect(result.value).to.equal(1);
    expect(result.explanation.steps[1]).to.equal(
      'Evidence ordered oldest → newest by submission time, else the latest grading time (Canvas’s order) (then date recorded, then id)',
    );
  });

  it('when a score is regraded, then Canvas’s order moves it to the newest place and Schoology’s keeps its original place', () => {
    // Quiz 1 graded 3 on day 1, Quiz 2 graded 2 on day 2, then Quiz 1 regraded to 4 on day 5.
    const quiz1: Evidence = {
      id: 'q1',
      score: 4,
      gradedAt: day(1),
      lastGradedAt: day(5),
      recordedAt: day(5),
      excused: false,
    };
    const quiz2: Evidence = {
      id: 'q2',
      score: 2,
      gradedAt: day(2),
      lastGradedAt: day(2),
      recordedAt: day(2),
      excused: false,
    };
    const canvas = calculateMastery(
      [quiz1, quiz2],
      policy({ kind: 'mostRecent' }, { orderBy: 'submittedOrLastGraded' }),
      scale,
    );
    const schoology = calculateMastery(
      [quiz1, quiz2],
      policy({ kind: 'mostRecent' }, { orderBy: 'graded' }),
      scale,
    );
    expect(canvas.value).to.equal(4);
    expect(schoology.value).to.equal(2);
    expect(schoology.explanation.steps[1]).to.contain(
      'time of the original score (Schoology’s order)',
    );
  });

  it('when a piece of evidence has neither a submission nor a grading time, then Canvas’s order falls back to the date recorded', () => {
    const submitted: Evidence = { ...series([4])[0]!, id: 's', submittedAt: day(5) };
    const bare: Evidence = { ...series([2])[0]!, id: 'u', recordedAt: day(7) };
    const result = calculateMastery(
      [bare, submitted],
      policy({ kind: 'mostRecent' }, { orderBy: 'submittedOrLastGraded' }),
      scale,
    );
    expect(result.explanation.used.map((e) => [e.id, e.orderedBy])).to.deep.equal([
      ['s', 'submitted'],
      ['u', 'recorded'],
    ]);
    expect(result.value).to.equal(2);
  });

  it('when the ordering date is missing, then recordedAt is used and the explanation says so', () => {
    const withGraded: Evidence = { ...series([4])[0]!, id: 'g', gradedAt: day(5) };
    const ungraded: Evidence = { ...series([2])[0]!, id: 'u', recordedAt: day(7) };
    const result = calculateMastery(
      [ungraded, withGraded],
      policy({ kind: 'mostRecent' }, { orderBy: 'graded' }),
      scale,
    );
    expect(result.value).to.equal(2);
    expect(result.explanation.used.map((e) => [e.id, e.orderedBy])).to.deep.equal([
      ['g', 'graded'],
      ['u', 'recorded'],
    ]);
  });

  it('when ordering dates are equal, then recordedAt breaks the tie', () => {
    const evidence: Evidence[] = [
      { id: 'x', score: 4, dueAt: day(1), recordedAt: day(3), excused: false },
      { id: 'y', score: 2, dueAt: day(1), recordedAt: day(2), excused: false },
    ];
    const result = calculateMastery(
      evidence,
      policy({ kind: 'mostRecent' }, { orderBy: 'due' }),
      scale,
    );
    expect(result.value).to.equal(4);
  });

  it('when ordering date and recordedAt are equal, then the id breaks the tie', () => {
    const evidence: Evidence[] = [
      { id: 'b', score: 2, recordedAt: day(1), excused: false },
      { id: 'a', score: 4, recordedAt: day(1), excused: false },
    ];
    for (const input of [evidence, [...evidence].reverse()]) {
      const result = calculateMastery(input, policy({ kind: 'mostRecent' }), scale);
      expect(result.explanation.used.map((e) => e.id)).to.deep.equal(['a', 'b']);
      expect(result.value).to.equal(2);
    }
  });
});

describe('calculateMastery: values, rounding and levels', () => {
  it('when there is a single score, then every method returns it', () => {
    for (const method of [
      { kind: 'highest' },
      { kind: 'mean' },
      { kind: 'median' },
      { kind: 'powerLaw' },
    ] as const) {
      expect(calculateMastery(series([3]), policy(method), scale).value).to.equal(3);
    }
  });

  it('when evidence carries weights, then mean is a weighted mean', () => {
    const evidence = series([2, 4]).map((e) => (e.id === 'e2' ? { ...e, weight: 3 } : e));
    const result = calculateMastery(evidence, policy({ kind: 'mean' }), scale);
    // (2·1 + 4·3) / 4 = 3.5
    expect(result.value).to.equal(3.5);
    expect(result.explanation.steps).to.include('Weighted mean of (2 × 1 + 4 × 3) / 4 = 3.50');
  });

  it('when rounding half up to 2 decimals, then 2.995 rounds to 3 and the level follows the rounded value', () => {
    // Mean of 2.99 and 3 = 2.995: displays as 3.00, so it must be Meets, not Approaching.
    const result = calculateMastery(
      series([2.99, 3]),
      policy({ kind: 'mean' }, { rounding: { mode: 'halfUp', decimals: 2 } }),
      scale,
    );
    expect(result.value).to.equal(3);
    expect(result.level?.id).to.equal('meets');
    expect(result.explanation.rawValue).to.be.closeTo(2.995, 1e-12);
  });

  it('when not rounded, then 2.995 stays Approaching', () => {
    const result = calculateMastery(series([2.99, 3]), policy({ kind: 'mean' }), scale);
    expect(result.level?.id).to.equal('approaching');
  });

  it('when the result is mastered, then the student summary says so in plain words', () => {
    const result = calculateMastery(series([3, 4]), policy({ kind: 'highest' }), scale);
    expect(result.explanation.studentSummary).to.equal(
      'Your level is your best score so far. From 2 scored pieces of work, your level is Exceeds (4.00). You have mastered this standard.',
    );
  });

  it('when the method is explained, then the steps end with the value and its level', () => {
    const result = calculateMastery(series([1, 2, 3, 4]), policy({ kind: 'mean' }), scale);
    expect(result.explanation.steps.at(-1)).to.equal(
      '2.5 is at or above Approaching (2) → Approaching (not mastered)',
    );
  });
});

describe('calculateMastery: policy validation', () => {
  it('when a decaying rate is given as a percentage, then INVALID_POLICY is thrown', () => {
    expect(() =>
      calculateMastery(series([3]), policy({ kind: 'recursiveDecaying', rate: 65 }), scale),
    )
      .to.throw(MasteryError)
      .with.property('code', 'INVALID_POLICY');
  });

  it('when an n-times threshold lies off the scale, then INVALID_POLICY is thrown', () => {
    expect(() =>
      calculateMastery(series([3]), policy({ kind: 'nTimes', n: 2, threshold: 5 }), scale),
    )
      .to.throw(MasteryError)
      .with.property('code', 'INVALID_POLICY');
  });

  it('when a policy is parsed from JSON, then defaults apply and a bad one lists every problem', () => {
    const parsed = parseMasteryPolicy({ method: { kind: 'mean' }, orderBy: 'graded' });
    expect(parsed).to.deep.equal({
      method: { kind: 'mean' },
      orderBy: 'graded',
      minEvidence: 1,
      rounding: { mode: 'halfUp', decimals: 2 },
    });
    try {
      parseMasteryPolicy({ method: { kind: 'meanOfMostRecent', n: 0 }, orderBy: 'submitted' });
      expect.fail('should have thrown');
    } catch (error) {
      expect(error).to.be.instanceOf(MasteryError);
      const message = (error as MasteryError).message;
      expect((error as MasteryError).code).to.equal('INVALID_POLICY');
      expect(message).to.contain('method.n');
      expect(message).to.contain('orderBy');
    }
  });
});
