import { z } from 'zod';
import { LmsHttpError } from '../lti/errors.ts';
import { ClassroomError } from './errors.ts';
import type { GoogleHttp } from './google-http.ts';

/**
 * The subset of the Classroom REST API v1 the add-on uses, against a configurable base URL
 * (https://classroom.googleapis.com in production, the emulator in tests). Responses are parsed
 * with zod at the edge; ids stay opaque strings.
 */

const profileSchema = z.object({
  id: z.string().min(1),
  name: z
    .object({
      givenName: z.string().optional(),
      familyName: z.string().optional(),
      fullName: z.string().optional(),
    })
    .partial()
    .optional(),
  emailAddress: z.string().optional(),
});

const memberSchema = z.object({
  courseId: z.string().optional(),
  userId: z.string().min(1),
  profile: profileSchema.optional(),
});

const studentsPageSchema = z.object({
  students: z.array(memberSchema).optional(),
  nextPageToken: z.string().optional(),
});

const teachersPageSchema = z.object({
  teachers: z.array(memberSchema).optional(),
  nextPageToken: z.string().optional(),
});

const courseSchema = z.object({
  id: z.string().min(1),
  name: z.string().optional(),
  section: z.string().optional(),
  courseState: z.string().optional(),
});

const courseWorkSchema = z.object({
  id: z.string().min(1),
  courseId: z.string().optional(),
  title: z.string().optional(),
  maxPoints: z.number().optional(),
});

const addOnAttachmentSchema = z.object({
  id: z.string().min(1),
  courseId: z.string().optional(),
  itemId: z.string().optional(),
  postId: z.string().optional(),
  title: z.string().optional(),
  maxPoints: z.number().optional(),
  /** Previous copies of the attachment, oldest first (reused post, copied class). */
  copyHistory: z
    .array(
      z.object({
        courseId: z.string().min(1),
        itemId: z.string().optional(),
        postId: z.string().optional(),
        attachmentId: z.string().min(1),
      }),
    )
    .optional(),
});

const addOnContextSchema = z.object({
  courseId: z.string().optional(),
  itemId: z.string().optional(),
  postId: z.string().optional(),
  supportsStudentWork: z.boolean().optional(),
  studentContext: z.object({ submissionId: z.string().optional() }).optional(),
  teacherContext: z.looseObject({}).optional(),
});

const submissionSchema = z.object({
  id: z.string().min(1),
  userId: z.string().min(1),
  courseWorkId: z.string().optional(),
  state: z.string().optional(),
  draftGrade: z.number().optional(),
  assignedGrade: z.number().optional(),
});

const submissionsPageSchema = z.object({
  studentSubmissions: z.array(submissionSchema).optional(),
  nextPageToken: z.string().optional(),
});

const attachmentSubmissionSchema = z.object({
  pointsEarned: z.number().optional(),
  postSubmissionState: z.string().optional(),
  userId: z.string().optional(),
  /** The attachment submission's own id (not the CourseWork submission's). */
  id: z.string().optional(),
  courseWorkSubmissionId: z.string().optional(),
});

/**
 * Where the add-on was opened (`itemType`, add-on iframes guide); the REST collection has the
 * same name: courses.courseWork, courses.courseWorkMaterials, courses.announcements.
 */
export type ClassroomItemType = 'courseWork' | 'courseWorkMaterials' | 'announcements';
export const CLASSROOM_ITEM_TYPES: readonly ClassroomItemType[] = [
  'courseWork',
  'courseWorkMaterials',
  'announcements',
];

export type ClassroomProfile = z.infer<typeof profileSchema>;
export type ClassroomMember = z.infer<typeof memberSchema>;
export type ClassroomCourse = z.infer<typeof courseSchema>;
export type ClassroomCourseWork = z.infer<typeof courseWorkSchema>;
export type ClassroomAddOnAttachment = z.infer<typeof addOnAttachmentSchema>;
export type ClassroomAddOnContext = z.infer<typeof addOnContextSchema>;
export type ClassroomSubmission = z.infer<typeof submissionSchema>;
export type ClassroomAttachmentSubmission = z.infer<typeof attachmentSubmissionSchema>;

