import { z } from 'zod';

/**
 * LTI 1.3 claim URIs exist only as these constants (LTI Core 1.3 §5, Deep Linking 2.0 §4, AGS 2.0 §3.1,
 * NRPS 2.0 §3.6). Spec names stay at this edge: `toLaunchContext` converts them once into camelCase.
 */
export const LTI_CLAIM = {
  messageType: 'https://purl.imsglobal.org/spec/lti/claim/message_type',
  version: 'https://purl.imsglobal.org/spec/lti/claim/version',
  deploymentId: 'https://purl.imsglobal.org/spec/lti/claim/deployment_id',
  targetLinkUri: 'https://purl.imsglobal.org/spec/lti/claim/target_link_uri',
  resourceLink: 'https://purl.imsglobal.org/spec/lti/claim/resource_link',
  roles: 'https://purl.imsglobal.org/spec/lti/claim/roles',
  roleScopeMentor: 'https://purl.imsglobal.org/spec/lti/claim/role_scope_mentor',
  context: 'https://purl.imsglobal.org/spec/lti/claim/context',
  toolPlatform: 'https://purl.imsglobal.org/spec/lti/claim/tool_platform',
  launchPresentation: 'https://purl.imsglobal.org/spec/lti/claim/launch_presentation',
  custom: 'https://purl.imsglobal.org/spec/lti/claim/custom',
  lis: 'https://purl.imsglobal.org/spec/lti/claim/lis',
  ags: 'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint',
  nrps: 'https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice',
  deepLinkingSettings: 'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings',
  dlContentItems: 'https://purl.imsglobal.org/spec/lti-dl/claim/content_items',
  dlData: 'https://purl.imsglobal.org/spec/lti-dl/claim/data',
  dlMsg: 'https://purl.imsglobal.org/spec/lti-dl/claim/msg',
  dlLog: 'https://purl.imsglobal.org/spec/lti-dl/claim/log',
  dlErrorMsg: 'https://purl.imsglobal.org/spec/lti-dl/claim/errormsg',
  dlErrorLog: 'https://purl.imsglobal.org/spec/lti-dl/claim/errorlog',
} as const;

export const LTI_VERSION = '1.3.0';

export const MESSAGE_TYPE = {
  resourceLink: 'LtiResourceLinkRequest',
  deepLinking: 'LtiDeepLinkingRequest',
  deepLinkingResponse: 'LtiDeepLinkingResponse',
} as const;

export type LaunchMessageType = typeof MESSAGE_TYPE.resourceLink | typeof MESSAGE_TYPE.deepLinking;

/** OAuth scopes of LTI Advantage services (AGS 2.0 §3.1, NRPS 2.0 §3.6.1). */
export const LTI_SCOPE = {
  lineItem: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  lineItemReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  resultReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
  score: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
  membershipReadonly: 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
} as const;

/** Role vocabularies (LTI Core 1.3 Appendix A.2) and their deprecated LIS v1 forms some platforms still send. */
export const ROLE_VOCABULARY = {
  membership: 'http://purl.imsglobal.org/vocab/lis/v2/membership',
  institution: 'http://purl.imsglobal.org/vocab/lis/v2/institution/person',
  system: 'http://purl.imsglobal.org/vocab/lis/v2/system/person',
} as const;

export const CONTEXT_TYPE_VOCABULARY = 'http://purl.imsglobal.org/vocab/lis/v2/course';

// ---------------------------------------------------------------------------------------------------
// Composable zod schemas. Objects are loose: platforms add their own claims and fields, and the spec
// tells tools to ignore what they do not understand.

const url = z.url();

/**
 * An optional field that may also arrive as `null`: older Canvas code fills optional nested fields
 * with null (`resource_link.description` on course navigation, `launch_presentation.height/width`;
 * LMS-NOTES). Null reads as absent, so one null field does not refuse the whole launch.
 */
function optional<T extends z.ZodType>(schema: T) {
  return schema.nullish().transform((value) => value ?? undefined);
}

/** Custom parameter values are strings by spec; some platforms send numbers or booleans, so stringify. */
const customValue = z
  .union([z.string(), z.number(), z.boolean()])
  .transform((value) => String(value));

