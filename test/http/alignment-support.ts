import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseCasePackage } from '../../src/standards/formats/case-import.ts';
import { importFramework } from '../../src/standards/import.ts';
import { listItems } from '../../src/storage/standards/standards.repository.ts';
import type { TestDatabase } from '../support/database.ts';
import { cookiesFrom, readAutoPostForm, type LtiWorld } from '../support/lti-world.ts';

const SAMPLE = new URL('../../src/standards/samples/district-grade6.case.json', import.meta.url);

/** Imports the sample grade 6 framework for a district; returns its items with codes. */
export async function importSample(
  database: TestDatabase,
  tenantId: string,
): Promise<{ frameworkId: string; items: { id: string; code: string; statement: string }[] }> {
  const parsed = parseCasePackage(readFileSync(SAMPLE, 'utf8'), { maxBytes: 10_000_000 });
  if (!parsed.ok) throw new Error('the sample framework did not parse');
  const report = await importFramework(
    database.db,
    { tenantId, actor: 'test', framework: parsed.framework, source: 'case_file' },
    { now: () => new Date(), newId: randomUUID },
  );
  if (!report.ok) throw new Error(`the sample did not import: ${JSON.stringify(report.errors)}`);
  const rows = await listItems(database.db, tenantId, report.frameworkId, {
    includeArchived: false,
    orderBy: 'sequence',
  });
  return {
    frameworkId: report.frameworkId,
    items: rows.flatMap((row) =>
      row.code === null ? [] : [{ id: row.id, code: row.code, statement: row.full_statement }],
    ),
  };
}

/**
 * A launch into any emulator course (the shared `launch` helper always uses the seeded course):
 * login, authorization, id_token post. Returns the session base path (`/s/<token>`) and where the
 * launch sent the browser.
 */
export async function launchInto(
  world: LtiWorld,
  input: {
    courseId: string;
    userId: string;
    placement?: 'course_navigation' | 'assignment_selection' | 'link_selection';
    resourceLinkId?: string;
  },
): Promise<{ base: string; location: string }> {
  const initiation = world.emulator.beginLaunch({
    courseId: input.courseId,
    userId: input.userId,
    placement: input.placement ?? 'course_navigation',
    ...(input.resourceLinkId === undefined ? {} : { resourceLinkId: input.resourceLinkId }),
  });
  const login = await fetch(`${world.tool.origin}/lti/login`, {
    method: 'POST',
    body: new URLSearchParams(initiation.params),
    redirect: 'manual',
  });
  if (login.status !== 302) throw new Error(`login answered ${login.status}`);
  const cookie = cookiesFrom(login.headers.getSetCookie());
  const authorize = await fetch(login.headers.get('location') ?? '', {
    headers: { 'User-Agent': 'test-browser' },
  });
  const form = readAutoPostForm(await authorize.text());
  const posted = await fetch(form.action, {
    method: 'POST',
    body: new URLSearchParams(form.fields),
    redirect: 'manual',
    headers: { Cookie: cookie },
  });
  const location = posted.headers.get('location');
  if (posted.status !== 303 || location === null) {
    throw new Error(`launch answered ${posted.status}: ${await posted.text()}`);
  }
  const base = /^(\/s\/[A-Za-z0-9_-]+)/.exec(location)?.[1];
  if (base === undefined) throw new Error(`unexpected launch location ${location}`);
  return { base, location };
}

/** A tool page as a browser without JavaScript gets it. */
export async function page(
  world: LtiWorld,
  path: string,
): Promise<{ status: number; html: string; url: string }> {
  const url = new URL(path, world.tool.origin).toString();
  const res = await fetch(url, { redirect: 'manual' });
  return { status: res.status, html: await res.text(), url };
}

/** Posts a form as a browser without JavaScript does. */
export async function post(
  world: LtiWorld,
  path: string,
  fields: Record<string, string | string[]>,
): Promise<{ status: number; html: string; location: string | undefined }> {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const one of Array.isArray(value) ? value : [value]) body.append(name, one);
  }
  const res = await fetch(new URL(path, world.tool.origin), {
    method: 'POST',
    body,
    redirect: 'manual',
  });
  return {
    status: res.status,
    html: await res.text(),
    location: res.headers.get('location') ?? undefined,
  };
}

export function csrfOf(html: string): string {
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (csrf === undefined) throw new Error('no CSRF field on the page');
  return csrf;
}
