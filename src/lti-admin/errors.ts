import { AppError } from '../errors.ts';

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

/** The HTTP status each code ends a request with, where an admin page does not re-render a form. */
const STATUS: Readonly<Record<LtiAdminErrorCode, number>> = {
  invalid_input: 400,
  unknown_preset: 400,
  unknown_tenant: 404,
  unknown_platform: 404,
  unknown_deployment: 404,
  unknown_admin: 404,
  unknown_user: 404,
  duplicate_tenant: 409,
  duplicate_platform: 409,
  duplicate_deployment: 409,
  duplicate_admin: 409,
  platform_in_use: 409,
  no_secret: 500,
  rotation_not_ready: 409,
};

export class LtiAdminError extends AppError {
  declare readonly code: LtiAdminErrorCode;

  constructor(code: LtiAdminErrorCode, message: string, options?: { cause?: unknown }) {
    super(STATUS[code], code, message, options);
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
