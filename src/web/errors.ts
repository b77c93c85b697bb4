/**
 * Errors a request can end with. Each has a stable code (logged, and shown on the error page so
 * support can find it) and a status. `expose` says whether the message may be shown to the person:
 * only for client errors; for server errors people see a generic message and operators read the log.
 */
export type HttpErrorCode =
  | 'not_found'
  | 'bad_request'
  | 'forbidden'
  | 'unauthorized'
  | 'csrf_failed'
  | 'payload_too_large'
  | 'internal_error';

export class HttpError extends Error {
  readonly status: number;
  readonly code: HttpErrorCode;
  readonly expose: boolean;

  constructor(status: number, code: HttpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.expose = status < 500;
  }
}

export const notFound = (message = 'There is no page at this address.'): HttpError =>
  new HttpError(404, 'not_found', message);