/** A null custom value (an unset variable on some platforms) is left out rather than refused. */
const customClaim = z
  .record(z.string(), customValue.nullable())
  .transform((custom) =>
    Object.fromEntries(
      Object.entries(custom).filter((entry): entry is [string, string] => entry[1] !== null),
    ),
  );

/** Moodle and others have sent booleans as "true"/"false" strings in DL settings. */
const looseBoolean = z.union([
  z.boolean(),
  z.enum(['true', 'false']).transform((value) => value === 'true'),
]);

export const resourceLinkClaimSchema = z.looseObject({
  id: z.string().min(1),
  title: optional(z.string()),
  description: optional(z.string()),
});

export const contextClaimSchema = z.looseObject({
  id: z.string().min(1),
  label: optional(z.string()),
  title: optional(z.string()),
  type: optional(z.array(z.string())),
});

export const toolPlatformClaimSchema = z.looseObject({
  guid: optional(z.string()),
  name: optional(z.string()),
  version: optional(z.string()),
  product_family_code: optional(z.string()),
  contact_email: optional(z.string()),
  url: optional(z.string()),
});

export const launchPresentationClaimSchema = z.looseObject({
  document_target: optional(z.string()),
  height: optional(z.number()),
  width: optional(z.number()),
  return_url: optional(z.string()),
  locale: optional(z.string()),
});

export const agsClaimSchema = z.looseObject({
  scope: z.array(z.string()),
  lineitems: optional(url),
  lineitem: optional(url),
});

export const nrpsClaimSchema = z.looseObject({
  context_memberships_url: url,
  service_versions: z
    .array(z.string())
    .nullish()
    .transform((versions) => versions ?? ['2.0']),
});

export const deepLinkingSettingsClaimSchema = z.looseObject({
  deep_link_return_url: url,
  accept_types: z.array(z.string()),
  accept_presentation_document_targets: z.array(z.string()),
  accept_media_types: optional(z.string()),
  accept_multiple: optional(looseBoolean),
  // Absent means "unknown", not "no" (DL 2.0 §4.4.1); Moodle 4.3 and Canvas never send it.
  accept_lineitem: optional(looseBoolean),
  auto_create: optional(looseBoolean),
  title: optional(z.string()),
  text: optional(z.string()),
  data: optional(z.string()),
});

/** Claims every launch message carries, after signature verification (LTI Core 1.3 §5.3, §5.1.2). */
export const baseLaunchClaimsSchema = z.looseObject({
  iss: z.string().min(1),
  // Anonymous launches omit `sub`; a mastery tool needs the learner, so it is required here.
  sub: z.string().min(1),
  aud: z.union([z.string(), z.array(z.string()).min(1)]),
  azp: optional(z.string()),
  exp: z.number(),
  iat: z.number(),
  nonce: z.string().min(1),
  name: optional(z.string()),
  given_name: optional(z.string()),
  family_name: optional(z.string()),
  email: optional(z.string()),
  [LTI_CLAIM.version]: z.string(),
  [LTI_CLAIM.deploymentId]: z.string().min(1),
  // Roles are open: vocabularies grow and platforms add their own (LTI Core 1.3 §5.3.7 allows an empty list).
  [LTI_CLAIM.roles]: z.array(z.string()),
  // The users a mentor (parent, advisor) may see: their `sub`s at this issuer (LTI Core §5.3.7.1).
  [LTI_CLAIM.roleScopeMentor]: optional(z.array(z.string().min(1).max(255)).max(500)),
  [LTI_CLAIM.context]: optional(contextClaimSchema),
  [LTI_CLAIM.toolPlatform]: optional(toolPlatformClaimSchema),
  [LTI_CLAIM.launchPresentation]: optional(launchPresentationClaimSchema),
  [LTI_CLAIM.custom]: optional(customClaim),
  [LTI_CLAIM.ags]: optional(agsClaimSchema),
  [LTI_CLAIM.nrps]: optional(nrpsClaimSchema),
});

export const resourceLinkLaunchClaimsSchema = baseLaunchClaimsSchema.extend({
  [LTI_CLAIM.messageType]: z.literal(MESSAGE_TYPE.resourceLink),
  [LTI_CLAIM.targetLinkUri]: url,
  [LTI_CLAIM.resourceLink]: resourceLinkClaimSchema,
});

