import type { Request, Router } from 'express';
import { loadCoursePolicy } from '../../policy/store.ts';
import { buildHeatmap, heatmapCsv, parseHeatmapQuery } from '../../mastery-views/heatmap.ts';
import { levelStylesheet } from '../../mastery-views/levels.ts';
import { buildPathways } from '../../mastery-views/pathways.ts';
import { buildStudentProgress } from '../../mastery-views/student.ts';
import type { Course } from '../../storage/lti/courses.repository.ts';
import {
  createMasteryViewsRepository,
  type CourseStudent,
  type MasteryViewsRepository,
} from '../../storage/mastery/views.repository.ts';
import { isUuid } from '../../ids.ts';
import { HttpError } from '../errors.ts';
import { requireInstructor, viewer, type ToolViewer } from '../middleware/session.ts';
import { courseOf, layoutModel, type CoursePageDeps } from './course-layout.ts';

/**
 * The read side of mastery: the class heatmap (and its CSV), pathways, a student's detail with
 * "show your work", and the student's (or mentor's) own progress page.
 *
 * Access: tenant and course always come from the session, never from the URL. Teachers and
 * administrators see the class; a learner sees only themself (`/course/progress`); a mentor sees
 * only the students linked to them in this course. A URL naming anyone else answers 403/404 and
 * shows nothing of them.
 */

const studentNotFound = (): HttpError =>
  new HttpError(404, 'not_found', 'This student is not in this course.');

