import type { CourseRole, Flavour } from './types.ts';

/** Claim URIs (LTI 1.3 Core, DL 2.0, AGS 2.0, NRPS 2.0). Spec names live only here. */
export const CLAIM = {
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
  contentItems: 'https://purl.imsglobal.org/spec/lti-dl/claim/content_items',
  data: 'https://purl.imsglobal.org/spec/lti-dl/claim/data',
  msg: 'https://purl.imsglobal.org/spec/lti-dl/claim/msg',
  log: 'https://purl.imsglobal.org/spec/lti-dl/claim/log',
  errormsg: 'https://purl.imsglobal.org/spec/lti-dl/claim/errormsg',
  errorlog: 'https://purl.imsglobal.org/spec/lti-dl/claim/errorlog',
  /** Canvas-only extension: which placement launched the tool. */
  canvasPlacement: 'https://www.instructure.com/placement',
} as const;

export const SCOPE = {
  lineItem: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  lineItemReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  resultReadonly: 'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
  score: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
  nrps: 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
} as const;

export const ALL_SERVICE_SCOPES: readonly string[] = Object.values(SCOPE);

export const MEDIA_TYPE = {
  lineItem: 'application/vnd.ims.lis.v2.lineitem+json',
  lineItemContainer: 'application/vnd.ims.lis.v2.lineitemcontainer+json',
  score: 'application/vnd.ims.lis.v1.score+json',
  resultContainer: 'application/vnd.ims.lis.v2.resultcontainer+json',
  membershipContainer: 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json',
} as const;

const MEMBERSHIP = 'http://purl.imsglobal.org/vocab/lis/v2/membership';

/**
 * LTI system role of a test user (LTI 1.3 Core §A.2.4). Canvas adds it, with Learner, for the
 * Student View user ("Test Student") in launches and NRPS.
 */
export const TEST_USER_ROLE = 'http://purl.imsglobal.org/vocab/lti/system/person#TestUser';
const INSTITUTION = 'http://purl.imsglobal.org/vocab/lis/v2/institution/person';

/** Role URIs sent in the id_token (LTI 1.3 Core §5.3.7 and Appendix A). */
export function launchRoles(role: CourseRole): string[] {
  switch (role) {
    case 'Instructor':
      return [`${MEMBERSHIP}#Instructor`];
    case 'Learner':
      return [`${MEMBERSHIP}#Learner`];
    case 'Administrator':
      // An account/site admin: institution role plus the context role, as Canvas sends.
      return [`${INSTITUTION}#Administrator`, `${MEMBERSHIP}#Administrator`];
    case 'TeachingAssistant':
      // A sub-role must come with its principal role (Core §A.2.3.1).
      return [`${MEMBERSHIP}#Instructor`, `${MEMBERSHIP}/Instructor#TeachingAssistant`];
    case 'Mentor':
      return [`${MEMBERSHIP}#Mentor`];
  }
}

/** NRPS member roles: full URIs, except Moodle which answers short names ("Learner"). */
export function membershipRoles(role: CourseRole, flavour: Flavour): string[] {
  const full = launchRoles(role).filter((r) => r.startsWith(MEMBERSHIP));
  if (flavour !== 'moodle') return full;
  return full.map((r) => r.slice(MEMBERSHIP.length + 1).replace(/^Instructor#/, ''));
}

/** Accept both short ("Learner") and full role forms in an NRPS `role` filter. */
export function roleMatches(memberRoles: readonly string[], filter: string): boolean {
  const short = (r: string): string => r.replace(/^.*[#/]/, '');
  return memberRoles.some((r) => r === filter || short(r) === short(filter));
}

export function contextType(flavour: Flavour): string[] {
  // Moodle sends the short form (seen in real Moodle 4.3 messages).
  return flavour === 'moodle'
    ? ['CourseSection']
    : ['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering'];
}

export function productFamilyCode(flavour: Flavour): string {
  return flavour;
}
