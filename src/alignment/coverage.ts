import type { Kysely } from 'kysely';
import { findItemsByIds, listFrameworks, loadTree, type StoredItem } from '../standards/queries.ts';
import type { Database } from '../storage/schema.ts';
import type { CourseAssignmentRepository } from '../storage/courses/assignments.repository.ts';
import { summarize, type StandardSummary } from './picker.ts';

/** Fewer aligned assignments than this is "thin": one piece of evidence is not a pattern. */
export const THIN_EVIDENCE_BELOW = 2;
/** Rows shown at once; a larger framework is narrowed by its top-level groups. */
export const COVERAGE_ROW_LIMIT = 400;

export type CoverageStatus = 'none' | 'thin' | 'covered';

export interface CoverageCell {
  readonly assignmentId: string;
  readonly aligned: boolean;
  readonly weight: number | undefined;
  readonly points: number | undefined;
}

export interface CoverageRow {
  readonly standard: StandardSummary;
  readonly cells: readonly CoverageCell[];
  readonly count: number;
  readonly status: CoverageStatus;
}

export interface CoverageMatrix {
  readonly frameworks: readonly { id: string; title: string; selected: boolean }[];
  readonly groups: readonly { id: string; label: string; selected: boolean }[];
  readonly assignments: readonly { id: string; title: string }[];
  readonly rows: readonly CoverageRow[];
  readonly totals: Readonly<Record<CoverageStatus, number>>;
  /** More standards matched than fit: narrow by group. */
  readonly truncated: boolean;
}

export function coverageStatus(count: number): CoverageStatus {
  if (count === 0) return 'none';
  return count < THIN_EVIDENCE_BELOW ? 'thin' : 'covered';
}

/**
 * Assignments × standards of one framework (by default the one the course aligns to most): the
 * framework's leaf standards (those with no current children), each with the course's assignments
 * aligned to it and a status: none, thin (fewer than two) or covered.
 */
export async function courseCoverage(
  db: Kysely<Database>,
  repository: CourseAssignmentRepository,
  request: {
    readonly tenantId: string;
    readonly courseId: string;
    readonly frameworkId?: string | undefined;
    readonly groupId?: string | undefined;
  },
): Promise<CoverageMatrix> {
  const { tenantId, courseId } = request;
  const [frameworks, assignments, alignments] = await Promise.all([
    listFrameworks(db, tenantId),
    repository.list(tenantId, courseId),
    repository.listAlignments(tenantId, courseId),
  ]);
  const current = new Set(assignments.map((a) => a.id));
  const live = alignments.filter((a) => current.has(a.assignmentId));
  const alignedItems = new Set(live.map((a) => a.itemId));

  let selected = frameworks.find((f) => f.id === request.frameworkId);
  if (selected === undefined && frameworks.length > 0) {
    // The framework holding most of the course's alignments; the first one otherwise.
    const aligned = await findItemsByIds(db, tenantId, [...alignedItems]);
    const perFramework = new Map<string, number>();
    for (const stored of aligned) {
      perFramework.set(stored.frameworkId, (perFramework.get(stored.frameworkId) ?? 0) + 1);
    }
    let best = -1;
    for (const framework of frameworks) {
      const hits = perFramework.get(framework.id) ?? 0;
      if (hits > best) {
        best = hits;
        selected = framework;
      }
    }
  }
  const empty = { none: 0, thin: 0, covered: 0 };
  const assignmentColumns = assignments.map((a) => ({ id: a.id, title: a.title }));
  if (selected === undefined) {
    return {
      frameworks: [],
      groups: [],
      assignments: assignmentColumns,
      rows: [],
      totals: empty,
      truncated: false,
    };
  }
  const tree = await loadTree(db, tenantId, selected.id);
  const topLevel = tree.filter((s) => s.parentId === null);
  const group = topLevel.find((s) => s.id === request.groupId);
  const parents = new Set(tree.map((s) => s.parentId).filter((id) => id !== null));
  const parentOf = new Map(tree.map((s) => [s.id, s.parentId]));
  const inGroup = (stored: StoredItem): boolean => {
    if (group === undefined) return true;
    let at: string | null | undefined = stored.id;
    while (at !== null && at !== undefined) {
      if (at === group.id) return true;
      at = parentOf.get(at);
    }
    return false;
  };
  const leaves = tree.filter((s) => !parents.has(s.id) && inGroup(s));
  type Cell = { weight: number; points: number | undefined };
  const byItem = new Map<string, Map<string, Cell>>();
  for (const a of live) {
    const cells = byItem.get(a.itemId) ?? new Map<string, Cell>();
    cells.set(a.assignmentId, { weight: a.weight, points: a.points });
    byItem.set(a.itemId, cells);
  }
  const totals = { ...empty };
  const rows: CoverageRow[] = [];
  for (const leaf of leaves) {
    const cells = byItem.get(leaf.id);
    const count = cells?.size ?? 0;
    const status = coverageStatus(count);
    totals[status] += 1;
    if (rows.length >= COVERAGE_ROW_LIMIT) continue;
    rows.push({
      standard: summarize(leaf, selected.title),
      cells: assignments.map((a) => {
        const cell = cells?.get(a.id);
        return {
          assignmentId: a.id,
          aligned: cell !== undefined,
          weight: cell?.weight,
          points: cell?.points,
        };
      }),
      count,
      status,
    });
  }
  return {
    frameworks: frameworks.map((f) => ({
      id: f.id,
      title: f.title,
      selected: f.id === selected.id,
    })),
    groups: topLevel.map((s) => ({
      id: s.id,
      label: [s.item.code, s.item.abbreviatedStatement ?? s.item.fullStatement]
        .filter((part) => part !== undefined && part !== '')
        .join(' ')
        .slice(0, 120),
      selected: s.id === group?.id,
    })),
    assignments: assignmentColumns,
    rows,
    totals,
    truncated: leaves.length > rows.length,
  };
}
