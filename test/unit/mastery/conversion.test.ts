import { expect } from 'chai';
import {
  assignmentMasteryScore,
  calculateMastery,
  convertToPercentage,
  courseMasteryGrade,
  createConversionTable,
  DEFAULT_CONVERSION_TABLE,
  DEFAULT_PROFICIENCY_SCALE,
  MasteryError,
} from '../../../src/mastery/index.ts';
import { policy, series } from './fixtures.ts';

const scale = DEFAULT_PROFICIENCY_SCALE;
const linear = { ...DEFAULT_CONVERSION_TABLE, interpolation: 'linear' as const };

describe('grade conversion table', () => {
  it('when a value is on a row, then it converts to that row (4→100, 3→85, 2→70, 1→55)', () => {
    for (const [value, percent] of [
      [4, 100],
      [3, 85],
      [2, 70],
      [1, 55],
    ] as const) {
      expect(convertToPercentage(value, DEFAULT_CONVERSION_TABLE).percent).to.equal(percent);
      expect(convertToPercentage(value, linear).percent).to.equal(percent);
    }
  });

  it('when a value is between rows in a step table, then it takes the lower row', () => {
    expect(convertToPercentage(3.7, DEFAULT_CONVERSION_TABLE).percent).to.equal(85);
  });

  it('when a value is between rows in a linear table, then it is interpolated', () => {
    const result = convertToPercentage(3.7, linear);
    // 85 + 0.7 × (100 − 85) = 95.5
    expect(result.percent).to.equal(95.5);
    expect(result.steps).to.include('85 + 0.7000 × (100 − 85) = 95.5%');
  });

  it('when a value lies outside the table, then the nearest end row is used (no zeros)', () => {
    expect(convertToPercentage(0.5, linear).percent).to.equal(55);
    expect(convertToPercentage(4.5, DEFAULT_CONVERSION_TABLE).percent).to.equal(100);
  });

  it('when a table repeats a value or has no rows, then INVALID_CONVERSION_TABLE is thrown', () => {
    for (const rows of [
      [],
      [
        { value: 1, percent: 50 },
        { value: 1, percent: 60 },
      ],
    ]) {
      expect(() => createConversionTable({ interpolation: 'step', rows }))
        .to.throw(MasteryError)
        .with.property('code', 'INVALID_CONVERSION_TABLE');
    }
    const created = createConversionTable({
      interpolation: 'step',
      rows: [
        { value: 4, percent: 100 },
        { value: 1, percent: 50 },
      ],
    });
    expect(created.rows.map((r) => r.value)).to.deep.equal([1, 4]);
  });
});

describe('course mastery grade from power standards', () => {
  const resultOf = (scores: number[]) =>
    calculateMastery(series(scores), policy({ kind: 'mean' }), scale);
  const results = [
    { standardId: 'P1', result: resultOf([4]) },
    { standardId: 'P2', result: resultOf([3, 4]) }, // 3.5 → Meets: its LEVEL (3) counts, not 3.5
    { standardId: 'X9', result: resultOf([1]) }, // not a power standard
  ];

  it('when grading a course, then the mean of the power standards’ levels goes through the table', () => {
    const grade = courseMasteryGrade(results, ['P1', 'P2', 'P3'], linear);
    expect(grade.status).to.equal('graded');
    expect(grade.meanLevel).to.equal(3.5);
    expect(grade.percent).to.equal(92.5);
    expect(grade.explanation.ignored).to.deep.equal([
      { standardId: 'X9', reason: 'notPowerStandard' },
      { standardId: 'P3', reason: 'noResult' },
    ]);
    expect(grade.explanation.steps).to.include('Mean of levels (4, 3) = 3.50');
  });

  it('when no power standard has a level, then there is no grade', () => {
    const grade = courseMasteryGrade(results, ['P3'], DEFAULT_CONVERSION_TABLE);
    expect(grade.status).to.equal('noEvidence');
    expect(grade.percent).to.equal(undefined);
  });
});

describe('assignment mastery score from aligned standards', () => {
  it('when an assignment is aligned to weighted standards, then their levels are averaged by alignment weight', () => {
    const grade = assignmentMasteryScore(
      [
        { standardId: 'A', weight: 2, score: 4 },
        { standardId: 'B', weight: 1, score: 2.6 }, // level Approaching (2)
        { standardId: 'C', weight: 1, score: undefined },
      ],
      linear,
      scale,
    );
    // (4·2 + 2·1) / 3 = 3.333… → 85 + 0.3333 × 15 = 90
    expect(grade.meanLevel).to.be.closeTo(10 / 3, 1e-12);
    expect(grade.percent).to.equal(90);
    expect(grade.explanation.ignored).to.deep.equal([{ standardId: 'C', reason: 'noScore' }]);
    expect(grade.explanation.used.map((u) => u.levelId)).to.deep.equal(['exceeds', 'approaching']);
  });
});
