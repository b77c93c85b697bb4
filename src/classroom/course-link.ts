import { createClassroomLmsAdapter } from './adapter.ts';
import { apiFor, installFor, type ClassroomContext } from './context.ts';
import { ClassroomError } from './errors.ts';

/**
 * The LMS port for a Classroom course, acting as the course's grading teacher. The grading teacher
 * is read again on every API use, so a teacher who signs in again takes over at once.
 */
export async function lmsForCourse(
  ctx: ClassroomContext,
  tenantId: string,
  course: { id: string; contextId: string },
  options: { assignGrades: boolean },
) {
  const { repository } = ctx;
  const install = await installFor(ctx, tenantId);
  const link = await repository.findCourseLink(tenantId, course.id);
  if (link === undefined) throw new ClassroomError('not_configured');
  return createClassroomLmsAdapter({
    course: {
      issuer: install.issuer,
      deploymentId: `classroom:${tenantId}`,
      contextId: course.contextId,
    },
    tenantId,
    courseId: course.id,
    classroomCourseId: link.classroomCourseId,
    repository,
    assignGrades: options.assignGrades,
    api: async () => {
      const current = await repository.findCourseLink(tenantId, course.id);
      if (current?.gradingUserId === undefined || current.needsTeacherSignIn) {
        throw new ClassroomError('needs_teacher_sign_in');
      }
      return apiFor(ctx, install, current.gradingUserId);
    },
  });
}
