import { z } from 'zod';
import {
  describeMethod,
  describeOrder,
  masteryMethodSchema,
  orderBySchema,
} from '../mastery/index.ts';
import type { MasteryMethod, OrderBy, OrderDate, Rounding } from '../mastery/types.ts';
import { formatValue } from './levels.ts';

/**
 * "Show your work": the stored explanation JSON (`mastery_results.explanation`) read back into a
 * view-model. The JSON is parsed at this edge; a row that does not parse (written by an older
 * version) shows "explanation unavailable" instead of breaking the page.
 */

const level = z.object({ id: z.string(), label: z.string(), value: z.number() }).loose();
const isoDate = z.string();

const calculatedSchema = z.object({
  kind: z.literal('calculated'),
  result: z
    .object({
      status: z.enum(['mastery', 'insufficientEvidence', 'noEvidence']),
      value: z.number().optional(),
      level: level.optional(),
      explanation: z
        .object({
          method: masteryMethodSchema,
          orderBy: orderBySchema,
          minEvidence: z.number(),
          rounding: z.union([
            z.object({ mode: z.literal('none') }),
            z.object({ mode: z.literal('halfUp'), decimals: z.number() }),
          ]),
          used: z.array(
            z
              .object({
                id: z.string(),
                score: z.number(),
                position: z.number(),
                orderedAt: isoDate,
                orderedBy: z.enum([
                  'submitted',
                  'lastGraded',
                  'graded',
                  'due',
                  'assessed',
                  'recorded',
                ]),
                weight: z.number(),
                label: z.string().optional(),
              })
              .loose(),
          ),
          ignored: z.array(
            z
              .object({
                id: z.string(),
                score: z.number().nullable(),
                reason: z.string(),
                label: z.string().optional(),
              })
              .loose(),
          ),
          rawValue: z.number().optional(),
          value: z.number().optional(),
          steps: z.array(z.string()),
          studentSummary: z.string(),
        })
        .loose(),
      override: z
        .object({
          value: z.number(),
          level: level,
          reason: z.string(),
          by: z.string(),
          at: isoDate,
          computed: z
            .object({
              status: z.string(),
              value: z.number().optional(),
              level: level.optional(),
            })
            .loose(),
        })
        .loose()
        .optional(),
    })
    .loose(),
});

const rollupSchema = z.object({
  kind: z.literal('rollup'),
  result: z
    .object({
      status: z.enum(['mastery', 'noEvidence']),
      value: z.number().optional(),
      level: level.optional(),
      explanation: z
        .object({
          rule: z.object({ method: z.enum(['mean', 'minimum', 'weighted']) }).loose(),
          used: z.array(
            z
              .object({
                standardId: z.string(),
                value: z.number(),
                levelId: z.string(),
                weight: z.number(),
                overridden: z.boolean(),
              })
              .loose(),
          ),
          ignored: z.array(z.object({ standardId: z.string(), reason: z.string() }).loose()),
          steps: z.array(z.string()),
          studentSummary: z.string(),
        })
        .loose(),
    })
    .loose(),
  override: z
    .object({
      value: z.number(),
      levelId: z.string(),
      reason: z.string(),
      by: z.string(),
      at: isoDate,
    })
    .loose()
    .optional(),
});

const storedSchema = z.discriminatedUnion('kind', [calculatedSchema, rollupSchema]);

export type StoredCalculated = z.infer<typeof calculatedSchema>;
export type StoredRollup = z.infer<typeof rollupSchema>;
export type StoredExplanationJson = z.infer<typeof storedSchema>;

