import { expect } from 'chai';
import fc from 'fast-check';
import {
  calculateMastery,
  createProficiencyScale,
  DEFAULT_PROFICIENCY_SCALE,
  type Evidence,
  type MasteryMethod,
  type OrderBy,
  type ProficiencyScale,
} from '../../../src/mastery/index.ts';
import { day, policy } from './fixtures.ts';

const ZERO_BASED = createProficiencyScale({ ...DEFAULT_PROFICIENCY_SCALE, min: 0 });

const scaleArb: fc.Arbitrary<ProficiencyScale> = fc.constantFrom(
  DEFAULT_PROFICIENCY_SCALE,
  ZERO_BASED,
);

const orderByArb: fc.Arbitrary<OrderBy> = fc.constantFrom(
  'submittedOrLastGraded',
  'assessed',
  'due',
  'graded',
  'recorded',
);

/** Small day range so equal dates (and the tie-breakers) come up often. */
const dateArb = fc.integer({ min: 0, max: 6 }).map(day);

function scoreArb(scale: ProficiencyScale): fc.Arbitrary<number> {
  return fc.oneof(
    fc.integer({ min: Math.ceil(scale.min), max: Math.floor(scale.max) }),
    fc.double({ min: scale.min, max: scale.max, noNaN: true }),
  );
}

function evidenceArb(scale: ProficiencyScale, maxLength = 12): fc.Arbitrary<Evidence[]> {
  const item = fc.record({
    score: fc.option(scoreArb(scale), { freq: 8, nil: null }),
    assessedAt: fc.option(dateArb, { nil: undefined }),
    dueAt: fc.option(dateArb, { nil: undefined }),
    gradedAt: fc.option(dateArb, { nil: undefined }),
    lastGradedAt: fc.option(dateArb, { nil: undefined }),
    submittedAt: fc.option(dateArb, { nil: undefined }),
    recordedAt: dateArb,
    excused: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
  });
  return fc
    .array(item, { maxLength })
    .map((items) => items.map((e, index) => ({ ...e, id: `ev-${index}` })));
}

const methodArb: fc.Arbitrary<MasteryMethod> = fc.oneof(
  fc.constant({ kind: 'highest' } as const),
  fc.constant({ kind: 'mostRecent' } as const),
  fc.constant({ kind: 'mean' } as const),
  fc.constant({ kind: 'median' } as const),
  fc
    .constantFrom('higher', 'lower', 'mostRecent')
    .map((tieRule) => ({ kind: 'mode', tieRule }) as const),
  fc.integer({ min: 1, max: 5 }).map((n) => ({ kind: 'meanOfMostRecent', n }) as const),
  fc
    .record({
      n: fc.integer({ min: 1, max: 4 }),
      threshold: fc.double({ min: 1, max: 4, noNaN: true }),
    })
    .map(({ n, threshold }) => ({ kind: 'nTimes', n, threshold }) as const),
  fc
    .double({ min: 0, max: 1, noNaN: true })
    .map((weight) => ({ kind: 'canvasLegacyDecaying', weight }) as const),
  fc
    .double({ min: Number.EPSILON, max: 1, noNaN: true })
    .map((rate) => ({ kind: 'recursiveDecaying', rate }) as const),
  fc.constant({ kind: 'powerLaw' } as const),
);

const caseArb = scaleArb.chain((scale) =>
  fc.record({
    scale: fc.constant(scale),
    evidence: evidenceArb(scale),
    method: methodArb,
    orderBy: orderByArb,
  }),
);

