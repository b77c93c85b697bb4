import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as oidc from 'openid-client';
import type { AreaDeps } from '../area-deps.ts';
import type { FetchFunction } from '../lti/http.ts';
import { createPinnedFetch } from '../net/pinned-fetch.ts';
import { createPeopleRepository } from '../storage/lti/people.repository.ts';
import {
  createDeletionRecordRepository,
  createPersonHasher,
} from '../storage/privacy/deletion-records.repository.ts';
import { createTenantRepository } from '../storage/lti/tenants.repository.ts';
import { createRememberedSignInRepository } from '../storage/classroom/remembered-sign-ins.repository.ts';
import {
  createClassroomRepository,
  type ClassroomInstall,
  type ClassroomLaunchParams,
} from '../storage/classroom/classroom.repository.ts';
import { classroomColumnId, createClassroomLmsAdapter } from './adapter.ts';
import { createClassroomApi, type ClassroomApi } from './api.ts';
import { ClassroomError, classroomErrorFromGoogle } from './errors.ts';
import { createGoogleHttp } from './google-http.ts';
import { clientSecretLabel, openSecret, refreshTokenLabel, sealSecret } from './secrets.ts';
import {
  authorizationUrl,
  CLASSROOM_API_BASE,
  discover,
  GOOGLE_ISSUER,
  isLoopbackHttp,
  finishAuthorization,
  isAllowedAccount,
  missingScopes,
  newAuthorizationStart,
  refreshAccess,
  RefreshTokenRevoked,
} from './sign-in.ts';

export const CLASSROOM_USER_AGENT = 'MasteryPathways/0.1 (+https://github.com/mastery-pathways)';

/** How long a started sign-in waits for Google and for the "Continue" step. */
export const SIGN_IN_TTL_MS = 15 * 60 * 1000;

/** How long a browser stays signed in to the add-on for one Google account (a school day). */
export const REMEMBER_TTL_MS = 12 * 60 * 60 * 1000;

/** Views a teacher opens: signing in there may need a refresh token for grading. */
const TEACHER_VIEWS: ReadonlySet<ClassroomLaunchParams['view']> = new Set([
  'setup',
  'teacher',
  'review',
]);

/** LIS roles recorded for Classroom people, so sessions and enrollments read as for LTI. */
export const CLASSROOM_ROLE_URIS = {
  teacher: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor',
  student: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner',
} as const;

export const NEEDS_SIGN_IN_REASON =
  'Google refused the stored teacher sign-in (revoked or expired).';

export interface InstallSettings {
  readonly issuer: string;
  readonly clientId: string;
  /** Undefined on update: keep the stored secret. */
  readonly clientSecret: string | undefined;
  readonly allowedDomains: readonly string[];
  readonly apiBaseUrl: string;
  readonly frameOrigin: string;
}

export interface CallbackResult {
  readonly tenantSlug: string;
  readonly flowId: string;
  readonly role: 'teacher' | 'student';
  /**
   * The completion secret: only the browser that finished sign-in gets it (the signed-in page
   * hands it to its opener); "Continue" must present it. The flow row keeps only its sha256.
   */
  readonly completion: string;
}

/**
 * The callback's other outcome: Google signed the person in, but they unticked permissions their
 * role cannot work without. Nothing is recorded; the sign-in window says which to allow and offers
 * to sign in again (the same flow, so the add-on iframe still continues by itself).
 */
export interface MissingPermissions {
  readonly kind: 'missing_permissions';
  readonly tenantSlug: string;
  readonly flowId: string;
  readonly role: 'teacher' | 'student';
  readonly missing: readonly { scope: string; words: string }[];
}

/** A browser signed in to the add-on again without Google: who, in which course, as what. */
export interface ResumedSignIn {
  readonly userId: string;
  readonly courseId: string;
  readonly role: 'teacher' | 'student';
}

/** A sign-in prepared for an entry page: nothing is stored until sign-in starts. */
export interface PreparedSignIn {
  readonly flowId: string;
  /** The launch parameters with the flow id, tenant and expiry, HMAC-signed (carried in links). */
  readonly launchToken: string;
}

