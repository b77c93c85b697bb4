import { cellExplanation, cellNumbers, computeCell, type CellOutcome } from '../policy/cell.ts';
import type { CoursePolicy } from '../policy/course-policy.ts';
import type { Evidence } from '../mastery/types.ts';
import type {
  AlignedAssignment,
  AncestorStandard,
  CourseStandard,
  EvidenceEntry,
  EvidencedCell,
  StudentResult,
} from './inputs.ts';
import { explanationView, isoDay, RECALCULATING, type ExplanationView } from './explanation.ts';
import { standardLabel } from './heatmap.ts';
import {
  cellView,
  formatValue,
  legendOf,
  levelAbbreviations,
  type CellView,
  type LevelLegendEntry,
} from './levels.ts';
import { nextStep, nextStepText } from './next-steps.ts';
import { renderTrendChart, type TrendPoint } from './trend-chart.ts';

/**
 * One student's standards, for the teacher's student detail and the student's (or mentor's)
 * progress page: level, trend chart with its text alternative, evidence, explanation, and what
 * to do next. Pure: the route loads the rows, this shapes them.
 */

const SOURCES: Readonly<Record<EvidenceEntry['source'], string>> = {
  teacher: 'Teacher entry',
  lms: 'LMS result',
  csv: 'CSV import',
};

export interface EvidenceRowView {
  readonly assignment: string;
  readonly date: string;
  readonly score: string;
  readonly excused: boolean;
  readonly comment: string;
  readonly source: string;
}

export interface AssignmentTodo {
  readonly title: string;
  readonly due: string;
}

export interface StandardDetailView {
  readonly id: string;
  readonly code: string;
  readonly statement: string;
  readonly fullStatement: string;
  readonly cell: CellView;
  readonly chartSvg: string;
  readonly chartRows: readonly { date: string; score: string; label: string }[];
  readonly evidence: readonly EvidenceRowView[];
  readonly explanation: ExplanationView;
  readonly todo: readonly AssignmentTodo[];
  readonly nextStep: string;
  readonly needsReassessment: boolean;
}

export interface DomainSummaryView {
  readonly code: string;
  readonly statement: string;
  readonly cell: CellView;
  readonly explanation: ExplanationView;
}

export interface StudentProgressView {
  readonly standards: readonly StandardDetailView[];
  readonly domains: readonly DomainSummaryView[];
  readonly legend: readonly LevelLegendEntry[];
  readonly masteredCount: number;
  readonly withLevelCount: number;
  readonly levelOptions: readonly { id: string; label: string; value: string }[];
}

export interface StudentProgressInput {
  readonly policy: CoursePolicy;
  readonly standards: readonly CourseStandard[];
  readonly ancestors: readonly AncestorStandard[];
  readonly results: readonly StudentResult[];
  readonly evidence: readonly EvidenceEntry[];
  readonly aligned: readonly AlignedAssignment[];
  readonly evidenced: readonly EvidencedCell[];
  readonly now: Date;
  /** Unique prefix of chart element ids on the page. */
  readonly chartIdPrefix: string;
}

export function evidenceDate(entry: EvidenceEntry): Date {
  return entry.assessedAt ?? entry.recordedAt;
}

/** The evidence as the calculation sees it (as `src/evidence/recompute.ts` builds it). */
export function toCalculationEvidence(entry: EvidenceEntry): Evidence {
  return {
    id: entry.id,
    score: entry.score,
    assessedAt: entry.assessedAt ?? undefined,
    dueAt: entry.dueAt ?? undefined,
    gradedAt: entry.gradedAt ?? undefined,
    lastGradedAt: entry.lastGradedAt ?? undefined,
    submittedAt: entry.submittedAt ?? undefined,
    recordedAt: entry.recordedAt,
    excused: entry.excused,
    label: entry.assignmentTitle,
  };
}

/**
 * The working behind each of a student's stored results, worked out again from the inputs the
 * recomputation used (evidence, override, the children's results, the policy) by the same pure
 * code (`src/policy/cell.ts`). A result whose inputs no longer give its stored numbers (a
 * recomputation after a policy change is still running) has no working yet rather than one that
 * contradicts the number shown.
 */
export function workingOf(
  policy: CoursePolicy,
  results: readonly StudentResult[],
  evidence: readonly EvidenceEntry[],
): Map<string, unknown> {
  const ownOf = new Map<string, Evidence[]>();
  for (const entry of evidence) {
    const list = ownOf.get(entry.itemId);
    if (list === undefined) ownOf.set(entry.itemId, [toCalculationEvidence(entry)]);
    else list.push(toCalculationEvidence(entry));
  }
  const childrenOf = new Map<string, Map<string, CellOutcome>>();
  for (const r of results) {
    if (r.parentId === undefined) continue;
    let children = childrenOf.get(r.parentId);
    if (children === undefined) {
      children = new Map<string, CellOutcome>();
      childrenOf.set(r.parentId, children);
    }
    children.set(r.itemId, {
      status: r.status,
      value: r.value,
      levelId: r.levelId,
      overridden: r.overridden,
    });
  }
  const working = new Map<string, unknown>();
  for (const r of results) {
    const cell = computeCell(
      { own: ownOf.get(r.itemId), override: r.override, children: childrenOf.get(r.itemId) },
      policy,
    );
    const numbers = cellNumbers(cell, policy);
    const agrees =
      numbers.status === r.status &&
      (numbers.value ?? undefined) === r.value &&
      (numbers.levelId ?? undefined) === r.levelId &&
      (numbers.computedValue ?? undefined) === r.computedValue &&
      numbers.overridden === r.overridden;
    if (agrees) working.set(r.itemId, cellExplanation(cell, policy));
  }
  return working;
}

