import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { expect } from 'chai';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Frame,
  type Page,
} from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core (no browser download). The flags keep Chromium from
 * reaching out to Google's services, which this network refuses.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchBrowser(
  options: { blockThirdPartyCookies?: boolean } = {},
): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. Install it with "apt-get install chromium" or set CHROMIUM_PATH.`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // Chromium's switch for the third-party cookie phase-out: cross-site frames get no
      // unpartitioned cookies, as in Safari and on iPads.
      ...(options.blockThirdPartyCookies ? ['--test-third-party-cookie-phaseout'] : []),
      // Responses a test rewrites (route.fulfill) carry no IP address, so Chromium would count them
      // as public and refuse their navigation to a loopback LMS; every server here is loopback.
      '--disable-features=LocalNetworkAccessChecks',
    ],
  });
}

const axeSource = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * Runs axe-core in the page against WCAG 2.1 A and AA rules and fails on serious or critical
 * violations, listing each with the elements it found.
 */
/** Scans a page, or one frame of it (a Frame evaluates in its own document). */
export async function expectNoSeriousAxeViolations(page: Page | Frame): Promise<void> {
  await saveScreenshot(page);
  // Evaluated through the DevTools protocol, so the page's CSP (which forbids inline scripts) stays
  // in force for everything else the test checks.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run: (ctx: Document, opts: object) => Promise<{ violations: unknown[] }> };
      }
    ).axe;
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return result.violations;
  });
  const serious = (violations as AxeViolation[]).filter(
    (v) => v.impact === 'serious' || v.impact === 'critical',
  );
  expect(
    serious.map(
      (v) =>
        `${v.id} (${v.impact ?? ''}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    ),
  ).to.deep.equal([]);
}

let screenshots = 0;

/**
 * With `SCREENSHOT_DIR` set, every page scanned is also saved as a full-page PNG named after its
 * path, so a person can look at what the tests saw (`SCREENSHOT_DIR=/tmp/shots npm run test:browser`).
 */
async function saveScreenshot(target: Page | Frame): Promise<void> {
  const dir = process.env.SCREENSHOT_DIR;
  if (dir === undefined || dir === '') return;
  mkdirSync(dir, { recursive: true });
  const page = 'page' in target ? target.page() : target;
  const where = new URL(target.url()).pathname
    .replace(/\/s\/[^/]+/, '/s')
    .replace(/[^a-z0-9]+/gi, '-');
  screenshots += 1;
  const file = path.join(dir, `${String(screenshots).padStart(3, '0')}${where.slice(0, 80)}.png`);
  await page.screenshot({ path: file, fullPage: true });
}

export type { Browser, BrowserContext, Page };
