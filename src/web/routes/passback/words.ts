import { PASSBACK_ERROR_MESSAGES, type PassbackErrorCode } from '../../../passback/errors.ts';

/** The words of the grade sync pages: causes, notices, results, dates and scores for people. */

/** Short names of the causes, for headings; the stored message says what to do. */
const CAUSE_TITLES: Readonly<Record<PassbackErrorCode, string>> = {
  rate_limited: 'The LMS asked to slow down',
  lms_unavailable: 'The LMS had a temporary problem',
  timeout: 'The LMS answered too slowly',
  network: 'The LMS could not be reached',
  token_endpoint_down: 'The LMS did not grant gradebook access',
  classroom_sign_in_needed: 'A teacher needs to sign in to Google again',
  classroom_client_rejected: 'Google refused the Classroom client secret',
  unexpected: 'Something unexpected went wrong',
  not_a_student: 'Not a student in the LMS course',
  column_unpublished: 'Gradebook column unpublished',
  course_concluded: 'Course concluded in the LMS',
  column_deleted: 'Gradebook column deleted in the LMS',
  forbidden: 'The LMS refused access',
  grades_not_enabled: 'Grade passback not enabled',
  classroom_permission_denied: 'Assignment made by another app',
  rejected: 'The LMS rejected the grade',
};

/** What the sync page says after a control (`?done=<key>`). */
export const NOTICES: Readonly<Record<string, string>> = {
  synced: 'Sync started: grades waiting to be sent go out now.',
  resynced: 'Resync started: every grade of this course is recomputed and sent again.',
  paused: 'Grade sync is paused for this course. Nothing is sent until you resume it.',
  resumed: 'Grade sync resumed.',
  retried: 'The failed grades will be sent again now.',
  recreated: 'The column will be created again in the LMS and its grades sent.',
  released:
    'Mastery Pathways will update those grades again: its grade replaces the one typed in the gradebook on the next sync.',
};

export const RESULT_WORDS = { sent: 'Sent', retrying: 'Will retry', failed: 'Failed' } as const;

/** The passback error codes, for a form field naming one (retry by cause). */
export const PASSBACK_ERROR_CODES = Object.keys(PASSBACK_ERROR_MESSAGES) as [
  PassbackErrorCode,
  ...PassbackErrorCode[],
];

export function causeTitle(code: string): string {
  return code in CAUSE_TITLES ? CAUSE_TITLES[code as PassbackErrorCode] : 'Other problem';
}

export function causeMessage(code: string, stored: string): string {
  return code in PASSBACK_ERROR_MESSAGES
    ? PASSBACK_ERROR_MESSAGES[code as PassbackErrorCode]
    : stored;
}

export const dateTime = (at: Date): string =>
  `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** A score for people: at most two decimals, no trailing zeros. */
export const formatScore = (value: number): string => String(Math.round(value * 100) / 100);
