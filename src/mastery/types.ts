/**
 * Types of the pure mastery calculation. Nothing here knows about storage, HTTP or an LMS:
 * evidence comes in as plain values, a result with its full explanation goes out.
 */

/** One scored demonstration of one standard by one student (a rubric row, a quiz bank result...). */
export interface Evidence {
  readonly id: string;
  /** Score on the proficiency scale; `null` while the work is not (yet) scored. */
  readonly score: number | null;
  /** When the student showed the skill: the date given (or assessed) a teacher or an import set. */
  readonly assessedAt?: Date | undefined;
  readonly dueAt?: Date | undefined;
  /** When the student submitted the work, where the LMS says (Canvas's `submitted_at`). */
  readonly submittedAt?: Date | undefined;
  /** When the work was FIRST graded: the original score's time. A regrade does not move it. */
  readonly gradedAt?: Date | undefined;
  /** When the current score was given: the latest grading time. Every regrade moves it. */
  readonly lastGradedAt?: Date | undefined;
  /** When we stored it. Always present: it is the fallback ordering date and the first tie-breaker. */
  readonly recordedAt: Date;
  readonly excused: boolean;
  /** Relative weight, used only by `mean` and `meanOfMostRecent`. Defaults to 1. */
  readonly weight?: number | undefined;
  /** A label a teacher recognises (assignment title), shown in explanations. */
  readonly label?: string | undefined;
}

export interface ProficiencyLevel {
  readonly id: string;
  readonly label: string;
  /** Threshold: a value belongs to the highest level whose `value` is <= it. */
  readonly value: number;
  /** CSS colour, e.g. `#1b7837`. */
  readonly colour: string;
  readonly mastered: boolean;
}

export interface ProficiencyScale {
  readonly levels: readonly ProficiencyLevel[];
  readonly min: number;
  readonly max: number;
}

/**
 * Which date orders evidence oldest → newest, so which score is "the most recent". Vendors
 * disagree, so it is an explicit setting, never implied; each choice is named by who uses it:
 *
 * - `submittedOrLastGraded`: **Canvas**. The student's submission time, or without one the latest
 *   grading time, which moves on a regrade (instructure/canvas-lms
 *   `app/helpers/rollup_score_aggregator_helper.rb`, `result_time`: `submitted_at || assessed_at`).
 * - `graded`: **Schoology**. The original score's time: when the work was first graded; a regrade
 *   does not move it.
 * - `due`: the assignment's due date.
 * - `assessed`: the date given (when the student showed the skill), as a teacher or import set it.
 * - `recorded`: when this tool stored the evidence.
 *
 * A missing date falls back to `recordedAt` (Canvas: submission time, then latest grading time,
 * then `recordedAt`).
 */
export type OrderBy = 'submittedOrLastGraded' | 'graded' | 'due' | 'assessed' | 'recorded';

/** The date that actually placed one piece of evidence (an ordering may read more than one). */
export type OrderDate = 'submitted' | 'lastGraded' | 'graded' | 'due' | 'assessed' | 'recorded';

export type ModeTieRule = 'higher' | 'lower' | 'mostRecent';

export type MasteryMethod =
  | { readonly kind: 'highest' }
  | { readonly kind: 'mostRecent' }
  | { readonly kind: 'mean' }
  | { readonly kind: 'median' }
  | { readonly kind: 'mode'; readonly tieRule: ModeTieRule }
  | { readonly kind: 'meanOfMostRecent'; readonly n: number }
  /** Canvas `n_mastery`: mean of the scores >= threshold once at least n of them exist. */
  | { readonly kind: 'nTimes'; readonly n: number; readonly threshold: number }
  /** Canvas (legacy) "decaying average": weight × latest + (1 − weight) × mean of earlier. */
  | { readonly kind: 'canvasLegacyDecaying'; readonly weight: number }
  /** True decaying average: r_k = (1 − rate)·r_{k−1} + rate·s_k. */
  | { readonly kind: 'recursiveDecaying'; readonly rate: number }
  /** Marzano power law: least-squares fit of y = a·x^b, predicted at the latest point. */
  | { readonly kind: 'powerLaw' };

export type MasteryMethodKind = MasteryMethod['kind'];

export type Rounding =
  | { readonly mode: 'none' }
  /** Half away from zero to `decimals` places (what a teacher expects: 3.285 → 3.29). */
  | { readonly mode: 'halfUp'; readonly decimals: number };

export interface MasteryPolicy {
  readonly method: MasteryMethod;
  /** Fewer eligible (scored, not excused) evidence than this → `insufficientEvidence`. */
  readonly minEvidence: number;
  readonly orderBy: OrderBy;
  readonly rounding: Rounding;
}

export interface CalculationOptions {
  /**
   * Compute mastery as it stood at this instant: evidence recorded after it is ignored
   * (`afterAsOf`). Omit for "everything we have".
   */
  readonly asOf?: Date | undefined;
}

export type IgnoreReason =
  | 'excused'
  | 'noScore'
  | 'outOfScale'
  | 'zeroWeight'
  | 'afterAsOf'
  | 'belowThreshold'
  | 'outsideWindow'
  | 'nonPositiveScore';

export interface UsedEvidence {
  readonly id: string;
  readonly score: number;
  /** 1-based position oldest → newest among the eligible evidence. */
  readonly position: number;
  readonly orderedAt: Date;
  /** The date actually used: the one `orderBy` names, or `recorded` when that date was missing. */
  readonly orderedBy: OrderDate;
  readonly weight: number;
  readonly label?: string | undefined;
}

export interface IgnoredEvidence {
  readonly id: string;
  readonly score: number | null;
  readonly reason: IgnoreReason;
  readonly label?: string | undefined;
}

export type Intermediates = Readonly<Record<string, number | readonly number[]>>;

export interface Explanation {
  readonly method: MasteryMethod;
  readonly orderBy: OrderBy;
  readonly minEvidence: number;
  readonly rounding: Rounding;
  /** Evidence that fed the method, oldest → newest by the ordering date. */
  readonly used: readonly UsedEvidence[];
  /** Everything else, with why. `used` + `ignored` ids = the input ids. */
  readonly ignored: readonly IgnoredEvidence[];
  /** Every number the method computed on the way (running averages, coefficients...). */
  readonly intermediates: Intermediates;
  /** The method's value before clamping and rounding. */
  readonly rawValue?: number | undefined;
  readonly value?: number | undefined;
  readonly level?: ProficiencyLevel | undefined;
  /** For teachers: each step with its numbers. */
  readonly steps: readonly string[];
  /** For students and families: plain words, no formulas. */
  readonly studentSummary: string;
}

export type MasteryStatus = 'mastery' | 'insufficientEvidence' | 'noEvidence';

export interface AppliedOverride {
  readonly value: number;
  readonly level: ProficiencyLevel;
  readonly reason: string;
  readonly by: string;
  readonly at: Date;
  /** What the calculation said, kept beside the override so nobody loses it. */
  readonly computed: {
    readonly status: MasteryStatus;
    readonly value?: number | undefined;
    readonly level?: ProficiencyLevel | undefined;
  };
}

export interface MasteryResult {
  readonly status: MasteryStatus;
  readonly value?: number | undefined;
  readonly level?: ProficiencyLevel | undefined;
  readonly explanation: Explanation;
  /** Present when a teacher overrode the computed value; `value`/`level` then hold the override. */
  readonly override?: AppliedOverride | undefined;
}
