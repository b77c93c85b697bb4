import type {
  ClassroomInstall,
  ClassroomLaunchParams,
  SignInFlow,
} from '../storage/classroom/classroom.repository.ts';
import { createClassroomApi, type ClassroomApi } from './api.ts';
import { rememberAttachmentSubmission } from './attachments.ts';
import {
  CLASSROOM_ROLE_URIS,
  completionHash,
  configurationFor,
  googleHttpFor,
  installFor,
  token,
  type ClassroomContext,
} from './context.ts';
import { ClassroomError, classroomErrorFromGoogle } from './errors.ts';
import { refreshTokenLabel, sealSecret } from './secrets.ts';
import {
  finishAuthorization,
  isAllowedAccount,
  missingScopes,
  type SignedInUser,
} from './sign-in.ts';

/**
 * The redirect URI's work, as a checklist of named steps: the flow by state → the code exchange
 * (PKCE, state, nonce) → the district's domains → the user's role in the course, from Classroom
 * itself → course, person and enrollment recorded → the teacher's refresh token kept (encrypted).
 */

type Role = 'teacher' | 'student';

export interface CallbackResult {
  readonly tenantSlug: string;
  readonly flowId: string;
  readonly role: Role;
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
  readonly role: Role;
  readonly missing: readonly { scope: string; words: string }[];
}

/** The user's role in the course, and a student's own submission on the attachment. */
export interface CourseRole {
  role: Role;
  attachmentSubmissionId?: string | undefined;
}

/**
 * The user's role, from Classroom: getAddOnContext (on the item's own collection, by `itemType`,
 * with the addOnToken or attachment id) for add-on pages, roster membership for the plain-CourseWork
 * link. A student's context carries their own submission id on the attachment.
 */
