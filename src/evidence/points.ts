import type { ProficiencyScale } from '../mastery/types.ts';

/**
 * Points → a score on the proficiency scale, linearly over the scale's range:
 *
 *     score = min + (points / pointsPossible) × (max − min)
 *
 * with the fraction limited to 0..1 (extra credit tops out at the scale's maximum) and the result
 * kept to 4 decimals (so 7/10 on a 1–4 scale is 3.1, not 3.0999999999999996). On the default
 * 1–4 scale: 0 points → 1, half the points → 2.5, all the points → 4.
 *
 * `pointsPossible` for one standard is the alignment's `points` (what this standard is worth on
 * the assignment); when the alignment gives none, the assignment's own maximum.
 *
 * An LMS result (one score for the whole assignment) is split per aligned standard by its
 * fraction: every aligned standard gets the same fraction of its own points, i.e. the same scale
 * score. The LMS does not say which part of the work showed which standard, so the fraction is
 * the only honest split; the stored points (fraction × the standard's points) keep the raw
 * number visible.
 */
export function pointsToScale(
  points: number,
  pointsPossible: number,
  scale: Pick<ProficiencyScale, 'min' | 'max'>,
): number {
  const fraction = Math.min(1, Math.max(0, points / pointsPossible));
  const score = scale.min + fraction * (scale.max - scale.min);
  return Math.round(score * 10_000) / 10_000;
}
