/**
 * Errors a request can end with. Each has a stable code (logged, and shown on the error page so
 * support can find it) and a status. `expose` says whether the message may be shown to the person:
 * only for client errors; for server errors people see a generic message and operators read the log.
 */
import { AppError } from '../errors.ts';
import type { LtiError, LtiErrorCode } from '../lti/errors.ts';

export type HttpErrorCode =
  | 'not_found'
  | 'bad_request'
  | 'forbidden'
  | 'unauthorized'
  | 'csrf_failed'
  | 'session_ended'
  | 'deleted_on_request'
  | 'payload_too_large'
  | 'internal_error'
  | `lti.${LtiErrorCode}`;

/** An error of the web layer itself (routing, sessions, CSRF, framework parsing). */
export class HttpError extends AppError {
  declare readonly code: HttpErrorCode;

  // Not useless: it narrows `code` to the web's own codes.
  // eslint-disable-next-line @typescript-eslint/no-useless-constructor
  constructor(
    status: number,
    code: HttpErrorCode,
    message: string,
    options?: { cause?: unknown; detail?: string | undefined },
  ) {
    super(status, code, message, options);
  }
}

export const notFound = (message = 'There is no page at this address.'): HttpError =>
  new HttpError(404, 'not_found', message);

export const forbidden = (message: string): HttpError => new HttpError(403, 'forbidden', message);

/** An LTI protocol failure as a page for people, keeping its stable code for the logs. */
export const fromLtiError = (error: LtiError): HttpError =>
  new HttpError(error.status, `lti.${error.code}`, error.message, {
    cause: error,
    detail: error.detail,
  });

/** What a person whose launched session ended reads (idle too long, or past its absolute limit). */
export const SESSION_ENDED_MESSAGE =
  'Your session ended. Launch Mastery Pathways again from your course in the LMS.';

export const sessionEnded = (): HttpError =>
  new HttpError(401, 'session_ended', SESSION_ENDED_MESSAGE);
