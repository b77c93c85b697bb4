import type { AreaDeps } from '../area-deps.ts';
import type {
  ClassroomInstall,
  ClassroomLaunchParams,
} from '../storage/classroom/classroom.repository.ts';
import type { ClassroomApi } from './api.ts';
import { adoptCopiedAttachment, recordStudentOpen, type AttachmentOpened } from './attachments.ts';
import {
  apiFor,
  completionHash,
  createClassroomContext,
  installFor,
  TOKEN_SHAPE,
  type ClassroomContext,
} from './context.ts';
import { lmsForCourse } from './course-link.ts';
import { saveInstall, type InstallSettings } from './install.ts';
import { rememberBrowser, resumeSignIn, type ResumedSignIn } from './remembered-browser.ts';
import {
  handleCallback,
  type CallbackResult,
  type MissingPermissions,
} from './sign-in-callback.ts';
import {
  authorizationRedirect,
  prepareSignIn,
  verifyLaunchToken,
  type PreparedSignIn,
} from './sign-in-start.ts';

/**
 * The Classroom add-on's services, split by concern into sibling files: the shared context and
 * Google access (`context.ts`), the district's settings (`install.ts`), the start and the
 * callback of sign-in (`sign-in-start.ts`, `sign-in-callback.ts`), remembered browsers
 * (`remembered-browser.ts`), attachments (`attachments.ts`) and the course's LMS port
 * (`course-link.ts`). This file puts them together and re-exports what callers use.
 */

export {
  CLASSROOM_ROLE_URIS,
  CLASSROOM_USER_AGENT,
  completionHash,
  NEEDS_SIGN_IN_REASON,
} from './context.ts';
export type { InstallSettings } from './install.ts';
export { REMEMBER_TTL_MS, type ResumedSignIn } from './remembered-browser.ts';
export type { CallbackResult, MissingPermissions } from './sign-in-callback.ts';
export { SIGN_IN_TTL_MS, type PreparedSignIn } from './sign-in-start.ts';

/**
 * Hands out a completed sign-in once, for "Continue", to the browser holding the completion
 * secret: the flow id alone (printed on the public entry page) is not enough.
 */
async function consumeSignIn(
  ctx: ClassroomContext,
  tenantId: string,
  flowId: string,
  completion: string,
) {
  if (!TOKEN_SHAPE.test(completion)) return undefined;
  return ctx.repository.consumeFlow(tenantId, flowId, completionHash(completion));
}

/** The Classroom add-on's services (sign-in, API access per user, the LMS port for passback). */
export function createClassroomServices(deps: AreaDeps) {
  const ctx = createClassroomContext(deps);
  const { repository } = ctx;
  return {
    repository,

    findInstall: (tenantId: string) => repository.findInstall(tenantId),
    findInstallBySlug: (slug: string) => repository.findInstallBySlug(slug),

    /** Saves the district's Classroom settings, once the issuer's discovery document is read. */
    saveInstall: (tenantId: string, settings: InstallSettings): Promise<{ created: boolean }> =>
      saveInstall(ctx, tenantId, settings),

    /** Prepares a sign-in for an add-on page without storing anything. */
    prepareSignIn: (install: ClassroomInstall, launch: ClassroomLaunchParams): PreparedSignIn =>
      prepareSignIn(ctx, install, launch),

    /** Whether a launch token is this district's, for this flow, and not expired. */
    isValidLaunchToken: (install: ClassroomInstall, flowId: string, launchToken: string) =>
      verifyLaunchToken(ctx, launchToken, install.tenantId, flowId) !== undefined,

    /** Starts sign-in (the sign-in window): the flow row is created, then Google gets the state. */
    authorizationRedirect: (
      install: ClassroomInstall,
      flowId: string,
      launchToken: string | undefined,
      redirectUri: string,
    ): Promise<URL> => authorizationRedirect(ctx, install, flowId, launchToken, redirectUri),

    /** The redirect URI's work (see `sign-in-callback.ts`). */
    handleCallback: (currentUrl: URL): Promise<CallbackResult | MissingPermissions> =>
      handleCallback(ctx, currentUrl),

    /** Hands out a completed sign-in once, to the browser holding the completion secret. */
    consumeSignIn: (tenantId: string, flowId: string, completion: string) =>
      consumeSignIn(ctx, tenantId, flowId, completion),
    findSignIn: (tenantId: string, flowId: string) => repository.findFlow(tenantId, flowId),

    /** The Classroom API acting as a signed-in user (their cached or refreshed access token). */
    apiForUser: async (tenantId: string, userId: string): Promise<ClassroomApi> =>
      apiFor(ctx, await installFor(ctx, tenantId), userId),

    /** The LMS port for a Classroom course, acting as the course's grading teacher. */
    lmsForCourse: (
      tenantId: string,
      course: { id: string; contextId: string },
      options: { assignGrades: boolean },
    ) => lmsForCourse(ctx, tenantId, course, options),

    /** The student opens an attachment: the submission of theirs on it is kept for grading. */
    recordStudentOpen: (input: AttachmentOpened): Promise<void> => recordStudentOpen(ctx, input),

    /** An attachment Classroom copied: the activity it came from is copied into this course. */
    adoptCopiedAttachment: (input: AttachmentOpened) => adoptCopiedAttachment(ctx, input),

    /** After "Continue": remembers this browser for the person's Google account. */
    rememberBrowser: (
      tenantId: string,
      userId: string,
    ): Promise<{ token: string; googleSub: string } | undefined> =>
      rememberBrowser(ctx, tenantId, userId),

    /** The add-on opened again in a remembered browser: signed in without Google, if all match. */
    resumeSignIn: (
      install: ClassroomInstall,
      launch: ClassroomLaunchParams,
      browserToken: string,
    ): Promise<ResumedSignIn | undefined> => resumeSignIn(ctx, install, launch, browserToken),

    sweepExpired: async () =>
      (await repository.sweepExpiredFlows()) + (await ctx.remembered.sweepExpired()),
  };
}

export type ClassroomServices = ReturnType<typeof createClassroomServices>;
