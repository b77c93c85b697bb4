import type { Request, RequestHandler, Router } from 'express';
import type { AddOnDeps } from '../../../classroom/add-on-deps.ts';
import { continueSignIn, installBySlug, openAddOn } from '../../../classroom/add-on-sign-in.ts';
import { ClassroomError } from '../../../classroom/errors.ts';
import { readRememberCookie, setRememberCookie } from '../../classroom-browser-cookie.ts';
import {
  classroomUrls,
  completionSchema,
  flowIdSchema,
  launchTokenSchema,
  queryString,
  readLaunch,
  sessionTarget,
  type View,
} from './params.ts';

export interface SignInPagesDeps {
  readonly addOn: AddOnDeps;
  readonly publicUrl: string;
}

const NOT_FINISHED =
  'Mastery Pathways has not received your sign-in yet. Choose “Sign in with Google” and finish in the new window. If this page does not continue by itself, choose “Continue here instead” in that window.';

function signInModel(
  tenantSlug: string,
  flowId: string,
  launchToken: string,
  notice: string | undefined,
) {
  const district = `/classroom/${encodeURIComponent(tenantSlug)}`;
  return {
    layout: 'tool',
    title: 'Sign in',
    scripts: ['classroom-sign-in'],
    signInUrl: `${district}/sign-in/${flowId}?${new URLSearchParams({ l: launchToken }).toString()}`,
    continueUrl: `${district}/continue/${flowId}`,
    launchToken,
    notice,
  };
}

const tenantOf = (req: Request): string | undefined => req.params.tenant as string | undefined;

/** The add-on's entry points: what Classroom opens in its iframe, one per view. */
function entry(deps: SignInPagesDeps, view: View): RequestHandler {
  return async function openAddOnView(req, res) {
    const install = await installBySlug(deps.addOn, tenantOf(req));
    const launch = readLaunch(req, view);
    const opened = await openAddOn(deps.addOn, {
      install,
      launch,
      remembered: readRememberCookie(req, install.tenantId, launch.loginHint),
    });
    if (opened.outcome === 'session') {
      res.redirect(303, sessionTarget(`/s/${opened.token}`, launch));
      return;
    }
    const { flowId, launchToken } = opened.prepared;
    res.render(
      'classroom/sign-in',
      signInModel(install.tenantSlug, flowId, launchToken, undefined),
    );
  };
}

/** The popup (or new tab): Google refuses to be framed, so sign-in leaves the iframe. */
function signInWindow(deps: SignInPagesDeps): RequestHandler {
  return async function startGoogleSignIn(req, res) {
    const install = await installBySlug(deps.addOn, tenantOf(req));
    const flowId = flowIdSchema.safeParse(req.params.flowId);
    if (!flowId.success) throw new ClassroomError('sign_in_expired');
    const launchToken = launchTokenSchema.safeParse(queryString(req, 'l'));
    const target = await deps.addOn.classroom.authorizationRedirect(
      install,
      flowId.data,
      launchToken.success ? launchToken.data : undefined,
      classroomUrls(deps.publicUrl, install.tenantSlug).redirectUri,
    );
    res.redirect(302, target.toString());
  };
}

function oauthCallback(deps: SignInPagesDeps): RequestHandler {
  return async function finishGoogleSignIn(req, res) {
    const { logger, classroom } = deps.addOn;
    const current = new URL(req.originalUrl, classroomUrls(deps.publicUrl, 'x').redirectUri);
    const result = await classroom.handleCallback(current);
    if ('kind' in result) {
      // Permissions unticked at Google's consent screen: say which, and offer to sign in again
      // (the same flow: the add-on iframe that opened this window still continues by itself).
      logger.info(
        { role: result.role, missing: result.missing.map((m) => m.scope) },
        'classroom sign-in lacks permissions',
      );
      res.status(403).render('classroom/permissions', {
        layout: 'tool',
        title: 'Allow Mastery Pathways in Google',
        role: result.role,
        missing: result.missing,
        signInAgainUrl: `/classroom/${encodeURIComponent(result.tenantSlug)}/sign-in/${result.flowId}`,
      });
      return;
    }
    logger.info({ role: result.role }, 'classroom sign-in completed');
    // Only this browser learns the completion secret: the page hands it to the add-on iframe that
    // opened it (postMessage, same origin only), or carries it in "Continue here instead".
    const completion = new URLSearchParams({ k: result.completion }).toString();
    res.render('classroom/signed-in', {
      layout: 'tool',
      title: 'Signed in',
      scripts: ['classroom-signed-in'],
      completion: result.completion,
      continueUrl: `/classroom/${encodeURIComponent(result.tenantSlug)}/continue/${result.flowId}?${completion}`,
    });
  };
}

/**
 * "Continue": a completed sign-in becomes a tool session, once, for the browser that finished it
 * (the completion secret `k`); the flow id alone is public (it is on the entry page).
 */
function continueAfterSignIn(deps: SignInPagesDeps): RequestHandler {
  return async function continueToSession(req, res) {
    const install = await installBySlug(deps.addOn, tenantOf(req));
    const flowId = flowIdSchema.safeParse(req.params.flowId);
    if (!flowId.success) throw new ClassroomError('sign_in_expired');
    const completion = completionSchema.safeParse(queryString(req, 'k'));
    const launchToken = launchTokenSchema.safeParse(queryString(req, 'l'));
    const continued = await continueSignIn(deps.addOn, {
      install,
      flowId: flowId.data,
      completion: completion.success ? completion.data : undefined,
      launchToken: launchToken.success ? launchToken.data : undefined,
    });
    if (continued.outcome === 'not-finished') {
      res.render(
        'classroom/sign-in',
        signInModel(install.tenantSlug, flowId.data, continued.launchToken, NOT_FINISHED),
      );
      return;
    }
    if (continued.remember !== undefined) {
      setRememberCookie(res, {
        tenantSlug: install.tenantSlug,
        tenantId: install.tenantId,
        googleSub: continued.remember.googleSub,
        token: continued.remember.token,
      });
    }
    res.redirect(303, sessionTarget(`/s/${continued.token}`, continued.launch));
  };
}

/** The add-on's entry points and its Google sign-in (`/classroom/...`). */
export function classroomSignInPages(router: Router, deps: SignInPagesDeps): void {
  router.get('/classroom/:tenant/attachment-setup', entry(deps, 'setup'));
  router.get('/classroom/:tenant/teacher-view', entry(deps, 'teacher'));
  router.get('/classroom/:tenant/student-view', entry(deps, 'student'));
  router.get('/classroom/:tenant/student-work-review', entry(deps, 'review'));
  router.get('/classroom/:tenant/link', entry(deps, 'link'));
  router.get('/classroom/:tenant/sign-in/:flowId', signInWindow(deps));
  router.get('/classroom/oauth/callback', oauthCallback(deps));
  router.get('/classroom/:tenant/continue/:flowId', continueAfterSignIn(deps));
}