export function masteryPages(router: Router, deps: CoursePageDeps): void {
  const { services } = deps;
  const views = createMasteryViewsRepository(services.db);

  async function classContext(v: ToolViewer) {
    const course = await courseOf(services, v);
    const [policy, students, standards, results] = await Promise.all([
      loadCoursePolicy(services.db, v.tenantId, course.id),
      views.students(v.tenantId, course.id),
      views.standards(v.tenantId, course.id),
      views.resultCells(v.tenantId, course.id),
    ]);
    const ancestors = await views.ancestors(
      v.tenantId,
      standards.map((s) => s.id),
    );
    return { course, policy, students, standards, results, ancestors };
  }

  async function heatmapOf(req: Request) {
    const v = viewer(req);
    const context = await classContext(v);
    const heatmap = buildHeatmap({
      scale: context.policy.scale,
      students: context.students,
      standards: context.standards,
      ancestors: context.ancestors,
      results: context.results,
      query: parseHeatmapQuery(req.query),
    });
    return { v, context, heatmap };
  }

  /** The scale's colours as a stylesheet: the CSP allows no inline styles. */
  router.get('/course/mastery/levels.css', async (req, res) => {
    const v = viewer(req);
    const course = await courseOf(services, v);
    const policy = await loadCoursePolicy(services.db, v.tenantId, course.id);
    res.type('text/css').send(levelStylesheet(policy.scale));
  });

  router.get('/course/mastery', requireInstructor, async (req, res) => {
    const { v, context, heatmap } = await heatmapOf(req);
    res.render('mastery/heatmap', {
      ...layoutModel(v, 'mastery'),
      title: 'Class mastery',
      styles: ['mastery'],
      course: { title: context.course.title ?? 'Untitled course' },
      minEvidence: context.policy.calculation.minEvidence,
      heatmap,
    });
  });

  router.get('/course/mastery.csv', requireInstructor, async (req, res) => {
    const { context, heatmap } = await heatmapOf(req);
    const name = (context.course.label ?? context.course.title ?? 'course')
      .replace(/[^A-Za-z0-9_-]+/g, '-')
      .slice(0, 60);
    res
      .type('text/csv; charset=utf-8')
      .set('Content-Disposition', `attachment; filename="mastery-${name || 'course'}.csv"`)
      .send(`\uFEFF${heatmapCsv(heatmap)}`);
  });

  router.get('/course/pathways', requireInstructor, async (req, res) => {
    const v = viewer(req);
    const context = await classContext(v);
    const [aligned, evidenced] = await Promise.all([
      views.alignedAssignments(v.tenantId, context.course.id),
      views.evidencedCells(v.tenantId, context.course.id),
    ]);
    const pathways = buildPathways({
      scale: context.policy.scale,
      students: context.students,
      standards: context.standards,
      results: context.results,
      aligned,
      evidenced,
    });
    res.render('mastery/pathways', {
      ...layoutModel(v, 'mastery'),
      title: 'Pathways',
      styles: ['mastery'],
      course: { title: context.course.title ?? 'Untitled course' },
      standardCount: context.standards.length,
      pathways,
    });
  });

  async function progressOf(v: ToolViewer, course: Course, student: CourseStudent) {
    const [policy, standards, results, evidence, aligned, evidenced] = await Promise.all([
      loadCoursePolicy(services.db, v.tenantId, course.id),
      views.standards(v.tenantId, course.id),
      views.studentResults(v.tenantId, course.id, student.id),
      views.studentEvidence(v.tenantId, course.id, student.id),
      views.alignedAssignments(v.tenantId, course.id),
      views.evidencedCells(v.tenantId, course.id, student.id),
    ]);
    const ancestors = await views.ancestors(
      v.tenantId,
      standards.map((s) => s.id),
    );
    return buildStudentProgress({
      policy,
      standards,
      ancestors,
      results,
      evidence,
      aligned,
      evidenced,
      now: services.now(),
      chartIdPrefix: 'trend',
    });
  }

  async function courseStudent(
    repo: MasteryViewsRepository,
    v: ToolViewer,
    course: Course,
    studentId: string,
  ): Promise<CourseStudent> {
    if (!isUuid(studentId)) throw studentNotFound();
    const student = await repo.student(v.tenantId, course.id, studentId);
    if (student === undefined) throw studentNotFound();
    return student;
  }

  router.get('/course/students/:studentId', requireInstructor, async (req, res) => {
    const v = viewer(req);
    const course = await courseOf(services, v);
    const student = await courseStudent(views, v, course, String(req.params.studentId));
    const progress = await progressOf(v, course, student);
    res.render('mastery/student', {
      ...layoutModel(v, 'mastery'),
      title: `${student.name}: mastery`,
      styles: ['mastery'],
      course: { title: course.title ?? 'Untitled course' },
      student: { id: student.id, name: student.name, active: student.active },
      progress,
    });
  });

  /** What the student sees, opened by a teacher from the student's detail page. */
  router.get('/course/students/:studentId/progress', requireInstructor, async (req, res) => {
    const v = viewer(req);
    const course = await courseOf(services, v);
    const student = await courseStudent(views, v, course, String(req.params.studentId));
    res.render('mastery/progress', {
      ...layoutModel(v, 'mastery'),
      title: `${student.name}: progress`,
      styles: ['mastery'],
      course: { title: course.title ?? 'Untitled course' },
      heading: `Progress of ${student.name} (as the student sees it)`,
      teacherPreview: { detailHref: `${v.base}/course/students/${student.id}` },
      chooser: undefined,
      progress: await progressOf(v, course, student),
    });
  });

  router.get('/course/progress', async (req, res) => {
    const v = viewer(req);
    if (v.isInstructor || v.isAdministrator) {
      // Teachers pick a student from the class view; each student's detail links to this view.
      res.redirect(303, `${v.base}/course/mastery`);
      return;
    }
    const course = await courseOf(services, v);
    if (v.isMentor) {
      const linked = new Set(await views.mentorStudentIds(v.tenantId, course.id, v.user.id));
      const students = (await views.students(v.tenantId, course.id)).filter((s) =>
        linked.has(s.id),
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
          students: students.map((s) => ({
            id: s.id,
            name: s.name,
            selected: s.id === chosen?.id,
          })),
        },
        progress: chosen === undefined ? undefined : await progressOf(v, course, chosen),
      });
      return;
    }
    if (!v.isLearner) {
      throw new HttpError(403, 'forbidden', 'Only students and their mentors can open this page.');
    }
    const self = await views.student(v.tenantId, course.id, v.user.id);
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
      progress: await progressOf(v, course, self),
    });
  });
}
