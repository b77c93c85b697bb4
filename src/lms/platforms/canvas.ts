import type { LmsRefusal, PlatformProfile } from './platform.ts';
import { genericRefusalReason } from './generic.ts';

/**
 * Canvas (docs/lms/canvas.md, ../shared/LMS-NOTES.md).
 *
 * Pacing: Canvas throttles with a leaky bucket per developer key and database cluster
 * (`app/middleware/request_throttle.rb`): high-water mark 600, outflow 10 units a second, each
 * request costing its CPU + database seconds plus a transient up-front 50 while it runs. One caller
 * at a time can add at most one unit per second of its own running time, so sequential calls never
 * fill it; parallel ones do (12 in flight reach 600 at once). So: one call at a time (the worker's
 * one chain per platform, and one holder per platform across instances), at most 10 a second, the
 * bucket's outflow, leaving it empty for the tool's roster and column calls made from teachers'
 * pages.
 */
function isThrottled(refusal: LmsRefusal): boolean {
  // Canvas throttles with 403 "403 Forbidden (Rate Limit Exceeded)" and no Retry-After (its
  // request_throttle.rb); the HTTP client marks it retryable. Any other 403 is a real refusal.
  return (
    refusal.status === 403 && (refusal.retryable || refusal.body.includes('rate limit exceeded'))
  );
}

/** Canvas answers these with 422 and a sentence; the sentence tells the causes apart (LMS-NOTES). */
function refusalReason(refusal: LmsRefusal) {
  if (refusal.body.includes('unpublished')) return 'column_unpublished' as const;
  if (refusal.body.includes('concluded')) return 'course_concluded' as const;
  return genericRefusalReason(refusal);
}

export const CANVAS: PlatformProfile = Object.freeze({
  flavour: 'canvas',
  pacing: Object.freeze({ requestsPerSecond: 10, burst: 1 }),
  submissionExtension: true,
  // The results list returns the gradebook's current score, a teacher's manual grade included.
  resultsShowManualGrades: true,
  isThrottled,
  refusalReason,
});
