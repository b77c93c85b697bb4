import type { Request, Response } from 'express';
import { z } from 'zod';
import { findOverrideTarget, overrideCell, saveOverride } from '../../../evidence/use-cases.ts';
import { notFound } from '../../errors.ts';
import {
  launchedCourse,
  layoutModel,
  type CourseHandler,
  type CoursePageDeps,
} from '../course-layout.ts';
import { actorOf, body, param, studentName, textField } from './shared.ts';

/** A teacher's override of one student's level on one standard, with a reason. */

/** The override form: both fields are checked below, with words for each. */
const overrideForm = z.object({ levelId: textField, reason: textField });

export const OVERRIDE_PATH = '/course/students/:studentId/standards/:itemId/override';

const overrideHref = (base: string, studentId: string, itemId: string): string =>
  `${base}${OVERRIDE_PATH.replace(':studentId', studentId).replace(':itemId', itemId)}`;

/** The viewer, course, student and standard an override route names (else a 404). */
async function overrideContext(deps: CoursePageDeps, req: Request) {
  const { v, course } = await launchedCourse(deps, req);
  const studentId = param(req, 'studentId');
  const itemId = param(req, 'itemId');
  const target = await findOverrideTarget(
    deps.services.mastery,
    { tenantId: v.tenantId, courseId: course.id },
    studentId,
    itemId,
  );
  if (target === undefined) throw notFound('There is no such student or standard in this course.');
  const { learner, item } = target;
  return { v, course, learner, item, studentId, itemId };
}

interface OverrideFormState {
  status?: number;
  levelId?: string;
  reason?: string;
  errors?: Record<string, string>;
  notice?: string | undefined;
}

async function renderOverride(
  deps: CoursePageDeps,
  req: Request,
  res: Response,
  options: OverrideFormState = {},
): Promise<void> {
  const { v, course, learner, item, studentId, itemId } = await overrideContext(deps, req);
  const { policy, current } = await overrideCell(
    deps.services.mastery,
    { tenantId: v.tenantId, courseId: course.id },
    studentId,
    itemId,
  );
  const levelOf = (value: number | null) =>
    value === null ? undefined : policy.scale.levels.find((l) => l.value <= value + 1e-9)?.label;
  res.status(options.status ?? 200).render('evidence/override', {
    ...layoutModel(v, 'mastery'),
    title: 'Override a mastery level',
    styles: ['evidence'],
    student: { id: studentId, name: studentName(learner) },
    standard: {
      code: item.code ?? '',
      statement: item.abbreviated_statement ?? item.full_statement,
    },
    current:
      current === undefined
        ? undefined
        : {
            computed:
              current.computed_value === null
                ? 'No level yet'
                : `${levelOf(current.computed_value) ?? ''} (${current.computed_value})`,
            overridden: current.overridden,
            value:
              current.value === null
                ? 'No level yet'
                : `${levelOf(current.value) ?? ''} (${current.value})`,
          },
    levels: policy.scale.levels.map((l) => ({ id: l.id, label: `${l.label} (${l.value})` })),
    levelId: options.levelId ?? '',
    reason: options.reason ?? '',
    errors: options.errors ?? {},
    notice: options.notice,
    action: `${v.base}/course/students/${studentId}/standards/${itemId}/override`,
    studentHref: `${v.base}/course/students/${studentId}`,
  });
}

/** GET the override form (with the notice of a save or a removal just done). */
export const showOverride: CourseHandler = async (deps, req, res) => {
  await renderOverride(deps, req, res, {
    notice:
      req.query.saved === '1'
        ? 'Override saved.'
        : req.query.cleared === '1'
          ? 'Override removed: the computed level counts again.'
          : undefined,
  });
};

/** POST an override: a level and a reason, both required. */
export const setOverride: CourseHandler = async (deps, req, res) => {
  const { v, course, studentId, itemId } = await overrideContext(deps, req);
  const { levelId, reason } = overrideForm.parse(body(req));
  const errors: Record<string, string> = {};
  if (levelId === '') errors.levelId = 'Choose a level.';
  if (reason.trim() === '')
    errors.reason = 'Give a reason: other teachers and the student see why the level was set.';
  if (Object.keys(errors).length === 0) {
    const saved = await saveOverride(deps.services.mastery, {
      tenantId: v.tenantId,
      courseId: course.id,
      studentId,
      itemId,
      levelId,
      reason,
      actor: actorOf(v),
    });
    if (saved.ok) {
      res.redirect(303, `${overrideHref(v.base, studentId, itemId)}?saved=1`);
      return;
    }
    errors[saved.message.includes('reason') ? 'reason' : 'levelId'] = saved.message;
  }
  await renderOverride(deps, req, res, { status: 422, levelId, reason, errors });
};

/** POST: the override goes; the computed level counts again. */
export const clearOverride: CourseHandler = async (deps, req, res) => {
  const { v, course, studentId, itemId } = await overrideContext(deps, req);
  await deps.services.mastery.clearOverride({
    tenantId: v.tenantId,
    courseId: course.id,
    studentId,
    itemId,
    actor: actorOf(v),
  });
  res.redirect(303, `${overrideHref(v.base, studentId, itemId)}?cleared=1`);
};
