import express, { Router, type Request, type RequestHandler } from 'express';
import type { AppServices } from '../../../app-services.ts';
import {
  classroomLinkOf,
  createClassroomActivity,
  listStandardChoices,
  openAttachment,
  recordStudentOpen,
  reviewedStudent,
  type AddOnViewer,
} from '../../../classroom/add-on-activities.ts';
import type { AddOnDeps } from '../../../classroom/add-on-deps.ts';
import { ClassroomError, CLASSROOM_ERROR_MESSAGES } from '../../../classroom/errors.ts';
import { NEEDS_SIGN_IN_REASON } from '../../../classroom/services.ts';
import {
  requireCsrf,
  requireInstructor,
  sessionMiddleware,
  viewer,
  type ToolViewer,
} from '../../middleware/session.ts';
import { courseOf, layoutModel } from '../course-layout.ts';
import { attachmentFormSchema, classroomUrls, sessionQuery } from './params.ts';

export interface SessionPagesDeps {
  readonly services: AppServices;
  readonly addOn: AddOnDeps;
  readonly publicUrl: string;
}

const form = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 600 });

const STANDARDS_GONE = 'One of the chosen standards is no longer available. Choose again.';

interface AttachmentFormValues {
  itemId: string;
  itemType: string | undefined;
  addOnToken: string | undefined;
  title: string;
  maxPoints: string;
  standards: readonly string[];
}

/** The launched course and its Classroom link (404 for a course launched from elsewhere). */
async function classroomCourse(deps: SessionPagesDeps, req: Request) {
  const v = viewer(req);
  const course = await courseOf(deps.services, v);
  const actor: AddOnViewer = { tenantId: v.tenantId, userId: v.user.id, courseId: course.id };
  const link = await classroomLinkOf(deps.addOn, actor);
  return { v, course, link, actor };
}

async function attachmentFormModel(
  deps: SessionPagesDeps,
  req: Request,
  values: AttachmentFormValues,
  errors: Record<string, string>,
) {
  const { v, course } = await classroomCourse(deps, req);
  const standards = await listStandardChoices(deps.addOn, v.tenantId);
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

/** What the form sent, as typed, for showing it again. */
function formValues(body: unknown): AttachmentFormValues {
  const raw = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const rawStandards = raw.standards;
  return {
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
}

function newAttachmentPage(deps: SessionPagesDeps): RequestHandler {
  return async function showNewAttachment(req, res) {
    const query = sessionQuery(req);
    // Materials and announcements have no grades (AddOnContext.supportsStudentWork is false).
    if ((query.itemType ?? 'courseWork') !== 'courseWork') {
      throw new ClassroomError('item_has_no_grades');
    }
    const values: AttachmentFormValues = {
      itemId: query.itemId,
      itemType: query.itemType,
      addOnToken: query.addOnToken,
      title: '',
      maxPoints: '4',
      standards: [],
    };
    res.render('classroom/attachment-new', await attachmentFormModel(deps, req, values, {}));
  };
}

function createAttachment(deps: SessionPagesDeps): RequestHandler {
  return async function createActivity(req, res) {
    const { v, link, actor } = await classroomCourse(deps, req);
    const parsed = attachmentFormSchema.safeParse(req.body);
    const values = formValues(req.body);
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
        .render('classroom/attachment-new', await attachmentFormModel(deps, req, values, errors));
      return;
    }
    const input = parsed.data;
    if ((input.itemType ?? 'courseWork') !== 'courseWork') {
      throw new ClassroomError('item_has_no_grades');
    }
    const created = await createClassroomActivity(deps.addOn, actor, {
      link,
      itemId: input.itemId,
      addOnToken: input.addOnToken,
      title: input.title,
      maxPoints: input.maxPoints,
      standards: input.standards,
      urlsFor: (tenantSlug) => classroomUrls(deps.publicUrl, tenantSlug),
    });
    if (created.outcome === 'standards_gone') {
      res
        .status(400)
        .render(
          'classroom/attachment-new',
          await attachmentFormModel(deps, req, values, { standards: STANDARDS_GONE }),
        );
      return;
    }
    res.status(201).render('classroom/attachment-created', {
      ...layoutModel(v, 'assignments'),
      title: 'Activity created',
      scripts: created.kind === 'attachment' ? ['classroom-close'] : [],
      activityTitle: input.title,
      licensed: created.kind === 'attachment',
      standards: created.standards,
    });
  };
}

/** The attachment a page is about, its activity (if known) and standards. */
async function attachmentModel(deps: SessionPagesDeps, req: Request) {
  const { v, course, link, actor } = await classroomCourse(deps, req);
  const query = sessionQuery(req);
  const { column, standards } = await openAttachment(deps.addOn, actor, { link, query });
  return { v, course, link, actor, query, column, standards };
}

function teacherView(deps: SessionPagesDeps): RequestHandler {
  return async function showTeacherView(req, res) {
    const { v, course, link, query, column, standards } = await attachmentModel(deps, req);
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
  };
}

function studentView(deps: SessionPagesDeps): RequestHandler {
  return async function showStudentView(req, res) {
    const { v, course, link, actor, query, column, standards } = await attachmentModel(deps, req);
    if (column?.kind === 'attachment' && query.attachmentId !== undefined) {
      await recordStudentOpen(deps.addOn, actor, {
        link,
        itemId: query.itemId,
        attachmentId: query.attachmentId,
      });
    }
    res.render('classroom/student-view', {
      ...layoutModel(v, 'progress'),
      title: column?.title ?? 'Mastery Pathways activity',
      courseTitle: course.title ?? 'this class',
      activity: column === undefined ? undefined : { title: column.title },
      standards,
    });
  };
}

const openCourse: RequestHandler = function openCoursePage(req, res) {
  const v: ToolViewer = viewer(req);
  res.redirect(303, `${v.base}/course`);
};

function reviewView(deps: SessionPagesDeps): RequestHandler {
  return async function showStudentWork(req, res) {
    const { v, course, link, actor, query, column, standards } = await attachmentModel(deps, req);
    const student =
      query.submissionId !== undefined && query.attachmentId !== undefined
        ? await reviewedStudent(deps.addOn, actor, {
            link,
            itemId: query.itemId,
            attachmentId: query.attachmentId,
            submissionId: query.submissionId,
          })
        : undefined;
    res.render('classroom/review', {
      ...layoutModel(v, 'evidence'),
      title: 'Student work',
      courseTitle: course.title ?? 'this class',
      activity:
        column === undefined ? undefined : { title: column.title, maxPoints: column.maxPoints },
      standards,
      student,
    });
  };
}

const noStoreSameOrigin: RequestHandler = function privatePage(_req, res, next) {
  res.set('Cache-Control', 'no-store').set('Referrer-Policy', 'same-origin');
  next();
};

/** Session pages inside the add-on iframe (mount at `/s/:sessionToken/classroom`). */
export function classroomSessionPages(deps: SessionPagesDeps): Router {
  const session = Router({ mergeParams: true });
  session.use(sessionMiddleware(deps.services));
  session.use(noStoreSameOrigin);
  session.get('/attachment/new', requireInstructor, newAttachmentPage(deps));
  session.post('/attachment', form, requireInstructor, requireCsrf, createAttachment(deps));
  session.get('/teacher', requireInstructor, teacherView(deps));
  session.get('/student', studentView(deps));
  session.get('/open', openCourse);
  session.get('/review', requireInstructor, reviewView(deps));
  return session;
}
