import type { Kysely, Transaction } from 'kysely';
import type { Evidence } from '../mastery/index.ts';
import {
  createMasteryResultsRepository,
  type OverrideRow,
  type ResultWrite,
} from '../storage/mastery/results.repository.ts';
import type { Database } from '../storage/schema.ts';
import { cellNumbers, computeCell, outcomeOf, type CellOutcome } from '../policy/cell.ts';
import type { CoursePolicy } from '../policy/course-policy.ts';

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

const key = (studentId: string, itemId: string): string => `${studentId}|${itemId}`;

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
    // Nothing left to compute: a full recomputation leaves these students no results.
    if (full) await repo.write(tenantId, courseId, [], { replaceStudents: studentIds });
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
  for (const cell of evidence) evidenceByCell.set(key(cell.studentId, cell.itemId), cell.evidence);
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
      if (own === undefined && override === undefined && (children?.size ?? 0) === 0) {
        // Nothing to calculate or roll up. Incremental recomputes still rewrite a touched cell
        // (a withdrawn last evidence leaves a noEvidence row); full ones and untouched
        // ancestors skip it.
        if (!isTouched || full) continue;
      }
      const numbers = cellNumbers(computeCell({ own, override, children }, policy), policy);
      writes.push({ studentId, itemId, ...numbers });
      setChild(studentId, itemId, outcomeOf(numbers));
    }
  }
  await repo.write(tenantId, courseId, writes, {
    replaceStudents: full ? studentIds : undefined,
  });
  return writes.length;
}
