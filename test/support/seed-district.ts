import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Kysely } from 'kysely';
import { parseCasePackage } from '../../src/standards/formats/case-import.ts';
import { importFramework } from '../../src/standards/import.ts';
import { createPlatformRepository } from '../../src/storage/lti/platforms.repository.ts';
import type { Database } from '../../src/storage/schema.ts';
import { listItems, type ItemRow } from '../../src/storage/standards/standards.repository.ts';

/**
 * The rows a storage test needs before a course can exist, written straight to the tables (no
 * launch): each helper makes one kind of row, so a test names only what its scenario is about.
 */

const SAMPLE = new URL('../../src/standards/samples/district-grade6.case.json', import.meta.url);

/** A tenant with one Canvas platform (client id `client`) and that platform's deployment `1`. */
export interface SeededDistrict {
  readonly tenantId: string;
  readonly platformId: string;
  readonly deploymentRowId: string;
  readonly issuer: string;
}

export async function seedTenant(db: Kysely<Database>, slug: string, name = slug): Promise<string> {
  const tenant = await db
    .insertInto('tenants')
    .values({ slug, name })
    .returning('id')
    .executeTakeFirstOrThrow();
  return tenant.id;
}

export async function seedDeployment(
  db: Kysely<Database>,
  input: { tenantId: string; platformId: string; deploymentId: string },
): Promise<string> {
  const deployment = await db
    .insertInto('deployments')
    .values({
      platform_id: input.platformId,
      deployment_id: input.deploymentId,
      tenant_id: input.tenantId,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return deployment.id;
}

/** The tenant is named by its slug; the platform's endpoints sit under its issuer. */
export async function seedDistrict(
  db: Kysely<Database>,
  slug: string,
  issuer = `https://${slug}.lms.example`,
): Promise<SeededDistrict> {
  const tenantId = await seedTenant(db, slug);
  const platform = await createPlatformRepository(db).create({
    issuer,
    clientId: 'client',
    name: slug,
    flavour: 'canvas',
    authLoginUrl: `${issuer}/auth`,
    authTokenUrl: `${issuer}/token`,
    jwksUrl: `${issuer}/jwks`,
  });
  const deploymentRowId = await seedDeployment(db, {
    tenantId,
    platformId: platform.id,
    deploymentId: '1',
  });
  return { tenantId, platformId: platform.id, deploymentRowId, issuer };
}

/** A course with no AGS scopes or NRPS versions; a line items URL only when given. */
export async function seedCourse(
  db: Kysely<Database>,
  input: {
    tenantId: string;
    deploymentRowId: string;
    contextId: string;
    title: string;
    now: Date;
    agsLineItemsUrl?: string;
  },
): Promise<string> {
  const course = await db
    .insertInto('courses')
    .values({
      tenant_id: input.tenantId,
      deployment_row_id: input.deploymentRowId,
      context_id: input.contextId,
      title: input.title,
      ags_line_items_url: input.agsLineItemsUrl ?? null,
      ags_scopes: [],
      nrps_service_versions: [],
      updated_at: input.now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return course.id;
}

/** A user `(issuer, sub)` with no email and, unless given, no name. */
export async function seedUser(
  db: Kysely<Database>,
  input: { tenantId: string; issuer: string; sub: string; now: Date; name?: string },
): Promise<string> {
  const user = await db
    .insertInto('users')
    .values({
      tenant_id: input.tenantId,
      issuer: input.issuer,
      sub: input.sub,
      name: input.name ?? null,
      given_name: null,
      family_name: null,
      email: null,
      created_at: input.now,
      updated_at: input.now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return user.id;
}

/** One nameless user per sub, in the order given. */
export async function seedUsers(
  db: Kysely<Database>,
  input: { tenantId: string; issuer: string; subs: readonly string[]; now: Date },
): Promise<{ id: string; sub: string }[]> {
  const users: { id: string; sub: string }[] = [];
  for (const sub of input.subs) {
    const { tenantId, issuer, now } = input;
    users.push({ id: await seedUser(db, { tenantId, issuer, sub, now }), sub });
  }
  return users;
}

/** Imports the sample CASE framework; its live items in sequence order. */
export async function importSampleFramework(
  db: Kysely<Database>,
  tenantId: string,
  now: () => Date,
): Promise<ItemRow[]> {
  const parsed = parseCasePackage(readFileSync(SAMPLE, 'utf8'), { maxBytes: 10_000_000 });
  if (!parsed.ok) throw new Error('sample did not parse');
  const report = await importFramework(
    db,
    { tenantId, actor: 'test', framework: parsed.framework, source: 'case_file' },
    { now, newId: randomUUID },
  );
  if (!report.ok) throw new Error('sample did not import');
  return listItems(db, tenantId, report.frameworkId, {
    includeArchived: false,
    orderBy: 'sequence',
  });
}
