import type { Kysely } from 'kysely';
import type { ClassroomServices } from '../classroom/services.ts';
import { loadCoursePolicy } from '../policy/store.ts';
import { createAgsClient } from '../lti/ags.ts';
import { LTI_SCOPE } from '../lti/claims.ts';
import { createLtiLmsAdapter } from '../lms/lti/adapter.ts';
import { platformProfile } from '../lms/platforms/index.ts';
import type { LmsPort } from '../lms/port.ts';
import { createNrpsClient } from '../lti/nrps.ts';
import type { LmsHttpClient } from '../lti/http.ts';
import type { TokenClient } from '../lti/token-client.ts';
import type { LtiServiceContext } from '../lti/service-request.ts';
import type { DeploymentRepository } from '../storage/lti/deployments.repository.ts';
import type { Course, CourseRepository } from '../storage/lti/courses.repository.ts';
import type { PlatformRepository } from '../storage/lti/platforms.repository.ts';
import type { Database } from '../storage/schema.ts';

/** What finding a stored course's LMS reads: the course, its deployment and platform, its policy. */
export interface CourseLmsDeps {
  readonly db: Kysely<Database>;
  readonly http: LmsHttpClient;
  readonly tokenClient: TokenClient;
  readonly courses: Pick<CourseRepository, 'findCourseById'>;
  readonly deployments: Pick<DeploymentRepository, 'findById'>;
  readonly platforms: Pick<PlatformRepository, 'findById'>;
  readonly classroom: Pick<ClassroomServices, 'lmsForCourse'>;
}

export class CourseServiceError extends Error {
  readonly code: 'course_not_found' | 'platform_not_found';

  constructor(code: CourseServiceError['code'], message: string) {
    super(message);
    this.name = 'CourseServiceError';
    this.code = code;
  }
}

/**
 * The LMS adapter for one stored course, usable without a user present (roster sync, passback):
 * the AGS/NRPS endpoints were stored at launch, the platform registration gives the token endpoint.
 */
export async function lmsForCourse(
  services: CourseLmsDeps,
  tenantId: string,
  courseId: string,
): Promise<{ course: Course; lms: LmsPort }> {
  const course = await services.courses.findCourseById(tenantId, courseId);
  if (course === undefined) {
    throw new CourseServiceError('course_not_found', `course ${courseId} not found`);
  }
  const deployment = await services.deployments.findById(course.deploymentRowId);
  const platform =
    deployment === undefined ? undefined : await services.platforms.findById(deployment.platformId);
  if (deployment === undefined || platform === undefined || deployment.tenantId !== tenantId) {
    throw new CourseServiceError('platform_not_found', `no platform for course ${courseId}`);
  }
  if (platform.flavour === 'classroom') {
    return { course, lms: await classroomLms(services, tenantId, course) };
  }
  const scopes = [
    ...course.agsScopes,
    ...(course.nrpsMembershipsUrl === undefined ? [] : [LTI_SCOPE.membershipReadonly]),
  ];
  const context: LtiServiceContext = {
    http: services.http,
    tokens: services.tokenClient,
    platform: {
      issuer: platform.issuer,
      clientId: platform.clientId,
      tokenEndpoint: platform.authTokenUrl,
      tokenAudience: platform.tokenAudience,
    },
    scopes,
  };
  const profile = platformProfile(platform.flavour);
  const lms = createLtiLmsAdapter({
    services: {
      course: {
        issuer: platform.issuer,
        deploymentId: deployment.deploymentId,
        contextId: course.contextId,
      },
      lineItemsUrl: course.agsLineItemsUrl,
      membershipsUrl: course.nrpsMembershipsUrl,
      scopes,
    },
    ags: createAgsClient(context),
    nrps: createNrpsClient(context),
    // Canvas: no new attempt per post. Its `prioritize_non_tool_grade` is never sent (it would also
    // block the tool's own later grades); a teacher's manual grade is kept by reading the result
    // first, where results show manual grades, when the course policy says so (default on).
    canvasSubmissionExtension: profile.submissionExtension,
    protectManualGrades:
      profile.resultsShowManualGrades &&
      (await loadCoursePolicy(services.db, tenantId, courseId)).passback.prioritizeNonToolGrade,
  });
  return { course, lms };
}

/** Google Classroom: the course's grading teacher acts; the course policy says draft or assign. */
async function classroomLms(services: CourseLmsDeps, tenantId: string, course: Course) {
  let assignGrades = false;
  try {
    assignGrades = (await loadCoursePolicy(services.db, tenantId, course.id)).passback
      .classroomAssignGrades;
  } catch {
    // An unusable stored policy must not stop grades: drafting only is the safe default.
  }
  return services.classroom.lmsForCourse(tenantId, course, { assignGrades });
}
