import { isUuid } from '../ids.ts';
import { isAdministrator, isInstructor, isMentor, type LaunchContext } from '../lti/claims.ts';
import { LtiError } from '../lti/errors.ts';
import { acceptLaunch, type DeploymentLookup, type NonceClaim } from '../lti/launch.ts';
import type { AcceptedLaunch } from '../storage/lti/launches.repository.ts';
import { PeopleStorageError } from '../storage/lti/people.repository.ts';
import type { LaunchDeps } from './deps.ts';
import { DeletedOnRequestError } from './errors.ts';

/** How long a teacher has to pick what to add after the LMS opened the selection dialog. */
const DEEP_LINK_TTL_MS = 60 * 60 * 1000;

export interface LaunchInput {
  /** The form the LMS posted (`id_token`, `state`). */
  readonly params: Readonly<Record<string, unknown>>;
  /** The state the browser proves it started the login with (cookie or platform storage). */
  readonly browserBinding: string | undefined;
}

type Recorded = Extract<AcceptedLaunch, { outcome: 'accepted' }> & { readonly token: string };

export interface AcceptedLtiLaunch {
  /** The session token: it travels in the path of every page (`/s/<token>/…`). */
  readonly token: string;
  /** The page the launch opens, under the session's path. */
  readonly next: 'course' | 'deep-link';
}

/**
 * An LTI launch, as node-oidc-provider builds an endpoint: a list of named steps, each doing one
 * thing. The protocol checks (`lti/launch.ts`) and the record run first; the rest follows from an
 * accepted launch and the launch's claims.
 */
export async function acceptLtiLaunch(
  deps: LaunchDeps,
  input: LaunchInput,
): Promise<AcceptedLtiLaunch> {
  const { launch, recorded } = await verifyAndRecordLaunch(deps, input);
  await openDeepLinkingRequest(deps, launch, recorded);
  await linkMentorToStudents(deps, launch, recorded);
  await linkResourceToAssignment(deps, launch, recorded);
  logAcceptedLaunch(deps, launch, recorded);
  return {
    token: recorded.token,
    next: launch.messageType === 'LtiDeepLinkingRequest' ? 'deep-link' : 'course',
  };
}

/**
 * Every check of the LTI launch, then one statement: the nonce claim, the launch record and the
 * session, all or nothing.
 */
async function verifyAndRecordLaunch(
  deps: LaunchDeps,
  input: LaunchInput,
): Promise<{ launch: LaunchContext; recorded: Recorded }> {
  return acceptLaunch(
    { params: input.params, browserBinding: input.browserBinding },
    {
      platforms: deps.platformLookup,
      states: deps.loginStates,
      deployments: allowListOf(deps),
      platformKeys: deps.platformKeys,
      endpoints: deps.endpoints,
      now: deps.now,
    },
    (verified, nonce) => recordLaunch(deps, verified, nonce),
  );
}

/**
 * The allow-list check: a deployment found in the last few seconds is allowed without asking the
 * database again (the launch record re-resolves it in its own statement, from the database); an
 * unlisted one may be captured by its platform (Canvas Dynamic Registration).
 */
function allowListOf(deps: LaunchDeps): DeploymentLookup {
  return {
    isAllowed: async (issuer, clientId, deploymentId) =>
      (await deps.deployments.resolve(issuer, clientId, deploymentId)) !== undefined ||
      (await deps.deploymentLookup.isAllowed(issuer, clientId, deploymentId)),
  };
}

/** The nonce claim, the launch record and the session; `undefined` for a replayed nonce. */
async function recordLaunch(
  deps: LaunchDeps,
  verified: LaunchContext,
  nonce: NonceClaim,
): Promise<Recorded | undefined> {
  const prepared = deps.sessions.prepare();
  const result = await deps.launches.acceptLaunch({
    launch: verified,
    nonce,
    session: prepared.row,
    personHash: await deps.deletionRecords.hashPerson(verified.issuer, verified.sub),
  });
  switch (result.outcome) {
    case 'nonce_replay':
      return undefined;
    case 'person_deleted':
      throw new DeletedOnRequestError(result.deletedAt);
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
}

/** A Deep Linking request keeps the LMS's settings until the teacher picks what to add. */
async function openDeepLinkingRequest(
  deps: LaunchDeps,
  launch: LaunchContext,
  recorded: Recorded,
): Promise<void> {
  if (launch.messageType !== 'LtiDeepLinkingRequest') return;
  await deps.deepLinks.create({
    tenantId: recorded.tenantId,
    sessionId: recorded.session.id,
    deploymentRowId: recorded.deploymentRowId,
    courseId: recorded.record.course?.id,
    settings: launch.deepLinking,
    ttlMs: DEEP_LINK_TTL_MS,
  });
}

/** A mentor (parent, advisor) sees only the students the LMS names for them at this launch. */
async function linkMentorToStudents(
  deps: LaunchDeps,
  launch: LaunchContext,
  recorded: Recorded,
): Promise<void> {
  const course = recorded.record.course;
  if (course === undefined || !isMentor(launch.roles)) return;
  await deps.mastery.linkMentor({
    tenantId: recorded.tenantId,
    courseId: course.id,
    mentorId: recorded.record.user.id,
    issuer: launch.issuer,
    studentSubs: launch.roleScopeMentor ?? [],
  });
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
 * with neither (course navigation) cost nothing here. Alignment is secondary to the launch: a
 * failure is logged and the teacher can still "Refresh from LMS".
 */
async function linkResourceToAssignment(
  deps: LaunchDeps,
  launch: LaunchContext,
  recorded: Recorded,
): Promise<void> {
  const course = recorded.record.course;
  const resourceLink = launch.resourceLink;
  if (course === undefined || resourceLink === undefined) return;
  const assignmentId = expanded(launch.custom.mp_assignment_id);
  const history = expanded(launch.custom.resource_link_history)?.split(',');
  if (assignmentId === undefined && history === undefined) return;
  try {
    await deps.alignment.recordResourceLink({
      tenantId: recorded.tenantId,
      courseId: course.id,
      resourceLinkId: resourceLink.id,
      title: resourceLink.title,
      assignmentId: isUuid(assignmentId ?? '') ? assignmentId : undefined,
      history,
      lineItemUrl: launch.ags?.lineItemUrl,
      actor: recorded.record.user.id,
    });
  } catch (error) {
    deps.logger.warn(
      { err: error, tenantId: recorded.tenantId, courseId: course.id },
      'could not link the launched resource link to its assignment',
    );
  }
}

function logAcceptedLaunch(deps: LaunchDeps, launch: LaunchContext, recorded: Recorded): void {
  deps.logger.info(
    {
      tenantId: recorded.tenantId,
      userId: recorded.record.user.id,
      courseId: recorded.record.course?.id,
      messageType: launch.messageType,
      instructor: isInstructor(launch.roles),
      administrator: isAdministrator(launch.roles),
    },
    'launch accepted',
  );
}
