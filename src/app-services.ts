import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { createAlignmentServices } from './alignment/services.ts';
import type { AreaDeps } from './area-deps.ts';
import { createClassroomServices } from './classroom/services.ts';
import { lmsForCourse } from './courses/lms-for-course.ts';
import { createEvidenceUseCases } from './evidence/create-use-cases.ts';
import { createJobRunner } from './jobs/runner.ts';
import { createLogger, type Logger } from './logger.ts';
import { createGradeSyncUseCases } from './passback/grade-sync.ts';
import type { ResolveLms } from './passback/worker.ts';
import { createToolKeyService } from './lti-admin/tool-key-service.ts';
import { createLmsHttpClient, type FetchFunction, type LmsHttpClient } from './lti/http.ts';
import { createPlatformKeys, type PlatformKeys } from './lti/platform-keys.ts';
import { createTokenClient, type TokenClient } from './lti/token-client.ts';
import { createToolSigner } from './lti/tool-keys.ts';
import type { Database } from './storage/schema.ts';
import { createDeepLinkRepository } from './storage/lti/deep-links.repository.ts';
import {
  createDeploymentLookup,
  createDeploymentRepository,
} from './storage/lti/deployments.repository.ts';
import { createLoginStateRepository } from './storage/lti/login-states.repository.ts';
import { createNonceRepository } from './storage/lti/nonces.repository.ts';
import { createCourseRepository } from './storage/lti/courses.repository.ts';
import { createLaunchRepository } from './storage/lti/launches.repository.ts';
import { createPeopleRepository } from './storage/lti/people.repository.ts';
import {
  createPlatformLookup,
  createPlatformRepository,
} from './storage/lti/platforms.repository.ts';
import { createSessionRepository } from './storage/lti/sessions.repository.ts';
import {
  createDeletionRecordRepository,
  createPersonHasher,
} from './storage/privacy/deletion-records.repository.ts';
import { createTenantRepository } from './storage/lti/tenants.repository.ts';
import { createToolKeyRepository } from './storage/lti/tool-keys.repository.ts';

export const USER_AGENT = 'MasteryPathways/0.1 (+https://github.com/mastery-pathways)';

/**
 * How long a launched session lives: it ends after `idleMs` without a request, and `maxMs` after
 * the launch however active (`SESSION_IDLE_MINUTES`, `SESSION_MAX_HOURS`; these are their
 * defaults). The token travels in page URLs, so its life is kept short and bounded.
 */
export const SESSION_DEFAULTS = { idleMs: 60 * 60 * 1000, maxMs: 10 * 60 * 60 * 1000 } as const;

/** The session lifetimes of a loaded configuration. */
export const sessionLifetime = (config: {
  readonly session: { readonly idleMinutes: number; readonly maxHours: number };
}) => ({
  idleMs: config.session.idleMinutes * 60 * 1000,
  maxMs: config.session.maxHours * 60 * 60 * 1000,
});

export interface ServiceOptions {
  readonly db: Kysely<Database>;
  readonly keyEncryptionSecret: string;
  readonly now?: () => Date;
  /** Outbound HTTP to LMSs; tests pass the real fetch too, pointed at the emulator. */
  readonly fetch?: FetchFunction;
  /** Background work (recompute jobs) logs what went wrong here. */
  readonly logger?: Logger;
  /** Session idle timeout and absolute limit; `SESSION_DEFAULTS` when left out. */
  readonly session?: { readonly idleMs: number; readonly maxMs: number };
}

/**
 * Everything the web layer and background jobs use, built once per app from one database handle.
 * No module state: two apps in one process get two independent sets.
 */
