import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { ClassroomContext } from './context.ts';
import {
  GOOGLE_MESSAGE,
  googleGuard,
  requireGoogleToken,
  sendGoogleError,
} from './google-errors.ts';
import {
  denied,
  invalid,
  invalidResource,
  noRequiredCleared,
  notFound,
  param,
  parseBody,
  queryList,
  sendListPage,
  updateMask,
} from './route-helpers.ts';
import type {
  AddOnAttachment,
  AttachmentSubmission,
  ClassroomCourse,
  CourseWork,
  CourseWorkState,
  GoogleAccessToken,
  GoogleUser,
  ItemType,
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
/**
 * CourseWork.maxPoints and AddOnAttachment.maxPoints: "This must be a non-negative integer value"
 * (both references). Grades themselves (draftGrade, pointsEarned) may have decimals.
 */
const wholePoints = z.number().int().min(0);

/** The collections an add-on can be on (`itemType`, add-on iframes guide). */
const ITEM_TYPES: readonly ItemType[] = ['courseWork', 'courseWorkMaterials', 'announcements'];

/** Material.link: `url` is set by the caller; `title` and `thumbnailUrl` are read-only (reference). */
const hasReadOnlyLinkField = (materials: readonly unknown[] | undefined): boolean =>
  (materials ?? []).some((material) => {
    if (typeof material !== 'object' || material === null || !('link' in material)) return false;
    const link = material.link;
    return typeof link === 'object' && link !== null && ('title' in link || 'thumbnailUrl' in link);
  });

const courseWorkBody = z.object({
  title: z.string().trim().min(1).max(3000),
  description: z.string().max(30000).optional(),
  materials: z.array(z.unknown()).optional(),
  workType: z.literal('ASSIGNMENT'),
  state: z.enum(['PUBLISHED', 'DRAFT']).optional(),
  maxPoints: wholePoints.optional(),
});

const courseWorkPatch = z.object({
  title: z.string().trim().min(1).max(3000).optional(),
  description: z.string().max(30000).optional(),
  state: z.enum(['PUBLISHED', 'DRAFT']).optional(),
  maxPoints: wholePoints.optional(),
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
  maxPoints: wholePoints.optional(),
});

const attachmentPatch = z.object({
  title: z.string().trim().min(1).max(1000).optional(),
  teacherViewUri: embedUri.optional(),
  studentViewUri: embedUri.optional(),
  studentWorkReviewUri: embedUri.optional(),
  maxPoints: wholePoints.optional(),
});

const attachmentSubmissionPatch = z.object({ pointsEarned: grade.optional() });

/** Google's RFC 3339 timestamps with milliseconds ("2026-11-27T07:00:00.123Z"). */
const time = (date: Date): string => date.toISOString();

/** Who may use a course route: anyone in the course, or only its teachers (for writes). */
type CourseAccess = 'member' | 'teacher';

/**
 * The Classroom REST API v1 subset an add-on needs, with Google's resource shapes, paging
 * (`pageSize`/`pageToken` → `nextPageToken`, empty lists omitted) and error bodies.
 */
export function classroomApiRoutes(ctx: ClassroomContext): Router {
  const router = express.Router();
  const { state, options, urls } = ctx;
  const guard = googleGuard(ctx, 'api');
  const json = express.json({ limit: '1mb' });

  const projectOf = (token: GoogleAccessToken): string =>
    state.client(token.clientId).projectNumber;

  /** One page of a list method, capped at the emulator's maxPageSize. */
  const sendList = <T>(
    req: Request,
    res: Response,
    key: string,
    items: T[],
    toJson: (item: T) => unknown,
  ): void => {
    sendListPage(req, res, { key, items, maxPageSize: options.maxPageSize, toJson });
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
    ...(attachment.copyHistory.length === 0
      ? {}
      : {
          copyHistory: attachment.copyHistory.map((copy) => ({
            courseId: copy.courseId,
            postId: copy.itemId,
            itemId: copy.itemId,
            attachmentId: copy.attachmentId,
          })),
        }),
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

  /** Resources the calling Cloud project created: otherwise @ProjectPermissionDenied is sent. */
  const ownProject = (
    res: Response,
    token: GoogleAccessToken,
    projectNumber: string | undefined,
  ): boolean => {
    if (projectNumber !== projectOf(token)) {
      denied(res, GOOGLE_MESSAGE.projectPermissionDenied);
      return false;
    }
    return true;
  };

  /** The first steps of a `/v1/courses/:courseId/...` route: the bearer token, then the course. */
  const courseRequest = (
    req: Request,
    res: Response,
    anyOfScopes: readonly string[],
    access: CourseAccess,
  ): { token: GoogleAccessToken; course: ClassroomCourse } | undefined => {
    const token = requireGoogleToken(ctx, req, res, anyOfScopes);
    if (!token) return undefined;
    const course =
      access === 'teacher' ? teacherCourse(req, res, token) : memberCourse(req, res, token);
    return course && { token, course };
  };

  /** As courseRequest, then the coursework named by `:id`. */
  const courseWorkRequest = (
    req: Request,
    res: Response,
    anyOfScopes: readonly string[],
    access: CourseAccess,
  ): { token: GoogleAccessToken; course: ClassroomCourse; work: CourseWork } | undefined => {
    const found = courseRequest(req, res, anyOfScopes, access);
    if (!found) return undefined;
    const work = visibleWork(res, found.course, found.token, param(req, 'id'));
    return work && { ...found, work };
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
    sendList(req, res, 'courses', courses, courseJson);
  });

  router.get('/v1/courses/:courseId', guard, (req, res) => {
    // "{courseId}:checkAddOnCreationEligibility" arrives as one path segment.
    const spec = param(req, 'courseId');
    const colon = spec.indexOf(':');
    if (colon >= 0) {
      if (spec.slice(colon + 1) !== 'checkAddOnCreationEligibility') {
        notFound(res);
        return;
      }
      checkAddOnCreationEligibility(req, res, spec.slice(0, colon));
      return;
    }
    const found = courseRequest(req, res, COURSE_READ, 'member');
    if (found) res.json(courseJson(found.course));
  });

  /**
   * courses.checkAddOnCreationEligibility (generally available; marked deprecated in favour of the
   * Developer Preview checkUserCapability): a teacher of the course with the add-on licence.
   */
  const checkAddOnCreationEligibility = (req: Request, res: Response, courseId: string): void => {
    const token = requireGoogleToken(ctx, req, res, [S.addonsTeacher]);
    if (!token) return;
    const course = state.courses.get(courseId);
    if (!course) {
      notFound(res);
      return;
    }
    if (!state.isTeacher(course.id, token.userId) && !state.isStudent(course.id, token.userId)) {
      denied(res);
      return;
    }
    res.json({
      courseId: course.id,
      isCreateAttachmentEligible:
        state.isTeacher(course.id, token.userId) && state.user(token.userId).addOnLicence,
    });
  };

  const rosterList = (kind: 'students' | 'teachers') => (req: Request, res: Response) => {
    const found = courseRequest(req, res, ROSTER_READ, 'member');
    if (!found) return;
    const { token, course } = found;
    const ids = kind === 'students' ? course.studentIds : course.teacherIds;
    sendList(req, res, kind, ids, (userId) => ({
      courseId: course.id,
      userId,
      profile: profileJson(state.user(userId), token),
    }));
  };
  router.get('/v1/courses/:courseId/students', guard, rosterList('students'));
  router.get('/v1/courses/:courseId/teachers', guard, rosterList('teachers'));

  const rosterGet = (kind: 'students' | 'teachers') => (req: Request, res: Response) => {
    const found = courseRequest(req, res, ROSTER_READ, 'member');
    if (!found) return;
    const { token, course } = found;
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
    const found = courseRequest(req, res, [S.courseworkStudents], 'teacher');
    if (!found) return;
    const { token, course } = found;
    const body = parseBody(courseWorkBody, req, res, invalidResource('CourseWork'));
    if (!body) return;
    if (hasReadOnlyLinkField(body.materials)) {
      // Google's exact answer to a read-only field is not published (docs/lms/classroom.md).
      invalid(res, 'Invalid CourseWork: materials.link.title is read-only.');
      return;
    }
    const work = state.createCourseWork({
      courseId: course.id,
      title: body.title,
      description: body.description,
      materials: body.materials,
      state: body.state ?? 'DRAFT',
      maxPoints: body.maxPoints,
      creatorUserId: token.userId,
      projectNumber: projectOf(token),
    });
    res.json(courseWorkJson(work, token));
  });

  router.get('/v1/courses/:courseId/courseWork', guard, (req, res) => {
    const found = courseRequest(req, res, COURSEWORK_READ, 'member');
    if (!found) return;
    const { token, course } = found;
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
    sendList(req, res, 'courseWork', works, (w) => courseWorkJson(w, token));
  });

  router.get('/v1/courses/:courseId/courseWork/:id', guard, (req, res) => {
    const found = courseWorkRequest(req, res, COURSEWORK_READ, 'member');
    if (found) res.json(courseWorkJson(found.work, found.token));
  });

  router.patch('/v1/courses/:courseId/courseWork/:id', guard, json, (req, res) => {
    const found = courseWorkRequest(req, res, [S.courseworkStudents], 'teacher');
    if (!found) return;
    const { token, work } = found;
    if (!ownProject(res, token, work.projectNumber)) return;
    const mask = updateMask(req, res, ['title', 'description', 'state', 'maxPoints']);
    if (!mask) return;
    const body = parseBody(courseWorkPatch, req, res, invalidResource('CourseWork'));
    if (!body) return;
    if (mask.includes('state') && work.state === 'PUBLISHED' && body.state === 'DRAFT') {
      sendGoogleError(res, 'FAILED_PRECONDITION', 'Published course work cannot be made a draft.');
      return;
    }
    if (!noRequiredCleared(res, mask, body, ['title', 'state'])) return;
    for (const field of mask) {
      switch (field) {
        case 'title':
          work.title = body.title ?? work.title;
          break;
        case 'description':
          work.description = body.description;
          break;
        case 'state':
          work.state = body.state ?? work.state;
          break;
        case 'maxPoints':
          work.maxPoints = body.maxPoints;
          break;
      }
    }
    work.updateTime = options.now();
    res.json(courseWorkJson(work, token));
  });

  // ---- studentSubmissions -------------------------------------------------------------------

  router.get('/v1/courses/:courseId/courseWork/:id/studentSubmissions', guard, (req, res) => {
    const found = courseRequest(req, res, COURSEWORK_READ, 'member');
    if (!found) return;
    const { token, course } = found;
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
    sendList(req, res, 'studentSubmissions', submissions, (s) => submissionJson(s, token));
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

  const submissionPath = '/v1/courses/:courseId/courseWork/:id/studentSubmissions/:submissionId';

  router.get(submissionPath, guard, (req, res) => {
    const found = courseWorkRequest(req, res, COURSEWORK_READ, 'member');
    if (!found) return;
    const { token, course, work } = found;
    const submission = findSubmission(req, res, token, course, work);
    if (submission) res.json(submissionJson(submission, token));
  });

  router.patch(submissionPath, guard, json, (req, res) => {
    const found = courseWorkRequest(req, res, [S.courseworkStudents], 'teacher');
    if (!found) return;
    const { token, course, work } = found;
    const submission = findSubmission(req, res, token, course, work);
    if (!submission) return;
    // Grades may be written only to coursework the same Cloud project created.
    if (!ownProject(res, token, work.projectNumber)) return;
    const mask = updateMask(req, res, ['draftGrade', 'assignedGrade']);
    if (!mask) return;
    const body = parseBody(
      submissionPatch,
      req,
      res,
      'Invalid grade: grades are numbers of at least 0.',
    );
    if (!body) return;
    const draftGrade = mask.includes('draftGrade') ? body.draftGrade : submission.draftGrade;
    const assignedGrade = mask.includes('assignedGrade')
      ? body.assignedGrade
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
  });

  // ---- add-on context and attachments -------------------------------------------------------

  /**
   * The post an add-on is on, by `itemType` (add-on iframes guide: courseWork, courseWorkMaterials
   * or announcements; the API paths use the same collection names). Students never see drafts.
   */
  const findItem = (
    res: Response,
    course: ClassroomCourse,
    token: GoogleAccessToken,
    itemType: ItemType,
    id: string,
  ):
    | { itemType: ItemType; id: string; project: string | undefined; work?: CourseWork }
    | undefined => {
    if (itemType === 'courseWork') {
      const work = visibleWork(res, course, token, id);
      return work && { itemType, id: work.id, project: work.projectNumber, work };
    }
    const post = state.findPost(course.id, itemType, id);
    if (!post || (post.state !== 'PUBLISHED' && !state.isTeacher(course.id, token.userId))) {
      notFound(res);
      return undefined;
    }
    return { itemType, id: post.id, project: post.projectNumber };
  };

  /**
   * The `addOnToken` rules (getAddOnContext and addOnAttachments.create references): a token sent
   * must be Classroom's, for this item and user, and unexpired (`@InvalidAddOnToken`,
   * `@ExpiredAddOnToken`, add-on errors page). Without one, the request must come from the
   * project that created the post, or (getAddOnContext) the add-on must have attachments on it.
   */
  const checkAddOnToken = (
    req: Request,
    res: Response,
    token: GoogleAccessToken,
    courseId: string,
    item: { id: string; project: string | undefined },
    attachmentsAllowTokenless: boolean,
  ): boolean => {
    const raw = req.query.addOnToken;
    if (raw === undefined || raw === '') {
      const project = projectOf(token);
      const hasOwnAttachments =
        attachmentsAllowTokenless &&
        state.attachmentsOf(item.id).some((a) => a.projectNumber === project);
      if (item.project === project || hasOwnAttachments) return true;
      denied(res, GOOGLE_MESSAGE.invalidAddOnToken);
      return false;
    }
    const found = typeof raw === 'string' ? state.addOnTokens.get(raw) : undefined;
    if (
      !found ||
      found.courseId !== courseId ||
      found.itemId !== item.id ||
      found.userId !== token.userId
    ) {
      denied(res, GOOGLE_MESSAGE.invalidAddOnToken);
      return false;
    }
    if (found.expiresAt.getTime() < options.now().getTime()) {
      denied(res, GOOGLE_MESSAGE.expiredAddOnToken);
      return false;
    }
    return true;
  };

  /** The item's attachment, if the calling project made it; otherwise the error is sent. */
  const findAttachment = (
    res: Response,
    token: GoogleAccessToken,
    itemId: string,
    attachmentId: string,
  ): AddOnAttachment | undefined => {
    const attachment = state.attachments.get(attachmentId);
    if (!attachment || attachment.itemId !== itemId) {
      notFound(res);
      return undefined;
    }
    return ownProject(res, token, attachment.projectNumber) ? attachment : undefined;
  };

  /** As courseRequest, then the post named by `:id` in `itemType`'s collection. */
  const itemRequest = (
    req: Request,
    res: Response,
    itemType: ItemType,
    anyOfScopes: readonly string[],
    access: CourseAccess,
  ) => {
    const found = courseRequest(req, res, anyOfScopes, access);
    if (!found) return undefined;
    const item = findItem(res, found.course, found.token, itemType, param(req, 'id'));
    return item && { ...found, item };
  };

  const addOnContext = (itemType: ItemType) => (req: Request, res: Response) => {
    const found = itemRequest(req, res, itemType, ADDON_READ, 'member');
    if (!found) return;
    const { token, course, item } = found;
    if (!checkAddOnToken(req, res, token, course.id, item, true)) return;
    const attachmentId = req.query.attachmentId;
    let attachment: AddOnAttachment | undefined;
    if (typeof attachmentId === 'string' && attachmentId !== '') {
      attachment = findAttachment(res, token, item.id, attachmentId);
      if (!attachment) return;
    }
    const teacher = state.isTeacher(course.id, token.userId);
    // Materials and announcements have no student work (AddOnContext.supportsStudentWork).
    const supportsStudentWork = item.work !== undefined;
    let studentContext: { submissionId?: string } = {};
    if (!teacher && item.work !== undefined && attachment !== undefined) {
      // The student's own submission on THIS attachment (StudentContext.submissionId).
      const submission = state.submissionFor(item.work, token.userId);
      studentContext = { submissionId: state.attachmentSubmission(attachment, submission).id };
    }
    res.json({
      courseId: course.id,
      postId: item.id,
      itemId: item.id,
      supportsStudentWork,
      ...(teacher ? { teacherContext: {} } : { studentContext }),
    });
  };

  /**
   * The rules on an attachment's fields as it would be stored: every URI starts with one of the
   * add-on's allowed prefixes, and maxPoints needs a student work review URI.
   */
  const attachmentFieldsValid = (
    res: Response,
    projectNumber: string,
    fields: Pick<
      AddOnAttachment,
      'teacherViewUri' | 'studentViewUri' | 'studentWorkReviewUri' | 'maxPoints'
    >,
  ): boolean => {
    const prefixes = state.addOns.get(projectNumber)?.allowedUriPrefixes ?? [];
    const uriAllowed = (uri: string): boolean =>
      URL.canParse(uri) && (prefixes.length === 0 || prefixes.some((p) => uri.startsWith(p)));
    const uris = [fields.teacherViewUri, fields.studentViewUri, fields.studentWorkReviewUri].filter(
      (u): u is string => u !== undefined,
    );
    if (!uris.every(uriAllowed)) {
      invalid(res, "Attachment URIs must start with one of the add-on's allowed URI prefixes.");
      return false;
    }
    if (fields.maxPoints !== undefined && fields.studentWorkReviewUri === undefined) {
      invalid(res, 'maxPoints can be set only when studentWorkReviewUri is set.');
      return false;
    }
    return true;
  };

  const createAttachment = (itemType: ItemType) => (req: Request, res: Response) => {
    const found = itemRequest(req, res, itemType, [S.addonsTeacher], 'teacher');
    if (!found) return;
    const { token, course, item } = found;
    if (!state.user(token.userId).addOnLicence) {
      // No Teaching & Learning / Education Plus licence. Google publishes no reason for this
      // refusal: the generic PERMISSION_DENIED message is sent (docs/lms/classroom.md).
      denied(res);
      return;
    }
    if (!checkAddOnToken(req, res, token, course.id, item, false)) return;
    const body = parseBody(attachmentBody, req, res, invalidResource('AddOnAttachment'));
    if (!body) return;
    const project = projectOf(token);
    const fields = {
      teacherViewUri: body.teacherViewUri.uri,
      studentViewUri: body.studentViewUri.uri,
      studentWorkReviewUri: body.studentWorkReviewUri?.uri,
      maxPoints: body.maxPoints,
    };
    if (itemType !== 'courseWork' && (fields.maxPoints ?? 0) > 0) {
      invalid(res, 'maxPoints can be set only on attachments of course work.');
      return;
    }
    if (!attachmentFieldsValid(res, project, fields)) return;
    const attachment = state.createAttachment({
      courseId: course.id,
      itemId: item.id,
      itemType,
      projectNumber: project,
      title: body.title,
      ...fields,
    });
    res.json(attachmentJson(attachment));
  };

  const listAttachments = (itemType: ItemType) => (req: Request, res: Response) => {
    const found = itemRequest(req, res, itemType, ADDON_READ, 'member');
    if (!found) return;
    const project = projectOf(found.token);
    const attachments = state
      .attachmentsOf(found.item.id)
      .filter((a) => a.projectNumber === project);
    sendList(req, res, 'addOnAttachments', attachments, attachmentJson);
  };

  const getAttachment = (itemType: ItemType) => (req: Request, res: Response) => {
    const found = itemRequest(req, res, itemType, ADDON_READ, 'member');
    if (!found) return;
    const attachment = findAttachment(res, found.token, found.item.id, param(req, 'attachmentId'));
    if (attachment) res.json(attachmentJson(attachment));
  };

  for (const itemType of ITEM_TYPES) {
    const base = `/v1/courses/:courseId/${itemType}/:id`;
    router.get(`${base}/addOnContext`, guard, addOnContext(itemType));
    router.post(`${base}/addOnAttachments`, guard, json, createAttachment(itemType));
    router.get(`${base}/addOnAttachments`, guard, listAttachments(itemType));
    router.get(`${base}/addOnAttachments/:attachmentId`, guard, getAttachment(itemType));
  }
  // The deprecated posts variant answers as courseWork.
  router.get('/v1/courses/:courseId/posts/:id/addOnContext', guard, addOnContext('courseWork'));

  /** As courseWorkRequest, then the calling project's attachment named by `:attachmentId`. */
  const attachmentRequest = (
    req: Request,
    res: Response,
    anyOfScopes: readonly string[],
    access: CourseAccess,
  ):
    | {
        token: GoogleAccessToken;
        course: ClassroomCourse;
        work: CourseWork;
        attachment: AddOnAttachment;
      }
    | undefined => {
    const found = courseWorkRequest(req, res, anyOfScopes, access);
    if (!found) return undefined;
    const attachment = findAttachment(res, found.token, found.work.id, param(req, 'attachmentId'));
    return attachment && { ...found, attachment };
  };

  const attachmentPath = '/v1/courses/:courseId/courseWork/:id/addOnAttachments/:attachmentId';

  router.patch(attachmentPath, guard, json, (req, res) => {
    const found = attachmentRequest(req, res, [S.addonsTeacher], 'teacher');
    if (!found) return;
    const { work, attachment } = found;
    const mask = updateMask(req, res, [
      'title',
      'teacherViewUri',
      'studentViewUri',
      'studentWorkReviewUri',
      'maxPoints',
    ]);
    if (!mask) return;
    const body = parseBody(attachmentPatch, req, res, invalidResource('AddOnAttachment'));
    if (!body) return;
    if (!noRequiredCleared(res, mask, body, ['title', 'teacherViewUri', 'studentViewUri'])) return;
    const next = { ...attachment };
    for (const field of mask) {
      switch (field) {
        case 'title':
          next.title = body.title ?? next.title;
          break;
        case 'teacherViewUri':
          next.teacherViewUri = body.teacherViewUri?.uri ?? next.teacherViewUri;
          break;
        case 'studentViewUri':
          next.studentViewUri = body.studentViewUri?.uri ?? next.studentViewUri;
          break;
        case 'studentWorkReviewUri':
          next.studentWorkReviewUri = body.studentWorkReviewUri?.uri;
          // Removing the review URI discards maxPoints (AddOnAttachment reference).
          if (next.studentWorkReviewUri === undefined) next.maxPoints = undefined;
          break;
        case 'maxPoints':
          next.maxPoints = body.maxPoints;
          break;
      }
    }
    if (!attachmentFieldsValid(res, attachment.projectNumber, next)) return;
    Object.assign(attachment, next);
    if (attachment.maxPoints !== undefined && state.gradeSyncAttachment(work.id) === attachment) {
      work.maxPoints = attachment.maxPoints;
    }
    res.json(attachmentJson(attachment));
  });

  /**
   * AddOnAttachmentStudentSubmission: its own `id` and the `courseWorkSubmissionId` it belongs to;
   * `userId` only for teachers who may read student submissions (reference).
   */
  const attachmentSubmissionJson = (
    record: AttachmentSubmission,
    submission: StudentSubmission,
    token: GoogleAccessToken,
    course: ClassroomCourse,
  ) => ({
    ...(record.pointsEarned === undefined ? {} : { pointsEarned: record.pointsEarned }),
    postSubmissionState: submission.state,
    ...(state.isTeacher(course.id, token.userId) &&
    COURSEWORK_READ.some((scope) => token.scopes.includes(scope))
      ? { userId: record.userId }
      : {}),
    id: record.id,
    courseWorkSubmissionId: record.courseWorkSubmissionId,
  });

  /** The attachment submission named by `:submissionId` (its own id), if the caller may see it. */
  const findAttachmentSubmission = (
    req: Request,
    res: Response,
    token: GoogleAccessToken,
    course: ClassroomCourse,
    attachment: AddOnAttachment,
  ): { record: AttachmentSubmission; submission: StudentSubmission } | undefined => {
    const record = state.attachmentSubmissions.get(param(req, 'submissionId'));
    const submission =
      record === undefined ? undefined : state.submissions.get(record.courseWorkSubmissionId);
    if (!record || record.attachmentId !== attachment.id || !submission) {
      notFound(res);
      return undefined;
    }
    if (!state.isTeacher(course.id, token.userId) && record.userId !== token.userId) {
      denied(res);
      return undefined;
    }
    return { record, submission };
  };

  router.get(`${attachmentPath}/studentSubmissions/:submissionId`, guard, (req, res) => {
    const found = attachmentRequest(req, res, ADDON_READ, 'member');
    if (!found) return;
    const { token, course, attachment } = found;
    const own = findAttachmentSubmission(req, res, token, course, attachment);
    if (own) res.json(attachmentSubmissionJson(own.record, own.submission, token, course));
  });

  router.patch(`${attachmentPath}/studentSubmissions/:submissionId`, guard, json, (req, res) => {
    const found = attachmentRequest(req, res, [S.addonsTeacher], 'teacher');
    if (!found) return;
    const { token, course, work, attachment } = found;
    const own = findAttachmentSubmission(req, res, token, course, attachment);
    if (!own) return;
    const mask = updateMask(req, res, ['pointsEarned']);
    if (!mask) return;
    if (attachment.maxPoints === undefined || attachment.maxPoints <= 0) {
      sendGoogleError(
        res,
        'FAILED_PRECONDITION',
        'The attachment must have a positive maxPoints value to accept grades.',
      );
      return;
    }
    const body = parseBody(
      attachmentSubmissionPatch,
      req,
      res,
      'Invalid pointsEarned: a number of at least 0.',
    );
    if (!body) return;
    const { record, submission } = own;
    record.pointsEarned = body.pointsEarned;
    record.writes++;
    state.counters.gradeWrites++;
    // Grade sync: the grading attachment's points become the assignment's draft grade.
    if (state.gradeSyncAttachment(work.id) === attachment) {
      submission.draftGrade = record.pointsEarned;
      submission.updateTime = options.now();
    }
    res.json(attachmentSubmissionJson(record, submission, token, course));
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
      // Developer Preview: only with a `previewVersion` and from a project Google enrolled in the
      // Developer Preview Program (checkUserCapability reference). Google does not publish the
      // exact refusal; the generic PERMISSION_DENIED is sent (docs/lms/classroom.md).
      const previewVersion = req.query.previewVersion;
      if (
        typeof previewVersion !== 'string' ||
        previewVersion === '' ||
        !state.previewProjects.has(projectOf(token))
      ) {
        denied(res);
        return;
      }
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
