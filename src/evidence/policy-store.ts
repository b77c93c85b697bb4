import type { Kysely } from 'kysely';
import { z } from 'zod';
import {
  assertUsablePolicy,
  createConversionTable,
  createProficiencyScale,
  DEFAULT_CONVERSION_TABLE,
  DEFAULT_PROFICIENCY_SCALE,
  MasteryError,
  masteryMethodSchema,
  orderBySchema,
} from '../mastery/index.ts';
import type { MasteryPolicy } from '../mastery/types.ts';
import type { Database } from '../storage/schema.ts';
import type { CoursePolicy, PassbackPolicy } from './course-policy.ts';

/**
 * The district's defaults when it has not set a part of the policy.
 *
 * Method: **most recent score**. Mastery-based grading asks "what can the student do now?", the
 * most recent score answers it without parameters a district must first agree on, and every LMS
 * offers it (Canvas "most recent", Schoology "most recent", Moodle "last grade"). A district that
 * prefers a decaying average or power law sets it on the policy page; the change recomputes.
 * Ordered by the date assessed (falls back to the date recorded when absent), at least one scored
 * piece of evidence, rounded half-up to 2 decimals. Parents roll up with the mean of children.
 */
export const DEFAULT_CALCULATION: MasteryPolicy = Object.freeze({
  method: Object.freeze({ kind: 'mostRecent' as const }),
  minEvidence: 1,
  orderBy: 'assessed' as const,
  rounding: Object.freeze({ mode: 'halfUp' as const, decimals: 2 }),
});

export const DEFAULT_PASSBACK: PassbackPolicy = Object.freeze({
  standardColumns: true,
  courseColumn: false,
  assignmentScores: false,
  prioritizeNonToolGrade: true,
  classroomAssignGrades: false,
});

export const DEFAULT_COURSE_POLICY: CoursePolicy = Object.freeze({
  calculation: DEFAULT_CALCULATION,
  scale: DEFAULT_PROFICIENCY_SCALE,
  rollup: Object.freeze({ method: 'mean' as const }),
  conversion: DEFAULT_CONVERSION_TABLE,
  powerStandardIds: Object.freeze([]),
  passback: DEFAULT_PASSBACK,
});

const colour = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour like #2e7d32');

/**
 * What `mastery_policies.policy` may hold: every part optional (absent → the level above). The
 * same schema parses the district row and a course row; a course row's parts replace the
 * district's, and inside `calculation` and `passback` field by field.
 */
export const storedPolicySchema = z.object({
  calculation: z
    .object({
      method: masteryMethodSchema.optional(),
      minEvidence: z.number().int().min(0).max(100).optional(),
      orderBy: orderBySchema.optional(),
      rounding: z
        .discriminatedUnion('mode', [
          z.object({ mode: z.literal('none') }),
          z.object({ mode: z.literal('halfUp'), decimals: z.number().int().min(0).max(6) }),
        ])
        .optional(),
    })
    .optional(),
  scale: z
    .object({
      min: z.number(),
      max: z.number(),
      levels: z
        .array(
          z.object({
            id: z.string().min(1).max(40),
            label: z.string().min(1).max(60),
            value: z.number(),
            colour,
            mastered: z.boolean(),
          }),
        )
        .min(1)
        .max(12),
    })
    .optional(),
  rollup: z
    .discriminatedUnion('method', [
      z.object({ method: z.literal('mean') }),
      z.object({ method: z.literal('minimum') }),
      z.object({
        method: z.literal('weighted'),
        weights: z.record(z.string(), z.number().min(0)),
      }),
    ])
    .optional(),
  conversion: z
    .object({
      interpolation: z.enum(['step', 'linear']),
      rows: z
        .array(z.object({ value: z.number(), percent: z.number().min(0).max(1000) }))
        .min(1)
        .max(50),
    })
    .optional(),
  powerStandardIds: z.array(z.string()).max(500).optional(),
  passback: z
    .object({
      standardColumns: z.boolean().optional(),
      courseColumn: z.boolean().optional(),
      assignmentScores: z.boolean().optional(),
      prioritizeNonToolGrade: z.boolean().optional(),
      classroomAssignGrades: z.boolean().optional(),
    })
    .optional(),
});

export type StoredPolicy = z.infer<typeof storedPolicySchema>;

export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  readonly problems: readonly string[];
  constructor(problems: readonly string[], options?: ErrorOptions) {
    super(`invalid mastery policy: ${problems.join('; ')}`, options);
    this.problems = problems;
  }
}

