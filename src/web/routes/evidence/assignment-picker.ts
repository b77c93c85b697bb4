import { evidenceAssignments } from '../../../evidence/use-cases.ts';
import { launchedCourse, layoutModel, type CourseHandler } from '../course-layout.ts';

/** The evidence start page: the course's assignments, to pick an entry grid from. */

/** GET: the course's assignments with their aligned standards. */
export const listEvidenceAssignments: CourseHandler = async (deps, req, res) => {
  const { v, course } = await launchedCourse(deps, req);
  const assignments = await evidenceAssignments(deps.services.mastery, {
    tenantId: v.tenantId,
    courseId: course.id,
  });
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
};
