import express, { Router, type RequestHandler } from 'express';
import type { AppServices } from '../../app-services.ts';
import type { Logger } from '../../logger.ts';
import { requireCsrf, requireInstructor, sessionMiddleware } from '../middleware/session.ts';
import { alignmentPages } from './alignment.routes.ts';
import { showCourseHome } from './course/home.ts';
import { showRoster, syncRoster } from './course/roster.ts';
import { withDeps } from './course-layout.ts';
import { deepLinkingPages } from './deep-linking.routes.ts';
import { evidencePages } from './evidence.routes.ts';
import { masteryPages } from './mastery.routes.ts';
import { passbackPages } from './passback.routes.ts';

const form = express.urlencoded({ extended: false, limit: '256kb' });

/** Session pages are personal: never cache them, never send the URL (with its token) elsewhere. */
const privatePage: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store').set('Referrer-Policy', 'same-origin');
  next();
};

/** Pages of a launched session, under `/s/:sessionToken`. */
export function courseRoutes(deps: {
  services: AppServices;
  logger: Logger;
  publicUrl: string;
}): Router {
  const router = Router({ mergeParams: true });
  router.use(sessionMiddleware(deps.services));
  router.use(privatePage);

  router.get('/course', withDeps(deps, showCourseHome));
  router.get('/course/roster', requireInstructor, withDeps(deps, showRoster));
  router.post(
    '/course/roster/sync',
    form,
    requireInstructor,
    requireCsrf,
    withDeps(deps, syncRoster),
  );

  deepLinkingPages(router, deps);
  alignmentPages(router, deps);
  evidencePages(router, deps);
  masteryPages(router, deps);
  passbackPages(router, deps);

  return router;
}
