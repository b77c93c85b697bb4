import { expect } from 'chai';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/storage/schema.ts';
import { csrfIn } from './admin-session.ts';
import { launch, type LtiWorld } from './lti-world.ts';

/** The course pages as a launched user sees them, over real HTTP, without JavaScript. */

export interface PageAnswer {
  status: number;
  text: string;
  location: string | null;
}

export interface CourseSession {
  /** The session's path prefix, `/s/<token>`. */
  readonly base: string;
  /** The tool's id of the launched user. */
  readonly userId: string;
  get(path: string): Promise<PageAnswer>;
  /**
   * Posts a form. Its CSRF token is read from the page at `csrfFrom`, as a browser would find it;
   * without one, the session's own secret (a valid token). A field with a list is sent once per value.
   */
  post(
    path: string,
    fields: Record<string, string | string[]>,
    csrfFrom?: string,
  ): Promise<PageAnswer>;
}

function sessionBase(location: string | undefined): string {
  const base = /^(\/s\/[A-Za-z0-9_-]+)\//.exec(location ?? '')?.[1];
  if (base === undefined) throw new Error(`not a session location: ${location ?? ''}`);
  return base;
}

/** Launches the emulator's user into the seeded course; the launch must land on a session page. */
export async function openCourseSession(world: LtiWorld, userId: string): Promise<CourseSession> {
  const outcome = await launch(world, { userId });
  expect(outcome.status, outcome.body).to.equal(303);
  const base = sessionBase(outcome.location);
  const call = async (path: string, init?: RequestInit): Promise<PageAnswer> => {
    const res = await fetch(new URL(`${base}${path}`, world.tool.origin), {
      redirect: 'manual',
      ...init,
    });
    return { status: res.status, text: await res.text(), location: res.headers.get('location') };
  };
  const person = world.emulator.state.person(userId);
  const user = await world.tool.services.people.findUser(
    world.tenantId,
    world.emulator.issuer,
    person.sub,
  );
  return {
    base,
    userId: user?.id ?? '',
    get: (path) => call(path),
    post: async (path, fields, csrfFrom) => {
      const csrf =
        csrfFrom === undefined
          ? ((await world.tool.services.sessions.findByToken(base.slice(3)))?.csrfSecret ?? '')
          : csrfIn((await call(csrfFrom)).text);
      const body = new URLSearchParams({ _csrf: csrf });
      for (const [name, value] of Object.entries(fields)) {
        for (const v of Array.isArray(value) ? value : [value]) body.append(name, v);
      }
      return call(path, { method: 'POST', body });
    },
  };
}

/** The stored mastery result of one student on one standard in a course, if any. */
export function storedMasteryResult(
  db: Kysely<Database>,
  courseId: string,
  studentId: string,
  itemId: string,
) {
  return db
    .selectFrom('mastery_results')
    .selectAll()
    .where('course_id', '=', courseId)
    .where('student_id', '=', studentId)
    .where('item_id', '=', itemId)
    .executeTakeFirst();
}
