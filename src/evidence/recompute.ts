import type { Kysely, Transaction } from 'kysely';
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
  if (!full && scope.itemIds.length === 0) return 0;
  // One round trip: standards to visit, evidence, overrides, siblings' stored results.
  const input = await repo.loadForRecompute(
    tenantId,
    courseId,
    studentIds,
    scope.itemIds,
    policy.calculation.orderBy,
  );
  const { touched, evidence, overrides } = input;
  if (touched.length === 0) {
    if (full) await repo.deleteFor(tenantId, courseId, studentIds);
    return 0;
  }

  // Ancestry: every touched standard and its ancestors, with depth for bottom-up processing.
  const parentOf = new Map<string, string | null>();
  for (const row of input.items) parentOf.set(row.itemId, row.parentId);
  const depthOf = (itemId: string): number => {
    let depth = 0;
    let current = parentOf.get(itemId);
    while (current !== undefined && current !== null && depth < 50) {
      depth += 1;
      current = parentOf.get(current);
    }
    return depth;
  };
  const ancestors = new Set<string>();
  for (const itemId of touched) {
    let current = parentOf.get(itemId);
    while (current !== undefined && current !== null && !ancestors.has(current)) {
      ancestors.add(current);
      current = parentOf.get(current);
    }
  }
  // Children's stored results (siblings of what changed); none for a full recomputation.
  const stored = input.children;

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
          explanation: { kind: 'calculated', result: storedCalculated(result) },
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
              ? { kind: 'rollup', result: storedRollup(rolled) }
              : { kind: 'rollup', result: storedRollup(rolled), override: note },
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
  await repo.write(tenantId, courseId, writes, {
    replaceStudents: full ? studentIds : undefined,
    storedHashes: input.storedHashes,
  });
  return writes.length;
}

/**
 * ISO text of a date, cached: a class's evidence shares a handful of dates, and turning the same
 * date into text thousands of times is most of the cost of serialising explanations.
 */
const isoCache = new Map<number, string>();
function isoOf(date: Date): string {
  const time = date.getTime();
  let iso = isoCache.get(time);
  if (iso === undefined) {
    if (isoCache.size >= 10_000) isoCache.clear();
    iso = date.toISOString();
    isoCache.set(time, iso);
  }
  return iso;
}

/** A level as stored in explanations: what the views read (the scale keeps the colour). */
function storedLevel(level: ProficiencyLevel | undefined) {
  return level === undefined
    ? undefined
    : { id: level.id, label: level.label, value: level.value, mastered: level.mastered };
}

/**
 * The stored form of a calculated result (the contract in results.repository.ts): the full
 * explanation less what is stored elsewhere or re-derived when shown (evidence labels, the
 * duplicate `explanation.level`, level colours). Keys absent in the result stay absent.
 */
export function storedCalculated(result: MasteryResult) {
  const x = result.explanation;
  return {
    status: result.status,
    value: result.value,
    level: storedLevel(result.level),
    explanation: {
      method: x.method,
      orderBy: x.orderBy,
      minEvidence: x.minEvidence,
      rounding: x.rounding,
      used: x.used.map((u) => ({
        id: u.id,
        score: u.score,
        position: u.position,
        orderedAt: isoOf(u.orderedAt),
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
            level: storedLevel(result.override.level),
            reason: result.override.reason,
            by: result.override.by,
            at: result.override.at,
            computed: {
              status: result.override.computed.status,
              value: result.override.computed.value,
              level: storedLevel(result.override.computed.level),
            },
          },
  };
}

/** The stored form of a roll-up (levels lean, as for calculated results). */
export function storedRollup(result: RollUpResult) {
  return {
    status: result.status,
    value: result.value,
    level: storedLevel(result.level),
    explanation: result.explanation,
  };
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
