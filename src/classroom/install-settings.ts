import type { ClassroomServices } from './services.ts';

/**
 * What the Google Classroom admin page shows for a district: its install (if any) and the classes
 * whose grading is paused, with Google's reason. The caller has checked that the actor may manage
 * the district.
 */
export async function classroomInstallOverview(
  classroom: Pick<ClassroomServices, 'findInstall' | 'repository'>,
  tenantId: string | undefined,
) {
  if (tenantId === undefined) return { install: undefined, pausedCourses: [] };
  return {
    install: await classroom.findInstall(tenantId),
    pausedCourses: await classroom.repository.listPausedCourses(tenantId),
  };
}