export const deepLinkingLaunchClaimsSchema = baseLaunchClaimsSchema.extend({
  [LTI_CLAIM.messageType]: z.literal(MESSAGE_TYPE.deepLinking),
  // The certification suite's valid Deep Linking request carries no target_link_uri (LMS-NOTES):
  // the tool decides where a Deep Linking request goes, so it is optional here.
  [LTI_CLAIM.targetLinkUri]: optional(url),
  [LTI_CLAIM.deepLinkingSettings]: deepLinkingSettingsClaimSchema,
  // Deep linking requests may omit a resource link; keep it when present.
  [LTI_CLAIM.resourceLink]: optional(resourceLinkClaimSchema),
});

export type ResourceLinkLaunchClaims = z.infer<typeof resourceLinkLaunchClaimsSchema>;
export type DeepLinkingLaunchClaims = z.infer<typeof deepLinkingLaunchClaimsSchema>;
/** Verified claims tagged with the message type they were parsed as (computed claim keys do not narrow). */
export type ParsedLaunchClaims =
  | {
      readonly messageType: typeof MESSAGE_TYPE.resourceLink;
      readonly claims: ResourceLinkLaunchClaims;
    }
  | {
      readonly messageType: typeof MESSAGE_TYPE.deepLinking;
      readonly claims: DeepLinkingLaunchClaims;
    };

// ---------------------------------------------------------------------------------------------------
// Roles

export type RoleScope = 'context' | 'institution' | 'system';

export interface ParsedRole {
  readonly scope: RoleScope;
  /** The principal role name, e.g. `Instructor`. */
  readonly principal: string;
  /** A sub-role name, e.g. `TeachingAssistant` of `membership/Instructor#TeachingAssistant`. */
  readonly subRole: string | undefined;
}

const LEGACY_ROLE_PREFIX: Readonly<Record<string, RoleScope>> = {
  'urn:lti:role:ims/lis/': 'context',
  'urn:lti:instrole:ims/lis/': 'institution',
  'urn:lti:sysrole:ims/lis/': 'system',
};

/**
 * Reads one role in any of the forms platforms send: the full LIS v2 URI, its sub-role URI, the
 * deprecated LIS v1 URN, or the short context-role form (`Learner`, `Instructor`) that LTI Core 1.3
 * §A.2.3 allows and Moodle sends. Returns undefined for roles from other vocabularies.
 */
export function parseRole(role: string): ParsedRole | undefined {
  const vocabularies: readonly [string, RoleScope][] = [
    [ROLE_VOCABULARY.membership, 'context'],
    [ROLE_VOCABULARY.institution, 'institution'],
    [ROLE_VOCABULARY.system, 'system'],
  ];
  for (const [base, scope] of vocabularies) {
    if (role.startsWith(`${base}#`)) {
      return { scope, principal: role.slice(base.length + 1), subRole: undefined };
    }
    if (scope === 'context' && role.startsWith(`${base}/`)) {
      const [principal, subRole] = role.slice(base.length + 1).split('#');
      if (principal !== undefined && principal !== '' && subRole !== undefined && subRole !== '') {
        return { scope, principal, subRole };
      }
      return undefined;
    }
  }
  for (const [prefix, scope] of Object.entries(LEGACY_ROLE_PREFIX)) {
    if (role.startsWith(prefix)) {
      const [principal, subRole] = role.slice(prefix.length).split('/');
      if (principal === undefined || principal === '') return undefined;
      return { scope, principal, subRole: subRole === '' ? undefined : subRole };
    }
  }
  if (/^[A-Za-z]+$/.test(role)) return { scope: 'context', principal: role, subRole: undefined };
  return undefined;
}

function hasRole(
  roles: readonly string[],
  scope: RoleScope,
  principals: readonly string[],
): boolean {
  return roles.some((role) => {
    const parsed = parseRole(role);
    return parsed !== undefined && parsed.scope === scope && principals.includes(parsed.principal);
  });
}

/** Instructor in the context, including its sub-roles (e.g. TeachingAssistant of Instructor). */
export function isInstructor(roles: readonly string[]): boolean {
  return hasRole(roles, 'context', ['Instructor']);
}

