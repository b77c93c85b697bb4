import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { ClassroomContext } from './context.ts';
import {
  GOOGLE_MESSAGE,
  googleGuard,
  requireGoogleToken,
  sendGoogleError,
} from './google-errors.ts';
import type {
  AddOnAttachment,
  ClassroomCourse,
  CourseWork,
  CourseWorkState,
  GoogleAccessToken,
  GoogleUser,
  StudentSubmission,
} from './types.ts';

/** OAuth scopes of the Classroom API (https://developers.google.com/classroom/guides/auth). */
export const CLASSROOM_SCOPE = {
  courses: 'https://www.googleapis.com/auth/classroom.courses',
  coursesReadonly: 'https://www.googleapis.com/auth/classroom.courses.readonly',
  rosters: 'https://www.googleapis.com/auth/classroom.rosters',
  rostersReadonly: 'https://www.googleapis.com/auth/classroom.rosters.readonly',
  profileEmails: 'https://www.googleapis.com/auth/classroom.profile.emails',
  profilePhotos: 'https://www.googleapis.com/auth/classroom.profile.photos',
  courseworkStudents: 'https://www.googleapis.com/auth/classroom.coursework.students',
  courseworkStudentsReadonly:
    'https://www.googleapis.com/auth/classroom.coursework.students.readonly',
  courseworkMe: 'https://www.googleapis.com/auth/classroom.coursework.me',
  courseworkMeReadonly: 'https://www.googleapis.com/auth/classroom.coursework.me.readonly',
  addonsTeacher: 'https://www.googleapis.com/auth/classroom.addons.teacher',
  addonsStudent: 'https://www.googleapis.com/auth/classroom.addons.student',
} as const;

const S = CLASSROOM_SCOPE;
const COURSE_READ = [S.courses, S.coursesReadonly];
const ROSTER_READ = [S.rosters, S.rostersReadonly];
const COURSEWORK_READ = [
  S.courseworkStudents,
  S.courseworkStudentsReadonly,
  S.courseworkMe,
  S.courseworkMeReadonly,
];
const ADDON_READ = [S.addonsTeacher, S.addonsStudent];

const embedUri = z.object({ uri: z.string().min(1) });
const grade = z.number().min(0);

const courseWorkBody = z.object({
  title: z.string().trim().min(1).max(3000),
  description: z.string().max(30000).optional(),
  materials: z.array(z.unknown()).optional(),
  workType: z.literal('ASSIGNMENT'),
  state: z.enum(['PUBLISHED', 'DRAFT']).optional(),
  maxPoints: grade.optional(),
});

const courseWorkPatch = z.object({
  title: z.string().trim().min(1).max(3000).optional(),
  description: z.string().max(30000).optional(),
  state: z.enum(['PUBLISHED', 'DRAFT']).optional(),
  maxPoints: grade.optional(),
});

const submissionPatch = z.object({
  draftGrade: grade.optional(),
  assignedGrade: grade.optional(),
});

const attachmentBody = z.object({
  title: z.string().trim().min(1).max(1000),
  teacherViewUri: embedUri,
  studentViewUri: embedUri,
  studentWorkReviewUri: embedUri.optional(),
  maxPoints: grade.optional(),
});

const attachmentPatch = z.object({
  title: z.string().trim().min(1).max(1000).optional(),
  teacherViewUri: embedUri.optional(),
  studentViewUri: embedUri.optional(),
  studentWorkReviewUri: embedUri.optional(),
  maxPoints: grade.optional(),
});

const attachmentSubmissionPatch = z.object({ pointsEarned: grade.optional() });

const pageToken = z.object({ list: z.string(), offset: z.number().int().min(0) });

/** Google's RFC 3339 timestamps with milliseconds ("2026-11-27T07:00:00.123Z"). */
const time = (date: Date): string => date.toISOString();

function readMask(req: Request): string[] | undefined {
  const raw = req.query.updateMask;
  if (typeof raw !== 'string' || raw.trim() === '') return undefined;
  return raw
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '');
}

function queryList(req: Request, name: string): string[] {
  const raw = req.query[name];
  const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return values.filter((v): v is string => typeof v === 'string').flatMap((v) => v.split(','));
}

/**
 * The Classroom REST API v1 subset an add-on needs, with Google's resource shapes, paging
 * (`pageSize`/`pageToken` → `nextPageToken`, empty lists omitted) and error bodies.
 */
