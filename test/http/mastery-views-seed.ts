import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Person } from '../../src/emulator/types.ts';
import { createCourseAssignmentRepository } from '../../src/storage/courses/assignments.repository.ts';
import { insertFramework, insertItems } from '../../src/storage/standards/standards.repository.ts';
import type { Database } from '../../src/storage/schema.ts';
import type { LtiWorld } from '../support/lti-world.ts';

/**
 * Seeding for the mastery pages' tests, benchmark and browser test, through the owning areas'
 * public repositories (standards, course assignments). Evidence is NOT written here: tests record
 * it through `services.mastery.recordEvidence`, as teachers do.
 */

export interface SeedStandard {
  readonly id: string;
  readonly code: string;
  readonly statement: string;
}

export interface SeededStandards {
  readonly frameworkId: string;
  /** Domains (parents), each with its child standards. */
  readonly domains: readonly { domain: SeedStandard; children: readonly SeedStandard[] }[];
  readonly leaves: readonly SeedStandard[];
}

/** A framework with `domains.length` domains, each with the given child codes. */
export async function seedStandards(
  db: Kysely<Database>,
  tenantId: string,
  layout: readonly {
    code: string;
    statement: string;
    children: readonly { code: string; statement: string }[];
  }[],
  now: Date = new Date('2026-11-01T00:00:00Z'),
): Promise<SeededStandards> {
  const guid = randomUUID();
  const frameworkId = await insertFramework(db, {
    tenantId,
    content: {
      case_guid: guid,
      uri: `https://example.org/case/${guid}`,
      title: 'Test framework',
      creator: 'Tests',
      publisher: null,
      version: null,
      subjects: ['Mathematics'],
      adoption_status: null,
      language: 'en',
      description: null,
      licence: null,
      notes: null,
      case_version: '1.0',
      definitions: {
        concepts: [],
        subjects: [],
        licences: [],
        itemTypes: [],
        associationGroupings: [],
      },
      rubrics: [],
      extensions: null,
      extra: {},
    },
    source: 'authored',
    sourceUrl: null,
    importedAt: null,
    now,
  });
  const rows: Parameters<typeof insertItems>[3][number][] = [];
  const domains: { domain: SeedStandard; children: SeedStandard[] }[] = [];
  let sequence = 0;
  layout.forEach((d, di) => {
    const domain = { id: randomUUID(), code: d.code, statement: d.statement };
    rows.push(item(domain, null, di + 1, (sequence += 1), 'Domain'));
    const children = d.children.map((c, ci) => {
      const child = { id: randomUUID(), code: c.code, statement: c.statement };
      rows.push(item(child, domain.id, ci + 1, (sequence += 1), 'Standard'));
      return child;
    });
    domains.push({ domain, children });
  });
  await insertItems(db, tenantId, frameworkId, rows, now);
  return { frameworkId, domains, leaves: domains.flatMap((d) => d.children) };
}

function item(
  standard: SeedStandard,
  parentId: string | null,
  position: number,
  sequence: number,
  itemType: string,
) {
  return {
    id: standard.id,
    guid: standard.id,
    uri: `https://example.org/case/items/${standard.id}`,
    code: standard.code,
    full_statement: standard.statement,
    abbreviated_statement: null,
    item_type: itemType,
    education_levels: [],
    extra: {},
    search: `${standard.code} ${standard.statement}`.toLowerCase(),
    parent_item_id: parentId,
    position,
    sequence,
  };
}

/** A teacher-made assignment aligned to the given standards; returns its id. */
export async function seedAssignment(
  db: Kysely<Database>,
  input: {
    tenantId: string;
    courseId: string;
    title: string;
    itemIds: readonly string[];
    dueAt?: Date;
  },
  now: () => Date = () => new Date(),
): Promise<string> {
  const repo = createCourseAssignmentRepository(db, now);
  const assignment = await repo.create({
    tenantId: input.tenantId,
    courseId: input.courseId,
    title: input.title,
    source: 'teacher',
    createdBy: 'test',
  });
  await repo.replaceAlignments(
    input.tenantId,
    input.courseId,
    assignment.id,
    input.itemIds.map((itemId) => ({
      itemId,
      weight: 1,
      points: undefined,
      rubricCriterion: undefined,
    })),
    'test',
  );
  if (input.dueAt !== undefined) {
    await db
      .updateTable('course_assignments')
      .set({ due_at: input.dueAt })
      .where('tenant_id', '=', input.tenantId)
      .where('id', '=', assignment.id)
      .execute();
  }
  return assignment.id;
}

