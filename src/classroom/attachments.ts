import type { ClassroomLaunchParams } from '../storage/classroom/classroom.repository.ts';
import { classroomColumnId } from './adapter.ts';
import { apiFor, installFor, type ClassroomContext } from './context.ts';

/**
 * Add-on attachments: the student's own submission on one (where grades go), and an attachment
 * Classroom copied from one the district knows (its activity and standards come along).
 */

export interface AttachmentOpened {
  tenantId: string;
  userId: string;
  courseId: string;
  classroomCourseId: string;
  itemId: string;
  attachmentId: string;
}

/**
 * Keeps the student's own submission id on an attachment (getAddOnContext's
 * `studentContext.submissionId`): grades go there, and Google lists no attachment submissions.
 */
export async function rememberAttachmentSubmission(
  ctx: ClassroomContext,
  tenantId: string,
  courseId: string,
  launch: Pick<ClassroomLaunchParams, 'itemType' | 'itemId' | 'attachmentId'>,
  googleUserId: string,
  context: { attachmentSubmissionId: string | undefined },
): Promise<void> {
  if (
    context.attachmentSubmissionId === undefined ||
    launch.attachmentId === undefined ||
    (launch.itemType ?? 'courseWork') !== 'courseWork'
  ) {
    return;
  }
  await ctx.repository.saveAttachmentSubmission({
    tenantId,
    courseId,
    courseWorkId: launch.itemId,
    attachmentId: launch.attachmentId,
    googleUserId,
    submissionId: context.attachmentSubmissionId,
  });
}

/**
 * The student opens an attachment (student view): Classroom says again which submission of
 * theirs belongs to it, and it is kept for grading.
 */
export async function recordStudentOpen(
  ctx: ClassroomContext,
  input: AttachmentOpened,
): Promise<void> {
  const install = await installFor(ctx, input.tenantId);
  const person = await ctx.people.findUserById(input.tenantId, input.userId);
  if (person === undefined) return;
  const context = await apiFor(ctx, install, input.userId).getAddOnContext({
    courseId: input.classroomCourseId,
    itemId: input.itemId,
    attachmentId: input.attachmentId,
  });
  await rememberAttachmentSubmission(
    ctx,
    input.tenantId,
    input.courseId,
    { itemId: input.itemId, attachmentId: input.attachmentId },
    person.sub,
    { attachmentSubmissionId: context.studentContext?.submissionId },
  );
}

/**
 * An attachment the tool does not know in this course: Classroom copied it (a reused post or a
 * copied class) and its `copyHistory` names the attachments it came from, oldest first. The
 * newest one the district knows gives its activity: a copy of the assignment with its
 * standards is made in this course (as alignments survive an LMS course copy).
 */
export async function adoptCopiedAttachment(ctx: ClassroomContext, input: AttachmentOpened) {
  const { repository } = ctx;
  const install = await installFor(ctx, input.tenantId);
  const attachment = await apiFor(ctx, install, input.userId).getAddOnAttachment({
    courseId: input.classroomCourseId,
    itemId: input.itemId,
    attachmentId: input.attachmentId,
  });
  for (const copy of [...(attachment.copyHistory ?? [])].reverse()) {
    const itemId = copy.itemId ?? copy.postId;
    if (itemId === undefined) continue;
    const original = await repository.findColumnByClassroomAttachment(
      input.tenantId,
      copy.courseId,
      itemId,
      copy.attachmentId,
    );
    if (original === undefined) continue;
    return repository.recordCopiedActivity({
      tenantId: input.tenantId,
      courseId: input.courseId,
      original,
      courseWorkId: input.itemId,
      attachmentId: input.attachmentId,
      maxPoints: attachment.maxPoints,
      actor: input.userId,
      lineItemUrl: classroomColumnId({
        kind: 'attachment',
        courseWorkId: input.itemId,
        attachmentId: input.attachmentId,
      }),
    });
  }
  return undefined;
}
