import type { Request } from 'express';
import { loadClassMastery, loadPathwayEvidence } from '../../../evidence/class-mastery.ts';
import { buildHeatmap, heatmapCsv, parseHeatmapQuery } from '../../../mastery-views/heatmap.ts';
import { levelStylesheet } from '../../../mastery-views/levels.ts';
import { buildPathways } from '../../../mastery-views/pathways.ts';
import {
  launchedCourse,
  layoutModel,
  type CourseHandler,
  type CoursePageDeps,
} from '../course-layout.ts';

/** The class side of mastery: the heatmap (and its CSV), pathways, the scale's colours. */

async function classOf(deps: CoursePageDeps, req: Request) {
  const { v, course } = await launchedCourse(deps, req);
  const mastery = await loadClassMastery(deps.services, {
    tenantId: v.tenantId,
    courseId: course.id,
  });
  return { v, course, mastery };
}

async function heatmapOf(deps: CoursePageDeps, req: Request) {
  const { v, course, mastery } = await classOf(deps, req);
  const heatmap = buildHeatmap({
    scale: mastery.policy.scale,
    students: mastery.students,
    standards: mastery.standards,
    ancestors: mastery.ancestors,
    results: mastery.results,
    query: parseHeatmapQuery(req.query),
  });
  return { v, course, mastery, heatmap };
}

/** GET the scale's colours as a stylesheet: the CSP allows no inline styles. */
export const levelsStylesheet: CourseHandler = async (deps, req, res) => {
  const { v, course } = await launchedCourse(deps, req);
  const policy = await deps.services.mastery.loadCoursePolicy(v.tenantId, course.id);
  res.type('text/css').send(levelStylesheet(policy.scale));
};

/** GET the class heatmap: students × standards. */
export const showHeatmap: CourseHandler = async (deps, req, res) => {
  const { v, course, mastery, heatmap } = await heatmapOf(deps, req);
  res.render('mastery/heatmap', {
    ...layoutModel(v, 'mastery'),
    title: 'Class mastery',
    styles: ['mastery'],
    course: { title: course.title ?? 'Untitled course' },
    minEvidence: mastery.policy.calculation.minEvidence,
    heatmap,
  });
};

/** GET the heatmap as a CSV download (BOM first, so spreadsheets read UTF-8). */
export const heatmapDownload: CourseHandler = async (deps, req, res) => {
  const { course, heatmap } = await heatmapOf(deps, req);
  const name = (course.label ?? course.title ?? 'course')
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .slice(0, 60);
  res
    .type('text/csv; charset=utf-8')
    .set('Content-Disposition', `attachment; filename="mastery-${name || 'course'}.csv"`)
    .send(`\uFEFF${heatmapCsv(heatmap)}`);
};

/** GET pathways: what each student is ready for next. */
export const showPathways: CourseHandler = async (deps, req, res) => {
  const { v, course, mastery } = await classOf(deps, req);
  const { aligned, evidenced } = await loadPathwayEvidence(deps.services, {
    tenantId: v.tenantId,
    courseId: course.id,
  });
  const pathways = buildPathways({
    scale: mastery.policy.scale,
    students: mastery.students,
    standards: mastery.standards,
    results: mastery.results,
    aligned,
    evidenced,
  });
  res.render('mastery/pathways', {
    ...layoutModel(v, 'mastery'),
    title: 'Pathways',
    styles: ['mastery'],
    course: { title: course.title ?? 'Untitled course' },
    standardCount: mastery.standards.length,
    pathways,
  });
};
