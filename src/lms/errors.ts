import { AppError } from '../errors.ts';

/**
 * Why an LMS call failed, in words that hold for every LMS. Adapters translate their protocol's
 * failures (AGS/NRPS HTTP answers, LTI token refusals, Google's error bodies) into these, so
 * callers (the passback worker above all) never read an LTI or Classroom error.
 */
export type LmsErrorKind =
  /** The LMS no longer lets the tool act (token refused, a teacher's sign-in revoked). */
  | 'auth_revoked'
  /** The LMS refuses this action for good (permissions, a service not granted). */
  | 'forbidden'
  /** What was asked for is not there (a deleted column, a concluded course). */
  | 'not_found'
  /** The LMS asked the tool to slow down. */
  | 'rate_limited'
  /** The LMS rejected what the tool sent (its rules: unpublished column, not a student, …). */
  | 'invalid'
  /** The LMS could not be reached or answered with a server error; trying later may work. */
  | 'unavailable';

/**
 * The finer cause, when the adapter could tell it (from a status, a sentence of the answer or the
 * LMS's own error reason); each is named by what it means for the tool, not by any one LMS.
 */
export type LmsErrorReason =
  | 'timeout'
  | 'network'
  /** An answer the adapter could not place (no status, unreadable body). */
  | 'unexpected_answer'
  /** The LMS's token endpoint refused or failed. */
  | 'token_refused'
  /** The course's acting teacher must sign in again (Classroom). */
  | 'teacher_sign_in'
  /** The district's OAuth client secret was refused (Classroom). */
  | 'client_secret'
  /** The LMS did not grant the service (no gradebook service for this course). */
  | 'service_not_granted'
  /** The item belongs to another app or project (Classroom: another Cloud project). */
  | 'other_project'
  | 'column_unpublished'
  | 'course_concluded'
  | 'not_a_student';

export const LMS_ERROR_KINDS: readonly LmsErrorKind[] = Object.freeze([
  'auth_revoked',
  'forbidden',
  'not_found',
  'rate_limited',
  'invalid',
  'unavailable',
]);

/** What people read when an LMS failure ends a request (the passback page has its own words). */
const MESSAGES: Readonly<Record<LmsErrorKind, string>> = Object.freeze({
  auth_revoked:
    'The LMS no longer lets Mastery Pathways act for this course. Ask your LMS administrator to check the tool, or sign in again.',
  forbidden:
    'The LMS refused to let Mastery Pathways do this. Ask your LMS administrator to check the tool permissions.',
  not_found: 'The LMS no longer has what Mastery Pathways asked for (it may have been deleted).',
  rate_limited: 'The LMS asked Mastery Pathways to slow down. Try again in a moment.',
  invalid:
    'The LMS rejected what Mastery Pathways sent. Check the course in the LMS, then try again.',
  unavailable: 'The LMS did not answer as expected. Try again in a moment.',
});

export class LmsError extends AppError {
  readonly kind: LmsErrorKind;
  readonly reason: LmsErrorReason | undefined;
  /** The LMS's HTTP status, when there was an answer. */
  readonly httpStatus: number | undefined;
  /** How long the LMS asked the tool to wait (Retry-After), when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(
    kind: LmsErrorKind,
    options: {
      reason?: LmsErrorReason | undefined;
      httpStatus?: number | undefined;
      retryAfterMs?: number | undefined;
      detail?: string | undefined;
      cause?: unknown;
    } = {},
  ) {
    // The tool ends the request as a gateway: the failure is the LMS's answer, not the person's.
    super(kind === 'rate_limited' ? 503 : 502, `lms_${kind}`, MESSAGES[kind], {
      cause: options.cause,
      detail: options.detail,
      expose: true,
    });
    this.kind = kind;
    this.reason = options.reason;
    this.httpStatus = options.httpStatus;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * An adapter's own error class that knows its neutral meaning (Classroom's sign-in errors do), so
 * code above the adapters can read it without importing the adapter.
 */
export interface TranslatesToLmsError {
  toLmsError(): LmsError | undefined;
}

export function translatesToLmsError(error: unknown): error is TranslatesToLmsError {
  return (
    typeof error === 'object' &&
    error !== null &&
    'toLmsError' in error &&
    typeof error.toLmsError === 'function'
  );
}
