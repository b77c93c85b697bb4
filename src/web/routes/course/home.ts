import { launchedCourse, layoutModel, type CourseHandler } from '../course-layout.ts';

/** The course's home page. */

/** GET the course home: what the launch gave (roster, gradebook) and where to go next. */
export const showCourseHome: CourseHandler = async (deps, req, res) => {
  const { v, course } = await launchedCourse(deps, req);
  res.render('course/home', {
    ...layoutModel(v, 'course'),
    title: course.title ?? 'Course',
    course: { title: course.title ?? 'Untitled course', label: course.label },
    isTeacher: v.isInstructor || v.isAdministrator,
    hasRoster: course.nrpsMembershipsUrl !== undefined,
    hasGradebook: course.agsLineItemsUrl !== undefined,
  });
};
