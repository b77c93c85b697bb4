import express, { Router } from 'express';
import type { AppServices } from '../../app-services.ts';
import { syncCourseRoster } from '../../courses/roster.ts';
import type { Logger } from '../../logger.ts';
import {
  requireCsrf,
  requireInstructor,
  ROLE_LABELS,
  sessionMiddleware,
  viewer,
} from '../middleware/session.ts';
import { alignmentPages } from './alignment.routes.ts';
import { courseOf, layoutModel } from './course-layout.ts';
import { deepLinkingPages } from './deep-linking.routes.ts';
import { evidencePages } from './evidence.routes.ts';
import { masteryPages } from './mastery.routes.ts';
import { passbackPages } from './passback.routes.ts';

const form = express.urlencoded({ extended: false, limit: '256kb' });

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
    const roster = await services.courses.listRoster(v.tenantId, course.id);
    res.render('course/roster', {
      ...layoutModel(v, 'roster'),
      title: 'Roster',
      course: { title: course.title ?? 'Untitled course' },
      canSync: course.nrpsMembershipsUrl !== undefined,
      synced: typeof req.query.synced === 'string' ? req.query.synced : undefined,
      removedOnRequest:
        typeof req.query.removed === 'string'
          ? req.query.removed.split(',').filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))
          : [],
      people: roster.map((person) => ({
        name: person.name ?? 'Name not shared by the LMS',
        role: person.testUser ? 'Test student' : ROLE_LABELS[person.role],
        active: person.active,
        testUser: person.testUser,
      })),
    });
  });

  router.post('/course/roster/sync', form, requireInstructor, requireCsrf, async (req, res) => {
    const v = viewer(req);
    const course = await courseOf(services, v);
    const result = await syncCourseRoster(services, v.tenantId, course.id);
    const { removedOnRequest, ...counts } = result;
    logger.info(
      { tenantId: v.tenantId, courseId: course.id, ...counts, removed: removedOnRequest.length },
      'roster synced',
    );
    // Dates only: who they were is no longer known (deletion records are keyed hashes).
    const removed = removedOnRequest.map((date) => date.toISOString().slice(0, 10)).join(',');
    res.redirect(
      303,
      `${v.base}/course/roster?synced=${result.upserted}${removed === '' ? '' : `&removed=${removed}`}`,
    );
  });

  deepLinkingPages(router, deps);
  alignmentPages(router, deps);
  evidencePages(router, deps);
  masteryPages(router, deps);
  passbackPages(router, deps);

  return router;
}
