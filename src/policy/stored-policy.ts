import { z } from 'zod';
import { masteryMethodSchema, orderBySchema } from '../mastery/index.ts';

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
