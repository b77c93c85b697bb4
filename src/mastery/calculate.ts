import { runMethod, type MethodOutcome } from './methods.ts';
import {
  clamp,
  displayDecimals,
  EPSILON,
  formatComputed,
  formatExact,
  formatFactor,
  formatScore,
  formatValue,
  roundValue,
} from './numbers.ts';
import { assertUsablePolicy } from './policy.ts';
import { isOnScale, levelForValue } from './scale.ts';
import type {
  CalculationOptions,
  Evidence,
  Explanation,
  IgnoredEvidence,
  IgnoreReason,
  Intermediates,
  MasteryMethod,
  MasteryPolicy,
  MasteryResult,
  MasteryStatus,
  OrderBy,
  OrderDate,
  ProficiencyLevel,
  ProficiencyScale,
  UsedEvidence,
} from './types.ts';

/** Internal: one evidence with its precomputed sort keys (one allocation, sorted once). */
interface Keyed {
  readonly evidence: Evidence;
  readonly orderTime: number;
  readonly recordedTime: number;
  readonly orderedBy: OrderDate;
}

const DATE_FIELD = {
  submitted: 'submittedAt',
  lastGraded: 'lastGradedAt',
  assessed: 'assessedAt',
  due: 'dueAt',
  graded: 'gradedAt',
  recorded: 'recordedAt',
} as const satisfies Record<OrderDate, keyof Evidence>;

/**
 * The dates each ordering reads, first present wins; `recordedAt` is always the last resort.
 * `src/storage/mastery/results.repository.ts` orders the recomputation's SQL the same way.
 */
export const ORDER_DATES: Readonly<Record<OrderBy, readonly OrderDate[]>> = {
  submittedOrLastGraded: ['submitted', 'lastGraded'],
  graded: ['graded'],
  due: ['due'],
  assessed: ['assessed'],
  recorded: [],
};

function keyOf(evidence: Evidence, orderBy: OrderBy): Keyed {
  const recordedTime = evidence.recordedAt.getTime();
  // A missing ordering date (ungraded work has no gradedAt, ungated work no dueAt) falls back to
  // recordedAt rather than dropping the evidence; the explanation says which date was used.
  for (const kind of ORDER_DATES[orderBy]) {
    const date = evidence[DATE_FIELD[kind]];
    if (date !== undefined && !Number.isNaN(date.getTime())) {
      return { evidence, orderTime: date.getTime(), recordedTime, orderedBy: kind };
    }
  }
  return { evidence, orderTime: recordedTime, recordedTime, orderedBy: 'recorded' };
}

/** Ordering date, then recordedAt, then id: a total order, so input order never matters. */
function compareKeyed(a: Keyed, b: Keyed): number {
  return (
    a.orderTime - b.orderTime ||
    a.recordedTime - b.recordedTime ||
    (a.evidence.id < b.evidence.id ? -1 : a.evidence.id > b.evidence.id ? 1 : 0)
  );
}

function eligibilityOf(
  evidence: Evidence,
  scale: ProficiencyScale,
  asOfTime: number | undefined,
): IgnoreReason | undefined {
  if (asOfTime !== undefined && evidence.recordedAt.getTime() > asOfTime) return 'afterAsOf';
  if (evidence.excused) return 'excused';
  if (evidence.score === null || !Number.isFinite(evidence.score)) return 'noScore';
  if (!isOnScale(evidence.score, scale)) return 'outOfScale';
  const weight = evidence.weight;
  if (weight !== undefined && !(weight > 0 && Number.isFinite(weight))) return 'zeroWeight';
  return undefined;
}

const ORDER_WORDS: Record<OrderBy, string> = {
  submittedOrLastGraded: 'submission time, else the latest grading time (Canvas’s order)',
  graded: 'time of the original score (Schoology’s order)',
  due: 'due date',
  assessed: 'date given',
  recorded: 'date recorded in this tool',
};

/** The ordering in words, naming the LMS that orders this way. */
export function describeOrder(orderBy: OrderBy): string {
  return ORDER_WORDS[orderBy];
}

export function describeMethod(method: MasteryMethod): string {
  switch (method.kind) {
    case 'highest':
      return 'Highest score';
    case 'mostRecent':
      return 'Most recent score';
    case 'mean':
      return 'Mean (average) of all scores';
    case 'median':
      return 'Median (middle) score';
    case 'mode':
      return `Mode (most frequent score), ties go to the ${method.tieRule === 'mostRecent' ? 'most recent' : method.tieRule} score`;
    case 'meanOfMostRecent':
      return `Mean of the ${method.n} most recent scores`;
    case 'nTimes':
      return `Reach ${formatScore(method.threshold)} or higher at least ${method.n} times (mean of those scores)`;
    case 'canvasLegacyDecaying':
      return `Weighted average: latest score ${formatFactor(method.weight * 100)}%, mean of earlier scores ${formatFactor((1 - method.weight) * 100)}%`;
    case 'recursiveDecaying':
      return `Decaying average: each new score ${formatFactor(method.rate * 100)}%, the running average ${formatFactor((1 - method.rate) * 100)}%`;
    case 'powerLaw':
      return 'Power law (trend of scores over time)';
  }
}

