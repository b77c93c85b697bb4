import { viewer } from '../../middleware/session.ts';
import { launchedCourse, layoutModel, type CourseHandler } from '../course-layout.ts';
import { assignmentsUrl, editorUrl, firstQuery, standardLabel } from './shared.ts';

/** The district's standards seen from a course: the picker's search (JSON) and coverage. */

/** GET JSON for the picker's combobox; the page works without it (GET search form). */
export const searchStandards: CourseHandler = async (deps, req, res) => {
  const v = viewer(req);
  const query = (firstQuery(req, 'q') ?? '').slice(0, 200);
  const hits = await deps.services.alignment.searchStandards(v.tenantId, query);
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
};

/** GET the coverage matrix: which standards the course's assignments assess, and how often. */
export const showCoverage: CourseHandler = async (deps, req, res) => {
  const { v, course } = await launchedCourse(deps, req);
  const matrix = await deps.services.alignment.coverage({
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
};
