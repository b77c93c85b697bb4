import { randomUUID } from 'node:crypto';
import { assignmentResourceId } from '../alignment/assignments.ts';
import { AlignmentError } from '../alignment/errors.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { DeepLinkingSettings } from '../lti/claims.ts';
import { buildDeepLinkingResponse, ltiResourceLinkItem } from '../lti/deep-linking.ts';
import { randomToken } from '../lti/login.ts';
import { createToolSigner, type ToolSigningKey } from '../lti/tool-keys.ts';
import type { DeepLinkRepository, DeepLinkRequest } from '../storage/lti/deep-links.repository.ts';
import type { DeploymentRepository } from '../storage/lti/deployments.repository.ts';
import type { PlatformRepository } from '../storage/lti/platforms.repository.ts';

export type { DeepLinkRequest };

/** Tags every gradebook column the tool creates, so it can find its own columns again. */
export const TOOL_LINE_ITEM_TAG = 'mastery-pathways';

export interface DeepLinkingDeps {
  readonly now: () => Date;
  readonly logger: Logger;
  readonly deepLinks: Pick<DeepLinkRepository, 'findForSession' | 'remove'>;
  readonly deployments: Pick<DeploymentRepository, 'findById'>;
  readonly platforms: Pick<PlatformRepository, 'findById'>;
  readonly toolKeys: { signingKey(): Promise<ToolSigningKey> };
  readonly alignment: {
    createDeepLinkAssignment(input: {
      tenantId: string;
      courseId: string;
      id: string;
      title: string;
      scoreMaximum: number;
      tag: string;
      withColumn: boolean;
      itemIds: readonly string[];
      actor: string;
    }): Promise<unknown>;
  };
  /** Where the LMS launches the tool's links (the launch URL). */
  readonly launchUrl: string;
}

/**
 * A gradebook column is offered unless the LMS said `accept_lineitem: false`. Absent means unknown
 * (DL 2.0 §4.4.1), and Moodle 4.3 and Canvas leave it out yet create the column (LMS-NOTES).
 */
export function offersColumn(settings: DeepLinkingSettings): boolean {
  return settings.acceptLineItem !== false;
}

/** The Deep Linking request this session was launched with. */
export async function findDeepLinkingRequest(
  deps: Pick<DeepLinkingDeps, 'deepLinks'>,
  session: { tenantId: string; sessionId: string },
): Promise<DeepLinkRequest> {
  const request = await deps.deepLinks.findForSession(session.tenantId, session.sessionId);
  if (request === undefined) {
    throw new AppError(
      404,
      'not_found',
      'There is nothing to add right now. Start again from “Add” (or “Select a tool”) in your LMS.',
    );
  }
  return request;
}

export interface ChosenActivity {
  readonly title: string;
  readonly scoreMaximum: number;
  readonly gradebook: boolean;
  readonly standards: readonly string[];
}

export type DeepLinkingAnswer =
  /** The alignment refused the chosen standards: the form says why. */
  | { readonly outcome: 'standards_refused'; readonly message: string }
  | { readonly outcome: 'answered'; readonly jwt: string; readonly returnUrl: string };

/**
 * Deep Linking (LTI DL 2.0), as named steps: the teacher's activity is recorded as an assignment
 * with its alignments, then the LMS gets a signed LtiDeepLinkingResponse holding an LTI resource
 * link and, unless the LMS refuses one, a line item whose `resourceId` names the assignment
 * (`mp-assignment:<id>`), so the gradebook column, and a copy of it in a copied course, finds its
 * alignments again.
 */
