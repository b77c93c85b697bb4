import { LmsError, translatesToLmsError } from './errors.ts';
import { lmsErrorFromLti } from './lti/errors.ts';

/**
 * Any failure of an LMS call in the neutral kinds: adapters already throw `LmsError` from their
 * grading operations; errors that know their meaning (Classroom's) say it; protocol errors that
 * reached the caller another way (a token fetch, a stored cause) are translated as the LTI adapter
 * does. Undefined: not an LMS failure.
 */
export function toLmsError(error: unknown): LmsError | undefined {
  if (error instanceof LmsError) return error;
  if (translatesToLmsError(error)) return error.toLmsError();
  return lmsErrorFromLti(error);
}
