import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { USER_AGENT, type AppServices } from '../../src/app-services.ts';
import type { Person } from '../../src/emulator/types.ts';
import { createLogger } from '../../src/logger.ts';
import { createLmsHttpClient } from '../../src/lti/http.ts';
import { createTokenClient } from '../../src/lti/token-client.ts';
import { createToolSigner } from '../../src/lti/tool-keys.ts';
import { resolveLmsFromServices } from '../../src/app-services.ts';
import {
  createPassbackWorker,
  type PassbackWorker,
  type PassbackWorkerOptions,
} from '../../src/passback/worker.ts';
import type { User } from '../../src/storage/lti/people.repository.ts';
import {
  ensureGradebookColumn,
  setDesiredGrade,
  type DesiredGradeInput,
  type EnsureColumnInput,
} from '../../src/storage/passback/passback.repository.ts';
import type { Database } from '../../src/storage/schema.ts';
import type { LtiWorld } from './lti-world.ts';

/** Grade passback against the LMS emulator: a worker, the roster it grades and its queue. */

const quiet = createLogger({ level: 'silent' });

/** A token client with an empty cache, signing with the tool's current key. */
export function workerTokenClient(services: Pick<AppServices, 'http' | 'toolKeys'>) {
  return createTokenClient({
    http: services.http,
    now: () => new Date(),
    randomId: () => randomUUID(),
    signer: async (payload) => createToolSigner(await services.toolKeys.signingKey())(payload),
  });
}

/**
 * The app's services for a passback worker. The app's own HTTP client retries inline; the worker
 * owns retries, so its client gives up at once, after `timeoutMs` at the most.
 */
export function workerServices(world: LtiWorld, timeoutMs: number): AppServices {
  const base = world.tool.services;
  const http = createLmsHttpClient({
    fetch,
    userAgent: USER_AGENT,
    sleep: (ms) => sleep(ms),
    random: Math.random,
    now: () => new Date(),
    maxRetries: 0,
    timeoutMs,
  });
  return { ...base, http, tokenClient: workerTokenClient({ http, toolKeys: base.toolKeys }) };
}

/** A silent worker that reaches the LMS through `services` and sleeps for real. */
export function passbackWorker(
  db: Kysely<Database>,
  services: AppServices,
  options: Omit<PassbackWorkerOptions, 'db' | 'resolveLms' | 'sleep' | 'logger'>,
): PassbackWorker {
  return createPassbackWorker({
    db,
    resolveLms: resolveLmsFromServices(services),
    sleep: (ms) => sleep(ms),
    logger: quiet,
    ...options,
  });
}

/** One LMS person recorded as the tool's user (no email), as a launch or roster sync would. */
export function recordPerson(world: LtiWorld, person: Person): Promise<User> {
  return world.tool.services.people.upsertUser(
    world.tenantId,
    {
      issuer: world.emulator.issuer,
      sub: person.sub,
      name: person.name,
      givenName: person.givenName,
      familyName: person.familyName,
      email: undefined,
    },
    false,
  );
}

/** The seeded course's students, the Test Student too, recorded as the tool's users (no email). */
export async function recordRoster(world: LtiWorld): Promise<{ person: Person; user: User }[]> {
  const roster: { person: Person; user: User }[] = [];
  for (const person of [
    ...world.seed.students,
    ...(world.seed.testStudent ? [world.seed.testStudent] : []),
  ]) {
    roster.push({ person, user: await recordPerson(world, person) });
  }
  return roster;
}

/** A standard's gradebook column, in a transaction of its own; its id. */
export function ensureStandardColumn(
  db: Kysely<Database>,
  input: Omit<EnsureColumnInput, 'kind'>,
): Promise<string> {
  return db
    .transaction()
    .execute((tx) => ensureGradebookColumn(tx, { ...input, kind: 'standard' }));
}

/** A desired grade, in a transaction of its own. */
export function desireGrade(
  db: Kysely<Database>,
  input: DesiredGradeInput,
): Promise<{ changed: boolean; version: number }> {
  return db.transaction().execute((tx) => setDesiredGrade(tx, input));
}
