import type { AreaDeps } from '../area-deps.ts';
import { isUuid } from '../ids.ts';
import {
  createMasteryViewsRepository,
  type CourseStudent,
} from '../storage/mastery/views.repository.ts';
import { loadCoursePolicy } from '../policy/store.ts';

/**
 * Reads of a course's mastery for the mastery pages (class heatmap, pathways, a student's
 * progress): rows only; the pure presenters of `src/mastery-views/` turn them into view-models.
 * They live here, not in `mastery-views/`, because that folder stays free of storage.
 *
 * Access: tenant and course always come from the session; a student id from a URL is looked up
 * in the course, never trusted.
 */

export type { CourseStudent };

type Deps = Pick<AreaDeps, 'db'>;

interface CourseScope {
  readonly tenantId: string;
  readonly courseId: string;
}

/** The class: the course's policy, students, standards (with ancestors) and current results. */
export async function loadClassMastery(deps: Deps, { tenantId, courseId }: CourseScope) {
  const views = createMasteryViewsRepository(deps.db);
  const [policy, students, standards, results] = await Promise.all([
    loadCoursePolicy(deps.db, tenantId, courseId),
    views.students(tenantId, courseId),
    views.standards(tenantId, courseId),
    views.resultCells(tenantId, courseId),
  ]);
  const ancestors = await views.ancestors(
    tenantId,
    standards.map((s) => s.id),
  );
  return { policy, students, standards, results, ancestors };
}

/** What pathways add to the class: aligned assignments, and the cells with evidence. */
export async function loadPathwayEvidence(deps: Deps, { tenantId, courseId }: CourseScope) {
  const views = createMasteryViewsRepository(deps.db);
  const [aligned, evidenced] = await Promise.all([
    views.alignedAssignments(tenantId, courseId),
    views.evidencedCells(tenantId, courseId),
  ]);
  return { aligned, evidenced };
}

/** One student's progress inputs: policy, standards, results and evidence ("show your work"). */
export async function loadStudentMastery(
  deps: Deps,
  { tenantId, courseId }: CourseScope,
  studentId: string,
) {
  const views = createMasteryViewsRepository(deps.db);
  const [policy, standards, results, evidence, aligned, evidenced] = await Promise.all([
    loadCoursePolicy(deps.db, tenantId, courseId),
    views.standards(tenantId, courseId),
    views.studentResults(tenantId, courseId, studentId),
    views.studentEvidence(tenantId, courseId, studentId),
    views.alignedAssignments(tenantId, courseId),
    views.evidencedCells(tenantId, courseId, studentId),
  ]);
  const ancestors = await views.ancestors(
    tenantId,
    standards.map((s) => s.id),
  );
  return { policy, standards, ancestors, results, evidence, aligned, evidenced };
}

/** A student of the course by tool user id, or undefined (not a UUID, not in this course). */
export async function findCourseStudent(
  deps: Deps,
  { tenantId, courseId }: CourseScope,
  studentId: string,
): Promise<CourseStudent | undefined> {
  if (!isUuid(studentId)) return undefined;
  return createMasteryViewsRepository(deps.db).student(tenantId, courseId, studentId);
}

/** The course's students a mentor is linked to (a mentor may see only these). */
export async function linkedStudents(
  deps: Deps,
  { tenantId, courseId }: CourseScope,
  mentorId: string,
): Promise<CourseStudent[]> {
  const views = createMasteryViewsRepository(deps.db);
  const linked = new Set(await views.mentorStudentIds(tenantId, courseId, mentorId));
  return (await views.students(tenantId, courseId)).filter((s) => linked.has(s.id));
}