const token = (): string => randomBytes(32).toString('base64url');

/** Google's token endpoint answered `invalid_client` (RFC 6749 §5.2): the client secret is wrong. */
function isInvalidClient(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'error' in error &&
    error.error === 'invalid_client'
  );
}

export const completionHash = (completion: string): string =>
  createHash('sha256').update(completion, 'utf8').digest('hex');

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{20,200}$/;

/**
 * The user's role, from Classroom: getAddOnContext (on the item's own collection, by `itemType`,
 * with the addOnToken or attachment id) for add-on pages, roster membership for the plain-CourseWork
 * link. A student's context carries their own submission id on the attachment.
 */
async function roleInCourse(
  api: ClassroomApi,
  launch: ClassroomLaunchParams,
): Promise<{ role: 'teacher' | 'student'; attachmentSubmissionId?: string | undefined }> {
  try {
    if (launch.view === 'link') {
      const role = await api.myRole(launch.courseId);
      if (role === undefined) throw new ClassroomError('not_in_course');
      return { role };
    }
    const context = await api.getAddOnContext({
      courseId: launch.courseId,
      itemType: launch.itemType,
      itemId: launch.itemId,
      addOnToken: launch.addOnToken,
      attachmentId: launch.attachmentId,
    });
    if (context.teacherContext !== undefined) return { role: 'teacher' };
    if (context.studentContext !== undefined) {
      return { role: 'student', attachmentSubmissionId: context.studentContext.submissionId };
    }
  } catch (error) {
    if (error instanceof ClassroomError) throw error;
    // A refusal Google explains (district turned Classroom data access off, a permission not
    // allowed, an expired add-on token) is said in words; anything else means "not in the class".
    const explained = classroomErrorFromGoogle(error);
    if (explained !== undefined && explained.code !== 'permission_denied') throw explained;
    throw new ClassroomError('not_in_course', { cause: error });
  }
  throw new ClassroomError('not_in_course');
}

