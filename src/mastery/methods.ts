import {
  EPSILON,
  equalsExact,
  formatExact,
  formatFactor,
  formatScore,
  formatScores,
} from './numbers.ts';
import type { IgnoreReason, Intermediates, MasteryMethod, ModeTieRule } from './types.ts';

/** What every method receives: eligible scores already ordered oldest → newest. */
export interface MethodInput {
  readonly scores: readonly number[];
  /** Same length as `scores`; 1 unless the evidence carried a weight. */
  readonly weights: readonly number[];
  /**
   * Fewest decimals for computed values in the teacher steps (2.00). Values show more when they
   * have them: the steps never round before the one rounding step (`calculate.ts`).
   */
  readonly decimals: number;
}

export interface MethodExclusion {
  /** Index into `MethodInput.scores`. */
  readonly index: number;
  readonly reason: IgnoreReason;
}

export interface MethodOutcome {
  /** `undefined` when the method has no result yet (n-times before the n-th success). */
  readonly value: number | undefined;
  readonly intermediates: Intermediates;
  readonly steps: readonly string[];
  /** Eligible evidence this method deliberately leaves out (window, threshold...). */
  readonly excluded: readonly MethodExclusion[];
}

const NO_EXCLUSIONS: readonly MethodExclusion[] = Object.freeze([]);

function lastOf(scores: readonly number[]): number {
  const last = scores[scores.length - 1];
  // Callers guarantee at least one score; a missing one is a programming error.
  if (last === undefined) throw new RangeError('a method needs at least one score');
  return last;
}

function allOne(weights: readonly number[], from = 0): boolean {
  for (let i = from; i < weights.length; i += 1) if (weights[i] !== 1) return false;
  return true;
}

/** Weighted mean over scores[from..]; plain mean when every weight is 1. */
function weightedMean(
  scores: readonly number[],
  weights: readonly number[],
  from: number,
  decimals: number,
  steps: string[],
  label: string,
): { mean: number; sum: number; totalWeight: number } {
  let sum = 0;
  let totalWeight = 0;
  for (let i = from; i < scores.length; i += 1) {
    const weight = weights[i] ?? 1;
    sum += (scores[i] ?? 0) * weight;
    totalWeight += weight;
  }
  const mean = sum / totalWeight;
  const shown = scores.slice(from);
  if (allOne(weights, from)) {
    steps.push(
      `${label} (${formatScores(shown)}) = ${formatScore(sum)} / ${shown.length} ${equalsExact(mean, decimals)}`,
    );
  } else {
    const terms = shown.map(
      (score, k) => `${formatScore(score)} × ${formatFactor(weights[from + k] ?? 1)}`,
    );
    steps.push(
      `Weighted ${label.toLowerCase()} (${terms.join(' + ')}) / ${formatFactor(totalWeight)} ${equalsExact(mean, decimals)}`,
    );
  }
  return { mean, sum, totalWeight };
}

export function highest({ scores }: MethodInput): MethodOutcome {
  let best = -Infinity;
  for (const score of scores) if (score > best) best = score;
  return {
    value: best,
    intermediates: { highest: best },
    steps: [`Highest of (${formatScores(scores)}) = ${formatScore(best)}`],
    excluded: NO_EXCLUSIONS,
  };
}

export function mostRecent({ scores }: MethodInput): MethodOutcome {
  const latest = lastOf(scores);
  return {
    value: latest,
    intermediates: { mostRecent: latest },
    steps: [`Most recent of (${formatScores(scores)}) = ${formatScore(latest)}`],
    excluded: NO_EXCLUSIONS,
  };
}

/** Arithmetic mean; evidence weights, when present, make it a weighted mean. */
export function mean({ scores, weights, decimals }: MethodInput): MethodOutcome {
  const steps: string[] = [];
  const result = weightedMean(scores, weights, 0, decimals, steps, 'Mean of');
  return {
    value: result.mean,
    intermediates: { sum: result.sum, totalWeight: result.totalWeight, mean: result.mean },
    steps,
    excluded: NO_EXCLUSIONS,
  };
}

