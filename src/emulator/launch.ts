import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { CLAIM, SCOPE, TEST_USER_ROLE, contextType, launchRoles } from './claims.ts';
import type { EmulatorContext } from './context.ts';
import { EmulatorError } from './errors.ts';
import type { LaunchMessageType, PendingLaunch, Placement, ResourceLink } from './types.ts';
import { moodleMessageHint } from './moodle.ts';

export interface BeginLaunchInput {
  courseId: string;
  userId: string;
  placement: Placement;
  /** Defaults from the placement: course_navigation → resource link, others → deep linking. */
  messageType?: LaunchMessageType;
  /** Defaults to the only registered tool. */
  clientId?: string;
  deploymentId?: string;
  /** Launch an existing resource link (e.g. one made by Deep Linking). */
  resourceLinkId?: string;
}

export interface LoginInitiation {
  /** The tool's OIDC initiation URL. */
  readonly url: string;
  /** Third-party initiated login parameters (LTI 1.3 Core §5.1.1). */
  readonly params: Record<string, string>;
  /** The same, as a GET URL. */
  readonly getUrl: string;
  readonly pendingLaunch: PendingLaunch;
}

export function defaultMessageType(placement: Placement): LaunchMessageType {
  return placement === 'course_navigation' ? 'LtiResourceLinkRequest' : 'LtiDeepLinkingRequest';
}

/** Step 1 of a launch: what the platform sends to the tool's login initiation URL. */
export function beginLaunch(ctx: EmulatorContext, input: BeginLaunchInput): LoginInitiation {
  const { state, options } = ctx;
  const clientId = input.clientId ?? onlyToolId(ctx);
  const tool = state.tool(clientId);
  const course = state.course(input.courseId);
  state.person(input.userId);
  if (state.rolesIn(course.courseId, input.userId).length === 0) {
    throw new EmulatorError('not_enrolled', `${input.userId} is not in course ${course.courseId}`);
  }
  const deployment = state.deploymentFor(clientId, course.courseId, input.deploymentId);
  const messageType = input.messageType ?? defaultMessageType(input.placement);

  let link: ResourceLink | undefined;
  let targetLinkUri: string;
  if (messageType === 'LtiResourceLinkRequest') {
    if (input.resourceLinkId !== undefined) {
      link = state.resourceLinks.get(input.resourceLinkId);
      if (!link || link.courseId !== course.courseId || link.clientId !== clientId) {
        throw new EmulatorError('unknown_resource_link', `no link ${input.resourceLinkId} here`);
      }
    } else {
      link = state.placementLink(
        clientId,
        deployment.deploymentId,
        course.courseId,
        input.placement,
      );
    }
    targetLinkUri = link.url ?? tool.targetLinkUri;
  } else {
    targetLinkUri = tool.deepLinkingUrl ?? tool.targetLinkUri;
  }

  const pendingLaunch = state.addPendingLaunch({
    clientId,
    deploymentId: deployment.deploymentId,
    courseId: course.courseId,
    userId: input.userId,
    placement: input.placement,
    messageType,
    resourceLinkId: link?.resourceLinkId,
    targetLinkUri,
    expiresAt: new Date(options.now().getTime() + options.launchHintLifetimeSeconds * 1000),
  });
  const params: Record<string, string> = {
    iss: options.issuer,
    login_hint: input.userId,
    target_link_uri: targetLinkUri,
    lti_message_hint:
      state.flavour === 'moodle'
        ? moodleMessageHint(link, pendingLaunch.messageHint)
        : pendingLaunch.messageHint,
    client_id: clientId,
    lti_deployment_id: deployment.deploymentId,
  };
  if (options.platformStorage) params['lti_storage_target'] = options.storageTarget;
  const getUrl = new URL(tool.oidcInitiationUrl);
  for (const [k, v] of Object.entries(params)) getUrl.searchParams.set(k, v);
  return { url: tool.oidcInitiationUrl, params, getUrl: getUrl.toString(), pendingLaunch };
}

function onlyToolId(ctx: EmulatorContext): string {
  const ids = [...ctx.state.tools.keys()];
  if (ids.length !== 1 || ids[0] === undefined) {
    throw new EmulatorError('unknown_tool', 'client_id is required when several tools exist');
  }
  return ids[0];
}

/** Substitution variables the emulator expands in custom parameter values (Core Appendix C). */
function substitute(value: string, vars: Record<string, string | undefined>): string {
  return value.startsWith('$') && vars[value] !== undefined ? (vars[value] ?? value) : value;
}

