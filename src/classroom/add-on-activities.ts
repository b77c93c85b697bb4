import { AppError } from '../errors.ts';
import { LmsHttpError } from '../lti/errors.ts';
import type {
  ClassroomColumn,
  ClassroomCourseLink,
} from '../storage/classroom/classroom.repository.ts';
import { classroomColumnId } from './adapter.ts';
import type { AddOnDeps } from './add-on-deps.ts';
import type { ClassroomApi } from './api.ts';
import { ClassroomError, classroomErrorFromGoogle } from './errors.ts';
import { googleStatus } from './google-http.ts';

/** Who acts in an add-on session page, and in which course of the tool. */
export interface AddOnViewer {
  readonly tenantId: string;
  readonly userId: string;
  readonly courseId: string;
}

/** The add-on's URIs an activity carries (see `classroomUrls` in the web layer). */
export interface ActivityUrls {
  readonly teacherViewUri: string;
  readonly studentViewUri: string;
  readonly studentWorkReviewUri: string;
  readonly linkUri: string;
}

/** The course's Classroom link; a course launched from elsewhere has none. */
export async function classroomLinkOf(
  deps: AddOnDeps,
  viewer: Pick<AddOnViewer, 'tenantId' | 'courseId'>,
): Promise<ClassroomCourseLink> {
  const link = await deps.classroom.repository.findCourseLink(viewer.tenantId, viewer.courseId);
  if (link === undefined) {
    throw new AppError(404, 'not_found', 'This course is not a Google Classroom course.');
  }
  return link;
}

/** The standards a teacher may align a new activity with, in the district's frameworks. */
export function listStandardChoices(deps: AddOnDeps, tenantId: string) {
  return deps.classroom.repository.listStandards(tenantId);
}

/** A Classroom API failure during a teacher's action, as a page that says what to do. */
export function asClassroomError(error: unknown): unknown {
  if (!(error instanceof LmsHttpError)) return error;
  const explained = classroomErrorFromGoogle(error);
  if (explained !== undefined) return explained;
  return new ClassroomError('api_failed', {
    detail: `HTTP ${error.status ?? error.kind} ${googleStatus(error) ?? ''}`,
    cause: error,
  });
}

/**
 * Creates the activity in Classroom: the add-on attachment, or, when Google refuses it (no
 * Teaching and Learning / Education Plus licence; Google answers PERMISSION_DENIED), a plain
 * CourseWork with a link to the tool. No licence check runs first: the only published one,
 * userProfiles.checkUserCapability, is a Developer Preview method a district's project cannot call.
 * Refusals that would stop the fallback too (Classroom data access off, a permission not allowed,
 * the add-on token) are said in words instead.
 */
async function createInClassroom(
  api: ClassroomApi,
  input: {
    classroomCourseId: string;
    itemId: string;
    addOnToken: string | undefined;
    title: string;
    maxPoints: number;
    urls: ActivityUrls;
  },
): Promise<{ kind: 'attachment' | 'coursework'; courseWorkId: string; attachmentId?: string }> {
  try {
    const attachment = await api.createAddOnAttachment({
      courseId: input.classroomCourseId,
      itemId: input.itemId,
      addOnToken: input.addOnToken,
      attachment: {
        title: input.title,
        teacherViewUri: input.urls.teacherViewUri,
        studentViewUri: input.urls.studentViewUri,
        studentWorkReviewUri: input.urls.studentWorkReviewUri,
        maxPoints: input.maxPoints,
      },
    });
    return { kind: 'attachment', courseWorkId: input.itemId, attachmentId: attachment.id };
  } catch (error) {
    const explained = classroomErrorFromGoogle(error);
    const refusedAttachmentOnly =
      error instanceof LmsHttpError &&
      error.status === 403 &&
      (explained === undefined || explained.code === 'permission_denied');
    if (!refusedAttachmentOnly) throw asClassroomError(error);
  }
  try {
    const work = await api.createCourseWork(input.classroomCourseId, {
      title: input.title,
      maxPoints: input.maxPoints,
      linkUrl: `${input.urls.linkUri}?${new URLSearchParams({ courseId: input.classroomCourseId })}`,
    });
    return { kind: 'coursework', courseWorkId: work.id };
  } catch (error) {
    throw asClassroomError(error);
  }
}

export type CreatedActivity =
  /** A chosen standard was removed meanwhile: nothing was created, or nothing recorded. */
  | { readonly outcome: 'standards_gone' }
  | {
      readonly outcome: 'created';
      readonly kind: 'attachment' | 'coursework';
      readonly standards: Awaited<
        ReturnType<AddOnDeps['classroom']['repository']['listAlignedStandards']>
      >;
    };

/**
 * A teacher's new activity: created in Classroom (attachment, or CourseWork with a link), then
 * recorded as an assignment of the course aligned with the chosen standards.
 */