export function createAppServices(options: ServiceOptions) {
  const now = options.now ?? (() => new Date());
  const { db } = options;
  const http: LmsHttpClient = createLmsHttpClient({
    fetch: options.fetch ?? fetch,
    userAgent: USER_AGENT,
    sleep: (ms) => sleep(ms),
    random: Math.random,
    now,
  });
  const platformKeys: PlatformKeys = createPlatformKeys({ http, now });
  const toolKeys = createToolKeyService({
    repository: createToolKeyRepository(db),
    secret: options.keyEncryptionSecret,
    now,
  });
  const tokenClient: TokenClient = createTokenClient({
    http,
    now,
    randomId: () => randomUUID(),
    // The signing key is read per assertion so a rotation takes effect without a restart.
    signer: async (payload) => createToolSigner(await toolKeys.signingKey())(payload),
  });
  // People deleted on request are known by a keyed hash only, under a key from the server secret.
  const deletionRecords = createDeletionRecordRepository(
    db,
    createPersonHasher(db, options.keyEncryptionSecret),
  );
  // One runner per app: areas register their job kinds on it; the service starts and stops it.
  const jobs = createJobRunner({
    db,
    now,
    sleep: (ms) => sleep(ms),
    logger: options.logger ?? createLogger({ level: 'silent' }),
  });
  const areaDeps: AreaDeps = {
    db,
    now,
    http,
    tokenClient,
    keyEncryptionSecret: options.keyEncryptionSecret,
    fetch: options.fetch ?? fetch,
    logger: options.logger,
    jobs,
  };
  const mastery = createEvidenceUseCases(areaDeps);
  return {
    db,
    now,
    http,
    jobs,
    platformKeys,
    toolKeys,
    tokenClient,
    platforms: createPlatformRepository(db),
    platformLookup: createPlatformLookup(db),
    deepLinks: createDeepLinkRepository(db, now),
    deployments: createDeploymentRepository(db),
    deploymentLookup: createDeploymentLookup(db),
    loginStates: createLoginStateRepository(db, now),
    nonces: createNonceRepository(db, now),
    people: createPeopleRepository(db, now),
    courses: createCourseRepository(db, now),
    launches: createLaunchRepository(db, now),
    sessions: createSessionRepository(db, { now, ...(options.session ?? SESSION_DEFAULTS) }),
    deletionRecords,
    tenants: createTenantRepository(db),
    alignment: createAlignmentServices(areaDeps),
    mastery: {
      ...mastery,
      /**
       * A parent's launch names their children by LMS id: a child deleted on request is left out,
       * so their id is not stored again in the parent's scope.
       */
      linkMentor: async (input: Parameters<typeof mastery.linkMentor>[0]) => {
        const deleted = await deletionRecords.deletedAmong(
          input.tenantId,
          input.issuer,
          input.studentSubs,
        );
        return mastery.linkMentor({
          ...input,
          studentSubs: input.studentSubs.filter((sub) => !deleted.has(sub)),
        });
      },
    },
    passback: createGradeSyncUseCases(areaDeps),
    classroom: createClassroomServices(areaDeps),
  };
}

export type AppServices = ReturnType<typeof createAppServices>;

/**
 * The passback worker's LMS resolver for the app: the stored course's AGS endpoints and its
 * platform. Built here, in the composition root, so `passback/` needs nothing of `courses/`.
 */
export function resolveLmsFromServices(services: AppServices): ResolveLms {
  return async (tenantId, courseId) => (await lmsForCourse(services, tenantId, courseId)).lms;
}

/**
 * The LMS origins allowed to frame the tool (CSP frame-ancestors), read from the active platform
 * registrations. Kept in memory and refreshed in the background, so no request waits on it.
 */
export function createFrameOriginCache(services: AppServices, logger: Logger) {
  let origins: readonly string[] = [];
  return {
    current: (): readonly string[] => origins,
    refresh: async (): Promise<void> => {
      try {
        const platforms = await services.platforms.list();
        const found = new Set<string>();
        for (const platform of platforms) {
          if (platform.status !== 'active') continue;
          for (const url of [platform.issuer, platform.authLoginUrl, ...platform.frameOrigins]) {
            if (URL.canParse(url)) found.add(new URL(url).origin);
          }
        }
        origins = [...found].sort();
      } catch (error) {
        logger.warn(
          { err: error },
          'could not refresh the LMS frame origins; keeping the last list',
        );
      }
    },
  };
}

/**
 * Deletes what expires on its own: login states nobody came back for, nonces past their token's
 * lifetime, ended sessions, unanswered Deep Linking requests and unfinished Google sign-ins. Run periodically by the service.
 */
export async function sweepExpired(services: AppServices) {
  // Deep Linking requests first: they reference sessions.
  const deepLinks = await services.deepLinks.sweepExpired();
  const [loginStates, nonces, sessions, classroomSignIns] = await Promise.all([
    services.loginStates.sweepExpired(),
    services.nonces.sweepExpired(),
    services.sessions.sweepExpired(),
    // Every add-on open starts a Google sign-in flow that expires after 15 minutes.
    services.classroom.sweepExpired(),
  ]);
  return { loginStates, nonces, sessions, deepLinks, classroomSignIns };
}