/** Middle score; with an even count, the mean of the two middle scores. Weights are not used. */
export function median({ scores, decimals }: MethodInput): MethodOutcome {
  const sorted = Float64Array.from(scores).sort();
  const middle = sorted.length >> 1;
  const upper = sorted[middle] ?? 0;
  let value: number;
  let step: string;
  if (sorted.length % 2 === 1) {
    value = upper;
    step = `Scores lowest → highest (${formatScores(Array.from(sorted))}); middle score = ${formatScore(value)}`;
  } else {
    const lower = sorted[middle - 1] ?? 0;
    value = (lower + upper) / 2;
    step = `Scores lowest → highest (${formatScores(Array.from(sorted))}); middle two (${formatScore(lower)} + ${formatScore(upper)}) / 2 ${equalsExact(value, decimals)}`;
  }
  return { value, intermediates: { median: value }, steps: [step], excluded: NO_EXCLUSIONS };
}

/**
 * Most frequent score. Ties are common with few scores (1, 2, 3, 4 is a four-way tie), so the
 * rule is explicit: the higher score, the lower score, or the tied score seen most recently.
 */
export function mode({ scores }: MethodInput, tieRule: ModeTieRule): MethodOutcome {
  const counts = new Map<number, { count: number; lastIndex: number }>();
  scores.forEach((score, index) => {
    const entry = counts.get(score);
    if (entry === undefined) counts.set(score, { count: 1, lastIndex: index });
    else {
      entry.count += 1;
      entry.lastIndex = index;
    }
  });
  let topCount = 0;
  for (const { count } of counts.values()) if (count > topCount) topCount = count;
  const tied: { score: number; lastIndex: number }[] = [];
  for (const [score, { count, lastIndex }] of counts) {
    if (count === topCount) tied.push({ score, lastIndex });
  }
  tied.sort((a, b) => a.score - b.score);
  let chosen = tied[0] ?? { score: lastOf(scores), lastIndex: scores.length - 1 };
  for (const candidate of tied) {
    const better =
      tieRule === 'higher'
        ? candidate.score > chosen.score
        : tieRule === 'lower'
          ? candidate.score < chosen.score
          : candidate.lastIndex > chosen.lastIndex;
    if (better) chosen = candidate;
  }
  const times = topCount === 1 ? 'once' : `${topCount} times`;
  const steps =
    tied.length === 1
      ? [
          `Most frequent score in (${formatScores(scores)}) = ${formatScore(chosen.score)} (${times})`,
        ]
      : [
          `Most frequent scores in (${formatScores(scores)}): ${formatScores(tied.map((t) => t.score))} (${times} each)`,
          `Tie rule "${tieRule}" → ${formatScore(chosen.score)}`,
        ];
  return {
    value: chosen.score,
    intermediates: { modeCount: topCount, tiedScores: tied.map((t) => t.score) },
    steps,
    excluded: NO_EXCLUSIONS,
  };
}

/** Mean of the last n scores; with fewer than n scores, all of them (minEvidence guards that). */
export function meanOfMostRecent(input: MethodInput, n: number): MethodOutcome {
  const { scores, weights, decimals } = input;
  const from = Math.max(0, scores.length - n);
  const excluded: MethodExclusion[] = [];
  for (let index = 0; index < from; index += 1) excluded.push({ index, reason: 'outsideWindow' });
  const steps: string[] = [];
  if (from > 0) steps.push(`Only the ${n} most recent scores count; ${from} older left out`);
  const result = weightedMean(scores, weights, from, decimals, steps, `Mean of most recent ${n}`);
  return {
    value: result.mean,
    intermediates: { windowSize: scores.length - from, sum: result.sum, mean: result.mean },
    steps,
    excluded,
  };
}

