import express, { Router, type Request, type Response } from 'express';
import type { AppServices } from '../../app-services.ts';
import type { Logger } from '../../logger.ts';
import { canvasDeveloperKeyConfig } from '../../lti/canvas-config.ts';
import { isAdministrator, isInstructor, isMentor } from '../../lti/claims.ts';
import { isLtiError, LtiError } from '../../lti/errors.ts';
import {
  handleLogin,
  randomToken,
  type LoginResult,
  type LoginStateStore,
  type ToolEndpoints,
} from '../../lti/login.ts';
import { acceptLaunch, type DeploymentLookup } from '../../lti/launch.ts';
import { createLoginRestartRepository } from '../../storage/lti/login-restarts.repository.ts';
import { UnknownPlatformError } from '../../storage/lti/login-states.repository.ts';
import { PeopleStorageError } from '../../storage/lti/people.repository.ts';
import { deletedOnRequest } from '../errors.ts';
import { readCookie } from '../cookies.ts';
import { logRefusedLaunch } from '../launch-refusals.ts';
import {
  clearBindingCookie,
  bindingCookieName,
  setBindingCookie,
  storageKey,
} from '../lti-binding.ts';
import {
  approverOf,
  findPendingPlatform,
  frameOriginsOf,
  isTopLevelNavigation,
  restartUrl,
} from '../lti-restart.ts';
import { allowFrameAncestors } from '../middleware/security.ts';
import { requestContext } from '../request-context.ts';
import { isUuid } from '../../ids.ts';

export const LTI_PATHS = {
  jwks: '/.well-known/jwks.json',
  login: '/lti/login',
  launch: '/lti/launch',
  register: '/lti/register',
  canvasConfig: '/lti/canvas.json',
} as const;

export function toolEndpoints(publicUrl: string): ToolEndpoints {
  return {
    baseUrl: publicUrl,
    redirectUri: `${publicUrl}${LTI_PATHS.launch}`,
    launchPaths: [LTI_PATHS.launch],
  };
}

/** How long a teacher has to pick what to add after the LMS opened the selection dialog. */
const DEEP_LINK_TTL_MS = 60 * 60 * 1000;

const form = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 50 });

/** Express 5 gives `req.body` as undefined without a body; LTI parameters are flat strings. */
function parameters(req: Request): Record<string, unknown> {
  const source: unknown = req.method === 'GET' ? req.query : req.body;
  return typeof source === 'object' && source !== null ? { ...source } : {};
}

/**
 * The LMS-facing endpoints. Their paths are what admins paste into LMS registrations, so they are
 * stable (LTI_PATHS) and shown on the admin page.
 */
