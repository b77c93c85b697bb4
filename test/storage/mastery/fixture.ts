import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseCasePackage } from '../../../src/standards/formats/case-import.ts';
import { importFramework } from '../../../src/standards/import.ts';
import type { TestDatabase } from '../../support/database.ts';

const SAMPLE = new URL('../../../src/standards/samples/district-grade6.case.json', import.meta.url);
export const LEARNER = 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner';
export const INSTRUCTOR = 'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor';

export interface MasteryFixture {
  readonly tenantId: string;
  readonly courseId: string;
  readonly issuer: string;
  readonly teacherId: string;
  readonly students: readonly { id: string; sub: string }[];
  /** Two leaf standards with the same parent, and that parent. */
  readonly leaves: readonly [string, string];
  readonly parentId: string;
  /** An assignment aligned to both leaves (points 10 and 5), due 2026-11-20. */
  readonly assignmentId: string;
}

/** A district with one course, a teacher, `studentCount` learners, the sample framework and one aligned assignment. */
export async function masteryFixture(
  database: TestDatabase,
  slug: string,
  now: Date,
  studentCount = 3,
): Promise<MasteryFixture> {
  const db = database.db;
  const issuer = `https://${slug}.lms.example`;
  const tenant = await db
    .insertInto('tenants')
    .values({ slug, name: slug })
    .returning('id')
    .executeTakeFirstOrThrow();
  const platform = await db
    .insertInto('platforms')
    .values({
      issuer,
      client_id: 'client',
      name: slug,
      flavour: 'canvas',
      auth_login_url: `${issuer}/auth`,
      auth_token_url: `${issuer}/token`,
      jwks_url: `${issuer}/jwks`,
      status: 'active',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const deployment = await db
    .insertInto('deployments')
    .values({ platform_id: platform.id, deployment_id: '1', tenant_id: tenant.id })
    .returning('id')
    .executeTakeFirstOrThrow();
  const course = await db
    .insertInto('courses')
    .values({
      tenant_id: tenant.id,
      deployment_row_id: deployment.id,
      context_id: `${slug}-course`,
      title: 'Grade 6 maths',
      ags_scopes: [],
      nrps_service_versions: [],
      updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const addUser = async (sub: string, roles: string[]) => {
    const user = await db
      .insertInto('users')
      .values({
        tenant_id: tenant.id,
        issuer,
        sub,
        name: sub,
        given_name: null,
        family_name: sub,
        email: null,
        created_at: now,
        updated_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('enrollments')
      .values({
        tenant_id: tenant.id,
        course_id: course.id,
        user_id: user.id,
        roles,
        status: 'active',
        source: 'launch',
        updated_at: now,
      })
      .execute();
    return user.id;
  };
  const teacherId = await addUser('sub-teacher', [INSTRUCTOR]);
  const students: { id: string; sub: string }[] = [];
  for (let i = 0; i < studentCount; i += 1) {
    const sub = `sub-student-${String(i).padStart(3, '0')}`;
    students.push({ id: await addUser(sub, [LEARNER]), sub });
  }
  const { leaves, parentId, assignmentId } = await seedAlignedAssignment(database, {
    tenantId: tenant.id,
    courseId: course.id,
    actor: teacherId,
    now,
  });
  return {
    tenantId: tenant.id,
    courseId: course.id,
    issuer,
    teacherId,
    students,
    leaves,
    parentId,
    assignmentId,
  };
}

/**
 * Imports the sample framework into the district and adds an assignment ("Ratios quiz", maximum
 * 15, due 2026-11-20) aligned to two sibling leaf standards (10 and 5 points).
 */
export async function seedAlignedAssignment(
  database: TestDatabase,
  input: { tenantId: string; courseId: string; actor: string; now: Date; lineItemUrl?: string },
): Promise<{
  leaves: [string, string];
  parentId: string;
  assignmentId: string;
  codes: [string, string];
}> {
  const db = database.db;
  const tenant = { id: input.tenantId };
  const course = { id: input.courseId };
  const teacherId = input.actor;
  const now = input.now;
  const parsed = parseCasePackage(readFileSync(SAMPLE, 'utf8'), { maxBytes: 10_000_000 });
  if (!parsed.ok) throw new Error('sample did not parse');
  const report = await importFramework(
    db,
    { tenantId: tenant.id, actor: 'test', framework: parsed.framework, source: 'case_file' },
    { now: () => now, newId: randomUUID },
  );
  if (!report.ok) throw new Error('sample did not import');
  const items = await db
    .selectFrom('standard_items')
    .select(['id', 'parent_item_id', 'code'])
    .where('tenant_id', '=', tenant.id)
    .orderBy('sequence')
    .execute();
  const hasChildren = new Set(items.map((item) => item.parent_item_id));
  const byParent = new Map<string, string[]>();
  for (const item of items) {
    if (item.parent_item_id === null || hasChildren.has(item.id)) continue;
    byParent.set(item.parent_item_id, [...(byParent.get(item.parent_item_id) ?? []), item.id]);
  }
  const [parentId, leaves] = [...byParent].find(([, list]) => list.length >= 2) ?? [];
  if (parentId === undefined || leaves === undefined) throw new Error('no sibling leaves');
  const assignment = await db
    .insertInto('course_assignments')
    .values({
      tenant_id: tenant.id,
      course_id: course.id,
      title: 'Ratios quiz',
      line_item_url: input.lineItemUrl ?? null,
      source: 'teacher',
      score_maximum: 15,
      due_at: new Date('2026-11-20T00:00:00Z'),
      created_by: teacherId,
      created_at: now,
      updated_at: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const [a, b] = leaves as [string, string];
  await db
    .insertInto('assignment_alignments')
    .values([
      {
        tenant_id: tenant.id,
        course_id: course.id,
        assignment_id: assignment.id,
        item_id: a,
        points: 10,
        position: 1,
        created_by: teacherId,
        created_at: now,
        updated_at: now,
      },
      {
        tenant_id: tenant.id,
        course_id: course.id,
        assignment_id: assignment.id,
        item_id: b,
        points: 5,
        position: 2,
        created_by: teacherId,
        created_at: now,
        updated_at: now,
      },
    ])
    .execute();
  const codes = await db
    .selectFrom('standard_items')
    .select(['id', 'code'])
    .where('id', 'in', [a, b])
    .execute();
  const codeOf = (id: string) => codes.find((c) => c.id === id)?.code ?? '';
  return { leaves: [a, b], parentId, assignmentId: assignment.id, codes: [codeOf(a), codeOf(b)] };
}
