import type { Request, RequestHandler, Response, Router } from 'express';
import type { AppServices } from '../../app-services.ts';
import type { Logger } from '../../logger.ts';
import type { Course } from '../../courses/launched-course.ts';
import { HttpError } from '../errors.ts';
import { roleLabel, viewer, type ToolViewer } from '../middleware/session.ts';

/** What every course page module gets. */
export interface CoursePageDeps {
  readonly services: AppServices;
  readonly logger: Logger;
  readonly publicUrl: string;
}

/** A function that adds its pages to the session router (`/s/:sessionToken/...`). */
export type CoursePages = (router: Router, deps: CoursePageDeps) => void;

/** A named course-page handler: its dependencies are passed, never captured in a closure. */
export type CourseHandler = (deps: CoursePageDeps, req: Request, res: Response) => Promise<void>;

/** Binds a named handler to the page module's dependencies, for `router.get(path, …, handler)`. */
export const withDeps =
  (deps: CoursePageDeps, handler: CourseHandler): RequestHandler =>
  (req, res) =>
    handler(deps, req, res);

/** Keys of the course navigation; a page passes its own to mark it current. */
export type CourseNavKey =
  'course' | 'roster' | 'assignments' | 'evidence' | 'mastery' | 'sync' | 'progress' | 'admin';

/** The `tool` layout's model for a course page: navigation by role, viewer, base, CSRF secret. */
export function layoutModel(v: ToolViewer, current: CourseNavKey) {
  const teacher = v.isInstructor || v.isAdministrator;
  const items: { key: CourseNavKey; href: string; label: string; show: boolean }[] = [
    { key: 'course', href: `${v.base}/course`, label: 'Course', show: true },
    {
      key: 'assignments',
      href: `${v.base}/course/assignments`,
      label: 'Assignments',
      show: teacher,
    },
    { key: 'evidence', href: `${v.base}/course/evidence`, label: 'Evidence', show: teacher },
    { key: 'mastery', href: `${v.base}/course/mastery`, label: 'Class mastery', show: teacher },
    {
      key: 'progress',
      href: `${v.base}/course/progress`,
      label: v.isMentor && !teacher ? 'Progress' : 'My progress',
      show: !teacher && (v.isLearner || v.isMentor),
    },
    { key: 'sync', href: `${v.base}/course/sync`, label: 'Grade sync', show: teacher },
    { key: 'roster', href: `${v.base}/course/roster`, label: 'Roster', show: teacher },
    { key: 'admin', href: `${v.base}/admin`, label: 'District admin', show: v.isAdministrator },
  ];
  return {
    layout: 'tool',
    nav: items
      .filter((item) => item.show)
      .map((item) => ({ href: item.href, label: item.label, current: item.key === current })),
    viewer: { name: v.user.name ?? 'Signed in', roleLabel: roleLabel(v) },
    base: v.base,
    csrf: v.session.csrfSecret,
  };
}

/** The launched course, or a 404 page that says what to do. Always scoped to the viewer's district. */
export async function courseOf(services: AppServices, v: ToolViewer): Promise<Course> {
  if (v.session.courseId === undefined) {
    throw new HttpError(
      404,
      'not_found',
      'This launch did not come from a course. Open Mastery Pathways from a course in your LMS.',
    );
  }
  const course = await services.courses.findCourseById(v.tenantId, v.session.courseId);
  if (course === undefined) throw new HttpError(404, 'not_found', 'This course is not known here.');
  return course;
}

/** The viewer of a course page and the course they launched (else a 404 that says what to do). */
export async function launchedCourse(
  deps: CoursePageDeps,
  req: Request,
): Promise<{ v: ToolViewer; course: Course }> {
  const v = viewer(req);
  return { v, course: await courseOf(deps.services, v) };
}