/** Step 3: the claims of the id_token for a launch (LTI 1.3 Core §5.3/5.4, DL, AGS, NRPS). */
export function buildLaunchClaims(
  ctx: EmulatorContext,
  launch: PendingLaunch,
  nonce: string,
): Record<string, unknown> {
  const { state, options, urls } = ctx;
  const flavour = state.flavour;
  const tool = state.tool(launch.clientId);
  const course = state.course(launch.courseId);
  const person = state.person(launch.userId);
  const courseRoles = state.rolesIn(course.courseId, person.userId);
  const roles = [...new Set(courseRoles.flatMap(launchRoles))];
  // Canvas's Student View user carries the LTI system role TestUser (docs/lms/canvas.md).
  if (flavour === 'canvas' && person.isTestStudent) roles.push(TEST_USER_ROLE);
  const link =
    launch.resourceLinkId === undefined
      ? undefined
      : state.resourceLinks.get(launch.resourceLinkId);

  const vars: Record<string, string | undefined> = {
    '$Context.id': course.contextId,
    '$Context.title': course.title,
    '$Context.label': course.label,
    '$ResourceLink.id': link?.resourceLinkId,
    '$ResourceLink.title': link?.title,
    '$User.id': person.sub,
    '$Person.email.primary': person.email,
    '$Canvas.course.id': flavour === 'canvas' ? course.courseId : undefined,
    '$com.instructure.User.student_view':
      flavour === 'canvas' ? String(person.isTestStudent) : undefined,
  };
  // Schoology does not send app-level custom parameters on deep-linked links (LMS-NOTES).
  const appCustom =
    flavour === 'schoology' && link?.createdBy === 'deep_linking' ? {} : tool.customParameters;
  const custom: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...appCustom, ...(link?.custom ?? {}) })) {
    // Schoology lower-cases custom parameter keys.
    custom[flavour === 'schoology' ? key.toLowerCase() : key] = substitute(value, vars);
  }
  if (flavour === 'moodle') custom['context_memberships_url'] = urls.memberships(course.courseId);

  const nowSeconds = Math.floor(options.now().getTime() / 1000);
  const claims: Record<string, unknown> = {
    iss: options.issuer,
    aud: tool.clientId,
    azp: tool.clientId,
    sub: person.sub,
    nonce,
    iat: nowSeconds,
    exp: nowSeconds + options.idTokenLifetimeSeconds,
    name: person.name,
    given_name: person.givenName,
    family_name: person.familyName,
    email: person.email,
    locale: 'en',
    [CLAIM.messageType]: launch.messageType,
    [CLAIM.version]: '1.3.0',
    [CLAIM.deploymentId]: launch.deploymentId,
    [CLAIM.targetLinkUri]: launch.targetLinkUri,
    [CLAIM.roles]: roles,
    [CLAIM.context]: {
      id: course.contextId,
      label: course.label,
      title: course.title,
      type: contextType(flavour),
    },
    [CLAIM.toolPlatform]: {
      guid: `${flavour}-emulator:${new URL(options.issuer).host}`,
      name: options.platformName,
      product_family_code: flavour,
      version: 'emulator',
    },
    [CLAIM.launchPresentation]: {
      document_target: 'iframe',
      return_url: urls.course(course.courseId),
      locale: 'en',
    },
    [CLAIM.custom]: custom,
    [CLAIM.lis]: {
      person_sourcedid: `sis-${person.userId}`,
      course_section_sourcedid: course.label,
    },
  };
  if (courseRoles.includes('Mentor')) {
    // Mentors see their mentees: here, the learners sharing the mentor's family name.
    claims[CLAIM.roleScopeMentor] = state
      .members(course.courseId)
      .filter((m) => m.roles.includes('Learner') && m.person.familyName === person.familyName)
      .map((m) => m.person.sub);
  }
  if (flavour === 'canvas') claims[CLAIM.canvasPlacement] = launch.placement;

  const grantedServiceScopes = tool.scopes;
  const agsScopes = [SCOPE.lineItem, SCOPE.lineItemReadonly, SCOPE.resultReadonly, SCOPE.score];
  const offeredAgs = agsScopes.filter((s) => grantedServiceScopes.includes(s));
  if (offeredAgs.length > 0) {
    const ags: Record<string, unknown> = {
      scope: offeredAgs,
      lineitems: urls.lineItems(course.courseId),
    };
    if (link) {
      const onLink = state
        .lineItemsOf(course.courseId, tool.clientId)
        .filter((li) => li.resourceLinkId === link.resourceLinkId);
      // AGS §3.1: `lineitem` only when the link has exactly one line item.
      if (onLink.length === 1 && onLink[0]) {
        ags['lineitem'] = urls.lineItem(course.courseId, onLink[0].lineItemId);
      }
    }
    claims[CLAIM.ags] = ags;
  }
  if (grantedServiceScopes.includes(SCOPE.nrps)) {
    claims[CLAIM.nrps] = {
      context_memberships_url: urls.memberships(course.courseId),
      service_versions: flavour === 'moodle' ? ['1.0', '2.0'] : ['2.0'],
    };
  }

  if (launch.messageType === 'LtiResourceLinkRequest') {
    if (!link)
      throw new EmulatorError('unknown_resource_link', 'resource link launch without link');
    claims[CLAIM.resourceLink] = {
      id: link.resourceLinkId,
      title: link.title,
      // Canvas sets `description = @assignment&.description` (lib/lti/messages/
      // resource_link_request.rb) and its JwtMessageSerializer compacts only the top level, so a
      // course navigation launch (no assignment) carries `"description": null` (docs/lms/canvas.md).
      description: flavour === 'canvas' && link.createdBy === 'placement' ? null : '',
    };
  } else {
    const acceptTypes = deepLinkingAcceptTypes(flavour, launch.placement);
    // Moodle's Content Selection always allows several (MDL 3.10: `$multiple = true`).
    const acceptMultiple = flavour === 'moodle' || launch.placement !== 'assignment_selection';
    const session = state.addDeepLinkingSession({
      clientId: tool.clientId,
      deploymentId: launch.deploymentId,
      courseId: course.courseId,
      userId: person.userId,
      placement: launch.placement,
      acceptTypes,
      acceptMultiple,
    });
    claims[CLAIM.deepLinkingSettings] = deepLinkingSettings(flavour, {
      returnUrl: urls.deepLinkingReturn(session.sessionId),
      acceptTypes,
      acceptMultiple,
      toolName: tool.name,
      courseTitle: course.title,
      data: session.data,
    });
  }
  return claims;
}