export function isLearner(roles: readonly string[]): boolean {
  return hasRole(roles, 'context', ['Learner']);
}

export function isMentor(roles: readonly string[]): boolean {
  return hasRole(roles, 'context', ['Mentor']);
}

/** An institution or system administrator (not a context "Administrator", which is a course-level role). */
export function isAdministrator(roles: readonly string[]): boolean {
  return (
    hasRole(roles, 'institution', ['Administrator']) ||
    hasRole(roles, 'system', ['Administrator', 'SysAdmin'])
  );
}

/** `http://purl.imsglobal.org/vocab/lis/v2/course#CourseSection` and `CourseSection` both become `CourseSection`. */
export function normalizeContextType(type: string): string {
  if (type.startsWith(`${CONTEXT_TYPE_VOCABULARY}#`))
    return type.slice(CONTEXT_TYPE_VOCABULARY.length + 1);
  const legacy = 'urn:lti:context-type:ims/lis/';
  if (type.startsWith(legacy)) return type.slice(legacy.length);
  return type;
}

// ---------------------------------------------------------------------------------------------------
// The normalized launch, the only form the rest of the application sees.

export interface LaunchCourseContext {
  readonly id: string;
  readonly title: string | undefined;
  readonly label: string | undefined;
  /** Short names (`CourseSection`, `CourseOffering`, `Group`), whichever form the platform sent. */
  readonly type: readonly string[];
}

export interface LaunchResourceLink {
  readonly id: string;
  readonly title: string | undefined;
  readonly description: string | undefined;
}

export interface LaunchAgsEndpoint {
  readonly scopes: readonly string[];
  readonly lineItemsUrl: string | undefined;
  readonly lineItemUrl: string | undefined;
}

export interface LaunchNrpsEndpoint {
  readonly membershipsUrl: string;
  readonly serviceVersions: readonly string[];
}

export interface DeepLinkingSettings {
  readonly returnUrl: string;
  readonly acceptTypes: readonly string[];
  readonly acceptPresentationDocumentTargets: readonly string[];
  readonly acceptMediaTypes: string | undefined;
  readonly acceptMultiple: boolean;
  /**
   * Whether the platform takes a gradebook column (line item) with a resource link: `undefined`
   * when it did not say, which DL 2.0 §4.4.1 reads as unknown, not as "no" (Moodle 4.3 and Canvas
   * never say). Only an explicit `false` means no.
   */
  readonly acceptLineItem: boolean | undefined;
  readonly autoCreate: boolean;
  readonly title: string | undefined;
  readonly text: string | undefined;
  /** Opaque value the platform wants echoed back in the response (DL 2.0 §4.4.1). */
  readonly data: string | undefined;
}

export interface LaunchPresentation {
  readonly documentTarget: string | undefined;
  readonly returnUrl: string | undefined;
  readonly locale: string | undefined;
  readonly width: number | undefined;
  readonly height: number | undefined;
}

export interface LaunchPlatform {
  readonly guid: string | undefined;
  readonly name: string | undefined;
  readonly productFamilyCode: string | undefined;
  readonly version: string | undefined;
}

interface LaunchContextBase {
  readonly issuer: string;
  readonly clientId: string;
  readonly deploymentId: string;
  /** The user id at this issuer. A user is `(issuer, sub)`; never use `sub` alone. */
  readonly sub: string;
  readonly name: string | undefined;
  readonly givenName: string | undefined;
  readonly familyName: string | undefined;
  readonly email: string | undefined;
  readonly roles: readonly string[];
  /** For a mentor: the `sub`s of the users they mentor; empty (or absent) otherwise. */
  readonly roleScopeMentor?: readonly string[] | undefined;
  readonly context: LaunchCourseContext | undefined;
  /** Keys exactly as the platform sent them. Schoology lower-cases keys, so look them up lower-case. */
  readonly custom: Readonly<Record<string, string>>;
  readonly ags: LaunchAgsEndpoint | undefined;
  readonly nrps: LaunchNrpsEndpoint | undefined;
  readonly launchPresentation: LaunchPresentation | undefined;
  readonly platform: LaunchPlatform | undefined;
}

