import { createServer, type RequestListener, type Server } from 'node:http';
import { createAppServices, type AppServices } from '../../src/app-services.ts';
import type { AdminContext } from '../../src/lti-admin/use-cases.ts';
import { createLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { Readiness } from '../../src/readiness.ts';
import { createApp } from '../../src/web/app.ts';
import { PASSWORD } from '../support/admin-session.ts';
import { testConfig } from '../support/app.ts';
import { launchBrowser, type Browser, type Page } from '../support/browser.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { TEST_SECRET, type LtiWorld } from '../support/lti-world.ts';

/**
 * The setup every browser test shares: a fresh database, the servers its scenario runs against,
 * and one Chromium, opened before the describe block's tests and closed after them.
 */

export { PASSWORD };

export interface BrowserSuite<W> {
  readonly database: TestDatabase;
  /** What the scenario runs against: an LTI or Classroom world, or a served app. */
  readonly world: W;
  readonly browser: Browser;
}

/**
 * Registers the describe block's `before` and `after` hooks. `open` starts the servers on the new
 * database (and may seed it); then Chromium starts. The fields can be read once `before` has run,
 * that is in later hooks and in tests. What was opened is closed in reverse order, also when a
 * later step of `before` failed.
 */
export function useBrowserSuite<W extends { close(): Promise<void> }>(
  open: (database: TestDatabase) => Promise<W>,
  browserOptions: { blockThirdPartyCookies?: boolean } = {},
): BrowserSuite<W> {
  let database: TestDatabase | undefined;
  let world: W | undefined;
  let browser: Browser | undefined;

  before(async () => {
    database = await createTestDatabase();
    world = await open(database);
    browser = await launchBrowser(browserOptions);
  });

  after(async () => {
    await browser?.close();
    await world?.close();
    await database?.close();
  });

  return {
    get database() {
      return opened(database, 'database');
    },
    get world() {
      return opened(world, 'world');
    },
    get browser() {
      return opened(browser, 'browser');
    },
  };
}

function opened<T>(value: T | undefined, name: string): T {
  if (value === undefined) {
    throw new Error(`the ${name} is opened by the before hook: read it in a hook or a test`);
  }
  return value;
}

export interface ServedApp {
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** Serves an app on a free loopback port. */
export async function serve(app: RequestListener): Promise<ServedApp> {
  const server = await new Promise<Server>((resolve) => {
    const listening: Server = createServer(app).listen(0, '127.0.0.1', () => {
      resolve(listening);
    });
  });
  const address = server.address();
  return {
    baseUrl: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * The tool with its services (admin pages, standards library), served on a loopback port. `seed`
 * runs once the tool's signing key exists and before the app is built; what it returns is kept
 * alongside the base URL.
 */
export async function serveTool<S extends object>(
  database: TestDatabase,
  seed: (services: AppServices, ctx: AdminContext) => Promise<S>,
): Promise<ServedApp & S> {
  const services = createAppServices({ db: database.db, keyEncryptionSecret: TEST_SECRET });
  await services.toolKeys.ensureCurrentKey();
  const seeded = await seed(services, { db: database.db, now: () => new Date() });
  const app = createApp(testConfig({ PUBLIC_URL: 'http://127.0.0.1' }), {
    logger: createLogger({ level: 'silent' }),
    database,
    readiness: new Readiness(database.db),
    metrics: createMetrics({ defaultMetrics: false }),
    services,
  });
  return { ...seeded, ...(await serve(app)) };
}

/**
 * Collects the console errors the page logs from now on; with 'csp', only Content Security Policy
 * violations (pages that answer 4xx on purpose make Chromium log those too).
 */
export function watchConsoleErrors(page: Page, which: 'all' | 'csp' = 'all'): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    if (which === 'csp' && !message.text().includes('Content Security Policy')) return;
    errors.push(message.text());
  });
  return errors;
}

/** Signs in on the admin password form, and waits for the admin home it leads to. */
export async function signIn(page: Page, baseUrl: string, username: string): Promise<void> {
  await page.goto(`${baseUrl}/admin/login`);
  await page.fill('#username', username);
  await page.fill('#password', PASSWORD);
  await Promise.all([
    page.waitForURL(`${baseUrl}/admin`),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
}

/**
 * Launches the tool from the emulated LMS page as the seeded teacher, and answers the base URL of
 * the session the tool opened (everything before the page's own path).
 */
export async function launchFromLms(
  page: Page,
  world: LtiWorld,
  placement = 'course_navigation',
): Promise<string> {
  const query = new URLSearchParams({
    course: world.seed.course.courseId,
    user: world.seed.teacher.userId,
    placement,
    client_id: world.clientId,
  });
  await page.goto(`${world.emulatorOrigin}/launch?${query.toString()}`);
  await page.waitForURL(/\/s\/[A-Za-z0-9_-]+\//, { timeout: 20_000 });
  const base = /^(.*\/s\/[A-Za-z0-9_-]+)\//.exec(page.url())?.[1];
  if (base === undefined) throw new Error(`not on a tool page: ${page.url()}`);
  return base;
}
