import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import {
  createAppServices,
  createFrameOriginCache,
  type AppServices,
} from '../../src/app-services.ts';
import { ALL_SERVICE_SCOPES } from '../../src/emulator/claims.ts';
import { createEmulator, type Emulator } from '../../src/emulator/emulator.ts';
import type { DemoSeed } from '../../src/emulator/state.ts';
import type { Flavour } from '../../src/emulator/types.ts';
import { createMetrics } from '../../src/metrics.ts';
import { Readiness } from '../../src/readiness.ts';
import { createLogger } from '../../src/logger.ts';
import { createApp } from '../../src/web/app.ts';
import { LogCapture, testConfig } from './app.ts';
import type { TestDatabase } from './database.ts';

export const TEST_SECRET = 'test-key-encryption-secret-0123456789abcdef';

async function listenOn(host: string): Promise<{ server: Server; origin: string }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://${host === '127.0.0.1' ? '127.0.0.1' : host}:${port}` };
}

/**
 * The tool and an LMS emulator, each on its own loopback port, talking real HTTP: the emulator
 * fetches the tool's JWKS, the tool fetches the emulator's JWKS and calls its AGS/NRPS services.
 * The tool's platform registration and the emulator's tool registration are made as an admin
 * would make them.
 */
export interface LtiWorld {
  readonly tool: { app: Express; origin: string; services: AppServices; logs: LogCapture };
  readonly emulator: Emulator;
  readonly emulatorOrigin: string;
  readonly clientId: string;
  readonly deploymentId: string;
  readonly tenantId: string;
  readonly seed: DemoSeed;
  close(): Promise<void>;
}

export async function createLtiWorld(
  database: TestDatabase,
  options: {
    flavour: Flavour;
    toolHost?: string;
    emulatorHost?: string;
    tenantSlug?: string;
    platformStorage?: boolean;
    /** The tool's clock (the emulator keeps the real one), to replay things "later". */
    now?: () => Date;
  },
): Promise<LtiWorld> {
  const toolListener = await listenOn(options.toolHost ?? '127.0.0.1');
  const emulatorListener = await listenOn(options.emulatorHost ?? '127.0.0.1');

  const emulator = await createEmulator({
    flavour: options.flavour,
    baseUrl: emulatorListener.origin,
    ...(options.platformStorage === undefined ? {} : { platformStorage: options.platformStorage }),
  });
  emulatorListener.server.on('request', emulator.app);

  const config = testConfig({
    PUBLIC_URL: toolListener.origin,
    LOG_LEVEL: 'debug',
    // The emulator's Dynamic Registration is served on loopback http.
    ALLOW_LOOPBACK_REGISTRATION: 'true',
  });
  const logs = new LogCapture();
  const logger = createLogger({ level: config.log.level }, logs.stream);
  const services = createAppServices({
    db: database.db,
    keyEncryptionSecret: TEST_SECRET,
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  await services.toolKeys.ensureCurrentKey();
  const frameOrigins = createFrameOriginCache(services, logger);
  const app = createApp(config, {
    logger,
    database,
    readiness: new Readiness(database.db),
    metrics: createMetrics({ defaultMetrics: false }),
    services,
    platformOrigins: frameOrigins.current,
  });
  toolListener.server.on('request', app);

  const tool = emulator.state.registerTool({
    name: 'Mastery Pathways',
    toolJwksUrl: `${toolListener.origin}/.well-known/jwks.json`,
    oidcInitiationUrl: `${toolListener.origin}/lti/login`,
    targetLinkUri: `${toolListener.origin}/lti/launch`,
    redirectUris: [`${toolListener.origin}/lti/launch`],
    deepLinkingUrl: `${toolListener.origin}/lti/launch`,
    scopes: [...ALL_SERVICE_SCOPES],
  });
  const deployment = emulator.state.addDeployment(tool.clientId);
  const seed = emulator.state.seedDemoCourse();

  const tenant = await services.tenants.create({
    slug: options.tenantSlug ?? `district-${options.flavour}`,
    name: `District (${options.flavour})`,
  });
  const platform = await services.platforms.create({
    issuer: emulator.issuer,
    clientId: tool.clientId,
    name: `${options.flavour} emulator`,
    flavour: options.flavour,
    authLoginUrl: emulator.urls.authorize,
    authTokenUrl: emulator.urls.token,
    jwksUrl: emulator.urls.jwks,
  });
  await services.deployments.create({
    platformId: platform.id,
    deploymentId: deployment.deploymentId,
    tenantId: tenant.id,
  });
  // As the service does every minute: the new platform may now frame the tool.
  await frameOrigins.refresh();

  const close = (server: Server) =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => {
        resolve();
      });
    });
  return {
    tool: { app, origin: toolListener.origin, services, logs },
    emulator,
    emulatorOrigin: emulatorListener.origin,
    clientId: tool.clientId,
    deploymentId: deployment.deploymentId,
    tenantId: tenant.id,
    seed,
    close: async () => {
      await close(toolListener.server);
      await close(emulatorListener.server);
    },
  };
}

