import express, { type Express } from 'express';
import type { AppServices } from '../app-services.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { paths } from '../paths.ts';
import type { Readiness } from '../readiness.ts';
import type { AdminDatabase } from '../lti-admin/admin-area.ts';
import { errorBoundary, unmatchedRoute } from './middleware/error-boundary.ts';
import {
  httpMetrics,
  requestContextMiddleware,
  requestLogging,
} from './middleware/observability.ts';
import { securityHeaders } from './middleware/security.ts';
import { healthRoutes } from './routes/health.routes.ts';
import { homeRoutes } from './routes/home.routes.ts';
import { courseRoutes } from './routes/course.routes.ts';
import { ltiRoutes } from './routes/lti.routes.ts';
import { adminRoutes, launchedAdminRoutes } from './routes/admin.routes.ts';
import { classroomRoutes } from './routes/classroom.routes.ts';
import { registrationRoutes } from './routes/registration.routes.ts';
import { layoutEngine } from './views.ts';

export interface AppDeps {
  readonly logger: Logger;
  /** The database handle (the admin pages pass its `db` to their use cases). */
  readonly database: { readonly db: AdminDatabase };
  readonly readiness: Readiness;
  readonly metrics: Metrics;
  /** Origins allowed to frame the tool besides the configured ones (registered LMS platforms). */
  readonly platformOrigins?: () => readonly string[];
  /** Repositories and LMS clients; without them only the operational routes are served. */
  readonly services?: AppServices;
}

/**
 * Builds the Express app. Nothing here listens or reads globals, so tests can build several apps
 * side by side and drive them with supertest.
 */
export function createApp(config: Config, deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.server.trustProxy);
  app.set('views', paths.views);
  app.engine('ejs', layoutEngine(paths.views));
  app.set('view engine', 'ejs');
  app.locals.productName = 'Mastery Pathways';

  const configuredOrigins = config.security.frameAncestors;
  app.use(requestLogging(deps.logger));
  app.use(requestContextMiddleware);
  app.use(httpMetrics(deps.metrics));
  app.use(
    securityHeaders({
      publicUrl: config.server.publicUrl,
      frameAncestors: () => [...configuredOrigins, ...(deps.platformOrigins?.() ?? [])],
    }),
  );
  app.use(
    '/static',
    express.static(paths.public, { index: false, maxAge: '1h', fallthrough: true }),
  );

  app.use(healthRoutes({ ...deps, metricsToken: config.security.metricsToken }));
  app.use(homeRoutes({ publicUrl: config.server.publicUrl }));
  if (deps.services) {
    const routeDeps = {
      services: deps.services,
      logger: deps.logger,
      publicUrl: config.server.publicUrl,
    };
    const adminDeps = { ...routeDeps, db: deps.database.db };
    app.use(ltiRoutes(routeDeps));
    app.use(adminRoutes(adminDeps));
    // Before the course pages: an admin page loads its session once, in its own router.
    app.use('/s/:sessionToken/admin', launchedAdminRoutes(adminDeps));
    app.use('/s/:sessionToken', courseRoutes(routeDeps));
    app.use(
      registrationRoutes({
        ...routeDeps,
        allowLoopbackRegistration: config.security.allowLoopbackRegistration,
      }),
    );
    app.use(classroomRoutes(routeDeps));
  }

  app.use(unmatchedRoute);
  app.use(errorBoundary(deps.logger));
  return app;
}
