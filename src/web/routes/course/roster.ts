import type { Request } from 'express';
import { syncCourseRoster } from '../../../courses/roster.ts';
import { ROLE_LABELS } from '../../middleware/session.ts';
import { launchedCourse, layoutModel, type CourseHandler } from '../course-layout.ts';

/** The course's roster as the tool knows it, and the teacher's "update the roster". */

/** Dates of people removed on request by the last sync (`?removed=`), only well-formed ones. */
function removedDates(req: Request): string[] {
  return typeof req.query.removed === 'string'
    ? req.query.removed.split(',').filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))
    : [];
}

/** GET the roster as the tool knows it. */
export const showRoster: CourseHandler = async (deps, req, res) => {
  const { v, course } = await launchedCourse(deps, req);
  const roster = await deps.services.courses.listRoster(v.tenantId, course.id);
  res.render('course/roster', {
    ...layoutModel(v, 'roster'),
    title: 'Roster',
    course: { title: course.title ?? 'Untitled course' },
    canSync: course.nrpsMembershipsUrl !== undefined,
    synced: typeof req.query.synced === 'string' ? req.query.synced : undefined,
    removedOnRequest: removedDates(req),
    people: roster.map((person) => ({
      name: person.name ?? 'Name not shared by the LMS',
      role: person.testUser ? 'Test student' : ROLE_LABELS[person.role],
      active: person.active,
      testUser: person.testUser,
    })),
  });
};

/** POST: the roster is read from the LMS now (a direct call; it may become a job later). */
export const syncRoster: CourseHandler = async (deps, req, res) => {
  const { v, course } = await launchedCourse(deps, req);
  const result = await syncCourseRoster(deps.services, v.tenantId, course.id);
  const { removedOnRequest, ...counts } = result;
  deps.logger.info(
    { tenantId: v.tenantId, courseId: course.id, ...counts, removed: removedOnRequest.length },
    'roster synced',
  );
  // Dates only: who they were is no longer known (deletion records are keyed hashes).
  const removed = removedOnRequest.map((date) => date.toISOString().slice(0, 10)).join(',');
  res.redirect(
    303,
    `${v.base}/course/roster?synced=${result.upserted}${removed === '' ? '' : `&removed=${removed}`}`,
  );
};
