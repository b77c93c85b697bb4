import { isAdministrator, isInstructor, isLearner, isMentor } from '../../lti/claims.ts';
import { primaryRole, type HeldRole, type LmsRole } from '../roles.ts';

/**
 * LTI role URIs (full, short or legacy forms, as `src/lti/claims.ts` parses them) to the product's
 * neutral roles. The only place above `src/lti` that reads LTI roles.
 */
export function lmsRolesFromLti(roles: readonly string[]): HeldRole[] {
  const held: HeldRole[] = [];
  if (isInstructor(roles)) held.push('teacher');
  if (isLearner(roles)) held.push('student');
  if (isMentor(roles)) held.push('mentor');
  if (isAdministrator(roles)) held.push('administrator');
  return held;
}

/** Most specific role wins for the product's purposes: administrators and teachers see the teacher view. */
export function lmsRole(roles: readonly string[]): LmsRole {
  return primaryRole(lmsRolesFromLti(roles));
}

/**
 * LTI system role of a platform's test user. Canvas gives it to the Student View user ("Test
 * Student") in launches and NRPS; Canvas accepts AGS scores for that user, so the tool itself must
 * keep its grades out of the gradebook and its people out of counts.
 */
export const TEST_USER_ROLE = 'http://purl.imsglobal.org/vocab/lti/system/person#TestUser';

/** Every form of the TestUser role we accept (full URI, or the short name some platforms send). */
export const TEST_USER_ROLES: readonly string[] = [TEST_USER_ROLE, 'TestUser'];

export function isTestUser(roles: readonly string[]): boolean {
  return roles.some((role) => TEST_USER_ROLES.includes(role));
}
