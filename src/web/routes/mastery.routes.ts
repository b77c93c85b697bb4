import type { Router } from 'express';
import { requireInstructor } from '../middleware/session.ts';
import { withDeps, type CoursePageDeps } from './course-layout.ts';
import { heatmapDownload, levelsStylesheet, showHeatmap, showPathways } from './mastery/class.ts';
import { previewStudentProgress, showOwnProgress, showStudent } from './mastery/student.ts';

/**
 * The read side of mastery: the class heatmap (and its CSV), pathways, a student's detail with
 * "show your work", and the student's (or mentor's) own progress page.
 *
 * Access: tenant and course always come from the session, never from the URL. Teachers and
 * administrators see the class; a learner sees only themself (`/course/progress`); a mentor sees
 * only the students linked to them in this course. A URL naming anyone else answers 403/404 and
 * shows nothing of them.
 */
export function masteryPages(router: Router, deps: CoursePageDeps): void {
  router.get('/course/mastery/levels.css', withDeps(deps, levelsStylesheet));
  router.get('/course/mastery', requireInstructor, withDeps(deps, showHeatmap));
  router.get('/course/mastery.csv', requireInstructor, withDeps(deps, heatmapDownload));
  router.get('/course/pathways', requireInstructor, withDeps(deps, showPathways));
  router.get('/course/students/:studentId', requireInstructor, withDeps(deps, showStudent));
  router.get(
    '/course/students/:studentId/progress',
    requireInstructor,
    withDeps(deps, previewStudentProgress),
  );
  router.get('/course/progress', withDeps(deps, showOwnProgress));
}
