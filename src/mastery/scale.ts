import { MasteryError } from './errors.ts';
import { EPSILON } from './numbers.ts';
import type { ProficiencyLevel, ProficiencyScale } from './types.ts';

/**
 * The 4-point scale most Connecticut districts publish on report cards: Meets and Exceeds count as
 * mastered. `min` is 1 because "Beginning" is the floor; a district that records 0 ("no evidence
 * shown") builds its own scale with `min: 0`.
 */
export const DEFAULT_PROFICIENCY_SCALE: ProficiencyScale = Object.freeze({
  min: 1,
  max: 4,
  levels: Object.freeze([
    Object.freeze({ id: 'exceeds', label: 'Exceeds', value: 4, colour: '#1a5e20', mastered: true }),
    Object.freeze({ id: 'meets', label: 'Meets', value: 3, colour: '#2e7d32', mastered: true }),
    Object.freeze({
      id: 'approaching',
      label: 'Approaching',
      value: 2,
      colour: '#b26a00',
      mastered: false,
    }),
    Object.freeze({
      id: 'beginning',
      label: 'Beginning',
      value: 1,
      colour: '#b71c1c',
      mastered: false,
    }),
  ]),
});

/**
 * Checks a scale built from configuration and returns it with levels sorted highest first.
 * Throws `INVALID_SCALE` when it could map a value to two levels or to none.
 */
export function createProficiencyScale(scale: ProficiencyScale): ProficiencyScale {
  const { levels, min, max } = scale;
  if (!Number.isFinite(min) || !Number.isFinite(max) || min >= max) {
    throw new MasteryError('INVALID_SCALE', `scale min (${min}) must be below max (${max})`);
  }
  if (levels.length === 0) throw new MasteryError('INVALID_SCALE', 'a scale needs levels');
  const ids = new Set<string>();
  const values = new Set<number>();
  for (const level of levels) {
    if (ids.has(level.id))
      throw new MasteryError('INVALID_SCALE', `duplicate level id ${level.id}`);
    if (values.has(level.value)) {
      throw new MasteryError('INVALID_SCALE', `two levels share the value ${level.value}`);
    }
    if (!Number.isFinite(level.value) || level.value < min || level.value > max) {
      throw new MasteryError('INVALID_SCALE', `level ${level.id} lies outside [${min}, ${max}]`);
    }
    ids.add(level.id);
    values.add(level.value);
  }
  const sorted = [...levels].sort((a, b) => b.value - a.value);
  return Object.freeze({ min, max, levels: Object.freeze(sorted) });
}

/**
 * Threshold semantics: the highest level whose value is <= `value`. A value below every
 * threshold (possible when `min` is under the lowest level) gets the lowest level, so every
 * number on the scale has a level.
 *
 * Rounding: pass the value the teacher sees (already rounded by the policy). Comparison uses a
 * 1e-9 tolerance so floating-point noise (2.9999999999999996) never drops a student a level;
 * no other rounding happens here, so 2.99 is Approaching and 3.00 is Meets.
 */
export function levelForValue(value: number, scale: ProficiencyScale): ProficiencyLevel {
  let best: ProficiencyLevel | undefined;
  let lowest: ProficiencyLevel | undefined;
  // Scan instead of relying on sort order: scales have a handful of levels.
  for (const level of scale.levels) {
    if (level.value <= value + EPSILON && (best === undefined || level.value > best.value)) {
      best = level;
    }
    if (lowest === undefined || level.value < lowest.value) lowest = level;
  }
  const found = best ?? lowest;
  if (found === undefined) throw new MasteryError('INVALID_SCALE', 'a scale needs levels');
  return found;
}

export function findLevel(levelId: string, scale: ProficiencyScale): ProficiencyLevel {
  const level = scale.levels.find((candidate) => candidate.id === levelId);
  if (level === undefined) {
    throw new MasteryError('UNKNOWN_LEVEL', `no level "${levelId}" on this scale`);
  }
  return level;
}

export function isOnScale(value: number, scale: ProficiencyScale): boolean {
  return Number.isFinite(value) && value >= scale.min - EPSILON && value <= scale.max + EPSILON;
}