function describeForStudent(method: MasteryMethod): string {
  switch (method.kind) {
    case 'highest':
      return 'Your level is your best score so far.';
    case 'mostRecent':
      return 'Your level is your most recent score, so what you can do now is what counts.';
    case 'mean':
      return 'Your level is the average of your scores.';
    case 'median':
      return 'Your level is the middle of your scores, so one unusually high or low score does not move it much.';
    case 'mode':
      return 'Your level is the score you earned most often.';
    case 'meanOfMostRecent':
      return `Your level is the average of your ${method.n} most recent scores.`;
    case 'nTimes':
      return `You need to score ${formatScore(method.threshold)} or higher at least ${method.n} times; your level is the average of those scores.`;
    case 'canvasLegacyDecaying':
      return `Your most recent score counts for ${formatFactor(method.weight * 100)}% and the average of your earlier scores for the rest.`;
    case 'recursiveDecaying':
      return 'Each new score counts more than the ones before it, so recent work matters most.';
    case 'powerLaw':
      return 'Your level follows the trend of your scores over time, so steady growth is recognised.';
  }
}

/** The student's words show two decimals, rounded half-up like the teacher's steps. */
const SUMMARY_ROUNDING = { mode: 'halfUp', decimals: 2 } as const;

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

function studentSummaryOf(
  status: MasteryStatus,
  method: MasteryMethod,
  usedCount: number,
  excusedCount: number,
  shortfall: string | undefined,
  value: number | undefined,
  level: ProficiencyLevel | undefined,
): string {
  const parts: string[] = [];
  if (status === 'noEvidence') {
    parts.push('There is no scored work for this standard yet.');
  } else {
    parts.push(describeForStudent(method));
    if (status === 'insufficientEvidence' || value === undefined || level === undefined) {
      parts.push(`There is not enough evidence for a level yet: ${shortfall ?? ''}`.trim());
    } else {
      parts.push(
        `From ${plural(usedCount, 'scored piece', 'scored pieces')} of work, your level is ${level.label} (${formatComputed(roundValue(value, SUMMARY_ROUNDING), 2)}).`,
        level.mastered
          ? 'You have mastered this standard.'
          : 'You have not mastered this standard yet.',
      );
    }
  }
  if (excusedCount > 0) {
    parts.push(`${plural(excusedCount, 'excused piece', 'excused pieces')} of work did not count.`);
  }
  return parts.join(' ');
}

function reasonCounts(ignored: readonly IgnoredEvidence[]): string {
  const counts = new Map<IgnoreReason, number>();
  for (const item of ignored) counts.set(item.reason, (counts.get(item.reason) ?? 0) + 1);
  return [...counts].map(([reason, count]) => `${count} ${reason}`).join(', ');
}

/**
 * Evidence + policy + scale → a mastery value, its level and a full explanation.
 *
 * 1. Sort all evidence once by (ordering date, recordedAt, id).
 * 2. Set aside what cannot count (after `asOf`, excused, unscored, off the scale, weight <= 0).
 * 3. No evidence left → `noEvidence`; fewer than `minEvidence` → `insufficientEvidence`.
 * 4. Run the method; it may leave out more (window, threshold) or have no result yet.
 * 5. Clamp to the scale, round per policy, then map the rounded value to its level, so the
 *    level always agrees with the number a teacher sees.
 */
