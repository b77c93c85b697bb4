import { AppError } from '../errors.ts';

/**
 * Failures of the alignment use cases, each with a stable code and a message written for teachers.
 * They are `AppError`s, so the error boundary renders one a page does not show beside its form.
 */
export type AlignmentErrorCode =
  | 'assignment_not_found'
  | 'course_not_found'
  | 'invalid_input'
  | 'standard_unavailable'
  | 'lms_unavailable';

/** The status each failure ends a request with when no form shows it again. */
const STATUS: Readonly<Record<AlignmentErrorCode, number>> = {
  assignment_not_found: 404,
  course_not_found: 404,
  invalid_input: 422,
  standard_unavailable: 422,
  lms_unavailable: 502,
};

export class AlignmentError extends AppError {
  declare readonly code: AlignmentErrorCode;
  /** Per form field, when the input was wrong: what is wrong and what to do. */
  readonly fields: Readonly<Record<string, string>>;

  constructor(
    code: AlignmentErrorCode,
    message: string,
    options: { fields?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(STATUS[code], code, message, { cause: options.cause });
    this.fields = options.fields ?? {};
  }
}

export const assignmentNotFound = (): AlignmentError =>
  new AlignmentError(
    'assignment_not_found',
    'This assignment is not part of this course. Go back to the course’s assignments and pick it from the list.',
  );