export function parseStoredExplanation(json: unknown): StoredExplanationJson | undefined {
  const parsed = storedSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

const IGNORE_REASONS: Readonly<Record<string, string>> = {
  excused: 'Excused: excused work never counts',
  noScore: 'Not scored yet',
  outOfScale: 'Score outside the scale',
  zeroWeight: 'Weight 0',
  afterAsOf: 'Recorded after the date this level was worked out for',
  belowThreshold: 'Below the threshold this method counts',
  outsideWindow: 'Older than the most recent scores this method uses',
  nonPositiveScore: 'Score of 0 or less (the power law needs positive scores)',
  noResult: 'No level yet',
  noEvidence: 'No evidence yet',
  insufficientEvidence: 'Not enough evidence yet',
  noWeight: 'No weight set for it',
};

export function ignoreReasonText(reason: string): string {
  return IGNORE_REASONS[reason] ?? reason;
}

/** The ordering in words, naming the LMS that orders this way ("Canvas’s order"). */
export function orderByText(orderBy: OrderBy): string {
  return describeOrder(orderBy);
}

const ORDER_DATE: Readonly<Record<OrderDate, string>> = {
  submitted: 'submitted',
  lastGraded: 'last graded',
  graded: 'first graded',
  due: 'due date',
  assessed: 'date given',
  recorded: 'date recorded',
};

/** Which date placed one piece of evidence. */
export function orderDateText(date: OrderDate): string {
  return ORDER_DATE[date];
}

function roundingText(rounding: Rounding): string {
  return rounding.mode === 'none'
    ? 'Not rounded'
    : `Rounded half up to ${rounding.decimals} decimal${rounding.decimals === 1 ? '' : 's'}`;
}

/** The method's own settings, in words. */
export function methodParameters(method: MasteryMethod): { name: string; value: string }[] {
  switch (method.kind) {
    case 'mode':
      return [
        {
          name: 'Tie rule',
          value: method.tieRule === 'mostRecent' ? 'most recent' : method.tieRule,
        },
      ];
    case 'meanOfMostRecent':
      return [{ name: 'Most recent scores used', value: String(method.n) }];
    case 'nTimes':
      return [
        { name: 'Times needed', value: String(method.n) },
        { name: 'Threshold', value: formatValue(method.threshold) },
      ];
    case 'canvasLegacyDecaying':
      return [
        { name: 'Weight of the latest score', value: `${formatValue(method.weight * 100)}%` },
      ];
    case 'recursiveDecaying':
      return [{ name: 'Weight of each new score', value: `${formatValue(method.rate * 100)}%` }];
    case 'highest':
    case 'mostRecent':
    case 'mean':
    case 'median':
    case 'powerLaw':
      return [];
  }
}

export interface ExplanationView {
  readonly kind: 'calculated' | 'rollup' | 'unavailable';
  readonly method: string;
  readonly parameters: readonly { name: string; value: string }[];
  readonly used: readonly {
    position: number;
    label: string;
    score: string;
    date: string;
    dateKind: string;
    weight: string;
  }[];
  readonly ignored: readonly { label: string; score: string; reason: string }[];
  readonly steps: readonly string[];
  readonly studentSummary: string;
  readonly override:
    { value: string; level: string; reason: string; at: string; computed: string } | undefined;
}

export function isoDay(iso: string | Date | undefined): string {
  if (iso === undefined) return '';
  const date = typeof iso === 'string' ? new Date(iso) : iso;
  return Number.isNaN(date.getTime()) ? '' : date.toISOString().slice(0, 10);
}

/**
 * Words for a stored level whose inputs no longer give it (see `workingOf` in student.ts): a
 * policy change still being recalculated, or a standard moved in the framework since.
 */
export const RECALCULATING =
  'This level was worked out before a recent change to the course’s mastery policy or its standards. Its working will show here once the level is recalculated.';

/**
 * Builds the teacher's "show your work" and the student's plain words. `evidenceLabel` names a
 * piece of evidence by id (assignment title and date) when the explanation carries no label;
 * `standardLabel` names a child standard of a roll-up. Without a working, `unavailable` gives
 * the words shown instead.
 */
export function explanationView(
  json: unknown,
  names: {
    evidenceLabel: (id: string) => string | undefined;
    standardLabel: (id: string) => string | undefined;
    levelLabel: (id: string) => string | undefined;
  },
  unavailable = 'The explanation of this level is not available yet.',
): ExplanationView {
  const stored = parseStoredExplanation(json);
  if (stored === undefined) {
    return {
      kind: 'unavailable',
      method: '',
      parameters: [],
      used: [],
      ignored: [],
      steps: [],
      studentSummary: unavailable,
      override: undefined,
    };
  }
  if (stored.kind === 'calculated') {
    const { explanation, override } = stored.result;
    return {
      kind: 'calculated',
      method: describeMethod(explanation.method),
      parameters: [
        ...methodParameters(explanation.method),
        { name: 'Evidence ordered by', value: orderByText(explanation.orderBy) },
        { name: 'Minimum evidence for a level', value: String(explanation.minEvidence) },
        { name: 'Rounding', value: roundingText(explanation.rounding) },
      ],
      used: explanation.used.map((u) => ({
        position: u.position,
        label: u.label ?? names.evidenceLabel(u.id) ?? 'Evidence without an assignment',
        score: formatValue(u.score),
        date: isoDay(u.orderedAt),
        dateKind: orderDateText(u.orderedBy),
        weight: formatValue(u.weight),
      })),
      ignored: explanation.ignored.map((i) => ({
        label: i.label ?? names.evidenceLabel(i.id) ?? 'Evidence without an assignment',
        score: i.score === null ? 'not scored' : formatValue(i.score),
        reason: ignoreReasonText(i.reason),
      })),
      steps: explanation.steps,
      studentSummary: explanation.studentSummary,
      override:
        override === undefined
          ? undefined
          : {
              value: formatValue(override.value),
              level: override.level.label,
              reason: override.reason,
              at: isoDay(override.at),
              computed:
                override.computed.value === undefined
                  ? 'no level (not enough evidence)'
                  : `${override.computed.level?.label ?? ''} (${formatValue(override.computed.value)})`.trim(),
            },
    };
  }
  const { explanation } = stored.result;
  const note = stored.override;
  return {
    kind: 'rollup',
    method:
      explanation.rule.method === 'mean'
        ? 'Mean of its parts (child standards)'
        : explanation.rule.method === 'minimum'
          ? 'Lowest of its parts (child standards)'
          : 'Weighted mean of its parts (child standards)',
    parameters: [],
    // Children in code order (the stored order follows the recomputation, not the framework).
    used: explanation.used
      .map((u) => ({ label: names.standardLabel(u.standardId) ?? 'A child standard', u }))
      .sort((a, b) => a.label.localeCompare(b.label, 'en', { numeric: true }))
      .map(({ label, u }, index) => ({
        position: index + 1,
        label,
        score: formatValue(u.value),
        date: '',
        dateKind: '',
        weight: formatValue(u.weight),
      })),
    ignored: explanation.ignored.map((i) => ({
      label: names.standardLabel(i.standardId) ?? 'A child standard',
      score: '',
      reason: ignoreReasonText(i.reason),
    })),
    // Roll-up steps name child standards by id; people read their codes.
    steps: explanation.steps.map((step) => {
      let text = step;
      for (const child of [...explanation.used, ...explanation.ignored]) {
        const label = names.standardLabel(child.standardId);
        if (label !== undefined) text = text.split(child.standardId).join(label);
      }
      return text;
    }),
    studentSummary: explanation.studentSummary,
    override:
      note === undefined
        ? undefined
        : {
            value: formatValue(note.value),
            level: names.levelLabel(note.levelId) ?? note.levelId,
            reason: note.reason,
            at: isoDay(note.at),
            computed:
              stored.result.value === undefined
                ? 'no level'
                : `${stored.result.level?.label ?? ''} (${formatValue(stored.result.value)})`.trim(),
          },
  };
}
