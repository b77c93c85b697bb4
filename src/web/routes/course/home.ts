import type { Request, Response } from 'express';
import { viewer } from '../../middleware/session.ts';
import { courseOf, layoutModel, type CoursePageDeps } from '../course-layout.ts';

/** The course's home page. */

/** GET the course home: what the launch gave (roster, gradebook) and where to go next. */
export async function showCourseHome(
  deps: CoursePageDeps,
  req: Request,
  res: Response,
): Promise<void> {
  const v = viewer(req);
  const course = await courseOf(deps.services, v);
  res.render('course/home', {
    ...layoutModel(v, 'course'),
    title: course.title ?? 'Course',
    course: { title: course.title ?? 'Untitled course', label: course.label },
    isTeacher: v.isInstructor || v.isAdministrator,
    hasRoster: course.nrpsMembershipsUrl !== undefined,
    hasGradebook: course.agsLineItemsUrl !== undefined,
  });
}
