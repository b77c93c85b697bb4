import { expect } from 'chai';
import { cellHelp, formatCell, parseCell } from '../../../src/evidence/grid.ts';
import { pointsToScale } from '../../../src/evidence/points.ts';
import { DEFAULT_COURSE_POLICY } from '../../../src/policy/defaults.ts';
import { resolvePolicy } from '../../../src/policy/resolve.ts';
import { loadCoursePolicy } from '../../../src/policy/store.ts';
import { parseStoredPolicy, PolicyError } from '../../../src/policy/stored-policy.ts';
import { DEFAULT_PROFICIENCY_SCALE } from '../../../src/mastery/index.ts';
import { createTestDatabase, testEngine, type TestDatabase } from '../../support/database.ts';
import { masteryFixture, type MasteryFixture } from './fixture.ts';

const scale = DEFAULT_PROFICIENCY_SCALE;

describe('policy layering, grid cells and points', () => {
  it('when a course sets only its method, then the district’s other calculation fields stay', () => {
    const policy = resolvePolicy(
      { calculation: { minEvidence: 2, orderBy: 'graded' }, passback: { courseColumn: true } },
      { calculation: { method: { kind: 'median' } }, passback: { standardColumns: false } },
    );
    expect(policy.calculation).to.deep.equal({
      method: { kind: 'median' },
      minEvidence: 2,
      orderBy: 'graded',
      rounding: { mode: 'halfUp', decimals: 2 },
    });
    expect(policy.passback).to.include({
      courseColumn: true,
      standardColumns: false,
      prioritizeNonToolGrade: true,
    });
  });

  it('when nothing is stored, then the defaults apply', () => {
    expect(resolvePolicy()).to.deep.equal(DEFAULT_COURSE_POLICY);
  });

  it('when stored JSON is malformed, then a PolicyError names each path', () => {
    let caught: unknown;
    try {
      parseStoredPolicy({
        calculation: { method: { kind: 'loudest' }, minEvidence: -1 },
        scale: { min: 1 },
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(PolicyError);
    const problems = (caught as PolicyError).problems.join(' | ');
    expect(problems).to.contain('calculation.method');
    expect(problems).to.contain('calculation.minEvidence');
    expect(problems).to.contain('scale.max');
  });

  it('when layers make an unusable policy, then a PolicyError says why', () => {
    expect(() =>
      resolvePolicy(
        {
          scale: {
            min: 0,
            max: 2,
            levels: [{ id: 'yes', label: 'Yes', value: 1, colour: '#000000', mastered: true }],
          },
        },
        { calculation: { method: { kind: 'nTimes', n: 2, threshold: 3 } } },
      ),
    ).to.throw(PolicyError, 'threshold 3 lies outside the scale');
    expect(() =>
      resolvePolicy({
        conversion: {
          interpolation: 'step',
          rows: [
            { value: 1, percent: 50 },
            { value: 1, percent: 60 },
          ],
        },
      }),
    ).to.throw(PolicyError, 'two rows for the value 1');
    expect(() =>
      resolvePolicy({
        scale: {
          min: 4,
          max: 1,
          levels: [{ id: 'a', label: 'A', value: 2, colour: '#000000', mastered: true }],
        },
      }),
    ).to.throw(PolicyError, 'must be below max');
  });

  it('when a teacher types into a cell, then numbers, labels, X and blanks are understood and the rest refused', () => {
    expect(parseCell(' 3 ', scale)).to.deep.equal({ kind: 'score', score: 3 });
    expect(parseCell('2,5', scale)).to.deep.equal({ kind: 'score', score: 2.5 });
    expect(parseCell('meets', scale)).to.deep.equal({ kind: 'score', score: 3 });
    expect(parseCell('EX', scale)).to.deep.equal({ kind: 'excused' });
    expect(parseCell('x', scale)).to.deep.equal({ kind: 'excused' });
    expect(parseCell('', scale)).to.deep.equal({ kind: 'empty' });
    expect(parseCell('0', scale)).to.deep.equal({
      kind: 'invalid',
      message: '0 is not on the scale: use 1 to 4.',
    });
    expect(parseCell('good', scale).kind).to.equal('invalid');
    expect(cellHelp(scale)).to.contain('from 1 to 4');
    expect(formatCell({ score: 2.5, excused: false })).to.equal('2.5');
    expect(formatCell({ score: null, excused: true })).to.equal('X');
    expect(formatCell(undefined)).to.equal('');
  });

  it('when points convert to the scale, then the fraction maps linearly from min to max, limited to 0..1', () => {
    expect(pointsToScale(0, 10, scale)).to.equal(1);
    expect(pointsToScale(5, 10, scale)).to.equal(2.5);
    expect(pointsToScale(7, 10, scale)).to.equal(3.1);
    expect(pointsToScale(12, 10, scale)).to.equal(4);
    expect(pointsToScale(-3, 10, scale)).to.equal(1);
  });
});

describe(`loading policies from the database (${testEngine})`, function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let f: MasteryFixture;
  let other: MasteryFixture;
  const now = new Date('2026-11-27T08:00:00Z');

  before(async () => {
    database = await createTestDatabase();
    f = await masteryFixture(database, 'district-p', now, 1);
    other = await masteryFixture(database, 'district-q', now, 1);
    await database.db
      .insertInto('mastery_policies')
      .values([
        {
          tenant_id: f.tenantId,
          course_id: null,
          policy: JSON.stringify({ calculation: { method: { kind: 'highest' } } }),
          updated_by: 't',
          updated_at: now,
        },
        {
          tenant_id: f.tenantId,
          course_id: f.courseId,
          policy: JSON.stringify({ rollup: { method: 'minimum' } }),
          updated_by: 't',
          updated_at: now,
        },
        {
          tenant_id: other.tenantId,
          course_id: null,
          policy: JSON.stringify({ calculation: { method: { kind: 'nonsense' } } }),
          updated_by: 't',
          updated_at: now,
        },
      ])
      .execute();
  });
  after(async () => {
    await database.close();
  });

  it('when a course has an override, then it is layered over the district row', async () => {
    const policy = await loadCoursePolicy(database.db, f.tenantId, f.courseId);
    expect(policy.calculation.method).to.deep.equal({ kind: 'highest' });
    expect(policy.rollup).to.deep.equal({ method: 'minimum' });
    const district = await loadCoursePolicy(database.db, f.tenantId, null);
    expect(district.rollup).to.deep.equal({ method: 'mean' });
  });

  it('when another district’s course id is given, then only this district’s rows are used', async () => {
    const policy = await loadCoursePolicy(database.db, f.tenantId, other.courseId);
    expect(policy.calculation.method).to.deep.equal({ kind: 'highest' });
    expect(policy.rollup).to.deep.equal({ method: 'mean' });
  });

  it('when a stored row is corrupt, then loading fails loudly with the path', async () => {
    let caught: unknown;
    try {
      await loadCoursePolicy(database.db, other.tenantId, other.courseId);
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(PolicyError);
    expect((caught as PolicyError).message).to.contain('calculation.method');
  });
});