export async function answerDeepLinking(
  deps: DeepLinkingDeps,
  input: {
    tenantId: string;
    userId: string;
    courseId: string | undefined;
    request: DeepLinkRequest;
    activity: ChosenActivity;
  },
): Promise<DeepLinkingAnswer> {
  const { request, activity, courseId } = input;
  const registration = await registrationOf(deps, input.tenantId, request);
  const activityId = randomUUID();
  const wantsColumn = activity.gradebook && offersColumn(request.settings);
  if (courseId !== undefined) {
    const refused = await recordAssignment(deps, {
      tenantId: input.tenantId,
      courseId,
      activityId,
      activity,
      wantsColumn,
      actor: input.userId,
    });
    if (refused !== undefined) return { outcome: 'standards_refused', message: refused };
  }
  const jwt = await signResponse(deps, {
    request,
    registration,
    activity,
    activityId,
    courseId,
    wantsColumn,
  });
  await deps.deepLinks.remove(input.tenantId, request.id);
  deps.logger.info(
    {
      tenantId: input.tenantId,
      activityId,
      gradebookColumn: wantsColumn,
      standards: activity.standards.length,
    },
    'deep linking response sent',
  );
  return { outcome: 'answered', jwt, returnUrl: request.settings.returnUrl };
}

/** The platform and deployment the response is addressed to, in the viewer's district. */
async function registrationOf(deps: DeepLinkingDeps, tenantId: string, request: DeepLinkRequest) {
  const deployment = await deps.deployments.findById(request.deploymentRowId);
  const platform =
    deployment === undefined ? undefined : await deps.platforms.findById(deployment.platformId);
  if (deployment === undefined || platform === undefined || deployment.tenantId !== tenantId) {
    throw new AppError(404, 'not_found', 'This LMS registration no longer exists.');
  }
  return { deployment, platform };
}

/**
 * The assignment and its alignments exist before the LMS creates the column, so the column's
 * resourceId can name it; discovery and the link's first launch link them. Returns why the
 * standards were refused, if they were.
 */
async function recordAssignment(
  deps: DeepLinkingDeps,
  input: {
    tenantId: string;
    courseId: string;
    activityId: string;
    activity: ChosenActivity;
    wantsColumn: boolean;
    actor: string;
  },
): Promise<string | undefined> {
  try {
    await deps.alignment.createDeepLinkAssignment({
      tenantId: input.tenantId,
      courseId: input.courseId,
      id: input.activityId,
      title: input.activity.title,
      scoreMaximum: input.activity.scoreMaximum,
      tag: TOOL_LINE_ITEM_TAG,
      withColumn: input.wantsColumn,
      itemIds: input.activity.standards,
      actor: input.actor,
    });
    return undefined;
  } catch (error) {
    if (
      error instanceof AlignmentError &&
      (error.code === 'standard_unavailable' || error.code === 'invalid_input')
    ) {
      return error.message;
    }
    throw error;
  }
}

async function signResponse(
  deps: DeepLinkingDeps,
  input: {
    request: DeepLinkRequest;
    registration: Awaited<ReturnType<typeof registrationOf>>;
    activity: ChosenActivity;
    activityId: string;
    courseId: string | undefined;
    wantsColumn: boolean;
  },
): Promise<string> {
  const { activity, activityId, courseId } = input;
  const item = ltiResourceLinkItem({
    url: deps.launchUrl,
    title: activity.title,
    // Schoology drops app-level custom parameters on deep-linked links (LMS-NOTES): the item
    // carries what the tool needs to recognise it.
    custom:
      courseId === undefined ? { mp_activity_id: activityId } : { mp_assignment_id: activityId },
    lineItem: input.wantsColumn
      ? {
          scoreMaximum: activity.scoreMaximum,
          label: activity.title,
          resourceId: courseId === undefined ? activityId : assignmentResourceId(activityId),
          tag: TOOL_LINE_ITEM_TAG,
        }
      : undefined,
  });
  const signer = createToolSigner(await deps.toolKeys.signingKey());
  const { platform, deployment } = input.registration;
  return buildDeepLinkingResponse(
    {
      settings: input.request.settings,
      platformIssuer: platform.issuer,
      clientId: platform.clientId,
      deploymentId: deployment.deploymentId,
      contentItems: [item],
      msg: `Added “${activity.title}”.`,
    },
    { signer, now: deps.now, randomToken },
  );
}
