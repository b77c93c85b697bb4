import type { LmsError } from '../lms/errors.ts';
import { toLmsError } from '../lms/translate.ts';

/**
 * Why a post did not land, as one closed list. Transient causes are retried with backoff; permanent
 * ones stop the cell until a teacher asks to retry (or, for a deleted column, to recreate it).
 */
export type TransientPassbackCode =
  | 'rate_limited'
  | 'lms_unavailable'
  | 'timeout'
  | 'network'
  | 'token_endpoint_down'
  | 'classroom_sign_in_needed'
  | 'classroom_client_rejected'
  | 'unexpected';

export type PermanentPassbackCode =
  | 'not_a_student'
  | 'column_unpublished'
  | 'course_concluded'
  | 'column_deleted'
  | 'forbidden'
  | 'grades_not_enabled'
  | 'classroom_permission_denied'
  | 'rejected';

export type PassbackErrorCode = TransientPassbackCode | PermanentPassbackCode;

/** What teachers read on the sync page: what happened, and what to do about it. */
export const PASSBACK_ERROR_MESSAGES: Readonly<Record<PassbackErrorCode, string>> = Object.freeze({
  rate_limited:
    'The LMS asked Mastery Pathways to slow down. Grades will be sent automatically in a moment; nothing to do.',
  lms_unavailable:
    'The LMS had a temporary problem. Grades will be sent again automatically; nothing to do.',
  timeout:
    'The LMS took too long to answer. Grades will be sent again automatically; nothing to do.',
  network:
    'Mastery Pathways could not reach the LMS. Grades will be sent again automatically; if this lasts more than an hour, tell your LMS administrator.',
  token_endpoint_down:
    'The LMS did not grant access to the gradebook. Grades will be sent again automatically; if this lasts more than an hour, ask your LMS administrator to check that the tool key is enabled.',
  classroom_client_rejected:
    'Google refused the district’s Google Classroom OAuth client secret (it expired or was deleted in Google Cloud), so nothing is sent to Google. Grades are kept; they are sent once the district administrator saves a new client secret on the Google Classroom admin page.',
  classroom_sign_in_needed:
    'Google no longer lets Mastery Pathways act for the teacher of this class (access was revoked or expired). Grades are kept and will be sent once a teacher opens the add-on in Classroom and signs in again.',
  unexpected:
    'Something unexpected went wrong while sending grades. They will be sent again automatically; if this lasts, tell your district administrator.',
  not_a_student:
    'The LMS says this person is not a student in the course (for example a teacher, or a student who was removed). Nothing will be sent for them; if they are a student, check their enrollment and choose "Retry".',
  column_unpublished:
    'The gradebook column is unpublished, so the LMS refuses grades. Publish the assignment in the LMS, then choose "Retry".',
  course_concluded:
    'The course has concluded in the LMS, so it no longer accepts grades. Ask your LMS administrator to extend the course end date, then choose "Retry".',
  column_deleted:
    'The gradebook column was deleted in the LMS. Choose "Recreate column" to add it again and send the grades, or leave it deleted.',
  forbidden:
    'The LMS refused to let Mastery Pathways write grades here. Ask your LMS administrator to check the tool permissions, then choose "Retry".',
  grades_not_enabled:
    'Grade passback is not enabled for this course. Ask your LMS administrator to enable the Assignment and Grade Services for the tool, then choose "Retry".',
  classroom_permission_denied:
    'Google Classroom refused: this assignment was created by another app or Google Cloud project, so Mastery Pathways cannot grade it. Create the assignment through the Mastery Pathways add-on instead, then choose "Retry".',
  rejected:
    'The LMS rejected the grade. Check the column in the LMS gradebook, then choose "Retry"; if it keeps failing, tell your district administrator.',
});

export type PassbackErrorClass =
  | {
      readonly kind: 'transient';
      readonly code: TransientPassbackCode;
      readonly retryAfterMs: number | undefined;
      readonly httpStatus: number | undefined;
    }
  | {
      readonly kind: 'permanent';
      readonly code: PermanentPassbackCode;
      readonly httpStatus: number | undefined;
    }
  /** A 404 on a score post: either the column or the whole course is gone; the worker checks which. */
  | { readonly kind: 'not_found'; readonly httpStatus: 404 };

function transient(
  code: TransientPassbackCode,
  httpStatus?: number,
  retryAfterMs?: number,
): PassbackErrorClass {
  return { kind: 'transient', code, retryAfterMs, httpStatus };
}

function permanent(code: PermanentPassbackCode, httpStatus?: number): PassbackErrorClass {
  return { kind: 'permanent', code, httpStatus };
}

/**
 * An LMS failure's meaning for the cell. The adapters said what happened in neutral kinds (and,
 * when they could tell, the finer reason); here only what each means for grades is decided.
 */
function classifyLms(error: LmsError): PassbackErrorClass {
  const status = error.httpStatus;
  switch (error.reason) {
    case 'timeout':
      return transient('timeout');
    case 'network':
      return transient('network');
    case 'unexpected_answer':
      return transient('unexpected');
    case 'teacher_sign_in':
      return transient('classroom_sign_in_needed');
    case 'client_secret':
      return transient('classroom_client_rejected');
    case 'token_refused':
      return transient('token_endpoint_down', status, error.retryAfterMs);
    case 'service_not_granted':
      return permanent('grades_not_enabled', status);
    case 'other_project':
      return permanent('classroom_permission_denied', status);
    case 'column_unpublished':
      return permanent('column_unpublished', status);
    case 'course_concluded':
      return permanent('course_concluded', status);
    case 'not_a_student':
      return permanent('not_a_student', status);
    case undefined:
      break;
  }
  switch (error.kind) {
    case 'rate_limited':
      return transient('rate_limited', status, error.retryAfterMs);
    case 'unavailable':
      return transient('lms_unavailable', status, error.retryAfterMs);
    case 'auth_revoked':
      return transient('token_endpoint_down', status, error.retryAfterMs);
    case 'not_found':
      return { kind: 'not_found', httpStatus: 404 };
    case 'forbidden':
      return permanent('forbidden', status);
    case 'invalid':
      return permanent('rejected', status);
  }
}

export function classifyPassbackError(error: unknown): PassbackErrorClass {
  const lms = toLmsError(error);
  return lms === undefined ? transient('unexpected') : classifyLms(lms);
}
