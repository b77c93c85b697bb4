import { EmulatorError } from '../errors.ts';
import { hasAuthorizedProject } from './consent.ts';
import type { ClassroomState } from './state.ts';

/**
 * The URLs Classroom opens an add-on at (add-ons guide, "iframes"): the Attachment Setup URI
 * with `courseId`, `itemId`, `itemType`, `addOnToken` and `login_hint`; attachment views with
 * `attachmentId` instead of the token, and the student work review with `submissionId` as well.
 * `postId` (deprecated alias of itemId) is still sent. `login_hint` (the user's Google id) comes only
 * once the user has signed in to the add-on's project before (sign-in journey guide).
 */

/** `login_hint` for a user who has authorized the add-on's Cloud project, else nothing. */
function loginHint(
  state: ClassroomState,
  userId: string,
  projectNumber: string,
): Record<string, string> {
  return hasAuthorizedProject(state, userId, projectNumber) ? { login_hint: userId } : {};
}

export type AttachmentView = 'teacher' | 'student' | 'review';

function withQuery(base: string, params: Record<string, string>): string {
  const url = new URL(base);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return url.toString();
}

/** The attachment discovery iframe URL for a teacher opening the add-on on an assignment. */
export function discoveryFrameUrl(
  state: ClassroomState,
  input: { courseId: string; itemId: string; userId: string; projectNumber?: string },
): string {
  const registration =
    input.projectNumber === undefined
      ? [...state.addOns.values()][0]
      : state.addOns.get(input.projectNumber);
  if (!registration) {
    throw new EmulatorError('unknown_tool', 'no add-on registered (state.registerAddOn)');
  }
  const course = state.course(input.courseId);
  if (!course.teacherIds.includes(input.userId)) {
    throw new EmulatorError(
      'not_enrolled',
      'only teachers of the course open attachment discovery',
    );
  }
  // Classroom shows the add-on picker only to teachers with the add-on licence.
  if (!state.user(input.userId).addOnLicence) {
    throw new EmulatorError(
      'not_enrolled',
      'the add-on is hidden from teachers without the Teaching and Learning or Education Plus licence',
    );
  }
  const token = state.issueAddOnToken({
    courseId: input.courseId,
    itemId: input.itemId,
    userId: input.userId,
  });
  return withQuery(registration.attachmentSetupUri, {
    courseId: input.courseId,
    itemId: input.itemId,
    itemType: state.posts.get(input.itemId)?.itemType ?? 'courseWork',
    postId: input.itemId,
    addOnToken: token.token,
    ...loginHint(state, input.userId, registration.projectNumber),
  });
}

/** An attachment's teacher view, student view or student work review iframe URL. */
export function attachmentFrameUrl(
  state: ClassroomState,
  input: { attachmentId: string; view: AttachmentView; userId: string; submissionId?: string },
): string {
  const attachment = state.attachments.get(input.attachmentId);
  if (!attachment) {
    throw new EmulatorError('invalid_argument', `no attachment ${input.attachmentId}`);
  }
  const base: Record<string, string> = {
    courseId: attachment.courseId,
    itemId: attachment.itemId,
    itemType: attachment.itemType,
    postId: attachment.itemId,
    attachmentId: attachment.id,
    ...loginHint(state, input.userId, attachment.projectNumber),
  };
  switch (input.view) {
    case 'teacher':
      return withQuery(attachment.teacherViewUri, base);
    case 'student':
      return withQuery(attachment.studentViewUri, base);
    case 'review': {
      if (attachment.studentWorkReviewUri === undefined || input.submissionId === undefined) {
        throw new EmulatorError(
          'invalid_argument',
          'student work review needs a studentWorkReviewUri and a submissionId',
        );
      }
      return withQuery(attachment.studentWorkReviewUri, {
        ...base,
        submissionId: input.submissionId,
      });
    }
  }
}
