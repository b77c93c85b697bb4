import type { LmsRefusal, PlatformProfile } from './platform.ts';

/**
 * Google Classroom (docs/lms/classroom.md): not an LTI platform; its adapter is
 * `src/classroom/adapter.ts`. Grades are drafts the teacher returns, so there is no result read.
 */
function refusalReason(refusal: LmsRefusal) {
  // Google's error status (`PERMISSION_DENIED`): coursework made by another Cloud project.
  if (refusal.status === 403 && refusal.body.includes('permission_denied')) {
    return 'other_project' as const;
  }
  return undefined;
}

export const CLASSROOM: PlatformProfile = Object.freeze({
  flavour: 'classroom',
  pacing: undefined,
  submissionExtension: false,
  resultsShowManualGrades: false,
  refusalReason,
});