export function ltiRoutes(deps: {
  services: AppServices;
  publicUrl: string;
  logger: Logger;
}): Router {
  const { services, publicUrl, logger } = deps;
  const endpoints = toolEndpoints(publicUrl);
  const router = Router();
  const loginRestarts = createLoginRestartRepository(services.db, services.now);

  router.get(LTI_PATHS.jwks, async (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json(await services.toolKeys.jwks());
  });

  router.get(LTI_PATHS.canvasConfig, (_req, res) => {
    res.json(
      canvasDeveloperKeyConfig({
        baseUrl: publicUrl,
        title: 'Mastery Pathways',
        description:
          'Standards-based mastery: evidence by standard, transparent mastery levels, and mastery grades in the gradebook.',
        paths: {
          login: LTI_PATHS.login,
          launch: LTI_PATHS.launch,
          // Deep Linking requests arrive at the same redirect URI as resource link launches.
          deepLinking: LTI_PATHS.launch,
          jwks: LTI_PATHS.jwks,
        },
      }),
    );
  });

  // The platform lookup may answer from what it kept for a few seconds; a platform removed in that
  // time is caught when its login state is saved, and refused like any unknown issuer.
  const loginStates: LoginStateStore = {
    save: async (loginState) => {
      try {
        await services.loginStates.save(loginState);
      } catch (error) {
        if (!(error instanceof UnknownPlatformError)) throw error;
        throw new LtiError('unknown_issuer', {
          detail: `iss ${loginState.issuer} client_id ${loginState.clientId} (removed)`,
          cause: error,
        });
      }
    },
    take: (state) => services.loginStates.take(state),
  };

  const login = async (req: Request, res: Response): Promise<void> => {
    const input = parameters(req);
    let result: LoginResult;
    try {
      result = await handleLogin(input, {
        platforms: services.platformLookup,
        states: loginStates,
        endpoints,
        now: services.now,
        randomToken,
      });
    } catch (error) {
      if (isLtiError(error, 'unknown_issuer') || isLtiError(error, 'unknown_client')) {
        // Registered (Dynamic Registration) but not approved yet: say so, inside the LMS's frame.
        const pending = await findPendingPlatform(services, input);
        if (pending !== undefined) {
          allowFrameAncestors(res, frameOriginsOf(pending));
          res
            .status(403)
            .set('Cache-Control', 'no-store')
            .render('lti/pending', {
              layout: 'minimal',
              title: 'Waiting for approval',
              platformHost: new URL(pending.issuer).host,
              approver: await approverOf(services, pending, publicUrl),
              requestId: requestContext(req).requestId,
            });
          return;
        }
      }
      throw error;
    }
    // The cookie is the fallback binding; platform storage is the primary one where offered.
    setBindingCookie(res, result.state);
    res.set('Cache-Control', 'no-store');
    if (result.storageTarget === undefined) {
      if (isTopLevelNavigation(req)) {
        // The tool's own window: its sessionStorage binds the login, with or without cookies.
        res.render('lti/window-put', {
          layout: 'minimal',
          title: 'Opening Mastery Pathways',
          key: storageKey(result.state),
          value: result.state,
          next: result.authRequestUrl.toString(),
        });
        return;
      }
      // In a frame without platform storage only the cookie binds the login; keep what starting
      // it again in a new window needs, for a browser that keeps no cookie there.
      await loginRestarts.save({
        state: result.state,
        loginHint: result.loginHint,
        messageHint: result.messageHint,
      });
      res.redirect(302, result.authRequestUrl.toString());
      return;
    }
    res.render('lti/storage-put', {
      layout: 'minimal',
      title: 'Opening Mastery Pathways',
      storageTarget: result.storageTarget,
      platformOrigin: new URL(result.registration.authorizationEndpoint).origin,
      key: storageKey(result.state),
      value: result.state,
      next: result.authRequestUrl.toString(),
    });
  };
  router.get(LTI_PATHS.login, login);
  router.post(LTI_PATHS.login, form, login);

  router.post(LTI_PATHS.launch, form, async (req, res) => {
    const params = parameters(req);
    const state = typeof params.state === 'string' ? params.state : undefined;
    let binding = state === undefined ? undefined : readCookie(req, bindingCookieName(state));
    const storageBinding = params.lti_storage_binding;
    if (binding === undefined && typeof storageBinding === 'string' && storageBinding !== '') {
      // The platform-storage page is served by us and posts back to us: a cross-site form posting a
      // made-up binding (login CSRF) carries a foreign Origin and is refused.
      if (req.get('origin') !== publicUrl) {
        throw new LtiError('state_mismatch', {
          detail: `storage binding from origin ${req.get('origin') ?? 'none'}`,
        });
      }
      binding = storageBinding;
    }
    if (binding === undefined && state !== undefined && storageBinding === undefined) {
      const storage = await services.loginStates.peekStorage(state);
      if (storage !== undefined) {
        res.set('Cache-Control', 'no-store').render('lti/storage-get', {
          layout: 'minimal',
          title: 'Opening Mastery Pathways',
          storageTarget: storage.storageTarget,
          platformOrigin: new URL(storage.authorizationEndpoint).origin,
          key: storageKey(state),
          idToken: typeof params.id_token === 'string' ? params.id_token : '',
          state,
        });
        return;
      }
      if (isTopLevelNavigation(req)) {
        // The tool's own window: the login page kept the state in this tab's sessionStorage.
        res.set('Cache-Control', 'no-store').render('lti/window-get', {
          layout: 'minimal',
          title: 'Opening Mastery Pathways',
          key: storageKey(state),
          idToken: typeof params.id_token === 'string' ? params.id_token : '',
          state,
        });
        return;
      }
      const restart = await loginRestarts.peek(state);
      if (restart !== undefined) {
        // No cookie in the LMS frame (Safari, iPads) and no platform storage: the launch cannot
        // be bound here, but the same login can start again in the tool's own window.
        logger.info(
          {
            requestId: requestContext(req).requestId,
            code: 'state_mismatch',
            issuer: restart.issuer,
          },
          'launch without a browser binding in a frame; offered a new window',
        );
        res
          .status(400)
          .set('Cache-Control', 'no-store')
          .render('lti/restart', {
            layout: 'minimal',
            title: 'Open Mastery Pathways in a new window',
            restartUrl: restartUrl(publicUrl, LTI_PATHS.login, restart),
            requestId: requestContext(req).requestId,
          });
        return;
      }
    }

    // The allow-list check: a deployment found in the last few seconds is allowed without asking
    // the database again (the launch record re-resolves it in its own statement, from the
    // database); an unlisted one may be captured by its platform (Canvas Dynamic Registration).
    const deployments: DeploymentLookup = {
      isAllowed: async (issuer, clientId, deploymentId) =>
        (await services.deployments.resolve(issuer, clientId, deploymentId)) !== undefined ||
        (await services.deploymentLookup.isAllowed(issuer, clientId, deploymentId)),
    };
    const { launch, recorded: accepted } = await acceptLaunch(
      { params, browserBinding: binding },
      {
        platforms: services.platformLookup,
        states: services.loginStates,
        deployments,
        platformKeys: services.platformKeys,
        endpoints,
        now: services.now,
      },
      // One statement: the nonce claim, the launch record and the session, all or nothing.
      async (verified, nonce) => {
        const prepared = services.sessions.prepare();
        const result = await services.people.acceptLaunch({
          launch: verified,
          nonce,
          session: prepared.row,
          personHash: services.deletionRecords.hashPerson(verified.issuer, verified.sub),
        });
        switch (result.outcome) {
          case 'nonce_replay':
            return undefined;
          case 'person_deleted':
            throw deletedOnRequest(result.deletedAt);
          case 'unknown_deployment':
            throw new LtiError('unknown_deployment', {
              detail: `deployment_id ${verified.deploymentId} (no longer registered)`,
              diagnostics: {
                check: 'recordLaunch',
                issuer: verified.issuer,
                clientId: verified.clientId,
                deploymentId: verified.deploymentId,
              },
            });
          case 'course_in_other_tenant':
            throw new PeopleStorageError(
              'deployment_not_in_tenant',
              'the course of this launch belongs to another tenant',
            );
          case 'accepted':
            return { ...result, token: prepared.token };
        }
      },
    ).catch((error: unknown) => {
      logRefusedLaunch(logger, req, error);
      throw error;
    });
    if (state !== undefined) clearBindingCookie(res, state);

    const { tenantId, deploymentRowId, record, session, token } = accepted;
    const deployment = { tenantId, deploymentRowId };
    if (launch.messageType === 'LtiDeepLinkingRequest') {
      await services.deepLinks.create({
        tenantId: deployment.tenantId,
        sessionId: session.id,
        deploymentRowId: deployment.deploymentRowId,
        courseId: record.course?.id,
        settings: launch.deepLinking,
        ttlMs: DEEP_LINK_TTL_MS,
      });
    }
    if (record.course !== undefined && isMentor(launch.roles)) {
      // A mentor (parent, advisor) sees only the students the LMS names for them at this launch.
      await services.mastery.linkMentor({
        tenantId,
        courseId: record.course.id,
        mentorId: record.user.id,
        issuer: launch.issuer,
        studentSubs: launch.roleScopeMentor ?? [],
      });
    }
    if (record.course !== undefined && launch.resourceLink !== undefined) {
      await linkResourceToAssignment(services, logger, {
        tenantId,
        courseId: record.course.id,
        resourceLink: launch.resourceLink,
        custom: launch.custom,
        lineItemUrl: launch.ags?.lineItemUrl,
        actor: record.user.id,
      });
    }
    logger.info(
      {
        tenantId: deployment.tenantId,
        userId: record.user.id,
        courseId: record.course?.id,
        messageType: launch.messageType,
        instructor: isInstructor(launch.roles),
        administrator: isAdministrator(launch.roles),
      },
      'launch accepted',
    );
    const next = launch.messageType === 'LtiDeepLinkingRequest' ? 'deep-link' : 'course';
    res.set('Cache-Control', 'no-store').redirect(303, `/s/${token}/${next}`);
  });

  return router;
}

