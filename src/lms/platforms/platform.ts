import type { LmsErrorReason } from '../errors.ts';

/** How fast the passback worker calls one platform, and how many calls it lets through at once. */
export interface PlatformPacing {
  readonly requestsPerSecond: number;
  readonly burst: number;
}

/** An LMS's refusal as the adapters see it (`body` lower-cased), for the platforms' signals. */
export interface LmsRefusal {
  readonly status: number;
  readonly body: string;
  /** The HTTP client's verdict (e.g. Canvas's `X-Rate-Limit-Remaining: 0` makes a 403 retryable). */
  readonly retryable: boolean;
}

/**
 * What the tool knows about one LMS flavour, in one place: adding a platform is one of these, one
 * emulator flavour and the port conformance suite (test/lms/port-conformance.test.ts).
 */
export interface PlatformProfile {
  /** The name stored with a platform registration (`platforms.flavour`). */
  readonly flavour: string;
  /** How the passback worker paces calls to it; undefined: the worker's configured rate. */
  readonly pacing: PlatformPacing | undefined;
  /**
   * Canvas's AGS submission extension (`new_submission: false`): no new attempt per post. Its
   * `prioritize_non_tool_grade` is never sent (it would block the tool's own later grades too).
   */
  readonly submissionExtension: boolean;
  /**
   * Result-read trust: the platform's result list shows the gradebook's current score (a teacher's
   * manual grade included), so reading it before a post tells a teacher's change from the tool's.
   * Only then may the course policy's "keep manual grades" read results before posting.
   */
  readonly resultsShowManualGrades: boolean;
  /** A refusal that is the platform's throttling although not a 429. */
  readonly isThrottled?: (refusal: LmsRefusal) => boolean;
  /** The cause the platform's refusal states in words (a sentence of its answer). */
  readonly refusalReason?: (refusal: LmsRefusal) => LmsErrorReason | undefined;
}
