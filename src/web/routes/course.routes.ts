import express, { Router } from 'express';
import type { AppServices } from '../../app-services.ts';
import { syncCourseRoster } from '../../courses/roster.ts';
import type { Logger } from '../../logger.ts';
import { HttpError } from '../errors.ts';
import { deepLinkingPages } from './deep-linking.routes.ts';
import {
  requireCsrf,
  requireInstructor,
  ROLE_LABELS,
  roleLabel,
  sessionMiddleware,
  viewer,
  type ToolViewer,
} from '../middleware/session.ts';

const form = express.urlencoded({ extended: false, limit: '256kb' });

function layoutModel(v: ToolViewer, current: string) {
  const nav = [{ href: `${v.base}/course`, label: 'Course', current: current === 'course' }];
  if (v.isInstructor || v.isAdministrator) {
    nav.push({ href: `${v.base}/course/roster`, label: 'Roster', current: current === 'roster' });
  }
  if (v.isAdministrator) {
    nav.push({ href: `${v.base}/admin`, label: 'District admin', current: false });
  }
  return {
    layout: 'tool',
    nav,
    viewer: { name: v.user.name ?? 'Signed in', roleLabel: roleLabel(v) },
    base: v.base,
    csrf: v.session.csrfSecret,
  };
}

async function courseOf(services: AppServices, v: ToolViewer) {
  if (v.session.courseId === undefined) {
    throw new HttpError(
      404,
      'not_found',
      'This launch did not come from a course. Open Mastery Pathways from a course in your LMS.',
    );
  }
  const course = await services.people.findCourseById(v.tenantId, v.session.courseId);
  if (course === undefined) throw new HttpError(404, 'not_found', 'This course is not known here.');
  return course;
}

/** Pages of a launched session, under `/s/:sessionToken`. */
export function courseRoutes(deps: {
  services: AppServices;
  logger: Logger;
  publicUrl: string;
}): Router {
  const { services, logger } = deps;
  const router = Router({ mergeParams: true });
  router.use(sessionMiddleware(services));
  router.use((_req, res, next) => {
    // Session pages are personal: never cache them, never send the URL (with its token) elsewhere.
    res.set('Cache-Control', 'no-store').set('Referrer-Policy', 'same-origin');
    next();
  });

  router.get('/course', async (req, res) => {
    const v = viewer(req);
    const course = await courseOf(services, v);
    res.render('course/home', {
      ...layoutModel(v, 'course'),
      title: course.title ?? 'Course',
      course: { title: course.title ?? 'Untitled course', label: course.label },
      isTeacher: v.isInstructor || v.isAdministrator,
      hasRoster: course.nrpsMembershipsUrl !== undefined,
      hasGradebook: course.agsLineItemsUrl !== undefined,
    });
  });

  router.get('/course/roster', requireInstructor, async (req, res) => {
    const v = viewer(req);
    const course = await courseOf(services, v);
    const roster = await services.people.listRoster(v.tenantId, course.id);
    res.render('course/roster', {
      ...layoutModel(v, 'roster'),
      title: 'Roster',
      course: { title: course.title ?? 'Untitled course' },
      canSync: course.nrpsMembershipsUrl !== undefined,
      synced: typeof req.query.synced === 'string' ? req.query.synced : undefined,
      people: roster.map((person) => ({
        name: person.name ?? 'Name not shared by the LMS',
        role: ROLE_LABELS[person.role],
        active: person.active,
      })),
    });
  });

  router.post('/course/roster/sync', form, requireInstructor, requireCsrf, async (req, res) => {
    const v = viewer(req);
    const course = await courseOf(services, v);
    const result = await syncCourseRoster(services, v.tenantId, course.id);
    logger.info({ tenantId: v.tenantId, courseId: course.id, ...result }, 'roster synced');
    res.redirect(303, `${v.base}/course/roster?synced=${result.upserted}`);
  });

  deepLinkingPages(router, deps);

  return router;
}