export async function roleInCourse(
  api: ClassroomApi,
  launch: ClassroomLaunchParams,
): Promise<CourseRole> {
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

/** Step: the open flow named by `state`, and Google's answer not an error. */
async function openFlowOf(ctx: ClassroomContext, currentUrl: URL): Promise<SignInFlow> {
  const state = currentUrl.searchParams.get('state');
  const flow = state === null ? undefined : await ctx.repository.findFlowByState(state);
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
  return flow;
}

/** Step: the code exchange (PKCE, state, nonce), then the district's allowed domains. */
async function signedInUser(
  ctx: ClassroomContext,
  install: ClassroomInstall,
  flow: SignInFlow,
  currentUrl: URL,
): Promise<SignedInUser> {
  const user = await finishAuthorization(await configurationFor(ctx, install), {
    currentUrl,
    start: { state: flow.state, nonce: flow.nonce, codeVerifier: flow.codeVerifier },
    now: ctx.now(),
  });
  if (!isAllowedAccount(user, install.allowedDomains)) {
    throw new ClassroomError('domain_not_allowed', {
      detail: `hd ${user.hostedDomain ?? '(none)'}`,
    });
  }
  return user;
}

/** The permissions a role cannot work without that the user did not allow, if any. */
function unlessAllowed(
  install: ClassroomInstall,
  flow: SignInFlow,
  user: SignedInUser,
  role: Role,
): MissingPermissions | undefined {
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
}

/**
 * Step: Google lets people untick permissions (granular consent). Without the student add-on
 * scope and short of a teacher's, Classroom may not even say who they are here: say what to allow
 * for the view they opened.
 */
function refusedBeforeRole(
  install: ClassroomInstall,
  flow: SignInFlow,
  user: SignedInUser,
): MissingPermissions | undefined {
  if (
    flow.launch.view !== 'link' &&
    missingScopes(user.scopes, 'teacher').length > 0 &&
    missingScopes(user.scopes, 'student').length > 0
  ) {
    return unlessAllowed(
      install,
      flow,
      user,
      flow.launch.view === 'student' ? 'student' : 'teacher',
    );
  }
  return undefined;
}

/** The course's title and section, for display only: the course works without them. */
async function courseTitle(
  api: ClassroomApi,
  classroomCourseId: string,
): Promise<{ title: string | undefined; section: string | undefined }> {
  try {
    const course = await api.getCourse(classroomCourseId);
    return { title: course.name, section: course.section };
  } catch {
    // The title is for display only; the course works without it.
    return { title: undefined, section: undefined };
  }
}

/** Step: course, person and enrollment recorded; the user's access token cached. */
async function recordSignIn(
  ctx: ClassroomContext,
  install: ClassroomInstall,
  flow: SignInFlow,
  user: SignedInUser,
  api: ClassroomApi,
  { role, attachmentSubmissionId }: CourseRole,
): Promise<{ courseId: string; userId: string }> {
  const { repository } = ctx;
  const { title, section } = await courseTitle(api, flow.launch.courseId);
  const tenant = await ctx.tenants.findById(install.tenantId);
  const courseId = await repository.upsertCourse({
    tenantId: install.tenantId,
    deploymentRowId: install.deploymentRowId,
    classroomCourseId: flow.launch.courseId,
    title,
    section,
    apiBaseUrl: install.apiBaseUrl,
  });
  const person = await ctx.people.upsertUser(
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
  await rememberAttachmentSubmission(ctx, install.tenantId, courseId, flow.launch, user.sub, {
    attachmentSubmissionId,
  });
  ctx.accessTokens.set(`${install.tenantId}|${person.id}`, {
    token: user.accessToken,
    expiresAt: user.accessTokenExpiresAt,
  });
  return { courseId, userId: person.id };
}

/**
 * Step, for a teacher: the refresh token kept (encrypted); one with the grading scopes makes them
 * the course's grading teacher. Answers whether this sign-in restored a course that needed one.
 */
async function keepTeacherSignIn(
  ctx: ClassroomContext,
  install: ClassroomInstall,
  user: SignedInUser,
  courseId: string,
  userId: string,
): Promise<boolean> {
  const { repository } = ctx;
  const before = await repository.findCourseLink(install.tenantId, courseId);
  const label = refreshTokenLabel(install.tenantId, userId);
  if (user.refreshToken !== undefined) {
    await repository.saveRefreshToken({
      tenantId: install.tenantId,
      userId,
      encrypted: sealSecret(user.refreshToken, label, ctx.keyEncryptionSecret),
      scopes: user.scopes,
    });
  }
  const stored = await repository.findRefreshToken(install.tenantId, userId);
  if (
    stored !== undefined &&
    !stored.revoked &&
    missingScopes(stored.scopes, 'teacher').length === 0
  ) {
    await repository.setGradingTeacher(install.tenantId, courseId, userId);
    return before?.needsTeacherSignIn === true;
  }
  return false;
}

/** The redirect URI's work (see the checklist above). */
export async function handleCallback(
  ctx: ClassroomContext,
  currentUrl: URL,
): Promise<CallbackResult | MissingPermissions> {
  const flow = await openFlowOf(ctx, currentUrl);
  const install = await installFor(ctx, flow.tenantId);
  const user = await signedInUser(ctx, install, flow, currentUrl);
  const refusedEarly = refusedBeforeRole(install, flow, user);
  if (refusedEarly !== undefined) return refusedEarly;
  const deleted = await ctx.deletionRecords.deletedAmong(install.tenantId, install.issuer, [
    user.sub,
  ]);
  if (deleted.size > 0) throw new ClassroomError('deleted_on_request');
  const api = createClassroomApi({
    http: googleHttpFor(ctx, install.apiBaseUrl),
    baseUrl: install.apiBaseUrl,
    accessToken: () => Promise.resolve(user.accessToken),
  });
  // Classroom's query parameters are only claims: Classroom itself says who this user is here.
  const courseRole = await roleInCourse(api, flow.launch);
  const { role } = courseRole;
  // A teacher without the grading and add-on scopes is never the course's grading teacher.
  const refused = unlessAllowed(install, flow, user, role);
  if (refused !== undefined) return refused;
  const { courseId, userId } = await recordSignIn(ctx, install, flow, user, api, courseRole);
  const signInRestored =
    role === 'teacher' && (await keepTeacherSignIn(ctx, install, user, courseId, userId));
  const completion = token();
  const completed = await ctx.repository.completeFlow({
    state: flow.state,
    userId,
    courseId,
    role,
    launch: { ...flow.launch, signInRestored },
    completionHash: completionHash(completion),
  });
  if (!completed) throw new ClassroomError('sign_in_expired');
  return { tenantSlug: install.tenantSlug, flowId: flow.flowId, role, completion };
}
