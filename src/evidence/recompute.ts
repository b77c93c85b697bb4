import type { Kysely, Transaction } from 'kysely';
import {
  applyOverride,
  calculateMastery,
  findLevel,
  levelForValue,
  rollUpStandard,
  type Evidence,
  type MasteryResult,
  type RollUpChild,
} from '../mastery/index.ts';
import {
  createMasteryResultsRepository,
  type EvidenceForCalculation,
  type OverrideRow,
  type ResultWrite,
} from '../storage/mastery/results.repository.ts';
import type { Database } from '../storage/schema.ts';
import type { CoursePolicy } from './course-policy.ts';

type Db = Kysely<Database> | Transaction<Database>;

export interface RecomputeScope {
  readonly tenantId: string;
  readonly courseId: string;
  readonly studentIds: readonly string[];
  /**
   * The standards whose evidence or override changed (incremental), or `undefined` for every
   * standard the students have evidence or overrides on (full: their results are rewritten).
   */
  readonly itemIds?: readonly string[] | undefined;
}

/** A child's stored or fresh outcome, as roll-ups need it. */
interface CellOutcome {
  readonly status: MasteryResult['status'];
  readonly value: number | undefined;
  readonly levelId: string | undefined;
  readonly overridden: boolean;
}

const key = (studentId: string, itemId: string): string => `${studentId}|${itemId}`;

function toEvidence(row: EvidenceForCalculation): Evidence {
  return {
    id: row.id,
    score: row.score,
    assessedAt: row.assessedAt ?? undefined,
    dueAt: row.dueAt ?? undefined,
    gradedAt: row.gradedAt ?? undefined,
    recordedAt: row.recordedAt,
    excused: row.excused,
    label: row.label ?? undefined,
  };
}

/**
 * Recomputes the mastery results of some cells inside the caller's transaction, then the roll-ups
 * of every ancestor of those standards (deepest first, so a domain sees its clusters' new values).
 *
 * A standard with its own (current) evidence is calculated from it; a standard without any but
 * with children that have results in the course is rolled up from them; overrides are applied on
 * top of either. Returns the number of result rows written.
 */
