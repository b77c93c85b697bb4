/**
 * Why a Classroom add-on step failed, as one closed list, each with what people read: what
 * happened and what to do.
 */
export type ClassroomErrorCode =
  | 'not_configured'
  | 'invalid_launch'
  | 'sign_in_expired'
  | 'sign_in_failed'
  | 'sign_in_cancelled'
  | 'domain_not_allowed'
  | 'not_in_course'
  | 'needs_teacher_sign_in'
  | 'permission_denied'
  | 'api_failed';

export const CLASSROOM_ERROR_MESSAGES: Readonly<Record<ClassroomErrorCode, string>> = Object.freeze(
  {
    not_configured:
      'Google Classroom is not set up for this district yet. Ask your district administrator to configure it on the Mastery Pathways admin page.',
    invalid_launch:
      'Classroom opened Mastery Pathways without the details it needs (course and assignment). Close this window and open the add-on again from Classroom.',
    sign_in_expired:
      'This sign-in took too long or was already used. Close this window and open the add-on again from Classroom.',
    sign_in_failed:
      'Google sign-in did not complete. Close this window and try again; if it keeps failing, tell your district administrator.',
    sign_in_cancelled:
      'Google sign-in was cancelled, so Mastery Pathways cannot open. Close this window and choose “Sign in with Google” again in Classroom.',
    domain_not_allowed:
      'This Google account is not from a school domain this district allows. Sign in with your school Google account; if you did, ask your district administrator to add your domain.',
    not_in_course:
      'Classroom does not list you as a teacher or student of this class. Open the add-on from a class you belong to.',
    needs_teacher_sign_in:
      'Google no longer lets Mastery Pathways act for the teacher of this class (access was revoked or expired). Grades are kept and will be sent once a teacher opens the add-on in Classroom and signs in again.',
    permission_denied:
      'Google Classroom refused: this Classroom item was created by another app or Google Cloud project, so Mastery Pathways cannot grade it. Create the assignment through the Mastery Pathways add-on instead.',
    api_failed:
      'Google Classroom did not answer as expected. Try again in a moment; if it keeps failing, tell your district administrator.',
  },
);

export class ClassroomError extends Error {
  readonly code: ClassroomErrorCode;
  readonly status: number;
  readonly detail: string | undefined;

  constructor(code: ClassroomErrorCode, options: { detail?: string; cause?: unknown } = {}) {
    super(CLASSROOM_ERROR_MESSAGES[code], { cause: options.cause });
    this.name = 'ClassroomError';
    this.code = code;
    this.detail = options.detail;
    this.status = STATUS[code];
  }
}

const STATUS: Readonly<Record<ClassroomErrorCode, number>> = {
  not_configured: 404,
  invalid_launch: 400,
  sign_in_expired: 400,
  sign_in_failed: 502,
  sign_in_cancelled: 400,
  domain_not_allowed: 403,
  not_in_course: 403,
  needs_teacher_sign_in: 409,
  permission_denied: 403,
  api_failed: 502,
};
