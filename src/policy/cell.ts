import {
  applyOverride,
  calculateMastery,
  findLevel,
  levelForValue,
  rollUpStandard,
  type Evidence,
  type MasteryResult,
  type ProficiencyLevel,
  type RollUpChild,
  type RollUpResult,
} from '../mastery/index.ts';
import type { ResultWrite } from '../storage/mastery/results.repository.ts';
import type { StoredMasteryStatus } from '../storage/mastery/schema.ts';
import type { CoursePolicy } from './course-policy.ts';

/**
 * One mastery cell (student × standard), worked out from its inputs. Pure: the recomputation
 * (`src/evidence/recompute.ts`) runs it to store the cell's numbers, and the student pages run it again on the
 * same inputs to show the working ("show your work"), so the two can never disagree about how a
 * cell is calculated.
 *
 * A standard with its own evidence is calculated from it; a standard without any but with
 * children that have results is rolled up from them; an override is applied on top of either.
 */

/** A child's stored or fresh outcome, as roll-ups need it. */
export interface CellOutcome {
  readonly status: StoredMasteryStatus;
  readonly value: number | undefined;
  readonly levelId: string | undefined;
  readonly overridden: boolean;
}

/** A teacher's override of the cell. */
export interface CellOverride {
  readonly value: number;
  readonly reason: string;
  readonly setBy: string;
  readonly setAt: Date;
}

export interface CellInputs {
  /** The cell's current evidence (any order), or undefined when it has none. */
  readonly own: readonly Evidence[] | undefined;
  readonly override: CellOverride | undefined;
  /** The student's results on the standard's children, by child standard id. */
  readonly children: ReadonlyMap<string, CellOutcome> | undefined;
}

export type CellComputation =
  | { readonly kind: 'calculated'; readonly result: MasteryResult }
  | {
      readonly kind: 'rollup';
      readonly result: RollUpResult;
      readonly override: CellOverride | undefined;
    };

/**
 * The numbers stored for a cell (`mastery_results`): status, value, level and whether mastered
 * (the override when there is one), the computed value before any override, and the evidence
 * (children, for a roll-up) the method used.
 */
export type CellNumbers = Omit<ResultWrite, 'studentId' | 'itemId'>;

/** Whether a cell is calculated from evidence (rather than rolled up from children). */
export function isCalculated(inputs: CellInputs): boolean {
  return inputs.own !== undefined || inputs.children === undefined || inputs.children.size === 0;
}

export function computeCell(inputs: CellInputs, policy: CoursePolicy): CellComputation {
  const { calculation, scale, rollup } = policy;
  const { override } = inputs;
  if (isCalculated(inputs)) {
    let result = calculateMastery(inputs.own ?? [], calculation, scale);
    if (override !== undefined) {
      result = applyOverride(
        result,
        { value: override.value, reason: override.reason, by: override.setBy, at: override.setAt },
        scale,
      );
    }
    return { kind: 'calculated', result };
  }
  const children: RollUpChild[] = [];
  for (const [standardId, outcome] of inputs.children ?? []) {
    children.push({ standardId, result: asRollUpInput(outcome, scale) });
  }
  children.sort((a, b) => (a.standardId < b.standardId ? -1 : 1));
  return {
    kind: 'rollup',
    result: rollUpStandard(children, rollup, scale, calculation.rounding),
    override,
  };
}

export function cellNumbers(cell: CellComputation, policy: CoursePolicy): CellNumbers {
  if (cell.kind === 'calculated') {
    const { result } = cell;
    return {
      status: result.status,
      value: result.value ?? null,
      levelId: result.level?.id ?? null,
      mastered: result.level?.mastered ?? false,
      computedValue:
        result.override === undefined
          ? (result.value ?? null)
          : (result.override.computed.value ?? null),
      overridden: result.override !== undefined,
      evidenceCount: result.explanation.used.length,
    };
  }
  const { result, override } = cell;
  const level = override === undefined ? result.level : levelForValue(override.value, policy.scale);
  return {
    status: override === undefined ? result.status : 'mastery',
    value: override === undefined ? (result.value ?? null) : override.value,
    levelId: level?.id ?? null,
    mastered: level?.mastered ?? false,
    computedValue: result.value ?? null,
    overridden: override !== undefined,
    evidenceCount: result.explanation.used.length,
  };
}

