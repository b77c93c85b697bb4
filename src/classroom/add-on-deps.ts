import type { Logger } from '../logger.ts';
import type {
  ClassroomInstall,
  ClassroomLaunchParams,
} from '../storage/classroom/classroom.repository.ts';
import type { PeopleRepository } from '../storage/lti/people.repository.ts';
import type { SessionRepository } from '../storage/lti/sessions.repository.ts';
import type { ClassroomServices } from './services.ts';

export type { ClassroomInstall, ClassroomLaunchParams };

/** What the add-on's use cases (sign-in, activities) need, by name. */
export interface AddOnDeps {
  readonly classroom: ClassroomServices;
  readonly sessions: Pick<SessionRepository, 'create'>;
  readonly people: Pick<PeopleRepository, 'findUser'>;
  readonly logger: Logger;
}
