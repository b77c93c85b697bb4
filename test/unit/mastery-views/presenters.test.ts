import { expect } from 'chai';
import {
  applyOverride,
  calculateMastery,
  DEFAULT_PROFICIENCY_SCALE,
  rollUpStandard,
  type Evidence,
  type MasteryMethod,
  type MasteryPolicy,
} from '../../../src/mastery/index.ts';
import { explanationView, parseStoredExplanation } from '../../../src/mastery-views/explanation.ts';
import { buildHeatmap, heatmapCsv, parseHeatmapQuery } from '../../../src/mastery-views/heatmap.ts';
import { nextStep, nextStepText } from '../../../src/mastery-views/next-steps.ts';
import { buildPathways } from '../../../src/mastery-views/pathways.ts';
import type {
  AncestorStandard,
  CourseStandard,
  CourseStudent,
  ResultCell,
} from '../../../src/storage/mastery/views.repository.ts';

const scale = DEFAULT_PROFICIENCY_SCALE;
const DAY = 86_400_000;
const at = (n: number) => new Date(Date.UTC(2026, 8, 1) + n * DAY);

function evidence(scores: readonly number[]): Evidence[] {
  return scores.map((score, i) => ({ id: `e${i + 1}`, score, recordedAt: at(i), excused: false }));
}

function policy(method: MasteryMethod, extra: Partial<MasteryPolicy> = {}): MasteryPolicy {
  return {
    method,
    minEvidence: 1,
    orderBy: 'recorded',
    rounding: { mode: 'halfUp', decimals: 2 },
    ...extra,
  };
}

/** The stored JSON form (dates as ISO strings), as the evidence area writes it. */
const stored = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

const students: CourseStudent[] = [
  { id: 's1', name: 'Ava Brooks', sortKey: 'brooks ava', active: true },
  { id: 's2', name: 'Ben Carter', sortKey: 'carter ben', active: true },
  { id: 's3', name: 'Chloe Diaz', sortKey: 'diaz chloe', active: false },
];
const ancestors: AncestorStandard[] = [
  {
    id: 'd1',
    code: 'NBT',
    statement: 'Numbers',
    fullStatement: 'Numbers',
    parentId: undefined,
    itemType: 'Domain',
    depth: 0,
  },
  {
    id: 'd2',
    code: 'G',
    statement: 'Geometry',
    fullStatement: 'Geometry',
    parentId: undefined,
    itemType: 'Domain',
    depth: 0,
  },
];
const standards: CourseStandard[] = [
  {
    id: 'a',
    code: 'NBT.1',
    statement: 'Place value',
    fullStatement: 'Place value',
    parentId: 'd1',
    itemType: undefined,
  },
  {
    id: 'b',
    code: 'NBT.2',
    statement: 'Arithmetic',
    fullStatement: 'Arithmetic',
    parentId: 'd1',
    itemType: undefined,
  },
  {
    id: 'c',
    code: undefined,
    statement: 'Shapes and their attributes in the coordinate plane',
    fullStatement: 'x',
    parentId: 'd2',
    itemType: undefined,
  },
];
const cell = (
  studentId: string,
  itemId: string,
  value: number | undefined,
  status: ResultCell['status'] = 'mastery',
): ResultCell => ({
  studentId,
  itemId,
  status,
  value,
  levelId: undefined,
  mastered: value !== undefined && value >= 3,
  overridden: false,
  evidenceCount: 1,
});
const results: ResultCell[] = [
  cell('s1', 'a', 2),
  cell('s2', 'a', 4),
  cell('s3', 'a', undefined, 'insufficientEvidence'),
  cell('s1', 'c', 3),
];