export interface NewAddOnAttachment {
  readonly title: string;
  readonly teacherViewUri: string;
  readonly studentViewUri: string;
  readonly studentWorkReviewUri: string;
  readonly maxPoints: number;
}

export interface NewCourseWork {
  readonly title: string;
  readonly description?: string;
  /** A link to the tool (the licence fallback); mastery columns carry none. */
  readonly linkUrl?: string | undefined;
  readonly maxPoints: number;
}

export interface ClassroomApi {
  getCourse(courseId: string): Promise<ClassroomCourse>;
  listStudents(courseId: string): Promise<ClassroomMember[]>;
  listTeachers(courseId: string): Promise<ClassroomMember[]>;
  /** The signed-in user's role in a course from its rosters ("me"), or undefined. */
  myRole(courseId: string): Promise<'teacher' | 'student' | undefined>;
  getAddOnContext(input: {
    courseId: string;
    itemType?: ClassroomItemType | undefined;
    itemId: string;
    addOnToken?: string | undefined;
    attachmentId?: string | undefined;
  }): Promise<ClassroomAddOnContext>;
  getAddOnAttachment(input: {
    courseId: string;
    itemType?: ClassroomItemType | undefined;
    itemId: string;
    attachmentId: string;
  }): Promise<ClassroomAddOnAttachment>;
  /** A student's submission on an attachment, by the attachment submission's own id. */
  getAttachmentSubmission(input: {
    courseId: string;
    itemId: string;
    attachmentId: string;
    submissionId: string;
  }): Promise<ClassroomAttachmentSubmission>;
  createAddOnAttachment(input: {
    courseId: string;
    itemId: string;
    addOnToken: string | undefined;
    attachment: NewAddOnAttachment;
  }): Promise<ClassroomAddOnAttachment>;
  createCourseWork(courseId: string, work: NewCourseWork): Promise<ClassroomCourseWork>;
  getCourseWork(courseId: string, courseWorkId: string): Promise<ClassroomCourseWork>;
  listSubmissions(
    courseId: string,
    courseWorkId: string,
    userId?: string,
  ): Promise<ClassroomSubmission[]>;
  patchAttachmentPoints(input: {
    courseId: string;
    itemId: string;
    attachmentId: string;
    submissionId: string;
    pointsEarned: number;
  }): Promise<ClassroomAttachmentSubmission>;
  patchSubmissionGrades(input: {
    courseId: string;
    courseWorkId: string;
    submissionId: string;
    draftGrade: number;
    assignedGrade?: number | undefined;
  }): Promise<ClassroomSubmission>;
}

const MAX_PAGES = 100;

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw new ClassroomError('api_failed', { detail: `unexpected ${what} response` });
  }
  return result.data;
}

type GoogleCall = (
  method: 'GET' | 'POST' | 'PATCH',
  target: string,
  json?: unknown,
) => Promise<unknown>;
type GoogleUrl = (path: string, query?: Record<string, string | undefined>) => string;

/** `base` + `path`, with the defined query parameters. */
function googleUrl(base: string, path: string, query: Record<string, string | undefined>): string {
  const target = new URL(`${base}${path}`);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) target.searchParams.set(key, value);
  }
  return target.toString();
}

/** One Google request; a 401 drops the cached token (`onUnauthorized`) and retries once. */
async function callGoogle(
  options: Parameters<typeof createClassroomApi>[0],
  method: 'GET' | 'POST' | 'PATCH',
  target: string,
  json?: unknown,
): Promise<unknown> {
  const send = async () =>
    options.http({
      method,
      url: target,
      accessToken: await options.accessToken(),
      ...(json === undefined ? {} : { json }),
    });
  try {
    return await send();
  } catch (error) {
    if (
      options.onUnauthorized === undefined ||
      !(error instanceof LmsHttpError) ||
      error.status !== 401
    ) {
      throw error;
    }
    options.onUnauthorized();
    return send();
  }
}