export const LEARNER_ROLE = 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner';

/**
 * The demo course of an LMS world with a roster, two domains (NBT.1, NBT.2; G.1), three aligned
 * assignments and evidence recorded through `services.mastery.recordEvidence`:
 * Ava NBT.1 2 → 4, NBT.2 1, G.1 3; Ben NBT.1 2, 2 and G.1 4; Chloe nothing.
 */
export async function seedMasteryCourse(
  world: LtiWorld,
  db: Kysely<Database>,
  courseId: string,
): Promise<{ standards: SeededStandards; userIdOf: (person: Person) => string }> {
  const { services } = world.tool;
  await services.courses.syncRoster({
    tenantId: world.tenantId,
    courseId,
    issuer: world.emulator.issuer,
    storeEmail: false,
    members: world.seed.students.map((s) => ({
      userId: s.sub,
      name: s.name,
      givenName: s.givenName,
      familyName: s.familyName,
      email: undefined,
      sourcedId: undefined,
      roles: [LEARNER_ROLE],
      status: 'Active' as const,
    })),
  });
  const ids = new Map<string, string>();
  for (const person of world.seed.students) {
    const user = await services.people.findUser(world.tenantId, world.emulator.issuer, person.sub);
    if (user !== undefined) ids.set(person.userId, user.id);
  }
  const userIdOf = (person: Person): string => {
    const id = ids.get(person.userId);
    if (id === undefined) throw new Error('person not on the roster');
    return id;
  };
  const standards = await seedStandards(db, world.tenantId, [
    {
      code: 'NBT',
      statement: 'Number and operations in base ten',
      children: [
        { code: 'NBT.1', statement: 'Place value understanding' },
        { code: 'NBT.2', statement: 'Multi-digit arithmetic' },
      ],
    },
    { code: 'G', statement: 'Geometry', children: [{ code: 'G.1', statement: 'Shapes' }] },
  ]);
  const [nbt1, nbt2, g1] = standards.leaves;
  const [ava, ben] = world.seed.students;
  if (nbt1 === undefined || nbt2 === undefined || g1 === undefined) throw new Error('seed');
  if (ava === undefined || ben === undefined) throw new Error('seed');
  const tenantId = world.tenantId;
  const quiz1 = await seedAssignment(db, {
    tenantId,
    courseId,
    title: 'Quiz 1',
    itemIds: [nbt1.id, nbt2.id],
  });
  const quiz2 = await seedAssignment(db, {
    tenantId,
    courseId,
    title: 'Quiz 2',
    itemIds: [nbt1.id],
  });
  const project = await seedAssignment(db, {
    tenantId,
    courseId,
    title: 'Shapes project',
    itemIds: [g1.id],
  });
  const day = (n: number) => new Date(Date.UTC(2026, 10, n));
  await services.mastery.recordEvidence({
    tenantId,
    courseId,
    actor: 'seed',
    source: 'teacher',
    entries: [
      {
        studentId: userIdOf(ava),
        itemId: nbt1.id,
        assignmentId: quiz1,
        score: 2,
        assessedAt: day(2),
      },
      {
        studentId: userIdOf(ava),
        itemId: nbt1.id,
        assignmentId: quiz2,
        score: 4,
        assessedAt: day(9),
      },
      {
        studentId: userIdOf(ava),
        itemId: nbt2.id,
        assignmentId: quiz1,
        score: 1,
        assessedAt: day(2),
      },
      {
        studentId: userIdOf(ava),
        itemId: g1.id,
        assignmentId: project,
        score: 3,
        assessedAt: day(5),
      },
      {
        studentId: userIdOf(ben),
        itemId: nbt1.id,
        assignmentId: quiz1,
        score: 2,
        assessedAt: day(2),
      },
      {
        studentId: userIdOf(ben),
        itemId: nbt1.id,
        assignmentId: quiz2,
        score: 2,
        assessedAt: day(9),
      },
      {
        studentId: userIdOf(ben),
        itemId: g1.id,
        assignmentId: project,
        score: 4,
        assessedAt: day(5),
      },
    ],
  });
  return { standards, userIdOf };
}
