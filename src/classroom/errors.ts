import { LmsError, type TranslatesToLmsError } from '../lms/errors.ts';
import { LmsHttpError } from '../lti/errors.ts';
import { googleErrorOf, googleStatus } from './google-http.ts';

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
  | 'deleted_on_request'
  | 'not_in_course'
  | 'needs_teacher_sign_in'
  | 'permission_denied'
  | 'classroom_api_disabled'
  | 'classroom_disabled'
  | 'scopes_not_granted'
  | 'teacher_left_course'
  | 'api_not_enabled'
  | 'add_on_token_invalid'
  | 'client_secret_rejected'
  | 'item_has_no_grades'
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
    deleted_on_request:
      'Your information was removed from Mastery Pathways at your school district’s request, so Mastery Pathways cannot open for this Google account. To use it again, ask your school district to restore your access.',
    not_in_course:
      'Classroom does not list you as a teacher or student of this class. Open the add-on from a class you belong to.',
    needs_teacher_sign_in:
      'Google no longer lets Mastery Pathways act for the teacher of this class (access was revoked or expired). Grades are kept and will be sent once a teacher opens the add-on in Classroom and signs in again.',
    permission_denied:
      'Google Classroom refused: this Classroom item was created by another app or Google Cloud project, so Mastery Pathways cannot grade it. Create the assignment through the Mastery Pathways add-on instead.',
    classroom_api_disabled:
      'Google Classroom refused: your district has turned off Classroom data access for this account, so Mastery Pathways cannot read the class or send grades. Ask your Google Workspace administrator to allow Classroom data access (Admin console, Apps, Google Workspace, Classroom, Data access), then open the add-on again. Grades are kept until then.',
    classroom_disabled:
      'Google Classroom refused: this Google account has no access to Classroom (it may be the wrong account). Sign in with your school account; if you did, ask your Google Workspace administrator to turn Classroom on for you. Grades are kept until then.',
    scopes_not_granted:
      'Google Classroom refused: a permission Mastery Pathways needs was not allowed at Google sign-in (a box was left unticked). Open the add-on again, sign in, and allow every permission Google lists. Grades are kept until then.',
    teacher_left_course:
      'Google Classroom refused: the teacher whose sign-in Mastery Pathways uses for this class is no longer a teacher of it. Another teacher of the class opens the add-on in Classroom and signs in; grades are kept and are sent then.',
    api_not_enabled:
      'Google Classroom refused: the Google Classroom API is not enabled in the Google Cloud project of this district’s add-on. The service operator enables it (Google Cloud console, APIs and services, Google Classroom API), then a teacher opens the add-on again. Grades are kept until then.',
    add_on_token_invalid:
      'Google Classroom did not accept this add-on session (it expired, or you are signed in to Google with another account than in Classroom). Close this window, reload Classroom and open the add-on again; if you use several Google accounts, use only your school account.',
    client_secret_rejected:
      'Google refused Mastery Pathways’ OAuth client secret for this district (it expired or was deleted in Google Cloud). Nothing is sent to Google until the district administrator saves a new client secret on the Google Classroom admin page. Grades are kept and are sent then.',
    item_has_no_grades:
      'Mastery Pathways activities are graded, and Classroom materials and announcements have no grades. Add Mastery Pathways to an assignment (Classwork, Create, Assignment) instead.',
    api_failed:
      'Google Classroom did not answer as expected. Try again in a moment; if it keeps failing, tell your district administrator.',
  },
);

export class ClassroomError extends Error implements TranslatesToLmsError {
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

  /**
   * A permanent refusal for the whole class that only a person can fix (district, teacher or
   * operator): grading stops for the course until then, and the grades wait (nothing is lost).
   */
  get stopsCourseGrading(): boolean {
    return COURSE_STOPPING.has(this.code);
  }

  /**
   * What this means for grading, in the LMS-neutral kinds: Google no longer lets the tool act for
   * the class until a person signs in again or saves a new secret (grades wait meanwhile).
   */
  toLmsError(): LmsError | undefined {
    const from = { cause: this, detail: `${this.code}: ${this.detail ?? ''}` };
    if (this.code === 'needs_teacher_sign_in') {
      return new LmsError('auth_revoked', { ...from, reason: 'teacher_sign_in' });
    }
    if (this.code === 'client_secret_rejected') {
      return new LmsError('auth_revoked', { ...from, reason: 'client_secret' });
    }
    return undefined;
  }
}

const COURSE_STOPPING: ReadonlySet<ClassroomErrorCode> = new Set<ClassroomErrorCode>([
  'needs_teacher_sign_in',
  'classroom_api_disabled',
  'classroom_disabled',
  'scopes_not_granted',
  'teacher_left_course',
  'api_not_enabled',
  'client_secret_rejected',
]);

const STATUS: Readonly<Record<ClassroomErrorCode, number>> = {
  not_configured: 404,
  invalid_launch: 400,
  sign_in_expired: 400,
  sign_in_failed: 502,
  sign_in_cancelled: 400,
  domain_not_allowed: 403,
  deleted_on_request: 403,
  not_in_course: 403,
  needs_teacher_sign_in: 409,
  permission_denied: 403,
  classroom_api_disabled: 403,
  classroom_disabled: 403,
  scopes_not_granted: 403,
  teacher_left_course: 403,
  api_not_enabled: 403,
  add_on_token_invalid: 403,
  client_secret_rejected: 409,
  item_has_no_grades: 400,
  api_failed: 502,
};

/**
 * A Google 403 in words: the reason from the error body (Access Errors reference, add-on errors
 * page, google.rpc.ErrorInfo), or undefined when the body names none. `generic` is what the plain
 * "The caller does not have permission" means where it was said (e.g. the grading teacher is no
 * longer in the class, for a call on that class).
 */
export function classroomErrorFromGoogle(
  error: unknown,
  generic?: ClassroomErrorCode,
): ClassroomError | undefined {
  if (!(error instanceof LmsHttpError) || error.status !== 403) return undefined;
  const google = googleErrorOf(error);
  const make = (code: ClassroomErrorCode) =>
    new ClassroomError(code, {
      detail:
        `HTTP 403 ${google?.status ?? ''} ${google?.reason ?? google?.detailReasons.join(',') ?? ''}`.trim(),
      cause: error,
    });
  if (google === undefined) {
    return googleStatus(error) === 'PERMISSION_DENIED' && generic !== undefined
      ? make(generic)
      : undefined;
  }
  // Access Errors and the add-on errors page name these reasons.
  const byReason: Readonly<Record<string, ClassroomErrorCode>> = {
    ClassroomApiDisabled: 'classroom_api_disabled',
    ClassroomDisabled: 'classroom_disabled',
    ProjectPermissionDenied: 'permission_denied',
    InvalidAddOnToken: 'add_on_token_invalid',
    ExpiredAddOnToken: 'add_on_token_invalid',
  };
  const named =
    google.reason !== undefined && Object.hasOwn(byReason, google.reason)
      ? byReason[google.reason]
      : undefined;
  if (named !== undefined) return make(named);
  if (google.detailReasons.includes('SERVICE_DISABLED')) return make('api_not_enabled');
  if (
    google.detailReasons.includes('ACCESS_TOKEN_SCOPE_INSUFFICIENT') ||
    google.message.startsWith('Request had insufficient authentication scopes')
  ) {
    return make('scopes_not_granted');
  }
  if (google.status === 'PERMISSION_DENIED' && generic !== undefined) return make(generic);
  return undefined;
}
