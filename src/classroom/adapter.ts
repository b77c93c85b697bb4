import { LmsHttpError } from '../lti/errors.ts';
import { LmsError } from '../lms/errors.ts';
import type {
  CourseRef,
  GradebookColumn,
  GradebookResult,
  LmsPort,
  NewGradebookColumn,
  RosterMember,
  ScorePost,
} from '../lms/port.ts';
import type {
  ClassroomColumn,
  ClassroomRepository,
} from '../storage/classroom/classroom.repository.ts';
import type { ClassroomApi, ClassroomMember, ClassroomSubmission } from './api.ts';
import { ClassroomError, classroomErrorFromGoogle } from './errors.ts';

/**
 * The LMS port over Google Classroom. A gradebook column is an item the tool created: an add-on
 * attachment (grades go to the student's ATTACHMENT submission's `pointsEarned`, a draft the
 * teacher returns; that submission has its own id, learnt from getAddOnContext when the student
 * opened the attachment) or
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
export function classroomColumnId(
  column: Pick<ClassroomColumn, 'kind' | 'courseWorkId' | 'attachmentId'>,
): string {
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

/** Still there in Classroom? A deleted CourseWork answers 404 (the worker then says "deleted"). */
async function exists(
  api: ClassroomApi,
  classroomCourseId: string,
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

/** Writes one score to the attachment submission or the CourseWork submission of a column. */
async function post(
  options: ClassroomAdapterOptions,
  api: ClassroomApi,
  target: NonNullable<ReturnType<typeof parseClassroomColumnId>>,
  score: ScorePost,
  column: GradebookColumn,
): Promise<void> {
  const { repository, tenantId, courseId, classroomCourseId } = options;
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
    // The attachment submission's own id (AddOnAttachmentStudentSubmission.id), kept when the
    // student opened the attachment. Google lists no attachment submissions, so before that
    // there is nothing to grade: read as "not a student yet", a permanent, explained failure.
    const submissionId = await repository.findAttachmentSubmission(
      tenantId,
      courseId,
      target.courseWorkId,
      target.attachmentId,
      score.userId,
    );
    if (submissionId === undefined) {
      throw new LmsError('not_found', {
        reason: 'not_a_student',
        httpStatus: 404,
        detail: `classroom:${classroomCourseId}/${target.courseWorkId}/${target.attachmentId}: the student has not opened this Mastery Pathways activity in Classroom yet`,
      });
    }
    await api.patchAttachmentPoints({
      courseId: classroomCourseId,
      itemId: target.courseWorkId,
      attachmentId: target.attachmentId,
      submissionId,
      pointsEarned: points,
    });
    return;
  }
  let submissions: ClassroomSubmission[];
  try {
    submissions = await api.listSubmissions(classroomCourseId, target.courseWorkId, score.userId);
  } catch (error) {
    // Google answers 404 both for an unknown user and for a deleted CourseWork: tell them apart.
    const missing = error instanceof LmsHttpError && error.status === 404;
    if (!missing || !(await exists(api, classroomCourseId, { courseWorkId: target.courseWorkId })))
      throw error;
    submissions = [];
  }
  const [submission] = submissions;
  if (submission === undefined) {
    // Read by the passback classifier as "not a student" (a permanent, explained failure).
    throw new LmsError('not_found', {
      reason: 'not_a_student',
      httpStatus: 404,
      detail: `classroom:${classroomCourseId}/${target.courseWorkId}: Classroom has no submission for this student`,
    });
  }
  await api.patchSubmissionGrades({
    courseId: classroomCourseId,
    courseWorkId: target.courseWorkId,
    submissionId: submission.id,
    draftGrade: points,
    assignedGrade: options.assignGrades ? points : undefined,
  });
}

export function createClassroomLmsAdapter(options: ClassroomAdapterOptions): LmsPort {
  const { repository, tenantId, courseId, classroomCourseId } = options;

  /**
   * Google's 403 in words (Access Errors). A reason only a person can fix stops grading for the
   * whole course, with the reason kept for the teacher view and the admin page; the cell waits
   * (classified as "a teacher needs to sign in": signing in again resumes the course). Any other
   * failure (another project's item, throttling, 5xx) is the cell's own and goes on as it is.
   */
  async function explained<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const refusal = classroomErrorFromGoogle(error, 'teacher_left_course');
      if (refusal === undefined || !refusal.stopsCourseGrading) throw error;
      await repository.pauseCourse(tenantId, courseId, refusal.message);
      throw new ClassroomError('needs_teacher_sign_in', {
        detail: `${refusal.code}: ${refusal.detail ?? ''}`,
        cause: refusal,
      });
    }
  }

  return {
    course: options.course,

    async roster() {
      const api = await options.api();
      const [students, teachers] = await explained(() =>
        Promise.all([api.listStudents(classroomCourseId), api.listTeachers(classroomCourseId)]),
      );
      return [
        ...teachers.map((member) => toRosterMember(member, 'teacher')),
        ...students.map((member) => toRosterMember(member, 'student')),
      ];
    },

    async findGradebookColumn(query) {
      const column = await repository.findColumn(tenantId, courseId, query);
      if (column === undefined) return undefined;
      const api = await options.api();
      return (await explained(() => exists(api, classroomCourseId, column)))
        ? toGradebookColumn(column)
        : undefined;
    },

    createGradebookColumn: createColumn,
    postScore,
    readResults,
  };

  async function createColumn(column: NewGradebookColumn): Promise<GradebookColumn> {
    const api = await options.api();
    // CourseWork.maxPoints is a non-negative integer (reference): a whole-point scale.
    const maxPoints = Math.max(1, Math.round(column.scoreMaximum));
    const work = await explained(() =>
      api.createCourseWork(classroomCourseId, { title: column.label, maxPoints }),
    );
    const stored = await repository.createColumn({
      tenantId,
      courseId,
      kind: 'coursework',
      courseWorkId: work.id,
      attachmentId: undefined,
      assignmentId: undefined,
      title: column.label,
      maxPoints,
      tag: column.tag,
      resourceId: column.resourceId,
    });
    return toGradebookColumn(stored);
  }

  async function postScore(column: GradebookColumn, score: ScorePost): Promise<void> {
    const target = parseClassroomColumnId(column.id);
    if (target === undefined) {
      throw new LmsError('not_found', {
        httpStatus: 404,
        detail: `not a Google Classroom column id: ${column.id}`,
      });
    }
    const api = await options.api();
    await explained(() => post(options, api, target, score, column));
  }

  /**
   * CourseWork grades as results (the returned grade, else the draft), on the CourseWork's points.
   * Google lists no add-on attachment submissions, so an attachment column has no results to read.
   */
  async function readResults(columnId: string): Promise<GradebookResult[]> {
    const target = parseClassroomColumnId(columnId);
    if (target?.kind !== 'coursework') {
      throw new LmsError('invalid', {
        detail: `Google Classroom lists no results for column ${columnId}`,
      });
    }
    const api = await options.api();
    const [work, submissions] = await explained(() =>
      Promise.all([
        api.getCourseWork(classroomCourseId, target.courseWorkId),
        api.listSubmissions(classroomCourseId, target.courseWorkId),
      ]),
    );
    return submissions.map((submission) => ({
      userId: submission.userId,
      resultScore: submission.assignedGrade ?? submission.draftGrade,
      resultMaximum: work.maxPoints,
    }));
  }
}
