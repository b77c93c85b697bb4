import type {
  ClassroomInstall,
  ClassroomLaunchParams,
} from '../storage/classroom/classroom.repository.ts';
import { rememberAttachmentSubmission } from './attachments.ts';
import {
  accessTokenFor,
  apiFor,
  CLASSROOM_ROLE_URIS,
  completionHash,
  token,
  TOKEN_SHAPE,
  type ClassroomContext,
} from './context.ts';
import { roleInCourse, type CourseRole } from './sign-in-callback.ts';
import { missingScopes } from './sign-in.ts';

/**
 * A browser remembered for a Google account: after "Continue" it is signed in to the add-on for a
 * school day, so opening the add-on again does not ask Google.
 */

/** How long a browser stays signed in to the add-on for one Google account (a school day). */
export const REMEMBER_TTL_MS = 12 * 60 * 60 * 1000;

/** A browser signed in to the add-on again without Google: who, in which course, as what. */
export interface ResumedSignIn {
  readonly userId: string;
  readonly courseId: string;
  readonly role: 'teacher' | 'student';
}

/**
 * After "Continue": remembers this browser for the person's Google account. Answers the token
 * for the browser's cookie and the account id (Classroom's later `login_hint`).
 */
export async function rememberBrowser(
  ctx: ClassroomContext,
  tenantId: string,
  userId: string,
): Promise<{ token: string; googleSub: string } | undefined> {
  const install = await ctx.repository.findInstall(tenantId);
  const person = await ctx.people.findUserById(tenantId, userId);
  if (install === undefined || person === undefined || person.issuer !== install.issuer) {
    return undefined;
  }
  const browserToken = token();
  await ctx.remembered.remember({
    tokenHash: completionHash(browserToken),
    tenantId,
    userId,
    googleSub: person.sub,
    ttlMs: REMEMBER_TTL_MS,
  });
  return { token: browserToken, googleSub: person.sub };
}

/** A teacher grades with a refresh token: whether they hold a usable one with grading scopes. */
async function hasGradingToken(
  ctx: ClassroomContext,
  install: ClassroomInstall,
  userId: string,
): Promise<boolean> {
  const stored = await ctx.repository.findRefreshToken(install.tenantId, userId);
  return !(
    stored === undefined ||
    stored.revoked ||
    missingScopes(stored.scopes, 'teacher').length > 0
  );
}

/**
 * The add-on opened again in a browser remembered for the Google account Classroom names in
 * `login_hint` (sign-in journey guide: a signed-in user is not asked again). Classroom itself
 * still says the role, with the user's cached access token or stored refresh token; when that
 * is not possible, or anything does not match (district, account, expiry, settings changed
 * since), the answer is undefined and the add-on shows its sign-in page.
 */
export async function resumeSignIn(
  ctx: ClassroomContext,
  install: ClassroomInstall,
  launch: ClassroomLaunchParams,
  browserToken: string,
): Promise<ResumedSignIn | undefined> {
  const { repository } = ctx;
  if (launch.loginHint === undefined || !TOKEN_SHAPE.test(browserToken)) return undefined;
  const found = await ctx.remembered.find(
    install.tenantId,
    completionHash(browserToken),
    launch.loginHint,
  );
  if (found === undefined || found.createdAt.getTime() < install.updatedAt.getTime()) {
    return undefined;
  }
  const person = await ctx.people.findUserById(install.tenantId, found.userId);
  if (person?.sub !== launch.loginHint || person.issuer !== install.issuer) return undefined;
  let context: CourseRole;
  try {
    await accessTokenFor(ctx, install, person.id);
    context = await roleInCourse(apiFor(ctx, install, person.id), launch);
  } catch {
    // No token to ask Classroom with, or Classroom refused: the sign-in page, which says why.
    return undefined;
  }
  const { role, attachmentSubmissionId } = context;
  // A teacher grades with a refresh token: without a usable one, sign in (with consent).
  if (role === 'teacher' && !(await hasGradingToken(ctx, install, person.id))) return undefined;
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
  await rememberAttachmentSubmission(ctx, install.tenantId, courseId, launch, person.sub, {
    attachmentSubmissionId,
  });
  return { userId: person.id, courseId, role };
}
