import { createHash } from 'node:crypto';
import type { CookieOptions, Response } from 'express';

/**
 * The browser half of an LTI login. The state is kept server-side; to prove that the browser that
 * posts the launch is the one that started the login, the state also goes (a) into a cookie, when
 * the browser keeps one, and (b) into the LMS's platform storage, when the LMS offers it.
 *
 * The cookie is `SameSite=None; Secure; Partitioned` (CHIPS): it is only ever sent back inside the
 * same LMS site, which is where the launch happens. One cookie per login, so two tabs launching at
 * once do not overwrite each other.
 */
const COOKIE_PREFIX = 'mp_lti_';
export const BINDING_COOKIE_PATH = '/lti/launch';
const MAX_AGE_SECONDS = 600;

export function bindingCookieName(state: string): string {
  return COOKIE_PREFIX + createHash('sha256').update(state).digest('base64url').slice(0, 16);
}

/** The attributes of the binding cookie, written and cleared alike (a browser matches them). */
const BINDING_COOKIE = {
  path: BINDING_COOKIE_PATH,
  httpOnly: true,
  secure: true,
  sameSite: 'none',
  partitioned: true,
} as const satisfies CookieOptions;

export function setBindingCookie(res: Response, state: string): void {
  res.cookie(bindingCookieName(state), state, {
    ...BINDING_COOKIE,
    maxAge: MAX_AGE_SECONDS * 1000,
  });
}

export function clearBindingCookie(res: Response, state: string): void {
  res.cookie(bindingCookieName(state), '', { ...BINDING_COOKIE, maxAge: 0 });
}

/** The key under which the state is kept in platform storage. */
export function storageKey(state: string): string {
  return `mp_state_${createHash('sha256').update(state).digest('base64url').slice(0, 16)}`;
}
