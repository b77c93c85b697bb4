import type { Request, Response } from 'express';
import { z } from 'zod';
import { assignmentEditor } from '../../../alignment/course-assignments.ts';
import {
  launchedCourse,
  layoutModel,
  type CourseHandler,
  type CoursePageDeps,
} from '../course-layout.ts';
import {
  assignmentsUrl,
  editorUrl,
  firstQuery,
  isRefusedInput,
  listOf,
  SOURCE_LABELS,
  standardLabel,
  text,
} from './shared.ts';

/** One assignment's alignment editor: its standards (weights, points, rubric), search, suggestions. */

const itemIdSchema = z.object({ itemId: z.string().min(1).max(100) });

/** The viewer, the launched course and the assignment an editor route names. */
async function assignmentOf(deps: CoursePageDeps, req: Request) {
  const { v, course } = await launchedCourse(deps, req);
  return { v, course, assignmentId: String(req.params.assignmentId) };
}

type Editor = Awaited<ReturnType<typeof assignmentEditor>>;

/** The notice of what was just done (`?saved`, `?added=<id>`, `?removed`, `?already`). */
function editorNotice(req: Request, editor: Editor): string | undefined {
  const added = firstQuery(req, 'added');
  const addedLabel =
    added === undefined ? undefined : standardLabel(editor.standards.get(added) ?? undefined);
  let notice: string | undefined;
  if (firstQuery(req, 'saved') !== undefined) notice = 'Alignments saved.';
  if (addedLabel !== undefined && editor.aligned.has(added ?? ''))
    notice = `Added ${addedLabel}. Search again to add another standard.`;
  if (firstQuery(req, 'removed') !== undefined) notice = 'Standard removed from this assignment.';
  if (firstQuery(req, 'already') !== undefined)
    notice = 'That standard was already tagged on this assignment.';
  return notice;
}

/** The editor's standards: aligned ones with their settings, search hits, suggestions. */
function standardsModel(editor: Editor) {
  return {
    alignments: editor.alignments.map((a) => {
      const standard = editor.standards.get(a.itemId);
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
    results: editor.results.map((r) => ({
      id: r.id,
      code: r.code,
      statement: r.statement,
      framework: r.frameworkTitle,
      aligned: editor.aligned.has(r.id),
      label: standardLabel(r),
    })),
    suggestions: editor.suggestions.map((s) => ({
      id: s.id,
      code: s.code,
      statement: s.statement,
      label: standardLabel(s),
    })),
  };
}

async function renderEditor(
  deps: CoursePageDeps,
  req: Request,
  res: Response,
  status: number,
  extra: { problem?: string; fieldErrors?: Readonly<Record<string, string>> } = {},
): Promise<void> {
  const { v, course, assignmentId } = await assignmentOf(deps, req);
  const query = (firstQuery(req, 'q') ?? '').slice(0, 200);
  const editor = await assignmentEditor(
    deps.services.alignment,
    { tenantId: v.tenantId, courseId: course.id },
    assignmentId,
    query,
  );
  const { assignment } = editor;
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
    notice: editorNotice(req, editor),
    problem: extra.problem,
    fieldErrors: extra.fieldErrors ?? {},
    focusPicker: firstQuery(req, 'added') !== undefined,
    query,
    searched: query.trim() !== '',
    ...standardsModel(editor),
  });
}

/** The standard an add or remove form names, or undefined once the editor says to choose one. */
async function chosenItem(
  deps: CoursePageDeps,
  req: Request,
  res: Response,
  problem: string,
): Promise<string | undefined> {
  const parsed = itemIdSchema.safeParse(req.body);
  if (parsed.success) return parsed.data.itemId;
  await renderEditor(deps, req, res, 422, { problem });
  return undefined;
}

/** GET the editor. */
export const showEditor: CourseHandler = async (deps, req, res) => {
  await renderEditor(deps, req, res, 200);
};

/** The alignments the editor form sent: per standard its weight, points and rubric criterion. */
function sentAlignments(req: Request) {
  const body = req.body as Record<string, unknown>;
  const number = (value: string): number => (value.trim() === '' ? NaN : Number(value));
  return listOf(body.items).map((itemId) => {
    const points = text(body[`points_${itemId}`]).trim();
    const rubric = text(body[`rubric_${itemId}`]).trim();
    return {
      itemId,
      weight: number(text(body[`weight_${itemId}`]) || '1'),
      points: points === '' ? undefined : number(points),
      rubricCriterion: rubric === '' ? undefined : rubric,
    };
  });
}

/** POST the whole set of alignments; a refused one shows the editor again with why. */
export const saveAlignments: CourseHandler = async (deps, req, res) => {
  const { v, course, assignmentId } = await assignmentOf(deps, req);
  const alignments = sentAlignments(req);
  try {
    await deps.services.alignment.setAlignments(
      v.tenantId,
      course.id,
      assignmentId,
      alignments,
      v.user.id,
    );
  } catch (error) {
    if (!isRefusedInput(error)) throw error;
    await renderEditor(deps, req, res, 422, { problem: error.message, fieldErrors: error.fields });
    return;
  }
  deps.logger.info(
    { tenantId: v.tenantId, courseId: course.id, assignmentId, count: alignments.length },
    'alignments saved',
  );
  res.redirect(303, `${editorUrl(v, assignmentId)}?saved=1`);
};

/** POST one standard to align (from search or suggestions); back to the picker. */
export const addAlignment: CourseHandler = async (deps, req, res) => {
  const { v, course, assignmentId } = await assignmentOf(deps, req);
  const itemId = await chosenItem(deps, req, res, 'Choose a standard to add.');
  if (itemId === undefined) return;
  let outcome: 'added' | 'already_aligned';
  try {
    outcome = await deps.services.alignment.addAlignment(
      v.tenantId,
      course.id,
      assignmentId,
      itemId,
      v.user.id,
    );
  } catch (error) {
    if (!isRefusedInput(error)) throw error;
    await renderEditor(deps, req, res, 422, { problem: error.message });
    return;
  }
  deps.logger.info(
    { tenantId: v.tenantId, courseId: course.id, assignmentId, itemId },
    'standard aligned',
  );
  const query = new URLSearchParams({ added: itemId });
  if (outcome === 'already_aligned') query.set('already', '1');
  res.redirect(303, `${editorUrl(v, assignmentId)}?${query.toString()}#standard-search`);
};

/** POST one standard to remove from the assignment. */
export const removeAlignment: CourseHandler = async (deps, req, res) => {
  const { v, course, assignmentId } = await assignmentOf(deps, req);
  const itemId = await chosenItem(deps, req, res, 'Choose a standard to remove.');
  if (itemId === undefined) return;
  await deps.services.alignment.removeAlignment(
    v.tenantId,
    course.id,
    assignmentId,
    itemId,
    v.user.id,
  );
  res.redirect(303, `${editorUrl(v, assignmentId)}?removed=1`);
};
