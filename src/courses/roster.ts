import { TEST_USER_ROLE } from '../lms/lti/roles.ts';
import type { RosterMember } from '../lms/port.ts';
import type { LmsRole } from '../lms/roles.ts';
import type { Member } from '../lti/nrps.ts';
import type { CourseRepository, RosterSyncResult } from '../storage/lti/courses.repository.ts';
import type { DeletionRecordRepository } from '../storage/privacy/deletion-records.repository.ts';
import type { TenantRepository } from '../storage/lti/tenants.repository.ts';
import { lmsForCourse, type CourseLmsDeps } from './lms-for-course.ts';

/** What a roster sync reads and writes besides the course's LMS. */
export interface RosterSyncDeps extends CourseLmsDeps {
  readonly courses: Pick<CourseRepository, 'findCourseById' | 'syncRoster'>;
  readonly tenants: Pick<TenantRepository, 'findById'>;
  readonly deletionRecords: Pick<DeletionRecordRepository, 'deletedAmong'>;
}

/** LIS context roles for the roles the LMS port reports (the roster table keeps LTI role URIs). */
const ROLE_URI: Readonly<Record<LmsRole, string | undefined>> = {
  teacher: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor',
  student: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner',
  mentor: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Mentor',
  administrator: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator',
  other: undefined,
};

function toMember(member: RosterMember): Member {
  const role = ROLE_URI[member.role];
  return {
    userId: member.userId,
    name: member.name,
    givenName: member.givenName,
    familyName: member.familyName,
    email: member.email,
    sourcedId: undefined,
    // The TestUser system role is kept, so the roster and the grade sync know the test student.
    roles: [
      ...(role === undefined ? [] : [role]),
      ...(member.testUser === true ? [TEST_USER_ROLE] : []),
    ],
    status: member.active ? 'Active' : 'Inactive',
  };
}

/**
 * Reads the course roster from the LMS (NRPS for LTI platforms) and applies it: new members are
 * added, people who left are marked inactive (never deleted: their evidence stays attributable).
 */
export async function syncCourseRoster(
  services: RosterSyncDeps,
  tenantId: string,
  courseId: string,
): Promise<RosterSyncResult & { readonly removedOnRequest: readonly Date[] }> {
  const { lms } = await lmsForCourse(services, tenantId, courseId);
  const listed = await lms.roster();
  const tenant = await services.tenants.findById(tenantId);
  // People the district deleted on request stay deleted while the LMS still lists them.
  const deleted = await services.deletionRecords.deletedAmong(
    tenantId,
    lms.course.issuer,
    listed.map((member) => member.userId),
  );
  const members = listed.filter((member) => !deleted.has(member.userId));
  const result = await services.courses.syncRoster({
    tenantId,
    courseId,
    issuer: lms.course.issuer,
    members: members.map(toMember),
    storeEmail: tenant?.settings.storeEmail ?? false,
  });
  return { ...result, removedOnRequest: [...deleted.values()] };
}