export function calculateMastery(
  evidence: readonly Evidence[],
  policy: MasteryPolicy,
  scale: ProficiencyScale,
  options: CalculationOptions = {},
): MasteryResult {
  assertUsablePolicy(policy, scale);
  const { method, orderBy, minEvidence, rounding } = policy;
  const decimals = displayDecimals(rounding);
  const asOfTime = options.asOf?.getTime();

  const keyed = new Array<Keyed>(evidence.length);
  for (let i = 0; i < evidence.length; i += 1) {
    keyed[i] = keyOf(evidence[i] as Evidence, orderBy);
  }
  keyed.sort(compareKeyed);

  // reasons[i] is why keyed[i] was set aside; eligible[] indexes into keyed, oldest → newest.
  const reasons = new Array<IgnoreReason | undefined>(keyed.length);
  const eligible: number[] = [];
  const scores: number[] = [];
  const weights: number[] = [];
  let excusedCount = 0;
  for (let i = 0; i < keyed.length; i += 1) {
    const item = (keyed[i] as Keyed).evidence;
    const reason = eligibilityOf(item, scale, asOfTime);
    reasons[i] = reason;
    if (reason === 'excused') excusedCount += 1;
    if (reason === undefined) {
      eligible.push(i);
      scores.push(item.score as number);
      weights.push(item.weight ?? 1);
    }
  }

  const steps: string[] = [
    `Method: ${describeMethod(method)}`,
    `Evidence ordered oldest → newest by ${ORDER_WORDS[orderBy]}${orderBy === 'recorded' ? ' (then id)' : ' (then date recorded, then id)'}`,
  ];

  let status: MasteryStatus;
  let outcome: MethodOutcome | undefined;
  let shortfall: string | undefined;
  if (eligible.length === 0) {
    status = 'noEvidence';
    steps.push('No scored evidence to use');
  } else if (eligible.length < minEvidence) {
    status = 'insufficientEvidence';
    shortfall = `${plural(minEvidence, 'scored piece', 'scored pieces')} of work needed, ${eligible.length} so far.`;
    steps.push(
      `${plural(eligible.length, 'piece', 'pieces')} of evidence; the policy needs at least ${minEvidence}: no result`,
    );
  } else {
    outcome = runMethod(method, { scores, weights, decimals });
    for (const exclusion of outcome.excluded) {
      reasons[eligible[exclusion.index] as number] = exclusion.reason;
    }
    // A loop, not push(...steps): spread overflows the stack on very long histories.
    for (const step of outcome.steps) steps.push(step);
    if (outcome.value === undefined) {
      status = 'insufficientEvidence';
      shortfall = shortfallOf(method, outcome.intermediates);
    } else {
      status = 'mastery';
    }
  }

  const used: UsedEvidence[] = [];
  const ignored: IgnoredEvidence[] = [];
  let position = 0;
  for (let i = 0; i < keyed.length; i += 1) {
    const { evidence: item, orderTime, orderedBy } = keyed[i] as Keyed;
    const reason = reasons[i];
    // Position counts all eligible evidence, including what the method then left out, so
    // "3rd of 5" means the same thing whatever the method.
    const isEligible = eligible.length > 0 && (reason === undefined || isMethodReason(reason));
    if (isEligible) position += 1;
    if (reason === undefined) {
      used.push({
        id: item.id,
        score: item.score as number,
        position,
        orderedAt: new Date(orderTime),
        orderedBy,
        weight: item.weight ?? 1,
        label: item.label,
      });
    } else {
      ignored.push({ id: item.id, score: item.score, reason, label: item.label });
    }
  }
  if (ignored.length > 0) steps.splice(2, 0, `Not counted: ${reasonCounts(ignored)}`);

  let rawValue: number | undefined;
  let value: number | undefined;
  let level: ProficiencyLevel | undefined;
  if (status === 'mastery' && outcome?.value !== undefined) {
    rawValue = outcome.value;
    const clamped = clamp(rawValue, scale.min, scale.max);
    if (Math.abs(clamped - rawValue) > EPSILON) {
      steps.push(
        `${formatExact(rawValue, decimals)} lies outside the scale; limited to ${formatScore(clamped)}`,
      );
    }
    value = roundValue(clamped, rounding);
    if (rounding.mode === 'halfUp' && Math.abs(value - clamped) > EPSILON) {
      steps.push(
        `Rounded to ${plural(rounding.decimals, 'decimal', 'decimals')}: ${formatValue(value)}`,
      );
    }
    level = levelForValue(value, scale);
    const mastered = level.mastered ? ' (mastered)' : ' (not mastered)';
    steps.push(
      value + EPSILON >= level.value
        ? `${formatValue(value)} is at or above ${level.label} (${formatScore(level.value)}) → ${level.label}${mastered}`
        : `${formatValue(value)} is below every level → the lowest, ${level.label}${mastered}`,
    );
  }

  const intermediates: Intermediates = outcome?.intermediates ?? {};
  const explanation: Explanation = {
    method,
    orderBy,
    minEvidence,
    rounding,
    used,
    ignored,
    intermediates,
    rawValue,
    value,
    level,
    steps,
    studentSummary: studentSummaryOf(
      status,
      method,
      used.length,
      excusedCount,
      shortfall,
      value,
      level,
    ),
  };
  return { status, value, level, explanation };
}

/** Plain words for a method that has no result yet (only n-times can withhold one). */
function shortfallOf(method: MasteryMethod, intermediates: Intermediates): string {
  if (method.kind === 'nTimes') {
    const reached = intermediates['timesReached'];
    const times = typeof reached === 'number' ? reached : 0;
    return `you have scored ${formatScore(method.threshold)} or higher ${plural(times, 'time', 'times')}, and ${method.n} are needed.`;
  }
  return 'the method has no result yet.';
}

function isMethodReason(reason: IgnoreReason): boolean {
  return reason === 'belowThreshold' || reason === 'outsideWindow' || reason === 'nonPositiveScore';
}
