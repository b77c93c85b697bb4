import { lmsForCourse, type CourseLmsDeps } from '../courses/lms-for-course.ts';
import type { GradebookResult } from '../lms/port.ts';

/**
 * Reads the results of one of the course's gradebook columns (the tool's own assignment columns:
 * an AGS line item URL) through the course's LMS port. On LTI platforms the read refuses when the
 * LMS did not grant the result.readonly scope (an LtiError the page turns into words).
 */
export async function readLineItemResults(
  services: CourseLmsDeps,
  tenantId: string,
  courseId: string,
  lineItemUrl: string,
): Promise<GradebookResult[]> {
  const { lms } = await lmsForCourse(services, tenantId, courseId);
  return lms.readResults(lineItemUrl);
}
