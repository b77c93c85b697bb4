import express, { type Request, type Response, type Router } from 'express';
import type { CoursePolicy } from '../../policy/course-policy.ts';
import { cellHelp, formatCell, parseCell, type CellValue } from '../../evidence/grid.ts';
import {
  CSV_COLUMNS,
  importEvidenceCsv,
  importLmsResults,
  type ImportProblem,
} from '../../evidence/imports.ts';
import { readLineItemResults } from '../../evidence/lms-results.ts';
import { EvidenceError } from '../../evidence/errors.ts';
import type { EvidenceEntry } from '../../evidence/record.ts';
import { LmsHttpError, LtiError } from '../../lti/errors.ts';
import { describeMethod } from '../../mastery/index.ts';
import {
  type AssignmentWithStandards,
  type CourseLearner,
} from '../../storage/mastery/course-context.repository.ts';
import { createEvidenceRepository } from '../../storage/mastery/evidence.repository.ts';
import { HttpError, notFound } from '../errors.ts';
import { requireCsrf, requireInstructor, viewer, type ToolViewer } from '../middleware/session.ts';
import { describePolicy, formValues, policyFromForm, type FormBody } from '../policy-form.ts';
import {
  changedAtLabel,
  policyChoices,
  recalculationPage,
  savePolicyForm,
} from '../policy-page.ts';
import { courseOf, layoutModel, type CoursePageDeps } from './course-layout.ts';
import { isUuid } from '../../ids.ts';

/** The grid posts one field per cell: 35 students × 40 standards and more. */
const gridForm = express.urlencoded({ extended: false, limit: '1mb', parameterLimit: 20_000 });
const smallForm = express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 600 });
const csvForm = express.urlencoded({ extended: false, limit: '3mb', parameterLimit: 10 });

const CELL = /^c_([0-9a-f-]{36})_([0-9a-f-]{36})$/i;

const cellName = (studentId: string, itemId: string): string => `c_${studentId}_${itemId}`;

function studentName(learner: CourseLearner): string {
  return learner.name ?? learner.givenName ?? `Student ${learner.sub.slice(0, 12)}`;
}

