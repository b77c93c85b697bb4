import type { Router } from 'express';
import { requireCsrf, requireInstructor } from '../middleware/session.ts';
import { createAssignment, listAssignments, refreshFromLms } from './alignment/assignments.ts';
import { addAlignment, removeAlignment, saveAlignments, showEditor } from './alignment/editor.ts';
import { form } from './alignment/shared.ts';
import { searchStandards, showCoverage } from './alignment/standards.ts';
import { withDeps, type CoursePageDeps } from './course-layout.ts';

/** The alignment pages of a launched course: assignments, the alignment editor, coverage. */
export function alignmentPages(router: Router, deps: CoursePageDeps): void {
  const teacherPost = [form, requireInstructor, requireCsrf] as const;
  const editor = '/course/assignments/:assignmentId';

  router.get('/course/assignments', requireInstructor, withDeps(deps, listAssignments));
  router.post('/course/assignments', ...teacherPost, withDeps(deps, createAssignment));
  router.post('/course/assignments/refresh', ...teacherPost, withDeps(deps, refreshFromLms));

  router.get(editor, requireInstructor, withDeps(deps, showEditor));
  router.post(`${editor}/alignments`, ...teacherPost, withDeps(deps, saveAlignments));
  router.post(`${editor}/alignments/add`, ...teacherPost, withDeps(deps, addAlignment));
  router.post(`${editor}/alignments/remove`, ...teacherPost, withDeps(deps, removeAlignment));

  router.get('/course/standards/search', requireInstructor, withDeps(deps, searchStandards));
  router.get('/course/coverage', requireInstructor, withDeps(deps, showCoverage));
}