/** The ordering the spec describes, written independently of the implementation. */
function expectedOrder(evidence: readonly Evidence[], orderBy: OrderBy): Evidence[] {
  // Canvas: the submission time, else the latest grading time; the others: their one date.
  const dates = (e: Evidence): (Date | undefined)[] =>
    ({
      submittedOrLastGraded: [e.submittedAt, e.lastGradedAt],
      assessed: [e.assessedAt],
      due: [e.dueAt],
      graded: [e.gradedAt],
      recorded: [],
    })[orderBy];
  const time = (e: Evidence) => (dates(e).find((d) => d !== undefined) ?? e.recordedAt).getTime();
  return [...evidence].sort(
    (a, b) =>
      time(a) - time(b) ||
      a.recordedAt.getTime() - b.recordedAt.getTime() ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

describe('mastery properties (fast-check)', () => {
  it('every method’s value lies within [scale.min, scale.max]', () => {
    fc.assert(
      fc.property(caseArb, ({ scale, evidence, method, orderBy }) => {
        const result = calculateMastery(evidence, policy(method, { orderBy }), scale);
        if (result.status === 'mastery') {
          expect(result.value).to.be.within(scale.min, scale.max);
          expect(result.level).to.not.equal(undefined);
          // Only the power law extrapolates; every other method stays on the scale before clamping.
          if (method.kind !== 'powerLaw') {
            expect(result.explanation.rawValue).to.be.within(scale.min - 1e-9, scale.max + 1e-9);
          }
        } else {
          expect(result.value).to.equal(undefined);
        }
      }),
    );
  });

  it('highest >= mean >= lowest', () => {
    fc.assert(
      fc.property(caseArb, ({ scale, evidence, orderBy }) => {
        const run = (method: MasteryMethod) =>
          calculateMastery(evidence, policy(method, { orderBy }), scale);
        const meanResult = run({ kind: 'mean' });
        if (meanResult.status !== 'mastery') return;
        const highest = run({ kind: 'highest' }).value!;
        const lowest = Math.min(...meanResult.explanation.used.map((e) => e.score));
        expect(highest + 1e-9).to.be.at.least(meanResult.value!);
        expect(meanResult.value! + 1e-9).to.be.at.least(lowest);
      }),
    );
  });

  it('most recent equals the last eligible score by the ordering date', () => {
    fc.assert(
      fc.property(caseArb, ({ scale, evidence, orderBy }) => {
        const result = calculateMastery(
          evidence,
          policy({ kind: 'mostRecent' }, { orderBy }),
          scale,
        );
        const eligible = expectedOrder(evidence, orderBy).filter(
          (e) => !e.excused && e.score !== null,
        );
        expect(result.value).to.equal(eligible.at(-1)?.score ?? undefined);
      }),
    );
  });

  it('results do not depend on the input order', () => {
    fc.assert(
      fc.property(
        caseArb.chain((c) =>
          fc.record({
            c: fc.constant(c),
            shuffled: fc.shuffledSubarray(c.evidence, {
              minLength: c.evidence.length,
              maxLength: c.evidence.length,
            }),
          }),
        ),
        ({ c: { scale, evidence, method, orderBy }, shuffled }) => {
          const a = calculateMastery(evidence, policy(method, { orderBy }), scale);
          const b = calculateMastery(shuffled, policy(method, { orderBy }), scale);
          expect(b.status).to.equal(a.status);
          expect(b.value).to.equal(a.value);
          expect(b.explanation.used.map((e) => e.id)).to.deep.equal(
            a.explanation.used.map((e) => e.id),
          );
          expect(b.explanation.ignored).to.deep.equal(a.explanation.ignored);
        },
      ),
    );
  });

  it('the explanation’s used + ignored evidence ids are exactly the input ids', () => {
    fc.assert(
      fc.property(caseArb, ({ scale, evidence, method, orderBy }) => {
        const result = calculateMastery(evidence, policy(method, { orderBy }), scale);
        const explained = [
          ...result.explanation.used.map((e) => e.id),
          ...result.explanation.ignored.map((e) => e.id),
        ].sort();
        expect(explained).to.deep.equal(evidence.map((e) => e.id).sort());
      }),
    );
  });

  it('rounding half up never moves a value by more than half a unit of the last decimal', () => {
    fc.assert(
      fc.property(
        caseArb,
        fc.integer({ min: 0, max: 4 }),
        ({ scale, evidence, method, orderBy }, decimals) => {
          const rounded = calculateMastery(
            evidence,
            policy(method, { orderBy, rounding: { mode: 'halfUp', decimals } }),
            scale,
          );
          const exact = calculateMastery(evidence, policy(method, { orderBy }), scale);
          if (rounded.value === undefined || exact.value === undefined) return;
          expect(Math.abs(rounded.value - exact.value)).to.be.at.most(0.5 * 10 ** -decimals + 1e-9);
        },
      ),
    );
  });
});
