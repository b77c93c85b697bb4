import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';

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

export function setBindingCookie(res: Response, state: string): void {
  res.append(
    'Set-Cookie',
    `${bindingCookieName(state)}=${encodeURIComponent(state)}; Path=${BINDING_COOKIE_PATH}; Max-Age=${MAX_AGE_SECONDS}; HttpOnly; Secure; SameSite=None; Partitioned`,
  );
}

export function clearBindingCookie(res: Response, state: string): void {
  res.append(
    'Set-Cookie',
    `${bindingCookieName(state)}=; Path=${BINDING_COOKIE_PATH}; Max-Age=0; HttpOnly; Secure; SameSite=None; Partitioned`,
  );
}

export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    if (part.slice(0, index).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(index + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The key under which the state is kept in platform storage. */
export function storageKey(state: string): string {
  return `mp_state_${createHash('sha256').update(state).digest('base64url').slice(0, 16)}`;
}
