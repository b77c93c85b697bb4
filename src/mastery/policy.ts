import { z } from 'zod';
import { MasteryError } from './errors.ts';
import type { MasteryMethod, MasteryPolicy, OrderBy, ProficiencyScale } from './types.ts';

const unitInterval = z.number().min(0).max(1);
const count = z.number().int().min(1);

/**
 * Schema for policies arriving from configuration, forms or the database (parse at the edge).
 * Fractions are 0..1: Canvas's `calculation_int` 65 is `weight: 0.65` here.
 */
export const masteryMethodSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('highest') }),
  z.object({ kind: z.literal('mostRecent') }),
  z.object({ kind: z.literal('mean') }),
  z.object({ kind: z.literal('median') }),
  z.object({ kind: z.literal('mode'), tieRule: z.enum(['higher', 'lower', 'mostRecent']) }),
  z.object({ kind: z.literal('meanOfMostRecent'), n: count }),
  z.object({ kind: z.literal('nTimes'), n: count, threshold: z.number() }),
  z.object({ kind: z.literal('canvasLegacyDecaying'), weight: unitInterval }),
  z.object({ kind: z.literal('recursiveDecaying'), rate: unitInterval.gt(0) }),
  z.object({ kind: z.literal('powerLaw') }),
]);

/** Every ordering choice (see `OrderBy`: Canvas, Schoology, due date, date given, date recorded). */
export const ORDER_BY_VALUES = [
  'submittedOrLastGraded',
  'graded',
  'due',
  'assessed',
  'recorded',
] as const satisfies readonly OrderBy[];

export const orderBySchema = z.enum(ORDER_BY_VALUES);

export const masteryPolicySchema = z.object({
  method: masteryMethodSchema,
  minEvidence: z.number().int().min(0).default(1),
  orderBy: orderBySchema,
  rounding: z
    .discriminatedUnion('mode', [
      z.object({ mode: z.literal('none') }),
      z.object({ mode: z.literal('halfUp'), decimals: z.number().int().min(0).max(10) }),
    ])
    .default({ mode: 'halfUp', decimals: 2 }),
});

/** Parses untrusted input into a policy; throws `INVALID_POLICY` listing every problem. */
export function parseMasteryPolicy(input: unknown): MasteryPolicy {
  const parsed = masteryPolicySchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || '(policy)'}: ${issue.message}`)
      .join('; ');
    throw new MasteryError('INVALID_POLICY', `invalid mastery policy: ${problems}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

function invalid(message: string): never {
  throw new MasteryError('INVALID_POLICY', message);
}

function checkMethod(method: MasteryMethod, scale: ProficiencyScale): void {
  switch (method.kind) {
    case 'highest':
    case 'mostRecent':
    case 'mean':
    case 'median':
    case 'mode':
    case 'powerLaw':
      return;
    case 'meanOfMostRecent':
      if (!Number.isInteger(method.n) || method.n < 1) invalid('meanOfMostRecent n must be >= 1');
      return;
    case 'nTimes':
      if (!Number.isInteger(method.n) || method.n < 1) invalid('nTimes n must be >= 1');
      if (!(method.threshold >= scale.min && method.threshold <= scale.max)) {
        invalid(`nTimes threshold ${method.threshold} lies outside the scale`);
      }
      return;
    case 'canvasLegacyDecaying':
      if (!(method.weight >= 0 && method.weight <= 1)) invalid('decaying weight must be in [0, 1]');
      return;
    case 'recursiveDecaying':
      if (!(method.rate > 0 && method.rate <= 1)) invalid('decaying rate must be in (0, 1]');
      return;
  }
}

/**
 * Cheap guard run on every calculation: a policy built in code (not via the schema) with a rate
 * of 65 instead of 0.65 would otherwise produce values far off the scale without any error.
 */
export function assertUsablePolicy(policy: MasteryPolicy, scale: ProficiencyScale): void {
  checkMethod(policy.method, scale);
  if (!Number.isInteger(policy.minEvidence) || policy.minEvidence < 0) {
    invalid('minEvidence must be a whole number >= 0');
  }
  if (
    policy.rounding.mode === 'halfUp' &&
    !(Number.isInteger(policy.rounding.decimals) && policy.rounding.decimals >= 0)
  ) {
    invalid('rounding decimals must be a whole number >= 0');
  }
}