export async function recomputeCells(
  db: Db,
  policy: CoursePolicy,
  scope: RecomputeScope,
  now: () => Date,
): Promise<number> {
  const { tenantId, courseId, studentIds } = scope;
  if (studentIds.length === 0) return 0;
  const repo = createMasteryResultsRepository(db, now);
  const full = scope.itemIds === undefined;
  const touched = full ? await repo.itemsFor(tenantId, courseId, studentIds) : scope.itemIds;
  if (touched.length === 0) {
    if (full) await repo.deleteFor(tenantId, courseId, studentIds);
    return 0;
  }

  // Ancestry: every touched standard and its ancestors, with depth for bottom-up processing.
  const ancestry = await repo.ancestry(tenantId, touched);
  const parentOf = new Map<string, string | null>();
  for (const row of ancestry) parentOf.set(row.itemId, row.parentId);
  const depthOf = (itemId: string): number => {
    let depth = 0;
    let current = parentOf.get(itemId);
    while (current !== undefined && current !== null && depth < 50) {
      depth += 1;
      current = parentOf.get(current);
    }
    return depth;
  };
  const allItems = [...parentOf.keys()];
  const ancestors = new Set<string>();
  for (const itemId of touched) {
    let current = parentOf.get(itemId);
    while (current !== undefined && current !== null && !ancestors.has(current)) {
      ancestors.add(current);
      current = parentOf.get(current);
    }
  }

  const [evidence, overrides] = await Promise.all([
    repo.evidenceFor(tenantId, courseId, studentIds, full ? undefined : allItems),
    repo.overridesFor(tenantId, courseId, studentIds, full ? undefined : allItems),
  ]);
  if (full) await repo.deleteFor(tenantId, courseId, studentIds);
  // Children's stored results (siblings of what changed); empty after a full delete.
  const stored = await repo.childResults(tenantId, courseId, studentIds, [...ancestors]);

  const evidenceByCell = new Map<string, Evidence[]>();
  for (const row of evidence) {
    const k = key(row.studentId, row.itemId);
    const list = evidenceByCell.get(k);
    if (list === undefined) evidenceByCell.set(k, [toEvidence(row)]);
    else list.push(toEvidence(row));
  }
  const overrideByCell = new Map<string, OverrideRow>();
  for (const row of overrides) overrideByCell.set(key(row.studentId, row.itemId), row);

  // Children per parent: stored results first, fresh ones replace them as they are computed.
  const childrenOf = new Map<string, Map<string, Map<string, CellOutcome>>>(); // parent → student → child
  const setChild = (studentId: string, itemId: string, outcome: CellOutcome): void => {
    const parent = parentOf.get(itemId);
    if (parent === undefined || parent === null) return;
    let byStudent = childrenOf.get(parent);
    if (byStudent === undefined) {
      byStudent = new Map<string, Map<string, CellOutcome>>();
      childrenOf.set(parent, byStudent);
    }
    let children = byStudent.get(studentId);
    if (children === undefined) {
      children = new Map<string, CellOutcome>();
      byStudent.set(studentId, children);
    }
    children.set(itemId, outcome);
  };
  for (const row of stored) {
    parentOf.set(row.itemId, row.parentId);
    setChild(row.studentId, row.itemId, {
      status: row.status,
      value: row.value ?? undefined,
      levelId: row.levelId ?? undefined,
      overridden: row.overridden,
    });
  }

  const { calculation, scale, rollup } = policy;
  const touchedSet = new Set(touched);
  const order = [...new Set([...touched, ...ancestors])].sort((a, b) => depthOf(b) - depthOf(a));
  const writes: ResultWrite[] = [];
  for (const itemId of order) {
    const isTouched = touchedSet.has(itemId);
    for (const studentId of studentIds) {
      const k = key(studentId, itemId);
      const own = evidenceByCell.get(k);
      const override = overrideByCell.get(k);
      const children = childrenOf.get(itemId)?.get(studentId);
      let write: ResultWrite;
      if (own !== undefined || children === undefined || children.size === 0) {
        // Full recomputes only visit cells that have something; incremental ones rewrite every
        // touched cell (a withdrawn last evidence leaves a noEvidence row) but skip untouched
        // ancestors that have nothing to roll up.
        if (own === undefined && override === undefined && !isTouched) continue;
        if (own === undefined && override === undefined && full) continue;
        let result = calculateMastery(own ?? [], calculation, scale);
        if (override !== undefined) {
          result = applyOverride(
            result,
            {
              value: override.value,
              reason: override.reason,
              by: override.setBy,
              at: override.setAt,
            },
            scale,
          );
        }
        write = {
          studentId,
          itemId,
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
          explanation: { kind: 'calculated', result },
        };
      } else {
        const rollChildren: RollUpChild[] = [...children].map(([childId, outcome]) => ({
          standardId: childId,
          result: asRollUpInput(outcome, scale),
        }));
        rollChildren.sort((a, b) => (a.standardId < b.standardId ? -1 : 1));
        const rolled = rollUpStandard(rollChildren, rollup, scale, calculation.rounding);
        let value = rolled.value ?? null;
        let level = rolled.level;
        let note;
        if (override !== undefined) {
          value = override.value;
          level = levelForValue(override.value, scale);
          note = {
            value: override.value,
            levelId: level.id,
            reason: override.reason,
            by: override.setBy,
            at: override.setAt.toISOString(),
          };
        }
        write = {
          studentId,
          itemId,
          status: override !== undefined ? 'mastery' : rolled.status,
          value,
          levelId: level?.id ?? null,
          mastered: level?.mastered ?? false,
          computedValue: rolled.value ?? null,
          overridden: override !== undefined,
          evidenceCount: rolled.explanation.used.length,
          explanation:
            note === undefined
              ? { kind: 'rollup', result: rolled }
              : { kind: 'rollup', result: rolled, override: note },
        };
      }
      writes.push(write);
      setChild(studentId, itemId, {
        status: write.status,
        value: write.value ?? undefined,
        levelId: write.levelId ?? undefined,
        overridden: write.overridden,
      });
    }
  }
  await repo.write(tenantId, courseId, writes);
  return writes.length;
}

/**
 * A child's stored outcome in the shape `rollUpStandard` reads (status, value, level, whether
 * overridden); the child's own explanation stays in its row and is not needed here.
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
