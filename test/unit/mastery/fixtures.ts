import type {
  Evidence,
  MasteryMethod,
  MasteryPolicy,
  Rounding,
} from '../../../src/mastery/index.ts';

const DAY = 24 * 60 * 60 * 1000;
const START = Date.UTC(2026, 8, 1);

/** 1 September 2026 plus `days`. */
export function day(days: number): Date {
  return new Date(START + days * DAY);
}

/** Scores oldest → newest, one a day, all ordering dates equal to the recorded date. */
export function series(scores: readonly (number | null)[]): Evidence[] {
  return scores.map((score, index) => ({
    id: `e${index + 1}`,
    score,
    recordedAt: day(index),
    excused: false,
  }));
}

export function policy(
  method: MasteryMethod,
  overrides: Partial<Omit<MasteryPolicy, 'method'>> = {},
): MasteryPolicy {
  const rounding: Rounding = { mode: 'none' };
  return { method, minEvidence: 1, orderBy: 'recorded', rounding, ...overrides };
}

export const ALL_METHODS: readonly MasteryMethod[] = [
  { kind: 'highest' },
  { kind: 'mostRecent' },
  { kind: 'mean' },
  { kind: 'median' },
  { kind: 'mode', tieRule: 'higher' },
  { kind: 'mode', tieRule: 'lower' },
  { kind: 'mode', tieRule: 'mostRecent' },
  { kind: 'meanOfMostRecent', n: 3 },
  { kind: 'nTimes', n: 2, threshold: 3 },
  { kind: 'canvasLegacyDecaying', weight: 0.65 },
  { kind: 'recursiveDecaying', rate: 0.65 },
  { kind: 'powerLaw' },
];
