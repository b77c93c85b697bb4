import type { AppServices } from '../app-services.ts';
import { lmsForCourse } from '../courses/lms-for-course.ts';
import type { ResolveLms } from './worker.ts';

/** The worker's LMS resolver for the app: the stored course's AGS endpoints and its platform. */
export function resolveLmsFromServices(services: AppServices): ResolveLms {
  return async (tenantId, courseId) => (await lmsForCourse(services, tenantId, courseId)).lms;
}