async function listMembers(
  call: GoogleCall,
  url: GoogleUrl,
  courseId: string,
  kind: 'students' | 'teachers',
): Promise<ClassroomMember[]> {
  const seg = encodeURIComponent;
  const members: ClassroomMember[] = [];
  let pageToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const body = await call(
      'GET',
      url(`/v1/courses/${seg(courseId)}/${kind}`, { pageSize: '100', pageToken }),
    );
    if (kind === 'students') {
      const parsed = parse(studentsPageSchema, body, 'students');
      members.push(...(parsed.students ?? []));
      pageToken = parsed.nextPageToken;
    } else {
      const parsed = parse(teachersPageSchema, body, 'teachers');
      members.push(...(parsed.teachers ?? []));
      pageToken = parsed.nextPageToken;
    }
    if (pageToken === undefined || pageToken === '') break;
  }
  return members;
}

async function myRole(
  call: GoogleCall,
  url: GoogleUrl,
  courseId: string,
): Promise<'teacher' | 'student' | undefined> {
  const seg = encodeURIComponent;
  for (const [kind, role] of [
    ['teachers', 'teacher'],
    ['students', 'student'],
  ] as const) {
    try {
      parse(memberSchema, await call('GET', url(`/v1/courses/${seg(courseId)}/${kind}/me`)), kind);
      return role;
    } catch (error) {
      const missing =
        error instanceof LmsHttpError && (error.status === 404 || error.status === 403);
      if (!missing) throw error;
    }
  }
  return undefined;
}