describe('mastery views: heatmap presenter', () => {
  const build = (query: Record<string, unknown>) =>
    buildHeatmap({
      scale,
      students,
      standards,
      ancestors,
      results,
      query: parseHeatmapQuery(query),
    });

  it('when no sort is given, then rows follow the class list and every cell is filled', () => {
    const view = build({});
    expect(view.rows.map((r) => r.name)).to.deep.equal(['Ava Brooks', 'Ben Carter', 'Chloe Diaz']);
    expect(view.columns.map((c) => c.code)).to.deep.equal([
      'NBT.1',
      'NBT.2',
      'Shapes and their attributes in the coor…',
    ]);
    expect(view.rows[2]?.cells[0]?.kind).to.equal('insufficient');
    expect(view.rows[0]?.cells[1]?.kind).to.equal('none');
    expect(view.nameAriaSort).to.equal('ascending');
    expect(view.nameSortQuery).to.equal('?sort=name&dir=desc');
  });

  it('when sorted by a standard ascending, then lowest first and students without a level last', () => {
    const view = build({ sort: 'a', dir: 'asc' });
    expect(view.rows.map((r) => r.studentId)).to.deep.equal(['s1', 's2', 's3']);
    expect(view.columns[0]?.ariaSort).to.equal('ascending');
    expect(view.columns[0]?.sortQuery).to.equal('?sort=a&dir=desc');
    const desc = build({ sort: 'a', dir: 'desc' });
    expect(desc.rows.map((r) => r.studentId)).to.deep.equal(['s2', 's1', 's3']);
  });

  it('when filtered by a domain, then only its standards remain and links keep the filter', () => {
    const view = build({ domain: 'd1' });
    expect(view.columns.map((c) => c.id)).to.deep.equal(['a', 'b']);
    expect(view.columns[0]?.sortQuery).to.equal('?sort=a&dir=asc&domain=d1');
    expect(view.domain?.id).to.equal('d1');
    expect(view.csvQuery).to.equal('?domain=d1');
  });

  it('when sorting by a standard outside the filter, then it falls back to the name', () => {
    const view = build({ domain: 'd1', sort: 'c' });
    expect(view.query.sort).to.equal('name');
  });

  it('when exported, then the CSV has the same rows, levels and values', () => {
    const csv = heatmapCsv(build({ sort: 'a', dir: 'desc' }));
    const lines = csv.split('\r\n');
    expect(lines[0]).to.equal(
      'Student,NBT.1 level,NBT.1 value,NBT.2 level,NBT.2 value,Shapes and their attributes in the coor… level,Shapes and their attributes in the coor… value,Standards mastered',
    );
    expect(lines[1]).to.equal('Ben Carter,Exceeds,4,No evidence yet,,No evidence yet,,1');
    expect(lines[3]).to.equal(
      'Chloe Diaz,Not enough evidence,,No evidence yet,,No evidence yet,,0',
    );
  });
});

describe('mastery views: pathways presenter', () => {
  it('when a standard is not mastered, then the aligned assignments without evidence are listed, else a re-assessment', () => {
    const pathways = buildPathways({
      scale,
      students: students.slice(0, 2),
      standards,
      results,
      aligned: [
        {
          assignmentId: 'q1',
          title: 'Quiz 1',
          dueAt: new Date('2026-12-01T00:00:00Z'),
          itemId: 'a',
        },
        { assignmentId: 'q1', title: 'Quiz 1', dueAt: undefined, itemId: 'b' },
      ],
      evidenced: [{ studentId: 's1', assignmentId: 'q1', itemId: 'a' }],
    });
    const ava = pathways[0];
    expect(
      ava?.items.map((i) => [i.code, i.needsReassessment, i.assignments.map((a) => a.title)]),
    ).to.deep.equal([
      ['NBT.1', true, []],
      ['NBT.2', false, ['Quiz 1']],
    ]);
    expect(ava?.masteredCount).to.equal(1);
    const ben = pathways[1];
    expect(ben?.items.map((i) => i.code)).to.deep.equal([
      'NBT.2',
      'Shapes and their attributes in the coor…',
    ]);
  });
});

describe('mastery views: explanation presenter', () => {
  const names = {
    evidenceLabel: (id: string) => (id === 'e1' ? 'Quiz 1' : undefined),
    standardLabel: (id: string) => ({ a: 'NBT.1', b: 'NBT.2' })[id],
    levelLabel: (id: string) => scale.levels.find((l) => l.id === id)?.label,
  };

  it('when a calculated result is read back, then method, parameters, ordered evidence, ignored with why and steps are shown', () => {
    const input = [
      ...evidence([1, 2, 3, 4]),
      { id: 'x', score: 4, recordedAt: at(9), excused: true },
    ];
    const result = calculateMastery(
      input,
      policy({ kind: 'recursiveDecaying', rate: 0.65 }),
      scale,
    );
    const view = explanationView(stored({ kind: 'calculated', result }), names);
    expect(view.kind).to.equal('calculated');
    expect(view.method).to.include('Decaying average');
    expect(view.parameters.map((p) => `${p.name}: ${p.value}`)).to.deep.equal([
      'Weight of each new score: 65%',
      'Evidence ordered by: date recorded in this tool',
      'Minimum evidence for a level: 1',
      'Rounding: Rounded half up to 2 decimals',
    ]);
    expect(view.used.map((u) => [u.position, u.label, u.score, u.date])).to.deep.equal([
      [1, 'Quiz 1', '1', '2026-09-01'],
      [2, 'Evidence without an assignment', '2', '2026-09-02'],
      [3, 'Evidence without an assignment', '3', '2026-09-03'],
      [4, 'Evidence without an assignment', '4', '2026-09-04'],
    ]);
    expect(view.ignored).to.deep.equal([
      {
        label: 'Evidence without an assignment',
        score: '4',
        reason: 'Excused: excused work never counts',
      },
    ]);
    expect(view.steps.length).to.be.greaterThan(2);
    expect(view.steps.join(' ')).to.include('3.48');
    expect(view.studentSummary).to.include('recent work matters most');
  });

  it('when the result was overridden, then the override and the computed level are both shown', () => {
    const computed = calculateMastery(evidence([2]), policy({ kind: 'mostRecent' }), scale);
    const result = applyOverride(
      computed,
      { value: 3, reason: 'Oral check', by: 'u1', at: at(3) },
      scale,
    );
    const view = explanationView(stored({ kind: 'calculated', result }), names);
    expect(view.override).to.deep.equal({
      value: '3',
      level: 'Meets',
      reason: 'Oral check',
      at: '2026-09-04',
      computed: 'Approaching (2)',
    });
  });

  it('when a roll-up is read back, then its child standards are named with their values', () => {
    const a = calculateMastery(evidence([3]), policy({ kind: 'mostRecent' }), scale);
    const result = rollUpStandard(
      [
        { standardId: 'a', result: a },
        { standardId: 'b', result: undefined },
      ],
      { method: 'mean' },
      scale,
    );
    const view = explanationView(stored({ kind: 'rollup', result }), names);
    expect(view.kind).to.equal('rollup');
    expect(view.used.map((u) => [u.label, u.score])).to.deep.equal([['NBT.1', '3']]);
    expect(view.ignored).to.deep.equal([{ label: 'NBT.2', score: '', reason: 'No level yet' }]);
    expect(view.steps[0]).to.equal('Not counted: NBT.2 (noResult)');
  });

  it('when the stored JSON does not parse, then the view says the explanation is unavailable', () => {
    expect(parseStoredExplanation({ kind: 'other' })).to.equal(undefined);
    const view = explanationView({ kind: 'calculated', result: { nope: true } }, names);
    expect(view.kind).to.equal('unavailable');
    expect(view.studentSummary).to.include('not available');
  });
});