/** The Classroom add-on's services (sign-in, API access per user, the LMS port for passback). */
export function createClassroomServices(deps: AreaDeps) {
  const { db, now } = deps;
  const repository = createClassroomRepository(db, now);
  const remembered = createRememberedSignInRepository(db, now);
  const people = createPeopleRepository(db, now);
  const tenants = createTenantRepository(db);
  // People the district deleted on request are not made again by a Google sign-in (docs/privacy.md).
  const deletionRecords = createDeletionRecordRepository(
    db,
    createPersonHasher(deps.db, deps.keyEncryptionSecret),
  );
  // Google's own addresses use the deployment's fetch. A configured (operator-set) address goes
  // through the pinned fetch: never a private address, loopback only for a loopback http URL
  // (which the admin page accepts only when the tool itself runs on loopback http).
  const pinnedPublic = createPinnedFetch({ allowLoopback: false });
  const pinnedLoopback = createPinnedFetch({ allowLoopback: true });
  function fetchFor(url: string, googleDefault: string): FetchFunction {
    if (url === googleDefault) return deps.fetch;
    return isLoopbackHttp(url) ? pinnedLoopback : pinnedPublic;
  }
  const httpFor = (fetchImpl: FetchFunction) =>
    createGoogleHttp({
      fetch: fetchImpl,
      userAgent: CLASSROOM_USER_AGENT,
      sleep: (ms) => sleep(ms),
      random: Math.random,
      now,
    });
  const googleHttps = new Map<FetchFunction, ReturnType<typeof createGoogleHttp>>(
    [deps.fetch, pinnedPublic, pinnedLoopback].map((f) => [f, httpFor(f)]),
  );
  function googleHttpFor(apiBaseUrl: string) {
    const fetchImpl = fetchFor(apiBaseUrl, CLASSROOM_API_BASE);
    return googleHttps.get(fetchImpl) ?? httpFor(fetchImpl);
  }
  // Signs the launch parameters carried between the entry page and the start of sign-in.
  const launchKey = createHmac('sha256', deps.keyEncryptionSecret)
    .update('mastery-pathways:classroom-launch:v1')
    .digest();
  const launchMac = (payload: string): Buffer =>
    createHmac('sha256', launchKey).update(payload).digest();

  function verifyLaunchToken(
    launchToken: string,
    tenantId: string,
    flowId: string,
  ): ClassroomLaunchParams | undefined {
    if (launchToken.length > 12_000) return undefined;
    const [payload, mac, extra] = launchToken.split('.');
    if (payload === undefined || mac === undefined || extra !== undefined) return undefined;
    const expected = launchMac(payload);
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
        f?: unknown;
        t?: unknown;
        e?: unknown;
        l?: ClassroomLaunchParams;
      };
      if (body.f !== flowId || body.t !== tenantId || typeof body.e !== 'number') return undefined;
      if (body.e <= now().getTime() || body.l === undefined) return undefined;
      return body.l;
    } catch {
      return undefined;
    }
  }
  // Per services instance (never module state): OIDC configuration per install, access tokens per user.
  const configurations = new Map<string, Promise<oidc.Configuration>>();
  const accessTokens = new Map<string, { token: string; expiresAt: Date }>();

  function configurationFor(install: ClassroomInstall): Promise<oidc.Configuration> {
    const key = `${install.id}|${install.updatedAt.toISOString()}`;
    let found = configurations.get(key);
    if (found === undefined) {
      found = discover({
        issuer: install.issuer,
        clientId: install.clientId,
        clientSecret: openSecret(
          install.encryptedClientSecret,
          clientSecretLabel(install.tenantId),
          deps.keyEncryptionSecret,
        ),
        fetch: fetchFor(install.issuer, GOOGLE_ISSUER),
      });
      // A failed discovery is not cached: the next request tries again.
      found.catch(() => configurations.delete(key));
      configurations.set(key, found);
    }
    return found;
  }

  async function installFor(tenantId: string): Promise<ClassroomInstall> {
    const install = await repository.findInstall(tenantId);
    if (install === undefined) throw new ClassroomError('not_configured');
    return install;
  }

  /** A fresh access token for a user: cached, else refreshed with their stored refresh token. */
  async function accessTokenFor(install: ClassroomInstall, userId: string): Promise<string> {
    const key = `${install.tenantId}|${userId}`;
    const cached = accessTokens.get(key);
    // A minute of margin: a token must not expire between here and Google.
    if (cached !== undefined && cached.expiresAt.getTime() - 60_000 > now().getTime()) {
      return cached.token;
    }
    // Google refused the client secret before: no call with it until a new one is saved.
    if (install.clientRejectedAt !== undefined) throw new ClassroomError('client_secret_rejected');
    const stored = await repository.findRefreshToken(install.tenantId, userId);
    if (stored === undefined || stored.revoked) {
      throw new ClassroomError('needs_teacher_sign_in', { detail: 'no usable refresh token' });
    }
    const label = refreshTokenLabel(install.tenantId, userId);
    const refreshToken = openSecret(stored.encrypted, label, deps.keyEncryptionSecret);
    try {
      const refreshed = await refreshAccess(await configurationFor(install), refreshToken, now());
      if (refreshed.refreshToken !== undefined && refreshed.refreshToken !== refreshToken) {
        await repository.saveRefreshToken({
          tenantId: install.tenantId,
          userId,
          encrypted: sealSecret(refreshed.refreshToken, label, deps.keyEncryptionSecret),
          // A rotated token keeps the grant: Google's answer may leave `scope` out.
          scopes: refreshed.scopes ?? stored.scopes,
        });
      }
      accessTokens.set(key, { token: refreshed.accessToken, expiresAt: refreshed.expiresAt });
      return refreshed.accessToken;
    } catch (error) {
      if (error instanceof RefreshTokenRevoked) {
        // Nothing is lost: grades stay queued; the course asks a teacher to sign in again.
        accessTokens.delete(key);
        await repository.markTokenRevoked(install.tenantId, userId, NEEDS_SIGN_IN_REASON);
        throw new ClassroomError('needs_teacher_sign_in', { cause: error });
      }
      if (isInvalidClient(error)) {
        // An expired or deleted client secret: retrying cannot help, only an administrator can.
        accessTokens.delete(key);
        await repository.markClientRejected(install.tenantId);
        throw new ClassroomError('client_secret_rejected', { cause: error });
      }
      throw error;
    }
  }

  /**
   * Keeps the student's own submission id on an attachment (getAddOnContext's
   * `studentContext.submissionId`): grades go there, and Google lists no attachment submissions.
   */
  async function rememberAttachmentSubmission(
    tenantId: string,
    courseId: string,
    launch: Pick<ClassroomLaunchParams, 'itemType' | 'itemId' | 'attachmentId'>,
    googleUserId: string,
    context: { attachmentSubmissionId: string | undefined },
  ): Promise<void> {
    if (
      context.attachmentSubmissionId === undefined ||
      launch.attachmentId === undefined ||
      (launch.itemType ?? 'courseWork') !== 'courseWork'
    ) {
      return;
    }
    await repository.saveAttachmentSubmission({
      tenantId,
      courseId,
      courseWorkId: launch.itemId,
      attachmentId: launch.attachmentId,
      googleUserId,
      submissionId: context.attachmentSubmissionId,
    });
  }

  function apiFor(install: ClassroomInstall, userId: string): ClassroomApi {
    return createClassroomApi({
      http: googleHttpFor(install.apiBaseUrl),
      baseUrl: install.apiBaseUrl,
      accessToken: () => accessTokenFor(install, userId),
      onUnauthorized: () => accessTokens.delete(`${install.tenantId}|${userId}`),
    });
  }

  return {
    repository,

    findInstall: (tenantId: string) => repository.findInstall(tenantId),
    findInstallBySlug: (slug: string) => repository.findInstallBySlug(slug),

    /**
     * Saves the district's Classroom settings. The issuer's discovery document is read first (with
     * the new client), so a wrong issuer URL is reported and nothing is saved.
     */
    async saveInstall(tenantId: string, settings: InstallSettings): Promise<{ created: boolean }> {
      const existing = await repository.findInstall(tenantId);
      const clientSecret =
        settings.clientSecret ??
        (existing === undefined
          ? undefined
          : openSecret(
              existing.encryptedClientSecret,
              clientSecretLabel(tenantId),
              deps.keyEncryptionSecret,
            ));
      if (clientSecret === undefined) throw new ClassroomError('not_configured');
      const configuration = await discover({
        issuer: settings.issuer,
        clientId: settings.clientId,
        clientSecret,
        fetch: fetchFor(settings.issuer, GOOGLE_ISSUER),
      });
      const metadata = configuration.serverMetadata();
      const tenant = await tenants.findById(tenantId);
      return repository.saveInstall({
        tenantId,
        issuer: metadata.issuer,
        authorizationEndpoint: metadata.authorization_endpoint ?? settings.issuer,
        tokenEndpoint: metadata.token_endpoint ?? settings.issuer,
        jwksUrl: metadata.jwks_uri ?? settings.issuer,
        clientId: settings.clientId,
        encryptedClientSecret:
          settings.clientSecret === undefined
            ? undefined
            : sealSecret(
                settings.clientSecret,
                clientSecretLabel(tenantId),
                deps.keyEncryptionSecret,
              ),
        allowedDomains: settings.allowedDomains,
        apiBaseUrl: settings.apiBaseUrl,
        frameOrigin: settings.frameOrigin,
        name: `Google Classroom (${tenant?.name ?? tenantId})`,
      });
    },

    /**
     * Prepares a sign-in for an add-on page without storing anything (anyone may open an entry
     * page): a fresh flow id and the launch parameters, signed, for the sign-in link.
     */
    prepareSignIn(install: ClassroomInstall, launch: ClassroomLaunchParams): PreparedSignIn {
      const flowId = token();
      const payload = Buffer.from(
        JSON.stringify({
          f: flowId,
          t: install.tenantId,
          e: now().getTime() + SIGN_IN_TTL_MS,
          l: launch,
        }),
        'utf8',
      ).toString('base64url');
      return { flowId, launchToken: `${payload}.${launchMac(payload).toString('base64url')}` };
    },

    /** Whether a launch token is this district's, for this flow, and not expired. */
    isValidLaunchToken: (install: ClassroomInstall, flowId: string, launchToken: string) =>
      verifyLaunchToken(launchToken, install.tenantId, flowId) !== undefined,

    /**
     * Starts sign-in (the sign-in window): the flow row is created now, from the signed launch
     * parameters, then Google gets the state.
     */
    async authorizationRedirect(
      install: ClassroomInstall,
      flowId: string,
      launchToken: string | undefined,
      redirectUri: string,
    ): Promise<URL> {
      let flow = await repository.findFlow(install.tenantId, flowId);
      if (flow === undefined) {
        const launch =
          launchToken === undefined
            ? undefined
            : verifyLaunchToken(launchToken, install.tenantId, flowId);
        if (launch === undefined) throw new ClassroomError('sign_in_expired');
        const start = newAuthorizationStart();
        await repository.createFlow({
          state: start.state,
          flowId,
          tenantId: install.tenantId,
          nonce: start.nonce,
          codeVerifier: start.codeVerifier,
          launch,
          ttlMs: SIGN_IN_TTL_MS,
        });
        flow = await repository.findFlow(install.tenantId, flowId);
      }
      if (flow === undefined || flow.completedAt !== undefined) {
        throw new ClassroomError('sign_in_expired');
      }
      // Classroom's login_hint is the Google user id (= sub): a known user with a live refresh
      // token needs no consent screen again.
      const known =
        flow.launch.loginHint === undefined
          ? undefined
          : await people.findUser(install.tenantId, install.issuer, flow.launch.loginHint);
      const stored =
        known === undefined
          ? undefined
          : await repository.findRefreshToken(install.tenantId, known.id);
      // Google returns a refresh token only with a consent screen: force one only for a teacher
      // view whose user has no live refresh token with the grading scopes. Never for students.
      const needsRefreshToken =
        stored === undefined ||
        stored.revoked ||
        missingScopes(stored.scopes, 'teacher').length > 0;
      return authorizationUrl(await configurationFor(install), {
        start: { state: flow.state, nonce: flow.nonce, codeVerifier: flow.codeVerifier },
        redirectUri,
        loginHint: flow.launch.loginHint,
        allowedDomains: install.allowedDomains,
        askConsent: TEACHER_VIEWS.has(flow.launch.view) && needsRefreshToken,
      });
    },

    /**
     * The redirect URI's work, as a checklist: the flow by state → the code exchange (PKCE, state,
     * nonce) → the district's domains → the user's role in the course, from Classroom itself →
     * course, person and enrollment recorded → the teacher's refresh token kept (encrypted).
     */
    async handleCallback(currentUrl: URL): Promise<CallbackResult | MissingPermissions> {
      const state = currentUrl.searchParams.get('state');
      const flow = state === null ? undefined : await repository.findFlowByState(state);
      if (flow === undefined || flow.completedAt !== undefined) {
        throw new ClassroomError('sign_in_expired');
      }
      if (currentUrl.searchParams.get('error') === 'access_denied') {
        throw new ClassroomError('sign_in_cancelled');
      }
      if (currentUrl.searchParams.has('error')) {
        throw new ClassroomError('sign_in_failed', {
          detail: `authorization error ${currentUrl.searchParams.get('error') ?? ''}`,
        });
      }
      const install = await installFor(flow.tenantId);
      const user = await finishAuthorization(await configurationFor(install), {
        currentUrl,
        start: { state: flow.state, nonce: flow.nonce, codeVerifier: flow.codeVerifier },
        now: now(),
      });
      if (!isAllowedAccount(user, install.allowedDomains)) {
        throw new ClassroomError('domain_not_allowed', {
          detail: `hd ${user.hostedDomain ?? '(none)'}`,
        });
      }
      // Google lets people untick permissions (granular consent). Without the student add-on scope
      // and short of a teacher's, Classroom may not even say who they are here: say what to allow
      // for the view they opened.
      const unlessAllowed = (role: 'teacher' | 'student'): MissingPermissions | undefined => {
        const missing = missingScopes(user.scopes, role);
        return missing.length === 0
          ? undefined
          : {
              kind: 'missing_permissions',
              tenantSlug: install.tenantSlug,
              flowId: flow.flowId,
              role,
              missing,
            };
      };
      if (
        flow.launch.view !== 'link' &&
        missingScopes(user.scopes, 'teacher').length > 0 &&
        missingScopes(user.scopes, 'student').length > 0
      ) {
        const refused = unlessAllowed(flow.launch.view === 'student' ? 'student' : 'teacher');
        if (refused !== undefined) return refused;
      }
      const deleted = await deletionRecords.deletedAmong(install.tenantId, install.issuer, [
        user.sub,
      ]);
      if (deleted.size > 0) throw new ClassroomError('deleted_on_request');
      const api = createClassroomApi({
        http: googleHttpFor(install.apiBaseUrl),
        baseUrl: install.apiBaseUrl,
        accessToken: () => Promise.resolve(user.accessToken),
      });
      // Classroom's query parameters are only claims: Classroom itself says who this user is here.
      const { role, attachmentSubmissionId } = await roleInCourse(api, flow.launch);
      // A teacher without the grading and add-on scopes is never the course's grading teacher.
      const refused = unlessAllowed(role);
      if (refused !== undefined) return refused;
      let title: string | undefined;
      let section: string | undefined;
      try {
        const course = await api.getCourse(flow.launch.courseId);
        title = course.name;
        section = course.section;
      } catch {
        // The title is for display only; the course works without it.
      }
      const tenant = await tenants.findById(install.tenantId);
      const courseId = await repository.upsertCourse({
        tenantId: install.tenantId,
        deploymentRowId: install.deploymentRowId,
        classroomCourseId: flow.launch.courseId,
        title,
        section,
        apiBaseUrl: install.apiBaseUrl,
      });
      const person = await people.upsertUser(
        install.tenantId,
        {
          issuer: install.issuer,
          sub: user.sub,
          name: user.name,
          givenName: user.givenName,
          familyName: user.familyName,
          email: user.email,
        },
        tenant?.settings.storeEmail ?? false,
      );
      await repository.upsertEnrollment({
        tenantId: install.tenantId,
        courseId,
        userId: person.id,
        roles: [CLASSROOM_ROLE_URIS[role]],
      });
      await rememberAttachmentSubmission(install.tenantId, courseId, flow.launch, user.sub, {
        attachmentSubmissionId,
      });
      accessTokens.set(`${install.tenantId}|${person.id}`, {
        token: user.accessToken,
        expiresAt: user.accessTokenExpiresAt,
      });
      let signInRestored = false;
      if (role === 'teacher') {
        const before = await repository.findCourseLink(install.tenantId, courseId);
        const label = refreshTokenLabel(install.tenantId, person.id);
        if (user.refreshToken !== undefined) {
          await repository.saveRefreshToken({
            tenantId: install.tenantId,
            userId: person.id,
            encrypted: sealSecret(user.refreshToken, label, deps.keyEncryptionSecret),
            scopes: user.scopes,
          });
        }
        const stored = await repository.findRefreshToken(install.tenantId, person.id);
        if (
          stored !== undefined &&
          !stored.revoked &&
          missingScopes(stored.scopes, 'teacher').length === 0
        ) {
          await repository.setGradingTeacher(install.tenantId, courseId, person.id);
          signInRestored = before?.needsTeacherSignIn === true;
        }
      }
      const completion = token();
      const completed = await repository.completeFlow({
        state: flow.state,
        userId: person.id,
        courseId,
        role,
        launch: { ...flow.launch, signInRestored },
        completionHash: completionHash(completion),
      });
      if (!completed) throw new ClassroomError('sign_in_expired');
      return { tenantSlug: install.tenantSlug, flowId: flow.flowId, role, completion };
    },

    /**
     * Hands out a completed sign-in once, for "Continue", to the browser holding the completion
     * secret: the flow id alone (printed on the public entry page) is not enough.
     */
    async consumeSignIn(tenantId: string, flowId: string, completion: string) {
      if (!TOKEN_SHAPE.test(completion)) return undefined;
      return repository.consumeFlow(tenantId, flowId, completionHash(completion));
    },
    findSignIn: (tenantId: string, flowId: string) => repository.findFlow(tenantId, flowId),

    /** The Classroom API acting as a signed-in user (their cached or refreshed access token). */
    async apiForUser(tenantId: string, userId: string): Promise<ClassroomApi> {
      return apiFor(await installFor(tenantId), userId);
    },

    /** The LMS port for a Classroom course, acting as the course's grading teacher. */
    async lmsForCourse(
      tenantId: string,
      course: { id: string; contextId: string },
      options: { assignGrades: boolean },
    ) {
      const install = await installFor(tenantId);
      const link = await repository.findCourseLink(tenantId, course.id);
      if (link === undefined) throw new ClassroomError('not_configured');
      return createClassroomLmsAdapter({
        course: {
          issuer: install.issuer,
          deploymentId: `classroom:${tenantId}`,
          contextId: course.contextId,
        },
        tenantId,
        courseId: course.id,
        classroomCourseId: link.classroomCourseId,
        repository,
        assignGrades: options.assignGrades,
        api: async () => {
          const current = await repository.findCourseLink(tenantId, course.id);
          if (current?.gradingUserId === undefined || current.needsTeacherSignIn) {
            throw new ClassroomError('needs_teacher_sign_in');
          }
          return apiFor(install, current.gradingUserId);
        },
      });
    },

    /**
     * The student opens an attachment (student view): Classroom says again which submission of
     * theirs belongs to it, and it is kept for grading.
     */
    async recordStudentOpen(input: {
      tenantId: string;
      userId: string;
      courseId: string;
      classroomCourseId: string;
      itemId: string;
      attachmentId: string;
    }): Promise<void> {
      const install = await installFor(input.tenantId);
      const person = await people.findUserById(input.tenantId, input.userId);
      if (person === undefined) return;
      const context = await apiFor(install, input.userId).getAddOnContext({
        courseId: input.classroomCourseId,
        itemId: input.itemId,
        attachmentId: input.attachmentId,
      });
      await rememberAttachmentSubmission(
        input.tenantId,
        input.courseId,
        { itemId: input.itemId, attachmentId: input.attachmentId },
        person.sub,
        { attachmentSubmissionId: context.studentContext?.submissionId },
      );
    },

    /**
     * An attachment the tool does not know in this course: Classroom copied it (a reused post or a
     * copied class) and its `copyHistory` names the attachments it came from, oldest first. The
     * newest one the district knows gives its activity: a copy of the assignment with its
     * standards is made in this course (as alignments survive an LMS course copy).
     */
    async adoptCopiedAttachment(input: {
      tenantId: string;
      userId: string;
      courseId: string;
      classroomCourseId: string;
      itemId: string;
      attachmentId: string;
    }) {
      const install = await installFor(input.tenantId);
      const attachment = await apiFor(install, input.userId).getAddOnAttachment({
        courseId: input.classroomCourseId,
        itemId: input.itemId,
        attachmentId: input.attachmentId,
      });
      for (const copy of [...(attachment.copyHistory ?? [])].reverse()) {
        const itemId = copy.itemId ?? copy.postId;
        if (itemId === undefined) continue;
        const original = await repository.findColumnByClassroomAttachment(
          input.tenantId,
          copy.courseId,
          itemId,
          copy.attachmentId,
        );
        if (original === undefined) continue;
        return repository.recordCopiedActivity({
          tenantId: input.tenantId,
          courseId: input.courseId,
          original,
          courseWorkId: input.itemId,
          attachmentId: input.attachmentId,
          maxPoints: attachment.maxPoints,
          actor: input.userId,
          lineItemUrl: classroomColumnId({
            kind: 'attachment',
            courseWorkId: input.itemId,
            attachmentId: input.attachmentId,
          }),
        });
      }
      return undefined;
    },

    /**
     * After "Continue": remembers this browser for the person's Google account. Answers the token
     * for the browser's cookie and the account id (Classroom's later `login_hint`).
     */
    async rememberBrowser(
      tenantId: string,
      userId: string,
    ): Promise<{ token: string; googleSub: string } | undefined> {
      const install = await repository.findInstall(tenantId);
      const person = await people.findUserById(tenantId, userId);
      if (install === undefined || person === undefined || person.issuer !== install.issuer) {
        return undefined;
      }
      const browserToken = token();
      await remembered.remember({
        tokenHash: completionHash(browserToken),
        tenantId,
        userId,
        googleSub: person.sub,
        ttlMs: REMEMBER_TTL_MS,
      });
      return { token: browserToken, googleSub: person.sub };
    },

    /**
     * The add-on opened again in a browser remembered for the Google account Classroom names in
     * `login_hint` (sign-in journey guide: a signed-in user is not asked again). Classroom itself
     * still says the role, with the user's cached access token or stored refresh token; when that
     * is not possible, or anything does not match (district, account, expiry, settings changed
     * since), the answer is undefined and the add-on shows its sign-in page.
     */
    async resumeSignIn(
      install: ClassroomInstall,
      launch: ClassroomLaunchParams,
      browserToken: string,
    ): Promise<ResumedSignIn | undefined> {
      if (launch.loginHint === undefined || !TOKEN_SHAPE.test(browserToken)) return undefined;
      const found = await remembered.find(
        install.tenantId,
        completionHash(browserToken),
        launch.loginHint,
      );
      if (found === undefined || found.createdAt.getTime() < install.updatedAt.getTime()) {
        return undefined;
      }
      const person = await people.findUserById(install.tenantId, found.userId);
      if (person?.sub !== launch.loginHint || person.issuer !== install.issuer) return undefined;
      let context: Awaited<ReturnType<typeof roleInCourse>>;
      try {
        await accessTokenFor(install, person.id);
        context = await roleInCourse(apiFor(install, person.id), launch);
      } catch {
        // No token to ask Classroom with, or Classroom refused: the sign-in page, which says why.
        return undefined;
      }
      const { role, attachmentSubmissionId } = context;
      if (role === 'teacher') {
        // A teacher grades with a refresh token: without a usable one, sign in (with consent).
        const stored = await repository.findRefreshToken(install.tenantId, person.id);
        if (
          stored === undefined ||
          stored.revoked ||
          missingScopes(stored.scopes, 'teacher').length > 0
        ) {
          return undefined;
        }
      }
      const courseId = await repository.upsertCourse({
        tenantId: install.tenantId,
        deploymentRowId: install.deploymentRowId,
        classroomCourseId: launch.courseId,
        title: undefined,
        section: undefined,
        apiBaseUrl: install.apiBaseUrl,
      });
      await repository.upsertEnrollment({
        tenantId: install.tenantId,
        courseId,
        userId: person.id,
        roles: [CLASSROOM_ROLE_URIS[role]],
      });
      await rememberAttachmentSubmission(install.tenantId, courseId, launch, person.sub, {
        attachmentSubmissionId,
      });
      return { userId: person.id, courseId, role };
    },

    sweepExpired: async () =>
      (await repository.sweepExpiredFlows()) + (await remembered.sweepExpired()),
  };
}

export type ClassroomServices = ReturnType<typeof createClassroomServices>;
