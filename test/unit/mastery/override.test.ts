import { expect } from 'chai';
import {
  applyOverride,
  calculateMastery,
  DEFAULT_PROFICIENCY_SCALE,
  MasteryError,
} from '../../../src/mastery/index.ts';
import { day, policy, series } from './fixtures.ts';

const scale = DEFAULT_PROFICIENCY_SCALE;
const computed = calculateMastery(series([1, 2, 3, 4]), policy({ kind: 'mean' }), scale);

describe('teacher override', () => {
  it('when a teacher sets a level, then value and level follow it and the computed result is kept beside it', () => {
    const result = applyOverride(
      computed,
      {
        levelId: 'meets',
        reason: 'Conference showed understanding',
        by: 'Ms. Rivera',
        at: day(10),
      },
      scale,
    );
    expect(result.status).to.equal('mastery');
    expect(result.value).to.equal(3);
    expect(result.level?.id).to.equal('meets');
    expect(result.override?.computed).to.deep.equal({
      status: 'mastery',
      value: 2.5,
      level: computed.level,
    });
    expect(result.override?.reason).to.equal('Conference showed understanding');
    expect(result.explanation.used).to.equal(computed.explanation.used);
    expect(result.explanation.steps.at(-1)).to.equal(
      'Teacher override by Ms. Rivera on 2026-09-11: 3 (Meets) replaces computed 2.5 (Approaching). Reason: Conference showed understanding',
    );
    expect(result.explanation.studentSummary).to.match(/Your teacher set your level to Meets\.$/);
  });

  it('when a teacher sets a value, then its level is derived from the scale', () => {
    const result = applyOverride(
      computed,
      { value: 3.5, reason: 'Retest', by: 't1', at: day(3) },
      scale,
    );
    expect(result.value).to.equal(3.5);
    expect(result.level?.id).to.equal('meets');
  });

  it('when there was no computed result, then the override still gives a result and records that', () => {
    const none = calculateMastery([], policy({ kind: 'mean' }), scale);
    const result = applyOverride(
      none,
      { levelId: 'beginning', reason: 'Observed', by: 't1', at: day(1) },
      scale,
    );
    expect(result.status).to.equal('mastery');
    expect(result.override?.computed).to.deep.equal({
      status: 'noEvidence',
      value: undefined,
      level: undefined,
    });
  });

  it('when an overridden result is overridden again, then the original computed value is still kept', () => {
    const once = applyOverride(
      computed,
      { levelId: 'meets', reason: 'a', by: 't1', at: day(1) },
      scale,
    );
    const twice = applyOverride(
      once,
      { levelId: 'exceeds', reason: 'b', by: 't2', at: day(2) },
      scale,
    );
    expect(twice.value).to.equal(4);
    expect(twice.override?.computed.value).to.equal(2.5);
    expect(twice.explanation.studentSummary.match(/Your teacher set/g)).to.have.length(1);
  });

  it('when the override is off the scale, unknown or has no reason, then a typed error is thrown', () => {
    const at = day(1);
    expect(() => applyOverride(computed, { value: 9, reason: 'x', by: 't', at }, scale))
      .to.throw(MasteryError)
      .with.property('code', 'INVALID_OVERRIDE');
    expect(() => applyOverride(computed, { levelId: 'nope', reason: 'x', by: 't', at }, scale))
      .to.throw(MasteryError)
      .with.property('code', 'UNKNOWN_LEVEL');
    expect(() => applyOverride(computed, { levelId: 'meets', reason: '  ', by: 't', at }, scale))
      .to.throw(MasteryError)
      .with.property('code', 'INVALID_OVERRIDE');
  });
});
