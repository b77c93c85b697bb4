import { calculateMastery } from '../mastery/index.ts';
import type {
  Evidence,
  MasteryPolicy,
  ProficiencyLevel,
  ProficiencyScale,
} from '../mastery/types.ts';
import { formatValue } from './levels.ts';

/**
 * "What score would move me up?", answered honestly: instead of inverting each method's formula,
 * the student's own evidence plus one (or two) imagined new scores goes through the very
 * calculation the policy uses. We only promise a number when every higher score also reaches
 * the level (some methods, like the mode, can move down as well as up); otherwise the advice is
 * phrased generally.
 */

export type NextStep =
  | { readonly kind: 'overridden' }
  | { readonly kind: 'top' }
  | {
      readonly kind: 'score';
      readonly score: number;
      readonly target: ProficiencyLevel;
      /** How many new scores of `score` it takes (1 or 2). */
      readonly times: 1 | 2;
    }
  | { readonly kind: 'moreEvidence'; readonly needed: number }
  | { readonly kind: 'uncertain'; readonly target: ProficiencyLevel | undefined };

/** The scores a teacher may enter: every level value and half steps across the scale. */
export function candidateScores(scale: ProficiencyScale): number[] {
  const set = new Set<number>(scale.levels.map((level) => level.value));
  for (let v = scale.min; v <= scale.max + 1e-9; v += 0.5) set.add(Number(v.toFixed(6)));
  set.add(scale.max);
  return [...set].filter((v) => v >= scale.min && v <= scale.max).sort((a, b) => a - b);
}

function latestTime(evidence: readonly Evidence[], now: Date): number {
  let latest = now.getTime();
  for (const e of evidence) {
    for (const date of [
      e.assessedAt,
      e.dueAt,
      e.submittedAt,
      e.gradedAt,
      e.lastGradedAt,
      e.recordedAt,
    ]) {
      if (date !== undefined && date.getTime() > latest) latest = date.getTime();
    }
  }
  return latest;
}

function imagined(score: number, at: Date, index: number): Evidence {
  return {
    id: `imagined-${index}`,
    score,
    assessedAt: at,
    dueAt: at,
    submittedAt: at,
    gradedAt: at,
    lastGradedAt: at,
    recordedAt: at,
    excused: false,
  };
}

export function nextStep(input: {
  readonly evidence: readonly Evidence[];
  readonly policy: MasteryPolicy;
  readonly scale: ProficiencyScale;
  readonly now: Date;
  readonly overridden: boolean;
}): NextStep {
  const { evidence, policy, scale } = input;
  if (input.overridden) return { kind: 'overridden' };
  const current = calculateMastery(evidence, policy, scale);
  const ascending = [...scale.levels].sort((a, b) => a.value - b.value);
  const target =
    current.status === 'mastery' && current.level !== undefined
      ? ascending.find((level) => level.value > (current.level as ProficiencyLevel).value)
      : undefined;
  if (current.status === 'mastery' && target === undefined) return { kind: 'top' };

  const base = latestTime(evidence, input.now);
  const reaches = (scores: readonly number[]): boolean => {
    const extra = scores.map((score, i) => imagined(score, new Date(base + (i + 1) * 1000), i));
    const result = calculateMastery([...evidence, ...extra], policy, scale);
    if (result.status !== 'mastery' || result.level === undefined) return false;
    return target === undefined || result.level.value >= target.value;
  };

  if (current.status !== 'mastery') {
    const eligible = current.explanation.used.length;
    const needed = Math.max(1, policy.minEvidence - eligible);
    if (policy.minEvidence > eligible + 1) return { kind: 'moreEvidence', needed };
  }

  const candidates = candidateScores(scale);
  for (const times of [1, 2] as const) {
    const hits = candidates.map((score) => reaches(Array.from({ length: times }, () => score)));
    const first = hits.indexOf(true);
    if (first < 0) continue;
    // Promise a number only if every higher score reaches it too.
    if (hits.slice(first).every(Boolean)) {
      const score = candidates[first] as number;
      const reached =
        target ??
        calculateMastery(
          [
            ...evidence,
            ...Array.from({ length: times }, (_, i) =>
              imagined(score, new Date(base + (i + 1) * 1000), i),
            ),
          ],
          policy,
          scale,
        ).level;
      if (reached === undefined) return { kind: 'uncertain', target };
      return { kind: 'score', score, target: reached, times };
    }
    return { kind: 'uncertain', target };
  }
  return { kind: 'uncertain', target };
}

/** The advice in plain words, for students and families. */
export function nextStepText(step: NextStep): string {
  switch (step.kind) {
    case 'overridden':
      return 'Your teacher set this level. Talk with your teacher about how to show more.';
    case 'top':
      return 'You are at the top level. Keep it up: new work still counts.';
    case 'moreEvidence':
      return `Complete ${step.needed} more scored piece${step.needed === 1 ? '' : 's'} of work on this standard before a level is shown.`;
    case 'score':
      return step.times === 1
        ? `A score of ${formatValue(step.score)} or higher on your next piece of work would move you to ${step.target.label}.`
        : `It takes more than one strong result: two scores of ${formatValue(step.score)} or higher would move you to ${step.target.label}.`;
    case 'uncertain':
      return step.target === undefined
        ? 'Show this skill again on new work; strong scores will count toward your level.'
        : `Show this skill again on new work; with how your level is worked out, one score alone may not move you to ${step.target.label}, so keep practising.`;
  }
}
