import type { LmsRefusal, PlatformProfile } from './platform.ts';

/**
 * Any LTI Advantage platform (AGS 2.0, NRPS 2.0), with no vendor code: Moodle and Schoology build
 * on it. The sentences are the ones AGS platforms answer a refused score with (Canvas's
 * `gradebook_services.rb` `verify_user_in_context`: "User not found in course or is not a
 * student"); no platform uses them for another cause, so they are read whatever the flavour.
 */
export function genericRefusalReason(refusal: LmsRefusal) {
  const body = refusal.body;
  if (body.includes('not a student') || body.includes('user not found')) {
    return 'not_a_student' as const;
  }
  return undefined;
}

export const GENERIC: PlatformProfile = Object.freeze({
  flavour: 'generic',
  pacing: undefined,
  submissionExtension: false,
  resultsShowManualGrades: false,
  refusalReason: genericRefusalReason,
});
