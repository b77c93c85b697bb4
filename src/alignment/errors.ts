/**
 * Failures of the alignment use cases, each with a stable code and a message written for teachers.
 * The web layer maps them to statuses (see `alignment.routes.ts`); nothing here knows HTTP.
 */
export type AlignmentErrorCode =
  | 'assignment_not_found'
  | 'course_not_found'
  | 'invalid_input'
  | 'standard_unavailable'
  | 'lms_unavailable';

export class AlignmentError extends Error {
  readonly code: AlignmentErrorCode;
  /** Per form field, when the input was wrong: what is wrong and what to do. */
  readonly fields: Readonly<Record<string, string>>;

  constructor(
    code: AlignmentErrorCode,
    message: string,
    options: { fields?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AlignmentError';
    this.code = code;
    this.fields = options.fields ?? {};
  }
}

export const assignmentNotFound = (): AlignmentError =>
  new AlignmentError(
    'assignment_not_found',
    'This assignment is not part of this course. Go back to the course’s assignments and pick it from the list.',
  );