export function createClassroomApi(options: {
  readonly http: GoogleHttp;
  readonly baseUrl: string;
  readonly accessToken: () => Promise<string>;
  /**
   * Called when Google answers 401 (the access token was revoked or expired early): the caller
   * drops its cached token, and the request is retried once with a fresh one.
   */
  readonly onUnauthorized?: () => void;
}): ClassroomApi {
  const base = options.baseUrl.replace(/\/+$/, '');
  const seg = encodeURIComponent;
  const url: GoogleUrl = (path, query = {}) => googleUrl(base, path, query);
  /** `/v1/courses/{courseId}/{courseWork|courseWorkMaterials|announcements}/{itemId}`. */
  const itemPath = (
    courseId: string,
    itemType: ClassroomItemType | undefined,
    itemId: string,
  ): string => `/v1/courses/${seg(courseId)}/${itemType ?? 'courseWork'}/${seg(itemId)}`;
  const call: GoogleCall = (method, target, json) => callGoogle(options, method, target, json);

  return {
    async getCourse(courseId) {
      return parse(courseSchema, await call('GET', url(`/v1/courses/${seg(courseId)}`)), 'course');
    },
    listStudents: (courseId) => listMembers(call, url, courseId, 'students'),
    listTeachers: (courseId) => listMembers(call, url, courseId, 'teachers'),

    myRole: (courseId) => myRole(call, url, courseId),

    async getAddOnContext(input) {
      const body = await call(
        'GET',
        url(`${itemPath(input.courseId, input.itemType, input.itemId)}/addOnContext`, {
          addOnToken: input.addOnToken,
          attachmentId: input.attachmentId,
        }),
      );
      return parse(addOnContextSchema, body, 'addOnContext');
    },

    async getAddOnAttachment(input) {
      const body = await call(
        'GET',
        url(
          `${itemPath(input.courseId, input.itemType, input.itemId)}/addOnAttachments/${seg(input.attachmentId)}`,
        ),
      );
      return parse(addOnAttachmentSchema, body, 'addOnAttachment');
    },

    async getAttachmentSubmission(input) {
      const body = await call(
        'GET',
        url(
          `${itemPath(input.courseId, 'courseWork', input.itemId)}/addOnAttachments/${seg(input.attachmentId)}/studentSubmissions/${seg(input.submissionId)}`,
        ),
      );
      return parse(attachmentSubmissionSchema, body, 'addOnAttachment studentSubmission');
    },

    async createAddOnAttachment(input) {
      const body = await call(
        'POST',
        url(`/v1/courses/${seg(input.courseId)}/courseWork/${seg(input.itemId)}/addOnAttachments`, {
          addOnToken: input.addOnToken,
        }),
        {
          title: input.attachment.title,
          teacherViewUri: { uri: input.attachment.teacherViewUri },
          studentViewUri: { uri: input.attachment.studentViewUri },
          studentWorkReviewUri: { uri: input.attachment.studentWorkReviewUri },
          maxPoints: input.attachment.maxPoints,
        },
      );
      return parse(addOnAttachmentSchema, body, 'addOnAttachment');
    },

    async createCourseWork(courseId, work) {
      const body = await call('POST', url(`/v1/courses/${seg(courseId)}/courseWork`), {
        title: work.title,
        ...(work.description === undefined ? {} : { description: work.description }),
        // Material.link.title is read-only (Classroom fills it in): only the URL is sent.
        ...(work.linkUrl === undefined ? {} : { materials: [{ link: { url: work.linkUrl } }] }),
        workType: 'ASSIGNMENT',
        state: 'PUBLISHED',
        maxPoints: work.maxPoints,
      });
      return parse(courseWorkSchema, body, 'courseWork');
    },

    async getCourseWork(courseId, courseWorkId) {
      const body = await call(
        'GET',
        url(`/v1/courses/${seg(courseId)}/courseWork/${seg(courseWorkId)}`),
      );
      return parse(courseWorkSchema, body, 'courseWork');
    },

    async listSubmissions(courseId, courseWorkId, userId) {
      const found: ClassroomSubmission[] = [];
      let pageToken: string | undefined;
      for (let page = 0; page < MAX_PAGES; page += 1) {
        const body = await call(
          'GET',
          url(`/v1/courses/${seg(courseId)}/courseWork/${seg(courseWorkId)}/studentSubmissions`, {
            userId,
            pageSize: '100',
            pageToken,
          }),
        );
        const parsed = parse(submissionsPageSchema, body, 'studentSubmissions');
        found.push(...(parsed.studentSubmissions ?? []));
        pageToken = parsed.nextPageToken;
        if (pageToken === undefined || pageToken === '') break;
      }
      return found;
    },

    async patchAttachmentPoints(input) {
      const body = await call(
        'PATCH',
        url(
          `/v1/courses/${seg(input.courseId)}/courseWork/${seg(input.itemId)}/addOnAttachments/${seg(input.attachmentId)}/studentSubmissions/${seg(input.submissionId)}`,
          { updateMask: 'pointsEarned' },
        ),
        { pointsEarned: input.pointsEarned },
      );
      return parse(attachmentSubmissionSchema, body, 'addOnAttachment studentSubmission');
    },

    async patchSubmissionGrades(input) {
      // assignedGrade needs a draftGrade (LMS-NOTES): both are sent when assigning.
      const assign = input.assignedGrade !== undefined;
      const body = await call(
        'PATCH',
        url(
          `/v1/courses/${seg(input.courseId)}/courseWork/${seg(input.courseWorkId)}/studentSubmissions/${seg(input.submissionId)}`,
          { updateMask: assign ? 'draftGrade,assignedGrade' : 'draftGrade' },
        ),
        {
          draftGrade: input.draftGrade,
          ...(assign ? { assignedGrade: input.assignedGrade } : {}),
        },
      );
      return parse(submissionSchema, body, 'studentSubmission');
    },
  };
}
