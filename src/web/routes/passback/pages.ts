import { z } from 'zod';
import type { CourseSyncView } from '../../../passback/grade-sync.ts';
import { HttpError } from '../../errors.ts';
import { viewer, type ToolViewer } from '../../middleware/session.ts';
import {
  courseOf,
  layoutModel,
  type CourseHandler,
  type CoursePageDeps,
} from '../course-layout.ts';
import { causeMessage, causeTitle, dateTime, formatScore, NOTICES, RESULT_WORDS } from './words.ts';

/** The read side of grade sync: the course's sync page (and its progress JSON), a student, the audit log. */

const AUDIT_PAGE = 100;

const userParam = z.object({ userId: z.uuid() });

/** The launched course and the scope every passback use case takes. */
export async function syncScopeOf(deps: CoursePageDeps, v: ToolViewer) {
  const course = await courseOf(deps.services, v);
  return { course, scope: { tenantId: v.tenantId, courseId: course.id } };
}

/** How far the sync is: what is sent or failed, of everything there is to send. */
function progressOf(summary: CourseSyncView) {
  const total = summary.pending + summary.sent + summary.failed;
  const percent = total === 0 ? 100 : Math.floor(((summary.sent + summary.failed) / total) * 100);
  return { total, percent };
}

const studentLabel = (summary: CourseSyncView, userId: string, lmsUserId: string): string =>
  summary.names.get(userId) ?? `Student ${lmsUserId.slice(0, 8)}`;

/** The held cells (changed by a teacher in the LMS) as sentences for the sync page. */
function heldCellsModel(summary: CourseSyncView) {
  return summary.heldCells.map((cell) => ({
    columnId: cell.columnId,
    userId: cell.userId,
    column: cell.columnLabel,
    student: studentLabel(summary, cell.userId, cell.lmsUserId),
    words: `Changed by a teacher in the gradebook on ${dateTime(cell.heldAt)}${
      cell.heldValue === null
        ? ' (grade cleared)'
        : ` (now ${formatScore(cell.heldValue)} / ${formatScore(cell.scoreMaximum)})`
    }; not overwritten. Mastery Pathways would send ${formatScore(cell.desiredValue)} / ${formatScore(cell.scoreMaximum)}.`,
  }));
}

/** GET the course's grade sync page. */
export const showSync: CourseHandler = async (deps, req, res) => {
  const v = viewer(req);
  const { course, scope } = await syncScopeOf(deps, v);
  const summary = await deps.services.passback.summary(scope);
  const { total, percent } = progressOf(summary);
  res.render('passback/sync', {
    ...layoutModel(v, 'sync'),
    title: 'Grade sync',
    styles: ['passback'],
    scripts: ['passback-sync'],
    notice: typeof req.query.done === 'string' ? NOTICES[req.query.done] : undefined,
    course: {
      title: course.title ?? 'Untitled course',
      hasGradebook: course.agsLineItemsUrl !== undefined,
    },
    counts: { pending: summary.pending, sent: summary.sent, failed: summary.failed, total },
    percent,
    pushing: summary.pending > 0 && !summary.paused,
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
    held: heldCellsModel(summary),
    heldCount: summary.held,
    students: summary.students.map((s) => ({
      userId: s.userId,
      name: studentLabel(summary, s.userId, s.lmsUserId),
      pending: s.pending,
      sent: s.sent,
      failed: s.failed,
      held: s.held,
    })),
  });
};

/** GET the sync's progress as JSON (the page's script polls it). */
export const syncProgress: CourseHandler = async (deps, req, res) => {
  const { scope } = await syncScopeOf(deps, viewer(req));
  const summary = await deps.services.passback.summary(scope);
  const { total, percent } = progressOf(summary);
  res.json({
    pending: summary.pending,
    sent: summary.sent,
    failed: summary.failed,
    total,
    paused: summary.paused,
    percent,
    lastRun: summary.lastRunAt === undefined ? null : dateTime(summary.lastRunAt),
  });
};

type StudentSyncCell = NonNullable<
  Awaited<ReturnType<CoursePageDeps['services']['passback']['student']>>
>['cells'][number];

/** Where one cell of a student stands, in words. */
function cellStatus(cell: StudentSyncCell): string {
  if (cell.status === 'sent') return 'Sent';
  if (cell.status === 'held') return 'Changed by a teacher in the gradebook; not overwritten';
  if (cell.status === 'failed') return `Failed: ${causeTitle(cell.errorCode ?? '')}`;
  if (cell.errorCode === null) return 'Waiting';
  return `Will retry${cell.nextAttemptAt === null ? '' : ` at ${dateTime(cell.nextAttemptAt)}`}: ${causeTitle(cell.errorCode)}`;
}

/** GET one student's grades to send, cell by cell. */
export const showStudentSync: CourseHandler = async (deps, req, res) => {
  const v = viewer(req);
  const { course, scope } = await syncScopeOf(deps, v);
  const params = userParam.safeParse(req.params);
  const student = params.success
    ? await deps.services.passback.student({ ...scope, userId: params.data.userId })
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
      status: cellStatus(cell),
      failed: cell.status === 'failed',
    })),
  });
};

/** GET the course's audit log of posts, newest first, a page at a time. */
export const showSyncAudit: CourseHandler = async (deps, req, res) => {
  const v = viewer(req);
  const { course, scope } = await syncScopeOf(deps, v);
  const page = z.coerce.number().int().min(1).max(10_000).catch(1).parse(req.query.page);
  const lines = await deps.services.passback.audit({
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
};
