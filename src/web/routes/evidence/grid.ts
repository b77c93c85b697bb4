import type { Request, Response } from 'express';
import type { CoursePolicy } from '../../../policy/course-policy.ts';
import { cellHelp, parseCell, type CellValue } from '../../../evidence/grid.ts';
import type { EvidenceEntry } from '../../../evidence/record.ts';
import {
  currentGridCells,
  findCourseAssignment,
  gridSetting,
  importLmsScores,
  recordGridEvidence,
  type AssignmentWithStandards,
  type CourseLearner,
} from '../../../evidence/use-cases.ts';
import { HttpError, notFound } from '../../errors.ts';
import type { ToolViewer } from '../../middleware/session.ts';
import {
  launchedCourse,
  layoutModel,
  type CourseHandler,
  type CoursePageDeps,
} from '../course-layout.ts';
import { actorOf, body, field, param, studentName } from './shared.ts';

/** The entry grid of one assignment: students × aligned standards, saved as a whole. */

const CELL = /^c_([0-9a-f-]{36})_([0-9a-f-]{36})$/i;

const cellName = (studentId: string, itemId: string): string => `c_${studentId}_${itemId}`;

const wantsJson = (req: Request): boolean => field(req, '_autosave') === '1';

/** What a valid cell records: a score, excused, or neither (an empty cell clears evidence). */
function recorded(cell: Exclude<CellValue, { kind: 'invalid' }>): {
  score: number | null;
  excused: boolean;
} {
  switch (cell.kind) {
    case 'empty':
      return { score: null, excused: false };
    case 'excused':
      return { score: null, excused: true };
    case 'score':
      return { score: cell.score, excused: false };
  }
}

interface GridCell {
  readonly name: string;
  readonly value: string;
  readonly error: string | undefined;
  readonly label: string;
}

/** The entry grid's view-model: students × aligned standards, with values and per-cell errors. */
function gridModel(
  assignment: AssignmentWithStandards,
  learners: readonly CourseLearner[],
  values: ReadonlyMap<string, string>,
  errors: ReadonlyMap<string, string>,
) {
  return {
    standards: assignment.standards.map((s) => ({
      id: s.itemId,
      code: s.code ?? s.statement.slice(0, 20),
      statement: s.statement,
    })),
    rows: learners.map((learner, r) => ({
      id: learner.userId,
      name: studentName(learner),
      active: learner.active,
      cells: assignment.standards.map((s, c): GridCell & { row: number; col: number } => {
        const name = cellName(learner.userId, s.itemId);
        return {
          name,
          value: values.get(name) ?? '',
          error: errors.get(name),
          label: `${studentName(learner)}, ${s.code ?? s.statement.slice(0, 40)}`,
          row: r,
          col: c,
        };
      }),
    })),
  };
}

/** The viewer, the launched course and the assignment a grid route names (else a 404). */
async function gridContext(deps: CoursePageDeps, req: Request) {
  const { v, course } = await launchedCourse(deps, req);
  const assignment = await findCourseAssignment(
    deps.services.mastery,
    { tenantId: v.tenantId, courseId: course.id },
    param(req, 'assignmentId'),
  );
  if (assignment === undefined) throw notFound('There is no such assignment in this course.');
  return { v, course, assignment };
}

type GridContext = Awaited<ReturnType<typeof gridContext>>;

interface GridOptions {
  status?: number;
  values?: ReadonlyMap<string, string>;
  errors?: ReadonlyMap<string, string>;
  notice?: string | undefined;
  summary?: string | undefined;
}

async function renderGrid(
  deps: CoursePageDeps,
  req: Request,
  res: Response,
  { v, course, assignment }: GridContext,
  options: GridOptions = {},
): Promise<void> {
  const { learners, policy } = await gridSetting(deps.services.mastery, {
    tenantId: v.tenantId,
    courseId: course.id,
  });
  const values = options.values ?? (await storedValues(deps, v, assignment, learners));
  const errors = options.errors ?? new Map<string, string>();
  const grid = gridModel(assignment, learners, values, errors);
  const labels = new Map(
    grid.rows.flatMap((row) => row.cells.map((c) => [c.name, c.label] as const)),
  );
  res.status(options.status ?? 200).render('evidence/grid', {
    ...layoutModel(v, 'evidence'),
    title: `Enter evidence: ${assignment.title}`,
    styles: ['evidence'],
    scripts: ['evidence-grid'],
    assignment: {
      id: assignment.id,
      title: assignment.title,
      canImport: assignment.lineItemUrl !== null,
    },
    grid,
    help: cellHelp(policy.scale),
    levels: policy.scale.levels.map((l) => ({ label: l.label, value: String(l.value) })),
    errorList: [...errors].map(([name, message]) => ({
      name,
      label: labels.get(name) ?? 'A cell for a student or standard not in this grid',
      message,
    })),
    notice:
      options.notice ??
      (typeof req.query.saved === 'string' ? `Saved: ${req.query.saved} changed.` : undefined),
    summary: options.summary,
  });
}

