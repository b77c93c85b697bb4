import express, { type Router } from 'express';
import { z } from 'zod';
import { PASSBACK_ERROR_MESSAGES, type PassbackErrorCode } from '../../passback/errors.ts';
import { HttpError } from '../errors.ts';
import { requireCsrf, requireInstructor, viewer, type ToolViewer } from '../middleware/session.ts';
import { courseOf, layoutModel, type CoursePageDeps } from './course-layout.ts';

const form = express.urlencoded({ extended: false, limit: '16kb' });

/** Short names of the causes, for headings; the stored message says what to do. */
const CAUSE_TITLES: Readonly<Record<PassbackErrorCode, string>> = {
  rate_limited: 'The LMS asked to slow down',
  lms_unavailable: 'The LMS had a temporary problem',
  timeout: 'The LMS answered too slowly',
  network: 'The LMS could not be reached',
  token_endpoint_down: 'The LMS did not grant gradebook access',
  classroom_sign_in_needed: 'A teacher needs to sign in to Google again',
  classroom_client_rejected: 'Google refused the Classroom client secret',
  unexpected: 'Something unexpected went wrong',
  not_a_student: 'Not a student in the LMS course',
  column_unpublished: 'Gradebook column unpublished',
  course_concluded: 'Course concluded in the LMS',
  column_deleted: 'Gradebook column deleted in the LMS',
  forbidden: 'The LMS refused access',
  grades_not_enabled: 'Grade passback not enabled',
  classroom_permission_denied: 'Assignment made by another app',
  rejected: 'The LMS rejected the grade',
};

const NOTICES: Readonly<Record<string, string>> = {
  synced: 'Sync started: grades waiting to be sent go out now.',
  resynced: 'Resync started: every grade of this course is recomputed and sent again.',
  paused: 'Grade sync is paused for this course. Nothing is sent until you resume it.',
  resumed: 'Grade sync resumed.',
  retried: 'The failed grades will be sent again now.',
  recreated: 'The column will be created again in the LMS and its grades sent.',
  released:
    'Mastery Pathways will update those grades again: its grade replaces the one typed in the gradebook on the next sync.',
};

const RESULT_WORDS = { sent: 'Sent', retrying: 'Will retry', failed: 'Failed' } as const;

const AUDIT_PAGE = 100;

const retryBody = z.object({
  columnId: z
    .uuid()
    .optional()
    .or(z.literal('').transform(() => undefined)),
  userId: z
    .uuid()
    .optional()
    .or(z.literal('').transform(() => undefined)),
  errorCode: z
    .enum(Object.keys(PASSBACK_ERROR_MESSAGES) as [PassbackErrorCode, ...PassbackErrorCode[]])
    .optional(),
});

const releaseBody = z.object({
  columnId: z
    .uuid()
    .optional()
    .or(z.literal('').transform(() => undefined)),
  userId: z
    .uuid()
    .optional()
    .or(z.literal('').transform(() => undefined)),
});

const columnParam = z.object({ columnId: z.uuid() });
const userParam = z.object({ userId: z.uuid() });

function causeTitle(code: string): string {
  return code in CAUSE_TITLES ? CAUSE_TITLES[code as PassbackErrorCode] : 'Other problem';
}

function causeMessage(code: string, stored: string): string {
  return code in PASSBACK_ERROR_MESSAGES
    ? PASSBACK_ERROR_MESSAGES[code as PassbackErrorCode]
    : stored;
}

