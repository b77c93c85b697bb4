import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { REMEMBER_TTL_MS } from '../classroom/services.ts';
import { readCookie } from './cookies.ts';

/**
 * The browser half of "signed in to the add-on": a random token in a cookie named for the district
 * and the Google account (Classroom's `login_hint`), so one browser used by several accounts keeps
 * one per account and an account's cookie is never read for another. Like the LTI binding cookie it
 * is `SameSite=None; Secure; Partitioned` (CHIPS): set inside Classroom's frame, it is only ever
 * sent back inside Classroom. Where a browser keeps no cookie at all, nothing is remembered and the
 * add-on signs in through Google's window again, which then shows no consent screen (the session
 * token travels in the path, as for LTI).
 */
const COOKIE_PREFIX = 'mp_gsi_';

export function rememberCookieName(tenantId: string, googleSub: string): string {
  const digest = createHash('sha256').update(`${tenantId}|${googleSub}`).digest('base64url');
  return COOKIE_PREFIX + digest.slice(0, 22);
}

const cookiePath = (tenantSlug: string): string => `/classroom/${encodeURIComponent(tenantSlug)}/`;

export function setRememberCookie(
  res: Response,
  input: { tenantSlug: string; tenantId: string; googleSub: string; token: string },
): void {
  res.cookie(rememberCookieName(input.tenantId, input.googleSub), input.token, {
    path: cookiePath(input.tenantSlug),
    maxAge: REMEMBER_TTL_MS,
    httpOnly: true,
    secure: true,
    sameSite: 'none',
    partitioned: true,
  });
}

/** The token remembered for this district and Google account, if the browser sent one. */
export function readRememberCookie(
  req: Request,
  tenantId: string,
  loginHint: string | undefined,
): string | undefined {
  if (loginHint === undefined) return undefined;
  return readCookie(req, rememberCookieName(tenantId, loginHint));
}