export function buildStudentProgress(input: StudentProgressInput): StudentProgressView {
  const { policy } = input;
  const working = workingOf(policy, input.results, input.evidence);
  const scale = policy.scale;
  const abbreviations = levelAbbreviations(scale);
  const resultByItem = new Map(input.results.map((r) => [r.itemId, r]));
  const evidenceById = new Map(input.evidence.map((e) => [e.id, e]));
  const allStandards = new Map<string, CourseStandard>();
  for (const s of [...input.ancestors, ...input.standards]) allStandards.set(s.id, s);
  const names = {
    evidenceLabel: (id: string) => {
      const e = evidenceById.get(id);
      return e === undefined ? undefined : (e.assignmentTitle ?? 'Evidence without an assignment');
    },
    standardLabel: (id: string) => {
      const s = allStandards.get(id);
      return s === undefined ? undefined : standardLabel(s);
    },
    levelLabel: (id: string) => scale.levels.find((l) => l.id === id)?.label,
  };
  /** A stored result's working, or words saying why there is none yet. */
  const explain = (itemId: string, hasResult: boolean) =>
    explanationView(working.get(itemId), names, hasResult ? RECALCULATING : undefined);
  const done = new Set(input.evidenced.map((c) => `${c.assignmentId}|${c.itemId}`));

  const standards = input.standards.map((standard, index): StandardDetailView => {
    const result = resultByItem.get(standard.id);
    const cell = cellView(scale, abbreviations, result);
    const entries = input.evidence.filter((e) => e.itemId === standard.id);
    const points: TrendPoint[] = entries
      .filter((e) => e.score !== null && !e.excused)
      .map((e) => ({
        date: evidenceDate(e),
        score: e.score as number,
        label: e.assignmentTitle ?? 'Evidence without an assignment',
      }));
    const code = standardLabel(standard);
    const chartSvg = renderTrendChart({
      id: `${input.chartIdPrefix}-${index}`,
      title: `Scores over time for ${code}`,
      points,
      scale,
      mastery:
        cell.kind === 'level' && cell.value !== undefined
          ? { value: cell.value, label: cell.label }
          : undefined,
    });
    const todo = input.aligned
      .filter((a) => a.itemId === standard.id && !done.has(`${a.assignmentId}|${a.itemId}`))
      .map((a) => ({ title: a.title, due: a.dueAt === undefined ? '' : isoDay(a.dueAt) }));
    const step = nextStep({
      evidence: entries.map(toCalculationEvidence),
      policy: policy.calculation,
      scale,
      now: input.now,
      overridden: result?.overridden ?? false,
    });
    return {
      id: standard.id,
      code,
      statement: standard.statement,
      fullStatement: standard.fullStatement,
      cell,
      chartSvg,
      chartRows: points.map((p) => ({
        date: isoDay(p.date),
        score: formatValue(p.score),
        label: p.label,
      })),
      evidence: entries.map((e) => ({
        assignment: e.assignmentTitle ?? 'Evidence without an assignment',
        date: isoDay(evidenceDate(e)),
        score:
          e.score === null
            ? 'Not scored'
            : `${formatValue(e.score)}${e.points !== null && e.pointsPossible !== null ? ` (${formatValue(e.points)} of ${formatValue(e.pointsPossible)} points)` : ''}`,
        excused: e.excused,
        comment: e.comment ?? '',
        source: SOURCES[e.source],
      })),
      explanation: explain(standard.id, result !== undefined),
      todo,
      nextStep:
        cell.mastered && step.kind !== 'top' && step.kind !== 'overridden'
          ? `You have mastered this standard. ${nextStepText(step)}`
          : nextStepText(step),
      needsReassessment: !cell.mastered && todo.length === 0,
    };
  });

  const domains = input.ancestors
    .map((a) => ({ ancestor: a, result: resultByItem.get(a.id) }))
    .filter((d) => d.result !== undefined)
    .map(({ ancestor, result }) => ({
      code: standardLabel(ancestor),
      statement: ancestor.statement,
      cell: cellView(scale, abbreviations, result),
      explanation: explain(ancestor.id, result !== undefined),
    }));

  return {
    standards,
    domains,
    legend: legendOf(scale),
    masteredCount: standards.filter((s) => s.cell.mastered).length,
    withLevelCount: standards.filter((s) => s.cell.kind === 'level').length,
    levelOptions: scale.levels.map((l) => ({
      id: l.id,
      label: l.label,
      value: formatValue(l.value),
    })),
  };
}
