import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import {
  createAppServices,
  createFrameOriginCache,
  type AppServices,
} from '../../src/app-services.ts';
import { createEmulator } from '../../src/emulator/emulator.ts';
import type { ClassroomEmulator } from '../../src/emulator/classroom/emulator.ts';
import type { ClassroomSeed } from '../../src/emulator/classroom/state.ts';
import type { OAuthClient } from '../../src/emulator/classroom/types.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { Readiness } from '../../src/readiness.ts';
import { parseCasePackage } from '../../src/standards/formats/case-import.ts';
import { importFramework } from '../../src/standards/import.ts';
import { createApp } from '../../src/web/app.ts';
import { LogCapture, testConfig } from '../support/app.ts';
import type { TestDatabase } from '../support/database.ts';
import { TEST_SECRET } from '../support/lti-world.ts';

/**
 * The tool and an emulated Google (accounts + Classroom API + Classroom pages), each on its own
 * loopback port, talking real HTTP. The district's Classroom install is saved as the admin page
 * saves it: through `services.classroom.saveInstall` (which reads the issuer's discovery).
 */
export interface ClassroomWorld {
  readonly tool: { app: Express; origin: string; services: AppServices; logs: LogCapture };
  readonly google: ClassroomEmulator;
  readonly googleOrigin: string;
  readonly client: OAuthClient;
  readonly seed: ClassroomSeed;
  readonly tenantId: string;
  readonly tenantSlug: string;
  refreshFrameOrigins(): Promise<void>;
  close(): Promise<void>;
}

async function listen(host = '127.0.0.1'): Promise<{ server: Server; origin: string }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://${host}:${port}` };
}

export async function createClassroomWorld(
  database: TestDatabase,
  options: {
    tenantSlug?: string;
    configure?: boolean;
    /** 'localhost' puts the tool on another site than Google (127.0.0.1), as in production. */
    toolHost?: string;
  } = {},
): Promise<ClassroomWorld> {
  const toolListener = await listen(options.toolHost);
  const googleListener = await listen();
  const google = await createEmulator({ flavour: 'classroom', baseUrl: googleListener.origin });
  googleListener.server.on('request', google.app);

  const config = testConfig({ PUBLIC_URL: toolListener.origin, LOG_LEVEL: 'debug' });
  const logs = new LogCapture();
  const logger = createLogger({ level: config.log.level }, logs.stream);
  const services = createAppServices({ db: database.db, keyEncryptionSecret: TEST_SECRET });
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

  const tenantSlug = options.tenantSlug ?? 'district-classroom';
  const seed = google.state.seedCourse();
  const client = google.state.registerClient({
    name: 'Mastery Pathways',
    redirectUris: [`${toolListener.origin}/classroom/oauth/callback`],
  });
  google.state.registerAddOn({
    projectNumber: client.projectNumber,
    name: 'Mastery Pathways',
    attachmentSetupUri: `${toolListener.origin}/classroom/${tenantSlug}/attachment-setup`,
    allowedUriPrefixes: [`${toolListener.origin}/classroom/${tenantSlug}/`],
  });
  const tenant = await services.tenants.create({ slug: tenantSlug, name: 'Classroom District' });
  if (options.configure !== false) {
    await services.classroom.saveInstall(tenant.id, {
      issuer: google.issuer,
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      allowedDomains: [seed.domain],
      apiBaseUrl: google.urls.apiBase,
      frameOrigin: googleListener.origin,
    });
    await frameOrigins.refresh();
  }

  const close = (server: Server) =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => {
        resolve();
      });
    });
  return {
    tool: { app, origin: toolListener.origin, services, logs },
    google,
    googleOrigin: googleListener.origin,
    client,
    seed,
    tenantId: tenant.id,
    tenantSlug,
    refreshFrameOrigins: () => frameOrigins.refresh(),
    close: async () => {
      await close(toolListener.server);
      await close(googleListener.server);
    },
  };
}

export interface AddOnOpening {
  /** The sign-in page the iframe shows first. */
  readonly signInPage: string;
  readonly callbackStatus: number;
  readonly callbackBody: string;
  /** After "Continue": the session page the iframe lands on (undefined when sign-in failed). */
  readonly sessionUrl: string | undefined;
  /** `/s/<token>` */
  readonly base: string | undefined;
  /** The remembered-browser cookie "Continue" set (`name=value`), as a browser would keep it. */
  readonly rememberCookie: string | undefined;
  /** The whole Set-Cookie header of it, attributes included. */
  readonly rememberSetCookie: string | undefined;
  /** Google's authorization URL the tool sent the sign-in window to. */
  readonly authorizationUrl: string;
}

