import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import type { RequestHandler } from 'express';

/**
 * Security headers. The tool lives inside LMS iframes, so X-Frame-Options (which cannot name more
 * than one origin) is off and CSP `frame-ancestors` lists exactly the origins allowed to frame us:
 * the registered LMS platforms and any configured extra origins, nothing else.
 */
export function securityHeaders(options: {
  readonly publicUrl: string;
  readonly frameAncestors: () => readonly string[];
}): RequestHandler {
  const https = new URL(options.publicUrl).protocol === 'https:';
  const frameAncestors = (_req: IncomingMessage, _res: ServerResponse): string =>
    ["'self'", ...options.frameAncestors()].join(' ');
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        // Only our own origin; the Deep Linking answer page widens this to the LMS's return URL
        // with allowFormActionTo().
        formAction: ["'self'"],
        frameAncestors: [frameAncestors],
        upgradeInsecureRequests: https ? [] : null,
      },
    },
    frameguard: false,
    // The tool opens LMS pages and is opened by them; isolation headers would break those flows.
    crossOriginEmbedderPolicy: false,
    crossOriginOpenerPolicy: false,
    strictTransportSecurity: https ? { maxAge: 15552000, includeSubDomains: false } : false,
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
  }) as RequestHandler;
}

/**
 * Lets one response post a form to another origin (the LMS's Deep Linking return URL), keeping
 * every other directive of the policy as it is.
 */
export function allowFormActionTo(res: ServerResponse, origin: string): void {
  const policy = res.getHeader('Content-Security-Policy');
  if (typeof policy !== 'string') return;
  res.setHeader(
    'Content-Security-Policy',
    policy.replace("form-action 'self'", `form-action 'self' ${origin}`),
  );
}

/**
 * Lets one response be framed by more origins than the policy lists (a platform registered but
 * still waiting for approval, whose frame must show why the tool does not open), keeping every
 * other directive. Origins that are not plain http(s) origins are ignored.
 */
export function allowFrameAncestors(res: ServerResponse, origins: readonly string[]): void {
  const policy = res.getHeader('Content-Security-Policy');
  if (typeof policy !== 'string') return;
  const extra = origins.filter((origin) => {
    if (!URL.canParse(origin)) return false;
    const url = new URL(origin);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === origin;
  });
  if (extra.length === 0) return;
  res.setHeader(
    'Content-Security-Policy',
    policy.replace(/frame-ancestors ([^;]*)/, (_match, listed: string) =>
      ['frame-ancestors', listed, ...extra].join(' '),
    ),
  );
}