export interface ResourceLinkLaunchContext extends LaunchContextBase {
  readonly messageType: typeof MESSAGE_TYPE.resourceLink;
  readonly targetLinkUri: string;
  readonly resourceLink: LaunchResourceLink;
}

export interface DeepLinkingLaunchContext extends LaunchContextBase {
  readonly messageType: typeof MESSAGE_TYPE.deepLinking;
  /** Absent in some valid Deep Linking requests (the certification suite's). */
  readonly targetLinkUri: string | undefined;
  readonly resourceLink: LaunchResourceLink | undefined;
  readonly deepLinking: DeepLinkingSettings;
}

export type LaunchContext = ResourceLinkLaunchContext | DeepLinkingLaunchContext;

function toResourceLink(claim: z.infer<typeof resourceLinkClaimSchema>): LaunchResourceLink {
  return { id: claim.id, title: claim.title, description: claim.description };
}

/** Converts verified, parsed claims into the camelCase `LaunchContext`. `clientId` is our verified audience. */
export function toLaunchContext(parsed: ParsedLaunchClaims, clientId: string): LaunchContext {
  const claims: ResourceLinkLaunchClaims | DeepLinkingLaunchClaims = parsed.claims;
  const context = claims[LTI_CLAIM.context];
  const ags = claims[LTI_CLAIM.ags];
  const nrps = claims[LTI_CLAIM.nrps];
  const presentation = claims[LTI_CLAIM.launchPresentation];
  const platform = claims[LTI_CLAIM.toolPlatform];
  const base: LaunchContextBase = {
    issuer: claims.iss,
    clientId,
    deploymentId: claims[LTI_CLAIM.deploymentId],
    sub: claims.sub,
    name: claims.name,
    givenName: claims.given_name,
    familyName: claims.family_name,
    email: claims.email,
    roles: claims[LTI_CLAIM.roles],
    roleScopeMentor: claims[LTI_CLAIM.roleScopeMentor] ?? [],
    context:
      context === undefined
        ? undefined
        : {
            id: context.id,
            title: context.title,
            label: context.label,
            type: (context.type ?? []).map(normalizeContextType),
          },
    custom: claims[LTI_CLAIM.custom] ?? {},
    ags:
      ags === undefined
        ? undefined
        : { scopes: ags.scope, lineItemsUrl: ags.lineitems, lineItemUrl: ags.lineitem },
    nrps:
      nrps === undefined
        ? undefined
        : { membershipsUrl: nrps.context_memberships_url, serviceVersions: nrps.service_versions },
    launchPresentation:
      presentation === undefined
        ? undefined
        : {
            documentTarget: presentation.document_target,
            returnUrl: presentation.return_url,
            locale: presentation.locale,
            width: presentation.width,
            height: presentation.height,
          },
    platform:
      platform === undefined
        ? undefined
        : {
            guid: platform.guid,
            name: platform.name,
            productFamilyCode: platform.product_family_code,
            version: platform.version,
          },
  };
  if (parsed.messageType === MESSAGE_TYPE.resourceLink) {
    return {
      ...base,
      messageType: MESSAGE_TYPE.resourceLink,
      targetLinkUri: parsed.claims[LTI_CLAIM.targetLinkUri],
      resourceLink: toResourceLink(parsed.claims[LTI_CLAIM.resourceLink]),
    };
  }
  const settings = parsed.claims[LTI_CLAIM.deepLinkingSettings];
  const resourceLink = parsed.claims[LTI_CLAIM.resourceLink];
  return {
    ...base,
    messageType: MESSAGE_TYPE.deepLinking,
    targetLinkUri: parsed.claims[LTI_CLAIM.targetLinkUri],
    resourceLink: resourceLink === undefined ? undefined : toResourceLink(resourceLink),
    deepLinking: {
      returnUrl: settings.deep_link_return_url,
      acceptTypes: settings.accept_types,
      acceptPresentationDocumentTargets: settings.accept_presentation_document_targets,
      acceptMediaTypes: settings.accept_media_types,
      acceptMultiple: settings.accept_multiple ?? false,
      acceptLineItem: settings.accept_lineitem,
      autoCreate: settings.auto_create ?? false,
      title: settings.title,
      text: settings.text,
      data: settings.data,
    },
  };
}
