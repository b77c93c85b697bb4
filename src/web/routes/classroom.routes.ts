import express, { Router, type ErrorRequestHandler, type Request } from 'express';
import { z } from 'zod';
import type { AppServices } from '../../app-services.ts';
import { CLASSROOM_ITEM_TYPES, type ClassroomApi } from '../../classroom/api.ts';
import {
  ClassroomError,
  classroomErrorFromGoogle,
  CLASSROOM_ERROR_MESSAGES,
} from '../../classroom/errors.ts';
import { googleStatus } from '../../classroom/google-http.ts';
import { classroomColumnId } from '../../classroom/adapter.ts';
import { LmsHttpError } from '../../lti/errors.ts';
import { CLASSROOM_ROLE_URIS, NEEDS_SIGN_IN_REASON } from '../../classroom/services.ts';
import type { Logger } from '../../logger.ts';
import type {
  ClassroomInstall,
  ClassroomLaunchParams,
} from '../../storage/classroom/classroom.repository.ts';
import { readRememberCookie, setRememberCookie } from '../classroom-browser-cookie.ts';
import { HttpError } from '../errors.ts';
import {
  requireCsrf,
  requireInstructor,
  sessionMiddleware,
  viewer,
} from '../middleware/session.ts';
import { courseOf, layoutModel } from './course-layout.ts';

export interface ClassroomRoutesDeps {
  readonly services: AppServices;
  readonly logger: Logger;
  readonly publicUrl: string;
}

const form = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 600 });

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
const classroomId = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.:-]+$/);
const optionalParam = z.string().trim().min(1).max(2000).optional().catch(undefined);
/** Classroom's `itemType` (add-on iframes guide); absent means courseWork (older launches). */
const itemTypeParam = z.enum(CLASSROOM_ITEM_TYPES).optional();

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

const flowIdSchema = z.string().regex(/^[A-Za-z0-9_-]{20,200}$/);
/** The signed launch parameters (`l`) and the completion secret (`k`) in query strings. */
const launchTokenSchema = z
  .string()
  .max(12_000)
  .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
const completionSchema = z.string().regex(/^[A-Za-z0-9_-]{20,200}$/);

