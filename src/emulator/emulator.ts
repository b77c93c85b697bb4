import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import express from 'express';
import { exportJWK, generateKeyPair } from 'jose';
import {
  buildUrls,
  type EmulatorContext,
  type EmulatorOptions,
  type EmulatorUrls,
  type ResolvedOptions,
} from './context.ts';
import { EmulatorError } from './errors.ts';
import { createIdFactory } from './ids.ts';
import {
  beginLaunch,
  publishedJwks,
  rotatePlatformKey,
  type BeginLaunchInput,
  type LoginInitiation,
} from './launch.ts';
import {
  createClassroomEmulator,
  type ClassroomEmulator,
  type ClassroomEmulatorOptions,
} from './classroom/emulator.ts';
import { agsRoutes } from './routes/ags.routes.ts';
import { caseRoutes } from './routes/case.routes.ts';
import { deepLinkingRoutes } from './routes/deep-linking.routes.ts';
import { launchRoutes } from './routes/launch.routes.ts';
import { moodleRoutes } from './routes/moodle.routes.ts';
import { nrpsRoutes } from './routes/nrps.routes.ts';
import {
  openidConfiguration,
  registrationRoutes,
  startDynamicRegistration,
  type DynamicRegistrationStart,
} from './routes/registration.routes.ts';
import { tokenRoutes } from './routes/token.routes.ts';
import { uiRoutes } from './routes/ui.routes.ts';
import { EmulatorState } from './state.ts';
import type { Flavour } from './types.ts';

export type { EmulatorOptions, EmulatorUrls } from './context.ts';
export type { ClassroomEmulator, ClassroomEmulatorOptions } from './classroom/emulator.ts';
export { createClassroomEmulator } from './classroom/emulator.ts';

export interface Emulator {
  /** The platform as an Express app: mount it, listen on it, or hand it to supertest. */
  readonly app: express.Express;
  readonly state: EmulatorState;
  readonly urls: EmulatorUrls;
  readonly issuer: string;
  readonly flavour: Flavour;
  readonly options: ResolvedOptions;
  /** The platform's public key set, as served at `urls.jwks`. */
  readonly jwks: { keys: Record<string, unknown>[] };
  /** Start a launch without a browser: the third-party initiated login request to send the tool. */
  beginLaunch(input: BeginLaunchInput): LoginInitiation;
  /** Rotate the platform's signing key (the old one stays published unless `keepOld: false`). */
  rotateKey(options?: { keepOld?: boolean }): Promise<string>;
  /** Start Dynamic Registration: a fresh registration token and the URL to open the tool at. */
  startDynamicRegistration(toolRegistrationUrl: string): DynamicRegistrationStart;
  openidConfiguration(): Record<string, unknown>;
}

function defaultNrpsPageSize(flavour: Flavour): number {
  switch (flavour) {
    case 'schoology':
      return 100;
    case 'canvas':
      return 50;
    case 'moodle':
      return 1000;
  }
}

/**
 * Create one emulated LTI 1.3 Advantage platform (or, with `flavour: 'classroom'`, an emulated
 * Google Classroom: see classroom/). Every call has its own keys and state.
 */
export async function createEmulator(input: EmulatorOptions): Promise<Emulator>;
export async function createEmulator(input: ClassroomEmulatorOptions): Promise<ClassroomEmulator>;
export async function createEmulator(
  input: EmulatorOptions | ClassroomEmulatorOptions,
): Promise<Emulator | ClassroomEmulator> {
  if (input.flavour === 'classroom') return createClassroomEmulator(input);
  return createLtiEmulator(input);
}

async function createLtiEmulator(input: EmulatorOptions): Promise<Emulator> {
  const baseUrl = input.baseUrl.replace(/\/+$/, '');
  const lineItemUrlQuery = input.lineItemUrlQuery ?? '';
  if (lineItemUrlQuery !== '' && !lineItemUrlQuery.startsWith('?')) {
    throw new EmulatorError('invalid_argument', 'lineItemUrlQuery must start with "?"');
  }
  const urls = buildUrls(baseUrl, lineItemUrlQuery);
  const flavour = input.flavour;
  const options: ResolvedOptions = {
    flavour,
    baseUrl,
    issuer: input.issuer ?? baseUrl,
    now: input.now ?? (() => new Date()),
    randomBytes: input.randomBytes ?? ((size) => new Uint8Array(nodeRandomBytes(size))),
    fetch: input.fetch ?? globalThis.fetch.bind(globalThis),
    sleep: input.sleep ?? ((ms) => delay(ms)),
    platformName:
      input.platformName ?? `${flavour[0]?.toUpperCase() ?? ''}${flavour.slice(1)} emulator`,
    idTokenLifetimeSeconds: input.idTokenLifetimeSeconds ?? 300,
    accessTokenLifetimeSeconds: input.accessTokenLifetimeSeconds ?? 3600,
    launchHintLifetimeSeconds: input.launchHintLifetimeSeconds ?? 600,
    tokenAudiences: input.tokenAudiences ?? [urls.token],
    lineItemUrlQuery,
    nrpsMaxPageSize: input.nrpsMaxPageSize ?? defaultNrpsPageSize(flavour),
    lineItemsMaxPageSize: input.lineItemsMaxPageSize ?? 50,
    rateLimit: input.rateLimit,
    platformStorage: input.platformStorage ?? flavour === 'canvas',
    storageTarget: input.storageTarget ?? 'post_message_forwarding',
    requireUserAgent: input.requireUserAgent ?? flavour === 'canvas',
    concludedCourseStatus: input.concludedCourseStatus ?? 404,
    dynamicRegistration:
      (input.dynamicRegistration ?? flavour !== 'schoology') && flavour !== 'schoology',
    clockToleranceSeconds: input.clockToleranceSeconds ?? 60,
  };

  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = Buffer.from(options.randomBytes(12)).toString('base64url');
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const ids = createIdFactory(flavour, options.randomBytes);
  const state = new EmulatorState(flavour, ids, options.now);
  const ctx: EmulatorContext = { state, options, urls, ids, keys: { kid, privateKey, publicJwk } };

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  // Before the launch routes: Moodle's session cookie is set on its course page.
  app.use(moodleRoutes(ctx));
  app.use(launchRoutes(ctx));
  app.use(tokenRoutes(ctx));
  app.use(agsRoutes(ctx));
  app.use(nrpsRoutes(ctx));
  app.use(deepLinkingRoutes(ctx));
  app.use(registrationRoutes(ctx));
  app.use(caseRoutes(ctx));
  app.use(uiRoutes(ctx));
  // One error boundary: anything unexpected is a 500 with no details (they are in the thrown error).
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
        typeof error.status === 'number'
          ? error.status
          : 500;
      res.status(status).json({
        errors: {
          type: status < 500 ? 'bad_request' : 'internal_error',
          message: status < 500 ? 'Bad request' : 'Internal error',
        },
      });
    },
  );

  return {
    app,
    state,
    urls,
    issuer: options.issuer,
    flavour,
    options,
    get jwks() {
      return publishedJwks(ctx);
    },
    beginLaunch: (launch) => beginLaunch(ctx, launch),
    rotateKey: (rotation) => rotatePlatformKey(ctx, rotation),
    startDynamicRegistration: (url) => startDynamicRegistration(ctx, url),
    openidConfiguration: () => openidConfiguration(ctx),
  };
}
