import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { AlignmentError } from '../../alignment/errors.ts';
import type { StandardSummary } from '../../alignment/picker.ts';
import type { Assignment } from '../../storage/courses/assignments.repository.ts';
import { HttpError } from '../errors.ts';
import { requireCsrf, requireInstructor, viewer, type ToolViewer } from '../middleware/session.ts';
import { courseOf, layoutModel, type CoursePageDeps } from './course-layout.ts';

const form = express.urlencoded({ extended: false, limit: '256kb' });

const SOURCE_LABELS: Readonly<Record<Assignment['source'], string>> = {
  lms_line_item: 'LMS gradebook column',
  deep_link: 'Added through Mastery Pathways',
  teacher: 'Created here',
};

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

const itemIdSchema = z.object({ itemId: z.string().min(1).max(100) });

function listOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' ? [value] : [];
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function firstQuery(req: Request, name: string): string | undefined {
  const value = req.query[name];
  return typeof value === 'string' ? value : undefined;
}

function toNotFound(error: unknown): never {
  if (
    error instanceof AlignmentError &&
    (error.code === 'assignment_not_found' || error.code === 'course_not_found')
  ) {
    throw new HttpError(404, 'not_found', error.message);
  }
  throw error;
}

/** A refusal the editor shows beside the form (422) rather than as an error page. */
function isRefusedInput(error: unknown): error is AlignmentError {
  return (
    error instanceof AlignmentError &&
    (error.code === 'invalid_input' || error.code === 'standard_unavailable')
  );
}

function standardLabel(standard: StandardSummary | undefined): string {
  if (standard === undefined) return 'A standard no longer in the district’s library';
  return [standard.code, standard.statement].filter((part) => part !== undefined).join(' ');
}

