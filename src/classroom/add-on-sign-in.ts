import type { AddOnDeps, ClassroomInstall, ClassroomLaunchParams } from './add-on-deps.ts';
import { ClassroomError } from './errors.ts';
import { CLASSROOM_ROLE_URIS, type PreparedSignIn } from './services.ts';

/** The add-on's district, by the slug in its URLs; an unknown one is "not configured". */
export async function installBySlug(
  deps: AddOnDeps,
  slug: string | undefined,
): Promise<ClassroomInstall> {
  const install = slug === undefined ? undefined : await deps.classroom.findInstallBySlug(slug);
  if (install === undefined) throw new ClassroomError('not_configured');
  return install;
}

export type OpenedAddOn =
  /** Signed in before in this browser as the account Classroom names: a session at once. */
  | { readonly outcome: 'session'; readonly token: string }
  /** Nothing is stored yet: the flow row is created when sign-in starts (the sign-in window). */
  | { readonly outcome: 'sign-in'; readonly prepared: PreparedSignIn };

/** What Classroom opens in its iframe: a session for a remembered browser, else a sign-in page. */
export async function openAddOn(
  deps: AddOnDeps,
  input: {
    install: ClassroomInstall;
    launch: ClassroomLaunchParams;
    /** The token this browser's cookie holds for the district and account, if any. */
    remembered: string | undefined;
  },
): Promise<OpenedAddOn> {
  const { install, launch, remembered } = input;
  const resumed =
    remembered === undefined
      ? undefined
      : await deps.classroom.resumeSignIn(install, launch, remembered);
  if (resumed !== undefined) {
    const { token } = await deps.sessions.create({
      tenantId: install.tenantId,
      userId: resumed.userId,
      courseId: resumed.courseId,
      roles: [CLASSROOM_ROLE_URIS[resumed.role]],
    });
    deps.logger.info(
      { tenantId: install.tenantId, view: launch.view, resumed: true },
      'classroom add-on opened',
    );
    return { outcome: 'session', token };
  }
  const prepared = deps.classroom.prepareSignIn(install, launch);
  deps.logger.info({ tenantId: install.tenantId, view: launch.view }, 'classroom add-on opened');
  return { outcome: 'sign-in', prepared };
}

export type ContinuedSignIn =
  /** Not finished, or not by this browser: the iframe's page again, never a session. */
  | { readonly outcome: 'not-finished'; readonly launchToken: string }
  | {
      readonly outcome: 'session';
      readonly token: string;
      readonly launch: ClassroomLaunchParams;
      /** What the browser's cookie keeps, so the next opening needs no window. */
      readonly remember: { readonly googleSub: string; readonly token: string } | undefined;
    };

/**
 * "Continue": a completed sign-in becomes a tool session, once, for the browser that finished it
 * (the completion secret); the flow id alone is public (it is on the entry page).
 */
export async function continueSignIn(
  deps: AddOnDeps,
  input: {
    install: ClassroomInstall;
    flowId: string;
    completion: string | undefined;
    /** The signed launch parameters the iframe's page carries, to show that page again. */
    launchToken: string | undefined;
  },
): Promise<ContinuedSignIn> {
  const { install } = input;
  const flow =
    input.completion === undefined
      ? undefined
      : await deps.classroom.consumeSignIn(install.tenantId, input.flowId, input.completion);
  if (flow === undefined) {
    const { launchToken } = input;
    if (
      launchToken === undefined ||
      !deps.classroom.isValidLaunchToken(install, input.flowId, launchToken)
    ) {
      throw new ClassroomError('sign_in_expired');
    }
    return { outcome: 'not-finished', launchToken };
  }
  if (flow.userId === undefined || flow.courseId === undefined || flow.role === undefined) {
    throw new ClassroomError('sign_in_expired');
  }
  const { token } = await deps.sessions.create({
    tenantId: install.tenantId,
    userId: flow.userId,
    courseId: flow.courseId,
    roles: [CLASSROOM_ROLE_URIS[flow.role]],
  });
  // This browser (Classroom's frame) stays signed in for the account: next time, no window.
  const remember = await deps.classroom.rememberBrowser(install.tenantId, flow.userId);
  return { outcome: 'session', token, launch: flow.launch, remember };
}
