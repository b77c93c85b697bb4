import { createAgsClient, type Result } from '../lti/ags.ts';
import type { LmsHttpClient } from '../lti/http.ts';
import type { LtiServiceContext } from '../lti/service-request.ts';
import type { TokenClient } from '../lti/token-client.ts';
import type { CourseRepository } from '../storage/lti/courses.repository.ts';
import type { DeploymentRepository } from '../storage/lti/deployments.repository.ts';
import type { PlatformRepository } from '../storage/lti/platforms.repository.ts';

/**
 * Reads the AGS results of one of the course's line items (the tool's own assignment columns).
 * Built like `lmsForCourse` (stored AGS scopes, the platform's token endpoint), because the LMS
 * port has no "results" operation yet; `listResults` refuses when the LMS did not grant the
 * result.readonly scope (an LtiError the page turns into words).
 */
export async function readLineItemResults(
  services: {
    readonly http: LmsHttpClient;
    readonly tokenClient: TokenClient;
    readonly courses: Pick<CourseRepository, 'findCourseById'>;
    readonly deployments: Pick<DeploymentRepository, 'findById'>;
    readonly platforms: Pick<PlatformRepository, 'findById'>;
  },
  tenantId: string,
  courseId: string,
  lineItemUrl: string,
): Promise<Result[]> {
  const course = await services.courses.findCourseById(tenantId, courseId);
  if (course === undefined) throw new Error(`course ${courseId} not found`);
  const deployment = await services.deployments.findById(course.deploymentRowId);
  const platform =
    deployment === undefined ? undefined : await services.platforms.findById(deployment.platformId);
  if (deployment === undefined || platform === undefined || deployment.tenantId !== tenantId) {
    throw new Error(`no platform for course ${courseId}`);
  }
  const context: LtiServiceContext = {
    http: services.http,
    tokens: services.tokenClient,
    platform: {
      issuer: platform.issuer,
      clientId: platform.clientId,
      tokenEndpoint: platform.authTokenUrl,
      tokenAudience: platform.tokenAudience,
    },
    scopes: [...course.agsScopes],
  };
  return createAgsClient(context).listResults(lineItemUrl);
}