async function storedValues(
  deps: CoursePageDeps,
  v: ToolViewer,
  assignment: AssignmentWithStandards,
  learners: readonly CourseLearner[],
): Promise<Map<string, string>> {
  const cells = await currentGridCells(
    deps.services,
    { tenantId: v.tenantId, assignmentId: assignment.id },
    learners.map((l) => l.userId),
  );
  return new Map(cells.map((cell) => [cellName(cell.studentId, cell.itemId), cell.text]));
}

/** The typed cells: what was typed per cell, per-cell errors, and the entries of valid cells. */
function parseGrid(req: Request, assignment: AssignmentWithStandards, policy: CoursePolicy) {
  const aligned = new Set(assignment.standards.map((s) => s.itemId));
  const values = new Map<string, string>();
  const errors = new Map<string, string>();
  const entries: EvidenceEntry[] = [];
  const entryCell: string[] = [];
  for (const [name, raw] of Object.entries(body(req))) {
    const match = CELL.exec(name);
    if (match === null || typeof raw !== 'string') continue;
    const [, studentId = '', itemId = ''] = match;
    values.set(name, raw);
    if (!aligned.has(itemId)) {
      errors.set(name, 'This standard is not aligned to this assignment.');
      continue;
    }
    const parsed = parseCell(raw, policy.scale);
    if (parsed.kind === 'invalid') {
      errors.set(name, parsed.message);
      continue;
    }
    entries.push({ studentId, itemId, assignmentId: assignment.id, ...recorded(parsed) });
    entryCell.push(name);
  }
  return { values, errors, entries, entryCell };
}

/** GET the grid of one assignment. */
export const showGrid: CourseHandler = async (deps, req, res) => {
  await renderGrid(deps, req, res, await gridContext(deps, req));
};

/** POST the grid: every cell checked, then all saved or none (the autosave script wants JSON). */
export const saveGrid: CourseHandler = async (deps, req, res) => {
  const context = await gridContext(deps, req);
  const { v, course, assignment } = context;
  const policy = await deps.services.mastery.loadCoursePolicy(v.tenantId, course.id);
  const { values, errors, entries, entryCell } = parseGrid(req, assignment, policy);
  let saved = 0;
  if (errors.size === 0 && entries.length > 0) {
    const result = await recordGridEvidence(deps.services.mastery, {
      tenantId: v.tenantId,
      courseId: course.id,
      actor: actorOf(v),
      source: 'teacher',
      entries,
    });
    saved = result.saved;
    for (const problem of result.problems) {
      const name = entryCell[problem.index];
      if (name !== undefined) errors.set(name, problem.message);
    }
  }
  if (errors.size > 0) {
    const message = `${errors.size === 1 ? 'One cell needs' : `${errors.size} cells need`} correcting; nothing was saved.`;
    if (wantsJson(req)) {
      res.status(422).json({ ok: false, message, errors: Object.fromEntries(errors) });
      return;
    }
    await renderGrid(deps, req, res, context, { status: 422, values, errors, summary: message });
    return;
  }
  if (wantsJson(req)) {
    res.json({ ok: true, saved });
    return;
  }
  res.redirect(303, `${v.base}/course/evidence/${assignment.id}?saved=${saved}`);
};

/** POST: the assignment's LMS column scores become evidence; the grid shows the counts. */
export const importScoresFromLms: CourseHandler = async (deps, req, res) => {
  const context = await gridContext(deps, req);
  const { v, course, assignment } = context;
  const { lineItemUrl } = assignment;
  if (lineItemUrl === null) {
    throw new HttpError(
      400,
      'bad_request',
      'This assignment has no LMS gradebook column to read scores from.',
    );
  }
  const imported = await importLmsScores(deps.services, {
    tenantId: v.tenantId,
    courseId: course.id,
    actor: actorOf(v),
    assignment: { ...assignment, lineItemUrl },
  });
  if (!imported.ok) {
    deps.logger.warn(
      { tenantId: v.tenantId, courseId: course.id, code: imported.code },
      'reading LMS results failed',
    );
    await renderGrid(deps, req, res, context, {
      status: 502,
      summary: `The LMS did not give the scores (${imported.message}). Check that the tool may read results in this course, then try again.`,
    });
    return;
  }
  const { outcome } = imported;
  deps.logger.info(
    { tenantId: v.tenantId, courseId: course.id, ...outcome },
    'LMS scores imported',
  );
  const parts = [`Imported LMS scores: ${outcome.saved} saved, ${outcome.unchanged} unchanged`];
  if (outcome.ungraded > 0) parts.push(`${outcome.ungraded} not graded yet`);
  if (outcome.unknownUsers > 0)
    parts.push(
      `${outcome.unknownUsers} from people who are not students here yet (update the roster)`,
    );
  await renderGrid(deps, req, res, context, { notice: `${parts.join('; ')}.` });
};