/** A substitution variable the LMS did not expand arrives as its own name (`$ResourceLink.id.history`). */
function expanded(value: string | undefined): string | undefined {
  return value === undefined || value.startsWith('$') || value.trim() === '' ? undefined : value;
}

/**
 * Links a launched resource link to its assignment: a link the tool made through Deep Linking names
 * its assignment (`mp_assignment_id`), and a link copied with its course carries the ids it had
 * before (`resource_link_history`, where the LMS fills it) or a column whose resourceId names the
 * original assignment (the launch's `lineitem`), which finds the original's alignments. Launches
 * with neither (course navigation) cost nothing here. Alignment is secondary to the launch: a failure is logged
 * and the teacher can still "Refresh from LMS".
 */
async function linkResourceToAssignment(
  services: AppServices,
  logger: Logger,
  input: {
    tenantId: string;
    courseId: string;
    resourceLink: { id: string; title?: string | undefined };
    custom: Readonly<Record<string, string>>;
    lineItemUrl: string | undefined;
    actor: string;
  },
): Promise<void> {
  const assignmentId = expanded(input.custom.mp_assignment_id);
  const history = expanded(input.custom.resource_link_history)?.split(',');
  if (assignmentId === undefined && history === undefined) return;
  try {
    await services.alignment.recordResourceLink({
      tenantId: input.tenantId,
      courseId: input.courseId,
      resourceLinkId: input.resourceLink.id,
      title: input.resourceLink.title,
      assignmentId: isUuid(assignmentId ?? '') ? assignmentId : undefined,
      history,
      lineItemUrl: input.lineItemUrl,
      actor: input.actor,
    });
  } catch (error) {
    logger.warn(
      { err: error, tenantId: input.tenantId, courseId: input.courseId },
      'could not link the launched resource link to its assignment',
    );
  }
}