/**
 * Canvas `n_mastery`, as implemented in instructure/canvas-lms app/models/rollup_score.rb
 * (`n_mastery` / `n_mastery_set`): scores below `mastery_points` are deleted, nil is returned while
 * fewer than `calculation_int` remain, otherwise the result is the mean of ONLY the remaining
 * (at/above-threshold) scores. (A 2014 version averaged the top n scores instead; current Canvas
 * averages all of them, and so do we.)
 */
export function nTimes(
  { scores, decimals }: MethodInput,
  n: number,
  threshold: number,
): MethodOutcome {
  const excluded: MethodExclusion[] = [];
  const reached: number[] = [];
  scores.forEach((score, index) => {
    if (score >= threshold - EPSILON) reached.push(score);
    else excluded.push({ index, reason: 'belowThreshold' });
  });
  const steps = [
    `Scores at or above ${formatScore(threshold)}: (${formatScores(reached)}), ${reached.length} of ${n} needed`,
  ];
  if (reached.length < n) {
    steps.push(`Mastery threshold reached ${reached.length} times; no result until ${n}`);
    return { value: undefined, intermediates: { timesReached: reached.length }, steps, excluded };
  }
  let sum = 0;
  for (const score of reached) sum += score;
  const value = sum / reached.length;
  steps.push(
    `Mean of (${formatScores(reached)}) = ${formatScore(sum)} / ${reached.length} ${equalsExact(value, decimals)}`,
  );
  return {
    value,
    intermediates: { timesReached: reached.length, sum, mean: value },
    steps,
    excluded,
  };
}

/**
 * Canvas's legacy "decaying average" (now "weighted average"): weight × latest + (1 − weight) ×
 * mean of all earlier scores; a single score is itself (rollup_score.rb `decaying_average_set`).
 */
export function canvasLegacyDecaying(
  { scores, decimals }: MethodInput,
  weight: number,
): MethodOutcome {
  const latest = lastOf(scores);
  if (scores.length === 1) {
    return {
      value: latest,
      intermediates: { latest },
      steps: [`Only one score, so the result is that score: ${formatScore(latest)}`],
      excluded: NO_EXCLUSIONS,
    };
  }
  let sum = 0;
  for (let i = 0; i < scores.length - 1; i += 1) sum += scores[i] ?? 0;
  const earlierCount = scores.length - 1;
  const earlierMean = sum / earlierCount;
  const value = weight * latest + (1 - weight) * earlierMean;
  const shownEarlierMean = formatExact(earlierMean, decimals);
  return {
    value,
    intermediates: { latest, earlierMean, weight },
    steps: [
      `Mean of earlier scores (${formatScores(scores.slice(0, -1))}) ${equalsExact(earlierMean, decimals)}`,
      `${formatFactor(weight)} × ${formatScore(latest)} + ${formatFactor(1 - weight)} × ${shownEarlierMean} ${equalsExact(value, decimals)}`,
    ],
    excluded: NO_EXCLUSIONS,
  };
}

/**
 * True decaying average (Canvas "standard_decaying_average"; Schoology/PowerSchool variants):
 * r_1 = s_1, r_k = (1 − rate)·r_{k−1} + rate·s_k.
 */
export function recursiveDecaying({ scores, decimals }: MethodInput, rate: number): MethodOutcome {
  const running = new Array<number>(scores.length);
  const steps: string[] = [];
  let current = scores[0] ?? 0;
  running[0] = current;
  steps.push(`Start with the first score: ${formatScore(current)}`);
  const keep = formatFactor(1 - rate);
  const take = formatFactor(rate);
  for (let k = 1; k < scores.length; k += 1) {
    const score = scores[k] ?? 0;
    const next = (1 - rate) * current + rate * score;
    steps.push(
      `${keep} × ${formatExact(current, decimals)} + ${take} × ${formatScore(score)} ${equalsExact(next, decimals)}`,
    );
    current = next;
    running[k] = current;
  }
  return {
    value: current,
    intermediates: { runningAverages: running, rate },
    steps,
    excluded: NO_EXCLUSIONS,
  };
}