const queryString = (req: Request, name: string): string | undefined => {
  const value: unknown = (req.query as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
};

const NOT_FINISHED =
  'Mastery Pathways has not received your sign-in yet. Choose “Sign in with Google” and finish in the new window. If this page does not continue by itself, choose “Continue here instead” in that window.';

type View = ClassroomLaunchParams['view'];

function readLaunch(req: Request, view: View): ClassroomLaunchParams {
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
function sessionTarget(base: string, launch: ClassroomLaunchParams): string {
  const query = new URLSearchParams({ itemId: launch.itemId });
  if (launch.itemType !== undefined) query.set('itemType', launch.itemType);
  if (launch.attachmentId !== undefined) query.set('attachmentId', launch.attachmentId);
  if (launch.submissionId !== undefined) query.set('submissionId', launch.submissionId);
  if (launch.addOnToken !== undefined) query.set('addOnToken', launch.addOnToken);
  if (launch.signInRestored === true) query.set('restored', '1');
  return `${base}/classroom/${VIEW_PATHS[launch.view]}?${query.toString()}`;
}

const attachmentFormSchema = z.object({
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

/** A Classroom API failure during a teacher's action, as a page that says what to do. */
function asClassroomError(error: unknown): unknown {
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
    urls: ReturnType<typeof classroomUrls>;
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

/** Google Classroom add-on routes (`/classroom/...`) and its session pages (`/s/<token>/classroom/...`). */
export function classroomRoutes(deps: ClassroomRoutesDeps): Router {
  const { services, logger, publicUrl } = deps;
  const classroom = services.classroom;
  const router = Router();

  async function installBySlug(slug: string | undefined): Promise<ClassroomInstall> {
    const install = slug === undefined ? undefined : await classroom.findInstallBySlug(slug);
    if (install === undefined) throw new ClassroomError('not_configured');
    return install;
  }

  router.use('/classroom', (_req, res, next) => {
    // Sign-in pages carry one-time flow ids: never cache them, never send them elsewhere.
    res.set('Cache-Control', 'no-store').set('Referrer-Policy', 'same-origin');
    next();
  });

  // --- The add-on's entry points: what Classroom opens in its iframe. -------------------------
  const entry = (view: View) => async (req: Request, res: express.Response) => {
    const install = await installBySlug(req.params.tenant as string | undefined);
    const launch = readLaunch(req, view);
    // Signed in before in this browser as the account Classroom names: no sign-in window again.
    const remembered = readRememberCookie(req, install.tenantId, launch.loginHint);
    const resumed =
      remembered === undefined
        ? undefined
        : await classroom.resumeSignIn(install, launch, remembered);
    if (resumed !== undefined) {
      const { token } = await services.sessions.create({
        tenantId: install.tenantId,
        userId: resumed.userId,
        courseId: resumed.courseId,
        roles: [CLASSROOM_ROLE_URIS[resumed.role]],
      });
      logger.info({ tenantId: install.tenantId, view, resumed: true }, 'classroom add-on opened');
      res.redirect(303, sessionTarget(`/s/${token}`, launch));
      return;
    }
    // Nothing is stored yet: the flow row is created when sign-in starts (the sign-in window).
    const prepared = classroom.prepareSignIn(install, launch);
    logger.info({ tenantId: install.tenantId, view }, 'classroom add-on opened');
    res.render(
      'classroom/sign-in',
      signInModel(install.tenantSlug, prepared.flowId, prepared.launchToken, undefined),
    );
  };
  router.get('/classroom/:tenant/attachment-setup', entry('setup'));
  router.get('/classroom/:tenant/teacher-view', entry('teacher'));
  router.get('/classroom/:tenant/student-view', entry('student'));
  router.get('/classroom/:tenant/student-work-review', entry('review'));
  router.get('/classroom/:tenant/link', entry('link'));

  function signInModel(
    tenantSlug: string,
    flowId: string,
    launchToken: string,
    notice: string | undefined,
  ) {
    const district = `/classroom/${encodeURIComponent(tenantSlug)}`;
    return {
      layout: 'tool',
      title: 'Sign in',
      scripts: ['classroom-sign-in'],
      signInUrl: `${district}/sign-in/${flowId}?${new URLSearchParams({ l: launchToken }).toString()}`,
      continueUrl: `${district}/continue/${flowId}`,
      launchToken,
      notice,
    };
  }

  // The popup (or new tab): Google refuses to be framed, so sign-in leaves the iframe.
  router.get('/classroom/:tenant/sign-in/:flowId', async (req, res) => {
    const install = await installBySlug(req.params.tenant);
    const flowId = flowIdSchema.safeParse(req.params.flowId);
    if (!flowId.success) throw new ClassroomError('sign_in_expired');
    const launchToken = launchTokenSchema.safeParse(queryString(req, 'l'));
    const target = await classroom.authorizationRedirect(
      install,
      flowId.data,
      launchToken.success ? launchToken.data : undefined,
      classroomUrls(publicUrl, install.tenantSlug).redirectUri,
    );
    res.redirect(302, target.toString());
  });

  router.get('/classroom/oauth/callback', async (req, res) => {
    const current = new URL(req.originalUrl, classroomUrls(publicUrl, 'x').redirectUri);
    const result = await classroom.handleCallback(current);
    if ('kind' in result) {
      // Permissions unticked at Google's consent screen: say which, and offer to sign in again
      // (the same flow: the add-on iframe that opened this window still continues by itself).
      logger.info(
        { role: result.role, missing: result.missing.map((m) => m.scope) },
        'classroom sign-in lacks permissions',
      );
      res.status(403).render('classroom/permissions', {
        layout: 'tool',
        title: 'Allow Mastery Pathways in Google',
        role: result.role,
        missing: result.missing,
        signInAgainUrl: `/classroom/${encodeURIComponent(result.tenantSlug)}/sign-in/${result.flowId}`,
      });
      return;
    }
    logger.info({ role: result.role }, 'classroom sign-in completed');
    // Only this browser learns the completion secret: the page hands it to the add-on iframe that
    // opened it (postMessage, same origin only), or carries it in "Continue here instead".
    const completion = new URLSearchParams({ k: result.completion }).toString();
    res.render('classroom/signed-in', {
      layout: 'tool',
      title: 'Signed in',
      scripts: ['classroom-signed-in'],
      completion: result.completion,
      continueUrl: `/classroom/${encodeURIComponent(result.tenantSlug)}/continue/${result.flowId}?${completion}`,
    });
  });

  // "Continue": a completed sign-in becomes a tool session, once, for the browser that finished
  // it (the completion secret `k`); the flow id alone is public (it is on the entry page).
  router.get('/classroom/:tenant/continue/:flowId', async (req, res) => {
    const install = await installBySlug(req.params.tenant);
    const flowId = flowIdSchema.safeParse(req.params.flowId);
    if (!flowId.success) throw new ClassroomError('sign_in_expired');
    const completion = completionSchema.safeParse(queryString(req, 'k'));
    const flow = completion.success
      ? await classroom.consumeSignIn(install.tenantId, flowId.data, completion.data)
      : undefined;
    if (flow === undefined) {
      // Not finished, or not by this browser: the iframe's page again, never a session.
      const launchToken = launchTokenSchema.safeParse(queryString(req, 'l'));
      if (
        !launchToken.success ||
        !classroom.isValidLaunchToken(install, flowId.data, launchToken.data)
      ) {
        throw new ClassroomError('sign_in_expired');
      }
      res.render(
        'classroom/sign-in',
        signInModel(install.tenantSlug, flowId.data, launchToken.data, NOT_FINISHED),
      );
      return;
    }
    if (flow.userId === undefined || flow.courseId === undefined || flow.role === undefined) {
      throw new ClassroomError('sign_in_expired');
    }
    const { token } = await services.sessions.create({
      tenantId: install.tenantId,
      userId: flow.userId,
      courseId: flow.courseId,
      roles: [CLASSROOM_ROLE_URIS[flow.role]],
    });
    // This browser (Classroom's frame) stays signed in for the account: next time, no window.
    const browser = await classroom.rememberBrowser(install.tenantId, flow.userId);
    if (browser !== undefined) {
      setRememberCookie(res, {
        tenantSlug: install.tenantSlug,
        tenantId: install.tenantId,
        googleSub: browser.googleSub,
        token: browser.token,
      });
    }
    res.redirect(303, sessionTarget(`/s/${token}`, flow.launch));
  });

  // --- Session pages inside the add-on iframe. ------------------------------------------------
  const session = Router({ mergeParams: true });
  session.use(sessionMiddleware(services));
  session.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store').set('Referrer-Policy', 'same-origin');
    next();
  });

  async function classroomCourse(req: Request) {
    const v = viewer(req);
    const course = await courseOf(services, v);
    const link = await classroom.repository.findCourseLink(v.tenantId, course.id);
    if (link === undefined) {
      throw new HttpError(404, 'not_found', 'This course is not a Google Classroom course.');
    }
    return { v, course, link };
  }

  function sessionQuery(req: Request) {
    const parsed = z
      .object({
        itemId: classroomId,
        attachmentId: classroomId.optional(),
        submissionId: classroomId.optional(),
        itemType: itemTypeParam,
        addOnToken: optionalParam,
        restored: z.literal('1').optional().catch(undefined),
      })
      .safeParse(req.query);
    if (!parsed.success) throw new ClassroomError('invalid_launch');
    return parsed.data;
  }

  async function attachmentFormModel(
    req: Request,
    values: {
      itemId: string;
      itemType: string | undefined;
      addOnToken: string | undefined;
      title: string;
      maxPoints: string;
      standards: readonly string[];
    },
    errors: Record<string, string>,
  ) {
    const { v, course } = await classroomCourse(req);
    const standards = await classroom.repository.listStandards(v.tenantId);
    const chosen = new Set(values.standards);
    return {
      ...layoutModel(v, 'assignments'),
      title: 'New Mastery Pathways activity',
      courseTitle: course.title ?? 'this class',
      values,
      errors,
      errorList: Object.entries(errors).map(([field, message]) => ({ field, message })),
      standards: standards.map((s) => ({
        id: s.id,
        label: s.code === undefined ? s.statement : `${s.code}: ${s.statement}`,
        framework: s.framework,
        checked: chosen.has(s.id),
      })),
    };
  }

  session.get('/attachment/new', requireInstructor, async (req, res) => {
    const query = sessionQuery(req);
    // Materials and announcements have no grades (AddOnContext.supportsStudentWork is false).
    if ((query.itemType ?? 'courseWork') !== 'courseWork') {
      throw new ClassroomError('item_has_no_grades');
    }
    res.render(
      'classroom/attachment-new',
      await attachmentFormModel(
        req,
        {
          itemId: query.itemId,
          itemType: query.itemType,
          addOnToken: query.addOnToken,
          title: '',
          maxPoints: '4',
          standards: [],
        },
        {},
      ),
    );
  });

  session.post('/attachment', form, requireInstructor, requireCsrf, async (req, res) => {
    const { v, course, link } = await classroomCourse(req);
    const parsed = attachmentFormSchema.safeParse(req.body);
    const raw = req.body as Record<string, unknown>;
    const rawStandards = raw.standards;
    const values = {
      itemId: typeof raw.itemId === 'string' ? raw.itemId : '',
      itemType: typeof raw.itemType === 'string' ? raw.itemType : undefined,
      addOnToken: typeof raw.addOnToken === 'string' ? raw.addOnToken : undefined,
      title: typeof raw.title === 'string' ? raw.title : '',
      maxPoints: typeof raw.maxPoints === 'string' ? raw.maxPoints : '',
      standards: Array.isArray(rawStandards)
        ? rawStandards.filter((s): s is string => typeof s === 'string')
        : typeof rawStandards === 'string'
          ? [rawStandards]
          : [],
    };
    const errors: Record<string, string> = {};
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const field = String(issue.path[0] ?? 'form');
        errors[field] ??=
          field === 'itemId' ? CLASSROOM_ERROR_MESSAGES.invalid_launch : issue.message;
      }
    } else if (parsed.data.standards.length === 0) {
      errors.standards = 'Choose at least one standard this activity assesses.';
    }
    if (!parsed.success || Object.keys(errors).length > 0) {
      res
        .status(400)
        .render('classroom/attachment-new', await attachmentFormModel(req, values, errors));
      return;
    }
    const input = parsed.data;
    if ((input.itemType ?? 'courseWork') !== 'courseWork') {
      throw new ClassroomError('item_has_no_grades');
    }
    if (!(await classroom.repository.standardsExist(v.tenantId, input.standards))) {
      res.status(400).render(
        'classroom/attachment-new',
        await attachmentFormModel(req, values, {
          standards: 'One of the chosen standards is no longer available. Choose again.',
        }),
      );
      return;
    }
    const install = await classroom.findInstall(v.tenantId);
    if (install === undefined) throw new ClassroomError('not_configured');
    const urls = classroomUrls(publicUrl, install.tenantSlug);
    const api = await classroom.apiForUser(v.tenantId, v.user.id);
    const created = await createInClassroom(api, {
      classroomCourseId: link.classroomCourseId,
      itemId: input.itemId,
      addOnToken: input.addOnToken,
      title: input.title,
      maxPoints: input.maxPoints,
      urls,
    });
    const licensed = created.kind === 'attachment';
    const recorded = await classroom.repository.recordActivity({
      tenantId: v.tenantId,
      courseId: course.id,
      title: input.title,
      itemIds: input.standards,
      maxPoints: input.maxPoints,
      createdBy: v.user.id,
      kind: created.kind,
      courseWorkId: created.courseWorkId,
      attachmentId: created.attachmentId,
      lineItemUrl: classroomColumnId({ attachmentId: undefined, ...created }),
    });
    if (recorded === undefined) {
      res.status(400).render(
        'classroom/attachment-new',
        await attachmentFormModel(req, values, {
          standards: 'One of the chosen standards is no longer available. Choose again.',
        }),
      );
      return;
    }
    logger.info(
      { tenantId: v.tenantId, courseId: course.id, kind: created.kind },
      'classroom activity created',
    );
    res.status(201).render('classroom/attachment-created', {
      ...layoutModel(v, 'assignments'),
      title: 'Activity created',
      scripts: created.kind === 'attachment' ? ['classroom-close'] : [],
      activityTitle: input.title,
      licensed,
      standards: await classroom.repository.listAlignedStandards(v.tenantId, recorded.assignmentId),
    });
  });

  async function attachmentModel(req: Request) {
    const { v, course, link } = await classroomCourse(req);
    const query = sessionQuery(req);
    let column =
      query.attachmentId === undefined
        ? undefined
        : await classroom.repository.findColumnByAttachment(
            v.tenantId,
            course.id,
            query.itemId,
            query.attachmentId,
          );
    if (
      column === undefined &&
      query.attachmentId !== undefined &&
      (query.itemType ?? 'courseWork') === 'courseWork'
    ) {
      // Unknown here: a reused post or a copied class? Classroom's copyHistory says where from.
      try {
        column = await classroom.adoptCopiedAttachment({
          tenantId: v.tenantId,
          userId: v.user.id,
          courseId: course.id,
          classroomCourseId: link.classroomCourseId,
          itemId: query.itemId,
          attachmentId: query.attachmentId,
        });
        if (column !== undefined) {
          logger.info(
            { tenantId: v.tenantId, courseId: course.id },
            'classroom copied activity recognised',
          );
        }
      } catch (error) {
        // The page still opens (without the activity); the log says why.
        logger.warn(
          { tenantId: v.tenantId, courseId: course.id, err: error },
          'classroom copy history not read',
        );
      }
    }
    const standards =
      column?.assignmentId === undefined
        ? []
        : await classroom.repository.listAlignedStandards(v.tenantId, column.assignmentId);
    return { v, course, link, query, column, standards };
  }

  session.get('/teacher', requireInstructor, async (req, res) => {
    const { v, course, link, query, column, standards } = await attachmentModel(req);
    const reason = link.needsSignInReason;
    res.render('classroom/teacher-view', {
      ...layoutModel(v, 'assignments'),
      title: column?.title ?? 'Mastery Pathways activity',
      courseTitle: course.title ?? 'this class',
      activity:
        column === undefined ? undefined : { title: column.title, maxPoints: column.maxPoints },
      standards,
      needsTeacherSignIn: link.needsTeacherSignIn,
      // The reason Google gave, in words, when it was more than an expired sign-in.
      needsSignInMessage:
        reason === undefined || reason === NEEDS_SIGN_IN_REASON
          ? CLASSROOM_ERROR_MESSAGES.needs_teacher_sign_in
          : reason,
      restored: query.restored === '1',
    });
  });

  session.get('/student', async (req, res) => {
    const { v, course, link, query, column, standards } = await attachmentModel(req);
    if (column?.kind === 'attachment' && query.attachmentId !== undefined) {
      // Which submission of the student's is this attachment's: grades go there.
      try {
        await classroom.recordStudentOpen({
          tenantId: v.tenantId,
          userId: v.user.id,
          courseId: course.id,
          classroomCourseId: link.classroomCourseId,
          itemId: query.itemId,
          attachmentId: query.attachmentId,
        });
      } catch (error) {
        // Kept at sign-in already; this refresh is best effort.
        logger.warn({ tenantId: v.tenantId, err: error }, 'classroom student submission not read');
      }
    }
    res.render('classroom/student-view', {
      ...layoutModel(v, 'progress'),
      title: column?.title ?? 'Mastery Pathways activity',
      courseTitle: course.title ?? 'this class',
      activity: column === undefined ? undefined : { title: column.title },
      standards,
    });
  });

  session.get('/open', (req, res) => {
    const v = viewer(req);
    res.redirect(303, `${v.base}/course`);
  });

  session.get('/review', requireInstructor, async (req, res) => {
    const { v, course, link, query, column, standards } = await attachmentModel(req);
    let student: { name: string } | undefined;
    if (query.submissionId !== undefined && query.attachmentId !== undefined) {
      // Classroom gives the review iframe the ATTACHMENT submission's own id: read it there.
      const api = await classroom.apiForUser(v.tenantId, v.user.id);
      let found: { userId?: string | undefined } | undefined;
      try {
        found = await api.getAttachmentSubmission({
          courseId: link.classroomCourseId,
          itemId: query.itemId,
          attachmentId: query.attachmentId,
          submissionId: query.submissionId,
        });
      } catch (error) {
        if (!(error instanceof LmsHttpError && error.status === 404)) throw asClassroomError(error);
      }
      const install = await classroom.findInstall(v.tenantId);
      const person =
        found?.userId === undefined || install === undefined
          ? undefined
          : await services.people.findUser(v.tenantId, install.issuer, found.userId);
      if (found?.userId !== undefined) {
        student = { name: person?.name ?? 'A student who has not opened Mastery Pathways yet' };
      }
    }
    res.render('classroom/review', {
      ...layoutModel(v, 'evidence'),
      title: 'Student work',
      courseTitle: course.title ?? 'this class',
      activity:
        column === undefined ? undefined : { title: column.title, maxPoints: column.maxPoints },
      standards,
      student,
    });
  });

  router.use('/s/:sessionToken/classroom', session);

  // ClassroomError → a page that says what happened and what to do (status by code).
  const problems: ErrorRequestHandler = (error, _req, res, next) => {
    if (!(error instanceof ClassroomError)) {
      next(error);
      return;
    }
    logger.warn({ code: error.code, detail: error.detail }, 'classroom add-on refused');
    res.status(error.status).render('classroom/problem', {
      layout: 'tool',
      title: error.code === 'domain_not_allowed' ? 'Account not allowed' : 'Google Classroom',
      message: error.message,
      code: `classroom.${error.code}`,
    });
  };
  router.use(problems);
  return router;
}
