import type { ProficiencyScale } from '../mastery/types.ts';
import type {
  AlignedAssignment,
  CourseStandard,
  CourseStudent,
  EvidencedCell,
  ResultCell,
} from './inputs.ts';
import { isoDay } from './explanation.ts';
import { standardLabel } from './heatmap.ts';
import { cellView, levelAbbreviations, type CellView } from './levels.ts';

/**
 * Pathways: for each student, the standards not yet mastered (by the scale's `mastered` flags)
 * and the aligned assignments that could still show them (no current evidence on that
 * assignment × standard yet). With none left, the standard "needs a re-assessment".
 */

export interface PathwayItem {
  readonly standardId: string;
  readonly code: string;
  readonly statement: string;
  readonly cell: CellView;
  readonly assignments: readonly { title: string; due: string }[];
  readonly needsReassessment: boolean;
}

export interface StudentPathway {
  readonly studentId: string;
  readonly name: string;
  readonly items: readonly PathwayItem[];
  readonly masteredCount: number;
}

export function buildPathways(input: {
  readonly scale: ProficiencyScale;
  readonly students: readonly CourseStudent[];
  readonly standards: readonly CourseStandard[];
  readonly results: readonly ResultCell[];
  readonly aligned: readonly AlignedAssignment[];
  readonly evidenced: readonly EvidencedCell[];
}): StudentPathway[] {
  const abbreviations = levelAbbreviations(input.scale);
  const results = new Map(input.results.map((r) => [`${r.studentId}|${r.itemId}`, r]));
  const done = new Set(input.evidenced.map((c) => `${c.studentId}|${c.assignmentId}|${c.itemId}`));
  const alignedByItem = new Map<string, AlignedAssignment[]>();
  for (const a of input.aligned) {
    const list = alignedByItem.get(a.itemId) ?? [];
    list.push(a);
    alignedByItem.set(a.itemId, list);
  }
  return input.students.map((student) => {
    const items: PathwayItem[] = [];
    let masteredCount = 0;
    for (const standard of input.standards) {
      const cell = cellView(
        input.scale,
        abbreviations,
        results.get(`${student.id}|${standard.id}`),
      );
      if (cell.mastered) {
        masteredCount += 1;
        continue;
      }
      const assignments = (alignedByItem.get(standard.id) ?? [])
        .filter((a) => !done.has(`${student.id}|${a.assignmentId}|${standard.id}`))
        .map((a) => ({ title: a.title, due: a.dueAt === undefined ? '' : isoDay(a.dueAt) }));
      items.push({
        standardId: standard.id,
        code: standardLabel(standard),
        statement: standard.statement,
        cell,
        assignments,
        needsReassessment: assignments.length === 0,
      });
    }
    return { studentId: student.id, name: student.name, items, masteredCount };
  });
}
