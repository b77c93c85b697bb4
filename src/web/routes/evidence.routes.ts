import type { Router } from 'express';
import { requireCsrf, requireInstructor } from '../middleware/session.ts';
import { withDeps, type CoursePageDeps } from './course-layout.ts';
import { listEvidenceAssignments } from './evidence/assignment-picker.ts';
import { importCsv, showCsvImport } from './evidence/csv-import.ts';
import { importScoresFromLms, saveGrid, showGrid } from './evidence/grid.ts';
import { clearOverride, OVERRIDE_PATH, setOverride, showOverride } from './evidence/override.ts';
import { saveCoursePolicy, showCoursePolicy, showCourseRecalculation } from './evidence/policy.ts';
import { csvForm, gridForm, smallForm } from './evidence/shared.ts';

/** The evidence pages of a launched course: the entry grid, imports, the course policy, overrides. */
export function evidencePages(router: Router, deps: CoursePageDeps): void {
  const teacherPost = [requireInstructor, requireCsrf] as const;

  router.get('/course/evidence', requireInstructor, withDeps(deps, listEvidenceAssignments));
  router.get('/course/evidence/import', requireInstructor, withDeps(deps, showCsvImport));
  router.post('/course/evidence/import', csvForm, ...teacherPost, withDeps(deps, importCsv));

  router.get('/course/evidence/:assignmentId', requireInstructor, withDeps(deps, showGrid));
  router.post('/course/evidence/:assignmentId', gridForm, ...teacherPost, withDeps(deps, saveGrid));
  router.post(
    '/course/evidence/:assignmentId/import-lms',
    smallForm,
    ...teacherPost,
    withDeps(deps, importScoresFromLms),
  );

  router.get('/course/policy', requireInstructor, withDeps(deps, showCoursePolicy));
  router.post('/course/policy', smallForm, ...teacherPost, withDeps(deps, saveCoursePolicy));
  router.get(
    '/course/policy/jobs/:jobId',
    requireInstructor,
    withDeps(deps, showCourseRecalculation),
  );

  router.get(OVERRIDE_PATH, requireInstructor, withDeps(deps, showOverride));
  router.post(OVERRIDE_PATH, smallForm, ...teacherPost, withDeps(deps, setOverride));
  router.post(`${OVERRIDE_PATH}/clear`, smallForm, ...teacherPost, withDeps(deps, clearOverride));
}
