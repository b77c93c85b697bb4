import { Router, type ErrorRequestHandler, type RequestHandler } from 'express';
import type { AppServices } from '../../app-services.ts';
import type { AddOnDeps } from '../../classroom/add-on-deps.ts';
import { ClassroomError } from '../../classroom/errors.ts';
import type { Logger } from '../../logger.ts';
import { classroomSessionPages } from './classroom/session-pages.ts';
import { classroomSignInPages } from './classroom/sign-in-pages.ts';

// The admin page shows these URLs; they live with the add-on's other URL helpers.
export { classroomUrls } from './classroom/params.ts';

export interface ClassroomRoutesDeps {
  readonly services: AppServices;
  readonly logger: Logger;
  readonly publicUrl: string;
}

/** Sign-in pages carry one-time flow ids: never cache them, never send them elsewhere. */
const noStoreSameOrigin: RequestHandler = function privateSignInPage(_req, res, next) {
  res.set('Cache-Control', 'no-store').set('Referrer-Policy', 'same-origin');
  next();
};

/** ClassroomError → a page that says what happened and what to do (status by code). */
function classroomProblems(logger: Logger): ErrorRequestHandler {
  return function renderClassroomProblem(error, _req, res, next) {
    if (!(error instanceof ClassroomError)) {
      next(error);
      return;
    }
    logger.warn({ code: error.code, detail: error.detail }, 'classroom add-on refused');
    res.status(error.status).render('classroom/problem', {
      layout: 'tool',
      title: error.code === 'domain_not_allowed' ? 'Account not allowed' : 'Google Classroom',
      message: error.message,
      code: `classroom.${error.code}`,
    });
  };
}

/** Google Classroom add-on routes (`/classroom/...`) and its session pages (`/s/<token>/classroom/...`). */
export function classroomRoutes(deps: ClassroomRoutesDeps): Router {
  const { services, logger, publicUrl } = deps;
  const addOn: AddOnDeps = {
    classroom: services.classroom,
    sessions: services.sessions,
    people: services.people,
    logger,
  };
  const router = Router();
  router.use('/classroom', noStoreSameOrigin);
  classroomSignInPages(router, { addOn, publicUrl });
  router.use('/s/:sessionToken/classroom', classroomSessionPages({ services, addOn, publicUrl }));
  router.use(classroomProblems(logger));
  return router;
}
