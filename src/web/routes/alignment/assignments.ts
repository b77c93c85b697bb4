import type { Request, Response } from 'express';
import { z } from 'zod';
import { courseAssignmentList } from '../../../alignment/course-assignments.ts';
import { AlignmentError } from '../../../alignment/errors.ts';
import {
  launchedCourse,
  layoutModel,
  type CourseHandler,
  type CoursePageDeps,
} from '../course-layout.ts';
import { assignmentsUrl, editorUrl, firstQuery, SOURCE_LABELS, text } from './shared.ts';

/** The course's assignments: the list, a teacher's new assignment, a refresh from the LMS. */

const newAssignmentSchema = z.object({
  title: z
    .string({ error: 'Give the assignment a name.' })
    .trim()
    .min(1, { error: 'Give the assignment a name.' })
    .max(200, { error: 'Keep the name under 200 characters.' }),
  description: z
    .string()
    .trim()
    .max(5000, { error: 'Keep the description under 5000 characters.' })
    .optional(),
  scoreMaximum: z
    .string()
    .trim()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value === '') return undefined;
      const number = Number(value);
      if (!Number.isFinite(number) || number <= 0 || number > 10000) {
        ctx.addIssue({
          code: 'custom',
          message: 'Points must be a number more than 0 and at most 10000, or left empty.',
        });
        return z.NEVER;
      }
      return number;
    }),
});

interface ListFormState {
  values?: { title: string; description: string; scoreMaximum: string };
  errors?: Record<string, string>;
  problem?: string;
}

/** The counts of a refresh just done (`?created=…&copied=…&linked=…`), if the URL has them. */
function refreshedCounts(req: Request) {
  if (!['created', 'copied', 'linked'].every((k) => req.query[k] !== undefined)) return undefined;
  return {
    created: Number(firstQuery(req, 'created')) || 0,
    copied: Number(firstQuery(req, 'copied')) || 0,
    linked: Number(firstQuery(req, 'linked')) || 0,
  };
}

async function renderList(
  deps: CoursePageDeps,
  req: Request,
  res: Response,
  status: number,
  extra: ListFormState = {},
): Promise<void> {
  const { v, course } = await launchedCourse(deps, req);
  const { assignments, standardCounts } = await courseAssignmentList(deps.services.alignment, {
    tenantId: v.tenantId,
    courseId: course.id,
  });
  res.status(status).render('alignment/assignments', {
    ...layoutModel(v, 'assignments'),
    title: 'Assignments',
    styles: ['alignment'],
    course: { title: course.title ?? 'Untitled course' },
    canRefresh: course.agsLineItemsUrl !== undefined,
    refreshed: refreshedCounts(req),
    problem: extra.problem,
    values: extra.values ?? { title: '', description: '', scoreMaximum: '' },
    errors: extra.errors ?? {},
    assignments: assignments.map((a) => ({
      href: editorUrl(v, a.id),
      title: a.title,
      source: SOURCE_LABELS[a.source],
      inGradebook: a.lineItemUrl !== undefined,
      scoreMaximum: a.scoreMaximum,
      copied: a.copiedFrom !== undefined,
      standards: standardCounts.get(a.id) ?? 0,
    })),
  });
}

/** GET the course's assignments. */
export const listAssignments: CourseHandler = async (deps, req, res) => {
  await renderList(deps, req, res, 200);
};

/** POST a teacher's own assignment (no LMS column); then its editor. */
export const createAssignment: CourseHandler = async (deps, req, res) => {
  const { v, course } = await launchedCourse(deps, req);
  const body = req.body as Record<string, unknown>;
  const values = {
    title: text(body.title),
    description: text(body.description),
    scoreMaximum: text(body.scoreMaximum),
  };
  const parsed = newAssignmentSchema.safeParse(values);
  if (!parsed.success) {
    const errors: Record<string, string> = {};
    for (const issue of parsed.error.issues)
      errors[String(issue.path[0] ?? 'form')] ??= issue.message;
    await renderList(deps, req, res, 422, { values, errors });
    return;
  }
  const created = await deps.services.alignment.createTeacherAssignment({
    tenantId: v.tenantId,
    courseId: course.id,
    title: parsed.data.title,
    description: parsed.data.description === '' ? undefined : parsed.data.description,
    scoreMaximum: parsed.data.scoreMaximum,
    actor: v.user.id,
  });
  deps.logger.info(
    { tenantId: v.tenantId, courseId: course.id, assignmentId: created.id },
    'teacher assignment created',
  );
  res.redirect(303, editorUrl(v, created.id));
};

/** POST: the LMS's gradebook columns become (or update) assignments; an unreachable LMS is said on the list. */
export const refreshFromLms: CourseHandler = async (deps, req, res) => {
  const { v, course } = await launchedCourse(deps, req);
  let result;
  try {
    result = await deps.services.alignment.discoverFromLms(v.tenantId, course.id, v.user.id);
  } catch (error) {
    if (!(error instanceof AlignmentError) || error.code !== 'lms_unavailable') throw error;
    deps.logger.warn(
      { tenantId: v.tenantId, courseId: course.id, err: error.cause },
      'assignments refresh failed',
    );
    await renderList(deps, req, res, 502, { problem: error.message });
    return;
  }
  deps.logger.info(
    { tenantId: v.tenantId, courseId: course.id, ...result },
    'assignments refreshed from the LMS',
  );
  const query = new URLSearchParams({
    created: String(result.created),
    copied: String(result.copied),
    linked: String(result.linked),
  });
  res.redirect(303, `${assignmentsUrl(v)}?${query.toString()}`);
};
