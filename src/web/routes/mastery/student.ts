import type { Request, Response } from 'express';
import type { Course } from '../../../courses/launched-course.ts';
import {
  findCourseStudent,
  linkedStudents,
  loadStudentMastery,
  type CourseStudent,
} from '../../../evidence/class-mastery.ts';
import { buildStudentProgress } from '../../../mastery-views/student.ts';
import { HttpError } from '../../errors.ts';
import { viewer, type ToolViewer } from '../../middleware/session.ts';
import {
  courseOf,
  launchedCourse,
  layoutModel,
  type CourseHandler,
  type CoursePageDeps,
} from '../course-layout.ts';

/**
 * One student's mastery: the teacher's detail with "show your work", the student's own progress
 * page (also opened by a teacher as a preview, and by a mentor for a linked student).
 *
 * Access: a learner sees only themself (`/course/progress`); a mentor sees only the students
 * linked to them in this course. A URL naming anyone else answers 403/404 and shows nothing of them.
 */

const studentNotFound = (): HttpError =>
  new HttpError(404, 'not_found', 'This student is not in this course.');

async function progressOf(
  deps: CoursePageDeps,
  v: ToolViewer,
  course: Course,
  student: CourseStudent,
) {
  const inputs = await loadStudentMastery(
    deps.services,
    { tenantId: v.tenantId, courseId: course.id },
    student.id,
  );
  return buildStudentProgress({ ...inputs, now: deps.services.now(), chartIdPrefix: 'trend' });
}

/** The viewer, the course and the student a teacher's URL names (else a 404). */
async function namedStudent(deps: CoursePageDeps, req: Request) {
  const { v, course } = await launchedCourse(deps, req);
  const student = await findCourseStudent(
    deps.services,
    { tenantId: v.tenantId, courseId: course.id },
    String(req.params.studentId),
  );
  if (student === undefined) throw studentNotFound();
  return { v, course, student };
}

/** GET a student's detail (teachers). */
export const showStudent: CourseHandler = async (deps, req, res) => {
  const { v, course, student } = await namedStudent(deps, req);
  const progress = await progressOf(deps, v, course, student);
  res.render('mastery/student', {
    ...layoutModel(v, 'mastery'),
    title: `${student.name}: mastery`,
    styles: ['mastery'],
    course: { title: course.title ?? 'Untitled course' },
    student: { id: student.id, name: student.name, active: student.active },
    progress,
  });
};

/** GET what the student sees, opened by a teacher from the student's detail page. */
export const previewStudentProgress: CourseHandler = async (deps, req, res) => {
  const { v, course, student } = await namedStudent(deps, req);
  res.render('mastery/progress', {
    ...layoutModel(v, 'mastery'),
    title: `${student.name}: progress`,
    styles: ['mastery'],
    course: { title: course.title ?? 'Untitled course' },
    heading: `Progress of ${student.name} (as the student sees it)`,
    teacherPreview: { detailHref: `${v.base}/course/students/${student.id}` },
    chooser: undefined,
    progress: await progressOf(deps, v, course, student),
  });
};

/** A mentor's progress page: the linked students to choose from, and the chosen one's progress. */
async function showMentorProgress(
  deps: CoursePageDeps,
  req: Request,
  res: Response,
  v: ToolViewer,
  course: Course,
): Promise<void> {
  const students = await linkedStudents(
    deps.services,
    { tenantId: v.tenantId, courseId: course.id },
    v.user.id,
  );
  const asked = typeof req.query.student === 'string' ? req.query.student : undefined;
  const chosen =
    asked !== undefined
      ? students.find((s) => s.id === asked)
      : students.length === 1
        ? students[0]
        : undefined;
  if (asked !== undefined && chosen === undefined) throw studentNotFound();
  res.render('mastery/progress', {
    ...layoutModel(v, 'progress'),
    title: 'Progress',
    styles: ['mastery'],
    course: { title: course.title ?? 'Untitled course' },
    heading: chosen === undefined ? 'Progress' : `Progress of ${chosen.name}`,
    teacherPreview: undefined,
    chooser: {
      students: students.map((s) => ({ id: s.id, name: s.name, selected: s.id === chosen?.id })),
    },
    progress: chosen === undefined ? undefined : await progressOf(deps, v, course, chosen),
  });
}

/** GET the progress page: a learner's own, or a mentor's linked students'; teachers go to the class. */
export const showOwnProgress: CourseHandler = async (deps, req, res) => {
  const v = viewer(req);
  if (v.isInstructor || v.isAdministrator) {
    // Teachers pick a student from the class view; each student's detail links to this view.
    res.redirect(303, `${v.base}/course/mastery`);
    return;
  }
  const course = await courseOf(deps.services, v);
  if (v.isMentor) {
    await showMentorProgress(deps, req, res, v, course);
    return;
  }
  if (!v.isLearner) {
    throw new HttpError(403, 'forbidden', 'Only students and their mentors can open this page.');
  }
  const self = await findCourseStudent(
    deps.services,
    { tenantId: v.tenantId, courseId: course.id },
    v.user.id,
  );
  if (self === undefined) {
    throw new HttpError(
      404,
      'not_found',
      'You are not listed as a student of this course yet. Open Mastery Pathways again from the course.',
    );
  }
  res.render('mastery/progress', {
    ...layoutModel(v, 'progress'),
    title: 'My progress',
    styles: ['mastery'],
    course: { title: course.title ?? 'Untitled course' },
    heading: 'My progress',
    teacherPreview: undefined,
    chooser: undefined,
    progress: await progressOf(deps, v, course, self),
  });
};
