import type { Assignment } from '../storage/courses/assignments.repository.ts';
import type { AlignmentServices } from './services.ts';
import { assignmentNotFound } from './errors.ts';

/**
 * What the course's assignment pages read, one call per page: the list (with each assignment's
 * number of aligned standards) and the alignment editor (aligned standards, search hits and
 * suggestions). Scoped by district and launched course like every alignment use case.
 */

export type { Assignment };

interface CourseScope {
  readonly tenantId: string;
  readonly courseId: string;
}

/** The course's assignments, and how many standards each has aligned. */
export async function courseAssignmentList(alignment: AlignmentServices, scope: CourseScope) {
  const [assignments, alignments] = await Promise.all([
    alignment.listAssignments(scope.tenantId, scope.courseId),
    alignment.alignmentsForCourse(scope.tenantId, scope.courseId),
  ]);
  const standardCounts = new Map<string, number>();
  for (const a of alignments)
    standardCounts.set(a.assignmentId, (standardCounts.get(a.assignmentId) ?? 0) + 1);
  return { assignments, standardCounts };
}

/**
 * One assignment's editor: its alignments and their standards, the hits of a search (`query`,
 * none when blank) and up to five suggestions not aligned yet. An assignment of another course is
 * not found (`AlignmentError`, 404).
 */
export async function assignmentEditor(
  alignment: AlignmentServices,
  scope: CourseScope,
  assignmentId: string,
  query: string,
) {
  const assignment = await alignment.getAssignment(scope.tenantId, scope.courseId, assignmentId);
  if (assignment === undefined) throw assignmentNotFound();
  const alignments = await alignment.alignmentsOf(scope.tenantId, scope.courseId, assignment.id);
  const aligned = new Set(alignments.map((a) => a.itemId));
  const standards = await alignment.describeStandards(scope.tenantId, [...aligned]);
  const results = query.trim() === '' ? [] : await alignment.searchStandards(scope.tenantId, query);
  const suggestions = await alignment.suggestStandards(
    scope.tenantId,
    { title: assignment.title, description: assignment.description },
    { limit: 5, exclude: aligned },
  );
  return { assignment, alignments, aligned, standards, results, suggestions };
}