function param(req: Request, name: string): string {
  const value: unknown = (req.params as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
}

function body(req: Request): FormBody {
  const value: unknown = req.body;
  return typeof value === 'object' && value !== null ? (value as FormBody) : {};
}

function field(req: Request, name: string): string {
  const value = body(req)[name];
  return typeof value === 'string' ? value : '';
}

const wantsJson = (req: Request): boolean => field(req, '_autosave') === '1';

/** Opaque id of a person for `recorded_by` / `changed_by`: the tool's user id, never a name. */
const actorOf = (v: ToolViewer): string => v.user.id;

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

/** The evidence pages of a launched course: the entry grid, imports, the course policy, overrides. */
export function evidencePages(router: Router, deps: CoursePageDeps): void {
  const { services, logger } = deps;
  const mastery = services.mastery;

  async function loadAssignment(v: ToolViewer, courseId: string, assignmentId: string) {
    if (!isUuid(assignmentId)) throw notFound('There is no such assignment in this course.');
    const [assignment] = await mastery.courseContext.assignments(v.tenantId, courseId, [
      assignmentId,
    ]);
    if (assignment === undefined) throw notFound('There is no such assignment in this course.');
    return assignment;
  }

  async function storedValues(
    v: ToolViewer,
    assignment: AssignmentWithStandards,
    learners: readonly CourseLearner[],
  ) {
    const rows = await createEvidenceRepository(services.db, services.now).findAssignmentCells(
      v.tenantId,
      assignment.id,
      learners.map((l) => l.userId),
      false,
    );
    const values = new Map<string, string>();
    for (const row of rows) {
      if (row.deleted_at === null)
        values.set(cellName(row.student_id, row.item_id), formatCell(row));
    }
    return values;
  }

  /** The viewer, the launched course and the assignment a grid route names (else a 404). */
  async function gridContext(req: Request) {
    const v = viewer(req);
    const course = await courseOf(services, v);
    const assignment = await loadAssignment(v, course.id, param(req, 'assignmentId'));
    return { v, course, assignment };
  }

  async function renderGrid(
    req: Request,
    res: Response,
    options: {
      status?: number;
      values?: ReadonlyMap<string, string>;
      errors?: ReadonlyMap<string, string>;
      notice?: string | undefined;
      summary?: string | undefined;
    } = {},
  ) {
    const { v, course, assignment } = await gridContext(req);
    const [learners, policy] = await Promise.all([
      mastery.courseContext.learners(v.tenantId, course.id),
      mastery.loadCoursePolicy(v.tenantId, course.id),
    ]);
    const values = options.values ?? (await storedValues(v, assignment, learners));
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

  // --- Assignment picker -----------------------------------------------------------------
  router.get('/course/evidence', requireInstructor, async (req, res) => {
    const v = viewer(req);
    const course = await courseOf(services, v);
    const assignments = await mastery.courseContext.assignments(v.tenantId, course.id);
    res.render('evidence/index', {
      ...layoutModel(v, 'evidence'),
      title: 'Evidence',
      styles: ['evidence'],
      course: { title: course.title ?? 'Untitled course' },
      assignments: assignments.map((a) => ({
        id: a.id,
        title: a.title,
        archived: a.archived,
        standards: a.standards.map((s) => s.code ?? s.statement.slice(0, 30)).join(', '),
        standardCount: a.standards.length,
      })),
    });
  });

  // --- CSV import --------------------------------------------------------------------------
  const renderImport = (
    req: Request,
    res: Response,
    model: { status?: number; text?: string; problems?: readonly ImportProblem[]; notice?: string },
  ) => {
    const v = viewer(req);
    res.status(model.status ?? 200).render('evidence/import', {
      ...layoutModel(v, 'evidence'),
      title: 'Import evidence from CSV',
      styles: ['evidence'],
      columns: CSV_COLUMNS,
      text: model.text ?? '',
      problems: model.problems ?? [],
      notice: model.notice,
    });
  };

  router.get('/course/evidence/import', requireInstructor, async (req, res) => {
    await courseOf(services, viewer(req));
    renderImport(req, res, {});
  });

  router.post(
    '/course/evidence/import',
    csvForm,
    requireInstructor,
    requireCsrf,
    async (req, res) => {
      const v = viewer(req);
      const course = await courseOf(services, v);
      const text = field(req, 'csv');
      const outcome = await importEvidenceCsv(mastery, {
        tenantId: v.tenantId,
        courseId: course.id,
        actor: actorOf(v),
        text,
      });
      if (!outcome.ok) {
        logger.info(
          { tenantId: v.tenantId, courseId: course.id, problems: outcome.problems.length },
          'evidence CSV rejected',
        );
        renderImport(req, res, { status: 422, text, problems: outcome.problems });
        return;
      }
      logger.info(
        { tenantId: v.tenantId, courseId: course.id, saved: outcome.saved },
        'evidence CSV imported',
      );
      renderImport(req, res, {
        notice: `Imported ${outcome.rows} row${outcome.rows === 1 ? '' : 's'}: ${outcome.saved} saved, ${outcome.unchanged} unchanged.`,
      });
    },
  );

  // --- Entry grid ----------------------------------------------------------------------------
  router.get('/course/evidence/:assignmentId', requireInstructor, async (req, res) => {
    await renderGrid(req, res);
  });

  router.post(
    '/course/evidence/:assignmentId',
    gridForm,
    requireInstructor,
    requireCsrf,
    async (req, res) => {
      const { v, course, assignment } = await gridContext(req);
      const policy: CoursePolicy = await mastery.loadCoursePolicy(v.tenantId, course.id);
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
      let saved = 0;
      if (errors.size === 0 && entries.length > 0) {
        try {
          const result = await mastery.recordEvidence({
            tenantId: v.tenantId,
            courseId: course.id,
            actor: actorOf(v),
            source: 'teacher',
            entries,
          });
          saved = result.saved;
        } catch (error) {
          if (!(error instanceof EvidenceError) || error.code !== 'invalid_entries') throw error;
          for (const problem of error.problems) {
            const name = entryCell[problem.index];
            if (name !== undefined) errors.set(name, problem.message);
          }
        }
      }
      if (errors.size > 0) {
        const message = `${errors.size === 1 ? 'One cell needs' : `${errors.size} cells need`} correcting; nothing was saved.`;
        if (wantsJson(req)) {
          res.status(422).json({ ok: false, message, errors: Object.fromEntries(errors) });
          return;
        }
        await renderGrid(req, res, { status: 422, values, errors, summary: message });
        return;
      }
      if (wantsJson(req)) {
        res.json({ ok: true, saved });
        return;
      }
      res.redirect(303, `${v.base}/course/evidence/${assignment.id}?saved=${saved}`);
    },
  );

  router.post(
    '/course/evidence/:assignmentId/import-lms',
    smallForm,
    requireInstructor,
    requireCsrf,
    async (req, res) => {
      const { v, course, assignment } = await gridContext(req);
      if (assignment.lineItemUrl === null) {
        throw new HttpError(
          400,
          'bad_request',
          'This assignment has no LMS gradebook column to read scores from.',
        );
      }
      let results;
      try {
        results = await readLineItemResults(
          services,
          v.tenantId,
          course.id,
          assignment.lineItemUrl,
        );
      } catch (error) {
        if (error instanceof LtiError || error instanceof LmsHttpError) {
          const code =
            error instanceof LtiError
              ? error.code
              : `http_${error.kind}_${String(error.status ?? '')}`;
          logger.warn(
            { tenantId: v.tenantId, courseId: course.id, code },
            'reading LMS results failed',
          );
          await renderGrid(req, res, {
            status: 502,
            summary: `The LMS did not give the scores (${error.message}). Check that the tool may read results in this course, then try again.`,
          });
          return;
        }
        throw error;
      }
      const outcome = await importLmsResults(mastery, {
        tenantId: v.tenantId,
        courseId: course.id,
        actor: actorOf(v),
        assignment,
        results,
        lineItemMaximum: undefined,
      });
      logger.info({ tenantId: v.tenantId, courseId: course.id, ...outcome }, 'LMS scores imported');
      const parts = [`Imported LMS scores: ${outcome.saved} saved, ${outcome.unchanged} unchanged`];
      if (outcome.ungraded > 0) parts.push(`${outcome.ungraded} not graded yet`);
      if (outcome.unknownUsers > 0)
        parts.push(
          `${outcome.unknownUsers} from people who are not students here yet (update the roster)`,
        );
      await renderGrid(req, res, { notice: `${parts.join('; ')}.` });
    },
  );

  // --- Course policy ---------------------------------------------------------------------------
  async function renderPolicy(
    req: Request,
    res: Response,
    options: {
      status?: number;
      values?: Record<string, string>;
      errors?: Record<string, string>;
      summary?: string;
    } = {},
  ) {
    const v = viewer(req);
    const course = await courseOf(services, v);
    const [stored, districtPolicy, changes, latestJob, assignments] = await Promise.all([
      mastery.storedPolicies(v.tenantId, course.id),
      mastery.loadCoursePolicy(v.tenantId, null),
      mastery.policyChanges(v.tenantId, course.id),
      mastery.latestJob(v.tenantId, course.id),
      mastery.courseContext.assignments(v.tenantId, course.id),
    ]);
    let effective: CoursePolicy | undefined;
    let policyProblem: string | undefined;
    try {
      effective = await mastery.loadCoursePolicy(v.tenantId, course.id);
    } catch (error) {
      policyProblem = error instanceof Error ? error.message : String(error);
    }
    const standards = new Map<string, string>();
    for (const a of assignments)
      for (const s of a.standards) standards.set(s.itemId, s.code ?? s.statement.slice(0, 40));
    const power = new Set(stored.course?.powerStandardIds ?? []);
    res.status(options.status ?? 200).render('evidence/policy', {
      ...layoutModel(v, 'evidence'),
      title: 'Course mastery policy',
      styles: ['evidence'],
      district: describePolicy(districtPolicy),
      effective:
        effective === undefined
          ? undefined
          : { method: describeMethod(effective.calculation.method) },
      policyProblem,
      hasOverride: stored.course !== undefined,
      values: options.values ?? formValues(stored.course ?? {}, districtPolicy, false),
      errors: options.errors ?? {},
      summary: options.summary,
      ...policyChoices(),
      standards: [...standards].map(([id, label]) => ({ id, label, checked: power.has(id) })),
      powerSet: stored.course?.powerStandardIds !== undefined,
      changes: changes.map((c) => ({
        by: c.changedBy === v.user.id ? 'You' : 'Another teacher',
        at: changedAtLabel(c.changedAt),
      })),
      job:
        latestJob === undefined
          ? undefined
          : {
              id: latestJob.id,
              status: latestJob.status,
              done: latestJob.done,
              total: latestJob.total,
            },
    });
  }

  router.get('/course/policy', requireInstructor, async (req, res) => {
    await renderPolicy(req, res);
  });

  router.post('/course/policy', smallForm, requireInstructor, requireCsrf, async (req, res) => {
    const v = viewer(req);
    const course = await courseOf(services, v);
    const reset = field(req, 'reset') === '1';
    const { policy, errors } = reset
      ? { policy: null, errors: {} }
      : policyFromForm(body(req), { district: false });
    const job = await savePolicyForm(
      mastery,
      { tenantId: v.tenantId, courseId: course.id, actor: actorOf(v) },
      { body: body(req), policy, errors },
      (refused) => renderPolicy(req, res, refused),
    );
    if (job === undefined) return;
    logger.info(
      { tenantId: v.tenantId, courseId: course.id, jobId: job.id },
      'course policy changed',
    );
    res.redirect(303, `${v.base}/course/policy/jobs/${job.id}`);
  });

  router.get('/course/policy/jobs/:jobId', requireInstructor, async (req, res) => {
    const v = viewer(req);
    const course = await courseOf(services, v);
    const job = await mastery.job(v.tenantId, param(req, 'jobId'));
    // A district-wide recalculation is the district admin's to watch, not a course's.
    if (job === undefined || job.courseId !== course.id) {
      throw notFound('There is no such recalculation for this course.');
    }
    res.render('evidence/job', {
      ...layoutModel(v, 'evidence'),
      title: 'Recalculating mastery',
      ...recalculationPage(job),
      backHref: `${v.base}/course/policy`,
    });
  });

  // --- Teacher override ------------------------------------------------------------------------
  async function overrideContext(req: Request) {
    const v = viewer(req);
    const course = await courseOf(services, v);
    const studentId = param(req, 'studentId');
    const itemId = param(req, 'itemId');
    const [learners, item] = await Promise.all([
      isUuid(studentId)
        ? mastery.courseContext.learners(v.tenantId, course.id, [studentId])
        : Promise.resolve([]),
      mastery.courseContext.item(v.tenantId, itemId),
    ]);
    const learner = learners[0];
    if (learner === undefined || item === undefined)
      throw notFound('There is no such student or standard in this course.');
    return { v, course, learner, item, studentId, itemId };
  }

  async function renderOverride(
    req: Request,
    res: Response,
    options: {
      status?: number;
      levelId?: string;
      reason?: string;
      errors?: Record<string, string>;
      notice?: string;
    } = {},
  ) {
    const { v, course, learner, item, studentId, itemId } = await overrideContext(req);
    const [policy, current] = await Promise.all([
      mastery.loadCoursePolicy(v.tenantId, course.id),
      mastery.currentResult(v.tenantId, course.id, studentId, itemId),
    ]);
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

  const overridePath = '/course/students/:studentId/standards/:itemId/override';
  router.get(overridePath, requireInstructor, async (req, res) => {
    await renderOverride(req, res, {
      notice:
        req.query.saved === '1'
          ? 'Override saved.'
          : req.query.cleared === '1'
            ? 'Override removed: the computed level counts again.'
            : undefined,
    });
  });

  router.post(overridePath, smallForm, requireInstructor, requireCsrf, async (req, res) => {
    const { v, course, studentId, itemId } = await overrideContext(req);
    const levelId = field(req, 'levelId');
    const reason = field(req, 'reason');
    const errors: Record<string, string> = {};
    if (levelId === '') errors.levelId = 'Choose a level.';
    if (reason.trim() === '')
      errors.reason = 'Give a reason: other teachers and the student see why the level was set.';
    if (Object.keys(errors).length === 0) {
      try {
        await mastery.setOverride({
          tenantId: v.tenantId,
          courseId: course.id,
          studentId,
          itemId,
          levelId,
          reason,
          actor: actorOf(v),
        });
        res.redirect(
          303,
          `${v.base}${overridePath.replace(':studentId', studentId).replace(':itemId', itemId)}?saved=1`,
        );
        return;
      } catch (error) {
        if (!(error instanceof EvidenceError) || error.code !== 'invalid_override') throw error;
        errors[
          levelId === '' ? 'levelId' : error.message.includes('reason') ? 'reason' : 'levelId'
        ] = error.message;
      }
    }
    await renderOverride(req, res, { status: 422, levelId, reason, errors });
  });

  router.post(
    `${overridePath}/clear`,
    smallForm,
    requireInstructor,
    requireCsrf,
    async (req, res) => {
      const { v, course, studentId, itemId } = await overrideContext(req);
      await mastery.clearOverride({
        tenantId: v.tenantId,
        courseId: course.id,
        studentId,
        itemId,
        actor: actorOf(v),
      });
      res.redirect(
        303,
        `${v.base}${overridePath.replace(':studentId', studentId).replace(':itemId', itemId)}?cleared=1`,
      );
    },
  );
}