describe('mastery views: what score would move a student up', () => {
  const now = at(30);
  const step = (scores: number[], method: MasteryMethod, extra: Partial<MasteryPolicy> = {}) =>
    nextStep({
      evidence: evidence(scores),
      policy: policy(method, extra),
      scale,
      now,
      overridden: false,
    });

  it('when the method is the most recent score, then the next level’s threshold is the score to reach', () => {
    const s = step([1], { kind: 'mostRecent' });
    expect(s).to.deep.include({ kind: 'score', score: 2, times: 1 });
    expect(nextStepText(s)).to.equal(
      'A score of 2 or higher on your next piece of work would move you to Approaching.',
    );
  });

  it('when the method is the mean, then the score is computed from the other scores (1,2 → 3 reaches mean 2)', () => {
    // Mean of 1, 2 = 1.5 (Beginning); one more 3 gives 2.
    expect(step([1, 2], { kind: 'mean' })).to.deep.include({ kind: 'score', score: 3, times: 1 });
  });

  it('when one score cannot reach the next level, then two are suggested, or the advice stays general', () => {
    // Mean of 1,1,1,1 = 1: one 4 gives 1.6; two 4s give 2.
    const two = step([1, 1, 1, 1], { kind: 'mean' });
    expect(two).to.deep.include({ kind: 'score', score: 4, times: 2 });
    expect(nextStepText(two)).to.include('two scores of 4 or higher');
    const many = step([1, 1, 1, 1, 1, 1, 1, 1], { kind: 'mean' });
    expect(many.kind).to.equal('uncertain');
    expect(nextStepText(many)).to.include('keep practising');
  });

  it('when the decaying average cannot reach the next level with one or two top scores, then the advice stays general', () => {
    const s = step([1, 2, 3, 4], { kind: 'recursiveDecaying', rate: 0.65 });
    // 0.35 × 3.484625 + 0.65 × 4 = 3.82: one score cannot reach 4; two 4s give 3.94; so general advice.
    expect(s.kind).to.equal('uncertain');
  });

  it('when at the top level, when overridden, or when more evidence is needed, then the advice says so', () => {
    expect(step([4], { kind: 'highest' }).kind).to.equal('top');
    expect(
      nextStep({
        evidence: evidence([1]),
        policy: policy({ kind: 'mostRecent' }),
        scale,
        now,
        overridden: true,
      }).kind,
    ).to.equal('overridden');
    const more = step([3], { kind: 'mean' }, { minEvidence: 3 });
    expect(more).to.deep.equal({ kind: 'moreEvidence', needed: 2 });
    expect(nextStepText(more)).to.equal(
      'Complete 2 more scored pieces of work on this standard before a level is shown.',
    );
  });

  it('when there is no evidence yet, then the score that gives a first level is named', () => {
    const s = nextStep({
      evidence: [],
      policy: policy({ kind: 'mostRecent' }),
      scale,
      now,
      overridden: false,
    });
    expect(s.kind).to.equal('score');
  });
});
