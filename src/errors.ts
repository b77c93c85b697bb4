/**
 * The one base of errors a person may be shown. Each carries a stable `code` (logged, and shown on
 * the error page so support can find it), the HTTP `status` it ends a request with, and `expose`:
 * whether its message is written for people. Domain errors extend it, so the web's error boundary
 * renders them without a translating `try/catch` in each route; server errors (status 500 and up)
 * never show their message, and `detail` is for operators only (logged, never shown).
 *
 * Imports nothing of ours: every folder may use it.
 */
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly expose: boolean;
  readonly detail: string | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    options?: { cause?: unknown; detail?: string | undefined; expose?: boolean },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.expose = options?.expose ?? status < 500;
    this.detail = options?.detail;
  }
}
