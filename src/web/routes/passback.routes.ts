import express, { type Router } from 'express';
import { requireCsrf, requireInstructor } from '../middleware/session.ts';
import { withDeps, type CoursePageDeps } from './course-layout.ts';
import {
  pauseSync,
  recreateColumn,
  releaseHeldGrades,
  resumeSync,
  resyncEverything,
  retryFailedGrades,
  syncNow,
} from './passback/controls.ts';
import { showStudentSync, showSync, showSyncAudit, syncProgress } from './passback/pages.ts';

const form = express.urlencoded({ extended: false, limit: '16kb' });

/**
 * The grade sync page of a launched course: what is waiting, sent and failed, why in words, and
 * the teacher's controls (sync now, resync everything, pause/resume, retry, recreate a column).
 * Teachers and administrators of the course only; every POST carries the session's CSRF token.
 */
export function passbackPages(router: Router, deps: CoursePageDeps): void {
  const control = [form, requireInstructor, requireCsrf] as const;

  router.get('/course/sync', requireInstructor, withDeps(deps, showSync));
  router.get('/course/sync/progress', requireInstructor, withDeps(deps, syncProgress));
  router.get('/course/sync/students/:userId', requireInstructor, withDeps(deps, showStudentSync));
  router.get('/course/sync/audit', requireInstructor, withDeps(deps, showSyncAudit));

  router.post('/course/sync/now', ...control, withDeps(deps, syncNow));
  router.post('/course/sync/resync', ...control, withDeps(deps, resyncEverything));
  router.post('/course/sync/pause', ...control, withDeps(deps, pauseSync));
  router.post('/course/sync/resume', ...control, withDeps(deps, resumeSync));
  router.post('/course/sync/retry', ...control, withDeps(deps, retryFailedGrades));
  router.post('/course/sync/held/release', ...control, withDeps(deps, releaseHeldGrades));
  router.post(
    '/course/sync/columns/:columnId/recreate',
    ...control,
    withDeps(deps, recreateColumn),
  );
}
