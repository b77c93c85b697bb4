/**
 * What a person is in a course, in the product's words, whatever the LMS: the LTI adapter maps
 * LTI role URIs to these (`src/lms/lti/roles.ts`), the Classroom adapter maps Classroom's teacher
 * and student lists. Sessions store these, so nothing above the adapters reads an LTI role URI.
 */
export type LmsRole = 'teacher' | 'student' | 'mentor' | 'administrator' | 'other';

/** The roles a person may hold at once (an administrator may also teach the course). */
export type HeldRole = Exclude<LmsRole, 'other'>;

export const HELD_ROLES: readonly HeldRole[] = Object.freeze([
  'teacher',
  'student',
  'mentor',
  'administrator',
]);

export function isHeldRole(value: string): value is HeldRole {
  return (HELD_ROLES as readonly string[]).includes(value);
}

/** Keeps the neutral roles of a stored list, dropping anything else (an unknown word is no role). */
export function heldRoles(values: readonly string[]): HeldRole[] {
  return HELD_ROLES.filter((role) => values.includes(role));
}

/** Most specific role wins for the product's purposes: administrators and teachers see the teacher view. */
export function primaryRole(roles: readonly HeldRole[]): LmsRole {
  if (roles.includes('teacher')) return 'teacher';
  if (roles.includes('administrator')) return 'administrator';
  if (roles.includes('student')) return 'student';
  if (roles.includes('mentor')) return 'mentor';
  return 'other';
}