const dateTime = (at: Date): string => `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** A score for people: at most two decimals, no trailing zeros. */
const formatScore = (value: number): string => String(Math.round(value * 100) / 100);

/**
 * The grade sync page of a launched course: what is waiting, sent and failed, why in words, and
 * the teacher's controls (sync now, resync everything, pause/resume, retry, recreate a column).
 * Teachers and administrators of the course only; every POST carries the session's CSRF token.
 */
export function passbackPages(router: Router, deps: CoursePageDeps): void {
  const { services, logger } = deps;
  const passback = services.passback;
  const scopeOf = async (v: ToolViewer) => {
    const course = await courseOf(services, v);
    return { course, scope: { tenantId: v.tenantId, courseId: course.id } };
  };
  const back = (v: ToolViewer, notice: string): string => `${v.base}/course/sync?done=${notice}`;

  router.get('/course/sync', requireInstructor, async (req, res) => {
    const v = viewer(req);
    const { course, scope } = await scopeOf(v);
    const summary = await passback.summary(scope);
    const total = summary.pending + summary.sent + summary.failed;
    const pushing = summary.pending > 0 && !summary.paused;
    const done = typeof req.query.done === 'string' ? NOTICES[req.query.done] : undefined;
    res.render('passback/sync', {
      ...layoutModel(v, 'sync'),
      title: 'Grade sync',
      styles: ['passback'],
      scripts: ['passback-sync'],
      notice: done,
      course: {
        title: course.title ?? 'Untitled course',
        hasGradebook: course.agsLineItemsUrl !== undefined,
      },
      counts: { pending: summary.pending, sent: summary.sent, failed: summary.failed, total },
      percent: total === 0 ? 100 : Math.floor(((summary.sent + summary.failed) / total) * 100),
      pushing,
      paused: summary.paused,
      lastRun: summary.lastRunAt === undefined ? undefined : dateTime(summary.lastRunAt),
      causes: summary.errorsByCause.map((cause) => ({
        code: cause.code,
        title: causeTitle(cause.code),
        message: causeMessage(cause.code, cause.message),
        count: cause.count,
        failed: cause.status === 'failed',
      })),
      deletedColumns: summary.deletedColumns,
      held: summary.heldCells.map((cell) => ({
        columnId: cell.columnId,
        userId: cell.userId,
        column: cell.columnLabel,
        student: summary.names.get(cell.userId) ?? `Student ${cell.lmsUserId.slice(0, 8)}`,
        words: `Changed by a teacher in the gradebook on ${dateTime(cell.heldAt)}${
          cell.heldValue === null
            ? ' (grade cleared)'
            : ` (now ${formatScore(cell.heldValue)} / ${formatScore(cell.scoreMaximum)})`
        }; not overwritten. Mastery Pathways would send ${formatScore(cell.desiredValue)} / ${formatScore(cell.scoreMaximum)}.`,
      })),
      heldCount: summary.held,
      students: summary.students.map((s) => ({
        userId: s.userId,
        name: summary.names.get(s.userId) ?? `Student ${s.lmsUserId.slice(0, 8)}`,
        pending: s.pending,
        sent: s.sent,
        failed: s.failed,
        held: s.held,
      })),
    });
  });

  router.get('/course/sync/progress', requireInstructor, async (req, res) => {
    const v = viewer(req);
    const { scope } = await scopeOf(v);
    const summary = await passback.summary(scope);
    const total = summary.pending + summary.sent + summary.failed;
    res.json({
      pending: summary.pending,
      sent: summary.sent,
      failed: summary.failed,
      total,
      paused: summary.paused,
      percent: total === 0 ? 100 : Math.floor(((summary.sent + summary.failed) / total) * 100),
      lastRun: summary.lastRunAt === undefined ? null : dateTime(summary.lastRunAt),
    });
  });

  router.get('/course/sync/students/:userId', requireInstructor, async (req, res) => {
    const v = viewer(req);
    const { course, scope } = await scopeOf(v);
    const params = userParam.safeParse(req.params);
    const student = params.success
      ? await passback.student({ ...scope, userId: params.data.userId })
      : undefined;
    if (student === undefined) {
      throw new HttpError(
        404,
        'not_found',
        'This student has no grades to send in this course. Go back to the grade sync page and choose a student from the list.',
      );
    }
    const name = student.name ?? 'This student';
    res.render('passback/student', {
      ...layoutModel(v, 'sync'),
      title: `Grade sync: ${name}`,
      styles: ['passback'],
      course: { title: course.title ?? 'Untitled course' },
      student: { name, userId: params.data?.userId ?? '' },
      cells: student.cells.map((cell) => ({
        column: cell.columnLabel,
        value: `${cell.desiredValue} / ${cell.scoreMaximum}`,
        comment: cell.comment ?? '',
        inLms:
          cell.confirmedValue === null
            ? 'Nothing sent yet'
            : `${cell.confirmedValue}${cell.confirmedAt === null ? '' : ` (${dateTime(cell.confirmedAt)})`}`,
        status:
          cell.status === 'sent'
            ? 'Sent'
            : cell.status === 'held'
              ? 'Changed by a teacher in the gradebook; not overwritten'
              : cell.status === 'failed'
                ? `Failed: ${causeTitle(cell.errorCode ?? '')}`
                : cell.errorCode === null
                  ? 'Waiting'
                  : `Will retry${cell.nextAttemptAt === null ? '' : ` at ${dateTime(cell.nextAttemptAt)}`}: ${causeTitle(cell.errorCode)}`,
        failed: cell.status === 'failed',
      })),
    });
  });

  router.get('/course/sync/audit', requireInstructor, async (req, res) => {
    const v = viewer(req);
    const { course, scope } = await scopeOf(v);
    const page = z.coerce.number().int().min(1).max(10_000).catch(1).parse(req.query.page);
    const lines = await passback.audit({
      ...scope,
      limit: AUDIT_PAGE + 1,
      offset: (page - 1) * AUDIT_PAGE,
    });
    res.render('passback/audit', {
      ...layoutModel(v, 'sync'),
      title: 'Grade sync audit log',
      styles: ['passback'],
      course: { title: course.title ?? 'Untitled course' },
      page,
      hasNext: lines.length > AUDIT_PAGE,
      lines: lines.slice(0, AUDIT_PAGE).map((line) => ({
        at: dateTime(line.at),
        column: line.columnLabel,
        student: line.studentName ?? `Student ${(line.lmsUserId ?? '').slice(0, 8)}`,
        value: line.value === null ? '' : String(line.value),
        result: RESULT_WORDS[line.result],
        why:
          line.errorCode === null
            ? ''
            : `${causeTitle(line.errorCode)}${line.httpStatus === null ? '' : ` (HTTP ${line.httpStatus})`}`,
      })),
    });
  });

  router.post('/course/sync/now', form, requireInstructor, requireCsrf, async (req, res) => {
    const v = viewer(req);
    const { scope } = await scopeOf(v);
    const due = await passback.syncNow(scope);
    logger.info({ tenantId: v.tenantId, courseId: scope.courseId, due }, 'grade sync requested');
    res.redirect(303, back(v, 'synced'));
  });

  router.post('/course/sync/resync', form, requireInstructor, requireCsrf, async (req, res) => {
    const v = viewer(req);
    const { scope } = await scopeOf(v);
    const result = await passback.resyncEverything(scope);
    logger.info(
      { tenantId: v.tenantId, courseId: scope.courseId, ...result },
      'grade resync requested',
    );
    res.redirect(303, back(v, 'resynced'));
  });

  for (const [path, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    router.post(`/course/sync/${path}`, form, requireInstructor, requireCsrf, async (req, res) => {
      const v = viewer(req);
      const { scope } = await scopeOf(v);
      await passback.setPaused(scope, paused);
      logger.info(
        { tenantId: v.tenantId, courseId: scope.courseId, paused },
        'grade sync paused or resumed',
      );
      res.redirect(303, back(v, paused ? 'paused' : 'resumed'));
    });
  }

  router.post('/course/sync/retry', form, requireInstructor, requireCsrf, async (req, res) => {
    const v = viewer(req);
    const { scope } = await scopeOf(v);
    const body = retryBody.safeParse(req.body);
    if (!body.success) {
      throw new HttpError(
        400,
        'bad_request',
        'This retry request is not valid. Reload the grade sync page and try again.',
      );
    }
    const retried = await passback.retryFailed({ ...scope, ...body.data });
    logger.info(
      { tenantId: v.tenantId, courseId: scope.courseId, retried },
      'failed grades retried',
    );
    res.redirect(303, back(v, 'retried'));
  });

  router.post(
    '/course/sync/held/release',
    form,
    requireInstructor,
    requireCsrf,
    async (req, res) => {
      const v = viewer(req);
      const { scope } = await scopeOf(v);
      const body = releaseBody.safeParse(req.body);
      if (!body.success) {
        throw new HttpError(
          400,
          'bad_request',
          'This request to update a teacher-changed grade is not valid. Reload the grade sync page and try again.',
        );
      }
      const released = await passback.releaseHeld({ ...scope, ...body.data });
      logger.info(
        { tenantId: v.tenantId, courseId: scope.courseId, released },
        'teacher-changed grades handed back to the tool',
      );
      res.redirect(303, back(v, 'released'));
    },
  );

  router.post(
    '/course/sync/columns/:columnId/recreate',
    form,
    requireInstructor,
    requireCsrf,
    async (req, res) => {
      const v = viewer(req);
      const { scope } = await scopeOf(v);
      const params = columnParam.safeParse(req.params);
      const recreated =
        params.success &&
        (await passback.recreateColumn({ ...scope, columnId: params.data.columnId }));
      if (!recreated) {
        throw new HttpError(
          404,
          'not_found',
          'This column is not a deleted column of this course. Reload the grade sync page to see the current state.',
        );
      }
      logger.info(
        { tenantId: v.tenantId, courseId: scope.courseId, columnId: params.data.columnId },
        'gradebook column recreation requested',
      );
      res.redirect(303, back(v, 'recreated'));
    },
  );
}