/**
 * The `deep_linking_settings` claim as each platform really sends it (docs/lms/<lms>.md):
 * - Canvas: `lib/lti/messages/deep_linking_request.rb` sets return URL, accept_types, document
 *   targets, media types, auto_create and accept_multiple per placement; no `accept_lineitem`, no
 *   `data` (the return URL identifies the request), no title or text.
 * - Moodle 4.3: `mod/lti/locallib.php` `lti_build_content_item_selection_request` with the claim
 *   mapping of `lti_get_jwt_claim_mapping`: accept_types `ltiResourceLink`, targets
 *   frame/iframe/window, copy advice/unsigned/auto_create/can_confirm false, accept_multiple true,
 *   title = the tool's name, empty text; no `accept_lineitem`, no `data`, no media types.
 * - Schoology: unverified; kept as the generic platform with every optional setting present.
 */
function deepLinkingSettings(
  flavour: string,
  input: {
    returnUrl: string;
    acceptTypes: string[];
    acceptMultiple: boolean;
    toolName: string;
    courseTitle: string;
    data: string;
  },
): Record<string, unknown> {
  if (flavour === 'canvas') {
    return {
      deep_link_return_url: input.returnUrl,
      accept_types: input.acceptTypes,
      accept_presentation_document_targets: ['iframe', 'window'],
      accept_media_types: 'application/vnd.ims.lti.v1.ltilink',
      auto_create: false,
      accept_multiple: input.acceptMultiple,
    };
  }
  if (flavour === 'moodle') {
    return {
      accept_types: input.acceptTypes,
      accept_presentation_document_targets: ['frame', 'iframe', 'window'],
      accept_copy_advice: false,
      accept_multiple: true,
      accept_unsigned: false,
      auto_create: false,
      can_confirm: false,
      deep_link_return_url: input.returnUrl,
      title: input.toolName,
      text: '',
    };
  }
  return {
    deep_link_return_url: input.returnUrl,
    accept_types: input.acceptTypes,
    accept_presentation_document_targets: ['iframe', 'window'],
    accept_media_types: 'application/vnd.ims.lti.v1.ltilink',
    accept_multiple: input.acceptMultiple,
    accept_lineitem: true,
    auto_create: true,
    title: input.courseTitle,
    data: input.data,
  };
}

/** Whether a flavour's Deep Linking request carries `data` for the response to echo. */
export function sendsDeepLinkingData(flavour: string): boolean {
  return flavour !== 'canvas' && flavour !== 'moodle';
}

export function deepLinkingAcceptTypes(flavour: string, _placement: Placement): string[] {
  if (flavour === 'schoology') return ['ltiResourceLink', 'link', 'html'];
  // Canvas (deep_linking_request.rb): assignment_selection and link_selection accept
  // ltiResourceLink only (editor_button is the placement that takes links, files and images).
  return ['ltiResourceLink'];
}

export async function signIdToken(
  ctx: EmulatorContext,
  claims: Record<string, unknown>,
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: ctx.keys.kid, typ: 'JWT' })
    .sign(ctx.keys.privateKey);
}

/**
 * A platform key rotation: a new key signs every launch from now on and is published at once. The
 * old key stays published unless `keepOld` is false (platforms keep it for a while; Schoology's
 * keys change). Returns the new kid.
 */
export async function rotatePlatformKey(
  ctx: EmulatorContext,
  options: { keepOld?: boolean } = {},
): Promise<string> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = Buffer.from(ctx.options.randomBytes(12)).toString('base64url');
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const retired =
    options.keepOld === false ? [] : [ctx.keys.publicJwk, ...(ctx.keys.retiredJwks ?? [])];
  ctx.keys.kid = kid;
  ctx.keys.privateKey = privateKey;
  ctx.keys.publicJwk = publicJwk;
  ctx.keys.retiredJwks = retired;
  return kid;
}

/** The platform's published key set (its JWKS endpoint). */
export function publishedJwks(ctx: EmulatorContext): { keys: Record<string, unknown>[] } {
  return { keys: [ctx.keys.publicJwk, ...(ctx.keys.retiredJwks ?? [])] };
}
