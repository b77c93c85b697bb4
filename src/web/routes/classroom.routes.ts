import { Router } from 'express';
import type { AppServices } from '../../app-services.ts';
import type { Logger } from '../../logger.ts';

export interface ClassroomRoutesDeps {
  readonly services: AppServices;
  readonly logger: Logger;
  readonly publicUrl: string;
}

/** Google Classroom add-on routes (`/classroom/...`). PLACEHOLDER: filled in by issue 7. */
export function classroomRoutes(_deps: ClassroomRoutesDeps): Router {
  return Router();
}