/** Parses a stored (or submitted) policy part; throws `PolicyError` listing every problem. */
export function parseStoredPolicy(input: unknown): StoredPolicy {
  const parsed = storedPolicySchema.safeParse(input ?? {});
  if (!parsed.success) {
    throw new PolicyError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(policy)'}: ${issue.message}`),
      { cause: parsed.error },
    );
  }
  return parsed.data;
}

/** Layers stored policy parts over the defaults (district first, then course) and validates the whole. */
export function resolvePolicy(...layers: readonly StoredPolicy[]): CoursePolicy {
  let calculation: MasteryPolicy = DEFAULT_CALCULATION;
  let scale = DEFAULT_COURSE_POLICY.scale;
  let rollup = DEFAULT_COURSE_POLICY.rollup;
  let conversion = DEFAULT_COURSE_POLICY.conversion;
  let powerStandardIds = DEFAULT_COURSE_POLICY.powerStandardIds;
  let passback = DEFAULT_PASSBACK;
  for (const layer of layers) {
    if (layer.calculation !== undefined) {
      const c = layer.calculation;
      calculation = {
        method: c.method ?? calculation.method,
        minEvidence: c.minEvidence ?? calculation.minEvidence,
        orderBy: c.orderBy ?? calculation.orderBy,
        rounding: c.rounding ?? calculation.rounding,
      };
    }
    if (layer.scale !== undefined) scale = layer.scale;
    if (layer.rollup !== undefined) rollup = layer.rollup;
    if (layer.conversion !== undefined) conversion = layer.conversion;
    if (layer.powerStandardIds !== undefined) powerStandardIds = layer.powerStandardIds;
    if (layer.passback !== undefined) {
      const p = layer.passback;
      passback = {
        standardColumns: p.standardColumns ?? passback.standardColumns,
        courseColumn: p.courseColumn ?? passback.courseColumn,
        assignmentScores: p.assignmentScores ?? passback.assignmentScores,
        prioritizeNonToolGrade: p.prioritizeNonToolGrade ?? passback.prioritizeNonToolGrade,
        classroomAssignGrades: p.classroomAssignGrades ?? passback.classroomAssignGrades,
      };
    }
  }
  try {
    const checkedScale = createProficiencyScale(scale);
    assertUsablePolicy(calculation, checkedScale);
    return Object.freeze({
      calculation,
      scale: checkedScale,
      rollup,
      conversion: createConversionTable(conversion),
      powerStandardIds: Object.freeze([...powerStandardIds]),
      passback: Object.freeze(passback),
    });
  } catch (error) {
    if (error instanceof MasteryError) throw new PolicyError([error.message], { cause: error });
    throw error;
  }
}

/** The stored policy rows (district, and the course's when asked), parsed but not merged. */
export async function loadStoredPolicies(
  db: Kysely<Database>,
  tenantId: string,
  courseId: string | null,
): Promise<{ district: StoredPolicy | undefined; course: StoredPolicy | undefined }> {
  const rows = await db
    .selectFrom('mastery_policies')
    .select(['course_id', 'policy'])
    .where('tenant_id', '=', tenantId)
    .where((eb) =>
      courseId === null
        ? eb('course_id', 'is', null)
        : eb.or([eb('course_id', 'is', null), eb('course_id', '=', courseId)]),
    )
    .execute();
  return storedPoliciesOf(rows);
}

/** Parses policy rows read elsewhere (course_id null: the district's). */
export function storedPoliciesOf(rows: readonly { course_id: string | null; policy: unknown }[]): {
  district: StoredPolicy | undefined;
  course: StoredPolicy | undefined;
} {
  let district: StoredPolicy | undefined;
  let course: StoredPolicy | undefined;
  for (const row of rows) {
    const parsed = parseStoredPolicy(row.policy);
    if (row.course_id === null) district = parsed;
    else course = parsed;
  }
  return { district, course };
}

/**
 * The policy in force for a course (or, with `courseId` null, the district's): defaults, then the
 * district row, then the course row. Throws `PolicyError` when a stored row does not parse or the
 * merged policy is unusable (e.g. an n-times threshold off a newly edited scale).
 */
export async function loadCoursePolicy(
  db: Kysely<Database>,
  tenantId: string,
  courseId: string | null,
): Promise<CoursePolicy> {
  const { district, course } = await loadStoredPolicies(db, tenantId, courseId);
  return resolvePolicy(district ?? {}, course ?? {});
}