function attribute(html: string, id: string, name: string): string {
  const tag = new RegExp(`<[^>]*id="${id}"[^>]*>`).exec(html)?.[0];
  const value = tag === undefined ? undefined : new RegExp(`${name}="([^"]+)"`).exec(tag)?.[1];
  if (value === undefined) throw new Error(`no ${id} ${name} in:\n${html.slice(0, 800)}`);
  return value.replace(/&amp;/g, '&');
}

/** The iframe's "Continue" form as a browser submits it (GET with its hidden fields). */
export function continueUrlOf(world: ClassroomWorld, signInPage: string): URL {
  const url = new URL(attribute(signInPage, 'classroom-continue', 'action'), world.tool.origin);
  const launch = /<input type="hidden" name="l" value="([^"]+)">/.exec(signInPage)?.[1];
  if (launch !== undefined) url.searchParams.set('l', launch);
  return url;
}

/**
 * Opens the add-on at a Classroom frame URL the way a person does: the iframe's sign-in page, the
 * sign-in window (tool → Google's account chooser → the tool's redirect URI), then "Continue".
 */
export async function openAddOn(
  world: ClassroomWorld,
  frameUrl: string,
  userId: string,
  /** Permissions the person unticks on Google's consent screen, if Google shows it. */
  options: { decline?: readonly string[] } = {},
): Promise<AddOnOpening> {
  const entry = await fetch(frameUrl);
  const signInPage = await entry.text();
  if (entry.status !== 200) throw new Error(`add-on entry answered ${entry.status}: ${signInPage}`);
  const signInUrl = new URL(attribute(signInPage, 'classroom-sign-in', 'href'), world.tool.origin);
  const continueUrl = continueUrlOf(world, signInPage);
  const toGoogle = await fetch(signInUrl, { redirect: 'manual' });
  const authorizationUrl = toGoogle.headers.get('location');
  if (toGoogle.status !== 302 || authorizationUrl === null) {
    throw new Error(`sign-in start answered ${toGoogle.status}`);
  }
  const callback = await world.google.signIn(authorizationUrl, userId, 'allow', options);
  const back = await fetch(callback);
  const callbackBody = await back.text();
  if (back.status !== 200) {
    return {
      signInPage,
      callbackStatus: back.status,
      callbackBody,
      sessionUrl: undefined,
      base: undefined,
      rememberCookie: undefined,
      rememberSetCookie: undefined,
      authorizationUrl,
    };
  }
  // As classroom-sign-in.js does: the completion secret from the sign-in window joins the form.
  continueUrl.searchParams.set(
    'k',
    attribute(callbackBody, 'classroom-signed-in', 'data-completion'),
  );
  const landed = await fetch(continueUrl, { redirect: 'manual' });
  const location = landed.headers.get('location');
  if (landed.status !== 303 || location === null) {
    throw new Error(`continue answered ${landed.status}: ${await landed.text()}`);
  }
  const base = /^\/s\/[A-Za-z0-9_-]+/.exec(location)?.[0];
  const rememberSetCookie = landed.headers
    .getSetCookie()
    .find((cookie) => cookie.startsWith('mp_gsi_'));
  return {
    signInPage,
    callbackStatus: back.status,
    callbackBody,
    sessionUrl: new URL(location, world.tool.origin).toString(),
    base,
    rememberCookie: rememberSetCookie?.split(';')[0],
    rememberSetCookie,
    authorizationUrl,
  };
}

const SAMPLE = new URL('../../src/standards/samples/district-grade6.case.json', import.meta.url);

/** Imports the sample grade 6 framework for the district; returns the items that have codes. */
export async function importStandards(
  database: TestDatabase,
  tenantId: string,
): Promise<{ id: string; code: string }[]> {
  const parsed = parseCasePackage(readFileSync(SAMPLE, 'utf8'), { maxBytes: 10_000_000 });
  if (!parsed.ok) throw new Error('the sample framework did not parse');
  const report = await importFramework(
    database.db,
    { tenantId, actor: 'test', framework: parsed.framework, source: 'case_file' },
    { now: () => new Date(), newId: randomUUID },
  );
  if (!report.ok) throw new Error('the sample framework did not import');
  const rows = await database.db
    .selectFrom('standard_items')
    .select(['id', 'code'])
    .where('tenant_id', '=', tenantId)
    .where('code', 'is not', null)
    .orderBy('sequence')
    .execute();
  return rows.map((row) => ({ id: row.id, code: row.code ?? '' }));
}
