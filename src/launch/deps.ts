import type { Kysely } from 'kysely';
import type { Logger } from '../logger.ts';
import type { DeploymentLookup } from '../lti/launch.ts';
import type { PlatformLookup, ToolEndpoints } from '../lti/login.ts';
import type { PlatformKeys } from '../lti/platform-keys.ts';
import type { DeepLinkRepository } from '../storage/lti/deep-links.repository.ts';
import type { DeploymentRepository } from '../storage/lti/deployments.repository.ts';
import type { LoginStateRepository } from '../storage/lti/login-states.repository.ts';
import type { LaunchRepository } from '../storage/lti/launches.repository.ts';
import type { SessionRepository } from '../storage/lti/sessions.repository.ts';
import type { Database } from '../storage/schema.ts';
import type { PendingRegistrationDeps } from './pending-registration.ts';

/**
 * What the LTI login and launch use cases need, by name. Built once per app by the web layer from
 * the app's repositories; nothing here is kept between requests.
 */
export interface LaunchDeps extends PendingRegistrationDeps {
  readonly db: Kysely<Database>;
  readonly now: () => Date;
  readonly logger: Logger;
  readonly endpoints: ToolEndpoints;
  readonly platformLookup: PlatformLookup;
  readonly loginStates: LoginStateRepository;
  readonly deployments: Pick<DeploymentRepository, 'resolve'>;
  readonly deploymentLookup: DeploymentLookup;
  readonly platformKeys: PlatformKeys;
  readonly sessions: Pick<SessionRepository, 'prepare'>;
  readonly launches: Pick<LaunchRepository, 'acceptLaunch'>;
  readonly deletionRecords: { hashPerson(issuer: string, sub: string): Promise<string> };
  readonly deepLinks: Pick<DeepLinkRepository, 'create'>;
  readonly mastery: {
    linkMentor(input: {
      tenantId: string;
      courseId: string;
      mentorId: string;
      issuer: string;
      studentSubs: readonly string[];
    }): Promise<unknown>;
  };
  readonly alignment: {
    recordResourceLink(input: {
      tenantId: string;
      courseId: string;
      resourceLinkId: string;
      title?: string | undefined;
      assignmentId?: string | undefined;
      history?: readonly string[] | undefined;
      lineItemUrl?: string | undefined;
      actor: string;
    }): Promise<unknown>;
  };
}
