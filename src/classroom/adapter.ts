import { LmsHttpError } from '../lti/errors.ts';
import type { CourseRef, GradebookColumn, LmsPort, RosterMember } from '../lti/lms-port.ts';
import type {
  ClassroomColumn,
  ClassroomRepository,
} from '../storage/classroom/classroom.repository.ts';
import type { ClassroomApi, ClassroomMember, ClassroomSubmission } from './api.ts';

/**
 * The LMS port over Google Classroom. A gradebook column is an item the tool created: an add-on
 * attachment (grades go to its student submission's `pointsEarned`, a draft the teacher returns) or
 * a CourseWork (grades go to `draftGrade`, and `assignedGrade` too when the course says so).
 * Classroom has no line-item search by tag: the tool's own record of what it created is the index.
 */

export interface ClassroomAdapterOptions {
  readonly course: CourseRef;
  readonly tenantId: string;
  readonly courseId: string;
  readonly classroomCourseId: string;
  readonly repository: ClassroomRepository;
  /** CoursePolicy.passback.classroomAssignGrades. */
  readonly assignGrades: boolean;
  /** The API as the course's grading teacher; throws when a teacher must sign in again. */
  readonly api: () => Promise<ClassroomApi>;
}

/** Column ids the port hands out: self-describing, so a stored id needs no look-up to post. */
export function classroomColumnId(column: ClassroomColumn): string {
  return column.kind === 'attachment'
    ? `attachment:${column.courseWorkId}:${column.attachmentId ?? ''}`
    : `coursework:${column.courseWorkId}`;
}

type ParsedColumnId =
  | { kind: 'attachment'; courseWorkId: string; attachmentId: string }
  | { kind: 'coursework'; courseWorkId: string };

export function parseClassroomColumnId(id: string): ParsedColumnId | undefined {
  const [kind, courseWorkId, attachmentId] = id.split(':');
  if (kind === 'attachment' && courseWorkId && attachmentId) {
    return { kind, courseWorkId, attachmentId };
  }
  if (kind === 'coursework' && courseWorkId) return { kind, courseWorkId };
  return undefined;
}

function toRosterMember(member: ClassroomMember, role: 'teacher' | 'student'): RosterMember {
  const name = member.profile?.name;
  return {
    userId: member.profile?.id ?? member.userId,
    name: name?.fullName,
    givenName: name?.givenName,
    familyName: name?.familyName,
    email: member.profile?.emailAddress,
    role,
    active: true,
  };
}

function toGradebookColumn(column: ClassroomColumn): GradebookColumn {
  return {
    id: classroomColumnId(column),
    label: column.title,
    scoreMaximum: column.maxPoints,
    tag: column.tag,
    resourceId: column.resourceId,
  };
}

/** Classroom keeps grades as numbers; two decimals are what its gradebook shows. */
const roundPoints = (value: number): number => Math.round(value * 100) / 100;

export function createClassroomLmsAdapter(options: ClassroomAdapterOptions): LmsPort {
  const { repository, tenantId, courseId, classroomCourseId } = options;

  /** Still there in Classroom? A deleted CourseWork answers 404 (the worker then says "deleted"). */
  async function exists(
    api: ClassroomApi,
    column: Pick<ClassroomColumn, 'courseWorkId'>,
  ): Promise<boolean> {
    try {
      await api.getCourseWork(classroomCourseId, column.courseWorkId);
      return true;
    } catch (error) {
      if (error instanceof LmsHttpError && error.status === 404) return false;
      throw error;
    }
  }

  return {
    course: options.course,

    async roster() {
      const api = await options.api();
      const [students, teachers] = await Promise.all([
        api.listStudents(classroomCourseId),
        api.listTeachers(classroomCourseId),
      ]);
      return [
        ...teachers.map((member) => toRosterMember(member, 'teacher')),
        ...students.map((member) => toRosterMember(member, 'student')),
      ];
    },

    async findGradebookColumn(query) {
      const column = await repository.findColumn(tenantId, courseId, query);
      if (column === undefined) return undefined;
      return (await exists(await options.api(), column)) ? toGradebookColumn(column) : undefined;
    },

    async createGradebookColumn(column) {
      const api = await options.api();
      const work = await api.createCourseWork(classroomCourseId, {
        title: column.label,
        maxPoints: column.scoreMaximum,
      });
      const stored = await repository.createColumn({
        tenantId,
        courseId,
        kind: 'coursework',
        courseWorkId: work.id,
        attachmentId: undefined,
        assignmentId: undefined,
        title: column.label,
        maxPoints: column.scoreMaximum,
        tag: column.tag,
        resourceId: column.resourceId,
      });
      return toGradebookColumn(stored);
    },

    async postScore(column, score) {
      const target = parseClassroomColumnId(column.id);
      if (target === undefined) {
        throw new LmsHttpError({
          kind: 'status',
          method: 'PATCH',
          url: column.id,
          status: 404,
          bodyExcerpt: 'not a Google Classroom column id',
          retryable: false,
        });
      }
      const api = await options.api();
      let submissions: ClassroomSubmission[];
      try {
        submissions = await api.listSubmissions(
          classroomCourseId,
          target.courseWorkId,
          score.userId,
        );
      } catch (error) {
        // Google answers 404 both for an unknown user and for a deleted CourseWork: tell them apart.
        const missing = error instanceof LmsHttpError && error.status === 404;
        if (!missing || !(await exists(api, { courseWorkId: target.courseWorkId }))) throw error;
        submissions = [];
      }
      const [submission] = submissions;
      if (submission === undefined) {
        // Read by the passback classifier as "not a student" (a permanent, explained failure).
        throw new LmsHttpError({
          kind: 'status',
          method: 'GET',
          url: `classroom:${classroomCourseId}/${target.courseWorkId}`,
          status: 404,
          bodyExcerpt: 'user not found: Classroom has no submission for this student',
          retryable: false,
        });
      }
      // The column's points in Classroom may differ from the score's scale: convert.
      const stored =
        target.kind === 'attachment'
          ? await repository.findColumnByAttachment(
              tenantId,
              courseId,
              target.courseWorkId,
              target.attachmentId,
            )
          : undefined;
      const maxPoints = stored?.maxPoints ?? column.scoreMaximum;
      const points = roundPoints(
        score.scoreMaximum > 0 ? (score.scoreGiven / score.scoreMaximum) * maxPoints : 0,
      );
      if (target.kind === 'attachment') {
        await api.patchAttachmentPoints({
          courseId: classroomCourseId,
          itemId: target.courseWorkId,
          attachmentId: target.attachmentId,
          submissionId: submission.id,
          pointsEarned: points,
        });
        return;
      }
      await api.patchSubmissionGrades({
        courseId: classroomCourseId,
        courseWorkId: target.courseWorkId,
        submissionId: submission.id,
        draftGrade: points,
        assignedGrade: options.assignGrades ? points : undefined,
      });
    },
  };
}
