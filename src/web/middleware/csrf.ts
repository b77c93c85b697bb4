import { timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { HttpError } from '../errors.ts';

/**
 * The one CSRF check of the tool. Forms carry a secret in `_csrf` (the session's, the admin
 * session's, or the sign-in form's double-submit token); a POST without the right one is refused.
 * Compared in constant time, so the answer's timing does not reveal how much of a guess was right.
 */
export function checkCsrf(req: Request, expected: string): void {
  const body: unknown = req.body;
  const sent =
    typeof body === 'object' && body !== null && '_csrf' in body ? body._csrf : undefined;
  const given = Buffer.from(typeof sent === 'string' ? sent : '');
  const wanted = Buffer.from(expected);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
    throw new HttpError(
      403,
      'csrf_failed',
      'This form has expired or did not come from Mastery Pathways. Reload the page and try again.',
    );
  }
}

/** A middleware checking the form against the secret `secretOf` finds (use after a body parser). */
export function csrfGuard(secretOf: (req: Request) => string): RequestHandler {
  return function requireFormCsrf(req, _res, next) {
    checkCsrf(req, secretOf(req));
    next();
  };
}
