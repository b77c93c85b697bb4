import type { Request } from 'express';

/**
 * Reads one cookie of the request. Cookies are written with Express's `res.cookie`; reading them
 * with `req.cookies` needs the `cookie-parser` middleware, which is not a dependency, and the few
 * cookies the tool reads (login binding, admin session, Classroom sign-in) are looked up by name.
 * A value that is not valid percent-encoding counts as absent.
 */
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
