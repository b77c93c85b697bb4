import { MESSAGE_TYPE, type LaunchContext } from '../../../src/lti/claims.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../../../src/storage/schema.ts';
import { createPlatformRepository } from '../../../src/storage/lti/platforms.repository.ts';
import { createTenantRepository } from '../../../src/storage/lti/tenants.repository.ts';
import { createDeploymentRepository } from '../../../src/storage/lti/deployments.repository.ts';

/** A clock the test moves by hand. */
export function manualClock(start = '2026-11-27T05:00:00.000Z') {
  let time = new Date(start).getTime();
  return {
    now: () => new Date(time),
    advance(ms: number) {
      time += ms;
    },
  };
}

let counter = 0;
/** Unique per call, so tests in one file never collide on unique columns. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function seedDistrict(
  db: Kysely<Database>,
  options: { issuer?: string; clientId?: string } = {},
) {
  const tenant = await createTenantRepository(db).create({
    slug: unique('district'),
    name: 'A District',
  });
  const platform = await createPlatformRepository(db).create({
    issuer: options.issuer ?? `https://${unique('lms')}.example.org`,
    clientId: options.clientId ?? unique('client'),
    name: 'Test LMS',
    flavour: 'generic',
    authLoginUrl: 'https://lms.example.org/auth',
    authTokenUrl: 'https://lms.example.org/token',
    jwksUrl: 'https://lms.example.org/jwks',
  });
  const deployment = await createDeploymentRepository(db).create({
    platformId: platform.id,
    deploymentId: unique('deployment'),
    tenantId: tenant.id,
  });
  return { tenant, platform, deployment };
}

export function launchContext(overrides: {
  issuer: string;
  clientId: string;
  deploymentId: string;
  sub?: string;
  contextId?: string;
  email?: string;
  roles?: string[];
}): LaunchContext {
  return {
    messageType: MESSAGE_TYPE.resourceLink,
    issuer: overrides.issuer,
    clientId: overrides.clientId,
    deploymentId: overrides.deploymentId,
    sub: overrides.sub ?? 'user-1',
    name: 'Ada Lovelace',
    givenName: 'Ada',
    familyName: 'Lovelace',
    email: overrides.email,
    roles: overrides.roles ?? ['http://purl.imsglobal.org/vocab/lis/v2/membership#Learner'],
    context: {
      id: overrides.contextId ?? 'course-1',
      title: 'Grade 6 Math',
      label: 'MATH6',
      type: ['CourseOffering'],
    },
    custom: {},
    ags: {
      scopes: ['https://purl.imsglobal.org/spec/lti-ags/scope/lineitem'],
      lineItemsUrl: 'https://lms.example.org/api/lti/courses/1/line_items',
      lineItemUrl: undefined,
    },
    nrps: {
      membershipsUrl: 'https://lms.example.org/api/lti/courses/1/names_and_roles',
      serviceVersions: ['2.0'],
    },
    launchPresentation: undefined,
    platform: undefined,
    targetLinkUri: 'https://tool.example.org/lti/launch',
    resourceLink: { id: 'link-1', title: 'Mastery', description: undefined },
  };
}
