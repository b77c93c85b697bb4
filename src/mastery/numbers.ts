import type { Rounding } from './types.ts';

/**
 * Tolerance for comparing computed values with thresholds. 0.65 × 4 + 0.35 × 2 is
 * 3.3000000000000003 in binary floating point and a mean of 3s can come out as 2.9999999999999996;
 * neither should cross a level boundary because of representation noise.
 */
export const EPSILON = 1e-9;

/** Half away from zero to `decimals` places, robust to binary representation (1.005 → 1.01). */
export function roundValue(value: number, rounding: Rounding): number {
  switch (rounding.mode) {
    case 'none':
      return value;
    case 'halfUp': {
      const factor = 10 ** rounding.decimals;
      const scaled = Math.abs(value) * factor;
      // Nudge by a relative epsilon so 1.005 × 100 = 100.49999999999999 still rounds up.
      const rounded = Math.round(scaled * (1 + Number.EPSILON * 4)) / factor;
      return value < 0 ? -rounded : rounded;
    }
  }
}

export function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}

/** A score as a teacher wrote it: 3, 2.5, 3.25 (no trailing zeros). */
export function formatScore(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toFixed(4)));
}

/** A final value without float noise: 3.484625 stays, 3.3000000000000003 becomes 3.3. */
export function formatValue(value: number): string {
  return String(Number(value.toFixed(6)));
}

/** A computed value with fixed decimals, as in "Mean of levels (4, 3) = 3.50". */
export function formatComputed(value: number, decimals: number): string {
  return value.toFixed(decimals);
}

/** Places shown for a value in a teacher step before the one rounding step. */
const EXACT_PLACES = 6;

/**
 * A value in a teacher step BEFORE the policy's rounding: never cut to the policy's decimals (a
 * step "= 2.67" followed by "Rounded to 2 decimals: 2.68" contradicts itself). At least
 * `minDecimals` places, as in "= 2.00"; more when the value has them, up to six: 2.675, 3.484625.
 */
export function formatExact(value: number, minDecimals: number): string {
  const text = String(Number(value.toFixed(EXACT_PLACES)));
  if (/e/i.test(text)) return value.toFixed(EXACT_PLACES);
  const [whole, fraction = ''] = text.split('.');
  if (fraction.length >= minDecimals) return text;
  return `${whole}.${fraction.padEnd(minDecimals, '0')}`;
}

/** "= 2.675", or "≈ 1.666667" when six places do not hold the value exactly. */
export function equalsExact(value: number, minDecimals: number): string {
  const cut = Number(value.toFixed(EXACT_PLACES));
  return `${Math.abs(cut - value) > EPSILON ? '≈' : '='} ${formatExact(value, minDecimals)}`;
}

export function formatScores(values: readonly number[]): string {
  return values.map(formatScore).join(', ');
}

/** Decimals used in the teacher steps: at least 2, more when the policy keeps more. */
export function displayDecimals(rounding: Rounding): number {
  return rounding.mode === 'none' ? 2 : Math.max(2, rounding.decimals);
}

/** Weights as percentages when they are "nice" (0.65 → "0.65"), never a long float tail. */
export function formatFactor(value: number): string {
  return String(Number(value.toFixed(6)));
}
