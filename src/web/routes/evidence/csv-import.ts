import type { Request, Response } from 'express';
import { z } from 'zod';
import { CSV_COLUMNS, importEvidenceCsv, type ImportProblem } from '../../../evidence/imports.ts';
import { viewer } from '../../middleware/session.ts';
import { courseOf, launchedCourse, layoutModel, type CourseHandler } from '../course-layout.ts';
import { actorOf, body, textField } from './shared.ts';

const csvImportForm = z.object({ csv: textField });

/** Evidence pasted as CSV: the form, and the import (all rows saved or none). */

function renderImport(
  req: Request,
  res: Response,
  model: { status?: number; text?: string; problems?: readonly ImportProblem[]; notice?: string },
): void {
  res.status(model.status ?? 200).render('evidence/import', {
    ...layoutModel(viewer(req), 'evidence'),
    title: 'Import evidence from CSV',
    styles: ['evidence'],
    columns: CSV_COLUMNS,
    text: model.text ?? '',
    problems: model.problems ?? [],
    notice: model.notice,
  });
}

/** GET the CSV import form. */
export const showCsvImport: CourseHandler = async (deps, req, res) => {
  await courseOf(deps.services, viewer(req));
  renderImport(req, res, {});
};

/** POST a pasted CSV: every row checked, then all saved or none (problems listed by row). */
export const importCsv: CourseHandler = async (deps, req, res) => {
  const { v, course } = await launchedCourse(deps, req);
  const { csv: text } = csvImportForm.parse(body(req));
  const outcome = await importEvidenceCsv(deps.services.mastery, {
    tenantId: v.tenantId,
    courseId: course.id,
    actor: actorOf(v),
    text,
  });
  if (!outcome.ok) {
    deps.logger.info(
      { tenantId: v.tenantId, courseId: course.id, problems: outcome.problems.length },
      'evidence CSV rejected',
    );
    renderImport(req, res, { status: 422, text, problems: outcome.problems });
    return;
  }
  deps.logger.info(
    { tenantId: v.tenantId, courseId: course.id, saved: outcome.saved },
    'evidence CSV imported',
  );
  renderImport(req, res, {
    notice: `Imported ${outcome.rows} row${outcome.rows === 1 ? '' : 's'}: ${outcome.saved} saved, ${outcome.unchanged} unchanged.`,
  });
};