export async function createClassroomActivity(
  deps: AddOnDeps,
  viewer: AddOnViewer,
  input: {
    link: ClassroomCourseLink;
    itemId: string;
    addOnToken: string | undefined;
    title: string;
    maxPoints: number;
    standards: readonly string[];
    urlsFor: (tenantSlug: string) => ActivityUrls;
  },
): Promise<CreatedActivity> {
  const { classroom } = deps;
  if (!(await classroom.repository.standardsExist(viewer.tenantId, input.standards))) {
    return { outcome: 'standards_gone' };
  }
  const install = await classroom.findInstall(viewer.tenantId);
  if (install === undefined) throw new ClassroomError('not_configured');
  const api = await classroom.apiForUser(viewer.tenantId, viewer.userId);
  const created = await createInClassroom(api, {
    classroomCourseId: input.link.classroomCourseId,
    itemId: input.itemId,
    addOnToken: input.addOnToken,
    title: input.title,
    maxPoints: input.maxPoints,
    urls: input.urlsFor(install.tenantSlug),
  });
  const recorded = await classroom.repository.recordActivity({
    tenantId: viewer.tenantId,
    courseId: viewer.courseId,
    title: input.title,
    itemIds: [...input.standards],
    maxPoints: input.maxPoints,
    createdBy: viewer.userId,
    kind: created.kind,
    courseWorkId: created.courseWorkId,
    attachmentId: created.attachmentId,
    lineItemUrl: classroomColumnId({ attachmentId: undefined, ...created }),
  });
  if (recorded === undefined) return { outcome: 'standards_gone' };
  deps.logger.info(
    { tenantId: viewer.tenantId, courseId: viewer.courseId, kind: created.kind },
    'classroom activity created',
  );
  return {
    outcome: 'created',
    kind: created.kind,
    standards: await classroom.repository.listAlignedStandards(
      viewer.tenantId,
      recorded.assignmentId,
    ),
  };
}

export interface AttachmentQuery {
  readonly itemId: string;
  readonly itemType?: string | undefined;
  readonly attachmentId?: string | undefined;
}

/**
 * The activity an attachment iframe shows, and its standards. An attachment unknown here may be a
 * reused post or a copied class: Classroom's copyHistory says where from. The page still opens
 * without the activity when that cannot be read; the log says why.
 */
export async function openAttachment(
  deps: AddOnDeps,
  viewer: AddOnViewer,
  input: { link: ClassroomCourseLink; query: AttachmentQuery },
) {
  const { classroom, logger } = deps;
  const { query, link } = input;
  let column: ClassroomColumn | undefined =
    query.attachmentId === undefined
      ? undefined
      : await classroom.repository.findColumnByAttachment(
          viewer.tenantId,
          viewer.courseId,
          query.itemId,
          query.attachmentId,
        );
  if (
    column === undefined &&
    query.attachmentId !== undefined &&
    (query.itemType ?? 'courseWork') === 'courseWork'
  ) {
    try {
      column = await classroom.adoptCopiedAttachment({
        tenantId: viewer.tenantId,
        userId: viewer.userId,
        courseId: viewer.courseId,
        classroomCourseId: link.classroomCourseId,
        itemId: query.itemId,
        attachmentId: query.attachmentId,
      });
      if (column !== undefined) {
        logger.info(
          { tenantId: viewer.tenantId, courseId: viewer.courseId },
          'classroom copied activity recognised',
        );
      }
    } catch (error) {
      logger.warn(
        { tenantId: viewer.tenantId, courseId: viewer.courseId, err: error },
        'classroom copy history not read',
      );
    }
  }
  const standards =
    column?.assignmentId === undefined
      ? []
      : await classroom.repository.listAlignedStandards(viewer.tenantId, column.assignmentId);
  return { column, standards };
}

/**
 * A student opened the attachment: which of their submissions it is, so grades go there. Kept at
 * sign-in already; this refresh is best effort.
 */
export async function recordStudentOpen(
  deps: AddOnDeps,
  viewer: AddOnViewer,
  input: { link: ClassroomCourseLink; itemId: string; attachmentId: string },
): Promise<void> {
  try {
    await deps.classroom.recordStudentOpen({
      tenantId: viewer.tenantId,
      userId: viewer.userId,
      courseId: viewer.courseId,
      classroomCourseId: input.link.classroomCourseId,
      itemId: input.itemId,
      attachmentId: input.attachmentId,
    });
  } catch (error) {
    deps.logger.warn(
      { tenantId: viewer.tenantId, err: error },
      'classroom student submission not read',
    );
  }
}

/**
 * The student whose work the review iframe shows. Classroom gives it the ATTACHMENT submission's
 * own id: read it there. `undefined` when Classroom names nobody.
 */
export async function reviewedStudent(
  deps: AddOnDeps,
  viewer: AddOnViewer,
  input: { link: ClassroomCourseLink; itemId: string; attachmentId: string; submissionId: string },
): Promise<{ name: string } | undefined> {
  const { classroom } = deps;
  const api = await classroom.apiForUser(viewer.tenantId, viewer.userId);
  let found: { userId?: string | undefined } | undefined;
  try {
    found = await api.getAttachmentSubmission({
      courseId: input.link.classroomCourseId,
      itemId: input.itemId,
      attachmentId: input.attachmentId,
      submissionId: input.submissionId,
    });
  } catch (error) {
    if (!(error instanceof LmsHttpError && error.status === 404)) throw asClassroomError(error);
  }
  const install = await classroom.findInstall(viewer.tenantId);
  const person =
    found?.userId === undefined || install === undefined
      ? undefined
      : await deps.people.findUser(viewer.tenantId, install.issuer, found.userId);
  if (found?.userId === undefined) return undefined;
  return { name: person?.name ?? 'A student who has not opened Mastery Pathways yet' };
}
