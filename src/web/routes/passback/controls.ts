import type { Request, Response } from 'express';
import { z } from 'zod';
import type { GradeSyncUseCases as PassbackServices } from '../../../passback/grade-sync.ts';
import { HttpError } from '../../errors.ts';
import { viewer, type ToolViewer } from '../../middleware/session.ts';
import type { CourseHandler, CoursePageDeps } from '../course-layout.ts';
import { syncScopeOf } from './pages.ts';
import { PASSBACK_ERROR_CODES } from './words.ts';

/**
 * The teacher's grade sync controls: sync now, resync everything, pause/resume, retry failed
 * grades, hand teacher-changed grades back to the tool, recreate a deleted column. Each answers
 * with a redirect to the sync page and its notice.
 */

const optionalUuid = z
  .uuid()
  .optional()
  .or(z.literal('').transform(() => undefined));

const retryBody = z.object({
  columnId: optionalUuid,
  userId: optionalUuid,
  errorCode: z.enum(PASSBACK_ERROR_CODES).optional(),
});

const releaseBody = z.object({ columnId: optionalUuid, userId: optionalUuid });

const columnParam = z.object({ columnId: z.uuid() });

interface CourseScope {
  readonly tenantId: string;
  readonly courseId: string;
}

const backToSync = (v: ToolViewer, notice: string): string =>
  `${v.base}/course/sync?done=${notice}`;

/**
 * A control that acts on a chosen part of the course's grades (all, a column, a student, a cause):
 * parse the form, call the use case, log how many grades it touched, back to the sync page.
 */
interface ChosenGradesControl<Body extends object> {
  readonly body: z.ZodType<Body>;
  /** Said when the form does not parse (a tampered or stale page). */
  readonly invalid: string;
  readonly run: (passback: PassbackServices, input: CourseScope & Body) => Promise<number>;
  /** The log field that counts the grades touched, and the log message. */
  readonly counted: string;
  readonly log: string;
  readonly notice: string;
}

async function runChosenGradesControl<Body extends object>(
  control: ChosenGradesControl<Body>,
  deps: CoursePageDeps,
  req: Request,
  res: Response,
): Promise<void> {
  const v = viewer(req);
  const { scope } = await syncScopeOf(deps, v);
  const body = control.body.safeParse(req.body);
  if (!body.success) throw new HttpError(400, 'bad_request', control.invalid);
  const count = await control.run(deps.services.passback, { ...scope, ...body.data });
  deps.logger.info(
    { tenantId: v.tenantId, courseId: scope.courseId, [control.counted]: count },
    control.log,
  );
  res.redirect(303, backToSync(v, control.notice));
}

const RETRY_FAILED: ChosenGradesControl<z.infer<typeof retryBody>> = {
  body: retryBody,
  invalid: 'This retry request is not valid. Reload the grade sync page and try again.',
  run: (passback, input) => passback.retryFailed(input),
  counted: 'retried',
  log: 'failed grades retried',
  notice: 'retried',
};

const RELEASE_HELD: ChosenGradesControl<z.infer<typeof releaseBody>> = {
  body: releaseBody,
  invalid:
    'This request to update a teacher-changed grade is not valid. Reload the grade sync page and try again.',
  run: (passback, input) => passback.releaseHeld(input),
  counted: 'released',
  log: 'teacher-changed grades handed back to the tool',
  notice: 'released',
};

/** POST: failed grades (all, or one cause, column or student) are sent again now. */
export const retryFailedGrades: CourseHandler = async (deps, req, res) => {
  await runChosenGradesControl(RETRY_FAILED, deps, req, res);
};

/** POST: grades a teacher changed in the LMS are the tool's to update again. */
export const releaseHeldGrades: CourseHandler = async (deps, req, res) => {
  await runChosenGradesControl(RELEASE_HELD, deps, req, res);
};

/** POST: cells waiting out a retry delay become due at once. */
export const syncNow: CourseHandler = async (deps, req, res) => {
  const v = viewer(req);
  const { scope } = await syncScopeOf(deps, v);
  const due = await deps.services.passback.syncNow(scope);
  deps.logger.info({ tenantId: v.tenantId, courseId: scope.courseId, due }, 'grade sync requested');
  res.redirect(303, backToSync(v, 'synced'));
};

/** POST: every grade of the course recomputed and sent again. */
export const resyncEverything: CourseHandler = async (deps, req, res) => {
  const v = viewer(req);
  const { scope } = await syncScopeOf(deps, v);
  const result = await deps.services.passback.resyncEverything(scope);
  deps.logger.info(
    { tenantId: v.tenantId, courseId: scope.courseId, ...result },
    'grade resync requested',
  );
  res.redirect(303, backToSync(v, 'resynced'));
};

async function setSyncPaused(
  paused: boolean,
  deps: CoursePageDeps,
  req: Request,
  res: Response,
): Promise<void> {
  const v = viewer(req);
  const { scope } = await syncScopeOf(deps, v);
  await deps.services.passback.setPaused(scope, paused);
  deps.logger.info(
    { tenantId: v.tenantId, courseId: scope.courseId, paused },
    'grade sync paused or resumed',
  );
  res.redirect(303, backToSync(v, paused ? 'paused' : 'resumed'));
}

/** POST: nothing is sent for this course until a teacher resumes. */
export const pauseSync: CourseHandler = async (deps, req, res) => {
  await setSyncPaused(true, deps, req, res);
};

/** POST: sending resumes. */
export const resumeSync: CourseHandler = async (deps, req, res) => {
  await setSyncPaused(false, deps, req, res);
};

/** POST: a column deleted in the LMS is created again (only ever on the teacher's request). */
export const recreateColumn: CourseHandler = async (deps, req, res) => {
  const v = viewer(req);
  const { scope } = await syncScopeOf(deps, v);
  const params = columnParam.safeParse(req.params);
  const recreated =
    params.success &&
    (await deps.services.passback.recreateColumn({ ...scope, columnId: params.data.columnId }));
  if (!recreated) {
    throw new HttpError(
      404,
      'not_found',
      'This column is not a deleted column of this course. Reload the grade sync page to see the current state.',
    );
  }
  deps.logger.info(
    { tenantId: v.tenantId, courseId: scope.courseId, columnId: params.data.columnId },
    'gradebook column recreation requested',
  );
  res.redirect(303, backToSync(v, 'recreated'));
};
