import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import express from 'express';
import { exportJWK, generateKeyPair } from 'jose';
import { EmulatorError } from '../errors.ts';
import { classroomApiRoutes } from './api.routes.ts';
import {
  buildClassroomUrls,
  type ClassroomContext,
  type ClassroomEmulatorOptions,
  type ClassroomUrls,
  type ResolvedClassroomOptions,
} from './context.ts';
import { GoogleConsents } from './consent.ts';
import { attachmentFrameUrl, discoveryFrameUrl, type AttachmentView } from './frames.ts';
import {
  APPROVE_PATH,
  CONSENT_PATH,
  googleOpenIdConfiguration,
  oidcRoutes,
} from './oidc.routes.ts';
import { classroomPages } from './pages.routes.ts';
import { ClassroomState } from './state.ts';

export type { ClassroomEmulatorOptions, ClassroomUrls } from './context.ts';
export { CLASSROOM_SCOPE } from './api.routes.ts';

export interface ClassroomEmulator {
  /** Google (accounts + Classroom API + Classroom pages) as one Express app. */
  readonly app: express.Express;
  readonly state: ClassroomState;
  /** What users granted at the consent screen, the screens shown, and consent test hooks. */
  readonly consents: GoogleConsents;
  readonly urls: ClassroomUrls;
  readonly issuer: string;
  readonly flavour: 'classroom';
  readonly options: ResolvedClassroomOptions;
  /** The public key set served at `urls.jwks`. */
  readonly jwks: { keys: Record<string, unknown>[] };
  openidConfiguration(): Record<string, unknown>;
  /**
   * Drive the sign-in pages over HTTP as `userId` would: open `authorizationUrl`, choose the
   * account when Google asks, and on the consent screen (if Google shows one) allow with the
   * ticked boxes less `decline`, or cancel. Returns the redirect back to the client (code or error).
   */
  signIn(
    authorizationUrl: string,
    userId: string,
    decision?: 'allow' | 'deny',
    options?: { decline?: readonly string[] },
  ): Promise<URL>;
  /** The URL Classroom puts in the attachment discovery iframe (a fresh addOnToken each time). */
  discoveryFrameUrl(input: {
    courseId: string;
    itemId: string;
    userId: string;
    projectNumber?: string;
  }): string;
  /** The URL Classroom puts in an attachment's teacher / student / review iframe. */
  attachmentFrameUrl(input: {
    attachmentId: string;
    view: AttachmentView;
    userId: string;
    submissionId?: string;
  }): string;
}

/** Create one emulated Google Classroom. Every call has its own keys and state. */
export async function createClassroomEmulator(
  input: ClassroomEmulatorOptions,
): Promise<ClassroomEmulator> {
  const baseUrl = input.baseUrl.replace(/\/+$/, '');
  const options: ResolvedClassroomOptions = {
    baseUrl,
    issuer: input.issuer ?? baseUrl,
    now: input.now ?? (() => new Date()),
    randomBytes: input.randomBytes ?? ((size) => new Uint8Array(nodeRandomBytes(size))),
    fetch: input.fetch ?? globalThis.fetch.bind(globalThis),
    sleep: input.sleep ?? ((ms) => delay(ms)),
    idTokenLifetimeSeconds: input.idTokenLifetimeSeconds ?? 3600,
    accessTokenLifetimeSeconds: input.accessTokenLifetimeSeconds ?? 3599,
    codeLifetimeSeconds: input.codeLifetimeSeconds ?? 600,
    maxPageSize: input.maxPageSize ?? 30,
    allowFramedSignIn: input.allowFramedSignIn ?? false,
  };
  if (options.maxPageSize < 1) {
    throw new EmulatorError('invalid_argument', 'maxPageSize must be at least 1');
  }
  const urls = buildClassroomUrls(baseUrl);
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = Buffer.from(options.randomBytes(20)).toString('hex');
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const state = new ClassroomState(options.randomBytes, options.now);
  const consents = new GoogleConsents(state);
  const ctx: ClassroomContext = { state, options, urls, keys: { kid, privateKey, publicJwk } };

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(oidcRoutes(ctx, consents));
  app.use(classroomApiRoutes(ctx));
  app.use(classroomPages(ctx));
  app.get('/', (_req, res) => {
    res.redirect(302, '/classroom');
  });
  app.use((_req: express.Request, res: express.Response) => {
    res.status(404).json({ error: { code: 404, message: 'Not Found', status: 'NOT_FOUND' } });
  });
  // One error boundary: Google's error shape, details stay in the thrown error.
  app.use(
    (error: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
      if (res.headersSent) {
        next(error);
        return;
      }
      const status =
        typeof error === 'object' &&
        error !== null &&
        'status' in error &&
        typeof error.status === 'number' &&
        error.status < 500
          ? error.status
          : 500;
      res.status(status).json({
        error:
          status < 500
            ? {
                code: status,
                message: 'Invalid JSON payload received.',
                status: 'INVALID_ARGUMENT',
              }
            : { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' },
      });
    },
  );

  const post = (path: string, fields: URLSearchParams): Promise<Response> =>
    options.fetch(`${baseUrl}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: fields.toString(),
    });
  const signIn = async (
    authorizationUrl: string,
    userId: string,
    decision: 'allow' | 'deny' = 'allow',
    signInOptions: { decline?: readonly string[] } = {},
  ): Promise<URL> => {
    let answer = await options.fetch(authorizationUrl, { redirect: 'manual' });
    for (let step = 0; step < 2; step++) {
      const location = answer.headers.get('location');
      if (answer.status === 302 && location) return new URL(location);
      const body = await answer.text();
      const request = /name="request" value="([^"]+)"/.exec(body)?.[1];
      if (answer.status !== 200 || request === undefined) {
        throw new EmulatorError(
          'invalid_argument',
          `the authorization request was refused (${answer.status})`,
        );
      }
      if (body.includes(`action="${CONSENT_PATH}"`)) {
        // The consent screen: the boxes ticked on the page, less the ones this user unticks.
        const fields = new URLSearchParams({ request, decision });
        const decline = new Set(signInOptions.decline ?? []);
        for (const match of body.matchAll(/<input\s[^>]*name="scope"[^>]*>/g)) {
          const tag = match[0];
          const value = /value="([^"]+)"/.exec(tag)?.[1];
          if (value !== undefined && /\schecked/.test(tag) && !decline.has(value)) {
            fields.append('scope', value);
          }
        }
        answer = await post(CONSENT_PATH, fields);
      } else {
        answer = await post(APPROVE_PATH, new URLSearchParams({ request, user: userId, decision }));
      }
    }
    const location = answer.headers.get('location');
    if (answer.status !== 302 || !location) {
      throw new EmulatorError('invalid_argument', `sign-in failed (${answer.status})`);
    }
    return new URL(location);
  };

  return {
    app,
    state,
    consents,
    urls,
    issuer: options.issuer,
    flavour: 'classroom',
    options,
    jwks: { keys: [publicJwk] },
    openidConfiguration: () => googleOpenIdConfiguration(ctx),
    signIn,
    discoveryFrameUrl: (frame) => discoveryFrameUrl(state, frame),
    attachmentFrameUrl: (frame) => attachmentFrameUrl(state, frame),
  };
}