/**
 * Marzano's power law: least-squares fit of y = a·x^b over ordinal positions x = 1..n, done as a
 * linear regression of ln y on ln x, then the curve's value at the latest position n.
 *
 * - ln is undefined at 0 and below, so non-positive scores are left out of the fit
 *   (`nonPositiveScore`) but keep their position: the trend still spans the whole history.
 * - One score: the result is that score. Fewer than two positive points: no curve can be fitted,
 *   so the result is the most recent score.
 * - Identical scores give b = 0 and a = that score, so the prediction is that score.
 * - The prediction can exceed the best score (that is the point of the method); the caller clamps
 *   it to the scale.
 */
export function powerLaw({ scores, decimals }: MethodInput): MethodOutcome {
  const n = scores.length;
  const latest = lastOf(scores);
  if (n === 1) {
    return {
      value: latest,
      intermediates: {},
      steps: [`Only one score, so the result is that score: ${formatScore(latest)}`],
      excluded: NO_EXCLUSIONS,
    };
  }
  const excluded: MethodExclusion[] = [];
  let m = 0;
  let sumX = 0;
  let sumY = 0;
  let sumXY = 0;
  let sumXX = 0;
  for (let i = 0; i < n; i += 1) {
    const score = scores[i] ?? 0;
    if (score <= 0) {
      excluded.push({ index: i, reason: 'nonPositiveScore' });
      continue;
    }
    const x = Math.log(i + 1);
    const y = Math.log(score);
    m += 1;
    sumX += x;
    sumY += y;
    sumXY += x * y;
    sumXX += x * x;
  }
  const steps: string[] = [];
  if (m < 2) {
    steps.push(
      `Fewer than two positive scores: no trend to fit; using the most recent score ${formatScore(latest)}`,
    );
    // The fallback reads the whole history, so nothing is left out after all.
    return { value: latest, intermediates: { points: m }, steps, excluded: NO_EXCLUSIONS };
  }
  if (excluded.length > 0) {
    steps.push(`${excluded.length} score(s) of 0 or below left out of the fit (ln is undefined)`);
  }
  // m >= 2 positive points at distinct positions, so the denominator is > 0.
  const b = (m * sumXY - sumX * sumY) / (m * sumXX - sumX * sumX);
  const lnA = (sumY - b * sumX) / m;
  const a = Math.exp(lnA);
  // Predict in log space: a·n^b directly can be 0 × ∞ = NaN when a tiny score makes the fit steep.
  const value = Math.exp(lnA + b * Math.log(n));
  steps.push(
    `Fit y = a·x^b to positions 1..${n} with scores (${formatScores(scores)}) by least squares on ln y = ln a + b·ln x`,
    `a = ${a.toFixed(4)}, b = ${b.toFixed(4)}`,
    `Predicted at the latest position ${n}: ${a.toFixed(4)} × ${n}^${b.toFixed(4)} ${equalsExact(value, decimals)}`,
  );
  return { value, intermediates: { points: m, a, b, lnA, prediction: value }, steps, excluded };
}

/** Every method behind one switch; adding a method to the union fails compilation here. */
export function runMethod(method: MasteryMethod, input: MethodInput): MethodOutcome {
  switch (method.kind) {
    case 'highest':
      return highest(input);
    case 'mostRecent':
      return mostRecent(input);
    case 'mean':
      return mean(input);
    case 'median':
      return median(input);
    case 'mode':
      return mode(input, method.tieRule);
    case 'meanOfMostRecent':
      return meanOfMostRecent(input, method.n);
    case 'nTimes':
      return nTimes(input, method.n, method.threshold);
    case 'canvasLegacyDecaying':
      return canvasLegacyDecaying(input, method.weight);
    case 'recursiveDecaying':
      return recursiveDecaying(input, method.rate);
    case 'powerLaw':
      return powerLaw(input);
    default:
      return assertNever(method);
  }
}

function assertNever(value: never): never {
  throw new TypeError(`unhandled mastery method ${JSON.stringify(value)}`);
}