export function classroomApiRoutes(ctx: ClassroomContext): Router {
  const router = express.Router();
  const { state, options, urls } = ctx;
  const guard = googleGuard(ctx, 'api');
  const json = express.json({ limit: '1mb' });

  const notFound = (res: Response): void => {
    sendGoogleError(res, 'NOT_FOUND', GOOGLE_MESSAGE.notFound);
  };
  const denied = (res: Response, message: string = GOOGLE_MESSAGE.callerNoPermission): void => {
    sendGoogleError(res, 'PERMISSION_DENIED', message);
  };
  const invalid = (res: Response, message: string): void => {
    sendGoogleError(res, 'INVALID_ARGUMENT', message);
  };
  const projectOf = (token: GoogleAccessToken): string =>
    state.client(token.clientId).projectNumber;
  const param = (req: Request, name: string): string => {
    const value: unknown = (req.params as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : '';
  };

  /** Slice a list for `pageSize`/`pageToken`; undefined after an INVALID_ARGUMENT was sent. */
  const paginate = <T>(
    req: Request,
    res: Response,
    items: T[],
  ): { items: T[]; nextPageToken: string | undefined } | undefined => {
    const listKey = req.path;
    const rawSize = req.query.pageSize;
    const size = rawSize === undefined ? 0 : Number(rawSize);
    if (!Number.isInteger(size) || size < 0) {
      invalid(res, 'pageSize must be a non-negative integer.');
      return undefined;
    }
    const pageSize = Math.min(size === 0 ? options.maxPageSize : size, options.maxPageSize);
    let offset = 0;
    const rawToken = req.query.pageToken;
    if (typeof rawToken === 'string' && rawToken !== '') {
      let decoded: unknown;
      try {
        decoded = JSON.parse(Buffer.from(rawToken, 'base64url').toString('utf8'));
      } catch {
        decoded = undefined;
      }
      const token = pageToken.safeParse(decoded);
      if (!token.success || token.data.list !== listKey) {
        invalid(res, 'Invalid page token.');
        return undefined;
      }
      offset = token.data.offset;
    }
    const next = offset + pageSize;
    return {
      items: items.slice(offset, next),
      nextPageToken:
        next < items.length
          ? Buffer.from(JSON.stringify({ list: listKey, offset: next })).toString('base64url')
          : undefined,
    };
  };

  const sendPage = (
    res: Response,
    key: string,
    page: { items: unknown[]; nextPageToken?: string | undefined },
  ): void => {
    res.json({
      ...(page.items.length > 0 ? { [key]: page.items } : {}),
      ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
    });
  };

  // ---- serialisers (Google's JSON resources) ------------------------------------------------

  const courseJson = (course: ClassroomCourse) => ({
    id: course.id,
    name: course.name,
    ...(course.section ? { section: course.section } : {}),
    ownerId: course.ownerId,
    creationTime: time(course.creationTime),
    updateTime: time(course.updateTime),
    enrollmentCode: course.enrollmentCode,
    courseState: course.courseState,
    alternateLink: `${urls.apiBase}/classroom/c/${course.id}`,
    teacherGroupEmail: `${course.name.replace(/\W+/g, '_')}_teachers_${course.id}@example.com`,
    courseGroupEmail: `${course.name.replace(/\W+/g, '_')}_${course.id}@example.com`,
    guardiansEnabled: false,
    calendarId: `classroom${course.id}@group.calendar.google.com`,
  });

  const profileJson = (user: GoogleUser, token: GoogleAccessToken) => ({
    id: user.id,
    name: {
      givenName: user.givenName,
      familyName: user.familyName,
      fullName: `${user.givenName} ${user.familyName}`,
    },
    // Email addresses need the profile.emails scope (Classroom API: UserProfile.emailAddress).
    ...(token.scopes.includes(S.profileEmails) ? { emailAddress: user.email } : {}),
    ...(token.scopes.includes(S.profilePhotos)
      ? { photoUrl: `//lh3.googleusercontent.com/a/${user.id}` }
      : {}),
  });

  const courseWorkJson = (work: CourseWork, token: GoogleAccessToken) => ({
    courseId: work.courseId,
    id: work.id,
    title: work.title,
    ...(work.description === undefined ? {} : { description: work.description }),
    ...(work.materials.length > 0 ? { materials: work.materials } : {}),
    state: work.state,
    alternateLink: `${urls.item(work.courseId, work.id)}/details`,
    creationTime: time(work.creationTime),
    updateTime: time(work.updateTime),
    ...(work.maxPoints === undefined ? {} : { maxPoints: work.maxPoints }),
    workType: work.workType,
    // Set only for coursework the calling project created (courseWork.associatedWithDeveloper).
    ...(work.projectNumber !== undefined && work.projectNumber === projectOf(token)
      ? { associatedWithDeveloper: true }
      : {}),
    assigneeMode: 'ALL_STUDENTS',
    submissionModificationMode: 'MODIFIABLE_UNTIL_TURNED_IN',
    creatorUserId: work.creatorUserId,
  });

  const submissionJson = (submission: StudentSubmission, token: GoogleAccessToken) => {
    const work = state.courseWork.get(submission.courseWorkId);
    return {
      courseId: submission.courseId,
      courseWorkId: submission.courseWorkId,
      id: submission.id,
      userId: submission.userId,
      creationTime: time(submission.creationTime),
      updateTime: time(submission.updateTime),
      state: submission.state,
      ...(submission.draftGrade === undefined ? {} : { draftGrade: submission.draftGrade }),
      ...(submission.assignedGrade === undefined
        ? {}
        : { assignedGrade: submission.assignedGrade }),
      alternateLink: `${urls.item(submission.courseId, submission.courseWorkId)}/submissions/by-status/and-sort-last-name/student/${submission.userId}`,
      courseWorkType: 'ASSIGNMENT',
      ...(work?.projectNumber !== undefined && work.projectNumber === projectOf(token)
        ? { associatedWithDeveloper: true }
        : {}),
      assignmentSubmission: {},
    };
  };

  const attachmentJson = (attachment: AddOnAttachment) => ({
    courseId: attachment.courseId,
    postId: attachment.itemId,
    itemId: attachment.itemId,
    id: attachment.id,
    title: attachment.title,
    teacherViewUri: { uri: attachment.teacherViewUri },
    studentViewUri: { uri: attachment.studentViewUri },
    ...(attachment.studentWorkReviewUri === undefined
      ? {}
      : { studentWorkReviewUri: { uri: attachment.studentWorkReviewUri } }),
    ...(attachment.maxPoints === undefined ? {} : { maxPoints: attachment.maxPoints }),
  });

  // ---- shared lookups -----------------------------------------------------------------------

  /** The course, if the caller may see it; otherwise the error is sent. */
  const memberCourse = (
    req: Request,
    res: Response,
    token: GoogleAccessToken,
  ): ClassroomCourse | undefined => {
    const course = state.courses.get(param(req, 'courseId'));
    if (!course) {
      notFound(res);
      return undefined;
    }
    if (!state.isTeacher(course.id, token.userId) && !state.isStudent(course.id, token.userId)) {
      denied(res);
      return undefined;
    }
    return course;
  };

  /** The course for a write: the caller must teach it and it must not be archived. */
  const teacherCourse = (
    req: Request,
    res: Response,
    token: GoogleAccessToken,
  ): ClassroomCourse | undefined => {
    const course = memberCourse(req, res, token);
    if (!course) return undefined;
    if (!state.isTeacher(course.id, token.userId)) {
      denied(res);
      return undefined;
    }
    if (course.courseState !== 'ACTIVE') {
      sendGoogleError(res, 'FAILED_PRECONDITION', GOOGLE_MESSAGE.courseNotModifiable);
      return undefined;
    }
    return course;
  };

  /** Coursework visible to the caller: students never see drafts. */
  const visibleWork = (
    res: Response,
    course: ClassroomCourse,
    token: GoogleAccessToken,
    id: string,
  ): CourseWork | undefined => {
    const work = state.findCourseWork(course.id, id);
    if (!work || (work.state !== 'PUBLISHED' && !state.isTeacher(course.id, token.userId))) {
      notFound(res);
      return undefined;
    }
    return work;
  };

  const resolveUser = (token: GoogleAccessToken, idOrEmail: string): GoogleUser | undefined =>
    idOrEmail === 'me' ? state.users.get(token.userId) : state.findUser(idOrEmail);

  // ---- courses ------------------------------------------------------------------------------

  router.get('/v1/courses', guard, (req, res) => {
    const token = requireGoogleToken(ctx, req, res, COURSE_READ);
    if (!token) return;
    const filterUser = (name: string): GoogleUser | undefined | null => {
      const raw = req.query[name];
      if (typeof raw !== 'string' || raw === '') return null;
      return resolveUser(token, raw);
    };
    const student = filterUser('studentId');
    const teacher = filterUser('teacherId');
    if (student === undefined || teacher === undefined) {
      notFound(res);
      return;
    }
    const states = queryList(req, 'courseStates');
    const courses = [...state.courses.values()].filter(
      (c) =>
        (state.isTeacher(c.id, token.userId) || state.isStudent(c.id, token.userId)) &&
        (student === null || c.studentIds.includes(student.id)) &&
        (teacher === null || c.teacherIds.includes(teacher.id)) &&
        (states.length === 0 || states.includes(c.courseState)),
    );
    const page = paginate(req, res, courses);
    if (page) sendPage(res, 'courses', { ...page, items: page.items.map(courseJson) });
  });

  router.get('/v1/courses/:courseId', guard, (req, res) => {
    const token = requireGoogleToken(ctx, req, res, COURSE_READ);
    if (!token) return;
    const course = memberCourse(req, res, token);
    if (course) res.json(courseJson(course));
  });

  const rosterList = (kind: 'students' | 'teachers') => (req: Request, res: Response) => {
    const token = requireGoogleToken(ctx, req, res, ROSTER_READ);
    if (!token) return;
    const course = memberCourse(req, res, token);
    if (!course) return;
    const ids = kind === 'students' ? course.studentIds : course.teacherIds;
    const page = paginate(req, res, ids);
    if (!page) return;
    sendPage(res, kind, {
      ...page,
      items: page.items.map((userId) => ({
        courseId: course.id,
        userId,
        profile: profileJson(state.user(userId), token),
      })),
    });
  };
  router.get('/v1/courses/:courseId/students', guard, rosterList('students'));
  router.get('/v1/courses/:courseId/teachers', guard, rosterList('teachers'));

  const rosterGet = (kind: 'students' | 'teachers') => (req: Request, res: Response) => {
    const token = requireGoogleToken(ctx, req, res, ROSTER_READ);
    if (!token) return;
    const course = memberCourse(req, res, token);
    if (!course) return;
    const user = resolveUser(token, param(req, 'userId'));
    const ids = kind === 'students' ? course.studentIds : course.teacherIds;
    if (!user || !ids.includes(user.id)) {
      notFound(res);
      return;
    }
    res.json({ courseId: course.id, userId: user.id, profile: profileJson(user, token) });
  };
  router.get('/v1/courses/:courseId/students/:userId', guard, rosterGet('students'));
  router.get('/v1/courses/:courseId/teachers/:userId', guard, rosterGet('teachers'));

  // ---- courseWork ---------------------------------------------------------------------------

  router.post('/v1/courses/:courseId/courseWork', guard, json, (req, res) => {
    const token = requireGoogleToken(ctx, req, res, [S.courseworkStudents]);
    if (!token) return;
    const course = teacherCourse(req, res, token);
    if (!course) return;
    const body = courseWorkBody.safeParse(req.body ?? {});
    if (!body.success) {
      invalid(
        res,
        `Invalid CourseWork: ${body.error.issues.map((i) => i.path.join('.')).join(', ')}`,
      );
      return;
    }
    const work = state.createCourseWork({
      courseId: course.id,
      title: body.data.title,
      description: body.data.description,
      materials: body.data.materials,
      state: body.data.state ?? 'DRAFT',
      maxPoints: body.data.maxPoints,
      creatorUserId: token.userId,
      projectNumber: projectOf(token),
    });
    res.json(courseWorkJson(work, token));
  });

  router.get('/v1/courses/:courseId/courseWork', guard, (req, res) => {
    const token = requireGoogleToken(ctx, req, res, COURSEWORK_READ);
    if (!token) return;
    const course = memberCourse(req, res, token);
    if (!course) return;
    const teacher = state.isTeacher(course.id, token.userId);
    const states = queryList(req, 'courseWorkStates');
    const wanted: CourseWorkState[] =
      states.length === 0 ? ['PUBLISHED'] : (states as CourseWorkState[]);
    const works = [...state.courseWork.values()]
      .filter(
        (w) =>
          w.courseId === course.id &&
          w.state !== 'DELETED' &&
          wanted.includes(w.state) &&
          (teacher || w.state === 'PUBLISHED'),
      )
      .sort((a, b) => b.updateTime.getTime() - a.updateTime.getTime());
    const page = paginate(req, res, works);
    if (page) {
      sendPage(res, 'courseWork', {
        ...page,
        items: page.items.map((w) => courseWorkJson(w, token)),
      });
    }
  });

  router.get('/v1/courses/:courseId/courseWork/:id', guard, (req, res) => {
    const token = requireGoogleToken(ctx, req, res, COURSEWORK_READ);
    if (!token) return;
    const course = memberCourse(req, res, token);
    if (!course) return;
    const work = visibleWork(res, course, token, param(req, 'id'));
    if (work) res.json(courseWorkJson(work, token));
  });

  router.patch('/v1/courses/:courseId/courseWork/:id', guard, json, (req, res) => {
    const token = requireGoogleToken(ctx, req, res, [S.courseworkStudents]);
    if (!token) return;
    const course = teacherCourse(req, res, token);
    if (!course) return;
    const work = visibleWork(res, course, token, param(req, 'id'));
    if (!work) return;
    if (work.projectNumber !== projectOf(token)) {
      denied(res, GOOGLE_MESSAGE.projectPermissionDenied);
      return;
    }
    const mask = readMask(req);
    const allowed = ['title', 'description', 'state', 'maxPoints'];
    if (!mask) {
      invalid(res, 'updateMask is required.');
      return;
    }
    const unknown = mask.filter((f) => !allowed.includes(f));
    if (unknown.length > 0) {
      invalid(res, `Non-supported update mask fields specified: ${unknown.join(', ')}`);
      return;
    }
    const body = courseWorkPatch.safeParse(req.body ?? {});
    if (!body.success) {
      invalid(
        res,
        `Invalid CourseWork: ${body.error.issues.map((i) => i.path.join('.')).join(', ')}`,
      );
      return;
    }
    if (mask.includes('state') && work.state === 'PUBLISHED' && body.data.state === 'DRAFT') {
      sendGoogleError(res, 'FAILED_PRECONDITION', 'Published course work cannot be made a draft.');
      return;
    }
    // Fields that cannot be empty may not be cleared (named in the mask, absent in the body).
    const cleared = ['title', 'state'].filter(
      (f) => mask.includes(f) && body.data[f as 'title' | 'state'] === undefined,
    );
    if (cleared.length > 0) {
      invalid(res, `${cleared.join(', ')} cannot be cleared.`);
      return;
    }
    for (const field of mask) {
      switch (field) {
        case 'title':
          work.title = body.data.title ?? work.title;
          break;
        case 'description':
          work.description = body.data.description;
          break;
        case 'state':
          work.state = body.data.state ?? work.state;
          break;
        case 'maxPoints':
          work.maxPoints = body.data.maxPoints;
          break;
      }
    }
    work.updateTime = options.now();
    res.json(courseWorkJson(work, token));
  });

  // ---- studentSubmissions -------------------------------------------------------------------

  router.get('/v1/courses/:courseId/courseWork/:id/studentSubmissions', guard, (req, res) => {
    const token = requireGoogleToken(ctx, req, res, COURSEWORK_READ);
    if (!token) return;
    const course = memberCourse(req, res, token);
    if (!course) return;
    const id = param(req, 'id');
    let works: CourseWork[];
    if (id === '-') {
      works = [...state.courseWork.values()].filter(
        (w) => w.courseId === course.id && w.state === 'PUBLISHED',
      );
    } else {
      const work = visibleWork(res, course, token, id);
      if (!work) return;
      works = [work];
    }
    const teacher = state.isTeacher(course.id, token.userId);
    const rawUser = typeof req.query.userId === 'string' ? req.query.userId : undefined;
    const filterUser = rawUser === undefined ? undefined : resolveUser(token, rawUser);
    if (rawUser !== undefined && !filterUser) {
      notFound(res);
      return;
    }
    const states = queryList(req, 'states');
    const submissions = works
      .flatMap((w) => state.submissionsOf(w))
      .filter(
        (s) =>
          (teacher || s.userId === token.userId) &&
          (filterUser === undefined || s.userId === filterUser.id) &&
          (states.length === 0 || states.includes(s.state)),
      );
    const page = paginate(req, res, submissions);
    if (page) {
      sendPage(res, 'studentSubmissions', {
        ...page,
        items: page.items.map((s) => submissionJson(s, token)),
      });
    }
  });

  /** The submission, if the caller may see it (teacher, or the student who owns it). */
  const findSubmission = (
    req: Request,
    res: Response,
    token: GoogleAccessToken,
    course: ClassroomCourse,
    work: CourseWork,
  ): StudentSubmission | undefined => {
    // Make sure every current student has a submission before looking one up by id.
    state.submissionsOf(work);
    const submission = state.submissions.get(param(req, 'submissionId'));
    if (!submission || submission.courseWorkId !== work.id) {
      notFound(res);
      return undefined;
    }
    if (!state.isTeacher(course.id, token.userId) && submission.userId !== token.userId) {
      denied(res);
      return undefined;
    }
    return submission;
  };

  router.get(
    '/v1/courses/:courseId/courseWork/:id/studentSubmissions/:submissionId',
    guard,
    (req, res) => {
      const token = requireGoogleToken(ctx, req, res, COURSEWORK_READ);
      if (!token) return;
      const course = memberCourse(req, res, token);
      if (!course) return;
      const work = visibleWork(res, course, token, param(req, 'id'));
      if (!work) return;
      const submission = findSubmission(req, res, token, course, work);
      if (submission) res.json(submissionJson(submission, token));
    },
  );

  router.patch(
    '/v1/courses/:courseId/courseWork/:id/studentSubmissions/:submissionId',
    guard,
    json,
    (req, res) => {
      const token = requireGoogleToken(ctx, req, res, [S.courseworkStudents]);
      if (!token) return;
      const course = teacherCourse(req, res, token);
      if (!course) return;
      const work = visibleWork(res, course, token, param(req, 'id'));
      if (!work) return;
      const submission = findSubmission(req, res, token, course, work);
      if (!submission) return;
      // Grades may be written only to coursework the same Cloud project created.
      if (work.projectNumber !== projectOf(token)) {
        denied(res, GOOGLE_MESSAGE.projectPermissionDenied);
        return;
      }
      const mask = readMask(req);
      if (!mask) {
        invalid(res, 'updateMask is required.');
        return;
      }
      const unknown = mask.filter((f) => f !== 'draftGrade' && f !== 'assignedGrade');
      if (unknown.length > 0) {
        invalid(res, `Non-supported update mask fields specified: ${unknown.join(', ')}`);
        return;
      }
      const body = submissionPatch.safeParse(req.body ?? {});
      if (!body.success) {
        invalid(res, 'Invalid grade: grades are numbers of at least 0.');
        return;
      }
      const draftGrade = mask.includes('draftGrade') ? body.data.draftGrade : submission.draftGrade;
      const assignedGrade = mask.includes('assignedGrade')
        ? body.data.assignedGrade
        : submission.assignedGrade;
      // LMS-NOTES: an assigned grade needs a draft grade.
      if (assignedGrade !== undefined && draftGrade === undefined) {
        invalid(res, 'assignedGrade cannot be set without a draftGrade.');
        return;
      }
      if (mask.includes('draftGrade')) submission.writes.draftGrade++;
      if (mask.includes('assignedGrade')) submission.writes.assignedGrade++;
      state.counters.gradeWrites++;
      submission.draftGrade = draftGrade;
      submission.assignedGrade = assignedGrade;
      submission.updateTime = options.now();
      res.json(submissionJson(submission, token));
    },
  );

  // ---- add-on context and attachments -------------------------------------------------------

  /** A token Classroom issued for this course item (and user), if one was sent. */
  const checkAddOnToken = (
    req: Request,
    res: Response,
    token: GoogleAccessToken,
    courseId: string,
    itemId: string,
  ): boolean => {
    const raw = req.query.addOnToken;
    if (raw === undefined || raw === '') return true;
    const found = typeof raw === 'string' ? state.addOnTokens.get(raw) : undefined;
    if (
      !found ||
      found.courseId !== courseId ||
      found.itemId !== itemId ||
      found.userId !== token.userId ||
      found.expiresAt.getTime() < options.now().getTime()
    ) {
      invalid(res, 'Invalid addOnToken.');
      return false;
    }
    return true;
  };

  const addOnContext = (req: Request, res: Response): void => {
    const token = requireGoogleToken(ctx, req, res, ADDON_READ);
    if (!token) return;
    const course = memberCourse(req, res, token);
    if (!course) return;
    const itemId = param(req, 'id');
    const work = visibleWork(res, course, token, itemId);
    if (!work) return;
    if (!checkAddOnToken(req, res, token, course.id, itemId)) return;
    const attachmentId = req.query.attachmentId;
    if (typeof attachmentId === 'string' && attachmentId !== '') {
      const attachment = state.attachments.get(attachmentId);
      if (!attachment || attachment.itemId !== itemId) {
        notFound(res);
        return;
      }
      if (attachment.projectNumber !== projectOf(token)) {
        denied(res, GOOGLE_MESSAGE.projectPermissionDenied);
        return;
      }
    }
    const teacher = state.isTeacher(course.id, token.userId);
    res.json({
      courseId: course.id,
      postId: work.id,
      itemId: work.id,
      supportsStudentWork: true,
      ...(teacher
        ? { teacherContext: {} }
        : { studentContext: { submissionId: state.submissionFor(work, token.userId).id } }),
    });
  };
  router.get('/v1/courses/:courseId/courseWork/:id/addOnContext', guard, addOnContext);
  // The deprecated posts variant answers the same.
  router.get('/v1/courses/:courseId/posts/:id/addOnContext', guard, addOnContext);

  const uriAllowed = (projectNumber: string, uri: string): boolean => {
    if (!URL.canParse(uri)) return false;
    const prefixes = state.addOns.get(projectNumber)?.allowedUriPrefixes ?? [];
    return prefixes.length === 0 || prefixes.some((p) => uri.startsWith(p));
  };

  router.post('/v1/courses/:courseId/courseWork/:id/addOnAttachments', guard, json, (req, res) => {
    const token = requireGoogleToken(ctx, req, res, [S.addonsTeacher]);
    if (!token) return;
    const course = teacherCourse(req, res, token);
    if (!course) return;
    const work = visibleWork(res, course, token, param(req, 'id'));
    if (!work) return;
    if (!state.user(token.userId).addOnLicence) {
      // No Teaching & Learning / Education Plus licence: checkUserCapability says allowed=false.
      denied(res);
      return;
    }
    if (!checkAddOnToken(req, res, token, course.id, work.id)) return;
    const body = attachmentBody.safeParse(req.body ?? {});
    if (!body.success) {
      invalid(
        res,
        `Invalid AddOnAttachment: ${body.error.issues.map((i) => i.path.join('.')).join(', ')}`,
      );
      return;
    }
    const project = projectOf(token);
    const uris = [
      body.data.teacherViewUri.uri,
      body.data.studentViewUri.uri,
      ...(body.data.studentWorkReviewUri ? [body.data.studentWorkReviewUri.uri] : []),
    ];
    if (uris.some((uri) => !uriAllowed(project, uri))) {
      invalid(res, "Attachment URIs must start with one of the add-on's allowed URI prefixes.");
      return;
    }
    if (body.data.maxPoints !== undefined && !body.data.studentWorkReviewUri) {
      invalid(res, 'maxPoints can be set only when studentWorkReviewUri is set.');
      return;
    }
    const attachment = state.createAttachment({
      courseId: course.id,
      itemId: work.id,
      projectNumber: project,
      title: body.data.title,
      teacherViewUri: body.data.teacherViewUri.uri,
      studentViewUri: body.data.studentViewUri.uri,
      studentWorkReviewUri: body.data.studentWorkReviewUri?.uri,
      maxPoints: body.data.maxPoints,
    });
    res.json(attachmentJson(attachment));
  });

  router.get('/v1/courses/:courseId/courseWork/:id/addOnAttachments', guard, (req, res) => {
    const token = requireGoogleToken(ctx, req, res, ADDON_READ);
    if (!token) return;
    const course = memberCourse(req, res, token);
    if (!course) return;
    const work = visibleWork(res, course, token, param(req, 'id'));
    if (!work) return;
    const project = projectOf(token);
    const page = paginate(
      req,
      res,
      state.attachmentsOf(work.id).filter((a) => a.projectNumber === project),
    );
    if (page) sendPage(res, 'addOnAttachments', { ...page, items: page.items.map(attachmentJson) });
  });

  /** The attachment of the calling project; otherwise the error is sent. */
  const findAttachment = (
    req: Request,
    res: Response,
    token: GoogleAccessToken,
    work: CourseWork,
  ): AddOnAttachment | undefined => {
    const attachment = state.attachments.get(param(req, 'attachmentId'));
    if (!attachment || attachment.itemId !== work.id) {
      notFound(res);
      return undefined;
    }
    if (attachment.projectNumber !== projectOf(token)) {
      denied(res, GOOGLE_MESSAGE.projectPermissionDenied);
      return undefined;
    }
    return attachment;
  };

  const attachmentPath = '/v1/courses/:courseId/courseWork/:id/addOnAttachments/:attachmentId';

  router.get(attachmentPath, guard, (req, res) => {
    const token = requireGoogleToken(ctx, req, res, ADDON_READ);
    if (!token) return;
    const course = memberCourse(req, res, token);
    if (!course) return;
    const work = visibleWork(res, course, token, param(req, 'id'));
    if (!work) return;
    const attachment = findAttachment(req, res, token, work);
    if (attachment) res.json(attachmentJson(attachment));
  });

  router.patch(attachmentPath, guard, json, (req, res) => {
    const token = requireGoogleToken(ctx, req, res, [S.addonsTeacher]);
    if (!token) return;
    const course = teacherCourse(req, res, token);
    if (!course) return;
    const work = visibleWork(res, course, token, param(req, 'id'));
    if (!work) return;
    const attachment = findAttachment(req, res, token, work);
    if (!attachment) return;
    const mask = readMask(req);
    const allowed = [
      'title',
      'teacherViewUri',
      'studentViewUri',
      'studentWorkReviewUri',
      'maxPoints',
    ];
    if (!mask) {
      invalid(res, 'updateMask is required.');
      return;
    }
    const unknown = mask.filter((f) => !allowed.includes(f));
    if (unknown.length > 0) {
      invalid(res, `Non-supported update mask fields specified: ${unknown.join(', ')}`);
      return;
    }
    const body = attachmentPatch.safeParse(req.body ?? {});
    if (!body.success) {
      invalid(
        res,
        `Invalid AddOnAttachment: ${body.error.issues.map((i) => i.path.join('.')).join(', ')}`,
      );
      return;
    }
    const required = ['title', 'teacherViewUri', 'studentViewUri'] as const;
    const cleared = required.filter((f) => mask.includes(f) && body.data[f] === undefined);
    if (cleared.length > 0) {
      invalid(res, `${cleared.join(', ')} cannot be cleared.`);
      return;
    }
    const next = { ...attachment };
    for (const field of mask) {
      switch (field) {
        case 'title':
          next.title = body.data.title ?? next.title;
          break;
        case 'teacherViewUri':
          next.teacherViewUri = body.data.teacherViewUri?.uri ?? next.teacherViewUri;
          break;
        case 'studentViewUri':
          next.studentViewUri = body.data.studentViewUri?.uri ?? next.studentViewUri;
          break;
        case 'studentWorkReviewUri':
          next.studentWorkReviewUri = body.data.studentWorkReviewUri?.uri;
          // Removing the review URI discards maxPoints (AddOnAttachment reference).
          if (next.studentWorkReviewUri === undefined) next.maxPoints = undefined;
          break;
        case 'maxPoints':
          next.maxPoints = body.data.maxPoints;
          break;
      }
    }
    const uris = [next.teacherViewUri, next.studentViewUri, next.studentWorkReviewUri].filter(
      (u): u is string => u !== undefined,
    );
    if (uris.some((uri) => !uriAllowed(attachment.projectNumber, uri))) {
      invalid(res, "Attachment URIs must start with one of the add-on's allowed URI prefixes.");
      return;
    }
    if (next.maxPoints !== undefined && next.studentWorkReviewUri === undefined) {
      invalid(res, 'maxPoints can be set only when studentWorkReviewUri is set.');
      return;
    }
    Object.assign(attachment, next);
    if (attachment.maxPoints !== undefined && state.gradeSyncAttachment(work.id) === attachment) {
      work.maxPoints = attachment.maxPoints;
    }
    res.json(attachmentJson(attachment));
  });

  const attachmentSubmissionJson = (
    pointsEarned: number | undefined,
    submission: StudentSubmission,
  ) => ({
    ...(pointsEarned === undefined ? {} : { pointsEarned }),
    postSubmissionState: submission.state,
    userId: submission.userId,
  });

  router.get(`${attachmentPath}/studentSubmissions/:submissionId`, guard, (req, res) => {
    const token = requireGoogleToken(ctx, req, res, ADDON_READ);
    if (!token) return;
    const course = memberCourse(req, res, token);
    if (!course) return;
    const work = visibleWork(res, course, token, param(req, 'id'));
    if (!work) return;
    const attachment = findAttachment(req, res, token, work);
    if (!attachment) return;
    const submission = findSubmission(req, res, token, course, work);
    if (!submission) return;
    const found = state.attachmentSubmissions.get(`${attachment.id}|${submission.id}`);
    res.json(attachmentSubmissionJson(found?.pointsEarned, submission));
  });

  router.patch(`${attachmentPath}/studentSubmissions/:submissionId`, guard, json, (req, res) => {
    const token = requireGoogleToken(ctx, req, res, [S.addonsTeacher]);
    if (!token) return;
    const course = teacherCourse(req, res, token);
    if (!course) return;
    const work = visibleWork(res, course, token, param(req, 'id'));
    if (!work) return;
    const attachment = findAttachment(req, res, token, work);
    if (!attachment) return;
    const submission = findSubmission(req, res, token, course, work);
    if (!submission) return;
    const mask = readMask(req);
    if (!mask) {
      invalid(res, 'updateMask is required.');
      return;
    }
    const unknown = mask.filter((f) => f !== 'pointsEarned');
    if (unknown.length > 0) {
      invalid(res, `Non-supported update mask fields specified: ${unknown.join(', ')}`);
      return;
    }
    if (attachment.maxPoints === undefined || attachment.maxPoints <= 0) {
      sendGoogleError(
        res,
        'FAILED_PRECONDITION',
        'The attachment must have a positive maxPoints value to accept grades.',
      );
      return;
    }
    const body = attachmentSubmissionPatch.safeParse(req.body ?? {});
    if (!body.success) {
      invalid(res, 'Invalid pointsEarned: a number of at least 0.');
      return;
    }
    const record = state.attachmentSubmission(attachment, submission);
    record.pointsEarned = body.data.pointsEarned;
    record.writes++;
    state.counters.gradeWrites++;
    // Grade sync: the grading attachment's points become the assignment's draft grade.
    if (state.gradeSyncAttachment(work.id) === attachment) {
      submission.draftGrade = record.pointsEarned;
      submission.updateTime = options.now();
    }
    res.json(attachmentSubmissionJson(record.pointsEarned, submission));
  });

  // ---- userProfiles -------------------------------------------------------------------------

  const CAPABILITIES = [
    'CREATE_ADD_ON_ATTACHMENT',
    'CREATE_RUBRIC',
    'UPDATE_GRADING_PERIOD_SETTINGS',
    'CREATE_STUDENT_GROUP',
  ];

  // Express cannot route "{userId}:checkUserCapability" directly, so the segment is split here.
  router.get('/v1/userProfiles/:spec', guard, (req, res) => {
    const spec = param(req, 'spec');
    const colon = spec.indexOf(':');
    const userRef = colon < 0 ? spec : spec.slice(0, colon);
    const method = colon < 0 ? '' : spec.slice(colon + 1);
    if (method === 'checkUserCapability') {
      const token = requireGoogleToken(ctx, req, res, COURSE_READ);
      if (!token) return;
      const user = resolveUser(token, userRef);
      if (!user || user.id !== token.userId) {
        // A requesting user can only check capabilities for themselves.
        denied(res);
        return;
      }
      const capability = req.query.capability;
      if (typeof capability !== 'string' || !CAPABILITIES.includes(capability)) {
        invalid(res, 'capability must be one of the Capability values.');
        return;
      }
      res.json({
        capability,
        allowed: capability === 'CREATE_ADD_ON_ATTACHMENT' ? user.addOnLicence : false,
      });
      return;
    }
    if (method !== '') {
      notFound(res);
      return;
    }
    const token = requireGoogleToken(ctx, req, res, [
      S.rosters,
      S.rostersReadonly,
      S.profileEmails,
      S.profilePhotos,
    ]);
    if (!token) return;
    const user = resolveUser(token, userRef);
    if (!user) {
      notFound(res);
      return;
    }
    res.json(profileJson(user, token));
  });

  return router;
}
