import type { Request } from 'express';
import { z } from 'zod';
import type { ClassroomLaunchParams } from '../../../classroom/add-on-deps.ts';
import { CLASSROOM_ITEM_TYPES } from '../../../classroom/api.ts';
import { ClassroomError } from '../../../classroom/errors.ts';

/** What the add-on's pages read from Classroom's URLs and forms, and the URLs they make. */

/** The add-on's URIs for a district, as the admin page shows them and attachments carry them. */
export function classroomUrls(publicUrl: string, tenantSlug: string) {
  const base = `${publicUrl.replace(/\/+$/, '')}/classroom`;
  const district = `${base}/${encodeURIComponent(tenantSlug)}`;
  return {
    redirectUri: `${base}/oauth/callback`,
    attachmentSetupUri: `${district}/attachment-setup`,
    teacherViewUri: `${district}/teacher-view`,
    studentViewUri: `${district}/student-view`,
    studentWorkReviewUri: `${district}/student-work-review`,
    linkUri: `${district}/link`,
    javascriptOrigin: new URL(publicUrl).origin,
    uriPrefix: `${district}/`,
  };
}

// Classroom ids are opaque strings; bound their size and alphabet so nothing odd reaches a URL path.
export const classroomId = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.:-]+$/);
export const optionalParam = z.string().trim().min(1).max(2000).optional().catch(undefined);
/** Classroom's `itemType` (add-on iframes guide); absent means courseWork (older launches). */
export const itemTypeParam = z.enum(CLASSROOM_ITEM_TYPES).optional();

const addOnQuerySchema = z.object({
  courseId: classroomId,
  // Classroom sends itemId; older add-on launches send postId (deprecated, same value).
  itemId: classroomId.optional(),
  postId: classroomId.optional(),
  itemType: itemTypeParam,
  attachmentId: classroomId.optional(),
  submissionId: classroomId.optional(),
  addOnToken: optionalParam,
  login_hint: optionalParam,
});

// The fallback CourseWork's link carries only the course: Google lets no one edit materials later,
// and the role comes from the course roster anyway.
const linkQuerySchema = z.object({
  courseId: classroomId,
  courseWorkId: classroomId.optional(),
  login_hint: optionalParam,
});

export const flowIdSchema = z.string().regex(/^[A-Za-z0-9_-]{20,200}$/);
/** The signed launch parameters (`l`) and the completion secret (`k`) in query strings. */
export const launchTokenSchema = z
  .string()
  .max(12_000)
  .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
export const completionSchema = z.string().regex(/^[A-Za-z0-9_-]{20,200}$/);

export const queryString = (req: Request, name: string): string | undefined => {
  const value: unknown = (req.query as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
};

export type View = ClassroomLaunchParams['view'];

export function readLaunch(req: Request, view: View): ClassroomLaunchParams {
  if (view === 'link') {
    const parsed = linkQuerySchema.safeParse(req.query);
    if (!parsed.success) throw new ClassroomError('invalid_launch');
    return {
      view,
      courseId: parsed.data.courseId,
      itemId: parsed.data.courseWorkId ?? '',
      loginHint: parsed.data.login_hint,
    };
  }
  const parsed = addOnQuerySchema.safeParse(req.query);
  if (!parsed.success) throw new ClassroomError('invalid_launch');
  const query = parsed.data;
  const itemId = query.itemId ?? query.postId;
  if (itemId === undefined) throw new ClassroomError('invalid_launch');
  if (view === 'setup' && query.addOnToken === undefined)
    throw new ClassroomError('invalid_launch');
  if (view !== 'setup' && query.attachmentId === undefined) {
    throw new ClassroomError('invalid_launch');
  }
  if (view === 'review' && query.submissionId === undefined) {
    throw new ClassroomError('invalid_launch');
  }
  return {
    view,
    courseId: query.courseId,
    itemType: query.itemType,
    itemId,
    attachmentId: query.attachmentId,
    submissionId: query.submissionId,
    addOnToken: query.addOnToken,
    loginHint: query.login_hint,
  };
}

const VIEW_PATHS: Readonly<Record<View, string>> = {
  setup: 'attachment/new',
  teacher: 'teacher',
  student: 'student',
  review: 'review',
  link: 'open',
};

/** Where a completed sign-in lands, inside the session (`/s/<token>/classroom/...`). */
export function sessionTarget(base: string, launch: ClassroomLaunchParams): string {
  const query = new URLSearchParams({ itemId: launch.itemId });
  if (launch.itemType !== undefined) query.set('itemType', launch.itemType);
  if (launch.attachmentId !== undefined) query.set('attachmentId', launch.attachmentId);
  if (launch.submissionId !== undefined) query.set('submissionId', launch.submissionId);
  if (launch.addOnToken !== undefined) query.set('addOnToken', launch.addOnToken);
  if (launch.signInRestored === true) query.set('restored', '1');
  return `${base}/classroom/${VIEW_PATHS[launch.view]}?${query.toString()}`;
}

export const attachmentFormSchema = z.object({
  itemId: classroomId,
  itemType: itemTypeParam,
  addOnToken: z.string().trim().max(2000).optional(),
  title: z.string().trim().min(1, 'Name the activity.').max(200, 'Use at most 200 characters.'),
  // Google: an attachment's maxPoints "must be a non-negative integer value" (AddOnAttachment).
  maxPoints: z.coerce
    .number({ error: 'Enter the points as a number.' })
    .int('Enter whole points (for example 4, not 2.5): Google Classroom accepts only whole points.')
    .positive('Points must be more than 0.')
    .max(1000, 'Use at most 1000 points.'),
  standards: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((value) => (value === undefined ? [] : Array.isArray(value) ? value : [value])),
});

/** The session pages' query: the Classroom item (and attachment, submission) a page is about. */
const sessionQuerySchema = z.object({
  itemId: classroomId,
  attachmentId: classroomId.optional(),
  submissionId: classroomId.optional(),
  itemType: itemTypeParam,
  addOnToken: optionalParam,
  restored: z.literal('1').optional().catch(undefined),
});

export function sessionQuery(req: Request) {
  const parsed = sessionQuerySchema.safeParse(req.query);
  if (!parsed.success) throw new ClassroomError('invalid_launch');
  return parsed.data;
}
