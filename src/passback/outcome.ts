import type { ClaimedCell, PostOutcome } from '../storage/passback/passback.repository.ts';
import {
  PASSBACK_ERROR_MESSAGES,
  type PassbackErrorClass,
  type PermanentPassbackCode,
} from './errors.ts';

/**
 * The passback worker's rules for one cell's outcome, apart from its I/O: whether the LMS still
 * shows our grade, when to retry, which timestamp to send, and what a failure stores.
 */

/** What the retry rules read: the worker's backoff limits, its clock and its jitter source. */
export interface BackoffSettings {
  readonly limits: { readonly baseBackoffMs: number; readonly maxBackoffMs: number };
  readonly now: () => Date;
  /** Uniform in [0, 1). */
  readonly random: () => number;
}

/**
 * Whether the LMS still shows what the tool last confirmed. Scores travel as floats and Canvas
 * keeps two decimals of points, so a difference under half a hundredth is the same grade.
 */
export function sameScore(lms: number | undefined, confirmed: number | undefined): boolean {
  if (lms === undefined || confirmed === undefined) return lms === confirmed;
  return Math.abs(lms - confirmed) < 0.005;
}

/**
 * A teacher's manual grade is kept: the LMS must still show what we last confirmed, or a value of
 * ours whose post a dead worker left unrecorded, or already the value wanted.
 */
export function changedByTeacher(cell: ClaimedCell, shown: number | undefined): boolean {
  const isOurs = (value: number | undefined): boolean =>
    value !== undefined && sameScore(shown, value);
  return (
    !sameScore(shown, cell.confirmedValue) && !isOurs(cell.inFlightValue) && !isOurs(cell.value)
  );
}

/** Half the exponential ceiling plus jitter, never below the LMS's Retry-After. */
export function backoffMs(
  settings: BackoffSettings,
  attempts: number,
  retryAfterMs: number | undefined,
): number {
  const { limits } = settings;
  const ceiling = Math.min(limits.maxBackoffMs, limits.baseBackoffMs * 2 ** Math.min(attempts, 30));
  const jittered = Math.floor(ceiling / 2 + (settings.random() * ceiling) / 2);
  return Math.max(retryAfterMs ?? 0, jittered);
}

/** Canvas rejects a score older than the stored one: strictly after the last one sent. */
export function freshTimestamp(now: () => Date, cell: ClaimedCell): Date {
  const at = now().getTime();
  const last = cell.lastTimestamp?.getTime() ?? Number.NEGATIVE_INFINITY;
  return new Date(Math.max(at, last + 1));
}

/** A transient error is retried after a backoff; anything else fails until the teacher acts. */
export function failureOutcome(
  settings: BackoffSettings,
  cell: ClaimedCell,
  error: PassbackErrorClass,
  timestamp: Date | undefined,
): PostOutcome {
  if (error.kind === 'transient') {
    const delay = backoffMs(settings, cell.attempts, error.retryAfterMs);
    return {
      result: 'retrying',
      timestamp,
      nextAttemptAt: new Date(settings.now().getTime() + delay),
      code: error.code,
      message: PASSBACK_ERROR_MESSAGES[error.code],
      httpStatus: error.httpStatus,
    };
  }
  const code: PermanentPassbackCode = error.kind === 'permanent' ? error.code : 'rejected';
  return {
    result: 'failed',
    timestamp,
    code,
    message: PASSBACK_ERROR_MESSAGES[code],
    httpStatus: error.httpStatus,
  };
}