/** The cell's outcome as a parent's roll-up reads it. */
export function outcomeOf(numbers: CellNumbers): CellOutcome {
  return {
    status: numbers.status,
    value: numbers.value ?? undefined,
    levelId: numbers.levelId ?? undefined,
    overridden: numbers.overridden,
  };
}

/** A level as the views read it (the scale keeps the colour). */
function leanLevel(level: ProficiencyLevel | undefined) {
  return level === undefined
    ? undefined
    : { id: level.id, label: level.label, value: level.value, mastered: level.mastered };
}

/**
 * The cell's working as JSON-shaped data, the form `src/mastery-views/explanation.ts` parses:
 *
 * ```
 * { "kind": "calculated", "result": MasteryResult }
 *     levels as { id, label, value, mastered }; evidence in used/ignored named by id (the views
 *     name it by the assignment's current title); dates as ISO strings.
 * { "kind": "rollup", "result": RollUpResult, "override"?: { value, levelId, reason, by, at } }
 * ```
 */
export function cellExplanation(cell: CellComputation, policy: CoursePolicy): unknown {
  if (cell.kind === 'rollup') {
    const { result, override } = cell;
    const rolled = {
      status: result.status,
      value: result.value,
      level: leanLevel(result.level),
      explanation: result.explanation,
    };
    if (override === undefined) return { kind: 'rollup', result: rolled };
    return {
      kind: 'rollup',
      result: rolled,
      override: {
        value: override.value,
        levelId: levelForValue(override.value, policy.scale).id,
        reason: override.reason,
        by: override.setBy,
        at: override.setAt.toISOString(),
      },
    };
  }
  const { result } = cell;
  const x = result.explanation;
  return {
    kind: 'calculated',
    result: {
      status: result.status,
      value: result.value,
      level: leanLevel(result.level),
      explanation: {
        method: x.method,
        orderBy: x.orderBy,
        minEvidence: x.minEvidence,
        rounding: x.rounding,
        used: x.used.map((u) => ({
          id: u.id,
          score: u.score,
          position: u.position,
          orderedAt: u.orderedAt.toISOString(),
          orderedBy: u.orderedBy,
          weight: u.weight,
        })),
        ignored: x.ignored.map((i) => ({ id: i.id, score: i.score, reason: i.reason })),
        intermediates: x.intermediates,
        rawValue: x.rawValue,
        value: x.value,
        steps: x.steps,
        studentSummary: x.studentSummary,
      },
      override:
        result.override === undefined
          ? undefined
          : {
              value: result.override.value,
              level: leanLevel(result.override.level),
              reason: result.override.reason,
              by: result.override.by,
              at: result.override.at.toISOString(),
              computed: {
                status: result.override.computed.status,
                value: result.override.computed.value,
                level: leanLevel(result.override.computed.level),
              },
            },
    },
  };
}

/**
 * A child's outcome in the shape `rollUpStandard` reads (status, value, level, whether
 * overridden); the child's own working is not needed here.
 */
function asRollUpInput(
  outcome: CellOutcome,
  scale: CoursePolicy['scale'],
): MasteryResult | undefined {
  if (outcome.status !== 'mastery' || outcome.value === undefined) {
    return { status: outcome.status, explanation: EMPTY_EXPLANATION };
  }
  let level;
  try {
    level =
      outcome.levelId === undefined
        ? levelForValue(outcome.value, scale)
        : findLevel(outcome.levelId, scale);
  } catch {
    // A level id from an older scale: place the value on the current one.
    level = levelForValue(outcome.value, scale);
  }
  return {
    status: 'mastery',
    value: outcome.value,
    level,
    explanation: EMPTY_EXPLANATION,
    override: outcome.overridden
      ? {
          value: outcome.value,
          level,
          reason: '',
          by: '',
          at: new Date(0),
          computed: { status: outcome.status },
        }
      : undefined,
  };
}

const EMPTY_EXPLANATION: MasteryResult['explanation'] = Object.freeze({
  method: { kind: 'mostRecent' as const },
  orderBy: 'recorded' as const,
  minEvidence: 0,
  rounding: { mode: 'none' as const },
  used: [],
  ignored: [],
  intermediates: {},
  steps: [],
  studentSummary: '',
});