/** The alignment pages of a launched course: assignments, the alignment editor, coverage. */
export function alignmentPages(router: Router, deps: CoursePageDeps): void {
  const { services, logger } = deps;
  const alignment = services.alignment;

  const assignmentsUrl = (v: ToolViewer): string => `${v.base}/course/assignments`;
  const editorUrl = (v: ToolViewer, id: string): string => `${v.base}/course/assignments/${id}`;

  /** The viewer, the launched course and the assignment an editor route names. */
  async function assignmentOf(req: Request) {
    const v = viewer(req);
    const course = await courseOf(services, v);
    return { v, course, assignmentId: String(req.params.assignmentId) };
  }

  async function renderList(
    req: Request,
    res: Response,
    status: number,
    extra: {
      values?: { title: string; description: string; scoreMaximum: string };
      errors?: Record<string, string>;
      problem?: string;
    } = {},
  ): Promise<void> {
    const v = viewer(req);
    const course = await courseOf(services, v);
    const assignments = await alignment.listAssignments(v.tenantId, course.id);
    const alignments = await alignment.alignmentsForCourse(v.tenantId, course.id);
    const counts = new Map<string, number>();
    for (const a of alignments) counts.set(a.assignmentId, (counts.get(a.assignmentId) ?? 0) + 1);
    const refreshed = ['created', 'copied', 'linked'].every((k) => req.query[k] !== undefined)
      ? {
          created: Number(firstQuery(req, 'created')) || 0,
          copied: Number(firstQuery(req, 'copied')) || 0,
          linked: Number(firstQuery(req, 'linked')) || 0,
        }
      : undefined;
    res.status(status).render('alignment/assignments', {
      ...layoutModel(v, 'assignments'),
      title: 'Assignments',
      styles: ['alignment'],
      course: { title: course.title ?? 'Untitled course' },
      canRefresh: course.agsLineItemsUrl !== undefined,
      refreshed,
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
        standards: counts.get(a.id) ?? 0,
      })),
    });
  }

  async function renderEditor(
    req: Request,
    res: Response,
    status: number,
    extra: { problem?: string; fieldErrors?: Record<string, string> } = {},
  ): Promise<void> {
    const { v, course, assignmentId } = await assignmentOf(req);
    const assignment = await alignment.getAssignment(v.tenantId, course.id, assignmentId);
    if (assignment === undefined) {
      throw new HttpError(
        404,
        'not_found',
        'This assignment is not part of this course. Go back to the course’s assignments and pick it from the list.',
      );
    }
    const alignments = await alignment.alignmentsOf(v.tenantId, course.id, assignment.id);
    const aligned = new Set(alignments.map((a) => a.itemId));
    const standards = await alignment.describeStandards(v.tenantId, [...aligned]);
    const query = (firstQuery(req, 'q') ?? '').slice(0, 200);
    const results = query.trim() === '' ? [] : await alignment.searchStandards(v.tenantId, query);
    const suggestions = await alignment.suggestStandards(
      v.tenantId,
      { title: assignment.title, description: assignment.description },
      { limit: 5, exclude: aligned },
    );
    const added = firstQuery(req, 'added');
    const removed = firstQuery(req, 'removed');
    const addedLabel =
      added === undefined ? undefined : standardLabel(standards.get(added) ?? undefined);
    let notice: string | undefined;
    if (firstQuery(req, 'saved') !== undefined) notice = 'Alignments saved.';
    if (addedLabel !== undefined && aligned.has(added ?? ''))
      notice = `Added ${addedLabel}. Search again to add another standard.`;
    if (removed !== undefined) notice = 'Standard removed from this assignment.';
    if (firstQuery(req, 'already') !== undefined)
      notice = 'That standard was already tagged on this assignment.';
    res.status(status).render('alignment/editor', {
      ...layoutModel(v, 'assignments'),
      title: `Standards for ${assignment.title}`,
      styles: ['alignment'],
      scripts: ['standards-picker'],
      assignment: {
        id: assignment.id,
        title: assignment.title,
        description: assignment.description,
        source: SOURCE_LABELS[assignment.source],
        scoreMaximum: assignment.scoreMaximum,
        inGradebook: assignment.lineItemUrl !== undefined,
        copied: assignment.copiedFrom !== undefined,
      },
      assignmentsHref: assignmentsUrl(v),
      coverageHref: `${v.base}/course/coverage`,
      editorHref: editorUrl(v, assignment.id),
      searchUrl: `${v.base}/course/standards/search`,
      notice,
      problem: extra.problem,
      fieldErrors: extra.fieldErrors ?? {},
      focusPicker: added !== undefined,
      alignments: alignments.map((a) => {
        const standard = standards.get(a.itemId);
        return {
          itemId: a.itemId,
          code: standard?.code,
          statement: standard?.statement ?? 'A standard no longer in the district’s library',
          framework: standard?.frameworkTitle,
          archived: standard?.archived ?? true,
          label: standardLabel(standard),
          weight: String(a.weight),
          points: a.points === undefined ? '' : String(a.points),
          rubric: a.rubricCriterion ?? '',
        };
      }),
      query,
      searched: query.trim() !== '',
      results: results.map((r) => ({
        id: r.id,
        code: r.code,
        statement: r.statement,
        framework: r.frameworkTitle,
        aligned: aligned.has(r.id),
        label: standardLabel(r),
      })),
      suggestions: suggestions.map((s) => ({
        id: s.id,
        code: s.code,
        statement: s.statement,
        label: standardLabel(s),
      })),
    });
  }

  /** The standard an add or remove form names, or undefined once the editor says to choose one. */
  async function chosenItem(
    req: Request,
    res: Response,
    problem: string,
  ): Promise<string | undefined> {
    const parsed = itemIdSchema.safeParse(req.body);
    if (parsed.success) return parsed.data.itemId;
    await renderEditor(req, res, 422, { problem });
    return undefined;
  }

  router.get('/course/assignments', requireInstructor, async (req, res) => {
    await renderList(req, res, 200);
  });

  router.post('/course/assignments', form, requireInstructor, requireCsrf, async (req, res) => {
    const v = viewer(req);
    const course = await courseOf(services, v);
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
      await renderList(req, res, 422, { values, errors });
      return;
    }
    const created = await alignment.createTeacherAssignment({
      tenantId: v.tenantId,
      courseId: course.id,
      title: parsed.data.title,
      description: parsed.data.description === '' ? undefined : parsed.data.description,
      scoreMaximum: parsed.data.scoreMaximum,
      actor: v.user.id,
    });
    logger.info(
      { tenantId: v.tenantId, courseId: course.id, assignmentId: created.id },
      'teacher assignment created',
    );
    res.redirect(303, editorUrl(v, created.id));
  });

  router.post(
    '/course/assignments/refresh',
    form,
    requireInstructor,
    requireCsrf,
    async (req, res) => {
      const v = viewer(req);
      const course = await courseOf(services, v);
      try {
        const result = await alignment.discoverFromLms(v.tenantId, course.id, v.user.id);
        logger.info(
          { tenantId: v.tenantId, courseId: course.id, ...result },
          'assignments refreshed from the LMS',
        );
        const query = new URLSearchParams({
          created: String(result.created),
          copied: String(result.copied),
          linked: String(result.linked),
        });
        res.redirect(303, `${assignmentsUrl(v)}?${query.toString()}`);
      } catch (error) {
        if (error instanceof AlignmentError && error.code === 'lms_unavailable') {
          logger.warn(
            { tenantId: v.tenantId, courseId: course.id, err: error.cause },
            'assignments refresh failed',
          );
          await renderList(req, res, 502, { problem: error.message });
          return;
        }
        throw error;
      }
    },
  );

  router.get('/course/assignments/:assignmentId', requireInstructor, async (req, res) => {
    await renderEditor(req, res, 200);
  });

  router.post(
    '/course/assignments/:assignmentId/alignments',
    form,
    requireInstructor,
    requireCsrf,
    async (req, res) => {
      const { v, course, assignmentId } = await assignmentOf(req);
      const body = req.body as Record<string, unknown>;
      const number = (value: string): number => (value.trim() === '' ? NaN : Number(value));
      const alignments = listOf(body.items).map((itemId) => {
        const points = text(body[`points_${itemId}`]).trim();
        const rubric = text(body[`rubric_${itemId}`]).trim();
        return {
          itemId,
          weight: number(text(body[`weight_${itemId}`]) || '1'),
          points: points === '' ? undefined : number(points),
          rubricCriterion: rubric === '' ? undefined : rubric,
        };
      });
      try {
        await alignment.setAlignments(v.tenantId, course.id, assignmentId, alignments, v.user.id);
      } catch (error) {
        if (isRefusedInput(error)) {
          await renderEditor(req, res, 422, { problem: error.message, fieldErrors: error.fields });
          return;
        }
        toNotFound(error);
      }
      logger.info(
        { tenantId: v.tenantId, courseId: course.id, assignmentId, count: alignments.length },
        'alignments saved',
      );
      res.redirect(303, `${editorUrl(v, assignmentId)}?saved=1`);
    },
  );

  router.post(
    '/course/assignments/:assignmentId/alignments/add',
    form,
    requireInstructor,
    requireCsrf,
    async (req, res) => {
      const { v, course, assignmentId } = await assignmentOf(req);
      const itemId = await chosenItem(req, res, 'Choose a standard to add.');
      if (itemId === undefined) return;
      let outcome: 'added' | 'already_aligned';
      try {
        outcome = await alignment.addAlignment(
          v.tenantId,
          course.id,
          assignmentId,
          itemId,
          v.user.id,
        );
      } catch (error) {
        if (isRefusedInput(error)) {
          await renderEditor(req, res, 422, { problem: error.message });
          return;
        }
        toNotFound(error);
      }
      logger.info(
        { tenantId: v.tenantId, courseId: course.id, assignmentId, itemId },
        'standard aligned',
      );
      const query = new URLSearchParams({ added: itemId });
      if (outcome === 'already_aligned') query.set('already', '1');
      res.redirect(303, `${editorUrl(v, assignmentId)}?${query.toString()}#standard-search`);
    },
  );

  router.post(
    '/course/assignments/:assignmentId/alignments/remove',
    form,
    requireInstructor,
    requireCsrf,
    async (req, res) => {
      const { v, course, assignmentId } = await assignmentOf(req);
      const itemId = await chosenItem(req, res, 'Choose a standard to remove.');
      if (itemId === undefined) return;
      try {
        await alignment.removeAlignment(v.tenantId, course.id, assignmentId, itemId, v.user.id);
      } catch (error) {
        toNotFound(error);
      }
      res.redirect(303, `${editorUrl(v, assignmentId)}?removed=1`);
    },
  );

  /** JSON for the picker's combobox; the page works without it (GET search form). */
  router.get('/course/standards/search', requireInstructor, async (req, res) => {
    const v = viewer(req);
    const query = (firstQuery(req, 'q') ?? '').slice(0, 200);
    const hits = await alignment.searchStandards(v.tenantId, query);
    res.json({
      query,
      results: hits.map((hit) => ({
        id: hit.id,
        code: hit.code ?? null,
        statement: hit.statement,
        framework: hit.frameworkTitle,
        label: standardLabel(hit),
      })),
    });
  });

  router.get('/course/coverage', requireInstructor, async (req, res) => {
    const v = viewer(req);
    const course = await courseOf(services, v);
    const matrix = await alignment.coverage({
      tenantId: v.tenantId,
      courseId: course.id,
      frameworkId: firstQuery(req, 'framework'),
      groupId: firstQuery(req, 'group'),
    });
    res.render('alignment/coverage', {
      ...layoutModel(v, 'assignments'),
      title: 'Standards coverage',
      styles: ['alignment'],
      course: { title: course.title ?? 'Untitled course' },
      assignmentsHref: assignmentsUrl(v),
      matrix: {
        ...matrix,
        assignments: matrix.assignments.map((a) => ({ ...a, href: editorUrl(v, a.id) })),
      },
    });
  });
}