/** Reads the hidden inputs and action of an auto-posting form (what a browser would submit). */
export function readAutoPostForm(html: string): { action: string; fields: Record<string, string> } {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (action === undefined) throw new Error(`no form in:\n${html.slice(0, 500)}`);
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)) {
    fields[decodeEntities(match[1] ?? '')] = decodeEntities(match[2] ?? '');
  }
  return { action: decodeEntities(action), fields };
}

function decodeEntities(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#x27;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** A browser's cookie jar, reduced to what the launch needs: name=value pairs set by the tool. */
export function cookiesFrom(setCookie: string[] | string | undefined): string {
  const list = Array.isArray(setCookie) ? setCookie : setCookie === undefined ? [] : [setCookie];
  return list
    .map((c) => c.split(';')[0] ?? '')
    .filter((c) => !c.endsWith('='))
    .join('; ');
}

export interface LaunchOutcome {
  readonly status: number;
  readonly location: string | undefined;
  readonly body: string;
}

/**
 * Runs a whole launch the way a browser with first-party cookies does: the LMS starts the login,
 * the tool redirects to the LMS's authorization endpoint, the LMS posts the id_token back.
 * `tamper` may change the posted form (forgery tests).
 */
export async function launch(
  world: LtiWorld,
  input: {
    userId: string;
    placement?: 'course_navigation' | 'assignment_selection' | 'link_selection';
    withCookie?: boolean;
    tamper?: (fields: Record<string, string>) => Record<string, string>;
    resourceLinkId?: string;
  },
): Promise<LaunchOutcome & { fields: Record<string, string>; cookie: string }> {
  const initiation = world.emulator.beginLaunch({
    courseId: world.seed.course.courseId,
    userId: input.userId,
    placement: input.placement ?? 'course_navigation',
    ...(input.resourceLinkId === undefined ? {} : { resourceLinkId: input.resourceLinkId }),
  });
  const login = await fetch(`${world.tool.origin}/lti/login`, {
    method: 'POST',
    body: new URLSearchParams(initiation.params),
    redirect: 'manual',
  });
  if (login.status !== 302) {
    throw new Error(`login answered ${login.status}: ${await login.text()}`);
  }
  const cookie = cookiesFrom(login.headers.getSetCookie());
  const authorize = await fetch(login.headers.get('location') ?? '', {
    headers: { 'User-Agent': 'test-browser' },
  });
  const form = readAutoPostForm(await authorize.text());
  const fields = input.tamper ? input.tamper(form.fields) : form.fields;
  const posted = await fetch(form.action, {
    method: 'POST',
    body: new URLSearchParams(fields),
    redirect: 'manual',
    headers: input.withCookie === false ? {} : { Cookie: cookie },
  });
  return {
    status: posted.status,
    location: posted.headers.get('location') ?? undefined,
    body: await posted.text(),
    fields,
    cookie,
  };
}
