/**
 * Errors of the LTI administration use cases (CLI and admin page). Each code is stable; `message`
 * is written for the operator and says what to change.
 */
export type LtiAdminErrorCode =
  | 'invalid_input'
  | 'unknown_preset'
  | 'unknown_tenant'
  | 'unknown_platform'
  | 'unknown_deployment'
  | 'unknown_admin'
  | 'unknown_user'
  | 'duplicate_tenant'
  | 'duplicate_platform'
  | 'duplicate_deployment'
  | 'duplicate_admin'
  | 'platform_in_use'
  | 'no_secret'
  | 'rotation_not_ready';

export class LtiAdminError extends Error {
  readonly code: LtiAdminErrorCode;

  constructor(code: LtiAdminErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LtiAdminError';
    this.code = code;
  }
}

/** PostgreSQL unique_violation (23505), across pg and PGlite. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === '23505';
}

/** PostgreSQL foreign_key_violation (23503). */
export function isForeignKeyViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === '23503';
}
